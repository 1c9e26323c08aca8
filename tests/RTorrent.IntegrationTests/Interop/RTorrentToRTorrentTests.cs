using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>Two <c>rtorrent</c> processes find each other through opentracker over HTTP (BEP 3/23) and UDP (BEP 15).</summary>
[Collection(InteropCollection.Name)]
public sealed class RTorrentToRTorrentTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("http")]
    [InlineData("udp")]
    public async Task A_downloader_gets_a_torrent_from_a_seeder_it_learns_of_from_the_tracker(string scheme)
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "pair"), Payload.MultiFile, seed: 21);
        int trackerPort = OpenTracker.ReservePort();
        var announce = scheme == "udp" ? OpenTracker.UdpAnnounceFor(trackerPort) : OpenTracker.HttpAnnounceFor(trackerPort);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "pair"), tmp.PathOf("pair.torrent"), 32 * 1024, announce);
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);

        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("seed-session"));
        await RTorrentCli.WaitSeedingPortAsync(seeder);
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent-get", tmp.Path, output, torrent.FilePath, save, tmp.Sub("get-session"));
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
        Assert.False(seeder.HasExited, $"the seeder stopped.\n{seeder.Tail()}");
    }
}
