using RTorrent.Abstractions;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Tests.Pieces;

public class PieceManagerTests
{
    private sealed class FakePeer : IBlockRequester, IPeerView
    {
        public FakePeer(int pieces, bool seed = true)
        {
            PeerPieces = new Bitfield(pieces);
            if (seed) PeerPieces.SetAll();
        }
        public Bitfield PeerPieces { get; }
        public IBitfieldView Pieces => PeerPieces;
        public bool IsSeed => PeerPieces.AllSet;
        public long DownloadRate => 0;
        public IReadOnlyCollection<int> AllowedFast => [];
    }

    private static byte[] Block() => System.Buffers.ArrayPool<byte>.Shared.Rent(PieceManager.BlockSize);

    [Fact]
    public void Blocks_are_handed_out_once_until_endgame_then_twice_with_cancels_on_arrival()
    {
        var pm = new PieceManager(2, 32 * 1024, 64 * 1024);
        var a = new FakePeer(2);
        var b = new FakePeer(2);
        var picker = new RarestFirstPicker();
        var ra = new List<BlockRequest>();
        pm.PickBlocks(a, a, picker, 3, ra);
        Assert.Equal(3, ra.Count);
        var rb = new List<BlockRequest>();
        pm.PickBlocks(b, b, picker, 10, rb);
        // One free block was left for b; then endgame lets b duplicate a's three.
        Assert.True(pm.IsEndgame);
        Assert.Equal(4, rb.Count);
        var cancels = new List<IBlockRequester>();
        var r = ra[0];
        Assert.Equal(BlockOutcome.Stored, pm.BlockReceived(a, r.Piece, r.Begin, r.Length, Block(), cancels, out _));
        Assert.Same(b, Assert.Single(cancels));
        Assert.Equal(BlockOutcome.Duplicate, pm.BlockReceived(b, r.Piece, r.Begin, r.Length, Block(), cancels, out _));
    }

    [Fact]
    public void A_completed_piece_is_not_requested_again_while_it_is_verified()
    {
        var pm = new PieceManager(1, 16 * 1024, 16 * 1024);
        var a = new FakePeer(1);
        var reqs = new List<BlockRequest>();
        pm.PickBlocks(a, a, new RarestFirstPicker(), 5, reqs);
        Assert.Single(reqs);
        Assert.Equal(BlockOutcome.PieceComplete, pm.BlockReceived(a, 0, 0, 16384, Block(), [], out var done));
        Assert.NotNull(done);
        reqs.Clear();
        pm.PickBlocks(a, a, new RarestFirstPicker(), 5, reqs);
        Assert.Empty(reqs);
        pm.PieceVerified(0);
        Assert.True(pm.IsComplete);
        done!.ReleaseData();
    }

    [Fact]
    public void A_failed_piece_shared_by_several_peers_is_downloaded_from_one_peer_next()
    {
        var pm = new PieceManager(1, 32 * 1024, 32 * 1024);
        var a = new FakePeer(1);
        var b = new FakePeer(1);
        var picker = new RarestFirstPicker();
        var ra = new List<BlockRequest>();
        pm.PickBlocks(a, a, picker, 1, ra);
        var rb = new List<BlockRequest>();
        pm.PickBlocks(b, b, picker, 1, rb);
        pm.BlockReceived(a, 0, ra[0].Begin, ra[0].Length, Block(), [], out _);
        pm.BlockReceived(b, 0, rb[0].Begin, rb[0].Length, Block(), [], out var done);
        done!.ReleaseData();
        pm.PieceFailed(0, parole: true);
        ra.Clear();
        pm.PickBlocks(a, a, picker, 10, ra);
        Assert.Equal(2, ra.Count);
        rb.Clear();
        pm.PickBlocks(b, b, picker, 10, rb);
        Assert.Empty(rb);
    }

    [Fact]
    public void Skipped_pieces_are_never_picked_and_count_as_not_needed()
    {
        var pm = new PieceManager(4, 16384, 4 * 16384);
        pm.SetPriorities([Priority.Skip, Priority.Normal, Priority.Skip, Priority.High]);
        var a = new FakePeer(4);
        var reqs = new List<BlockRequest>();
        pm.PickBlocks(a, a, new RarestFirstPicker(), 10, reqs);
        Assert.Equal(new[] { 3, 1 }, reqs.Select(r => r.Piece).ToArray());
        Assert.Equal(2, pm.NeededCount);
    }

    [Fact]
    public void Availability_counts_seeds_separately_and_orders_the_rest()
    {
        var pm = new PieceManager(3, 16384, 3 * 16384);
        var seed = new FakePeer(3);
        pm.PeerBitfield(seed.PeerPieces, add: true);
        pm.PeerHas(1);
        pm.PeerHas(1);
        pm.PeerHas(2);
        Assert.Equal(1, pm.GetAvailability(0));
        Assert.Equal(3, pm.GetAvailability(1));
        Assert.Equal(new[] { 0, 2, 1 }, pm.PiecesByAvailability.ToArray());
        pm.PeerBitfield(seed.PeerPieces, add: false);
        Assert.Equal(0, pm.GetAvailability(0));
    }
}
