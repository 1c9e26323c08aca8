using RTorrent.Abstractions;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Tests.Pieces;

/// <summary>How web seeds and peers share a torrent's pieces: whole runs for the seeds, the rest for the peers, both in endgame.</summary>
public sealed class WebSeedReservationTests
{
    private sealed class Requester : IBlockRequester, IPeerView
    {
        public Requester(int pieces)
        {
            PeerPieces = new Bitfield(pieces);
            PeerPieces.SetAll();
        }
        public Bitfield PeerPieces { get; }
        public IBitfieldView Pieces => PeerPieces;
        public bool IsSeed => true;
        public long DownloadRate => 0;
        public IReadOnlyCollection<int> AllowedFast => [];
    }

    private const int Piece = 32 * 1024; // two blocks

    private static byte[] Block() => System.Buffers.ArrayPool<byte>.Shared.Rent(PieceManager.BlockSize);

    [Fact]
    public void A_seed_takes_a_run_of_whole_pieces_from_its_cursor_and_peers_leave_them_alone()
    {
        var pm = new PieceManager(10, Piece, 10 * Piece);
        var seed = new Requester(10);
        var run = new List<int>();
        Assert.True(pm.ReserveRun(seed, from: 3, maxPieces: 100, maxBytes: 3 * Piece, run));
        Assert.Equal([3, 4, 5], run);
        var peer = new Requester(10);
        var requests = new List<BlockRequest>();
        pm.PickBlocks(peer, peer, new RarestFirstPicker(), 14, requests);
        Assert.Equal(14, requests.Count); // the 7 other pieces' blocks, none of the seed's
        Assert.DoesNotContain(requests, r => r.Piece is >= 3 and <= 5);
        Assert.False(pm.IsEndgame);
        pm.PickBlocks(peer, peer, new RarestFirstPicker(), 100, requests); // nothing else free: endgame, where either may
        Assert.True(pm.IsEndgame);
        Assert.Contains(requests, r => r.Piece == 3);
    }

    [Fact]
    public void A_run_stops_at_a_piece_someone_works_on_and_wraps_around_to_the_start()
    {
        var pm = new PieceManager(6, Piece, 6 * Piece);
        var peer = new Requester(6);
        var requests = new List<BlockRequest>();
        pm.PickBlocksFrom(peer, [5], 1, requests); // a peer has one block of piece 5
        var seed = new Requester(6);
        var run = new List<int>();
        Assert.True(pm.ReserveRun(seed, from: 3, maxPieces: 100, maxBytes: long.MaxValue, run));
        Assert.Equal([3, 4], run);
        run.Clear();
        Assert.True(pm.ReserveRun(seed, from: 5, maxPieces: 100, maxBytes: long.MaxValue, run));
        Assert.Equal([0, 1, 2], run);
        run.Clear();
        Assert.False(pm.ReserveRun(seed, from: 0, maxPieces: 100, maxBytes: long.MaxValue, run));
    }

    [Fact]
    public void Only_pieces_of_the_top_priority_are_taken()
    {
        var pm = new PieceManager(4, Piece, 4 * Piece);
        pm.SetPriorities([Priority.Normal, Priority.Normal, Priority.High, Priority.Skip]);
        var seed = new Requester(4);
        var run = new List<int>();
        Assert.True(pm.ReserveRun(seed, from: 0, maxPieces: 100, maxBytes: long.MaxValue, run));
        Assert.Equal([2], run); // the high piece first, even from a cursor before it
        run.Clear();
        Assert.True(pm.ReserveRun(seed, from: 0, maxPieces: 100, maxBytes: long.MaxValue, run));
        Assert.Equal([0, 1], run); // then the normal ones while it is fetched; never the skipped piece 3
    }

    [Fact]
    public void A_failed_request_gives_its_pieces_back_to_everyone()
    {
        var pm = new PieceManager(2, Piece, 2 * Piece);
        var seed = new Requester(2);
        var run = new List<int>();
        pm.ReserveRun(seed, from: 0, 100, long.MaxValue, run);
        Assert.Equal([0, 1], run);
        foreach (int p in run)
            for (int begin = 0; begin < Piece; begin += PieceManager.BlockSize) pm.ReleaseRequest(seed, p, begin);
        var peer = new Requester(2);
        var requests = new List<BlockRequest>();
        pm.PickBlocks(peer, peer, new RarestFirstPicker(), 4, requests);
        Assert.Equal(4, requests.Count);
    }

    [Fact]
    public void In_endgame_a_seed_races_for_a_piece_a_peer_is_downloading_and_the_first_block_wins()
    {
        var pm = new PieceManager(1, Piece, Piece);
        var peer = new Requester(1);
        var requests = new List<BlockRequest>();
        pm.PickBlocks(peer, peer, new RarestFirstPicker(), 100, requests);
        Assert.Equal(2, requests.Count);
        var seed = new Requester(1);
        var run = new List<int>();
        Assert.False(pm.ReserveRun(seed, null, 100, long.MaxValue, run)); // nothing free
        Assert.Equal(0, pm.ReserveEndgamePiece(seed));
        Assert.Equal(-1, pm.ReserveEndgamePiece(seed)); // not twice
        var cancels = new List<IBlockRequester>();
        Assert.Equal(BlockOutcome.Stored, pm.BlockReceived(seed, 0, 0, PieceManager.BlockSize, Block(), cancels, out _));
        Assert.Same(peer, Assert.Single(cancels)); // the peer is told to cancel its copy
        Assert.Equal(BlockOutcome.Duplicate, pm.BlockReceived(peer, 0, 0, PieceManager.BlockSize, Block(), cancels, out _));
        Assert.Equal(BlockOutcome.PieceComplete, pm.BlockReceived(peer, 0, PieceManager.BlockSize, PieceManager.BlockSize, Block(), cancels, out var done));
        Assert.NotNull(done);
        done!.ReleaseData();
    }

    [Fact]
    public void A_piece_on_parole_whose_peer_left_is_taken_whole_by_a_seed()
    {
        var pm = new PieceManager(1, Piece, Piece);
        pm.PieceFailed(0, parole: true); // it failed with several senders
        var peer = new Requester(1);
        var requests = new List<BlockRequest>();
        pm.PickBlocks(peer, peer, new RarestFirstPicker(), 100, requests); // the peer holds the parole
        Assert.Equal(2, requests.Count);
        foreach (var r in requests) pm.ReleaseRequest(peer, r.Piece, r.Begin);
        pm.EndParole(0); // and leaves
        var seed = new Requester(1);
        var run = new List<int>();
        Assert.True(pm.ReserveRun(seed, null, 100, long.MaxValue, run));
        Assert.Equal([0], run);
        var cancels = new List<IBlockRequester>();
        Assert.Equal(BlockOutcome.Stored, pm.BlockReceived(seed, 0, 0, PieceManager.BlockSize, Block(), cancels, out _));
        Assert.Equal(BlockOutcome.PieceComplete, pm.BlockReceived(seed, 0, PieceManager.BlockSize, PieceManager.BlockSize, Block(), cancels, out var done));
        done!.ReleaseData();
    }
}
