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
}
