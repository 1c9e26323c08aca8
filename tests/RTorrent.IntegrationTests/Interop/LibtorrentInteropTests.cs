using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// <c>rtorrent</c> against libtorrent (python3-libtorrent 2.0), the reference implementation most clients are built
/// on: through opentracker, directly, and from magnet links (BEP 9) in both directions.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class LibtorrentInteropTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Downloads_a_multi_file_torrent_from_a_libtorrent_seeder_found_through_opentracker()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "multi"), Payload.MultiFile, seed: 1);
        int trackerPort = OpenTracker.ReservePort();
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "multi"), tmp.PathOf("multi.torrent"), 32 * 1024,
            OpenTracker.HttpAnnounceFor(trackerPort));
        Assert.Contains(torrent.Meta.Files, f => f.Length == 0 && f.Path.EndsWith("empty.cue", StringComparison.Ordinal));

        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"));
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Assert.Contains("Complete: 'multi' verified.", client.StandardError, StringComparison.Ordinal);
        Payload.AssertSameTree(seedData, save);
    }

    [Fact]
    public async Task Seeds_to_a_libtorrent_downloader_that_finds_it_through_opentracker()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "single.bin"), 3 * 1024 * 1024 + 12_345, seed: 2);
        int trackerPort = OpenTracker.ReservePort();
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "single.bin"), tmp.PathOf("single.torrent"), 64 * 1024,
            OpenTracker.HttpAnnounceFor(trackerPort));

        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"));
        await RTorrentCli.WaitSeedingPortAsync(seeder);
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(torrent.FilePath, save, output);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        Assert.False(seeder.HasExited, $"the seeder stopped.\n{seeder.Tail()}");
    }

    [Fact]
    public async Task Fetches_the_metadata_of_a_magnet_link_from_a_libtorrent_seeder_named_in_it_and_downloads()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "magnet"), Payload.MultiFile, seed: 3);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "magnet"), tmp.PathOf("magnet.torrent"), 16 * 1024);
        Assert.Empty(torrent.Meta.AnnounceTiers);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);

        var save = tmp.Sub("download");
        var session = tmp.Sub("session");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.MagnetWithPeers(seeder.Port), save, session);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
        // The info dictionary fetched from libtorrent is the one the info-hash names, kept for the next start.
        var kept = RTorrent.Engine.Metainfo.TorrentMetainfo.Load(Path.Combine(session, torrent.InfoHashHex + ".torrent"));
        Assert.Equal(torrent.Meta.InfoBytes.ToArray(), kept.InfoBytes.ToArray());
    }

    [Fact]
    public async Task Serves_the_metadata_and_data_to_a_libtorrent_downloader_that_has_only_a_magnet_link()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "served"), Payload.MultiFile, seed: 4);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "served"), tmp.PathOf("served.torrent"), 32 * 1024);
        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"));
        int port = await RTorrentCli.WaitSeedingPortAsync(seeder);

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader($"magnet:?xt=urn:btih:{torrent.InfoHashHex}", save, output, peers: port);
        await downloader.Process.WaitForLineAsync(l => l.StartsWith("METADATA served", StringComparison.Ordinal), Limits.Transfer, "the metadata");
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
    }
}
