using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.WebSeeds;

/// <summary>settings.json's webSeedConnections: 0 turns web seeds off, a number turns them on live; its bounds.</summary>
public sealed class WebSeedSettingTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDir("rt-wssetting");
    private ClientSession _session = null!;
    private SessionSettings _settings = null!;

    public async Task InitializeAsync()
    {
        var settings = new EngineSettings { SessionDirectory = Path.Combine(_root, "session"), DownloadDirectory = _root, WebSeedConnections = 0 };
        _session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = settings.SessionDirectory,
            Engine = SessionOptions.EngineConfigFrom(settings) with { ListenAddress = IPAddress.Loopback, ListenPort = 0 },
            LoadPlugins = false,
            EnableDht = false,
            DisabledPeerSources = ["dht", "pex", "lsd"],
        });
        _settings = new SessionSettings(settings, _session, persist: false);
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        Directory.Delete(_root, true);
    }

    [Fact]
    public async Task Web_seeds_off_fetch_nothing_and_turned_on_live_they_download()
    {
        await using var server = new ScriptedWebServer((r, s, ct) => ScriptedWebServer.ServeFileAsync(Path.Combine(_root, "served"), r, s, ct));
        var (meta, payload) = WebSeedTorrents.Create(Path.Combine(_root, "served"), "live", 16 * 1024, [new SeedFile("x.bin", 300_000)], urlList: [server.Url]);
        var engine = _session.Engine;
        var save = Path.Combine(_root, "save");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
        var t = await engine.AddAsync(meta, new TorrentOptions { SavePath = save });
        Assert.Equal(TorrentState.Downloading, t.State);
        Assert.Equal(0, await engine.Loop.InvokeAsync(() => t.WebSeedsSendingToUs));
        Assert.Equal(RTorrent.Engine.WebSeeds.WebSeedState.Idle, Assert.Single((await engine.GetDetailsAsync(t)).WebSeeds).State);

        await _settings.UpdateAsync(s => s with { WebSeedConnections = 3 });
        Assert.Equal(3, engine.Config.WebSeedConnections);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, save));
        Assert.True(server.Requests > 0);
    }

    [Fact]
    public void The_number_is_checked_and_defaults_to_two()
    {
        Assert.Equal(2, new EngineSettings().WebSeedConnections);
        Assert.Equal(2, new EngineConfig().WebSeedConnections);
        Assert.Empty(new EngineSettings { WebSeedConnections = 0 }.Validate());
        Assert.Empty(new EngineSettings { WebSeedConnections = 16 }.Validate());
        Assert.Contains(new EngineSettings { WebSeedConnections = 17 }.Validate(), e => e.Contains("webSeedConnections", StringComparison.Ordinal));
        Assert.Contains(new EngineSettings { WebSeedConnections = -1 }.Validate(), e => e.Contains("webSeedConnections", StringComparison.Ordinal));
    }
}
