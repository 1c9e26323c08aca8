using System.Net;
using System.Text.Json;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// Transmission's session-stats: this run and all runs, kept in stats.json (saved periodically and at close), a
/// corrupt file logged and replaced, payload counted across torrents including removed ones.
/// </summary>
public class SessionStatisticsTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-stats");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private string SessionDir => Path.Combine(_root, "session");

    private string StatsFile => Path.Combine(SessionDir, "stats.json");

    private SessionOptions Options(TimeProvider? time = null) => new()
    {
        SessionDirectory = SessionDir,
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex"],
        Time = time ?? TimeProvider.System,
    };

    private static long Read(string path, string key)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.GetProperty(key).GetInt64();
    }

    [Fact]
    public async Task Runs_and_added_torrents_accumulate_across_sessions_and_restores_do_not_count_as_added()
    {
        var data = Path.Combine(_root, "data");
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            await s.AddAsync(TestTorrents.CreateMultiFile(data, "a", 16 * 1024, 20_000), new TorrentOptions { SavePath = data });
            await s.AddAsync(TestTorrents.CreateMultiFile(data, "b", 16 * 1024, 20_000), new TorrentOptions { SavePath = data });
            var now = s.Statistics.GetSnapshot();
            Assert.Equal((2L, 1L), (now.Current.FilesAdded, now.Current.SessionCount));
            Assert.Equal(now.Current, now.Cumulative);
        }
        Assert.Equal(2, Read(StatsFile, "files-added"));
        Assert.Equal(1, Read(StatsFile, "session-count"));

        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            Assert.Equal(2, (await s.RestoreAsync()).Count);
            var snap = s.Statistics.GetSnapshot();
            Assert.Equal(0, snap.Current.FilesAdded);
            Assert.Equal(1, snap.Current.SessionCount);
            Assert.Equal((2L, 2L), (snap.Cumulative.FilesAdded, snap.Cumulative.SessionCount));
        }
        Assert.Equal(2, Read(StatsFile, "session-count"));
    }

    [Fact]
    public async Task Seconds_active_count_on_the_sessions_clock_and_the_file_is_saved_every_minute()
    {
        var time = new ManualTimeProvider();
        await using var s = await ClientSession.OpenAsync(Options(time));
        Assert.False(File.Exists(StatsFile));
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(59, s.Statistics.GetSnapshot().Current.SecondsActive);
        Assert.False(File.Exists(StatsFile)); // the timer has not fired; it fires synchronously when due
        time.Advance(TimeSpan.FromSeconds(1));
        await TestWait.UntilAsync(() => File.Exists(StatsFile), "the periodic save");
        Assert.Equal(60, Read(StatsFile, "seconds-active"));
        Assert.Equal(1, Read(StatsFile, "session-count"));
    }

    [Fact]
    public async Task A_corrupt_stats_file_is_logged_and_replaced_and_never_stops_the_session()
    {
        Directory.CreateDirectory(SessionDir);
        await File.WriteAllTextAsync(StatsFile, "{ \"uploaded-bytes\": \"lots\" ");
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            Assert.Contains(s.Log, l => l.Level == PluginLogLevel.Warning && l.Message.Contains("stats.json"));
            Assert.Equal(1, s.Statistics.GetSnapshot().Cumulative.SessionCount);
        }
        Assert.Equal(1, Read(StatsFile, "session-count"));
        Assert.Equal(0, Read(StatsFile, "uploaded-bytes"));
    }

    [Fact]
    public async Task Transmissions_own_stats_file_is_read()
    {
        Directory.CreateDirectory(SessionDir);
        await File.WriteAllTextAsync(StatsFile,
            """{ "downloaded-bytes": 1000, "files-added": 3, "seconds-active": 50, "session-count": 4, "uploaded-bytes": 2000 }""");
        await using var s = await ClientSession.OpenAsync(Options());
        var c = s.Statistics.GetSnapshot().Cumulative;
        Assert.Equal((2000L, 1000L, 3L, 5L), (c.UploadedBytes, c.DownloadedBytes, c.FilesAdded, c.SessionCount));
        Assert.True(c.SecondsActive >= 50);
    }

    [Fact]
    public async Task A_session_that_cannot_open_leaves_the_other_sessions_stats_alone()
    {
        await using var first = await ClientSession.OpenAsync(Options());
        await first.Statistics.SaveAsync();
        var before = await File.ReadAllBytesAsync(StatsFile);
        await Assert.ThrowsAsync<IOException>(() => ClientSession.OpenAsync(Options()));
        Assert.Equal(before, await File.ReadAllBytesAsync(StatsFile));
    }

    [Fact]
    public async Task Payload_is_counted_both_ways_and_kept_when_the_torrent_is_removed()
    {
        var seedDir = Path.Combine(_root, "seed");
        var meta = TestTorrents.CreateMultiFile(seedDir, "payload", 32 * 1024, 300_000, 100_000);
        var seederOptions = Options() with { SessionDirectory = Path.Combine(_root, "seeder-session") };
        await using var seeder = await ClientSession.OpenAsync(seederOptions);
        await seeder.AddAsync(meta, new TorrentOptions { SavePath = seedDir });

        var leechDir = Path.Combine(_root, "leech");
        long downloaded;
        await using (var leecher = await ClientSession.OpenAsync(Options()))
        {
            var done = new TaskCompletionSource();
            leecher.Engine.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            var t = await leecher.AddAsync(meta, new TorrentOptions
            {
                SavePath = leechDir,
                Peers = [new IPEndPoint(IPAddress.Loopback, seeder.Engine.ListenPort)],
            });
            await done.Task.WaitAsync(TestWait.Limit);
            downloaded = leecher.Statistics.GetSnapshot().Current.DownloadedBytes;
            Assert.InRange(downloaded, 400_000, 500_000); // every byte, maybe a few blocks twice in endgame
            await leecher.RemoveAsync(t, deleteData: false);
            Assert.Equal(downloaded, leecher.Statistics.GetSnapshot().Current.DownloadedBytes);
        }
        Assert.Equal(downloaded, Read(StatsFile, "downloaded-bytes"));
        Assert.InRange(seeder.Statistics.GetSnapshot().Current.UploadedBytes, 400_000, 500_000);
    }
}
