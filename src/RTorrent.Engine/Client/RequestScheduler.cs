using System.Buffers;
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

    /// <summary>Asks a peer for more blocks if its pipeline has room.</summary>
    public void RequestMore(Peer peer)
    {
        if (peer.PeerChoking || !peer.AmInterested || !host.Downloading || peer.Connection.IsClosed) return;
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
        var picker = host.Picker;
        try
        {
            pieces.PickBlocks(peer, peer, picker, room, list);
        }
        catch (Exception e) when (picker is not RarestFirstPicker)
        {
            host.Log(PluginLogLevel.Error, $"picker '{host.PickerName}' failed ({e.Message}); using rarest-first");
            host.Picker = picker = new RarestFirstPicker();
            pieces.PickBlocks(peer, peer, picker, room, list);
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
                ArrayPool<byte>.Shared.Return(data);
                host.Wasted(length);
                if (requested) peer.LastBlockAt = now;
                break;
        }
        // In endgame others were asked for the same block: they need not send it now.
        Span<byte> c = stackalloc byte[MessageWriter.RequestLength];
        foreach (var other in cancelScratch)
        {
            var op = (Peer)other;
            if (op.Outstanding.Remove(piece, begin))
            {
                MessageWriter.WriteRequest(c, MessageId.Cancel, piece, begin, length);
                op.Connection.Enqueue(c);
            }
        }
        if (completed is not null) host.PieceComplete(completed);
    }

    /// <summary>The peer choked us: without the fast extension that discards every pending request.</summary>
    public void OnChoked(Peer peer) => GiveBack(peer);

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
    public void CheckSnub(Peer peer, DateTimeOffset now)
    {
        if (peer.Outstanding.Count == 0 || peer.PeerChoking || peer.Snubbed || now - peer.LastBlockAt <= host.Config.SnubTimeout) return;
        peer.Snubbed = true;
        var pieces = host.Pieces;
        Span<byte> c = stackalloc byte[MessageWriter.RequestLength];
        foreach (var r in peer.Outstanding.TakeAll())
        {
            pieces.ReleaseRequest(peer, r.Piece, r.Begin);
            MessageWriter.WriteRequest(c, MessageId.Cancel, r.Piece, r.Begin, r.Length);
            peer.Connection.Enqueue(c);
        }
        foreach (int piece in pieces.ParoledBy(peer)) pieces.EndParole(piece);
        host.Log(PluginLogLevel.Debug, $"{peer.EndPoint} snubbed us");
    }

    /// <summary>The torrent went idle: the scratch lists are made again when needed.</summary>
    public void DropScratch()
    {
        _requestScratch = null;
        _cancelScratch = null;
    }
}
