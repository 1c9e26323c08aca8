using RTorrent.Abstractions;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Tests.Pieces;

public class PieceOrderTests
{
    [Fact]
    public void Random_availability_changes_keep_pieces_sorted_rarest_first()
    {
        var rng = new Random(7);
        var order = new PieceOrder(300, rng);
        var avail = new int[300];
        for (int step = 0; step < 20_000; step++)
        {
            int p = rng.Next(300);
            if (avail[p] > 0 && rng.Next(3) == 0)
            {
                order.Decrement(p);
                avail[p]--;
            }
            else
            {
                order.Increment(p);
                avail[p]++;
            }
            if (step % 997 == 0) order.SetClass(rng.Next(300), (Priority)new[] { 0, 1, 4, 7 }[rng.Next(4)], rng.Next(5) > 0);
        }
        order.Validate();
        var needed = order.Needed.ToArray();
        for (int i = 1; i < needed.Length; i++)
        {
            var a = needed[i - 1];
            var b = needed[i];
            Assert.True(Class(order, a) < Class(order, b) || (Class(order, a) == Class(order, b) &&
                Math.Min(avail[a], PieceOrder.AvailabilityCap) <= Math.Min(avail[b], PieceOrder.AvailabilityCap)));
        }
    }

    private static int Class(PieceOrder o, int p) => o.GetClass(p);

    [Fact]
    public void Pieces_no_longer_needed_leave_the_needed_prefix()
    {
        var order = new PieceOrder(10, new Random(1));
        order.SetClass(3, Priority.Normal, needed: false);
        order.SetClass(5, Priority.Skip, needed: true);
        Assert.Equal(8, order.Needed.Length);
        Assert.DoesNotContain(3, order.Needed.ToArray());
        Assert.DoesNotContain(5, order.Needed.ToArray());
        order.SetClass(7, Priority.High, needed: true);
        Assert.Equal(7, order.Needed[0]);
        order.Validate();
    }

    [Fact]
    public void Ties_are_broken_at_random()
    {
        var a = new PieceOrder(100, new Random(1)).Needed.ToArray();
        var b = new PieceOrder(100, new Random(2)).Needed.ToArray();
        Assert.NotEqual(a, b);
    }
}

public class BitfieldTests
{
    [Fact]
    public void Wire_form_puts_piece_zero_in_the_high_bit()
    {
        var b = new Bitfield(10);
        b.Set(0);
        b.Set(9);
        Assert.Equal(new byte[] { 0x80, 0x40 }, b.ToBytes());
        var c = Bitfield.FromBytes(new byte[] { 0x80, 0x40 }, 10);
        Assert.True(c[0] && c[9] && c.TrueCount == 2);
    }

    [Fact]
    public void Spare_bits_set_or_wrong_length_are_refused()
    {
        var b = new Bitfield(10);
        Assert.False(b.TryReadFrom(new byte[] { 0xff, 0xff }));
        Assert.False(b.TryReadFrom(new byte[] { 0xff }));
        Assert.True(b.TryReadFrom(new byte[] { 0xff, 0xc0 }));
        Assert.True(b.AllSet);
    }

    [Fact]
    public void NextSet_walks_across_words()
    {
        var b = new Bitfield(200);
        b.Set(3); b.Set(64); b.Set(199);
        Assert.Equal(3, b.NextSet(0));
        Assert.Equal(64, b.NextSet(4));
        Assert.Equal(199, b.NextSet(65));
        Assert.Equal(-1, b.NextSet(200));
    }
}

public class RequestQueueTests
{
    [Fact]
    public void Out_of_order_removal_and_growth_keep_the_count_right()
    {
        var q = new RequestQueue();
        for (int i = 0; i < 200; i++) q.Add(new BlockRequest(i / 4, i % 4 * 16384, 16384));
        Assert.True(q.Remove(10, 16384));
        Assert.False(q.Remove(10, 16384));
        Assert.True(q.Remove(0, 0));
        Assert.Equal(198, q.Count);
        for (int i = 200; i < 300; i++) q.Add(new BlockRequest(i / 4, i % 4 * 16384, 16384));
        Assert.Equal(298, q.Count);
        var all = q.TakeAll();
        Assert.Equal(298, all.Count);
        Assert.Equal(0, q.Count);
    }
}
