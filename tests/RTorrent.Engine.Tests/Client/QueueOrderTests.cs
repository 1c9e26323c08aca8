using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The queue: dense positions, Transmission's batch moves (checked against a step-by-step model of
/// libtransmission's code), clamping, restoring a saved order; and the engine's use of it.
/// </summary>
public class QueueOrderTests
{
    private sealed class Item(string name)
    {
        public string Name { get; } = name;
        public int Position = -1;
        public override string ToString() => Name;
    }

    private static (QueueOrder<Item> Queue, Item[] Items) Make(int n)
    {
        var queue = new QueueOrder<Item>((item, position) => item.Position = position);
        var items = Enumerable.Range(0, n).Select(i => new Item(((char)('A' + i)).ToString())).ToArray();
        foreach (var i in items) queue.Append(i);
        return (queue, items);
    }

    private static string Order(QueueOrder<Item> q) => string.Concat(q.Items.Select(i => i.Name));

    private static void AssertDense(QueueOrder<Item> q)
    {
        var items = q.Items;
        for (int i = 0; i < items.Count; i++)
        {
            Assert.Equal(i, items[i].Position);
            Assert.Equal(i, q.PositionOf(items[i]));
        }
    }

    [Fact]
    public void New_items_go_to_the_back_and_removal_closes_the_gap()
    {
        var (q, x) = Make(4);
        AssertDense(q);
        var changed = q.Remove(x[1]);
        Assert.Equal("ACD", Order(q));
        Assert.Equal([x[2], x[3]], changed);
        AssertDense(q);
        Assert.Equal(-1, q.PositionOf(x[1]));
    }

    [Theory]
    [InlineData(QueueMove.Top, "BD", "BDACEF")]
    [InlineData(QueueMove.Bottom, "BD", "ACEFBD")]
    [InlineData(QueueMove.Up, "BD", "BADCEF")]
    [InlineData(QueueMove.Down, "BD", "ACBEDF")]
    [InlineData(QueueMove.Up, "CD", "ACDBEF")] // a block moves as a block
    [InlineData(QueueMove.Down, "CD", "ABECDF")]
    [InlineData(QueueMove.Up, "AB", "ABCDEF")] // a block already at the front stays (4.0.6 swapped A and B)
    [InlineData(QueueMove.Up, "ABD", "ABDCEF")]
    [InlineData(QueueMove.Down, "EF", "ABCDEF")]
    [InlineData(QueueMove.Down, "CEF", "ABDCEF")]
    [InlineData(QueueMove.Top, "FA", "AFBCDE")] // the batch keeps its queue order, not the order asked
    [InlineData(QueueMove.Bottom, "FA", "BCDEAF")]
    [InlineData(QueueMove.Top, "A", "ABCDEF")]
    public void Batch_moves_behave_as_in_transmission(QueueMove move, string batch, string expected)
    {
        var (q, x) = Make(6);
        q.Move(batch.Select(c => x[c - 'A']), move);
        Assert.Equal(expected, Order(q));
        AssertDense(q);
    }

    [Fact]
    public void Moves_report_exactly_the_items_whose_position_changed_and_ignore_strangers_and_repeats()
    {
        var (q, x) = Make(5);
        var changed = q.Move([x[3], x[3], new Item("Z")], QueueMove.Up);
        Assert.Equal("ABDCE", Order(q));
        Assert.Equal(new HashSet<Item>([x[2], x[3]]), new HashSet<Item>(changed));
        Assert.Empty(q.Move([], QueueMove.Top));
    }

    [Fact]
    public void Set_position_clamps_and_shifts_the_items_between()
    {
        var (q, x) = Make(5);
        q.SetPosition(x[0], 3);
        Assert.Equal("BCDAE", Order(q));
        q.SetPosition(x[4], -5);
        Assert.Equal("EBCDA", Order(q));
        var changed = q.SetPosition(x[1], 99);
        Assert.Equal("ECDAB", Order(q));
        Assert.Equal(4, changed.Count);
        AssertDense(q);
    }

    [Fact]
    public void Restoring_puts_items_in_their_saved_order_in_the_places_they_hold()
    {
        var (q, x) = Make(5);
        // A and C were not restored (added by the user meanwhile); B, D, E come back with saved positions 2, 0, none.
        q.Restore([(x[1], 2), (x[3], 0), (x[4], null)]);
        Assert.Equal("ADCBE", Order(q));
        AssertDense(q);
    }

    [Fact]
    public void Moves_match_a_step_by_step_model_of_libtransmission_for_random_batches()
    {
        var random = new Random(1234);
        for (int round = 0; round < 2000; round++)
        {
            int n = random.Next(1, 9);
            var (q, x) = Make(n);
            var model = x.Select(i => i.Name).ToList();
            // A few moves in a row from random states.
            for (int step = 0; step < 3; step++)
            {
                var batch = x.Where(_ => random.Next(3) == 0).ToList();
                var move = (QueueMove)random.Next(4);
                q.Move(batch, move);
                Model(model, batch.Select(i => i.Name).ToList(), move);
                Assert.Equal(string.Concat(model), Order(q));
                AssertDense(q);
            }
        }
    }

    /// <summary>
    /// libtransmission (torrent.cc, with the 4.1 edge fix): sort the batch by position, then move each one at a time
    /// with set_queue_position, which takes it out and shifts the others between the old and new place.
    /// </summary>
    private static void Model(List<string> queue, List<string> batch, QueueMove move)
    {
        int Pos(string s) => queue.IndexOf(s);
        void Set(string s, int pos)
        {
            pos = Math.Clamp(pos, 0, queue.Count - 1);
            queue.Remove(s);
            queue.Insert(pos, s);
        }
        var ascending = batch.OrderBy(Pos).ToList();
        switch (move)
        {
            case QueueMove.Top:
                foreach (var s in Enumerable.Reverse(ascending)) Set(s, 0);
                break;
            case QueueMove.Bottom:
                foreach (var s in ascending) Set(s, int.MaxValue);
                break;
            case QueueMove.Up:
            {
                int lastConsecutive = 0;
                foreach (var s in ascending)
                {
                    if (Pos(s) != lastConsecutive) Set(s, Pos(s) - 1);
                    else lastConsecutive++;
                }
                break;
            }
            case QueueMove.Down:
            {
                int lastConsecutive = queue.Count - 1;
                foreach (var s in Enumerable.Reverse(ascending))
                {
                    if (Pos(s) != lastConsecutive) Set(s, Pos(s) + 1);
                    else lastConsecutive--;
                }
                break;
            }
        }
    }

    [Fact]
    public async Task The_engine_numbers_torrents_as_added_compacts_on_removal_and_moves_batches()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = new List<Torrent>();
        for (int i = 0; i < 4; i++) t.Add(await h.AddSeedAsync());
        Assert.Equal([0, 1, 2, 3], t.Select(x => x.QueuePosition));

        await h.Engine.RemoveAsync(t[1], deleteData: false);
        Assert.Equal([0, 1, 2], new[] { t[0], t[2], t[3] }.Select(x => x.QueuePosition));

        await h.Engine.MoveInQueueAsync([t[3], t[2]], QueueMove.Top);
        Assert.Equal([t[2], t[3], t[0]], await h.Engine.GetQueueAsync());
        Assert.Equal(0, (await h.SnapshotAsync(t[2])).QueuePosition);

        await h.Engine.SetQueuePositionAsync(t[0], 0);
        Assert.Equal([t[0], t[2], t[3]], await h.Engine.GetQueueAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Engine.SetQueuePositionAsync(t[1], 0));

        var late = await h.AddSeedAsync();
        Assert.Equal(3, late.QueuePosition);
    }
}
