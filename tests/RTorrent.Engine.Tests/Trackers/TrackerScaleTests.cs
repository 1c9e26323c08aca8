using System.Net.Sockets;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

/// <summary>
/// Many torrents on one tracker, as a seedbox has them (issue 13): what the tracker sees at start, when it fails for
/// all of them, when they scrape, and at quit. Fake trackers on loopback; times on a manual clock where they matter.
/// </summary>
public class TrackerScaleTests
{
    private static readonly byte[] PeerId = "-RT0100-000000000000"u8.ToArray();

    private static InfoHash HashOf(int i)
    {
        var bytes = new byte[20];
        BitConverter.TryWriteBytes(bytes, i + 1);
        bytes[19] = 0x5a;
        return new InfoHash(bytes);
    }

    private static FakeHttpResponse Answer() => FakeHttpResponse.Bencoded(new BDictionary
    {
        ["interval"] = new BInteger(1800),
        ["peers"] = new BString(ReadOnlyMemory<byte>.Empty),
    });

    private sealed class Swarm : IAsyncDisposable
    {
        public required AnnounceScheduler Scheduler { get; init; }
        public required TrackerPeerSourceFactory Factory { get; init; }
        public required List<TrackerPeerSource> Sources { get; init; }

        public TrackerGate Gate(string url) => Scheduler.GateFor(new Uri(url));

        public int Count(string state) => Sources.Count(s => s.GetStatus()[0].State == state);

        public async ValueTask DisposeAsync()
        {
            await Task.WhenAll(Sources.Select(s => s.DisposeAsync().AsTask()));
            Factory.Dispose();
            Scheduler.Dispose();
        }
    }

    /// <summary>N torrents of one session (one client pool, one scheduler) announcing to <paramref name="url"/> as seeds.</summary>
    private static Swarm Create(int n, string url, TimeProvider? time = null, AnnounceSchedulerOptions? scheduling = null,
        TrackerPeerSourceOptions? options = null)
    {
        time ??= TimeProvider.System;
        var scheduler = new AnnounceScheduler(scheduling ?? AnnounceSchedulerOptions.Default, time);
        var factory = new TrackerPeerSourceFactory(options ?? new TrackerPeerSourceOptions { FirstScrapeDelay = TimeSpan.FromDays(1) },
            clients: null, scheduler, time);
        var sources = Enumerable.Range(0, n).Select(i => (TrackerPeerSource)factory.Create(new PeerSourceContext(HashOf(i).ToArray(), PeerId,
            isPrivate: false, [[url]], 6881, new RecordingPeerSink(), () => new TransferTotals(0, 0, 0)))).ToList();
        return new Swarm { Scheduler = scheduler, Factory = factory, Sources = sources };
    }

    private static int Announces(FakeHttpTracker t, string ev) => t.Requests.Count(r => r.Path == "/announce" && r.Text("event") == ev);

    [Fact]
    public async Task A_thousand_torrents_starting_together_announce_spread_over_a_minute_on_a_few_kept_alive_connections()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => Answer()) { KeepAlive = true, Clock = time };
        await using var swarm = Create(1000, tracker.AnnounceUrl, time);
        var gate = swarm.Gate(tracker.AnnounceUrl);
        var start = time.GetUtcNow();
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);

        // Everything the gate let through has been answered, and every other torrent waits at the gate.
        Task Settled() => TestWait.UntilAsync(() => tracker.RequestCount + gate.Waiting == 1000 && gate.InFlight == 0, "the gate and the tracker agree");
        await Settled();
        Assert.Equal(20, tracker.RequestCount); // the burst (its first request alone, probing the tracker), no more
        while (gate.Waiting > 0)
        {
            Assert.True(time.GetUtcNow() - start < TimeSpan.FromSeconds(70), "the backlog should be gone within the max spread");
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Settled();
        }
        await TestWait.UntilAsync(() => swarm.Count("working") == 1000, "all working");

        var seconds = tracker.Requests.Select(r => (r.At - start).TotalSeconds).ToList();
        Assert.Equal(1000, Announces(tracker, "started"));
        Assert.InRange(seconds.Count(s => s < 1), 20, 41);   // not a storm: the burst, then 20 a second
        Assert.InRange(seconds.Max(), 45, 61);                // spread out (980 at 20 a second: 49 s), within the max spread
        // Kept alive and shared, not one per torrent: at most 8 requests at once (below), and over the run a connection
        // may be replaced by the client's pool (a loaded CI machine once saw 9 in all): a few, not a thousand.
        Assert.InRange(tracker.ConnectionCount, 1, 24);
        Assert.InRange(tracker.MaxConcurrentRequests, 1, 8);
    }

    [Fact]
    public async Task At_quit_every_stopped_announce_is_sent_never_more_than_the_quit_limit_at_once()
    {
        await using var tracker = new FakeHttpTracker(_ => Answer()) { KeepAlive = true };
        // A budget and a stop timeout no test machine runs out of: this checks the limit and the count, not the time.
        await using var swarm = Create(1000, tracker.AnnounceUrl, scheduling: new AnnounceSchedulerOptions { BurstSize = 1000 },
            options: new TrackerPeerSourceOptions { StopTimeout = TimeSpan.FromMinutes(1), FirstScrapeDelay = TimeSpan.FromDays(1) });
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => swarm.Count("working") == 1000, "all announced");

        swarm.Scheduler.BeginQuit(TimeSpan.FromMinutes(1));
        await Task.WhenAll(swarm.Sources.Select(s => s.StopAsync(CancellationToken.None).AsTask())).WaitAsync(TestWait.Limit);

        Assert.Equal(1000, Announces(tracker, "stopped"));
        Assert.InRange(tracker.MaxConcurrentRequests, 1, AnnounceSchedulerOptions.Default.QuitInFlightPerTracker);
        Assert.InRange(tracker.ConnectionCount, 1, AnnounceSchedulerOptions.Default.QuitInFlightPerTracker);
        Assert.Equal((1000, 0, 0), swarm.Gate(tracker.AnnounceUrl).QuitCounts);
    }

    [Fact]
    public async Task At_quit_stopped_announces_not_answered_within_the_budget_are_given_up_and_counted()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(r => r.Text("event") == "stopped" ? new FakeHttpResponse { Hang = true } : Answer());
        await using var swarm = Create(100, tracker.AnnounceUrl, time, new AnnounceSchedulerOptions { BurstSize = 1000 });
        var gate = swarm.Gate(tracker.AnnounceUrl);
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => swarm.Count("working") == 100, "all announced");

        swarm.Scheduler.BeginQuit(TimeSpan.FromSeconds(2));
        var stops = Task.WhenAll(swarm.Sources.Select(s => s.StopAsync(CancellationToken.None).AsTask()));
        await TestWait.UntilAsync(() => Announces(tracker, "stopped") == 32 && gate.Waiting == 68, "32 in flight (the quit's limit), the rest waiting");
        time.Advance(TimeSpan.FromSeconds(2));
        await stops.WaitAsync(TestWait.Limit);

        Assert.Equal(32, Announces(tracker, "stopped")); // never more than the quit's limit at once, and nothing after the budget
        Assert.Equal((0, 0, 100), gate.QuitCounts);
        Assert.Equal(0, gate.InFlight);
        Assert.All(swarm.Sources, s => Assert.Contains("stopped announce", s.GetStatus()[0].Message));
    }

    [Fact]
    public async Task A_tracker_failing_for_all_its_torrents_is_retried_with_one_backoff_not_one_per_torrent()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Raw("down", 503, "Service Unavailable"));
        await using var swarm = Create(100, tracker.AnnounceUrl, time, new AnnounceSchedulerOptions { BurstSize = 1000 },
            new TrackerPeerSourceOptions { Jitter = 0, FirstScrapeDelay = TimeSpan.FromDays(1) });
        var start = time.GetUtcNow();
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);

        bool AllWaitUntil(DateTimeOffset at) => swarm.Sources.All(s => s.GetStatus()[0] is { State: "error" } row && row.NextContact == at);
        await TestWait.UntilAsync(() => AllWaitUntil(start.AddSeconds(15)), "every torrent waits for the tracker's backoff");
        Assert.Equal(1, tracker.RequestCount); // one probe for all of them
        Assert.All(swarm.Sources, s => Assert.Equal("The tracker answered HTTP 503 Service Unavailable.", s.GetStatus()[0].Message));

        time.Advance(TimeSpan.FromSeconds(15));
        await TestWait.UntilAsync(() => AllWaitUntil(start.AddSeconds(45)), "one more probe, one longer backoff");
        Assert.Equal(2, tracker.RequestCount);

        tracker.Handler = _ => Answer();
        time.Advance(TimeSpan.FromSeconds(30));
        await TestWait.UntilAsync(() => swarm.Count("working") == 100, "all announce once the probe is answered");
        Assert.Equal(102, tracker.RequestCount);
    }

    [Fact]
    public async Task A_tracker_that_closes_each_connection_without_saying_so_loses_no_announce()
    {
        // As opentracker does: HttpClient keeps the connection for the next request and finds it closed under it. On
        // a manual clock no backoff can end, so every torrent working means no announce failed.
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => Answer()) { ClosesSilently = true };
        await using var swarm = Create(300, tracker.AnnounceUrl, time, new AnnounceSchedulerOptions { BurstSize = 1000 });
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => swarm.Count("working") == 300, "all announced");
        Assert.Equal(300, tracker.RequestCount);
    }

    [Fact]
    public async Task A_refusal_of_one_torrent_does_not_hold_back_the_others()
    {
        var refused = HashOf(0).ToArray();
        await using var tracker = new FakeHttpTracker(r => r.Bytes("info_hash")!.AsSpan().SequenceEqual(refused)
            ? FakeHttpResponse.Raw("d14:failure reason14:not authorizede")
            : Answer());
        await using var swarm = Create(50, tracker.AnnounceUrl, scheduling: new AnnounceSchedulerOptions { BurstSize = 1000 });
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => swarm.Count("working") == 49 && swarm.Count("error") == 1, "49 working, 1 refused");
        Assert.Equal("not authorized", swarm.Sources[0].GetStatus()[0].Message);
        Assert.Null(swarm.Gate(tracker.AnnounceUrl).DownUntil);
    }

    [Fact]
    public async Task Udp_scrapes_of_many_torrents_share_packets_of_up_to_74_hashes_and_one_connection_id()
    {
        using var tracker = new FakeUdpTracker();
        using var firstScrapeHeld = new ManualResetEventSlim();
        tracker.Handler = p =>
        {
            if (p.IsScrape) firstScrapeHeld.Wait(TestWait.Limit); // until every torrent has asked
            return tracker.Standard(p);
        };
        await using var swarm = Create(200, tracker.AnnounceUrl, scheduling: new AnnounceSchedulerOptions { BurstSize = 1000 });
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => swarm.Count("working") == 200, "all announced");

        tracker.Seeders = 9;
        var client = swarm.Factory.Clients.GetClient(tracker.AnnounceUrl);
        var batcher = swarm.Scheduler.BatcherFor(client, swarm.Gate(tracker.AnnounceUrl));
        foreach (var s in swarm.Sources) s.ScrapeNow();
        int HashesIn(UdpPacket p) => (p.Bytes.Length - 16) / 20;
        await TestWait.UntilAsync(() => tracker.Received.FirstOrDefault(p => p.IsScrape) is { } first && HashesIn(first) + batcher.Pending == 200,
            "the first scrape sent and the other torrents waiting for the next");
        firstScrapeHeld.Set();
        await TestWait.UntilAsync(() => swarm.Sources.All(s => s.GetStatus()[0].Seeders == 9), "every torrent's counts scraped");

        var scrapes = tracker.Received.Where(p => p.IsScrape).Select(HashesIn).ToList();
        Assert.Equal(200, scrapes.Sum());
        Assert.Equal(UdpTrackerProtocol.MaxScrapeHashes, scrapes.Skip(1).First()); // a full packet: 74 (BEP 15)
        Assert.All(scrapes, n => Assert.InRange(n, 1, 74));
        Assert.InRange(scrapes.Count, 3, 5); // 200 torrents: a handful of packets, not 200
        Assert.Equal(1, tracker.Count(p => p.IsConnect)); // the announces and scrapes of all 200 shared one connection id
        Assert.Equal(200, tracker.Count(p => p.IsAnnounce)); // BEP 15 announces cannot be batched: one each
    }

    [Fact]
    public async Task Http_scrapes_of_many_torrents_go_as_one_request_with_many_info_hashes()
    {
        using var firstScrapeHeld = new ManualResetEventSlim();
        await using var tracker = new FakeHttpTracker(r =>
        {
            if (r.Path != "/scrape") return Answer();
            firstScrapeHeld.Wait(TestWait.Limit);
            return FakeHttpResponse.Raw("d5:filesdee");
        });
        await using var swarm = Create(100, tracker.AnnounceUrl, scheduling: new AnnounceSchedulerOptions { BurstSize = 1000 });
        foreach (var s in swarm.Sources) await s.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => swarm.Count("working") == 100, "all announced");
        var client = swarm.Factory.Clients.GetClient(tracker.AnnounceUrl);
        var batcher = swarm.Scheduler.BatcherFor(client, swarm.Gate(tracker.AnnounceUrl));
        foreach (var s in swarm.Sources) s.ScrapeNow();
        int HashesIn(FakeHttpRequest r) => r.All("info_hash").Count();
        await TestWait.UntilAsync(() => tracker.Requests.FirstOrDefault(r => r.Path == "/scrape") is { } first && HashesIn(first) + batcher.Pending == 100,
            "the first scrape sent and the other torrents waiting for the next");
        firstScrapeHeld.Set();
        await TestWait.UntilAsync(() => swarm.Sources.All(s => s.GetStatus()[0].Seeders == 0), "every torrent scraped");

        var scrapes = tracker.Requests.Where(r => r.Path == "/scrape").Select(HashesIn).ToList();
        Assert.Equal(100, scrapes.Sum());
        Assert.All(scrapes, n => Assert.InRange(n, 1, TrackerScrapeBatcher.MaxHttpBatch));
        Assert.Equal(Math.Min(TrackerScrapeBatcher.MaxHttpBatch, 100 - scrapes[0]), scrapes[1]);
        Assert.InRange(scrapes.Count, 2, 3);
    }
}
