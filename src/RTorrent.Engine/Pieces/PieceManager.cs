using System.Buffers;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Pieces;

/// <summary>Something that requests blocks: a peer connection (or a fake in tests).</summary>
internal interface IBlockRequester
{
    /// <summary>Pieces the peer has.</summary>
    Bitfield PeerPieces { get; }
}

/// <summary>One block request to send to a peer.</summary>
internal readonly record struct BlockRequest(int Piece, int Begin, int Length);

/// <summary>What happened to a received block.</summary>
internal enum BlockOutcome
{
    /// <summary>Stored; the piece still misses blocks.</summary>
    Stored,
    /// <summary>Stored, and it was the piece's last missing block: the piece is ready to verify.</summary>
    PieceComplete,
    /// <summary>We already had the block (endgame or a late answer); the data was dropped.</summary>
    Duplicate,
    /// <summary>A block we did not ask for and do not need, or with a bad offset or length; the data was dropped.</summary>
    Unwanted,
}

/// <summary>A piece whose blocks are being downloaded.</summary>
internal sealed class PartialPiece
{
    public PartialPiece(int index, int size)
    {
        Index = index;
        Size = size;
        BlockCount = (size + PieceManager.BlockSize - 1) / PieceManager.BlockSize;
        Data = new byte[BlockCount][];
        Requesters = new IBlockRequester?[BlockCount * 2];
        From = new IBlockRequester?[BlockCount];
    }

    public int Index { get; }
    public int Size { get; }
    public int BlockCount { get; }

    /// <summary>Received block data (pooled 16 KiB arrays), null where missing.</summary>
    public byte[]?[] Data { get; }

    /// <summary>Up to two requesters per block (two only in endgame).</summary>
    public IBlockRequester?[] Requesters { get; }

    /// <summary>Who delivered each block, for banning peers that send bad data.</summary>
    public IBlockRequester?[] From { get; }

    public int Received;
    /// <summary>Blocks not received that have at least one requester.</summary>
    public int Requested;

    /// <summary>After a hash failure the piece is downloaded from one peer only, to find who sends bad data.</summary>
    public bool ParoleMode;

    /// <summary>The one peer a piece on parole is downloaded from (the first to pick it).</summary>
    public IBlockRequester? Parole;

    public int BlockLength(int block) =>
        block == BlockCount - 1 ? Size - block * PieceManager.BlockSize : PieceManager.BlockSize;

    public bool IsRequestedBy(int block, IBlockRequester peer) =>
        ReferenceEquals(Requesters[block * 2], peer) || ReferenceEquals(Requesters[block * 2 + 1], peer);

    public int RequestCount(int block) => (Requesters[block * 2] is null ? 0 : 1) + (Requesters[block * 2 + 1] is null ? 0 : 1);

    /// <summary>Returns the block buffers to the pool.</summary>
    public void ReleaseData()
    {
        for (int i = 0; i < Data.Length; i++)
        {
            if (Data[i] is { } d) Peers.BlockBuffers.Return(d);
            Data[i] = null;
        }
    }
}

/// <summary>
/// The swarm's state for one torrent, kept by the engine on its loop: which pieces we have and want, how many peers
/// have each, which blocks are requested from whom and which have arrived, and endgame. Pickers see it read-only
/// through <see cref="ISwarmView"/>.
/// </summary>
internal sealed class PieceManager : ISwarmView
{
    public const int BlockSize = 16 * 1024;

    private readonly long _pieceLength;
    private readonly long _totalLength;
    private readonly Priority[] _priority;
    private readonly Bitfield _have;
    private readonly Bitfield _wanted;      // what pickers may return now
    private readonly Bitfield _inProgress;
    private readonly Bitfield _verifying;
    private readonly Bitfield _needed;      // not had and not skipped
    // The availability order exists while a piece is needed or a peer's pieces are counted: a complete torrent without
    // peers holds none (13 bytes a piece and a 4 KiB bucket table). Null means every piece is had or skipped and no
    // peer's pieces are counted.
    private PieceOrder? _order;
    private readonly Random _random;
    private readonly Dictionary<int, PartialPiece> _partials = [];
    private int _seeds;

    public PieceManager(int pieceCount, long pieceLength, long totalLength, Bitfield? have = null, Random? random = null)
    {
        PieceCount = pieceCount;
        _pieceLength = pieceLength;
        _totalLength = totalLength;
        _priority = new Priority[pieceCount];
        Array.Fill(_priority, Priority.Normal);
        _have = have is null ? new Bitfield(pieceCount) : new Bitfield(have);
        _wanted = new Bitfield(pieceCount);
        _inProgress = new Bitfield(pieceCount);
        _verifying = new Bitfield(pieceCount);
        _needed = new Bitfield(pieceCount);
        _random = random ?? Random.Shared;
        if (_have.AllSet) return; // nothing needed: no order (an empty manager, a complete torrent)
        var order = _order = new PieceOrder(pieceCount, _random);
        for (int i = 0; i < pieceCount; i++)
        {
            if (_have[i]) order.SetClass(i, Priority.Normal, needed: false);
            else
            {
                _wanted.Set(i);
                _needed.Set(i);
            }
        }
    }

    public int PieceCount { get; }
    public Bitfield HaveField => _have;
    public IBitfieldView Have => _have;
    public IBitfieldView Wanted => _wanted;
    public IBitfieldView InProgress => _inProgress;

    /// <summary>Pieces not had and not skipped: what makes us interested in a peer.</summary>
    public Bitfield NeededField => _needed;
    public ReadOnlySpan<int> PiecesByAvailability => Needed;

    private ReadOnlySpan<int> Needed => _order is { } order ? order.Needed : [];

    /// <summary>The availability order, made again (every piece not needed, nobody counted) when it was let go.</summary>
    private PieceOrder Order => _order ??= new PieceOrder(PieceCount, _random, needed: false);

    /// <summary>Lets the availability order go when nothing is needed and no peer's pieces are counted.</summary>
    private void ReleaseOrderIfIdle()
    {
        if (_order is { CountedAvailability: 0 } order && order.Needed.Length == 0) _order = null;
    }

    /// <summary>Whether the availability order is held (tests).</summary>
    internal bool HoldsOrder => _order is not null;
    public long? StreamPosition { get; set; }
    public bool IsEndgame { get; private set; }
    public IEnumerable<PartialPiece> Partials => _partials.Values;

    /// <summary>Pieces needed that are not had (priority above skip).</summary>
    public int NeededCount => Needed.Length;

    public int GetAvailability(int piece) => (_order?.GetAvailability(piece) ?? 0) + _seeds;

    public Priority GetPriority(int piece) => _priority[piece];

    public int GetPieceSize(int piece) =>
        piece == PieceCount - 1 ? (int)(_totalLength - _pieceLength * (PieceCount - 1)) : (int)_pieceLength;

    public bool IsComplete => NeededCount == 0;

    public bool IsVerifying(int piece) => _verifying[piece];

    /// <summary>Sets every piece's priority (from file priorities); pieces set to skip are dropped from the wanted set.</summary>
    public void SetPriorities(ReadOnlySpan<Priority> priorities)
    {
        for (int i = 0; i < PieceCount; i++)
        {
            _priority[i] = priorities[i];
            bool needed = !_have[i] && priorities[i] != Priority.Skip;
            if (needed || _order is not null) Order.SetClass(i, priorities[i], needed);
            _needed[i] = needed;
            RefreshWanted(i);
        }
        if (IsEndgame && _wanted.TrueCount == 0) IsEndgame = false;
        ReleaseOrderIfIdle();
    }

    // ---- availability ----

    public void PeerHas(int piece) => Order.Increment(piece);

    public void PeerBitfield(Bitfield pieces, bool add)
    {
        if (pieces.AllSet)
        {
            _seeds += add ? 1 : -1;
            return;
        }
        if (pieces.NoneSet) return;
        var order = Order;
        for (int i = pieces.NextSet(0); i >= 0; i = pieces.NextSet(i + 1))
        {
            if (add) order.Increment(i);
            else order.Decrement(i);
        }
        if (!add) ReleaseOrderIfIdle();
    }

    /// <summary>A peer that was counted piece by piece became a seed: move its count to the seed counter.</summary>
    public void PeerBecameSeed(Bitfield piecesBeforeLastHave)
    {
        for (int i = piecesBeforeLastHave.NextSet(0); i >= 0; i = piecesBeforeLastHave.NextSet(i + 1)) Order.Decrement(i);
        _seeds++;
        ReleaseOrderIfIdle();
    }

    // ---- requests ----

    /// <summary>
    /// Chooses up to <paramref name="max"/> blocks to request from a peer, in the order the picker ranks pieces.
    /// </summary>
    public void PickBlocks(IBlockRequester peer, IPeerView view, IPiecePicker picker, int max, List<BlockRequest> output)
    {
        if (max <= 0 || NeededCount == 0) return;
        Span<int> ranked = stackalloc int[Math.Clamp(max / 4 + 4, 8, 64)];
        for (int attempt = 0; attempt < 2 && max > 0; attempt++)
        {
            int n = picker.RankPieces(this, view, ranked);
            for (int i = 0; i < n && max > 0; i++)
            {
                int piece = ranked[i];
                if ((uint)piece >= (uint)PieceCount || !_wanted[piece] || !peer.PeerPieces[piece]) continue;
                max -= TakeBlocks(piece, peer, max, output);
            }
            if (max == 0 || IsEndgame) return;
            // Nothing left to hand out in normal mode while pieces are still missing: every missing block is
            // requested from someone. Endgame lets fast peers race slow ones for the last blocks.
            if (_wanted.TrueCount == 0 && NeededCount > 0) EnterEndgame();
            else return;
        }
    }

    /// <summary>
    /// Chooses up to <paramref name="max"/> blocks from the given pieces only, in their order, skipping those not
    /// wanted or that the peer lacks: BEP 6's allowed-fast pieces while the peer chokes us, and its suggestions.
    /// </summary>
    public void PickBlocksFrom(IBlockRequester peer, ReadOnlySpan<int> pieces, int max, List<BlockRequest> output)
    {
        foreach (int piece in pieces)
        {
            if (max <= 0) return;
            if ((uint)piece >= (uint)PieceCount || !_wanted[piece] || !peer.PeerPieces[piece]) continue;
            max -= TakeBlocks(piece, peer, max, output);
        }
    }

    /// <summary>The peer that a piece on parole waits for will not finish it (it rejected a block): others may.</summary>
    public void EndParoleIfBy(int piece, IBlockRequester peer)
    {
        if (_partials.TryGetValue(piece, out var p) && ReferenceEquals(p.Parole, peer)) EndParole(piece);
    }

    private int TakeBlocks(int piece, IBlockRequester peer, int max, List<BlockRequest> output)
    {
        if (!_partials.TryGetValue(piece, out var p))
        {
            p = new PartialPiece(piece, GetPieceSize(piece));
            _partials.Add(piece, p);
            _inProgress.Set(piece);
        }
        if (p.ParoleMode)
        {
            if (p.Parole is null) p.Parole = peer;
            else if (!ReferenceEquals(p.Parole, peer)) return 0;
        }
        int taken = 0;
        for (int b = 0; b < p.BlockCount && taken < max; b++)
        {
            if (p.Data[b] is not null) continue;
            int count = p.RequestCount(b);
            if (count == 0)
            {
                p.Requesters[b * 2] = peer;
                p.Requested++;
            }
            else if (IsEndgame && count == 1 && !p.IsRequestedBy(b, peer))
            {
                if (p.Requesters[b * 2] is null) p.Requesters[b * 2] = peer;
                else p.Requesters[b * 2 + 1] = peer;
            }
            else continue;
            output.Add(new BlockRequest(piece, b * BlockSize, p.BlockLength(b)));
            taken++;
        }
        RefreshWanted(piece);
        return taken;
    }

    /// <summary>
    /// Takes a run of whole pieces for a web seed: the first piece in the picker's usual order (priority, then
    /// availability) that nobody works on, or with <paramref name="from"/> the first such piece of that priority (or
    /// higher) at or after it, wrapping around, then the pieces after it while they are free, up to
    /// <paramref name="maxPieces"/> and <paramref name="maxBytes"/> (at least one piece). Every block is requested by
    /// <paramref name="requester"/>, so peers leave these pieces alone until endgame. Returns false when no piece is free.
    /// </summary>
    public bool ReserveRun(IBlockRequester requester, int? from, int maxPieces, long maxBytes, List<int> output)
    {
        if (NeededCount == 0 || maxPieces <= 0) return false;
        // The first free piece in the picker's order (highest priority first) sets the priority taken this time.
        int first = -1;
        foreach (int p in Needed)
        {
            if (!IsFree(p)) continue;
            first = p;
            break;
        }
        if (first < 0) return false;
        var top = _priority[first];
        int start = from is null ? first : -1;
        if (from is int f)
        {
            for (int p = Math.Clamp(f, 0, PieceCount); p < PieceCount && start < 0; p++) if (IsFree(p) && _priority[p] >= top) start = p;
            for (int p = 0; p < Math.Min(f, PieceCount) && start < 0; p++) if (IsFree(p) && _priority[p] >= top) start = p;
        }
        if (start < 0) return false;
        long bytes = 0;
        for (int p = start; p < PieceCount && output.Count < maxPieces && (output.Count == 0 || bytes < maxBytes) && IsFree(p) && _priority[p] >= top; p++)
        {
            if (!_partials.TryGetValue(p, out var piece))
            {
                piece = new PartialPiece(p, GetPieceSize(p));
                _partials.Add(p, piece);
                _inProgress.Set(p);
            }
            else piece.Parole = requester; // a piece on parole that nobody holds: the seed sends it whole, alone
            for (int b = 0; b < piece.BlockCount; b++) piece.Requesters[b * 2] = requester;
            piece.Requested = piece.BlockCount;
            RefreshWanted(p);
            output.Add(p);
            bytes += piece.Size;
        }
        return true;
    }

    /// <summary>
    /// No piece is free: a web seed races for one that others are downloading (endgame), one it has no block of, not on
    /// parole. Its missing blocks get the requester as a second one where a slot is free. Returns the piece, or -1.
    /// </summary>
    public int ReserveEndgamePiece(IBlockRequester requester)
    {
        foreach (int piece in Needed)
        {
            if (!_inProgress[piece] || _verifying[piece] || !_partials.TryGetValue(piece, out var p) || p.ParoleMode) continue;
            bool mine = false;
            for (int b = 0; b < p.BlockCount && !mine; b++) mine = p.IsRequestedBy(b, requester);
            if (mine || p.Received == p.BlockCount) continue;
            for (int b = 0; b < p.BlockCount; b++)
            {
                if (p.Data[b] is not null) continue;
                if (p.Requesters[b * 2] is null)
                {
                    p.Requesters[b * 2] = requester;
                    if (p.RequestCount(b) == 1) p.Requested++;
                }
                else if (p.Requesters[b * 2 + 1] is null) p.Requesters[b * 2 + 1] = requester;
            }
            RefreshWanted(piece);
            return piece;
        }
        return -1;
    }

    /// <summary>
    /// A piece nobody works on that is wanted: a web seed may take it whole. A piece on parole whose peer left (nobody
    /// holds it, nothing received) is free too, or it would wait for a peer for ever.
    /// </summary>
    private bool IsFree(int piece) =>
        !_have[piece] && !_verifying[piece] && _needed[piece] && _priority[piece] != Priority.Skip
        && (!_inProgress[piece] || _partials.TryGetValue(piece, out var p) && p.ParoleMode && p.Parole is null && p.Received == 0 && p.Requested == 0);

    private void EnterEndgame()
    {
        IsEndgame = true;
        foreach (int piece in Needed) RefreshWanted(piece);
    }

    /// <summary>A request is no longer outstanding (choke, cancel, timeout, disconnect) and its block is free again.</summary>
    public void ReleaseRequest(IBlockRequester peer, int piece, int begin)
    {
        if (!_partials.TryGetValue(piece, out var p)) return;
        int b = begin / BlockSize;
        if ((uint)b >= (uint)p.BlockCount) return;
        if (ReferenceEquals(p.Requesters[b * 2], peer)) p.Requesters[b * 2] = null;
        else if (ReferenceEquals(p.Requesters[b * 2 + 1], peer)) p.Requesters[b * 2 + 1] = null;
        else return;
        if (p.Data[b] is null && p.RequestCount(b) == 0) p.Requested--;
        if (p.Received == 0 && p.Requested == 0 && !p.ParoleMode)
        {
            _partials.Remove(piece);
            _inProgress.Clear(piece);
        }
        RefreshWanted(piece);
    }

    /// <summary>
    /// Stores a received block. <paramref name="data"/> is a pooled buffer; on <see cref="BlockOutcome.Stored"/> and
    /// <see cref="BlockOutcome.PieceComplete"/> the manager owns it, otherwise the caller returns it to the pool.
    /// Other peers that had requested the same block are added to <paramref name="cancelTargets"/>.
    /// </summary>
    public BlockOutcome BlockReceived(IBlockRequester peer, int piece, int begin, int length, byte[] data,
        List<IBlockRequester> cancelTargets, out PartialPiece? completed)
    {
        completed = null;
        if ((uint)piece >= (uint)PieceCount || begin % BlockSize != 0) return BlockOutcome.Unwanted;
        if (_have[piece] || _verifying[piece]) return BlockOutcome.Duplicate;
        if (!_partials.TryGetValue(piece, out var p)) return BlockOutcome.Unwanted;
        int b = begin / BlockSize;
        if ((uint)b >= (uint)p.BlockCount || p.BlockLength(b) != length) return BlockOutcome.Unwanted;
        if (p.Data[b] is not null) return BlockOutcome.Duplicate;
        bool requestedByPeer = p.IsRequestedBy(b, peer);
        if (p.Parole is not null && !ReferenceEquals(p.Parole, peer)) return BlockOutcome.Unwanted;

        int count = p.RequestCount(b);
        for (int slot = b * 2; slot <= b * 2 + 1; slot++)
        {
            var r = p.Requesters[slot];
            if (r is not null && !ReferenceEquals(r, peer)) cancelTargets.Add(r);
            p.Requesters[slot] = null;
        }
        if (count > 0) p.Requested--;
        _ = requestedByPeer; // an unrequested but needed block of an open piece is still useful data
        p.Data[b] = data;
        p.From[b] = peer;
        p.Received++;
        if (p.Received < p.BlockCount)
        {
            RefreshWanted(piece);
            return BlockOutcome.Stored;
        }
        _partials.Remove(piece);
        _inProgress.Clear(piece);
        _verifying.Set(piece);
        RefreshWanted(piece);
        completed = p;
        return BlockOutcome.PieceComplete;
    }

    /// <summary>The piece passed its hash check and is written.</summary>
    public void PieceVerified(int piece)
    {
        _verifying.Clear(piece);
        if (_have.Set(piece)) _order?.SetClass(piece, _priority[piece], needed: false);
        _needed.Clear(piece);
        RefreshWanted(piece);
        if (NeededCount == 0) IsEndgame = false;
        ReleaseOrderIfIdle();
    }

    /// <summary>
    /// The piece failed its hash check: it is needed again. When several peers delivered it, it goes on parole: the
    /// next attempt takes all blocks from one peer, so a second failure names the culprit.
    /// </summary>
    public void PieceFailed(int piece, bool parole)
    {
        _verifying.Clear(piece);
        if (parole)
        {
            var p = new PartialPiece(piece, GetPieceSize(piece)) { ParoleMode = true };
            _partials[piece] = p;
            _inProgress.Set(piece);
        }
        RefreshWanted(piece);
    }

    /// <summary>
    /// Block-level verification (BEP 52): the piece failed, and its block hashes named the bad blocks. Only those are
    /// dropped (their buffers returned) and wanted again; the good ones stay, so the piece completes with the bad
    /// blocks alone re-requested.
    /// </summary>
    public void PieceFailedKeeping(PartialPiece p, bool[] bad)
    {
        _verifying.Clear(p.Index);
        for (int b = 0; b < p.BlockCount; b++)
        {
            p.Requesters[b * 2] = p.Requesters[b * 2 + 1] = null;
            if (!bad[b] || p.Data[b] is not { } data) continue;
            Peers.BlockBuffers.Return(data);
            p.Data[b] = null;
            p.From[b] = null;
            p.Received--;
        }
        p.Requested = 0;
        p.ParoleMode = false;
        p.Parole = null;
        _partials[p.Index] = p;
        _inProgress.Set(p.Index);
        RefreshWanted(p.Index);
    }

    /// <summary>The peer holding a piece's parole left: the next peer to pick it takes over.</summary>
    public void EndParole(int piece)
    {
        if (_partials.TryGetValue(piece, out var p) && p.ParoleMode)
        {
            for (int b = 0; b < p.BlockCount; b++)
            {
                if (p.Data[b] is not null) continue;
                p.Requesters[b * 2] = p.Requesters[b * 2 + 1] = null;
            }
            p.Requested = 0;
            p.ReleaseData();
            p.Received = 0;
            p.Parole = null;
            RefreshWanted(piece);
        }
    }

    /// <summary>Pieces whose parole belongs to <paramref name="peer"/>.</summary>
    public IEnumerable<int> ParoledBy(IBlockRequester peer) =>
        _partials.Values.Where(p => ReferenceEquals(p.Parole, peer)).Select(p => p.Index).ToArray();

    /// <summary>The piece was found on disk by a recheck, or lost (recheck failed).</summary>
    public void SetHave(int piece, bool have)
    {
        if (have) PieceVerified(piece);
        else if (_have.Clear(piece))
        {
            bool needed = _priority[piece] != Priority.Skip;
            if (needed || _order is not null) Order.SetClass(piece, _priority[piece], needed);
            _needed[piece] = _priority[piece] != Priority.Skip;
            RefreshWanted(piece);
        }
    }

    private void RefreshWanted(int piece)
    {
        bool wanted;
        if (_have[piece] || _verifying[piece] || _priority[piece] == Priority.Skip) wanted = false;
        else if (IsEndgame) wanted = true;
        else if (_partials.TryGetValue(piece, out var p)) wanted = p.Received + p.Requested < p.BlockCount;
        else wanted = true;
        if (wanted) _wanted.Set(piece);
        else _wanted.Clear(piece);
    }

    /// <summary>Bytes of the wanted pieces still missing (for "left" in announces and ETA).</summary>
    public long BytesLeft()
    {
        long left = 0;
        foreach (int piece in Needed)
        {
            left += GetPieceSize(piece);
        }
        return left;
    }

    /// <summary>Releases every partial piece's buffers (torrent stopped).</summary>
    public void Reset()
    {
        foreach (var p in _partials.Values) p.ReleaseData();
        _partials.Clear();
        _inProgress.ClearAll();
        IsEndgame = false;
        for (int i = 0; i < PieceCount; i++) RefreshWanted(i);
    }

    internal void Validate() => _order?.Validate();
}
