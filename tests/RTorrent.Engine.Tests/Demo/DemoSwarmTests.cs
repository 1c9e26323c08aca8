using System.Security.Cryptography;
using RTorrent.Engine.Client;
using RTorrent.Engine.Demo;
using RTorrent.Engine.Session;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Demo;

public class DemoSwarmTests
{
    [Fact]
    public async Task A_session_downloads_the_demo_torrent_from_the_in_process_swarm_through_its_tracker()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            await using var swarm = await DemoSwarm.StartAsync(new DemoOptions
            {
                SeederUploadLimits = [0, 0],
                Files = [("Demo/a.bin", 3_000_000), ("Demo/sub/b.bin", 1_234_567), ("Demo/empty.txt", 0)],
                PieceLength = 64 * 1024,
            });
            await using var session = await ClientSession.OpenAsync(new SessionOptions
            {
                SessionDirectory = Path.Combine(root, "session"),
                Engine = new EngineConfig { ListenAddress = System.Net.IPAddress.Loopback },
                LoadPlugins = false,
                EnableDht = false,
            });
            var done = new TaskCompletionSource();
            session.Engine.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            var torrent = await session.AddAsync(swarm.Torrent, new TorrentOptions { SavePath = Path.Combine(root, "dl") });
            await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var payload = new GeneratedPayload();
            var expected = new byte[3_000_000];
            payload.Fill(0, expected);
            Assert.Equal(SHA1.HashData(expected), SHA1.HashData(await File.ReadAllBytesAsync(Path.Combine(root, "dl", "Demo", "a.bin"))));
            Assert.True(File.Exists(Path.Combine(root, "dl", "Demo", "empty.txt")));
            var details = await session.Engine.GetDetailsAsync(torrent);
            Assert.Contains(details.Sources, s => s.Source == "tracker" && s.State != "error");
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void Generated_bytes_do_not_depend_on_how_they_are_read()
    {
        var p = new GeneratedPayload();
        var whole = new byte[1000];
        p.Fill(0, whole);
        var part = new byte[333];
        p.Fill(123, part);
        Assert.Equal(whole.AsSpan(123, 333).ToArray(), part);
    }
}
