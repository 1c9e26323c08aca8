using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

/// <summary>Starts one opentracker for the class; each test uses its own whitelisted torrent.</summary>
public sealed class OpentrackerFixture : IAsyncLifetime
{
    public static readonly InfoHash[] Hashes =
        [.. Enumerable.Range(1, 8).Select(i => InfoHash.FromHex(new string((char)('0' + i), 40)))];

    /// <summary>Torrents of a session-size test: 150 for HTTP, 150 for UDP.</summary>
    public static readonly InfoHash[] Many =
        [.. Enumerable.Range(0, 300).Select(i => InfoHash.FromHex($"{i:x8}" + new string('e', 32)))];

    internal OpentrackerProcess Tracker { get; private set; } = null!;

    public async Task InitializeAsync() => Tracker = await OpentrackerProcess.StartAsync([.. Hashes, .. Many]);

    public async Task DisposeAsync()
    {
        if (Tracker is not null) await Tracker.DisposeAsync();
    }
}

public class OpentrackerTests(OpentrackerFixture fixture) : IClassFixture<OpentrackerFixture>
{
    private static readonly InfoHash NotWhitelisted = InfoHash.FromHex("abcdefabcdefabcdefabcdefabcdefabcdefabcd");

    /// <summary>Every wait here is bounded, so a regression fails instead of hanging the run.</summary>
    private readonly CancellationToken _bounded = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static byte[] PeerIdFor(int n) => System.Text.Encoding.ASCII.GetBytes($"-RT0100-{n:D12}");

    private static TrackerAnnounceRequest Request(InfoHash hash, int peer, int port, AnnounceEvent ev, long left) => new()
    {
        InfoHash = hash, PeerId = PeerIdFor(peer), Port = port, Left = left, Event = ev, NumWant = 50, Key = (uint)peer,
    };

    private async Task Two_peers_see_each_other_and_scrape_follows_events(ITrackerClient client, InfoHash hash)
    {
        var a = new IPEndPoint(IPAddress.Loopback, 40001);
        var b = new IPEndPoint(IPAddress.Loopback, 40002);

        var first = await client.AnnounceAsync(Request(hash, 1, a.Port, AnnounceEvent.Started, 1000), _bounded);
        Assert.NotNull(first.Interval);
        var second = await client.AnnounceAsync(Request(hash, 2, b.Port, AnnounceEvent.Started, 1000), _bounded);
        Assert.Contains(a, second.Peers);
        Assert.Equal(2, second.Leechers);

        var again = await client.AnnounceAsync(Request(hash, 1, a.Port, AnnounceEvent.None, 1000), _bounded);
        Assert.Contains(b, again.Peers);

        var scrape = await client.ScrapeAsync([hash], _bounded);
        Assert.Equal(new ScrapeCounts(0, 2, 0), scrape.Files[hash]);

        await client.AnnounceAsync(Request(hash, 1, a.Port, AnnounceEvent.Completed, 0), _bounded);
        scrape = await client.ScrapeAsync([hash], _bounded);
        Assert.Equal(new ScrapeCounts(1, 1, 1), scrape.Files[hash]);

        await client.AnnounceAsync(Request(hash, 2, b.Port, AnnounceEvent.Stopped, 1000), _bounded);
        scrape = await client.ScrapeAsync([hash], _bounded);
        Assert.Equal(new ScrapeCounts(1, 0, 1), scrape.Files[hash]);

        await client.AnnounceAsync(Request(hash, 1, a.Port, AnnounceEvent.Stopped, 0), _bounded);
    }

    [Fact]
    public Task Http_announce_events_and_scrape() =>
        Two_peers_see_each_other_and_scrape_follows_events(new HttpTrackerClient(new Uri(fixture.Tracker.HttpAnnounceUrl)), OpentrackerFixture.Hashes[0]);

    [Fact]
    public async Task Udp_announce_events_and_scrape()
    {
        using var client = new UdpTrackerClient(new Uri(fixture.Tracker.UdpAnnounceUrl));
        await Two_peers_see_each_other_and_scrape_follows_events(client, OpentrackerFixture.Hashes[1]);
    }

    [Fact]
    public async Task Http_and_udp_refusals_carry_the_trackers_reason()
    {
        var http = await Assert.ThrowsAsync<TrackerException>(() => new HttpTrackerClient(new Uri(fixture.Tracker.HttpAnnounceUrl))
            .AnnounceAsync(Request(NotWhitelisted, 1, 40010, AnnounceEvent.Started, 1), _bounded));
        Assert.Equal(TrackerErrorKind.TrackerFailure, http.Kind);
        Assert.Contains("not authorized", http.Message);

        using var udpClient = new UdpTrackerClient(new Uri(fixture.Tracker.UdpAnnounceUrl));
        var udp = await Assert.ThrowsAsync<TrackerException>(() =>
            udpClient.AnnounceAsync(Request(NotWhitelisted, 1, 40010, AnnounceEvent.Started, 1), _bounded));
        // opentracker refuses over UDP with a bare announce header, no message.
        Assert.Equal(TrackerErrorKind.TrackerFailure, udp.Kind);
        Assert.Contains("not on its list", udp.Message);
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 3)]
    public async Task Two_peer_sources_find_each_other(bool udp, int hashIndex)
    {
        var hash = OpentrackerFixture.Hashes[hashIndex];
        string url = udp ? fixture.Tracker.UdpAnnounceUrl : fixture.Tracker.HttpAnnounceUrl;
        using var factory = new TrackerPeerSourceFactory(new TrackerPeerSourceOptions { AnnounceTimeout = TimeSpan.FromSeconds(10) });
        var sinkA = new RecordingPeerSink();
        var sinkB = new RecordingPeerSink();
        var a = factory.Create(new PeerSourceContext(hash.ToArray(), PeerIdFor(11), false, [[url]], 41001, sinkA, () => new TransferTotals(0, 0, 500)));
        var b = factory.Create(new PeerSourceContext(hash.ToArray(), PeerIdFor(12), false, [[url]], 41002, sinkB, () => new TransferTotals(0, 0, 500)));
        await using (a)
        await using (b)
        {
            await a.StartAsync(_bounded);
            await TestWait.UntilAsync(() => a.GetStatus()[0].State == "working", "A announced");
            await b.StartAsync(_bounded);
            await TestWait.UntilAsync(() => sinkB.Has(new IPEndPoint(IPAddress.Loopback, 41001)), "B sees A");
            ((TrackerPeerSource)a).ForceReannounce();
            await TestWait.UntilAsync(() => sinkA.Has(new IPEndPoint(IPAddress.Loopback, 41002)), "A sees B");

            ((TrackerPeerSource)b).ScrapeNow();
            await TestWait.UntilAsync(() => b.GetStatus()[0].Leechers == 2, "scrape counts both");
            var status = b.GetStatus()[0];
            Assert.Equal(("working", 0), (status.State, status.Seeders));
            Assert.Null(status.Message);

            await a.StopAsync(_bounded);
            await b.StopAsync(_bounded);
        }
        // Both said stopped: the tracker lists nobody any more.
        var client = udp ? (ITrackerClient)new UdpTrackerClient(new Uri(url)) : new HttpTrackerClient(new Uri(url));
        var scrape = await client.ScrapeAsync([hash], _bounded);
        Assert.Equal(0, scrape.Files.TryGetValue(hash, out var counts) ? counts.Seeders + counts.Leechers : 0);
        (client as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 150)]
    public async Task A_session_of_150_torrents_scrapes_them_in_batches_and_tells_the_tracker_it_left_at_quit(bool udp, int first)
    {
        var hashes = OpentrackerFixture.Many.AsSpan(first, 150).ToArray();
        string url = udp ? fixture.Tracker.UdpAnnounceUrl : fixture.Tracker.HttpAnnounceUrl;
        using var scheduler = new AnnounceScheduler(new AnnounceSchedulerOptions { BurstSize = 1000 });
        using var factory = new TrackerPeerSourceFactory(new TrackerPeerSourceOptions { AnnounceTimeout = TimeSpan.FromSeconds(10) },
            scheduler: scheduler);
        var sources = hashes.Select((h, i) => (TrackerPeerSource)factory.Create(new PeerSourceContext(h.ToArray(), PeerIdFor(100 + i), false,
            [[url]], 42000 + i, new RecordingPeerSink(), () => new TransferTotals(0, 0, 0)))).ToList();
        try
        {
            foreach (var s in sources) await s.StartAsync(_bounded);
            await TestWait.UntilAsync(() => sources.All(s => s.GetStatus()[0].State == "working"), "all announced");
            var client = factory.Clients.GetClient(url);
            var batcher = scheduler.BatcherFor(client, scheduler.GateFor(client.AnnounceUri));
            foreach (var s in sources) s.ScrapeNow();
            // Each torrent has one seed (itself), and opentracker answers for every info-hash of a batch.
            await TestWait.UntilAsync(() => batcher.HashesFound == 150, "every torrent in a scrape answer");
            await TestWait.UntilAsync(() => sources.All(s => s.GetStatus()[0] is { Seeders: 1, Message: null }), "counts shown");
            Assert.InRange(batcher.RequestsSent, (150 + batcher.MaxBatch - 1) / batcher.MaxBatch, 8);

            scheduler.BeginQuit(TimeSpan.FromSeconds(30));
            await Task.WhenAll(sources.Select(s => s.StopAsync(_bounded).AsTask()));
            var problems = string.Join("\n", sources.Select(s => s.GetStatus()[0].Message).Where(m => m is not null));
            if (problems.Length > 0) Assert.Fail(problems); // each stopped acknowledged
            Assert.Equal((150, 0, 0), scheduler.GateFor(client.AnnounceUri).QuitCounts);
        }
        finally
        {
            foreach (var s in sources) await s.DisposeAsync();
        }
        // Every stopped was heard: the tracker lists none of them.
        var check = udp ? (ITrackerClient)new UdpTrackerClient(new Uri(url)) : new HttpTrackerClient(new Uri(url));
        for (int i = 0; i < hashes.Length; i += 50)
        {
            var scrape = await check.ScrapeAsync(hashes[i..Math.Min(i + 50, hashes.Length)], _bounded);
            Assert.All(scrape.Files.Values, c => Assert.Equal(0, c.Seeders + c.Leechers));
        }
        (check as IDisposable)?.Dispose();
    }
}
