using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>What upload serving reads of its torrent (on the loop).</summary>
internal interface IUploadHost
{
    /// <summary>Null while a magnet's metadata is fetched: nothing can be served then.</summary>
    TorrentMetainfo? Metainfo { get; }

    /// <summary>What we have (the manager is replaced when the metadata arrives, so it is read each time).</summary>
    PieceManager Pieces { get; }

    IReadOnlyList<Peer> Peers { get; }

    /// <summary>Seeding ranks peers by what they take from us, downloading by what they give.</summary>
    bool Seeding { get; }

    EngineConfig Config { get; }
    DateTimeOffset Now { get; }

    /// <summary>Where piece reads post their results.</summary>
    SynchronizationContext Loop { get; }

    /// <summary>Cancelled when the torrent stops: reads in flight end.</summary>
    CancellationToken RunToken { get; }

    /// <summary>Reads a whole piece into a pooled buffer (taken on the loop, called off it).</summary>
    Func<int, CancellationToken, ValueTask<byte[]>> PieceReader { get; }

    /// <summary>The data cannot be read: the torrent stops with this reason.</summary>
    void Fail(string reason);
}

/// <summary>
/// Uploading for one torrent: which peers we serve (choking: a slot when one is free, and tit-for-tat every 10 s
/// through <see cref="ChokeScheduler"/>), the requests they queue with us, and the blocks sent from whole pieces read
/// ahead into a <see cref="PieceReadCache"/> while the peer's send buffer has room. Made when a torrent first talks to
/// a peer; the cache is given back whenever the torrent goes idle.
/// </summary>
internal sealed class UploadServer(IUploadHost host, RateMeter uploaded) : IUploadMessages
{
    /// <summary>
    /// Pieces read from disk at once for serving, across all peers of this torrent. Measured seeding 1 GiB to one
    /// libtorrent peer: 4 left the peer's 500 requests waiting on reads most of the time, 24 was no better than 12.
    /// The scan below looks at the next 256 requests, so with 1 MiB pieces (64 blocks) it reads about 4 pieces ahead
    /// of the one being sent; walking further (up to 12 distinct pieces of a 2,000-request queue) measured no faster
    /// (3.53 s vs 3.48 s for 1 GiB, interleaved) and held more memory, so the cheaper scan stays.
    /// </summary>
    private const int ServeReadsInFlight = 12;

    private PieceReadCache? _readCache;
    private DateTimeOffset _lastRechoke;

    /// <summary>Rechokes so far (tests: a torrent with peers is still rechoked every 10 seconds).</summary>
    public int Rechokes { get; private set; }

    /// <summary>Whole pieces read from disk to serve peers; made when a peer first asks.</summary>
    private PieceReadCache ReadCache => _readCache ??= new PieceReadCache(host.Config.ReadCacheBytes);

    /// <summary>A REQUEST: queued while the peer is unchoked and we have the piece (BEP 3 lets us ignore the rest).</summary>
    /// <exception cref="PeerProtocolException">The block is not inside a piece of the torrent.</exception>
    public void OnRequest(Peer peer, int piece, int begin, int length)
    {
        if (host.Metainfo is not { } meta) return;
        if ((uint)piece >= (uint)meta.PieceCount || begin < 0 || length <= 0
            || (long)begin + length > meta.GetPieceSize(piece))
            throw new PeerProtocolException($"bad REQUEST piece {piece} begin {begin} length {length}");
        // Blocks are at most 16 KiB (libtorrent refuses larger too): a larger one is dropped and counted, not served.
        if (length > PeerMessageReader.MaxBlockLength)
        {
            peer.ProtocolViolations++;
            return;
        }
        if (peer.AmChoking || !host.Pieces.HaveField[piece]) return; // the peer may not know yet
        if (!SuperSeeder.MayServe(peer, piece)) return; // super-seeding: only the pieces it was shown
        if (peer.Incoming.Count >= host.Config.MaxIncomingRequests)
        {
            IncomingRequestLimit.Overflowed(ref peer.RequestsPastQueue, host.Config.MaxIncomingRequests);
            return;
        }
        peer.Incoming.Enqueue(new BlockRequest(piece, begin, length));
    }

    /// <summary>A CANCEL: the request is dropped if it is still queued.</summary>
    public void OnCancel(Peer peer, int piece, int begin, int length)
    {
        int n = peer.Incoming.Count;
        for (int i = 0; i < n; i++)
        {
            var r = peer.Incoming.Dequeue();
            if (r.Piece != piece || r.Begin != begin || r.Length != length) peer.Incoming.Enqueue(r);
        }
    }

    /// <summary>The peer became interested: it gets a slot at once if one is free (the next rechoke may take it back).</summary>
    public void OnInterested(Peer peer)
    {
        if (!peer.AmChoking) return;
        int unchoked = 0;
        foreach (var p in host.Peers) if (!p.AmChoking) unchoked++;
        if (unchoked < Math.Max(1, host.Config.UploadSlots)) SetChoke(peer, false, host.Now);
    }

    /// <summary>Sends queued blocks while the peer's send buffer has room; reads pieces into the cache as needed.</summary>
    public void Serve(Peer peer)
    {
        if (host.Metainfo is null) return; // a magnet fetching its metadata has nothing to serve (requests are ignored)
        var now = host.Now;
        while (peer.Incoming.Count > 0 && !peer.AmChoking && !peer.Connection.IsClosed
               && peer.Connection.QueuedBytes < PeerConnection.SendHighWater)
        {
            var r = peer.Incoming.Peek();
            if (ReadCache.TryGet(r.Piece, out var data))
            {
                peer.Incoming.Dequeue();
                peer.Connection.EnqueuePiece(r.Piece, r.Begin, data.Span.Slice(r.Begin, r.Length));
                peer.Upload.Add(r.Length);
                uploaded.Add(r.Length);
                peer.LastSent = now;
                continue;
            }
            Load(peer, r.Piece);
            break;
        }
        ReadAhead(peer);
    }

    /// <summary>
    /// Starts reading the next pieces this peer has asked for, so the disk read of one piece overlaps the sending of
    /// the one before: without it, every new piece stalls the peer's pipe for a read (measured: ~10% of seeding speed).
    /// </summary>
    private void ReadAhead(Peer peer)
    {
        var cache = ReadCache;
        // Never read ahead more than half the cache holds, or big pieces would evict each other before being sent.
        long byCapacity = Math.Max(1, cache.Capacity / Math.Max(1, host.Metainfo!.PieceLength) / 2);
        int budget = (int)Math.Min(ServeReadsInFlight, byCapacity) - cache.LoadingCount;
        int last = -1, scanned = 0;
        foreach (var r in peer.Incoming)
        {
            if (budget <= 0 || ++scanned > 256) break;
            if (r.Piece == last) continue;
            last = r.Piece;
            if (cache.Contains(r.Piece) || cache.IsLoading(r.Piece)) continue;
            Load(peer, r.Piece);
            budget--;
        }
    }

    private void Load(Peer peer, int piece) =>
        ReadCache.Load(piece, host.PieceReader, host.Metainfo!.GetPieceSize(piece), host.Loop,
            loaded => { if (loaded) Serve(peer); },
            e => host.Fail($"reading piece {piece} failed: {e.Message}"), host.RunToken);

    /// <summary>Rechokes when the last rechoke is <see cref="ChokeScheduler.RechokeInterval"/> old (every tick with peers).</summary>
    public void RechokeIfDue(DateTimeOffset now)
    {
        if (now - _lastRechoke < ChokeScheduler.RechokeInterval) return;
        _lastRechoke = now;
        Rechoke(now);
    }

    /// <summary>A peer left: if it held a slot it was using, another peer gets it now.</summary>
    public void OnPeerLeft(Peer peer)
    {
        if (!peer.AmChoking && peer.PeerInterested) Rechoke(host.Now);
    }

    private void Rechoke(DateTimeOffset now)
    {
        Rechokes++;
        var unchoke = new List<Peer>();
        var choke = new List<Peer>();
        ChokeScheduler.Rechoke(host.Peers, host.Config.UploadSlots, host.Seeding, now, unchoke, choke);
        foreach (var p in choke) SetChoke(p, true, now);
        foreach (var p in unchoke) SetChoke(p, false, now);
    }

    private static void SetChoke(Peer peer, bool choke, DateTimeOffset now)
    {
        if (peer.AmChoking == choke) return;
        peer.AmChoking = choke;
        if (choke) peer.Incoming.Clear();
        else peer.LastUnchoked = now;
        Span<byte> b = stackalloc byte[MessageWriter.SimpleLength];
        MessageWriter.WriteSimple(b, choke ? MessageId.Choke : MessageId.Unchoke);
        peer.Connection.Enqueue(b);
    }

    /// <summary>Returns the cached pieces to the pool and forgets the cache (reads in flight land in the old one).</summary>
    public void DropCache()
    {
        _readCache?.Clear();
        _readCache = null;
    }
}
