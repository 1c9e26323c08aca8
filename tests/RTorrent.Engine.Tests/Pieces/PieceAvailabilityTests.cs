using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Tests.Pieces;

/// <summary>
/// <see cref="PieceAvailability"/>: Transmission's <c>availability</c> (-1 for a piece we have, else how many connected
/// peers have it), <c>desiredAvailable</c> (wanted bytes still missing that some peer has, less blocks received) and
/// <c>haveUnchecked</c> (bytes received in pieces not yet verified).
/// </summary>
public class PieceAvailabilityTests
{
    private sealed class Peer(Bitfield pieces) : IBlockRequester, IPeerView
    {
        public Bitfield PeerPieces => pieces;
        public IBitfieldView Pieces => pieces;
        public bool IsSeed => pieces.AllSet;
        public long DownloadRate => 0;
        public IReadOnlyCollection<int> AllowedFast => [];
    }

    private static Bitfield Of(int count, params int[] set)
    {
        var b = new Bitfield(count);
        foreach (int i in set) b.Set(i);
        return b;
    }

    [Fact]
    public void Counts_peers_per_missing_piece_marks_had_pieces_and_sums_what_is_wanted_and_received()
    {
        const int piece = 32 * 1024;
        // Five pieces, the last one 10 000 bytes.
        var pm = new PieceManager(5, piece, 4L * piece + 10_000);
        pm.SetHave(0, true);
        pm.SetPriorities([Priority.Normal, Priority.Normal, Priority.Normal, Priority.Skip, Priority.Normal]);
        var a = new Peer(Of(5, 0, 1, 3));
        pm.PeerBitfield(Of(5, 0, 1, 3), add: true);
        pm.PeerBitfield(Of(5, 1, 4), add: true);

        // One block of piece 1 arrives from a (piece 1 is the only one both have; ask a for it).
        var requests = new List<BlockRequest>();
        pm.PickBlocks(a, a, new RarestFirstPicker(), 1, requests);
        var r = Assert.Single(requests);
        Assert.Equal(BlockOutcome.Stored, pm.BlockReceived(a, r.Piece, r.Begin, r.Length,
            System.Buffers.ArrayPool<byte>.Shared.Rent(PieceManager.BlockSize), [], out _));

        var availability = PieceAvailability.From(pm, running: true);
        Assert.Equal([-1, 2, 0, 1, 1], availability.Peers);
        Assert.Equal(PieceManager.BlockSize, availability.UncheckedBytes);
        // Piece 1 less its received block, piece 4 (10 000 bytes); piece 2 has no peer, piece 3 is skipped.
        Assert.Equal(piece - PieceManager.BlockSize + 10_000, availability.DesiredAvailable);
    }

    [Fact]
    public void A_torrent_that_does_not_run_has_no_peers_to_count()
    {
        var pm = new PieceManager(2, 16 * 1024, 32 * 1024);
        pm.PeerBitfield(Of(2, 0, 1), add: true);
        pm.SetHave(1, true);
        var availability = PieceAvailability.From(pm, running: false);
        Assert.Equal([0, -1], availability.Peers);
        Assert.Equal(0, availability.DesiredAvailable);
        Assert.Same(PieceAvailability.None, PieceAvailability.From(new PieceManager(0, 1, 0), running: true));
    }
}
