using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>A torrent added or restored paused stays paused, however many restarts follow.</summary>
public class SessionPauseTests
{
    [Fact]
    public async Task A_torrent_added_paused_is_still_paused_after_two_restarts()
    {
        var root = TestPaths.NewTempDir("rt-pause");
        try
        {
            var data = Path.Combine(root, "data");
            var meta = TestTorrents.CreateMultiFile(data, "p", 16 * 1024, 20_000);
            var options = new SessionOptions
            {
                SessionDirectory = Path.Combine(root, "session"),
                Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
                LoadPlugins = false,
                EnableDht = false,
                DisabledPeerSources = ["tracker", "pex"],
            };
            await using (var s = await ClientSession.OpenAsync(options))
                Assert.Equal(TorrentState.Stopped, (await s.AddAsync(meta, new TorrentOptions { SavePath = data }, start: false)).State);
            for (int run = 0; run < 2; run++)
            {
                await using var s = await ClientSession.OpenAsync(options);
                Assert.Equal(TorrentState.Stopped, Assert.Single(await s.RestoreAsync()).State);
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
