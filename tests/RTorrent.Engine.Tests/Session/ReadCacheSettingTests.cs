using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>settings.json's diskReadCacheSize is the engine's read cache budget, at start and when changed live.</summary>
public sealed class ReadCacheSettingTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDir("rt-readcache");
    private ClientSession _session = null!;

    public async Task InitializeAsync()
    {
        var settings = new EngineSettings { SessionDirectory = Path.Combine(_root, "session"), DownloadDirectory = _root, DiskReadCacheSize = 12L << 20 };
        _session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = settings.SessionDirectory,
            Engine = SessionOptions.EngineConfigFrom(settings) with { ListenAddress = IPAddress.Loopback, ListenPort = 0 },
            LoadPlugins = false,
            EnableDht = false,
        });
        Settings = new SessionSettings(settings, _session, persist: false);
    }

    private SessionSettings Settings { get; set; } = null!;

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        Directory.Delete(_root, true);
    }

    [Fact]
    public async Task The_budget_comes_from_the_settings_and_changes_live()
    {
        Assert.Equal(12L << 20, await _session.Engine.Loop.InvokeAsync(() => _session.Engine.ReadCache.Capacity));
        await Settings.UpdateAsync(s => s with { DiskReadCacheSize = 3L << 20 });
        Assert.Equal(3L << 20, await _session.Engine.Loop.InvokeAsync(() => _session.Engine.ReadCache.Capacity));
        Assert.Equal(3L << 20, _session.Engine.Config.ReadCacheBytes);
    }

    [Fact]
    public void The_default_is_eight_mebibytes_for_the_settings_and_the_engine_alike()
    {
        Assert.Equal(8L << 20, new EngineSettings().DiskReadCacheSize);
        Assert.Equal(8L << 20, new EngineConfig().ReadCacheBytes);
    }
}
