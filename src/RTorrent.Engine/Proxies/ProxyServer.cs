using System.Net;

namespace RTorrent.Engine.Proxies;

/// <summary>The kinds of proxy RTorrent speaks.</summary>
public enum ProxyKind
{
    /// <summary>No proxy: everything goes directly.</summary>
    None,

    /// <summary>
    /// SOCKS4a: TCP only, with host names resolved by the proxy (plain SOCKS4 would make us look names up ourselves,
    /// a DNS leak, so only the 'a' form is spoken). The user name, if any, is sent as SOCKS4's user id.
    /// </summary>
    Socks4,

    /// <summary>SOCKS5 (RFC 1928), with user name and password (RFC 1929) when given; TCP and UDP (UDP ASSOCIATE).</summary>
    Socks5,

    /// <summary>An HTTP proxy: CONNECT tunnels for peers, the proxy's own forwarding for http:// requests; TCP only.</summary>
    Http,
}

/// <summary>Where the proxy is and how we log in to it.</summary>
/// <param name="Kind">The protocol (not <see cref="ProxyKind.None"/>).</param>
/// <param name="Host">Its address or host name.</param>
/// <param name="Port">Its port.</param>
/// <param name="Username">The user name, or null to log in without one.</param>
/// <param name="Password">The password (SOCKS5 and HTTP), or null.</param>
public sealed record ProxyServer(ProxyKind Kind, string Host, int Port, string? Username = null, string? Password = null)
{
    /// <summary>Whether datagrams (DHT, UDP trackers) can go through it: only SOCKS5's UDP ASSOCIATE carries them.</summary>
    public bool CarriesUdp => Kind == ProxyKind.Socks5;

    /// <summary>The proxy's end point for a connection: an address when <see cref="Host"/> is one, else a name.</summary>
    public EndPoint EndPoint => IPAddress.TryParse(Host, out var ip) ? new IPEndPoint(ip, Port) : new DnsEndPoint(Host, Port);

    /// <summary>For messages: kind, host and port, never the password.</summary>
    public override string ToString() => $"{Kind switch { ProxyKind.Socks4 => "SOCKS4a", ProxyKind.Socks5 => "SOCKS5", ProxyKind.Http => "HTTP", _ => "no" }} proxy {Host}:{Port}";
}

/// <summary>
/// Which traffic goes through the proxy. With <see cref="ProxyOnly"/> nothing leaves directly: every kind goes through
/// the proxy or does not happen at all (no listening for incoming peers, no local discovery, no port mapping, and no
/// datagrams unless the proxy is SOCKS5), and when the proxy is down nothing is sent: the kill switch.
/// </summary>
/// <param name="Server">The proxy, or null for none.</param>
/// <param name="Peers">Outgoing peer connections.</param>
/// <param name="Trackers">Tracker announces and scrapes (HTTP, and UDP through SOCKS5).</param>
/// <param name="WebSeeds">Web seeds, and the other HTTP the session makes (blocklists, feeds).</param>
/// <param name="Dht">DHT datagrams (SOCKS5 only).</param>
/// <param name="ProxyOnly">Never send anything directly.</param>
public sealed record ProxyPolicy(ProxyServer? Server, bool Peers = true, bool Trackers = true, bool WebSeeds = true, bool Dht = true, bool ProxyOnly = false)
{
    /// <summary>No proxy: everything direct.</summary>
    public static ProxyPolicy Direct { get; } = new(Server: null);

    private bool Uses(bool kind) => Server is not null && (kind || ProxyOnly);

    /// <summary>The proxy for outgoing peer connections, or null to connect directly.</summary>
    public ProxyServer? ForPeers => Uses(Peers) ? Server : null;

    /// <summary>The proxy for HTTP(S) tracker requests, or null.</summary>
    public ProxyServer? ForTrackers => Uses(Trackers) ? Server : null;

    /// <summary>The proxy for web seeds and the session's other HTTP requests, or null.</summary>
    public ProxyServer? ForWebSeeds => Uses(WebSeeds) ? Server : null;

    /// <summary>The proxy for DHT datagrams, or null (direct, or none at all: see <see cref="DhtAllowed"/>).</summary>
    public ProxyServer? ForDht => Uses(Dht) && Server!.CarriesUdp ? Server : null;

    /// <summary>The proxy for UDP tracker datagrams, or null.</summary>
    public ProxyServer? ForUdpTrackers => Uses(Trackers) && Server!.CarriesUdp ? Server : null;

    /// <summary>Whether the DHT may run: directly when it is not proxied, through SOCKS5 when it is.</summary>
    public bool DhtAllowed => !Uses(Dht) || Server!.CarriesUdp;

    /// <summary>Whether UDP trackers may be asked: directly when trackers are not proxied, through SOCKS5 when they are.</summary>
    public bool UdpTrackersAllowed => !Uses(Trackers) || Server!.CarriesUdp;

    /// <summary>
    /// Whether we listen for incoming peers, announce on the local network (LSD) and map ports: all three send from our
    /// own address, so never in proxy-only mode. (Peers that cannot reach us still come to us through trackers' lists.)
    /// </summary>
    public bool DirectListeningAllowed => !(ProxyOnly && Server is not null);
}

/// <summary>Proxy addresses written as URLs: <c>socks5://user:password@host:port</c>, <c>socks4://host:port</c>, <c>http://host:port</c>.</summary>
public static class ProxyUrl
{
    /// <summary>Reads a proxy URL; on failure <paramref name="error"/> says why in words for the user.</summary>
    public static bool TryParse(string text, out ProxyServer? proxy, out string? error)
    {
        proxy = null;
        error = null;
        if (!Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            error = $"'{text}' is not a proxy URL (socks5://[user:password@]host:port, socks4://host:port or http://host:port)";
            return false;
        }
        var kind = uri.Scheme.ToLowerInvariant() switch
        {
            "socks5" or "socks5h" => ProxyKind.Socks5,
            "socks4" or "socks4a" => ProxyKind.Socks4,
            "http" => ProxyKind.Http,
            _ => ProxyKind.None,
        };
        if (kind == ProxyKind.None)
        {
            error = $"proxy scheme '{uri.Scheme}' is not supported (socks5, socks4 or http)";
            return false;
        }
        int port = uri.IsDefaultPort ? (kind == ProxyKind.Http ? 8080 : 1080) : uri.Port;
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            int colon = uri.UserInfo.IndexOf(':');
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        proxy = new ProxyServer(kind, uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host, port,
            string.IsNullOrEmpty(user) ? null : user, password);
        return true;
    }
}
