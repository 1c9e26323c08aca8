using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Client;

/// <summary>A peer we know of but may not be connected to.</summary>
internal sealed class KnownPeer(IPEndPoint endPoint, string source)
{
    public IPEndPoint EndPoint { get; } = endPoint;
    public string Source { get; set; } = source;
    public int Failures;
    public DateTimeOffset NextAttempt;
    public bool Connected;
    public bool Connecting;
    public bool Banned;
    public bool IsSelf;
    public bool IsSeed;
}

/// <summary>
/// The peers a torrent knows of, keyed by address AND port: on loopback and behind NAT many peers share an address.
/// Failed peers come back after a growing delay; banned peers and ourselves never.
/// </summary>
internal sealed class PeerPool
{
    /// <summary>Known peers kept at most; new ones beyond it are dropped (bounded memory against floods).</summary>
    public const int Capacity = 4000;

    private readonly Dictionary<IPEndPoint, KnownPeer> _peers = [];
    private readonly Func<IPEndPoint, bool> _isSelf;
    private readonly Func<IPAddress, bool>? _refuse;

    /// <param name="isSelf">Whether an endpoint is this client.</param>
    /// <param name="refuse">
    /// The blocklist (<see cref="Blocklists.Blocklist.Refuse"/>): a blocked address never enters the pool, and one
    /// blocked after it entered (the list was reloaded) leaves it instead of being dialled. Every source's peers pass
    /// through <see cref="Add"/>, so this one check covers trackers, DHT, PEX, LSD, plugins and magnet links.
    /// </param>
    public PeerPool(Func<IPEndPoint, bool> isSelf, Func<IPAddress, bool>? refuse = null)
    {
        _isSelf = isSelf;
        _refuse = refuse;
    }

    public int Count => _peers.Count;

    public IEnumerable<KnownPeer> All => _peers.Values;

    /// <summary>Adds a peer if new; returns it (or null when refused).</summary>
    public KnownPeer? Add(IPEndPoint endPoint, string source)
    {
        if (endPoint.Port is <= 0 or > 65535) return null;
        if (endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any)) return null;
        endPoint = Normalize(endPoint);
        if (_refuse?.Invoke(endPoint.Address) == true) return null;
        if (_peers.TryGetValue(endPoint, out var known)) return known;
        if (_peers.Count >= Capacity) return null;
        known = new KnownPeer(endPoint, source) { IsSelf = _isSelf(endPoint) };
        _peers.Add(endPoint, known);
        return known;
    }

    public KnownPeer? Get(IPEndPoint endPoint) => _peers.GetValueOrDefault(Normalize(endPoint));

    /// <summary>
    /// Peers worth a connection attempt now, best first (fewest failures), at most <paramref name="max"/>;
    /// <paramref name="nextAttempt"/> is when the first of the others that are backing off may be tried (null when
    /// none is).
    /// </summary>
    public List<KnownPeer> Candidates(DateTimeOffset now, int max, bool skipSeeds, out DateTimeOffset? nextAttempt)
    {
        var list = new List<KnownPeer>();
        List<IPEndPoint>? blocked = null;
        nextAttempt = null;
        foreach (var p in _peers.Values)
        {
            if (p.Connected || p.Connecting || p.Banned || p.IsSelf || (skipSeeds && p.IsSeed)) continue;
            if (_refuse?.Invoke(p.EndPoint.Address) == true)
            {
                (blocked ??= []).Add(p.EndPoint);
                continue;
            }
            if (p.NextAttempt > now)
            {
                if (nextAttempt is null || p.NextAttempt < nextAttempt) nextAttempt = p.NextAttempt;
                continue;
            }
            list.Add(p);
        }
        if (blocked is not null) foreach (var ep in blocked) _peers.Remove(ep);
        if (list.Count > max)
        {
            Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
            list.Sort((a, b) => a.Failures.CompareTo(b.Failures));
            list.RemoveRange(max, list.Count - max);
        }
        return list;
    }

    /// <summary>Whether the endpoint is banned.</summary>
    public bool IsBanned(IPEndPoint endPoint) => Get(endPoint) is { Banned: true };

    /// <summary>
    /// Bans a peer that cheated: the endpoint it is connected from and the one it listens on (an incoming peer's
    /// reconnects come from there), and on the internet every endpoint of its address. On loopback and private networks
    /// many honest peers share one address, so only its own endpoints are banned there.
    /// </summary>
    public void Ban(IPEndPoint connectedFrom, IPEndPoint listensOn, string source)
    {
        foreach (var ep in new[] { connectedFrom, listensOn })
        {
            var known = Add(ep, source) ?? Get(ep);
            if (known is not null) known.Banned = true;
        }
        if (IsLocalAddress(connectedFrom.Address)) return;
        foreach (var k in _peers.Values) if (k.EndPoint.Address.Equals(connectedFrom.Address)) k.Banned = true;
    }

    /// <summary>Loopback, private (RFC 1918), link-local and IPv6 site- or unique-local addresses.</summary>
    private static bool IsLocalAddress(IPAddress a)
    {
        if (IPAddress.IsLoopback(a)) return true;
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
        }
        return a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6UniqueLocal;
    }

    /// <summary>A connection attempt failed or a connection ended badly: back off.</summary>
    public static void Failed(KnownPeer peer, DateTimeOffset now)
    {
        peer.Failures++;
        var delay = TimeSpan.FromSeconds(Math.Min(5 * Math.Pow(2, peer.Failures - 1), 1800));
        peer.NextAttempt = now + delay;
    }

    private static IPEndPoint Normalize(IPEndPoint ep) =>
        ep.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ep.Address.MapToIPv4(), ep.Port) : ep;
}
