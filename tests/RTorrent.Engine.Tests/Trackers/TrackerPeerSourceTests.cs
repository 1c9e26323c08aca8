using System.Net;
using System.Net.Sockets;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class TrackerPeerSourceTests
{
    private static readonly InfoHash Hash = InfoHash.FromHex("1111111111111111111111111111111111111111");
    private static readonly byte[] PeerId = "-RT0100-000000000000"u8.ToArray();

    private static readonly TrackerPeerSourceOptions Fast = new()
    {
        AnnounceTimeout = TimeSpan.FromSeconds(5),
        StopTimeout = TimeSpan.FromSeconds(3),
        FirstScrapeDelay = TimeSpan.FromDays(1),
    };

    private sealed class Harness : IAsyncDisposable
    {
        public required TrackerPeerSource Source { get; init; }
        public required RecordingPeerSink Sink { get; init; }

        public PeerSourceStatus Status(string url) => Source.GetStatus().Single(s => s.Endpoint == url);

        public ValueTask DisposeAsync() => Source.DisposeAsync();
    }

    private static Harness Create(IReadOnlyList<IReadOnlyList<string>> tiers, TrackerPeerSourceOptions? options = null,
        TimeProvider? time = null, Func<TransferTotals>? totals = null)
    {
        var sink = new RecordingPeerSink();
        var context = new PeerSourceContext(Hash.ToArray(), PeerId, isPrivate: false, tiers, 6881, sink,
            totals ?? (() => new TransferTotals(100, 200, 300)));
        var scheduler = new AnnounceScheduler(new AnnounceSchedulerOptions { BurstSize = 1000 }, time);
        var source = new TrackerPeerSource(context, options ?? Fast, clients: null, scheduler, time, logger: null, new UnshuffledRandom());
        return new Harness { Source = source, Sink = sink };
    }

    private static FakeHttpResponse Answer(int interval = 1800, int? minInterval = null, IEnumerable<IPEndPoint>? peers = null,
        string? trackerId = null, int? complete = null, int? incomplete = null)
    {
        var d = new BDictionary
        {
            ["interval"] = new BInteger(interval),
            ["peers"] = new BString(CompactPeers.Encode(peers ?? [], AddressFamily.InterNetwork)),
        };
        if (minInterval is { } m) d["min interval"] = new BInteger(m);
        if (trackerId is not null) d["tracker id"] = new BString(trackerId);
        if (complete is { } c) d["complete"] = new BInteger(c);
        if (incomplete is { } i) d["incomplete"] = new BInteger(i);
        return FakeHttpResponse.Bencoded(d);
    }

    private static int Announces(FakeHttpTracker t, string? ev = "any") =>
        t.Requests.Count(r => r.Path == "/announce" && (ev == "any" || r.Text("event") == ev));

    [Fact]
    public async Task Started_announce_delivers_peers_and_the_status_shows_the_tracker_working()
    {
        var peer1 = new IPEndPoint(IPAddress.Loopback, 7001);
        var peer2 = new IPEndPoint(IPAddress.Loopback, 7002);
        await using var tracker = new FakeHttpTracker(_ => Answer(peers: [peer1, peer2], complete: 5, incomplete: 6));
        await using var h = Create([[tracker.AnnounceUrl]]);
        var before = DateTimeOffset.UtcNow;
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Sink.Peers.Count == 2, "peers");

        Assert.All(h.Sink.Peers, p => Assert.Equal("tracker", p.Source));
        Assert.True(h.Sink.Has(peer1) && h.Sink.Has(peer2));
        var request = tracker.Requests[0];
        Assert.Equal("started", request.Text("event"));
        Assert.Equal(Hash.ToArray(), request.Bytes("info_hash"));
        Assert.Equal(("6881", "100", "200", "300", "200"),
            (request.Text("port"), request.Text("uploaded"), request.Text("downloaded"), request.Text("left"), request.Text("numwant")));

        var status = h.Status(tracker.AnnounceUrl);
        Assert.Equal("tracker", status.Source);
        Assert.Equal(0, status.Tier);
        Assert.Equal("working", status.State);
        Assert.Null(status.Message);
        Assert.Equal((5, 6), (status.Seeders, status.Leechers));
        Assert.Equal(2, status.PeersReported);
        Assert.NotNull(status.LastSuccess);
        Assert.True(status.NextContact - status.LastSuccess >= TimeSpan.FromSeconds(1800));
        Assert.True(status.LastSuccess >= before.AddSeconds(-1));
    }

    [Fact]
    public async Task Completed_is_announced_when_the_torrent_completes()
    {
        long left = 300;
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => Answer());
        await using var h = Create([[tracker.AnnounceUrl]], Fast, time, totals: () => new TransferTotals(0, 300 - left, left));
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        time.Advance(TimeSpan.FromSeconds(1)); // the next regular announce after "completed" is then due at a time of its own
        left = 0;
        await h.Source.OnEventAsync(TorrentEvent.Completed, CancellationToken.None);
        await TestWait.UntilAsync(() => Announces(tracker, "completed") == 1, "completed announce");
        var completed = tracker.Requests.Single(r => r.Text("event") == "completed");
        Assert.Equal("0", completed.Text("left"));
        // No further announce before the interval: the lane goes to sleep until the completed announce's interval has
        // passed, having announced nothing else (an extra round would be made before it sleeps).
        await UntilAsleepAsync(time, time.GetUtcNow().AddSeconds(1800));
        Assert.Equal(2, Announces(tracker));
    }

    /// <summary>
    /// Waits until a loop of the source sleeps until <paramref name="due"/> on <paramref name="time"/> (its deadline is
    /// registered); from then nothing but that deadline, or a request, wakes it.
    /// </summary>
    private static Task UntilAsleepAsync(ManualTimeProvider time, DateTimeOffset due) =>
        TestWait.UntilAsync(() => RTorrent.Engine.Client.SharedDeadlines.For(time).HasDeadline(due), $"a loop asleep until {due:HH:mm:ss}");

    [Fact]
    public async Task Stop_sends_stopped_to_the_tracker()
    {
        await using var tracker = new FakeHttpTracker(_ => Answer());
        await using var h = Create([[tracker.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        await h.Source.StopAsync(CancellationToken.None);
        var stopped = Assert.Single(tracker.Requests, r => r.Text("event") == "stopped");
        Assert.Equal("0", stopped.Text("numwant"));
        Assert.Equal("stopped", h.Status(tracker.AnnounceUrl).State);
        Assert.Null(h.Status(tracker.AnnounceUrl).NextContact);
    }

    [Fact]
    public async Task Stop_does_not_hang_on_a_tracker_that_never_answers_stopped()
    {
        await using var tracker = new FakeHttpTracker(r => r.Text("event") == "stopped" ? new FakeHttpResponse { Hang = true } : Answer());
        await using var h = Create([[tracker.AnnounceUrl]], Fast with { StopTimeout = TimeSpan.FromMilliseconds(300) });
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        await h.Source.StopAsync(CancellationToken.None).AsTask().WaitAsync(TestWait.Limit);
        Assert.Equal(1, Announces(tracker, "stopped"));
        Assert.Contains("stopped", h.Status(tracker.AnnounceUrl).Message);
    }

    [Fact]
    public async Task Stop_while_a_slow_started_announce_is_in_flight_ends_at_once_and_still_says_stopped()
    {
        await using var tracker = new FakeHttpTracker(r => r.Text("event") == "started" ? new FakeHttpResponse { Hang = true } : Answer());
        await using var h = Create([[tracker.AnnounceUrl]], Fast with { AnnounceTimeout = TimeSpan.FromMinutes(5) });
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => tracker.RequestCount == 1, "started sent");
        Assert.Equal("updating", h.Status(tracker.AnnounceUrl).State);
        await h.Source.StopAsync(CancellationToken.None).AsTask().WaitAsync(TestWait.Limit);
        // The tracker may have listed us before the answer was lost: it is told we left.
        Assert.Equal(1, Announces(tracker, "stopped"));
    }

    [Fact]
    public async Task Tracker_id_is_echoed_on_later_announces()
    {
        await using var tracker = new FakeHttpTracker(_ => Answer(trackerId: "TID-9"));
        await using var h = Create([[tracker.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Announces(tracker) == 1 && h.Status(tracker.AnnounceUrl).State == "working", "started");
        h.Source.ForceReannounce();
        await TestWait.UntilAsync(() => Announces(tracker) == 2, "reannounce");
        Assert.Null(tracker.Requests[0].Text("trackerid"));
        Assert.Equal("TID-9", tracker.Requests[1].Text("trackerid"));
        Assert.Null(tracker.Requests[1].Text("event"));
    }

    [Fact]
    public async Task Requests_made_while_an_announce_is_in_flight_are_not_lost()
    {
        using var gate = new ManualResetEventSlim();
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ =>
        {
            gate.Wait(TestWait.Limit);
            return Answer(interval: 1800);
        });
        await using var h = Create([[tracker.AnnounceUrl]], Fast, time);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => tracker.RequestCount == 1, "started in flight");
        h.Source.ForceReannounce();
        gate.Set();
        await TestWait.UntilAsync(() => Announces(tracker) == 2, "the forced announce after the one in flight");
        Assert.Null(tracker.Requests[1].Text("event"));
        // Then the lane sleeps until the interval, with no third announce made before it (the clock never moved).
        await UntilAsleepAsync(time, time.GetUtcNow().AddSeconds(1800));
        Assert.Equal(2, Announces(tracker));
    }

    [Fact]
    public async Task A_dead_first_tier_falls_through_to_the_next_and_shows_its_error()
    {
        var peer = new IPEndPoint(IPAddress.Loopback, 7100);
        await using var broken = new FakeHttpTracker(_ => FakeHttpResponse.Raw("<html>Bad Gateway</html>", 502, "Bad Gateway", "text/html"));
        await using var good = new FakeHttpTracker(_ => Answer(peers: [peer]));
        await using var h = Create([[broken.AnnounceUrl], [good.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Sink.Has(peer), "peer from tier 2");

        var bad = h.Status(broken.AnnounceUrl);
        Assert.Equal("error", bad.State);
        Assert.Equal("The tracker answered HTTP 502 Bad Gateway.", bad.Message);
        Assert.Equal(0, bad.Tier);
        Assert.NotNull(bad.NextContact);
        var ok = h.Status(good.AnnounceUrl);
        Assert.Equal("working", ok.State);
        Assert.Equal(1, ok.Tier);
        Assert.Equal(1, Announces(broken));
    }

    [Fact]
    public async Task Slow_http_and_silent_udp_trackers_time_out_and_the_next_tier_is_used()
    {
        var peer = new IPEndPoint(IPAddress.Loopback, 7200);
        await using var slow = new FakeHttpTracker(_ => new FakeHttpResponse { Hang = true });
        using var silent = new FakeUdpTracker { Handler = _ => [] };
        await using var good = new FakeHttpTracker(_ => Answer(peers: [peer]));
        await using var h = Create([[slow.AnnounceUrl], [silent.AnnounceUrl], [good.AnnounceUrl]],
            Fast with { AnnounceTimeout = TimeSpan.FromMilliseconds(500) });
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Sink.Has(peer), "peer from the third tier");
        Assert.Equal(("error", "The tracker did not answer within 0.5 s."), (h.Status(slow.AnnounceUrl).State, h.Status(slow.AnnounceUrl).Message));
        Assert.Equal(("error", "The tracker did not answer within 0.5 s."), (h.Status(silent.AnnounceUrl).State, h.Status(silent.AnnounceUrl).Message));
        Assert.True(silent.Received.Count >= 1);
        Assert.Equal("working", h.Status(good.AnnounceUrl).State);
    }

    [Fact]
    public async Task Within_a_tier_the_tracker_that_answered_is_tried_first_next_time()
    {
        await using var garbage = new FakeHttpTracker(_ => FakeHttpResponse.Raw("this is not bencode"));
        await using var good = new FakeHttpTracker(_ => Answer());
        // Unshuffled: the garbage tracker comes first.
        await using var h = Create([[garbage.AnnounceUrl, good.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Announces(good) == 1 && h.Status(good.AnnounceUrl).State == "working", "fallback");
        Assert.Equal(1, Announces(garbage));
        Assert.Contains("not bencode", h.Status(garbage.AnnounceUrl).Message);

        h.Source.ForceReannounce(); // clears backoff too: only the order keeps the garbage tracker out now
        await TestWait.UntilAsync(() => Announces(good) == 2, "second announce");
        // A round asks its tier's trackers in order: had the garbage tracker stayed first, it would have been asked
        // before the good tracker's second announce was made.
        Assert.Equal(1, Announces(garbage));
    }

    [Fact]
    public async Task A_failing_tracker_is_retried_with_exponential_backoff_and_jitter()
    {
        var time = new ManualTimeProvider();
        int calls = 0;
        await using var tracker = new FakeHttpTracker(_ => ++calls <= 3 ? FakeHttpResponse.Raw("oops", 500, "Internal Server Error") : Answer());
        await using var h = Create([[tracker.AnnounceUrl]], Fast, time);
        await h.Source.StartAsync(CancellationToken.None);

        var expected = TimeSpan.FromSeconds(15);
        for (int failure = 1; failure <= 3; failure++)
        {
            await TestWait.UntilAsync(() => Announces(tracker) == failure && h.Status(tracker.AnnounceUrl).State == "error", $"failure {failure}");
            var status = h.Status(tracker.AnnounceUrl);
            var wait = status.NextContact!.Value - time.GetUtcNow();
            Assert.InRange(wait, expected, expected * 1.25);
            Assert.Equal("The tracker answered HTTP 500 Internal Server Error.", status.Message);
            Assert.Equal("started", tracker.Requests[^1].Text("event"));

            // Asleep until the retry; a clock moved to a second before the shortest retry makes nothing due.
            await UntilAsleepAsync(time, status.NextContact.Value);
            int fired = time.Fired;
            time.Advance(expected - TimeSpan.FromSeconds(1));
            Assert.Equal(fired, time.Fired);
            Assert.Equal(failure, Announces(tracker)); // not yet
            time.Advance(wait - expected + TimeSpan.FromSeconds(1));
            expected *= 2;
        }
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "recovery");
        Assert.Equal(4, Announces(tracker, "started"));
        Assert.Null(h.Status(tracker.AnnounceUrl).Message);
    }

    [Fact]
    public async Task Backoff_doubles_up_to_the_cap()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Raw("down", 503, "Service Unavailable"));
        await using var h = Create([[tracker.AnnounceUrl]], Fast with { Jitter = 0 }, time);
        await h.Source.StartAsync(CancellationToken.None);
        int[] expectedSeconds = [15, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800];
        for (int i = 0; i < expectedSeconds.Length; i++)
        {
            await TestWait.UntilAsync(() => Announces(tracker) == i + 1 && h.Status(tracker.AnnounceUrl).State == "error", $"failure {i + 1}");
            Assert.Equal(time.GetUtcNow().AddSeconds(expectedSeconds[i]), h.Status(tracker.AnnounceUrl).NextContact);
            time.Advance(TimeSpan.FromSeconds(expectedSeconds[i]));
        }
    }

    [Fact]
    public async Task More_peers_are_asked_for_no_sooner_than_min_interval()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => Answer(interval: 1800, minInterval: 300));
        await using var h = Create([[tracker.AnnounceUrl]], Fast, time);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        var started = time.GetUtcNow();

        time.Advance(TimeSpan.FromSeconds(100));
        h.Source.RequestMorePeers();
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).NextContact == started.AddSeconds(300), "early announce scheduled");
        await UntilAsleepAsync(time, started.AddSeconds(300));
        int fired = time.Fired;
        time.Advance(TimeSpan.FromSeconds(199));
        Assert.Equal(fired, time.Fired); // nothing came due: the lane sleeps on
        Assert.Equal(1, Announces(tracker));
        time.Advance(TimeSpan.FromSeconds(1));
        await TestWait.UntilAsync(() => Announces(tracker) == 2, "early announce");
        Assert.Null(tracker.Requests[1].Text("event"));
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).NextContact == time.GetUtcNow().AddSeconds(1800), "next regular");
    }

    [Fact]
    public async Task Regular_announces_follow_the_interval()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => Answer(interval: 600));
        await using var h = Create([[tracker.AnnounceUrl]], Fast, time);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        await UntilAsleepAsync(time, time.GetUtcNow().AddSeconds(600));
        int fired = time.Fired;
        time.Advance(TimeSpan.FromSeconds(599));
        Assert.Equal(fired, time.Fired); // nothing came due: the lane sleeps on
        Assert.Equal(1, Announces(tracker));
        time.Advance(TimeSpan.FromSeconds(1));
        await TestWait.UntilAsync(() => Announces(tracker) == 2, "regular announce");
        Assert.Null(tracker.Requests[1].Text("event"));
    }

    [Fact]
    public async Task A_tiny_interval_from_the_tracker_is_raised_to_the_floor()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeHttpTracker(_ => Answer(interval: 1));
        await using var h = Create([[tracker.AnnounceUrl]], Fast, time);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(2), h.Status(tracker.AnnounceUrl).NextContact);
    }

    [Fact]
    public async Task Garbage_and_dead_trackers_never_hurt_the_torrent()
    {
        var rng = new Random(9);
        await using var garbage = new FakeHttpTracker(_ =>
        {
            var bytes = new byte[rng.Next(0, 200)];
            rng.NextBytes(bytes);
            if (bytes.Length > 0) bytes[0] = (byte)'d';
            return new FakeHttpResponse { Body = bytes };
        });
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        string deadUrl = $"http://127.0.0.1:{((IPEndPoint)closed.LocalEndpoint).Port}/announce";
        closed.Stop();
        await using var h = Create([[garbage.AnnounceUrl, deadUrl, "wss://tracker.example/announce", "not a url"]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Source.GetStatus().Count(s => s.State == "error") == 2, "both failed");
        var rows = h.Source.GetStatus();
        Assert.Equal(4, rows.Count);
        Assert.Equal("error", rows[0].State);
        Assert.StartsWith("The tracker", rows[0].Message);
        Assert.Contains("connection refused", rows[1].Message);
        Assert.Equal("unsupported", rows[2].State);
        Assert.Contains("wss", rows[2].Message);
        Assert.Equal("unsupported", rows[3].State);
        h.Source.RequestMorePeers();
        await h.Source.StopAsync(CancellationToken.None).AsTask().WaitAsync(TestWait.Limit);
    }

    [Fact]
    public async Task Udp_tracker_through_the_source()
    {
        using var tracker = new FakeUdpTracker();
        var peer = new IPEndPoint(IPAddress.Loopback, 7300);
        tracker.Peers.Add(peer);
        await using var h = Create([[tracker.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Sink.Has(peer), "udp peer");
        Assert.Equal((3, 4), (h.Status(tracker.AnnounceUrl).Seeders, h.Status(tracker.AnnounceUrl).Leechers));
        await h.Source.StopAsync(CancellationToken.None);
        var events = tracker.Received.Where(p => p.IsAnnounce).Select(p => p.Event).ToList();
        Assert.Equal([2, 3], events); // started, stopped
    }

    [Fact]
    public async Task Scrape_on_request_fills_in_counts()
    {
        await using var tracker = new FakeHttpTracker(r => r.Path == "/scrape"
            ? new FakeHttpResponse
            {
                Body = "d5:filesd20:"u8.ToArray().Concat(Hash.ToArray()).Concat("d8:completei11e10:downloadedi33e10:incompletei22eeee"u8.ToArray()).ToArray(),
            }
            : Answer());
        await using var h = Create([[tracker.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        Assert.Null(h.Status(tracker.AnnounceUrl).Seeders);
        h.Source.ScrapeNow();
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).Seeders == 11, "scrape");
        var s = h.Status(tracker.AnnounceUrl);
        Assert.Equal((11, 22, 33), (s.Seeders, s.Leechers, s.Downloaded));
        Assert.Equal(Hash.ToArray(), tracker.Requests.Single(r => r.Path == "/scrape").Bytes("info_hash"));
    }

    [Fact]
    public async Task Periodic_scrape_of_each_tier()
    {
        var time = new ManualTimeProvider();
        await using var tier1 = new FakeHttpTracker(r => r.Path == "/scrape" ? FakeHttpResponse.Raw("d5:filesdee") : Answer());
        await using var tier2 = new FakeHttpTracker(r => r.Path == "/scrape" ? FakeHttpResponse.Raw("d5:filesdee") : Answer());
        await using var h = Create([[tier1.AnnounceUrl], [tier2.AnnounceUrl]],
            Fast with { FirstScrapeDelay = TimeSpan.FromMinutes(1), ScrapeInterval = TimeSpan.FromMinutes(20) }, time);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tier1.AnnounceUrl).State == "working", "started");
        time.Advance(TimeSpan.FromMinutes(1));
        // The announce gave no counts, so the working tracker is scraped as well as the untried tier.
        // Both answer without the torrent, which means nobody is there: 0, not unknown.
        await TestWait.UntilAsync(() => h.Status(tier1.AnnounceUrl).Seeders == 0 && h.Status(tier2.AnnounceUrl).Seeders == 0, "scrapes");
        Assert.Equal(1, tier2.Requests.Count(r => r.Path == "/scrape"));
        Assert.Equal("not contacted", h.Status(tier2.AnnounceUrl).State);
        time.Advance(TimeSpan.FromMinutes(26));
        await TestWait.UntilAsync(() => tier2.Requests.Count(r => r.Path == "/scrape") == 2, "second scrape");
    }

    [Fact]
    public async Task Announce_to_all_tiers_uses_one_tracker_of_every_tier()
    {
        await using var a = new FakeHttpTracker(_ => Answer());
        await using var b = new FakeHttpTracker(_ => Answer());
        await using var h = Create([[a.AnnounceUrl], [b.AnnounceUrl]], Fast with { AnnounceToAllTiers = true });
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Announces(a) == 1 && Announces(b) == 1, "both tiers");
        await h.Source.StopAsync(CancellationToken.None);
        Assert.Equal(1, Announces(a, "stopped"));
        Assert.Equal(1, Announces(b, "stopped"));
    }

    [Fact]
    public async Task A_tracker_that_refused_started_gets_no_stopped()
    {
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Raw("d14:failure reason14:not registerede"));
        await using var h = Create([[tracker.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "error", "refusal");
        Assert.Equal("not registered", h.Status(tracker.AnnounceUrl).Message);
        await h.Source.StopAsync(CancellationToken.None);
        Assert.Equal(0, Announces(tracker, "stopped"));
    }

    [Fact]
    public async Task Restart_after_stop_announces_started_again()
    {
        await using var tracker = new FakeHttpTracker(_ => Answer());
        await using var h = Create([[tracker.AnnounceUrl]]);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => h.Status(tracker.AnnounceUrl).State == "working", "started");
        await h.Source.StopAsync(CancellationToken.None);
        await h.Source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => Announces(tracker, "started") == 2 && h.Status(tracker.AnnounceUrl).State == "working", "started again");
    }

    [Fact]
    public void The_factory_is_named_tracker_and_allowed_for_private_torrents()
    {
        using var factory = new TrackerPeerSourceFactory();
        Assert.Equal("tracker", factory.Name);
        Assert.True(factory.AllowedForPrivateTorrents);
        var context = new PeerSourceContext(Hash.ToArray(), PeerId, true, [["udp://127.0.0.1:1/announce"]], 6881, new RecordingPeerSink(),
            () => default);
        var source = factory.Create(context);
        Assert.IsType<TrackerPeerSource>(source);
        Assert.Equal("not contacted", Assert.Single(source.GetStatus()).State);
    }
}
