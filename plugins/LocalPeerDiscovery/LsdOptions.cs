using System.Net;
using RTorrent.Abstractions;

namespace RTorrent.Plugins.LocalPeerDiscovery;

/// <summary>
/// Settings of Local Service Discovery. The defaults are BEP 14's; each can be set through the host's settings or
/// an environment variable (<c>lsd.port</c> is <c>RTORRENT_LSD_PORT</c>), which is how tests use a port of their own.
/// </summary>
public sealed record LsdOptions
{
    /// <summary>Setting key for <see cref="Port"/>.</summary>
    public const string PortKey = "lsd.port";
    /// <summary>Setting key for <see cref="GroupV4"/>.</summary>
    public const string GroupV4Key = "lsd.group-v4";
    /// <summary>Setting key for <see cref="GroupV6"/>.</summary>
    public const string GroupV6Key = "lsd.group-v6";
    /// <summary>Setting key for <see cref="EnableIPv4"/> (<c>true</c>/<c>false</c>).</summary>
    public const string IPv4Key = "lsd.ipv4";
    /// <summary>Setting key for <see cref="EnableIPv6"/> (<c>true</c>/<c>false</c>).</summary>
    public const string IPv6Key = "lsd.ipv6";
    /// <summary>Setting key for <see cref="Interfaces"/> (comma-separated names or addresses).</summary>
    public const string InterfacesKey = "lsd.interfaces";
    /// <summary>Setting key for <see cref="MulticastLoopback"/> (<c>true</c>/<c>false</c>).</summary>
    public const string LoopbackKey = "lsd.multicast-loopback";

    /// <summary>The UDP port of the multicast groups (BEP 14: 6771).</summary>
    public int Port { get; init; } = 6771;

    /// <summary>The IPv4 group (BEP 14: 239.192.152.143, organization-local scope).</summary>
    public IPAddress GroupV4 { get; init; } = IPAddress.Parse("239.192.152.143");

    /// <summary>The IPv6 group (BEP 14: ff15::efc0:988f, site-local scope).</summary>
    public IPAddress GroupV6 { get; init; } = IPAddress.Parse("ff15::efc0:988f");

    /// <summary>Announce and listen on IPv4.</summary>
    public bool EnableIPv4 { get; init; } = true;

    /// <summary>Announce and listen on IPv6 (where an interface has IPv6).</summary>
    public bool EnableIPv6 { get; init; } = true;

    /// <summary>
    /// Interfaces to use, by name (<c>eth0</c>) or by one of their addresses (<c>192.168.1.10</c>, <c>127.0.0.1</c>).
    /// Null means every interface that is up, multicast-capable and not loopback. Naming the loopback interface
    /// (<c>lo</c> or <c>127.0.0.1</c>) lets two clients on one machine find each other without touching the LAN.
    /// </summary>
    public IReadOnlyList<string>? Interfaces { get; init; }

    /// <summary>
    /// Whether our announces are also delivered to sockets on this machine (IP_MULTICAST_LOOP), so that other
    /// clients here see them. Our own announces come back too and are recognized by their cookie.
    /// </summary>
    public bool MulticastLoopback { get; init; } = true;

    /// <summary>
    /// Multicast TTL / hop limit. 1 keeps announces on the local link, which is what users mean by "local"; BEP 14
    /// notes implementations may raise it for the groups' wider scopes.
    /// </summary>
    public int TimeToLive { get; init; } = 1;

    /// <summary>How often each torrent is announced (BEP 14: every 5 minutes).</summary>
    public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The shortest time between two announces of one torrent (BEP 14: at most once a minute).</summary>
    public TimeSpan MinAnnounceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The Host header for IPv4 announces.</summary>
    public string HostV4 => $"{GroupV4}:{Port}";

    /// <summary>The Host header for IPv6 announces.</summary>
    public string HostV6 => $"[{GroupV6}]:{Port}";

    /// <summary>Reads the options from the host's settings; malformed values are logged and the default kept.</summary>
    public static LsdOptions FromHost(IPluginHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var o = new LsdOptions();
        string? Get(string key) => host.GetSetting(key) is { Length: > 0 } v ? v.Trim() : null;
        void Bad(string key, string value, object kept) => host.Log(PluginLogLevel.Warning, $"{key}: '{value}' is not valid; using {kept}");

        if (Get(PortKey) is { } port)
        {
            if (int.TryParse(port, out var p) && p is >= 1 and <= 65535) o = o with { Port = p };
            else Bad(PortKey, port, o.Port);
        }
        if (Get(GroupV4Key) is { } g4)
        {
            if (IPAddress.TryParse(g4, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && (a.GetAddressBytes()[0] & 0xF0) == 0xE0) o = o with { GroupV4 = a };
            else Bad(GroupV4Key, g4, o.GroupV4);
        }
        if (Get(GroupV6Key) is { } g6)
        {
            if (IPAddress.TryParse(g6, out var a) && a.IsIPv6Multicast) o = o with { GroupV6 = a };
            else Bad(GroupV6Key, g6, o.GroupV6);
        }
        if (Get(IPv4Key) is { } v4)
        {
            if (bool.TryParse(v4, out var b)) o = o with { EnableIPv4 = b };
            else Bad(IPv4Key, v4, o.EnableIPv4);
        }
        if (Get(IPv6Key) is { } v6)
        {
            if (bool.TryParse(v6, out var b)) o = o with { EnableIPv6 = b };
            else Bad(IPv6Key, v6, o.EnableIPv6);
        }
        if (Get(LoopbackKey) is { } loop)
        {
            if (bool.TryParse(loop, out var b)) o = o with { MulticastLoopback = b };
            else Bad(LoopbackKey, loop, o.MulticastLoopback);
        }
        if (Get(InterfacesKey) is { } interfaces)
            o = o with { Interfaces = interfaces.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
        return o;
    }
}
