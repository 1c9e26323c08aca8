using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Demo;
using RTorrent.Engine.Session;
using RTorrent.Testing;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>Broken plugins inside a real session: the engine and the data survive, the user sees why.</summary>
public class SessionFaultTests
{
    private static DemoOptions SmallSwarm => new()
    {
        SeederUploadLimits = [0],
        Files = [("Small/a.bin", 900_000), ("Small/b.bin", 300_000)],
        PieceLength = 32 * 1024,
    };

    private static SessionOptions Options(string root, params string[] pluginDirs) => new()
    {
        SessionDirectory = Path.Combine(root, "session"),
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
        EnableDht = false,
        PluginDirectories = pluginDirs,
        DisabledPeerSources = ["lsd", "hanging-source", "throwing-source", "chatty-source"],
        PluginHotReload = false,
    };

    private static async Task WaitForAsync(ClientEngine engine, Torrent t, TorrentState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (t.State != state && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(state, t.State);
    }

    [Fact]
    public async Task A_throwing_picker_is_replaced_by_rarest_first_and_the_download_completes()
    {
        using var plugins = new PluginFolder();
        plugins.Add("FaultyComponents");
        var root = TestPaths.NewTempDir();
        try
        {
            await using var swarm = await DemoSwarm.StartAsync(SmallSwarm);
            await using var session = await ClientSession.OpenAsync(Options(root, plugins.Path));
            Assert.NotNull(session.Components.GetPicker("throwing-picker"));
            var t = await session.AddAsync(swarm.Torrent, new TorrentOptions { SavePath = Path.Combine(root, "dl"), Picker = "throwing-picker" });
            await WaitForAsync(session.Engine, t, TorrentState.Seeding);
            var details = await session.Engine.GetDetailsAsync(t);
            Assert.Contains(details.Log, l => l.Message.Contains("picker disabled", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_picker_returning_nonsense_is_disabled_and_the_download_completes()
    {
        using var plugins = new PluginFolder();
        plugins.Add("FaultyComponents");
        var root = TestPaths.NewTempDir();
        try
        {
            await using var swarm = await DemoSwarm.StartAsync(SmallSwarm);
            await using var session = await ClientSession.OpenAsync(Options(root, plugins.Path));
            var t = await session.AddAsync(swarm.Torrent, new TorrentOptions { SavePath = Path.Combine(root, "dl"), Picker = "out-of-range-picker" });
            await WaitForAsync(session.Engine, t, TorrentState.Seeding);
            var details = await session.Engine.GetDetailsAsync(t);
            Assert.Contains(details.Log, l => l.Message.Contains("picker disabled", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_throwing_storage_puts_only_its_torrent_in_error_and_the_session_keeps_working()
    {
        using var plugins = new PluginFolder();
        plugins.Add("FaultyComponents");
        var root = TestPaths.NewTempDir();
        try
        {
            await using var swarm = await DemoSwarm.StartAsync(SmallSwarm);
            await using var other = await DemoSwarm.StartAsync(SmallSwarm with { Files = [("Other/c.bin", 500_000)] });
            await using var session = await ClientSession.OpenAsync(Options(root, plugins.Path));
            var broken = await session.AddAsync(swarm.Torrent, new TorrentOptions { SavePath = Path.Combine(root, "dl"), Storage = "throwing-storage" });
            var good = await session.AddAsync(other.Torrent, new TorrentOptions { SavePath = Path.Combine(root, "dl2") });
            await WaitForAsync(session.Engine, broken, TorrentState.Error);
            Assert.Contains("throwing-storage", (await session.Engine.GetSnapshotAsync()).Torrents.Single(s => s.Id == broken.InfoHash.ToHex()).Error);
            await WaitForAsync(session.Engine, good, TorrentState.Seeding);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_torrent_whose_storage_plugin_is_gone_comes_back_paused_with_the_reason()
    {
        using var plugins = new PluginFolder();
        plugins.Add("MemoryStorage");
        var root = TestPaths.NewTempDir();
        try
        {
            await using var swarm = await DemoSwarm.StartAsync(SmallSwarm);
            await using (var session = await ClientSession.OpenAsync(Options(root, plugins.Path)))
            {
                var t = await session.AddAsync(swarm.Torrent, new TorrentOptions { SavePath = Path.Combine(root, "dl"), Storage = "memory" });
                await WaitForAsync(session.Engine, t, TorrentState.Seeding);
            }
            await using (var session = await ClientSession.OpenAsync(Options(root) with { LoadPlugins = false }))
            {
                var restored = Assert.Single(await session.RestoreAsync());
                Assert.Equal(TorrentState.Stopped, restored.State);
                var snap = (await session.Engine.GetSnapshotAsync()).Torrents.Single();
                Assert.Contains("storage plugin 'memory' is not available", snap.Error);
                await restored.StartAsync();
                Assert.NotEqual(TorrentState.Downloading, restored.State);
                Assert.False(Directory.Exists(Path.Combine(root, "dl", "Small")), "nothing may be written to the file storage instead");
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
