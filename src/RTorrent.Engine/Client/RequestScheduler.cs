using System.Buffers;
using System.Runtime.InteropServices;
using RTorrent.Abstractions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>What request scheduling reads and does on its torrent (on the loop).</summary>
internal interface IRequestHost
{
    /// <summary>The swarm's piece state (replaced when the metadata arrives, so read each time).</summary>
    PieceManager Pieces { get; }

    /// <summary>Only a downloading torrent requests.</summary>
    bool Downloading { get; }

    /// <summary>Download in order (the picker is asked from the stream position).</summary>
    bool Sequential { get; }

    EngineConfig Config { get; }

    /// <summary>Bytes of verified pieces not yet written: above the limit nothing more is requested.</summary>
    long PendingDiskBytes { get; }

    /// <summary>The torrent's picker; a plugin picker that throws is replaced by rarest-first here.</summary>
    IPiecePicker Picker { get; set; }

    /// <summary>The picker's name, for the log.</summary>
    string PickerName { get; }

    void Log(PluginLogLevel level, string message);

    /// <summary>A block we did not need arrived: its bytes count as waste.</summary>
    void Wasted(int bytes);

    /// <summary>A piece's last block arrived: hash it and write it.</summary>
    void PieceComplete(PartialPiece piece);
}

/// <summary>
/// Requesting blocks for one torrent: how deep each peer's queue is kept (a few seconds of its rate, capped by its
/// reqq), what to ask for (the torrent's picker, through <see cref="PieceManager"/>), what a block's arrival changes
/// (cancels to the other peers that had it requested in endgame; the piece handed on when complete), and what a choke,
/// a snub or a departure gives back. Made when a torrent first talks to a peer; its scratch lists are given back when
/// the torrent goes idle.
/// </summary>
internal sealed class RequestScheduler(IRequestHost host, RateMeter downloaded) : IDownloadMessages
{
    private List<BlockRequest>? _requestScratch;
    private List<IBlockRequester>? _cancelScratch;

    /// <summary>
    /// Asks a peer for more blocks if its pipeline has room: while it chokes us only from its allowed-fast pieces
    /// (BEP 6), otherwise from the pieces it suggested first, then as the picker ranks them.
    /// </summary>
    public void RequestMore(Peer peer)
    {
        bool choked = peer.PeerChoking;
        if (choked && peer.AllowedFastIn.Count == 0) return;
        if (!peer.AmInterested || !host.Downloading || peer.Connection.IsClosed) return;
        var config = host.Config;
        if (host.PendingDiskBytes > config.MaxPendingDiskBytes) return;
        int depth = PipelineDepth(peer, config);
        int room = depth - peer.Outstanding.Count;
        // Top up in batches: fewer, larger writes, and fewer picker calls.
        if (room <= 0 || (peer.Outstanding.Count > 0 && room < Math.Min(8, depth / 4))) return;
        var pieces = host.Pieces;
        var list = _requestScratch ??= new List<BlockRequest>(256);
        list.Clear();
        pieces.StreamPosition = host.Sequential ? pieces.StreamPosition ?? 0 : null;
        if (choked)
        {
            // The picker's contract: while choked only the allowed-fast pieces are asked for, whatever the ranking.
            pieces.PickBlocksFrom(peer, CollectionsMarshal.AsSpan(peer.AllowedFastIn), room, list);
        }
        else
        {
            if (peer.Suggested.Count > 0) TakeSuggested(peer, pieces, room, list);
            var picker = host.Picker;
            int left = room - list.Count;
            try
            {
                pieces.PickBlocks(peer, peer, picker, left, list);
            }
            catch (Exception e) when (picker is not RarestFirstPicker)
            {
                host.Log(PluginLogLevel.Error, $"picker '{host.PickerName}' failed ({e.Message}); using rarest-first");
                host.Picker = picker = new RarestFirstPicker();
                pieces.PickBlocks(peer, peer, picker, room - list.Count, list);
            }
        }
        if (list.Count == 0)
        {
            if (!peer.PeerPieces.Intersects(pieces.NeededField)) AvailabilityTracker.SetInterested(peer, false);
            return;
        }
        int n = list.Count;
        peer.Connection.EnqueueWith(n * MessageWriter.RequestLength, m =>
        {
            var span = m.Span;
            for (int i = 0; i < n; i++)
            {
                var r = list[i];
                MessageWriter.WriteRequest(span[(i * MessageWriter.RequestLength)..], MessageId.Request, r.Piece, r.Begin, r.Length);
            }
        });
        foreach (var r in list) peer.Outstanding.Add(r);
    }

    /// <summary>How many requests a peer gets: 1 while snubbed, else a few seconds of its rate between 16 and its cap.</summary>
    private static int PipelineDepth(Peer peer, EngineConfig config)
    {
        if (peer.Snubbed) return 1;
        int cap = Math.Min(peer.PeerReqq, config.MaxRequestsPerPeer);
        long rate = peer.Download.Rate;
        if (rate == 0) return Math.Min(cap, 64);
        int byRate = (int)Math.Min(int.MaxValue, rate * config.RequestQueueSeconds / PieceManager.BlockSize);
        return Math.Clamp(byRate, 16, cap);
    }

    /// <summary>A block arrived (its pooled buffer is ours: kept with the piece, or returned).</summary>
    public void OnBlock(Peer peer, int piece, int begin, int length, byte[] data, DateTimeOffset now)
    {
        bool requested = peer.Outstanding.Remove(piece, begin);
        var cancelScratch = _cancelScratch ??= new List<IBlockRequester>(4);
        cancelScratch.Clear();
        var outcome = host.Pieces.BlockReceived(peer, piece, begin, length, data, cancelScratch, out var completed);
        switch (outcome)
        {
            case BlockOutcome.Stored:
            case BlockOutcome.PieceComplete:
                peer.Download.Add(length);
                downloaded.Add(length);
                peer.LastBlockAt = now;
                peer.Snubbed = false;
                break;
            default:
                BlockBuffers.Return(data);
                host.Wasted(length);
                if (requested) peer.LastBlockAt = now;
                break;
        }
        // In endgame others were asked for the same block: they need not send it now.
        CancelOthers(cancelScratch, piece, begin, length);
        if (completed is not null) host.PieceComplete(completed);
    }

    /// <summary>
    /// In endgame others were asked for the same block: they need not send it now. A web seed is not told (its
    /// request is a range already on its way; what it sends of the block is dropped as a duplicate).
    /// </summary>
    private static void CancelOthers(List<IBlockRequester> others, int piece, int begin, int length)
    {
        foreach (var other in others)
            if (other is Peer op && op.Outstanding.Remove(piece, begin)) SendCancel(op, piece, begin, length);
    }

    /// <summary>
    /// A block of a piece a web seed sent whole (its pooled buffer is ours): counted, stored and handed on like a
    /// peer's, so the piece is verified and written the same way.
    /// </summary>
    public void OnWebSeedBlock(IBlockRequester seed, int piece, int begin, int length, byte[] data)
    {
        var cancelScratch = _cancelScratch ??= new List<IBlockRequester>(4);
        cancelScratch.Clear();
        var outcome = host.Pieces.BlockReceived(seed, piece, begin, length, data, cancelScratch, out var completed);
        if (outcome is BlockOutcome.Stored or BlockOutcome.PieceComplete) downloaded.Add(length);
        else
        {
            BlockBuffers.Return(data);
            host.Wasted(length);
        }
        CancelOthers(cancelScratch, piece, begin, length);
        if (completed is not null) host.PieceComplete(completed);
    }

    /// <summary>
    /// Blocks of the pieces the peer suggested (BEP 6), oldest hint first, before the picker's ranking. It is a hint,
    /// so it never overrides what the user asked for: only with the built-in rarest-first picker (a plugin's order is
    /// its own), not while streaming in order, and only pieces of the highest priority still needed. Hints for pieces
    /// we no longer need are forgotten here.
    /// </summary>
    private void TakeSuggested(Peer peer, PieceManager pieces, int room, List<BlockRequest> list)
    {
        var suggested = peer.Suggested;
        var needed = pieces.NeededField;
        int kept = 0;
        for (int i = 0; i < suggested.Count; i++)
            if (needed[suggested[i]]) suggested[kept++] = suggested[i];
        suggested.RemoveRange(kept, suggested.Count - kept);
        if (kept == 0 || host.Sequential || host.Picker is not RarestFirstPicker) return;
        var byAvailability = pieces.PiecesByAvailability; // highest priority first
        var top = byAvailability.Length > 0 ? pieces.GetPriority(byAvailability[0]) : Priority.Normal;
        Span<int> take = stackalloc int[FastExtension.MaxSuggestions];
        int n = 0;
        foreach (int p in suggested)
            if (pieces.GetPriority(p) >= top) take[n++] = p;
        pieces.PickBlocksFrom(peer, take[..n], room, list);
    }

    /// <summary>
    /// The peer choked us. Without the fast extension that discards every pending request; with it the requests stay
    /// until the peer rejects or serves them (BEP 6), or <see cref="CheckSnub"/> gives up on them.
    /// </summary>
    public void OnChoked(Peer peer)
    {
        if (!peer.SupportsFast) GiveBack(peer);
    }

    /// <summary>
    /// A REJECT REQUEST: the block is free again for any peer. One we cancelled may be rejected (the spec has a cancel
    /// answered by the block or a reject); one we never asked for is a violation, and enough of them end the peer.
    /// A peer that unchokes us and still rejects is treated as snubbing us (one request at a time until a block
    /// arrives), so a peer that rejects everything cannot make us re-request at the speed of its replies.
    /// </summary>
    /// <exception cref="PeerProtocolException">Too many rejects for blocks we never requested.</exception>
    public void OnRejected(Peer peer, int piece, int begin, int length)
    {
        if (peer.Outstanding.Remove(piece, begin))
        {
            var pieces = host.Pieces;
            pieces.ReleaseRequest(peer, piece, begin);
            if (peer.PeerChoking) peer.AllowedFastIn.Remove(piece); // it no longer lets us have this one while choked
            else
            {
                peer.Suggested.Remove(piece);
                peer.Snubbed = true;
            }
            pieces.EndParoleIfBy(piece, peer);
            return;
        }
        if (ForgetCancelled(peer, piece, begin, length)) return;
        FastExtension.Violation(peer, $"REJECT for piece {piece} begin {begin} length {length} that we never requested");
    }

    /// <summary>A SUGGEST PIECE: kept as a hint (the newest <see cref="FastExtension.MaxSuggestions"/>) if we need the piece.</summary>
    /// <exception cref="PeerProtocolException">No such piece.</exception>
    public void OnSuggest(Peer peer, int piece)
    {
        var pieces = host.Pieces;
        if ((uint)piece >= (uint)pieces.PieceCount) throw new PeerProtocolException($"SUGGEST PIECE {piece} of {pieces.PieceCount}");
        if (!pieces.NeededField[piece] || peer.Suggested.Contains(piece)) return;
        if (peer.Suggested.Count == FastExtension.MaxSuggestions) peer.Suggested.RemoveAt(0);
        peer.Suggested.Add(piece);
    }

    /// <summary>An ALLOWED FAST: kept (at most <see cref="FastExtension.MaxAllowedFastIn"/>; more are ignored).</summary>
    /// <exception cref="PeerProtocolException">No such piece.</exception>
    public void OnAllowedFast(Peer peer, int piece)
    {
        var pieces = host.Pieces;
        if ((uint)piece >= (uint)pieces.PieceCount) throw new PeerProtocolException($"ALLOWED FAST {piece} of {pieces.PieceCount}");
        if (peer.AllowedFastIn.Count >= FastExtension.MaxAllowedFastIn || peer.AllowedFastIn.Contains(piece)) return;
        peer.AllowedFastIn.Add(piece);
    }

    /// <summary>Sends a CANCEL; a fast peer may still answer it with a REJECT, which is then expected.</summary>
    private static void SendCancel(Peer peer, int piece, int begin, int length)
    {
        Span<byte> c = stackalloc byte[MessageWriter.RequestLength];
        MessageWriter.WriteRequest(c, MessageId.Cancel, piece, begin, length);
        peer.Connection.Enqueue(c);
        if (!peer.SupportsFast) return;
        var cancelled = peer.CancelledAwaitingAnswer;
        if (cancelled.Count == FastExtension.MaxCancelledRemembered) cancelled.Dequeue();
        cancelled.Enqueue(new BlockRequest(piece, begin, length));
    }

    /// <summary>Whether the block was one we cancelled (and forgets it).</summary>
    private static bool ForgetCancelled(Peer peer, int piece, int begin, int length)
    {
        var cancelled = peer.CancelledAwaitingAnswer;
        int n = cancelled.Count;
        bool found = false;
        for (int i = 0; i < n; i++)
        {
            var r = cancelled.Dequeue();
            if (!found && r.Piece == piece && r.Begin == begin && r.Length == length) found = true;
            else cancelled.Enqueue(r);
        }
        return found;
    }

    /// <summary>The peer left: what it was asked for goes to others.</summary>
    public void OnPeerLeft(Peer peer) => GiveBack(peer);

    private void GiveBack(Peer peer)
    {
        var pieces = host.Pieces;
        foreach (var r in peer.Outstanding.TakeAll()) pieces.ReleaseRequest(peer, r.Piece, r.Begin);
        // A piece on parole waits for its one peer; one that cannot finish it hands it to the next.
        foreach (int piece in pieces.ParoledBy(peer)) pieces.EndParole(piece);
    }

    /// <summary>
    /// A peer that sent nothing for <see cref="EngineConfig.SnubTimeout"/> while it owed us blocks is snubbed: its
    /// requests are cancelled and go to others, and it keeps one request to prove itself.
    /// </summary>
    /// <remarks>
    /// A fast peer that choked us keeps our requests (BEP 6); if it neither serves nor rejects them for the snub
    /// timeout after the choke, they are cancelled and go to others the same way, or they would be held for ever.
    /// </remarks>
    public void CheckSnub(Peer peer, DateTimeOffset now)
    {
        if (peer.Outstanding.Count == 0) return;
        var timeout = host.Config.SnubTimeout;
        if (peer.PeerChoking)
        {
            if (!peer.SupportsFast || now - (peer.ChokedAt > peer.LastBlockAt ? peer.ChokedAt : peer.LastBlockAt) <= timeout) return;
            CancelAll(peer);
            host.Log(PluginLogLevel.Debug, $"{peer.EndPoint} choked us and left our requests unanswered");
            return;
        }
        if (peer.Snubbed || now - peer.LastBlockAt <= timeout) return;
        peer.Snubbed = true;
        CancelAll(peer);
        host.Log(PluginLogLevel.Debug, $"{peer.EndPoint} snubbed us");
    }

    private void CancelAll(Peer peer)
    {
        var pieces = host.Pieces;
        foreach (var r in peer.Outstanding.TakeAll())
        {
            pieces.ReleaseRequest(peer, r.Piece, r.Begin);
            SendCancel(peer, r.Piece, r.Begin, r.Length);
        }
        foreach (int piece in pieces.ParoledBy(peer)) pieces.EndParole(piece);
    }

    /// <summary>The torrent went idle: the scratch lists are made again when needed.</summary>
    public void DropScratch()
    {
        _requestScratch = null;
        _cancelScratch = null;
    }
}
