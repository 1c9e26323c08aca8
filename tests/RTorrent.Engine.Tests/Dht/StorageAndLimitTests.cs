using System.Net;
using RTorrent.Engine.Dht;

namespace RTorrent.Engine.Tests.Dht;

public class TokenManagerTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Token_is_bound_to_the_requesters_ip_not_port()
    {
        var tokens = new TokenManager(_time);
        var a = IPAddress.Parse("1.2.3.4");
        var token = tokens.Create(a);
        Assert.True(tokens.Validate(token, a));
        Assert.False(tokens.Validate(token, IPAddress.Parse("1.2.3.5")));
        Assert.False(tokens.Validate(token.AsSpan(1), a));
        Assert.False(tokens.Validate([], a));
    }

    [Fact]
    public void Secret_rotates_every_five_minutes_and_the_previous_one_is_accepted()
    {
        var tokens = new TokenManager(_time);
        var ip = IPAddress.Parse("1.2.3.4");
        var token = tokens.Create(ip);
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.True(tokens.Validate(token, ip));
        _time.Advance(TimeSpan.FromMinutes(2)); // rotated once: previous secret
        Assert.True(tokens.Validate(token, ip));
        Assert.NotEqual(token, tokens.Create(ip));
        _time.Advance(TimeSpan.FromMinutes(5)); // rotated twice: gone
        Assert.False(tokens.Validate(token, ip));
    }

    [Fact]
    public void A_long_silence_invalidates_every_old_token()
    {
        var tokens = new TokenManager(_time);
        var ip = IPAddress.Parse("1.2.3.4");
        var token = tokens.Create(ip);
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.False(tokens.Validate(token, ip));
    }
}

public class PeerStoreTests
{
    private readonly ManualTimeProvider _time = new();
    private static IPEndPoint Peer(int i) => new(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 6881);

    [Fact]
    public void Peers_expire_unless_renewed()
    {
        var store = new PeerStore(_time, 10, 10, TimeSpan.FromMinutes(30));
        var hash = NodeId.Random();
        store.Add(hash, Peer(1));
        store.Add(hash, Peer(2));
        _time.Advance(TimeSpan.FromMinutes(20));
        store.Add(hash, Peer(2)); // renewed
        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal([Peer(2)], store.Get(hash, 100));
        store.RemoveExpired();
        Assert.Equal(1, store.PeerCount);
        _time.Advance(TimeSpan.FromMinutes(30));
        store.RemoveExpired();
        Assert.Equal(0, store.PeerCount);
        Assert.Equal(0, store.InfoHashCount);
    }

    [Fact]
    public void Per_hash_and_total_limits_hold()
    {
        var store = new PeerStore(_time, maxInfoHashes: 50, maxPeersPerInfoHash: 20, TimeSpan.FromMinutes(30));
        var big = NodeId.Random();
        for (int i = 0; i < 1000; i++)
        {
            store.Add(big, Peer(i));
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(20, store.Get(big, 1000).Count);
        Assert.Contains(Peer(999), store.Get(big, 1000)); // the newest stay, the oldest went
        Assert.DoesNotContain(Peer(0), store.Get(big, 1000));
        for (int i = 0; i < 10_000; i++) store.Add(NodeId.Random(), Peer(i));
        Assert.True(store.InfoHashCount <= 50);
        Assert.True(store.PeerCount <= 50 * 20);
        Assert.Equal(20, store.Get(big, 1000).Count); // the big swarm survives: small ones are evicted first
    }

    [Fact]
    public void Get_returns_a_random_sample_when_there_are_more_than_asked()
    {
        var store = new PeerStore(_time, 10, 500, TimeSpan.FromMinutes(30));
        var hash = NodeId.Random();
        for (int i = 0; i < 300; i++) store.Add(hash, Peer(i));
        var a = store.Get(hash, 100);
        Assert.Equal(100, a.Count);
        Assert.Equal(100, a.Distinct().Count());
        var seen = new HashSet<IPEndPoint>();
        for (int i = 0; i < 20; i++) seen.UnionWith(store.Get(hash, 100));
        Assert.True(seen.Count > 200);
    }
}

public class RateLimitTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Token_bucket_refills_at_its_rate()
    {
        var bucket = new TokenBucket(_time, rate: 5, burst: 10);
        int taken = 0;
        while (bucket.TryTake()) taken++;
        Assert.Equal(10, taken);
        Assert.Equal(TimeSpan.FromSeconds(0.2), bucket.TimeUntil());
        _time.Advance(TimeSpan.FromSeconds(1));
        taken = 0;
        while (bucket.TryTake()) taken++;
        Assert.Equal(5, taken);
    }

    [Fact]
    public void Sources_are_limited_separately_by_ip_and_the_set_is_bounded()
    {
        var limiter = new SourceRateLimiter(_time, 1, 3, capacity: 100);
        var a1 = DhtTestData.Ep("1.1.1.1:1000");
        var a2 = DhtTestData.Ep("1.1.1.1:2000");
        var b = DhtTestData.Ep("2.2.2.2:1000");
        Assert.True(limiter.TryAcquire(a1));
        Assert.True(limiter.TryAcquire(a2));
        Assert.True(limiter.TryAcquire(a1));
        Assert.False(limiter.TryAcquire(a2)); // same IP, other port: same bucket
        Assert.True(limiter.TryAcquire(b));
        for (int i = 0; i < 10_000; i++) limiter.TryAcquire(new IPEndPoint(new IPAddress([30, (byte)(i >> 8), (byte)i, 1]), 1));
        Assert.Equal(100, limiter.Count);
    }

    [Fact]
    public void Local_sources_are_limited_per_endpoint()
    {
        var limiter = new SourceRateLimiter(_time, 1, 1, capacity: 100);
        Assert.True(limiter.TryAcquire(DhtTestData.Ep("127.0.0.1:1000")));
        Assert.False(limiter.TryAcquire(DhtTestData.Ep("127.0.0.1:1000")));
        Assert.True(limiter.TryAcquire(DhtTestData.Ep("127.0.0.1:1001")));
    }
}

public class ExternalAddressVoterTests
{
    [Fact]
    public void Needs_enough_distinct_voters()
    {
        var voter = new ExternalAddressVoter(3, null);
        var me = IPAddress.Parse("203.0.113.9");
        Assert.False(voter.Vote(DhtTestData.Ep("1.1.1.1:1"), me));
        Assert.False(voter.Vote(DhtTestData.Ep("1.1.1.1:2"), me)); // same voter IP again
        Assert.False(voter.Vote(DhtTestData.Ep("2.2.2.2:1"), me));
        Assert.Null(voter.Current);
        Assert.True(voter.Vote(DhtTestData.Ep("3.3.3.3:1"), me));
        Assert.Equal(me, voter.Current);
    }

    [Fact]
    public void A_minority_of_liars_does_not_move_it_and_a_change_of_address_does()
    {
        var voter = new ExternalAddressVoter(2, null);
        var me = IPAddress.Parse("203.0.113.9");
        var lie = IPAddress.Parse("198.51.100.1");
        for (int i = 0; i < 10; i++) voter.Vote(new IPEndPoint(new IPAddress([40, 0, 0, (byte)i]), 1), me);
        for (int i = 0; i < 3; i++) voter.Vote(new IPEndPoint(new IPAddress([50, 0, 0, (byte)i]), 1), lie);
        Assert.Equal(me, voter.Current);
        var moved = IPAddress.Parse("203.0.113.10");
        for (int i = 0; i < ExternalAddressVoter.Window; i++) voter.Vote(new IPEndPoint(new IPAddress([60, 0, (byte)(i >> 8), (byte)i]), 1), moved);
        Assert.Equal(moved, voter.Current);
    }
}

public class DhtStateFileTests
{
    [Fact]
    public async Task State_round_trips_and_is_written_atomically()
    {
        var dir = RTorrent.Testing.TestPaths.NewTempDir("rt-dht");
        try
        {
            var path = Path.Combine(dir, "dht.dat");
            var state = new DhtState(NodeId.Random(), IPAddress.Parse("203.0.113.4"),
            [
                new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("1.2.3.4:5")),
                new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("[2001:db8::1]:6")),
            ]);
            await DhtStateFile.SaveAsync(path, state);
            Assert.False(File.Exists(path + ".tmp"));
            var loaded = (await DhtStateFile.LoadAsync(path))!;
            Assert.Equal(state.NodeId, loaded.NodeId);
            Assert.Equal(state.ExternalAddress, loaded.ExternalAddress);
            Assert.Equal(state.Nodes, loaded.Nodes);
            Assert.Null(await DhtStateFile.LoadAsync(Path.Combine(dir, "none.dat")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("de")]
    [InlineData("d2:id3:abce")]
    [InlineData("d2:id20:abcdefghij01234567895:nodes5:xxxxxe")]
    [InlineData("d2:id20:abcdefghij01234567892:ip3:abce")]
    public void Damaged_state_is_refused_with_a_format_error(string text) =>
        Assert.ThrowsAny<FormatException>(() => DhtStateFile.Decode(System.Text.Encoding.ASCII.GetBytes(text)));
}
