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

    /// <summary>
    /// BEP 52 through the DHT (issue 17): a btmh-only magnet of a v2-only and of a hybrid torrent; our node looks up the
    /// truncated v2 hash, finds the libtorrent seeder announced under it, takes the metadata (checked against the
    /// SHA-256 info-hash) and the data, verified by the merkle trees.
    /// </summary>
    [Theory]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.V1 | TorrentVersions.V2)]
    public async Task A_btmh_magnet_downloads_a_v2_torrent_from_a_libtorrent_seeder_found_through_the_dht(TorrentVersions versions)
    {
        LibtorrentDhtNode.EnsureAvailable();
        var root = TestPaths.NewTempDir();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            TestTorrents.CreateMultiFile(seedDir, "v2payload", 32 * 1024, 600_000, 150_000);
            var torrentPath = Path.Combine(root, "v2.torrent");
            var created = await TorrentCreator.CreateFileAsync(Path.Combine(seedDir, "v2payload"), torrentPath,
                new TorrentCreatorOptions { PieceLength = 32 * 1024, Version = versions });
            var meta = TorrentMetainfo.Load(torrentPath);
            Assert.Empty(meta.AnnounceTiers);
            Assert.NotNull(meta.InfoHashV2);

            var host = IPAddress.Loopback;
            int seederPort = LibtorrentDhtNode.FreePort(host), helperPort = LibtorrentDhtNode.FreePort(host);
            await using var seeder = LibtorrentDhtNode.Start(seederPort, [], seedTorrent: torrentPath, seedDirectory: seedDir, host: host);
            await using var helper = LibtorrentDhtNode.Start(helperPort, [new IPEndPoint(host, seederPort)], host: host);
            using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await seeder.WaitForAsync(l => l.StartsWith("READY", StringComparison.Ordinal), "the libtorrent seeder", ready.Token);
            await helper.WaitForAsync(l => l.StartsWith("READY", StringComparison.Ordinal), "the libtorrent DHT node", ready.Token);

            await using var session = await OpenDhtSessionAsync(root, host, seederPort, helperPort);
            var magnet = MagnetLink.Parse($"magnet:?xt=urn:btmh:1220{Convert.ToHexStringLower(meta.InfoHashV2!)}");
            var t = await session.AddAsync(magnet, new TorrentOptions { SavePath = Path.Combine(root, "dl") });
            await WaitSeedingAsync(session, t);
            for (int i = 0; i < 2; i++)
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "v2payload", $"file{i}.bin")),
                    await File.ReadAllBytesAsync(Path.Combine(root, "dl", "v2payload", $"file{i}.bin")));
            Assert.Contains((await session.Engine.GetDetailsAsync(t)).Sources, s => s.Source == "dht");
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    /// <summary>
    /// BEP 52, the other way: a hybrid we seed is announced on the DHT under both its hashes (its v1 info-hash and its
    /// truncated v2 one), so v1 and v2 clients both find us: two libtorrent nodes, each looking one of them up.
    /// </summary>
    [Fact]
    public async Task A_hybrid_we_seed_is_announced_on_the_dht_under_both_hashes()
    {
        LibtorrentDhtNode.EnsureAvailable();
        var root = TestPaths.NewTempDir();
        var lt = new List<LibtorrentDhtNode>();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            TestTorrents.CreateMultiFile(seedDir, "hybrid", 32 * 1024, 300_000);
            var torrentPath = Path.Combine(root, "hybrid.torrent");
            await TorrentCreator.CreateFileAsync(Path.Combine(seedDir, "hybrid"), torrentPath,
                new TorrentCreatorOptions { PieceLength = 32 * 1024, Version = TorrentVersions.V1 | TorrentVersions.V2 });
            var meta = TorrentMetainfo.Load(torrentPath);
            string v1 = meta.InfoHashV1!.Value.ToHex(), v2 = meta.InfoHashV2Truncated!.Value.ToHex();

            var host = IPAddress.Loopback;
            int portA = LibtorrentDhtNode.FreePort(host), portB = LibtorrentDhtNode.FreePort(host);
            lt.Add(LibtorrentDhtNode.Start(portA, [new IPEndPoint(host, portB)], lookupHex: v1, host: host));
            lt.Add(LibtorrentDhtNode.Start(portB, [new IPEndPoint(host, portA)], lookupHex: v2, host: host));
            using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            foreach (var node in lt) await node.WaitForAsync(l => l.StartsWith("READY", StringComparison.Ordinal), "a libtorrent DHT node", ready.Token);

            await using var session = await OpenDhtSessionAsync(root, host, portA, portB);
            var t = await session.AddAsync(meta, new TorrentOptions { SavePath = seedDir });
            int port = session.Engine.ListenPort;
            using var found = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await lt[0].WaitForAsync(l => l == $"PEER {v1} 127.0.0.1:{port}", "us under the v1 hash", found.Token);
            await lt[1].WaitForAsync(l => l == $"PEER {v2} 127.0.0.1:{port}", "us under the truncated v2 hash", found.Token);
            Assert.Equal(TorrentState.Seeding, t.State);
        }
        finally
        {
            foreach (var node in lt) await node.DisposeAsync();
            Directory.Delete(root, true);
        }
    }

    /// <summary>A session whose only peer source is a DHT node (on <paramref name="host"/>) bootstrapped from the given ports.</summary>
    private Task<ClientSession> OpenDhtSessionAsync(string root, IPAddress host, params int[] bootstrapPorts) =>
        ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = Path.Combine(root, "session"),
            Engine = new EngineConfig { ListenAddress = host },
            LoadPlugins = false,
            EnableDht = true,
            DhtUsePublicRouters = false,
            DhtBootstrap = [.. bootstrapPorts.Select(p => new IPEndPoint(host, p).ToString())],
            LoggerFactory = new TestLoggerFactory(output),
        });

    private static async Task WaitSeedingAsync(ClientSession session, Torrent t)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (t.State != TorrentState.Seeding && DateTime.UtcNow < deadline) await Task.Delay(200);
        var snap = (await session.Engine.GetSnapshotAsync()).Torrents.Single();
        Assert.True(t.State == TorrentState.Seeding, $"state {t.State}: {snap.Error}");
    }

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

            await using var session = await OpenDhtSessionAsync(root, host, seederPort, helperPort);
            var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{meta.WireHash.ToHex()}");
            var t = await session.AddAsync(magnet, new TorrentOptions { SavePath = Path.Combine(root, "dl") });
            await WaitSeedingAsync(session, t);
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
