using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// <c>rtorrent</c> against clients with their own wire implementations: aria2 and Transmission (transmission-cli 3.00).
/// Transmission never dials 127.0.0.0/8 peers (it drops them silently) but accepts them, so on loopback our client
/// dials it in both directions: it downloads from a Transmission seeder with <c>--peer</c>, and it seeds to a
/// Transmission downloader by dialling it with <c>rtorrent seed --peer</c>.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class OtherClientsInteropTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Downloads_from_an_aria2_seeder_a_torrent_made_by_mktorrent()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "aria"), Payload.MultiFile, seed: 11);
        var torrent = await TestTorrent.CreateWithMktorrentAsync(Path.Combine(seedData, "aria"), tmp.PathOf("aria.torrent"), 15, tracker: null);
        int port = FreePorts.Tcp();
        await using var seeder = await Aria2.StartSeederAsync(torrent, seedData, port, output);

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"), RTorrentCli.Peer(port));
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
    }

    [Fact]
    public async Task Downloads_from_a_transmission_seeder_it_dials()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "tr"), Payload.MultiFile, seed: 12);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "tr"), tmp.PathOf("tr.torrent"), 32 * 1024);
        int port = FreePorts.Tcp();
        await using var seeder = await Transmission.StartSeederAsync(torrent, seedData, tmp.Sub("tr-config"), port, output);

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"), RTorrentCli.Peer(port));
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
    }

    [Fact]
    public async Task Seeds_to_a_transmission_downloader_it_dials()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "tr-single.bin"), 2 * 1024 * 1024 + 999, seed: 13);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "tr-single.bin"), tmp.PathOf("tr-single.torrent"), 64 * 1024);
        int port = FreePorts.Tcp();
        var save = tmp.Sub("download");
        await using var downloader = Transmission.Start("transmission-get", torrent, save, tmp.Sub("tr-config"), port, output);
        await Poll.UntilAsync(() => FreePorts.IsListeningAsync(port), Limits.Startup, "transmission listening", context: () => downloader.Tail());

        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"), RTorrentCli.Peer(port));
        await RTorrentCli.WaitSeedingPortAsync(seeder);
        await downloader.WaitUntilAsync(() => torrent.CountVerifiedOnDisk(save) == torrent.Meta.PieceCount, Limits.Transfer,
            "transmission has every piece on disk", TimeSpan.FromMilliseconds(500));

        Payload.AssertSameTree(seedData, save);
        Assert.False(seeder.HasExited, $"the seeder stopped.\n{seeder.Tail()}");
    }
}
