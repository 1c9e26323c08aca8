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

    /// <summary>Reads the torrent's data at an offset into a buffer (taken on the loop, called off it).</summary>
    Func<long, Memory<byte>, CancellationToken, ValueTask> DataReader { get; }

    /// <summary>The engine's read cache, shared by every torrent.</summary>
    PieceReadCache ReadCache { get; }

    /// <summary>The data cannot be read: the torrent stops with this reason.</summary>
    void Fail(string reason);
}

/// <summary>
/// Uploading for one torrent: which peers we serve (choking: a slot when one is free, and tit-for-tat every 10 s
/// through <see cref="ChokeScheduler"/>), the requests they queue with us, and the blocks sent from slices of pieces
/// read ahead into the engine's <see cref="PieceReadCache"/> while the peer's send buffer has room. Made when a torrent
/// first talks to a peer; its slices are given back whenever the torrent goes idle.
/// </summary>
internal sealed class UploadServer(IUploadHost host, RateMeter uploaded) : IUploadMessages
{
    /// <summary>
    /// Slices read from disk at once for serving (all torrents), and only into room in the cache. Measured seeding
    /// 1 GiB to one libtorrent peer: 4 left the peer's 500 requests waiting on reads most of the time, 24 was no better
    /// than 12. The scan below looks at the next 256 requests, so with 1 MiB slices (64 blocks) it reads about 4 slices
    /// ahead of the one being sent; walking further (up to 12 distinct pieces of a 2,000-request queue) measured no
    /// faster (3.53 s vs 3.48 s for 1 GiB, interleaved) and held more memory, so the cheaper scan stays.
    /// </summary>
    private const int ServeReadsInFlight = 12;

    /// <summary>This torrent's slices in the engine's cache; a new id after they are dropped.</summary>
    private int _owner = PieceReadCache.NewOwner();
    private DateTimeOffset _lastRechoke;

    /// <summary>Rechokes so far (tests: a torrent with peers is still rechoked every 10 seconds).</summary>
    public int Rechokes { get; private set; }


    /// <summary>
    /// A REQUEST: queued while the peer is unchoked (or, with BEP 6, for a piece of its allowed-fast set it lacks) and
    /// we have the piece. BEP 3 lets us ignore the rest; a peer that speaks BEP 6 gets a REJECT for each instead, so
    /// every request it makes is answered. The limits hold either way: a block over 16 KiB is a counted violation,
    /// requests past the queue we advertise or while choked end the peer when they are too many.
    /// </summary>
    /// <exception cref="PeerProtocolException">The block is not inside a piece of the torrent, or a limit was passed.</exception>
    public void OnRequest(Peer peer, int piece, int begin, int length)
    {
        if (host.Metainfo is not { } meta)
        {
            Reject(peer, piece, begin, length); // nothing can be served before the metadata
            return;
        }
        if ((uint)piece >= (uint)meta.PieceCount || begin < 0 || length <= 0
            || (long)begin + length > meta.GetPieceSize(piece))
            throw new PeerProtocolException($"bad REQUEST piece {piece} begin {begin} length {length}");
        // Blocks are at most 16 KiB (libtorrent refuses larger too): a larger one is refused and counted, not served.
        if (length > PeerMessageReader.MaxBlockLength)
        {
            Reject(peer, piece, begin, length);
            FastExtension.Violation(peer, $"REQUEST for {length} bytes");
            return;
        }
        if (peer.AmChoking && !AllowedWhileChoked(peer, piece))
        {
            Reject(peer, piece, begin, length);
            // A fast peer's requests cost us a reject each: a peer that keeps asking while choked is dropped. Requests
            // that crossed our choke are at most its queue; the count starts again when it is unchoked.
            if (peer.SupportsFast)
                IncomingRequestLimit.Overflowed(ref peer.RequestsWhileChoked, host.Config.MaxIncomingRequests, "while choked");
            return;
        }
        if (!host.Pieces.HaveField[piece])
        {
            Reject(peer, piece, begin, length); // the peer may not know yet
            return;
        }
        if (!SuperSeeder.MayServe(peer, piece))
        {
            Reject(peer, piece, begin, length); // super-seeding: only the pieces it was shown
            return;
        }
        if (peer.Incoming.Count >= host.Config.MaxIncomingRequests)
        {
            Reject(peer, piece, begin, length);
            IncomingRequestLimit.Overflowed(ref peer.RequestsPastQueue, host.Config.MaxIncomingRequests);
            return;
        }
        peer.Incoming.Enqueue(new BlockRequest(piece, begin, length));
    }

    /// <summary>
    /// BEP 6: a piece of the peer's allowed-fast set may be asked for while choked, unless the peer already has it
    /// (it would only take the same pieces again and again without ever being unchoked).
    /// </summary>
    private static bool AllowedWhileChoked(Peer peer, int piece) =>
        peer.SupportsFast && Array.IndexOf(peer.AllowedFastOut, piece) >= 0 && !peer.PeerPieces[piece];

    /// <summary>REJECT REQUEST to a peer that speaks BEP 6; nothing to one that does not (BEP 3 drops silently).</summary>
    private static void Reject(Peer peer, int piece, int begin, int length)
    {
        if (!peer.SupportsFast) return;
        Span<byte> b = stackalloc byte[MessageWriter.RequestLength];
        MessageWriter.WriteRequest(b, MessageId.RejectRequest, piece, begin, length);
        peer.Connection.Enqueue(b);
    }

    /// <summary>A CANCEL: the request is dropped if it is still queued, and a fast peer hears it was (BEP 6: every request gets an answer).</summary>
    public void OnCancel(Peer peer, int piece, int begin, int length)
    {
        int n = peer.Incoming.Count;
        bool found = false;
        for (int i = 0; i < n; i++)
        {
            var r = peer.Incoming.Dequeue();
            if (!found && r.Piece == piece && r.Begin == begin && r.Length == length) found = true;
            else peer.Incoming.Enqueue(r);
        }
        if (found) Reject(peer, piece, begin, length);
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
        var cache = host.ReadCache;
        // A fast peer we choke keeps only requests for its allowed-fast pieces queued (SetChoke rejects the rest).
        while (peer.Incoming.Count > 0 && (!peer.AmChoking || peer.SupportsFast) && !peer.Connection.IsClosed
               && peer.Connection.QueuedBytes < PeerConnection.SendHighWater)
        {
            var r = peer.Incoming.Peek();
            int first = PieceReadCache.SliceOf(r.Begin), last = PieceReadCache.SliceOf(r.Begin + r.Length - 1);
            var a = Key(r.Piece, first);
            if (!cache.TryGet(a, out var head))
            {
                Load(peer, r.Piece, first);
                break;
            }
            int at = r.Begin - first * PieceReadCache.SliceBytes;
            if (first == last) peer.Connection.EnqueuePiece(r.Piece, r.Begin, head.Span.Slice(at, r.Length));
            else
            {
                // Only a block not aligned to 16 KiB crosses slices (legal, if odd): sent from both.
                var b = Key(r.Piece, last);
                if (!cache.TryGet(b, out var tail))
                {
                    Load(peer, r.Piece, last);
                    break;
                }
                int inHead = head.Length - at;
                peer.Connection.EnqueuePiece(r.Piece, r.Begin, head.Span[at..], tail.Span[..(r.Length - inHead)]);
            }
            peer.Incoming.Dequeue();
            if (r.Begin + r.Length == first * PieceReadCache.SliceBytes + head.Length) cache.SentToEnd(a);
            peer.Upload.Add(r.Length);
            uploaded.Add(r.Length);
            peer.LastSent = now;
        }
        ReadAhead(peer);
    }

    /// <summary>
    /// Starts reading the next pieces this peer has asked for, so the disk read of one piece overlaps the sending of
    /// the one before: without it, every new piece stalls the peer's pipe for a read (measured: ~10% of seeding speed).
    /// </summary>
    private void ReadAhead(Peer peer)
    {
        var cache = host.ReadCache;
        int budget = ServeReadsInFlight - cache.LoadingCount;
        int lastPiece = -1, lastSlice = -1, scanned = 0;
        foreach (var r in peer.Incoming)
        {
            if (budget <= 0 || ++scanned > 256) break;
            int s = PieceReadCache.SliceOf(r.Begin);
            if (r.Piece == lastPiece && s == lastSlice) continue;
            lastPiece = r.Piece;
            lastSlice = s;
            var key = Key(r.Piece, s);
            if (cache.Contains(key) || cache.IsLoading(key)) continue;
            // Only into room: evicting a slice not sent yet to read one wanted later would read it twice.
            if (!Load(peer, r.Piece, s, ahead: true)) break;
            budget--;
        }
    }

    private PieceReadCache.Key Key(int piece, int slice) => new(_owner, piece, slice);

    private bool Load(Peer peer, int piece, int slice, bool ahead = false)
    {
        var meta = host.Metainfo!;
        int length = PieceReadCache.SliceLength(meta.GetPieceSize(piece), slice);
        long offset = (long)piece * meta.PieceLength + (long)slice * PieceReadCache.SliceBytes;
        var read = host.DataReader;
        Func<Memory<byte>, CancellationToken, ValueTask> reader = (buffer, ct) => read(offset, buffer, ct);
        Action<bool> whenLoaded = loaded => { if (loaded) Serve(peer); };
        Action<Exception> onError = e => host.Fail($"reading piece {piece} failed: {e.Message}");
        if (ahead) return host.ReadCache.TryLoadAhead(Key(piece, slice), length, reader, host.Loop, whenLoaded, onError, host.RunToken);
        host.ReadCache.Load(Key(piece, slice), length, reader, host.Loop, whenLoaded, onError, host.RunToken);
        return true;
    }

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

    internal static void SetChoke(Peer peer, bool choke, DateTimeOffset now)
    {
        if (peer.AmChoking == choke) return;
        peer.AmChoking = choke;
        if (!choke)
        {
            peer.LastUnchoked = now;
            peer.RequestsWhileChoked = 0;
        }
        else if (!peer.SupportsFast) peer.Incoming.Clear(); // BEP 3: a choke drops every request
        else
        {
            // BEP 6: a choke rejects nothing by itself; each request we will not serve now is rejected, and those for
            // the peer's allowed-fast pieces stay to be served.
            int n = peer.Incoming.Count;
            for (int i = 0; i < n; i++)
            {
                var r = peer.Incoming.Dequeue();
                if (AllowedWhileChoked(peer, r.Piece)) peer.Incoming.Enqueue(r);
                else Reject(peer, r.Piece, r.Begin, r.Length);
            }
        }
        Span<byte> b = stackalloc byte[MessageWriter.SimpleLength];
        MessageWriter.WriteSimple(b, choke ? MessageId.Choke : MessageId.Unchoke);
        peer.Connection.Enqueue(b);
    }

    /// <summary>Gives this torrent's slices back to the engine's cache (reads in flight are dropped as they land).</summary>
    public void DropCache()
    {
        host.ReadCache.Drop(_owner);
        _owner = PieceReadCache.NewOwner();
    }
}
