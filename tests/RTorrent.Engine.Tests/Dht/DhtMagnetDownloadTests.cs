using System.Net;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Dht;

/// <summary>
/// The whole trackerless path against libtorrent: a magnet link with nothing but the info-hash; our DHT finds the
/// libtorrent seeder, BEP 9 fetches the metadata from it, and the data follows.
/// </summary>
public class DhtMagnetDownloadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public Task A_bare_magnet_link_downloads_from_a_libtorrent_seeder_found_through_the_dht_alone() => DownloadAsync(IPAddress.Loopback);

    /// <summary>
    /// The same over IPv6 alone: libtorrent's IPv6 DHT node and peer on ::1, our session listening on ::1 only, so its
    /// one DHT node is the IPv6 one (BEP 32) and the peer it finds is an IPv6 peer.
    /// </summary>
    [Fact]
    public Task A_bare_magnet_link_downloads_over_ipv6_from_a_libtorrent_seeder_found_through_the_ipv6_dht_alone() =>
        DownloadAsync(IPAddress.IPv6Loopback);

    private async Task DownloadAsync(IPAddress host)
    {
        LibtorrentDhtNode.EnsureAvailable();
        var root = TestPaths.NewTempDir();
        try
        {
            // A torrent without trackers: peers can only come from the DHT.
            var seedDir = Path.Combine(root, "seed");
            var withTracker = TestTorrents.CreateMultiFile(seedDir, "dhtpayload", 32 * 1024, 600_000, 150_000);
            var top = (BDictionary)BencodeReader.Decode(withTracker.RawBytes);
            var noTracker = new BDictionary { ["info"] = top.Get<BDictionary>("info")! };
            var torrentPath = Path.Combine(root, "t.torrent");
            await File.WriteAllBytesAsync(torrentPath, BencodeWriter.Encode(noTracker));
            var meta = TorrentMetainfo.Load(torrentPath);
            Assert.Empty(meta.AnnounceTiers);

            int seederPort = LibtorrentDhtNode.FreePort(host), helperPort = LibtorrentDhtNode.FreePort(host);
            await using var seeder = LibtorrentDhtNode.Start(seederPort, [], seedTorrent: torrentPath, seedDirectory: seedDir, host: host);
            await using var helper = LibtorrentDhtNode.Start(helperPort, [new IPEndPoint(host, seederPort)], host: host);
            using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await seeder.WaitForAsync(l => l.StartsWith("READY", StringComparison.Ordinal), "the libtorrent seeder", ready.Token);
            await helper.WaitForAsync(l => l.StartsWith("READY", StringComparison.Ordinal), "the libtorrent DHT node", ready.Token);

            await using var session = await ClientSession.OpenAsync(new SessionOptions
            {
                SessionDirectory = Path.Combine(root, "session"),
                Engine = new EngineConfig { ListenAddress = host },
                LoadPlugins = false,
                EnableDht = true,
                DhtUsePublicRouters = false,
                DhtBootstrap = [new IPEndPoint(host, seederPort).ToString(), new IPEndPoint(host, helperPort).ToString()],
                LoggerFactory = new TestLoggerFactory(output),
            });
            var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{meta.WireHash.ToHex()}");
            var t = await session.AddAsync(magnet, new TorrentOptions { SavePath = Path.Combine(root, "dl") });
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (t.State != TorrentState.Seeding && DateTime.UtcNow < deadline) await Task.Delay(200);
            var snap = (await session.Engine.GetSnapshotAsync()).Torrents.Single();
            Assert.True(t.State == TorrentState.Seeding, $"state {t.State}: {snap.Error}");
            for (int i = 0; i < 2; i++)
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "dhtpayload", $"file{i}.bin")),
                    await File.ReadAllBytesAsync(Path.Combine(root, "dl", "dhtpayload", $"file{i}.bin")));
            var details = await session.Engine.GetDetailsAsync(t);
            Assert.Contains(details.Sources, s => s.Source == "dht");
            Assert.Equal(host.AddressFamily, session.Dht!.AddressFamily);
            Assert.Single(session.DhtNodes);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
