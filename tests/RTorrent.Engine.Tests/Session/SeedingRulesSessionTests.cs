using System.Net;
using System.Text;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// The seeding rules in a session: settings.json entries read, checked and handed to the engine; a torrent's own limits
/// survive restarts; a remove action goes through the session, so the removed torrent does not come back.
/// </summary>
public class SeedingRulesSessionTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-rules");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private SessionOptions Options(TimeProvider? time = null, SeedingRules? rules = null) => new()
    {
        SessionDirectory = Path.Combine(_root, "session"),
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, SeedingRules = rules ?? SeedingRules.None },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex"],
        Time = time ?? TimeProvider.System,
    };

    private string Data => Path.Combine(_root, "data");

    private TorrentMetainfo NewTorrent(string name) => TestTorrents.CreateMultiFile(Data, name, 16 * 1024, 30_000, 5_000);

    private static Torrent ByHash(ClientSession s, InfoHash hash) => s.Engine.Torrents.Single(t => t.InfoHash == hash);

    [Fact]
    public async Task A_torrents_own_limits_survive_two_restarts()
    {
        var (a, b) = (NewTorrent("a"), NewTorrent("b"));
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            var ta = await s.AddAsync(a, new TorrentOptions { SavePath = Data });
            var tb = await s.AddAsync(b, new TorrentOptions { SavePath = Data }, start: false);
            await ta.SetSeedIdleAsync(SeedRatioMode.Custom, 90);
            await ta.SetSeedingTimeLimitAsync(SeedRatioMode.Unlimited, null);
            await ta.SetMinSeedingTimeAsync(45);
            await tb.SetSeedingTimeLimitAsync(SeedRatioMode.Custom, 600);
            await tb.SetSeedIdleAsync(SeedRatioMode.Unlimited, 20);
        }
        for (int run = 0; run < 2; run++)
        {
            await using var s = await ClientSession.OpenAsync(Options());
            await s.RestoreAsync();
            var ta = ByHash(s, a.WireHash);
            var tb = ByHash(s, b.WireHash);
            Assert.Equal((SeedRatioMode.Custom, (int?)90), (ta.SeedIdleMode, ta.SeedIdleLimit));
            Assert.Equal((SeedRatioMode.Unlimited, (int?)null, (int?)45), (ta.SeedingTimeMode, ta.SeedingTimeLimit, ta.MinSeedingTime));
            Assert.Equal((SeedRatioMode.Custom, (int?)600), (tb.SeedingTimeMode, tb.SeedingTimeLimit));
            Assert.Equal((SeedRatioMode.Unlimited, (int?)20, (int?)null), (tb.SeedIdleMode, tb.SeedIdleLimit, tb.MinSeedingTime));
            var snap = (await s.Engine.GetSnapshotAsync()).Torrents.Single(t => t.Id == a.WireHash.ToHex());
            Assert.Equal((SeedRatioMode.Custom, (int?)90, (int?)45), (snap.SeedIdleMode, snap.SeedIdleLimit, snap.MinSeedingTime));
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_seeding_rule_runs_the_seeding_done_hook_and_a_stop_by_hand_does_not()
    {
        var time = new ManualTimeProvider();
        string events = Path.Combine(_root, "events");
        string hook = Path.Combine(_root, "seeded.sh");
        File.WriteAllText(hook, $"#!/bin/sh\nprintf '%s %s\\n' \"$RTORRENT_EVENT\" \"$TR_TORRENT_NAME\" >> '{events}'\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (idle, byHand) = (NewTorrent("idle"), NewTorrent("by-hand"));
        await using var s = await ClientSession.OpenAsync(Options(time, new SeedingRules { IdleLimitMinutes = 1 }));
        _ = new SessionSettings(new EngineSettings
        {
            SessionDirectory = Path.Combine(_root, "session"),
            DownloadDirectory = Data,
            SeedingDoneHook = hook,
            SeedingDoneHookEnabled = true,
        }, s, persist: false);
        var stopped = await s.AddAsync(byHand, new TorrentOptions { SavePath = Data });
        await stopped.StopAsync();
        var t = await s.AddAsync(idle, new TorrentOptions { SavePath = Data });
        Assert.Equal(TorrentState.Seeding, t.State);

        time.Advance(TimeSpan.FromMinutes(1.5));
        await TestWait.UntilAsync(() => File.Exists(events) && File.ReadAllLines(events).Length > 0, "the seeding-done hook's line");
        Assert.Equal(TorrentState.Stopped, t.State);
        Assert.Equal(["seeding-done idle"], File.ReadAllLines(events));
    }

    [Fact]
    public async Task A_remove_action_goes_through_the_session_so_the_torrent_does_not_come_back()
    {
        var time = new ManualTimeProvider();
        var meta = NewTorrent("gone");
        await using (var s = await ClientSession.OpenAsync(Options(time, new SeedingRules { IdleLimitMinutes = 1, Action = SeedingLimitAction.Remove })))
        {
            var t = await s.AddAsync(meta, new TorrentOptions { SavePath = Data });
            Assert.Equal(TorrentState.Seeding, t.State);
            time.Advance(TimeSpan.FromMinutes(1.5));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (s.Engine.Torrents.Contains(t) && DateTime.UtcNow < deadline) await Task.Delay(10);
            Assert.DoesNotContain(t, s.Engine.Torrents);
        }
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            await s.RestoreAsync();
            Assert.Empty(s.Engine.Torrents);
        }
        Assert.Equal(2, Directory.GetFiles(Path.Combine(Data, "gone"), "*", SearchOption.AllDirectories).Length); // data kept
    }

    [Fact]
    public async Task Seeding_time_counts_across_a_restart_and_a_torrent_stopped_by_a_rule_stays_stopped()
    {
        var time = new ManualTimeProvider();
        var meta = NewTorrent("timed");
        var rules = new SeedingRules { SeedingTimeLimitMinutes = 10 };
        await using (var s = await ClientSession.OpenAsync(Options(time, rules)))
        {
            Assert.Equal(TorrentState.Seeding, (await s.AddAsync(meta, new TorrentOptions { SavePath = Data })).State);
            time.Advance(TimeSpan.FromMinutes(6));
            await s.Engine.Loop.InvokeAsync(() => { });
        }
        time.Advance(TimeSpan.FromMinutes(30)); // the client is not running: does not count
        await using (var s = await ClientSession.OpenAsync(Options(time, rules)))
        {
            await s.RestoreAsync();
            var t = ByHash(s, meta.WireHash);
            time.Advance(TimeSpan.FromMinutes(3.9));
            await s.Engine.Loop.InvokeAsync(() => { });
            await s.Engine.Loop.InvokeAsync(() => { });
            Assert.Equal(TorrentState.Seeding, t.State);
            time.Advance(TimeSpan.FromMinutes(0.2));
            await s.Engine.Loop.InvokeAsync(() => { });
            await s.Engine.Loop.InvokeAsync(() => { });
            Assert.Equal(TorrentState.Stopped, t.State);
        }
        await using (var s = await ClientSession.OpenAsync(Options(time, rules)))
        {
            await s.RestoreAsync();
            var t = ByHash(s, meta.WireHash);
            Assert.Equal(TorrentState.Stopped, t.State);
            Assert.True(t.UserPaused);
        }
    }

    [Fact]
    public void Settings_json_entries_reach_the_engine_and_bad_values_are_named()
    {
        var s = SettingsStore.Parse(Encoding.UTF8.GetBytes("""
            { "idleSeedingLimitEnabled": true, "idleSeedingLimit": 15, "seedingTimeLimitEnabled": false, "seedingTimeLimit": 300,
              "minSeedingTime": 2880, "seedingLimitAction": "removeWithData" }
            """));
        Assert.Equal(new SeedingRules { IdleLimitMinutes = 15, MinSeedingTimeMinutes = 2880, Action = SeedingLimitAction.RemoveWithData },
            SessionOptions.EngineConfigFrom(s).SeedingRules);
        Assert.Equal(SeedingRules.None, SessionOptions.EngineConfigFrom(new EngineSettings()).SeedingRules);

        var e = Assert.Throws<SettingsException>(() => SettingsStore.Parse(Encoding.UTF8.GetBytes("""
            { "idleSeedingLimit": 0, "seedingTimeLimit": -3, "minSeedingTime": -1 }
            """)));
        Assert.Contains("idleSeedingLimit: must be 1-", e.Message);
        Assert.Contains("seedingTimeLimit: must be 1-", e.Message);
        Assert.Contains("minSeedingTime: must be 0 (none)", e.Message);
        Assert.Contains("seedingLimitAction: expected one of \"stop\", \"remove\", \"removeWithData\"",
            Assert.Throws<SettingsException>(() => SettingsStore.Parse(Encoding.UTF8.GetBytes("""{ "seedingLimitAction": "explode" }"""))).Message);
        Assert.Contains("\"seedingLimitAction\": \"removeWithData\"", Encoding.UTF8.GetString(SettingsStore.Serialize(s)));
    }
}
