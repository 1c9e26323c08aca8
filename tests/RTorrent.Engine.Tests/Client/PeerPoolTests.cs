using System.Net;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>The known peers of a torrent: what is accepted, who is worth a connection attempt, how failures back off.</summary>
public class PeerPoolTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static IPEndPoint Ep(string address, int port) => new(IPAddress.Parse(address), port);

    [Fact]
    public void Unusable_endpoints_are_refused_and_each_endpoint_is_kept_once()
    {
        var pool = new PeerPool(_ => false);
        Assert.Null(pool.Add(Ep("198.51.100.1", 0), "tracker"));
        Assert.Null(pool.Add(new IPEndPoint(IPAddress.Any, 6881), "tracker"));
        Assert.Null(pool.Add(new IPEndPoint(IPAddress.IPv6Any, 6881), "tracker"));

        var first = pool.Add(Ep("198.51.100.1", 6881), "tracker");
        Assert.NotNull(first);
        Assert.Same(first, pool.Add(Ep("198.51.100.1", 6881), "pex")); // known: the same entry, its source kept
        Assert.Equal("tracker", first!.Source);
        // An IPv4-mapped IPv6 address is the IPv4 peer.
        Assert.Same(first, pool.Add(Ep("::ffff:198.51.100.1", 6881), "dht"));
        Assert.Same(first, pool.Get(Ep("::ffff:198.51.100.1", 6881)));
        // Same address, other port: another peer (NAT, loopback swarms).
        Assert.NotSame(first, pool.Add(Ep("198.51.100.1", 6882), "tracker"));
        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public void The_pool_stops_growing_at_its_capacity()
    {
        var pool = new PeerPool(_ => false);
        for (int i = 0; i < PeerPool.Capacity + 10; i++) pool.Add(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1000 + i), "pex");
        Assert.Equal(PeerPool.Capacity, pool.Count);
        Assert.NotNull(pool.Add(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1000), "pex")); // known ones are still found
    }

    [Fact]
    public void Candidates_leave_out_peers_connected_connecting_banned_ourselves_and_seeds_when_we_seed()
    {
        var self = Ep("192.0.2.1", 6881);
        var pool = new PeerPool(ep => ep.Equals(self));
        pool.Add(self, "tracker");
        pool.Add(Ep("192.0.2.2", 1), "tracker")!.Connected = true;
        pool.Add(Ep("192.0.2.3", 1), "tracker")!.Connecting = true;
        pool.Add(Ep("192.0.2.4", 1), "tracker")!.Banned = true;
        pool.Add(Ep("192.0.2.5", 1), "tracker")!.IsSeed = true;
        var free = pool.Add(Ep("192.0.2.6", 1), "tracker")!;

        Assert.Equal([pool.Get(Ep("192.0.2.5", 1))!, free], pool.Candidates(Now, 10, skipSeeds: false, out _).OrderBy(k => k.EndPoint.ToString()));
        Assert.Equal([free], pool.Candidates(Now, 10, skipSeeds: true, out var next));
        Assert.Null(next);
    }

    [Fact]
    public void Failures_back_off_doubling_from_5_seconds_to_half_an_hour_and_say_when_the_next_one_is_due()
    {
        var pool = new PeerPool(_ => false);
        var k = pool.Add(Ep("192.0.2.9", 1), "tracker")!;
        var delays = new List<TimeSpan>();
        for (int i = 0; i < 12; i++)
        {
            PeerPool.Failed(k, Now);
            delays.Add(k.NextAttempt - Now);
        }
        Assert.Equal([5, 10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800, 1800], delays.Select(d => d.TotalSeconds));

        var other = pool.Add(Ep("192.0.2.10", 1), "tracker")!;
        PeerPool.Failed(other, Now);
        Assert.Empty(pool.Candidates(Now, 10, skipSeeds: false, out var next));
        Assert.Equal(Now + TimeSpan.FromSeconds(5), next); // the earliest of the two
        Assert.Equal([other], pool.Candidates(Now + TimeSpan.FromSeconds(5), 10, skipSeeds: false, out _));
    }

    [Fact]
    public void When_there_are_more_candidates_than_room_those_that_failed_least_come_first()
    {
        var pool = new PeerPool(_ => false);
        var past = Now - TimeSpan.FromHours(2);
        for (int i = 0; i < 20; i++)
        {
            var k = pool.Add(Ep("192.0.2.20", 100 + i), "tracker")!;
            for (int f = 0; f < i % 4; f++) PeerPool.Failed(k, past); // all due again by now
        }
        var picked = pool.Candidates(Now, 5, skipSeeds: false, out _);
        Assert.Equal(5, picked.Count);
        Assert.All(picked, k => Assert.Equal(0, k.Failures));
    }
}

/// <summary>Banning in the pool: which endpoints a cheater loses, by where it connects from.</summary>
public class PeerPoolBanTests
{
    private static IPEndPoint Ep(string address, int port) => new(IPAddress.Parse(address), port);

    [Fact]
    public void On_the_internet_every_endpoint_of_the_cheaters_address_is_banned()
    {
        var pool = new PeerPool(_ => false);
        var sibling = pool.Add(Ep("198.51.100.4", 7000), "tracker")!;
        var neighbour = pool.Add(Ep("198.51.100.5", 7000), "tracker")!;

        pool.Ban(Ep("198.51.100.4", 50123), Ep("198.51.100.4", 6881), "incoming");

        Assert.True(pool.IsBanned(Ep("198.51.100.4", 50123)));
        Assert.True(pool.IsBanned(Ep("198.51.100.4", 6881))); // where it listens: no redial
        Assert.True(sibling.Banned);
        Assert.False(neighbour.Banned);
        Assert.DoesNotContain(pool.Candidates(DateTimeOffset.UtcNow, 10, skipSeeds: false, out _), k => k.EndPoint.Address.Equals(sibling.EndPoint.Address));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.9")]
    [InlineData("192.168.1.20")]
    [InlineData("169.254.3.3")]
    [InlineData("fd00::5")]
    public void On_a_local_network_only_the_cheaters_own_endpoints_are_banned(string address)
    {
        var pool = new PeerPool(_ => false);
        var honest = pool.Add(Ep(address, 7000), "lsd")!;
        pool.Ban(Ep(address, 50123), Ep(address, 50123), "lsd");
        Assert.True(pool.IsBanned(Ep(address, 50123)));
        Assert.False(honest.Banned);
        Assert.False(pool.IsBanned(Ep(address, 7000)));
    }
}
