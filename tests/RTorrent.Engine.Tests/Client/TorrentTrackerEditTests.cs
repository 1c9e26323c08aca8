using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// A torrent's tracker list edited through the engine: the running tracker source follows (removed trackers hear
/// "stopped", new ones "started"), private torrents too; and reannounce reaches the trackers through the torrent.
/// </summary>
public class TorrentTrackerEditTests
{
    private static readonly TrackerPeerSourceOptions Fast = new()
    {
        AnnounceTimeout = TimeSpan.FromSeconds(5),
        StopTimeout = TimeSpan.FromSeconds(3),
        FirstScrapeDelay = TimeSpan.FromDays(1),
    };

    private static FakeHttpResponse Answer(int interval = 1800, int? minInterval = null)
    {
        var d = new BDictionary { ["interval"] = new BInteger(interval), ["peers"] = new BString(ReadOnlyMemory<byte>.Empty) };
        if (minInterval is { } m) d["min interval"] = new BInteger(m);
        return FakeHttpResponse.Bencoded(d);
    }

    private static int Announces(FakeHttpTracker t, string? ev) => t.Requests.Count(r => r.Path == "/announce" && r.Text("event") == ev);

    [Fact]
    public async Task Editing_a_running_torrents_trackers_through_the_engine_tells_both_trackers()
    {
        await using var a = new FakeHttpTracker(_ => Answer());
        await using var b = new FakeHttpTracker(_ => Answer());
        using var factory = new TrackerPeerSourceFactory(Fast, scheduler: new AnnounceScheduler(new AnnounceSchedulerOptions { BurstSize = 1000 }));
        await using var h = await EngineHarness.StartAsync(setup: c => c.Sources.Add(factory));
        var t = await h.AddSeedAsync(new TorrentOptions { SavePath = "", Trackers = [[a.AnnounceUrl]] });
        await TestWait.UntilAsync(() => Announces(a, "started") == 1, "started to A (the list given when adding)");

        await t.SetTrackersAsync([[b.AnnounceUrl]]);
        Assert.Equal([[b.AnnounceUrl]], (await h.SnapshotAsync(t)).Trackers);
        await TestWait.UntilAsync(() => Announces(a, "stopped") == 1, "stopped to A");
        await TestWait.UntilAsync(() => Announces(b, "started") == 1, "started to B");
        var details = await h.Engine.GetDetailsAsync(t);
        Assert.Equal([b.AnnounceUrl], details.Sources.Where(s => s.Source == "tracker").Select(s => s.Endpoint));
    }

    [Fact]
    public async Task A_private_torrents_trackers_may_be_edited()
    {
        await using var h = await EngineHarness.StartAsync();
        var root = Path.Combine(h.Root, "private");
        var meta = TestTorrents.CreateMultiFile(root, "p", 16 * 1024, 20_000);
        var top = (BDictionary)BencodeReader.Decode(meta.RawBytes);
        top.Get<BDictionary>("info")!["private"] = new BInteger(1);
        var priv = TorrentMetainfo.Parse(BencodeWriter.Encode(top));
        Assert.True(priv.IsPrivate);
        var t = await h.Engine.AddAsync(priv, new TorrentOptions { SavePath = root });
        await t.SetTrackersAsync([["https://tracker.example/announce?passkey=1"]]);
        Assert.Equal([["https://tracker.example/announce?passkey=1"]], t.Trackers);
    }

    [Fact]
    public async Task Reannounce_through_the_engine_waits_for_the_trackers_min_interval()
    {
        var time = new ManualTimeProvider();
        await using var a = new FakeHttpTracker(_ => Answer(interval: 1800, minInterval: 300));
        using var factory = new TrackerPeerSourceFactory(Fast, scheduler: new AnnounceScheduler(new AnnounceSchedulerOptions { BurstSize = 1000 }, time), timeProvider: time);
        await using var h = await EngineHarness.StartAsync(setup: c => c.Sources.Add(factory));
        // A torrent still downloading: one complete at start may also send "completed" right after "started".
        var meta = h.NewTorrent();
        Directory.Delete(Path.Combine(h.Root, meta.Name), true);
        var t = await h.Engine.AddAsync(meta, new TorrentOptions { SavePath = h.Root, Trackers = [[a.AnnounceUrl]] });
        Assert.Equal(TorrentState.Downloading, t.State);
        await TestWait.UntilAsync(() => Announces(a, "started") == 1, "started");
        async Task<PeerSourceStatus> TrackerRow() => (await h.Engine.GetDetailsAsync(t)).Sources.Single(s => s.Source == "tracker");
        var startedAt = time.GetUtcNow(); // the manual clock stands still until told
        var deadline = DateTime.UtcNow + TestWait.Limit;
        while ((await TrackerRow()).NextContact != startedAt.AddSeconds(1800))
        {
            Assert.True(DateTime.UtcNow < deadline, "the started announce's answer is scheduled");
            await Task.Delay(10);
        }

        await t.ReannounceAsync();
        Assert.Equal(startedAt.AddSeconds(300), (await TrackerRow()).NextContact); // brought forward, no sooner than min interval
        Assert.Equal(1, a.RequestCount);
        time.Advance(TimeSpan.FromSeconds(300));
        await TestWait.UntilAsync(() => a.Requests.Count(r => r.Path == "/announce") == 2, "the early announce");
        Assert.Null(a.Requests[^1].Text("event"));
    }
}
