using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// Our IPv6 address for HTTP trackers' <c>ipv6=</c> (BEP 7), so a tracker we reach over IPv4 can hand IPv6 peers our
/// IPv6 address too. Taken from the interfaces that are up: a global address (2000::/3) first, else a unique-local one
/// (fc00::/7, which a tracker on the same site can use); never loopback, link-local or the deprecated site-local.
/// Looked up at most once a minute (interfaces change rarely; an announce must not list them every time).
/// </summary>
public static class LocalIPv6Address
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);
    private static readonly object Gate = new();
    private static IPAddress? _cached;
    private static long _cachedAt = long.MinValue;

    /// <summary>The address to announce, or null when no interface has a usable IPv6 address.</summary>
    public static IPAddress? Get()
    {
        long now = Environment.TickCount64;
        lock (Gate)
        {
            if (_cachedAt != long.MinValue && now - _cachedAt < (long)CacheFor.TotalMilliseconds) return _cached;
        }
        var found = Find();
        lock (Gate)
        {
            _cached = found;
            _cachedAt = now;
        }
        return found;
    }

    /// <summary>Chooses from the given addresses (tests): global first, then unique-local; null when none fits.</summary>
    public static IPAddress? Choose(IEnumerable<IPAddress> addresses)
    {
        IPAddress? uniqueLocal = null;
        foreach (var a in addresses)
        {
            if (!IsAnnounceable(a)) continue;
            if (!a.IsIPv6UniqueLocal) return a;
            uniqueLocal ??= a;
        }
        return uniqueLocal;
    }

    /// <summary>An IPv6 address worth giving a tracker: not loopback, link-local, site-local, multicast, mapped or unspecified.</summary>
    public static bool IsAnnounceable(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 && !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal && !a.IsIPv6SiteLocal
        && !a.IsIPv6Multicast && !a.IsIPv4MappedToIPv6 && !a.Equals(IPAddress.IPv6Any);

    private static IPAddress? Find()
    {
        try
        {
            return Choose(NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(u => u.Address));
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }
}
