using RTorrent.Abstractions;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Tests.Pieces;

/// <summary>
/// A complete torrent without peers holds no availability order (13 bytes a piece and a 4 KiB bucket table, most of an
/// idle seed's memory): it is let go when nothing is needed and no peer's pieces are counted, and made again, right,
/// when a peer's pieces or a needed piece come.
/// </summary>
public class PieceManagerMemoryTests
{
    private static Bitfield Of(int count, params int[] set)
    {
        var b = new Bitfield(count);
        foreach (int i in set) b.Set(i);
        return b;
    }

    [Fact]
    public void The_order_goes_when_the_last_piece_is_had_and_comes_back_for_peers_and_needed_pieces()
    {
        var pm = new PieceManager(8, 16384, 8 * 16384, random: new Random(3));
        Assert.True(pm.HoldsOrder);
        for (int p = 0; p < 8; p++) pm.SetHave(p, true);
        Assert.True(pm.IsComplete);
        Assert.False(pm.HoldsOrder);
        Assert.Equal(0, pm.GetAvailability(5));

        // A peer with some pieces connects to the seed: counted; it leaves: let go again.
        var peer = Of(8, 1, 5);
        pm.PeerBitfield(peer, add: true);
        Assert.True(pm.HoldsOrder);
        Assert.Equal(1, pm.GetAvailability(5));
        Assert.Equal(0, pm.GetAvailability(2));
        pm.PeerBitfield(peer, add: false);
        Assert.False(pm.HoldsOrder);

        // A seed is counted apart: no order for it.
        pm.PeerBitfield(Of(8, 0, 1, 2, 3, 4, 5, 6, 7), add: true);
        Assert.False(pm.HoldsOrder);
        Assert.Equal(1, pm.GetAvailability(4));

        // A piece lost (a recheck) is needed again, with the peers still counted right.
        pm.PeerBitfield(peer, add: true);
        pm.SetHave(5, false);
        Assert.True(pm.HoldsOrder);
        Assert.Equal(1, pm.NeededCount);
        Assert.Equal(5, pm.PiecesByAvailability[0]);
        Assert.Equal(2, pm.GetAvailability(5)); // the seed and the peer
        Assert.True(pm.Wanted[5]);
        pm.Validate();
        pm.SetHave(5, true);
        pm.PeerBitfield(peer, add: false);
        Assert.False(pm.HoldsOrder);
    }

    [Fact]
    public void Skipped_pieces_need_no_order_until_they_are_wanted_again()
    {
        var pm = new PieceManager(4, 16384, 4 * 16384, random: new Random(1));
        pm.SetHave(0, true);
        pm.SetHave(1, true);
        pm.SetPriorities([Priority.Normal, Priority.Normal, Priority.Skip, Priority.Skip]);
        Assert.True(pm.IsComplete);
        Assert.False(pm.HoldsOrder);

        pm.SetPriorities([Priority.Normal, Priority.Normal, Priority.High, Priority.Low]);
        Assert.True(pm.HoldsOrder);
        Assert.Equal([2, 3], pm.PiecesByAvailability.ToArray());
        Assert.Equal(2 * 16384, pm.BytesLeft());
        pm.Validate();
    }

    [Fact]
    public void A_complete_manager_made_from_a_full_bitfield_holds_no_order()
    {
        var full = Of(3, 0, 1, 2);
        var pm = new PieceManager(3, 16384, 3 * 16384, full);
        Assert.False(pm.HoldsOrder);
        Assert.True(pm.IsComplete);
        Assert.Empty(pm.PiecesByAvailability.ToArray());
        Assert.False(new PieceManager(0, 1, 0).HoldsOrder);
    }
}
