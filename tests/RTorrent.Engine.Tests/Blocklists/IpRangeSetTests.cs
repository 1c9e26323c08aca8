using System.Net;
using RTorrent.Engine.Blocklists;

namespace RTorrent.Engine.Tests.Blocklists;

/// <summary>The range set: merging, edges, lookups against a brute-force model, and no allocation per lookup.</summary>
public class IpRangeSetTests
{
    [Fact]
    public void Overlapping_and_touching_ranges_merge_and_disjoint_ones_stay_apart()
    {
        var b = new IpRangeSetBuilder();
        b.Add(IPAddress.Parse("10.0.0.10"), IPAddress.Parse("10.0.0.20"));
        b.Add(IPAddress.Parse("10.0.0.15"), IPAddress.Parse("10.0.0.30")); // overlaps
        b.Add(IPAddress.Parse("10.0.0.31"), IPAddress.Parse("10.0.0.40")); // touches
        b.Add(IPAddress.Parse("10.0.0.42"), IPAddress.Parse("10.0.0.42")); // apart
        b.Add(IPAddress.Parse("10.0.0.0"), IPAddress.Parse("10.0.0.5"));   // out of order
        var set = b.Build();
        Assert.Equal(
            [("10.0.0.0", "10.0.0.5"), ("10.0.0.10", "10.0.0.40"), ("10.0.0.42", "10.0.0.42")],
            set.Ranges().Select(r => (r.First.ToString(), r.Last.ToString())));
        Assert.False(set.Contains(IPAddress.Parse("10.0.0.41")));
        Assert.True(set.Contains(IPAddress.Parse("10.0.0.40")));
    }

    [Fact]
    public void The_ends_of_the_address_space_are_handled()
    {
        var b = new IpRangeSetBuilder();
        b.Add(0u, 0u);
        b.Add(uint.MaxValue - 1, uint.MaxValue);
        b.Add(uint.MaxValue, uint.MaxValue);
        b.Add(UInt128.MaxValue, UInt128.MaxValue);
        var set = b.Build();
        Assert.Equal(2, set.IPv4Count);
        Assert.True(set.Contains(0u));
        Assert.False(set.Contains(1u));
        Assert.True(set.Contains(uint.MaxValue));
        Assert.True(set.Contains(UInt128.MaxValue));
        Assert.False(set.Contains(UInt128.Zero));
        Assert.False(IpRangeSet.Empty.Contains(IPAddress.Loopback));
    }

    [Fact]
    public void Lookups_agree_with_a_brute_force_model()
    {
        var random = new Random(11);
        var ranges = new List<(uint, uint)>();
        var b = new IpRangeSetBuilder();
        for (int i = 0; i < 2000; i++)
        {
            uint start = (uint)random.Next(0, 1_000_000);
            uint end = start + (uint)random.Next(0, 300);
            ranges.Add((start, end));
            b.Add(start, end);
        }
        var set = b.Build();
        for (uint a = 0; a < 1_000_400; a += 7)
            Assert.Equal(ranges.Any(r => a >= r.Item1 && a <= r.Item2), set.Contains(a));
    }

    [Fact]
    public void A_lookup_allocates_nothing()
    {
        var b = new IpRangeSetBuilder();
        for (uint i = 0; i < 10_000; i++) b.Add(i * 100, i * 100 + 50);
        b.Add(UInt128.One << 120, (UInt128.One << 120) + 1000);
        var set = b.Build();
        var v4 = IPAddress.Parse("0.0.39.20");
        var v6 = IPAddress.Parse("100::5");
        var mapped = IPAddress.Parse("::ffff:0.0.39.20");
        Assert.True(set.Contains(v4));
        Assert.True(set.Contains(v6));
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool all = true;
        for (int i = 0; i < 1000; i++) all &= set.Contains(v4) & set.Contains(v6) & set.Contains(mapped);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(all);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void The_blocklist_counts_only_refusals_and_nothing_while_switched_off()
    {
        var list = new Blocklist();
        var b = new IpRangeSetBuilder();
        b.Add(IPAddress.Parse("1.2.3.4"), IPAddress.Parse("1.2.3.4"));
        list.Replace(b.Build());
        Assert.False(list.Refuse(IPAddress.Parse("1.2.3.4"))); // off by default
        list.Enabled = true;
        Assert.True(list.Refuse(IPAddress.Parse("1.2.3.4")));
        Assert.False(list.Refuse(IPAddress.Parse("1.2.3.5")));
        Assert.True(list.IsBlocked(IPAddress.Parse("::ffff:1.2.3.4")));
        Assert.Equal(1, list.BlockedCount);
        Assert.Equal(1, list.RuleCount);
    }
}
