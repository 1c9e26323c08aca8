using RTorrent.Engine.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Tit-for-tat on its own: who keeps a slot, who gets the optimistic one, and for how long.</summary>
public class ChokeSchedulerTests
{
    private readonly ManualTimeProvider _time = new();

    /// <summary>A peer that gave us (or took from us) <paramref name="rate"/> bytes in the last second.</summary>
    private Peer PeerWith(long downloadRate = 0, long uploadRate = 0, bool interested = true, bool unchoked = false)
    {
        var p = TestPeers.Create(_time);
        p.PeerInterested = interested;
        p.AmChoking = !unchoked;
        if (downloadRate > 0) p.Download.Add(downloadRate);
        if (uploadRate > 0) p.Upload.Add(uploadRate);
        return p;
    }

    private (List<Peer> Unchoke, List<Peer> Choke) Rechoke(IReadOnlyList<Peer> peers, int slots, bool seeding, int seed = 1)
    {
        var unchoke = new List<Peer>();
        var choke = new List<Peer>();
        ChokeScheduler.Rechoke(peers, slots, seeding, _time.GetUtcNow(), unchoke, choke, new Random(seed));
        return (unchoke, choke);
    }

    [Fact]
    public void While_downloading_the_peers_that_give_us_most_keep_their_slots_and_one_more_is_optimistic()
    {
        var fast = PeerWith(downloadRate: 900);
        var medium = PeerWith(downloadRate: 500, unchoked: true);
        var slow = PeerWith(downloadRate: 100);
        var idle1 = PeerWith(unchoked: true);
        var idle2 = PeerWith();
        var uninterested = PeerWith(downloadRate: 5000, interested: false, unchoked: true);
        _time.Advance(TimeSpan.FromSeconds(1)); // the rates are those of the second just ended
        var peers = new[] { idle1, slow, uninterested, medium, idle2, fast };

        var (unchoke, choke) = Rechoke(peers, slots: 4, seeding: false);

        // Three regular slots by rate, the fourth to one of the others, at random.
        var kept = peers.Where(p => unchoke.Contains(p) || (!p.AmChoking && !choke.Contains(p))).ToList();
        Assert.Equal(4, kept.Count);
        Assert.Contains(fast, kept);
        Assert.Contains(medium, kept);
        Assert.Contains(slow, kept);
        var optimistic = Assert.Single(kept, p => p.OptimisticSince is not null);
        Assert.Contains(optimistic, new[] { idle1, idle2 });
        // Someone who wants nothing from us is choked whatever it gives.
        Assert.Contains(uninterested, choke);
        Assert.DoesNotContain(medium, unchoke); // already unchoked: no message
    }

    [Fact]
    public void While_seeding_the_peers_that_take_most_keep_their_slots()
    {
        var taker = PeerWith(uploadRate: 900);
        var giver = PeerWith(downloadRate: 900);
        var small = PeerWith(uploadRate: 10);
        _time.Advance(TimeSpan.FromSeconds(1));

        var (unchoke, _) = Rechoke([giver, small, taker], slots: 2, seeding: true);

        // One regular slot: the best uploader; the optimistic one goes to one of the other two.
        Assert.Equal(2, unchoke.Count);
        Assert.Contains(taker, unchoke);
        Assert.Null(taker.OptimisticSince);
    }

    [Fact]
    public void Equal_rates_go_to_the_peer_that_has_waited_longest()
    {
        var recent = PeerWith();
        var waiting = PeerWith();
        var now = _time.GetUtcNow();
        recent.LastUnchoked = now - TimeSpan.FromSeconds(5);
        waiting.LastUnchoked = now - TimeSpan.FromMinutes(5);
        var third = PeerWith();
        third.LastUnchoked = now;

        // Two slots: one regular (the longest waiting), one optimistic among the rest.
        var (unchoke, _) = Rechoke([recent, third, waiting], slots: 2, seeding: false);
        var regular = Assert.Single(unchoke, p => p.OptimisticSince is null);
        Assert.Same(waiting, regular);
    }

    [Fact]
    public void The_optimistic_peer_keeps_its_slot_for_30_seconds_then_a_new_one_is_drawn()
    {
        var peers = Enumerable.Range(0, 6).Select(_ => PeerWith()).ToArray();
        // No rates: the regular slot goes by how long each has waited, the same peer every time.
        for (int i = 0; i < peers.Length; i++) peers[i].LastUnchoked = _time.GetUtcNow() - TimeSpan.FromMinutes(10 - i);
        var (first, _) = Rechoke(peers, slots: 2, seeding: false);
        foreach (var p in first) p.AmChoking = false;
        var optimistic = Assert.Single(peers, p => p.OptimisticSince is not null);
        var since = optimistic.OptimisticSince;

        _time.Advance(TimeSpan.FromSeconds(20));
        var (unchoke, choke) = Rechoke(peers, slots: 2, seeding: false, seed: 99);
        Assert.Empty(unchoke);
        Assert.Empty(choke);
        Assert.Equal(since, optimistic.OptimisticSince);

        _time.Advance(TimeSpan.FromSeconds(11)); // 31 s after it was drawn
        Rechoke(peers, slots: 2, seeding: false, seed: 99);
        var drawn = Assert.Single(peers, p => p.OptimisticSince is not null);
        Assert.Equal(_time.GetUtcNow(), drawn.OptimisticSince);
    }

    [Fact]
    public void Closed_and_uninterested_peers_get_no_slot_and_one_slot_still_allows_an_optimistic_peer()
    {
        var closed = PeerWith(downloadRate: 1000);
        closed.Wire().Close("gone");
        var bored = PeerWith(downloadRate: 1000, interested: false);
        var a = PeerWith(downloadRate: 10);
        var b = PeerWith();
        _time.Advance(TimeSpan.FromSeconds(1));

        var (unchoke, _) = Rechoke([closed, bored, a, b], slots: 1, seeding: false);

        Assert.Equal([a, b], unchoke.OrderBy(p => p == a ? 0 : 1));
        Assert.Null(a.OptimisticSince);
        Assert.NotNull(b.OptimisticSince);
    }
}
