using System.Net;
using RTorrent.Engine.Dht;

namespace RTorrent.Engine.Tests.Dht;

public class RoutingTableTests
{
    private readonly ManualTimeProvider _time = new();
    private static readonly NodeId Self = NodeId.FromHex("0000000000000000000000000000000000000000");

    private static IPEndPoint Local(int i) => new(IPAddress.Loopback, 10000 + i);
    private static IPEndPoint Public(int i) => new(new IPAddress([(byte)(20 + (i >> 16)), (byte)(i >> 8), (byte)i, 1]), 6881);

    /// <summary>An ID in bucket <paramref name="prefix"/> of <see cref="Self"/> (first set bit at that index).</summary>
    private static NodeId InBucket(int prefix) => Self.RandomWithCommonPrefix(prefix);

    [Fact]
    public void Fills_a_bucket_then_splits_only_our_own()
    {
        var table = new RoutingTable(Self, _time);
        // Far nodes (first bit differs from ours) fill bucket 0.
        for (int i = 0; i < 8; i++) Assert.Equal(AddOutcome.Added, table.Add(InBucket(0), Local(i), true));
        Assert.Single(table.Buckets);
        // A ninth far node: the only bucket is also ours, so it splits; the far ones stay in bucket 0, which is now full.
        Assert.Equal(AddOutcome.Cached, table.Add(InBucket(0), Local(8), true));
        Assert.Equal(2, table.Buckets.Count);
        Assert.Equal(8, table.Buckets[0].Nodes.Count);
        Assert.Single(table.Buckets[0].Replacements);
        // Closer nodes go to our bucket, which keeps splitting as it fills.
        for (int i = 0; i < 40; i++) table.Add(InBucket(1 + i % 5), Local(100 + i), true);
        Assert.True(table.Buckets.Count > 2);
        Assert.All(table.Buckets.SkipLast(1).Select((b, index) => (b, index)), x =>
            Assert.All(x.b.Nodes, n => Assert.Equal(x.index, NodeId.CommonPrefixLength(Self, n.Id))));
        Assert.All(table.Buckets, b => Assert.True(b.Nodes.Count <= 8));
    }

    [Fact]
    public void Our_own_id_is_never_added()
    {
        var table = new RoutingTable(Self, _time);
        Assert.Equal(AddOutcome.Rejected, table.Add(Self, Local(1), true));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Node_states_follow_bep5()
    {
        var table = new RoutingTable(Self, _time);
        var id = InBucket(3);
        table.Add(id, Local(1), true);
        var node = table.Find(id)!;
        Assert.Equal(DhtNodeState.Good, node.GetState(_time.GetUtcNow()));
        _time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(DhtNodeState.Questionable, node.GetState(_time.GetUtcNow()));
        table.MarkQueried(id, Local(1)); // answered once, queried us lately: good
        Assert.Equal(DhtNodeState.Good, node.GetState(_time.GetUtcNow()));
        table.MarkFailed(id, Local(1));
        Assert.Equal(DhtNodeState.Questionable, node.GetState(_time.GetUtcNow()));
        table.MarkFailed(id, Local(1));
        Assert.Equal(DhtNodeState.Bad, node.GetState(_time.GetUtcNow()));
        Assert.Empty(table.Closest(id, 8));
        table.Add(id, Local(1), true); // answers again
        Assert.Equal(DhtNodeState.Good, node.GetState(_time.GetUtcNow()));
    }

    [Fact]
    public void A_bad_node_gives_its_place_to_the_freshest_replacement()
    {
        var table = new RoutingTable(Self, _time, maxBuckets: 1);
        var ids = Enumerable.Range(0, 8).Select(_ => InBucket(0)).ToList();
        for (int i = 0; i < 8; i++) table.Add(ids[i], Local(i), true);
        var waiting = InBucket(0);
        Assert.Equal(AddOutcome.Cached, table.Add(waiting, Local(50), true));
        table.MarkFailed(ids[2], Local(2));
        Assert.NotNull(table.Find(ids[2]));
        table.MarkFailed(ids[2], Local(2));
        Assert.Null(table.Find(ids[2]));
        Assert.NotNull(table.Find(waiting));
        Assert.Equal(8, table.Count);
        Assert.Equal(0, table.ReplacementCount);
    }

    [Fact]
    public void A_full_bucket_of_quiet_nodes_asks_for_pings_before_eviction()
    {
        var table = new RoutingTable(Self, _time, maxBuckets: 1);
        for (int i = 0; i < 8; i++) table.Add(InBucket(0), Local(i), true);
        var newcomer = InBucket(0);
        Assert.Empty(table.NodesToPing(newcomer, 2)); // all good: nothing to check
        _time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(AddOutcome.Cached, table.Add(newcomer, Local(99), true));
        var toPing = table.NodesToPing(newcomer, 2);
        Assert.Equal(2, toPing.Count);
        Assert.Empty(table.NodesToPing(newcomer, 8).Intersect(toPing)); // not the same ones again right away
        // The pinged nodes do not answer: they turn bad and the newcomer takes a place.
        foreach (var n in toPing)
        {
            table.MarkFailed(n.Id, n.EndPoint);
            table.MarkFailed(n.Id, n.EndPoint);
        }
        Assert.NotNull(table.Find(newcomer));
    }

    [Fact]
    public void Bad_node_is_replaced_directly_by_a_new_one()
    {
        var table = new RoutingTable(Self, _time, maxBuckets: 1);
        var ids = Enumerable.Range(0, 8).Select(_ => InBucket(0)).ToList();
        for (int i = 0; i < 8; i++) table.Add(ids[i], Local(i), true);
        table.MarkFailed(ids[0], Local(0));
        table.MarkFailed(ids[0], Local(0));
        var newcomer = InBucket(0);
        Assert.Equal(AddOutcome.Added, table.Add(newcomer, Local(77), true));
        Assert.Null(table.Find(ids[0]));
    }

    [Fact]
    public void Verified_nodes_push_out_unverified_ones_when_preferred()
    {
        var table = new RoutingTable(Self, _time, maxBuckets: 1, preferVerified: true);
        for (int i = 0; i < 8; i++) table.Add(InBucket(0), Public(i), verified: i != 3);
        Assert.Equal(AddOutcome.Added, table.Add(InBucket(0), Public(100), verified: true));
        Assert.All(table.AllNodes, n => Assert.True(n.Verified));
        Assert.Equal(AddOutcome.Cached, table.Add(InBucket(0), Public(101), verified: true));
    }

    [Fact]
    public void One_node_per_public_ip_but_local_addresses_are_shared()
    {
        var table = new RoutingTable(Self, _time);
        var ip = IPAddress.Parse("8.8.4.4");
        Assert.Equal(AddOutcome.Added, table.Add(InBucket(2), new IPEndPoint(ip, 1000), true));
        Assert.Equal(AddOutcome.Rejected, table.Add(InBucket(3), new IPEndPoint(ip, 1001), true));
        Assert.Equal(AddOutcome.Added, table.Add(InBucket(2), Local(1), true));
        Assert.Equal(AddOutcome.Added, table.Add(InBucket(3), Local(2), true));
        var open = new RoutingTable(Self, _time, restrictPublicIps: false);
        Assert.Equal(AddOutcome.Added, open.Add(InBucket(2), new IPEndPoint(ip, 1000), true));
        Assert.Equal(AddOutcome.Added, open.Add(InBucket(3), new IPEndPoint(ip, 1001), true));
    }

    [Fact]
    public void A_good_node_keeps_its_address_when_its_id_shows_up_elsewhere()
    {
        var table = new RoutingTable(Self, _time);
        var id = InBucket(4);
        table.Add(id, Local(1), true);
        Assert.Equal(AddOutcome.Rejected, table.Add(id, Local(2), true));
        Assert.Equal(Local(1), table.Find(id)!.EndPoint);
        _time.Advance(TimeSpan.FromMinutes(30)); // quiet now: a new address is believed
        Assert.Equal(AddOutcome.Updated, table.Add(id, Local(2), true));
        Assert.Equal(Local(2), table.Find(id)!.EndPoint);
    }

    [Fact]
    public void Closest_sorts_by_xor_distance()
    {
        var table = new RoutingTable(Self, _time);
        var ids = Enumerable.Range(0, 60).Select(i => NodeId.Random()).ToList();
        for (int i = 0; i < ids.Count; i++) table.Add(ids[i], Local(i), true);
        var target = NodeId.Random();
        var closest = table.Closest(target, 8);
        Assert.Equal(8, closest.Count);
        for (int i = 1; i < closest.Count; i++) Assert.True(NodeId.CompareDistance(target, closest[i - 1].Id, closest[i].Id) < 0);
        var inTable = table.AllNodes.Select(n => n.Id).ToList();
        var expected = inTable.OrderBy(id => id ^ target).Take(8);
        Assert.Equal(expected, closest.Select(n => n.Id));
    }

    [Fact]
    public void Untouched_buckets_come_up_for_refresh()
    {
        var table = new RoutingTable(Self, _time);
        for (int i = 0; i < 30; i++) table.Add(NodeId.Random(), Local(i), true);
        Assert.Empty(table.StaleBuckets(TimeSpan.FromMinutes(15)));
        _time.Advance(TimeSpan.FromMinutes(15));
        var stale = table.StaleBuckets(TimeSpan.FromMinutes(15));
        Assert.Equal(table.Buckets.Count, stale.Count);
        var target = table.RandomIdInBucket(stale[0]);
        Assert.Equal(stale[0], table.BucketIndexOf(target));
        table.MarkRefreshed(stale[0]);
        Assert.DoesNotContain(stale[0], table.StaleBuckets(TimeSpan.FromMinutes(15)));
    }

    [Fact]
    public void Memory_stays_bounded_under_a_stream_of_new_nodes()
    {
        var table = new RoutingTable(Self, _time);
        for (int i = 0; i < 100_000; i++) table.Add(NodeId.Random(), Public(i), true);
        Assert.True(table.Buckets.Count <= 160);
        Assert.True(table.Count <= table.Buckets.Count * 8);
        Assert.True(table.ReplacementCount <= table.Buckets.Count * 8);
        Assert.InRange(table.Count, 8 * 10, 160 * 8);
    }
}
