using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Peer limits lowered while torrents run close connections at once, the global one across torrents.</summary>
public class PeerLimitTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void The_global_plan_takes_from_the_torrent_with_the_most_connections_worst_first()
    {
        IReadOnlyList<IReadOnlyList<string>> owners = [["a1", "a2", "a3"], ["b1"], ["c1", "c2"]];
        Assert.Equal(["a1", "a2", "c1"], ConnectionTrimmer.PlanGlobal(owners, 3));
        Assert.Empty(ConnectionTrimmer.PlanGlobal(owners, 6));
        Assert.Equal(6, ConnectionTrimmer.PlanGlobal(owners, 0).Count);
    }

    [Fact]
    public async Task Lowered_global_and_per_torrent_limits_close_connections_and_snapshots_count_transfers()
    {
        var root = TestPaths.NewTempDir();
        var engines = new List<ClientEngine>();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var torrent = TestTorrents.CreateMultiFile(seedDir, "payload", 64 * 1024, 4_000_000);
            var catalog = new TestCatalog();
            var seeder = new ClientEngine(new EngineConfig { ListenAddress = IPAddress.Loopback }, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "S ") });
            engines.Add(seeder);
            await seeder.StartAsync();
            var seed = await seeder.AddAsync(torrent, new TorrentOptions { SavePath = seedDir });

            var leeches = new List<Torrent>();
            for (int i = 0; i < 3; i++)
            {
                var leecher = new ClientEngine(new EngineConfig { ListenAddress = IPAddress.Loopback }, new ClientEngineOptions { Catalog = catalog });
                engines.Add(leecher);
                await leecher.StartAsync();
                // Slow enough to stay connected and downloading for the whole test.
                leeches.Add(await leecher.AddAsync(torrent, new TorrentOptions
                {
                    SavePath = Path.Combine(root, $"leech{i}"),
                    DownloadLimit = 32 * 1024,
                    Peers = [new IPEndPoint(IPAddress.Loopback, seeder.ListenPort)],
                }));
            }

            async Task<TorrentSnapshot> Seed() => (await seeder.GetSnapshotAsync()).Torrents.Single();
            async Task Until(Func<TorrentSnapshot, bool> condition, string what)
            {
                var deadline = DateTime.UtcNow + TestWait.Limit;
                while (!condition(await Seed()))
                {
                    if (DateTime.UtcNow > deadline) throw new TimeoutException($"Gave up waiting for: {what} ({await Seed()})");
                    await Task.Delay(20);
                }
            }

            await Until(s => s.PeersConnected == 3 && s.PeersGettingFromUs == 3, "three leechers downloading");
            var leech0 = (await engines[1].GetSnapshotAsync()).Torrents.Single();
            Assert.Equal((1, 0), (leech0.PeersSendingToUs, leech0.PeersGettingFromUs));

            await seeder.SetConnectionLimitsAsync(global: 2, perTorrent: 100);
            await Until(s => s.PeersConnected == 2, "the global limit");
            Assert.Equal((2, 100), (seeder.Config.MaxConnections, seeder.Config.MaxConnectionsPerTorrent));

            await seed.SetMaxConnectionsAsync(1);
            await Until(s => s.PeersConnected == 1 && s.MaxConnections == 1, "the torrent's own limit");

            await seeder.SetConnectionLimitsAsync(global: 500, perTorrent: 1);
            await seed.SetMaxConnectionsAsync(null);
            Assert.Equal(1, (await Seed()).MaxConnections);
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => seeder.SetConnectionLimitsAsync(0, 10));
        }
        finally
        {
            foreach (var e in engines) await e.DisposeAsync();
            Directory.Delete(root, true);
        }
    }
}
