using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

/// <summary>
/// <see cref="TrackerPeerSource.ReplaceTrackersAsync"/>: removed trackers hear "stopped", new ones "started" when
/// used, kept ones keep their state and schedule.
/// </summary>
public class TrackerReplacementTests
{
    private static readonly InfoHash Hash = InfoHash.FromHex("2222222222222222222222222222222222222222");
    private static readonly byte[] PeerId = "-RT0100-000000000001"u8.ToArray();

    private static readonly TrackerPeerSourceOptions Fast = new()
    {
        AnnounceTimeout = TimeSpan.FromSeconds(5),
        StopTimeout = TimeSpan.FromSeconds(3),
        FirstScrapeDelay = TimeSpan.FromDays(1),
    };

    private static TrackerPeerSource Create(IReadOnlyList<IReadOnlyList<string>> tiers, TrackerPeerSourceOptions? options = null, TimeProvider? time = null)
    {
        var context = new PeerSourceContext(Hash.ToArray(), PeerId, isPrivate: false, tiers, 6881, new RecordingPeerSink(),
            () => new TransferTotals(0, 0, 100));
        var scheduler = new AnnounceScheduler(new AnnounceSchedulerOptions { BurstSize = 1000 }, time);
        return new TrackerPeerSource(context, options ?? Fast, clients: null, scheduler, time, logger: null, new UnshuffledRandom());
    }

    private static FakeHttpResponse Answer(int interval = 1800, int? minInterval = null)
    {
        var d = new BDictionary { ["interval"] = new BInteger(interval), ["peers"] = new BString(ReadOnlyMemory<byte>.Empty) };
        if (minInterval is { } m) d["min interval"] = new BInteger(m);
        return FakeHttpResponse.Bencoded(d);
    }

    private static int Announces(FakeHttpTracker t, string? ev) => t.Requests.Count(r => r.Path == "/announce" && r.Text("event") == ev);

    private static PeerSourceStatus Status(TrackerPeerSource s, string url) => s.GetStatus().Single(x => x.Endpoint == url);

    [Fact]
    public async Task Replacing_the_tracker_in_use_stops_it_and_starts_the_new_one()
    {
        await using var a = new FakeHttpTracker(_ => Answer());
        await using var b = new FakeHttpTracker(_ => Answer());
        await using var source = Create([[a.AnnounceUrl]]);
        await source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Status(source, a.AnnounceUrl).State == "working", "started to A");

        await source.ReplaceTrackersAsync([[b.AnnounceUrl]]);
        Assert.Equal(1, Announces(a, "stopped")); // told before the call returns
        Assert.DoesNotContain(source.GetStatus(), s => s.Endpoint == a.AnnounceUrl);
        await TestWait.UntilAsync(() => Announces(b, "started") == 1 && Status(source, b.AnnounceUrl).State == "working", "started to B");

        await source.StopAsync(CancellationToken.None);
        Assert.Equal(1, Announces(b, "stopped"));
        Assert.Equal(1, Announces(a, "stopped"));
    }

    [Fact]
    public async Task A_kept_tracker_keeps_its_state_and_schedule_and_a_backup_waits_its_turn()
    {
        var time = new ManualTimeProvider();
        await using var a = new FakeHttpTracker(_ => Answer(interval: 1800));
        await using var b = new FakeHttpTracker(_ => Answer());
        await using var source = Create([[a.AnnounceUrl]], time: time);
        await source.StartAsync(CancellationToken.None);
        var next = time.GetUtcNow().AddSeconds(1800);
        await TestWait.UntilAsync(() => Status(source, a.AnnounceUrl).NextContact == next, "started to A and scheduled");

        await source.ReplaceTrackersAsync([[a.AnnounceUrl], [b.AnnounceUrl]]);
        var kept = Status(source, a.AnnounceUrl);
        Assert.Equal("working", kept.State);
        Assert.Equal(next, kept.NextContact); // not announced again
        var backup = Status(source, b.AnnounceUrl);
        Assert.Equal((1, "not contacted", (DateTimeOffset?)null), (backup.Tier, backup.State, backup.NextContact));

        // When the next regular announce is due it is a plain one to A (no second "started"), and A still lists us.
        time.Advance(TimeSpan.FromSeconds(1800));
        await TestWait.UntilAsync(() => a.Requests.Count(r => r.Path == "/announce") == 2, "regular announce");
        Assert.Null(a.Requests[^1].Text("event"));
        Assert.Equal(0, b.RequestCount);
        await source.StopAsync(CancellationToken.None);
        Assert.Equal(1, Announces(a, "stopped"));
        Assert.Equal(0, b.RequestCount);
    }

    [Fact]
    public async Task A_new_tracker_ahead_of_the_one_in_use_is_announced_to_at_once()
    {
        await using var a = new FakeHttpTracker(_ => Answer());
        await using var b = new FakeHttpTracker(_ => Answer());
        await using var source = Create([[a.AnnounceUrl]]);
        await source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Status(source, a.AnnounceUrl).State == "working", "started to A");
        await source.ReplaceTrackersAsync([[b.AnnounceUrl], [a.AnnounceUrl]]);
        await TestWait.UntilAsync(() => Announces(b, "started") == 1 && Status(source, b.AnnounceUrl).State == "working", "started to B");
        Assert.Equal(1, Announces(a, "started"));
        Assert.Equal(0, Announces(a, "stopped")); // still listed: it is a backup now
    }

    [Fact]
    public async Task With_every_tier_announced_a_new_tier_starts_at_once_and_the_old_one_is_left_alone()
    {
        await using var a = new FakeHttpTracker(_ => Answer());
        await using var b = new FakeHttpTracker(_ => Answer());
        await using var source = Create([[a.AnnounceUrl]], Fast with { AnnounceToAllTiers = true });
        await source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Status(source, a.AnnounceUrl) is { State: "working", NextContact: not null }, "started to A and scheduled");
        var next = Status(source, a.AnnounceUrl).NextContact;
        await source.ReplaceTrackersAsync([[a.AnnounceUrl], [b.AnnounceUrl]]);
        await TestWait.UntilAsync(() => Status(source, b.AnnounceUrl).State == "working", "started to B");
        Assert.Equal(1, Announces(b, "started"));
        Assert.Equal(1, a.RequestCount);
        Assert.Equal(next, Status(source, a.AnnounceUrl).NextContact);
    }

    [Fact]
    public async Task A_stopped_source_takes_the_new_list_quietly_and_uses_it_when_started()
    {
        await using var a = new FakeHttpTracker(_ => Answer());
        await using var b = new FakeHttpTracker(_ => Answer());
        await using var source = Create([[a.AnnounceUrl]]);
        await source.ReplaceTrackersAsync([[b.AnnounceUrl]]);
        Assert.Equal(0, a.RequestCount + b.RequestCount);
        await source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Announces(b, "started") == 1, "started to B");
        Assert.Equal(0, a.RequestCount);
    }
}
