using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// The queue survives a restart: which torrents are queued, forced or paused, and the order that decides which run;
/// and the queue settings act live and are saved in settings.json.
/// </summary>
public class SessionQueueTests
{
    private static SessionOptions Options(string root, QueueLimits limits) => new()
    {
        SessionDirectory = Path.Combine(root, "session"),
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, Queue = limits },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex", "lsd"],
    };

    private static async Task WaitForAsync(ClientSession s, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await s.Engine.Loop.InvokeAsync(condition))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for: {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Queued_forced_and_paused_torrents_and_their_order_survive_a_restart()
    {
        var root = TestPaths.NewTempDir("rt-queue");
        try
        {
            var data = Path.Combine(root, "data");
            var metas = Enumerable.Range(0, 4).Select(i => TestTorrents.CreateMultiFile(data, $"q{i}", 16 * 1024, 20_000 + i)).ToArray();
            var limits = new QueueLimits { MaxSeeds = 2 };
            var options = Options(root, limits);
            await using (var s = await ClientSession.OpenAsync(options))
            {
                var a = await s.AddAsync(metas[0], new TorrentOptions { SavePath = data });
                var b = await s.AddAsync(metas[1], new TorrentOptions { SavePath = data });
                var c = await s.AddAsync(metas[2], new TorrentOptions { SavePath = data });
                Assert.Equal([TorrentState.Seeding, TorrentState.Seeding, TorrentState.Queued], new[] { a.State, b.State, c.State });
                await c.StartNowAsync(); // forced: it runs and takes a slot, so b (the last) waits
                await WaitForAsync(s, () => b.State == TorrentState.Queued, "b queued behind the forced c");
                await s.Engine.MoveInQueueAsync([b], QueueMove.Top); // b before a: b runs, a waits
                await WaitForAsync(s, () => b.State == TorrentState.Seeding && a.State == TorrentState.Queued, "b runs, a queued");
                var d = await s.AddAsync(metas[3], new TorrentOptions { SavePath = data });
                Assert.Equal(TorrentState.Queued, d.State);
                await d.StopAsync();
            }

            string queuedResume = Path.Combine(options.SessionDirectory!, metas[0].WireHash.ToHex() + ".resume");
            byte[] before = await File.ReadAllBytesAsync(queuedResume);
            var writtenAt = File.GetLastWriteTimeUtc(queuedResume);
            await using (var s = await ClientSession.OpenAsync(options))
            {
                var restored = (await s.RestoreAsync()).ToDictionary(t => t.InfoHash);
                Torrent A = restored[metas[0].WireHash], B = restored[metas[1].WireHash], C = restored[metas[2].WireHash], D = restored[metas[3].WireHash];
                Assert.Equal([B, A, C, D], await s.Engine.GetQueueAsync());
                Assert.True(C.Forced);
                Assert.Equal(TorrentState.Seeding, C.State);
                Assert.Equal(TorrentState.Seeding, B.State);
                Assert.Equal(TorrentState.Queued, A.State); // queued, not stopped, and not started first then queued
                Assert.Equal(TorrentState.Stopped, D.State);
                Assert.False(A.Forced || B.Forced || D.Forced);
                Assert.True(D.UserPaused);
            }
            // Restored queued and closed queued: its resume data is not written again.
            Assert.Equal(before, await File.ReadAllBytesAsync(queuedResume));
            Assert.Equal(writtenAt, File.GetLastWriteTimeUtc(queuedResume));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Queue_settings_are_saved_in_settings_json_and_applied_live()
    {
        var root = TestPaths.NewTempDir("rt-queue-settings");
        try
        {
            var data = Path.Combine(root, "data");
            var metas = Enumerable.Range(0, 3).Select(i => TestTorrents.CreateMultiFile(data, $"s{i}", 16 * 1024, 30_000 + i)).ToArray();
            var saved = new EngineSettings { SessionDirectory = Path.Combine(root, "session"), DownloadDirectory = data };
            Assert.False(saved.DownloadQueueEnabled || saved.SeedQueueEnabled || saved.ActiveQueueEnabled);
            Assert.Equal(QueueLimits.None with { StalledAfter = TimeSpan.FromMinutes(30) }, saved.QueueLimits);
            await using var s = await ClientSession.OpenAsync(Options(root, QueueLimits.None) with { Engine = SessionOptions.EngineConfigFrom(saved) with { ListenAddress = IPAddress.Loopback } });
            var settings = new SessionSettings(saved, s);
            var torrents = new List<Torrent>();
            foreach (var m in metas) torrents.Add(await s.AddAsync(m, new TorrentOptions { SavePath = data }));
            Assert.All(torrents, t => Assert.Equal(TorrentState.Seeding, t.State));

            await settings.UpdateAsync(x => x with { SeedQueueEnabled = true, SeedQueueSize = 1, QueueStalledMinutes = 45 });
            Assert.Equal([TorrentState.Seeding, TorrentState.Queued, TorrentState.Queued], torrents.Select(t => t.State));
            Assert.Equal(new QueueLimits { MaxSeeds = 1, StalledAfter = TimeSpan.FromMinutes(45) }, s.Engine.Config.Queue);

            var reread = await SettingsStore.LoadAsync(saved.SessionDirectory);
            string json = await File.ReadAllTextAsync(Path.Combine(saved.SessionDirectory, SettingsStore.FileName));
            Assert.Contains("\"seedQueueEnabled\": true", json);
            Assert.Contains("\"queueStalledMinutes\": 45", json);
            Assert.True(reread.SeedQueueEnabled);
            Assert.Equal(1, reread.SeedQueueSize);
            Assert.Equal(45, reread.QueueStalledMinutes);

            var bad = await Assert.ThrowsAsync<SettingsException>(() => settings.UpdateAsync(x => x with { DownloadQueueSize = -1, QueueStalledMinutes = 0 }));
            Assert.Contains(bad.Errors, e => e.StartsWith("downloadQueueSize:", StringComparison.Ordinal));
            Assert.Contains(bad.Errors, e => e.StartsWith("queueStalledMinutes:", StringComparison.Ordinal));

            await settings.UpdateAsync(x => x with { SeedQueueEnabled = false });
            Assert.All(torrents, t => Assert.Equal(TorrentState.Seeding, t.State));
            Assert.Equal(1, (await SettingsStore.LoadAsync(saved.SessionDirectory)).SeedQueueSize); // kept while the queue is off
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
