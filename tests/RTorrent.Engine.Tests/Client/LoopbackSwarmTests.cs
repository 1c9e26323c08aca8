using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

public class LoopbackSwarmTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_downloader_gets_every_byte_from_a_seeder_over_loopback()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var leechDir = Path.Combine(root, "leech");
            var torrent = TestTorrents.CreateMultiFile(seedDir, "payload", 64 * 1024, 1_000_000, 0, 333_333, 5_000_000);
            var catalog = new TestCatalog();
            await using var seeder = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback }, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "S ") });
            await seeder.StartAsync();
            var seedTorrent = await seeder.AddAsync(torrent, new TorrentOptions { SavePath = seedDir });
            Assert.Equal(TorrentState.Seeding, seedTorrent.State);

            await using var leecher = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback }, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "L ") });
            await leecher.StartAsync();
            var done = new TaskCompletionSource();
            leecher.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            var t = await leecher.AddAsync(torrent, new TorrentOptions
            {
                SavePath = leechDir,
                Peers = [new IPEndPoint(IPAddress.Loopback, seeder.ListenPort)],
            });
            try { await done.Task.WaitAsync(TimeSpan.FromSeconds(20)); }
            catch (TimeoutException) { var d = await leecher.GetDetailsAsync(t); output.WriteLine($"state {d.Summary.State} have {d.Summary.PiecesHave}/{d.Summary.PieceCount} peers {d.Peers.Count} {string.Join(';', d.Peers.Select(p => p.Address + ' ' + p.Flags + ' ' + p.RequestsOut))}"); throw; }
            for (int i = 0; i < 4; i++)
            {
                var a = await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload", $"file{i}.bin"));
                var b = await File.ReadAllBytesAsync(Path.Combine(leechDir, "payload", $"file{i}.bin"));
                Assert.Equal(a, b);
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
