using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class TrackerTierListTests
{
    [Fact]
    public void Tiers_are_tried_in_order_and_empty_tiers_are_dropped()
    {
        var list = new TrackerTierList<string>([["a"], [], ["b", "c"]], new Random(1));
        Assert.Equal(2, list.TierCount);
        var order = list.InOrder();
        Assert.Equal(("a", 0), order[0]);
        Assert.Equal(["b", "c"], order.Skip(1).Select(o => o.Tracker).Order());
        Assert.All(order.Skip(1), o => Assert.Equal(1, o.Tier));
    }

    [Fact]
    public void Each_tier_is_shuffled_on_load()
    {
        var firsts = new HashSet<string>();
        for (int seed = 0; seed < 50; seed++)
            firsts.Add(new TrackerTierList<string>([["a", "b", "c", "d"]], new Random(seed)).GetTier(0)[0]);
        Assert.Equal(4, firsts.Count);
        // Shuffling never moves a tracker to another tier.
        var list = new TrackerTierList<string>([["a", "b"], ["c", "d"]], new Random(3));
        Assert.Equal(["a", "b"], list.GetTier(0).Order());
        Assert.Equal(["c", "d"], list.GetTier(1).Order());
    }

    [Fact]
    public void A_tracker_that_answered_moves_to_the_front_of_its_tier_only()
    {
        var list = new TrackerTierList<string>([["a", "b", "c"], ["d", "e"]], new Random(7));
        var tier0 = list.GetTier(0);
        var last = tier0[^1];
        Assert.True(list.Promote(last));
        Assert.Equal([last, .. tier0.Where(t => t != last)], list.GetTier(0));
        var tier1 = list.GetTier(1);
        list.Promote(tier1[^1]);
        Assert.Equal(tier1[^1], list.GetTier(1)[0]);
        Assert.Equal(last, list.InOrder()[0].Tracker);
        Assert.Equal(1, list.TierOf("e"));
        Assert.False(list.Promote("zzz"));
        Assert.Equal(-1, list.TierOf("zzz"));
    }
}
