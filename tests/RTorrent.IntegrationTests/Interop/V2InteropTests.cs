using RTorrent.Engine.Metainfo;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// BEP 52 against libtorrent 2.0.8, both ways, byte-exact: v2-only and hybrid multi-file torrents from .torrent files
/// and from magnet links (btmh; the piece layers then travel in hash request / hashes messages).
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class V2InteropTests(ITestOutputHelper output)
{
    private static async Task<TestTorrent> MakeAsync(TempFolder tmp, string seedData, string name, TorrentVersions version, int seed)
    {
        Payload.Write(Path.Combine(seedData, name), Payload.MultiFile, seed);
        var path = tmp.PathOf(name + ".torrent");
        var created = await TorrentCreator.CreateFileAsync(Path.Combine(seedData, name), path,
            new TorrentCreatorOptions { PieceLength = 32 * 1024, Version = version, Comment = "RTorrent v2 interop test" });
        return new TestTorrent(path, created.Metainfo);
    }

    [Theory]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task Downloads_from_a_libtorrent_seeder(TorrentVersions version)
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        var torrent = await MakeAsync(tmp, seedData, "v2get", version, seed: 21);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"),
            RTorrentCli.Peer(seeder.Port));
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
    }

    [Theory]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task Seeds_to_a_libtorrent_downloader(TorrentVersions version)
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        var torrent = await MakeAsync(tmp, seedData, "v2seed", version, seed: 22);
        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"));
        int port = await RTorrentCli.WaitSeedingPortAsync(seeder);

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(torrent.FilePath, save, output, peers: port);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        Assert.False(seeder.HasExited, $"the seeder stopped.\n{seeder.Tail()}");
    }

    /// <summary>A btmh magnet (and btih too for a hybrid) with only the hashes and the peer.</summary>
    private static string Magnet(TestTorrent torrent, int port)
    {
        var m = torrent.Meta;
        var link = m.InfoHashV1 is { } v1 ? $"magnet:?xt=urn:btih:{v1.ToHex()}&" : "magnet:?";
        return link + $"xt=urn:btmh:1220{Convert.ToHexStringLower(m.InfoHashV2!)}&x.pe=127.0.0.1:{port}";
    }

    [Theory]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task Downloads_a_magnet_link_from_a_libtorrent_seeder_fetching_the_piece_layers_with_hash_requests(TorrentVersions version)
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        var torrent = await MakeAsync(tmp, seedData, "v2mag", version, seed: 23);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);

        var save = tmp.Sub("download");
        var session = tmp.Sub("session");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, Magnet(torrent, seeder.Port), save, session);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
        if (version == TorrentVersions.V2)
        {
            // The .torrent kept for the next start has the layers that came in hashes messages.
            var kept = TorrentMetainfo.Load(Path.Combine(session, torrent.InfoHashHex + ".torrent"));
            Assert.DoesNotContain(kept.Warnings, w => w.Contains("piece layer", StringComparison.Ordinal));
            Assert.Equal(torrent.Meta.InfoBytes.ToArray(), kept.InfoBytes.ToArray());
        }
    }

    [Theory]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task Serves_the_metadata_and_piece_layers_to_a_libtorrent_downloader_with_a_magnet_link(TorrentVersions version)
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        var torrent = await MakeAsync(tmp, seedData, "v2serve", version, seed: 24);
        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"));
        int port = await RTorrentCli.WaitSeedingPortAsync(seeder);

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(Magnet(torrent, port), save, output, peers: port);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        Assert.False(seeder.HasExited, $"the seeder stopped.\n{seeder.Tail()}");
    }

    [Fact]
    public async Task A_hybrid_is_announced_under_both_info_hashes_and_a_v2_only_torrent_under_its_truncated_v2_hash()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        int trackerPort = OpenTracker.ReservePort();
        Payload.Write(Path.Combine(seedData, "hy"), Payload.MultiFile, seed: 25);
        Payload.Write(Path.Combine(seedData, "v2"), Payload.MultiFile, seed: 26);
        var announce = new[] { new[] { OpenTracker.HttpAnnounceFor(trackerPort) } };
        var hybrid = (await TorrentCreator.CreateFileAsync(Path.Combine(seedData, "hy"), tmp.PathOf("hy.torrent"),
            new TorrentCreatorOptions { PieceLength = 32 * 1024, Version = TorrentVersions.Hybrid, Trackers = announce })).Metainfo;
        var v2 = (await TorrentCreator.CreateFileAsync(Path.Combine(seedData, "v2"), tmp.PathOf("v2.torrent"),
            new TorrentCreatorOptions { PieceLength = 32 * 1024, Version = TorrentVersions.V2, Trackers = announce })).Metainfo;
        string hyV1 = hybrid.InfoHashV1!.Value.ToHex(), hyV2 = hybrid.InfoHashV2Truncated!.Value.ToHex();
        string onlyV2 = v2.InfoHashV2Truncated!.Value.ToHex();
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [hyV1, hyV2, onlyV2], output);

        await using var seedHybrid = RTorrentCli.Seed("rt-seed-hy", tmp.Path, output, tmp.PathOf("hy.torrent"), seedData, tmp.Sub("s1"));
        await using var seedV2 = RTorrentCli.Seed("rt-seed-v2", tmp.Path, output, tmp.PathOf("v2.torrent"), seedData, tmp.Sub("s2"));
        await tracker.WaitForSeedersAsync(hyV1, 1, Limits.Startup);
        await tracker.WaitForSeedersAsync(hyV2, 1, Limits.Startup);
        await tracker.WaitForSeedersAsync(onlyV2, 1, Limits.Startup);
    }
}
