using System.Net;
using System.Security.Cryptography;

namespace RTorrent.Engine.Dht;

/// <summary>
/// Peers announced to us (announce_peer), by info-hash, with bounded memory: at most
/// <see cref="MaxInfoHashes"/> info-hashes of at most <see cref="MaxPeersPerInfoHash"/> peers each, every
/// announcement expiring after <see cref="PeerLifetime"/> unless renewed. Not thread-safe (the engine locks).
/// </summary>
internal sealed class PeerStore
{
    private readonly TimeProvider _time;
    private readonly Dictionary<NodeId, Dictionary<IPEndPoint, DateTimeOffset>> _byHash = [];
    private int _peerCount;

    public PeerStore(TimeProvider time, int maxInfoHashes, int maxPeersPerInfoHash, TimeSpan peerLifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInfoHashes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPeersPerInfoHash, 1);
        _time = time;
        MaxInfoHashes = maxInfoHashes;
        MaxPeersPerInfoHash = maxPeersPerInfoHash;
        PeerLifetime = peerLifetime;
    }

    public int MaxInfoHashes { get; }
    public int MaxPeersPerInfoHash { get; }
    public TimeSpan PeerLifetime { get; }

    /// <summary>Info-hashes with at least one stored peer.</summary>
    public int InfoHashCount => _byHash.Count;

    /// <summary>Stored peers over all info-hashes.</summary>
    public int PeerCount => _peerCount;

    /// <summary>
    /// Stores or renews a peer. When the info-hash is full the announcement that expires first makes room; when the
    /// store is full the info-hash with the fewest peers makes room (a swarm of one is the cheapest to lose, and
    /// its peer will announce again elsewhere).
    /// </summary>
    public void Add(NodeId infoHash, IPEndPoint peer)
    {
        peer = AddressClass.Normalize(peer);
        var now = _time.GetUtcNow();
        if (!_byHash.TryGetValue(infoHash, out var peers))
        {
            if (_byHash.Count >= MaxInfoHashes)
            {
                RemoveExpired(now);
                if (_byHash.Count >= MaxInfoHashes) EvictSmallestSwarm();
            }
            peers = [];
            _byHash[infoHash] = peers;
        }
        if (!peers.ContainsKey(peer) && peers.Count >= MaxPeersPerInfoHash)
        {
            var oldest = peers.MinBy(p => p.Value).Key;
            peers.Remove(oldest);
            _peerCount--;
        }
        if (peers.TryAdd(peer, now + PeerLifetime)) _peerCount++;
        else peers[peer] = now + PeerLifetime;
    }

    /// <summary>Up to <paramref name="max"/> live peers of the info-hash, a random choice when there are more.</summary>
    public List<IPEndPoint> Get(NodeId infoHash, int max)
    {
        var result = new List<IPEndPoint>();
        if (!_byHash.TryGetValue(infoHash, out var peers)) return result;
        var now = _time.GetUtcNow();
        foreach (var (peer, expires) in peers)
        {
            if (expires > now) result.Add(peer);
        }
        if (result.Count > max)
        {
            // Partial Fisher-Yates: a random sample, so every stored peer gets handed out over time.
            for (int i = 0; i < max; i++)
            {
                int j = RandomNumberGenerator.GetInt32(i, result.Count);
                (result[i], result[j]) = (result[j], result[i]);
            }
            result.RemoveRange(max, result.Count - max);
        }
        return result;
    }

    /// <summary>Drops expired announcements and empty info-hashes.</summary>
    public void RemoveExpired() => RemoveExpired(_time.GetUtcNow());

    private void RemoveExpired(DateTimeOffset now)
    {
        List<NodeId>? emptied = null;
        foreach (var (hash, peers) in _byHash)
        {
            List<IPEndPoint>? expired = null;
            foreach (var (peer, expires) in peers)
            {
                if (expires <= now) (expired ??= []).Add(peer);
            }
            if (expired is null) continue;
            foreach (var peer in expired) peers.Remove(peer);
            _peerCount -= expired.Count;
            if (peers.Count == 0) (emptied ??= []).Add(hash);
        }
        if (emptied is null) return;
        foreach (var hash in emptied) _byHash.Remove(hash);
    }

    private void EvictSmallestSwarm()
    {
        var smallest = _byHash.MinBy(kv => kv.Value.Count);
        _peerCount -= smallest.Value.Count;
        _byHash.Remove(smallest.Key);
    }
}
