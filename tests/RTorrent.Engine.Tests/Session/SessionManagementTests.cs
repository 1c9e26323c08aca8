using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// What a remote interface sets on torrents survives a restart: labels, edited trackers, peer and seed ratio limits,
/// queue order and pause, including on torrents that are stopped; and torrent-add's options are honoured.
/// </summary>
public class SessionManagementTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-sess");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private SessionOptions Options() => new()
    {
        SessionDirectory = Path.Combine(_root, "session"),
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex"],
    };

    private string Data => Path.Combine(_root, "data");

    private TorrentMetainfo NewTorrent(string name) => TestTorrents.CreateMultiFile(Data, name, 16 * 1024, 30_000, 5_000);

    private static Torrent ByHash(ClientSession s, InfoHash hash) => s.Engine.Torrents.Single(t => t.InfoHash == hash);

    [Fact]
    public async Task Settings_queue_order_and_pause_survive_two_restarts()
    {
        var metas = new[] { NewTorrent("a"), NewTorrent("b"), NewTorrent("c"), NewTorrent("d") };
        // The order to keep: the reverse of the info-hash order that the restore adds torrents in.
        var wanted = metas.OrderByDescending(m => m.WireHash).Select(m => m.WireHash).ToArray();
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            var added = new List<Torrent>();
            foreach (var m in metas) added.Add(await s.AddAsync(m, new TorrentOptions { SavePath = Data }, start: m != metas[1]));
            var (a, b, c) = (added[0], added[1], added[2]);
            await a.SetLabelsAsync(["tv", "hd"]);
            await a.SetMaxConnectionsAsync(5);
            await b.SetTrackersAsync([["http://tracker.example/announce"], ["udp://backup.example:6969"]]); // b is paused
            await b.SetSeedRatioAsync(SeedRatioMode.Custom, 1.5);
            await c.SetSeedRatioAsync(SeedRatioMode.Unlimited, null);
            for (int i = 0; i < wanted.Length; i++) await s.Engine.SetQueuePositionAsync(ByHash(s, wanted[i]), i);
        }

        for (int run = 0; run < 2; run++)
        {
            await using var s = await ClientSession.OpenAsync(Options());
            await s.RestoreAsync();
            var a = ByHash(s, metas[0].WireHash);
            var b = ByHash(s, metas[1].WireHash);
            var c = ByHash(s, metas[2].WireHash);
            Assert.Equal(["tv", "hd"], a.Labels);
            Assert.Equal(5, a.MaxConnections);
            Assert.Equal([["http://tracker.example/announce"], ["udp://backup.example:6969"]], b.Trackers);
            Assert.Equal((SeedRatioMode.Custom, 1.5), (b.SeedRatioMode, b.SeedRatioLimit));
            Assert.Equal(SeedRatioMode.Unlimited, c.SeedRatioMode);
            Assert.Equal(TorrentState.Stopped, b.State);
            Assert.Equal(TorrentState.Seeding, a.State);
            Assert.Equal(wanted, (await s.Engine.GetQueueAsync()).Select(t => t.InfoHash));
            Assert.Equal(Enumerable.Range(0, 4), wanted.Select(h => ByHash(s, h).QueuePosition));
            // The .torrent keeps its own trackers; the edit lives in the resume data.
            Assert.Equal([["http://127.0.0.1:1/announce"]], TorrentMetainfo.Load(Path.Combine(Options().SessionDirectory!, metas[1].WireHash.ToHex() + ".torrent")).AnnounceTiers);
        }
    }

    [Fact]
    public void The_seed_ratio_limit_of_settings_json_reaches_the_engine()
    {
        Assert.Equal(1.5, SessionOptions.EngineConfigFrom(new RTorrent.Engine.Settings.EngineSettings { SeedRatioLimit = 1.5 }).SeedRatioLimit);
        Assert.Null(SessionOptions.FromSettings(new RTorrent.Engine.Settings.EngineSettings()).Engine.SeedRatioLimit);
    }

    [Fact]
    public async Task Removing_a_torrent_compacts_the_queue_and_the_order_is_saved()
    {
        var metas = new[] { NewTorrent("a"), NewTorrent("b"), NewTorrent("c") };
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            foreach (var m in metas) await s.AddAsync(m, new TorrentOptions { SavePath = Data });
            await s.RemoveAsync(ByHash(s, metas[0].WireHash), deleteData: false);
            Assert.Equal([0, 1], metas.Skip(1).Select(m => ByHash(s, m.WireHash).QueuePosition));
            await s.Engine.MoveInQueueAsync([ByHash(s, metas[2].WireHash)], QueueMove.Up);
        }
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            await s.RestoreAsync();
            Assert.Equal([metas[2].WireHash, metas[1].WireHash], (await s.Engine.GetQueueAsync()).Select(t => t.InfoHash));
        }
    }

    [Fact]
    public async Task Adding_honours_labels_peer_limit_seed_ratio_trackers_file_choice_and_pause()
    {
        var meta = NewTorrent("opts");
        await using var s = await ClientSession.OpenAsync(Options());
        var t = await s.AddAsync(meta, new TorrentOptions
        {
            SavePath = Data,
            Labels = ["x"],
            MaxConnections = 3,
            SeedRatioMode = SeedRatioMode.Custom,
            SeedRatioLimit = 0.5,
            Trackers = [["https://t.example/announce"]],
            FilePriorities = [Priority.High, Priority.Skip],
        }, start: false);
        var snap = (await s.Engine.GetSnapshotAsync()).Torrents.Single();
        Assert.Equal(TorrentState.Stopped, snap.State);
        Assert.Equal(["x"], snap.Labels);
        Assert.Equal(3, snap.MaxConnections);
        Assert.Equal((SeedRatioMode.Custom, 0.5), (snap.SeedRatioMode, snap.SeedRatioLimit));
        Assert.Equal([["https://t.example/announce"]], snap.Trackers);
        Assert.Equal(30_000, snap.Size);
        Assert.Equal(35_000, snap.TotalSize);
        Assert.Equal(Priority.Skip, (await s.Engine.GetDetailsAsync(t)).Files[1].Priority);
    }
}
