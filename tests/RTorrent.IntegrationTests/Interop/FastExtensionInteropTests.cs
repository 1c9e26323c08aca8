using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// BEP 6 with libtorrent (python3-libtorrent 2.0 speaks it by default): both directions negotiate the fast extension
/// and a transfer completes with it on: libtorrent's HAVE ALL understood when it seeds, ours when we do. The client
/// runs in-process so its log says which peers negotiated it. (Serving allowed-fast pieces while choked, rejects and
/// malformed messages are in the engine's FastWireTests, with hand-written peers that can be made to ask for them.)
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class FastExtensionInteropTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Downloads_from_a_libtorrent_seeder_with_the_fast_extension_negotiated()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "fast.bin"), 2 * 1024 * 1024 + 4321, seed: 61);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "fast.bin"), tmp.PathOf("fast.torrent"), 32 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save, seeder.Port);
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        var log = await client.LogAsync(t);
        Assert.Contains(log, l => l.StartsWith($"connected to 127.0.0.1:{seeder.Port} (libtorrent", StringComparison.Ordinal) && l.Contains(", fast", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Seeds_to_a_libtorrent_downloader_with_the_fast_extension_negotiated()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "fast.bin"), 3 * 1024 * 1024 - 999, seed: 62);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "fast.bin"), tmp.PathOf("fast.torrent"), 64 * 1024);

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var t = await client.AddAsync(torrent.Meta, seedData);
        await client.WaitCompleteAsync(t, Limits.Startup); // checked: seeding
        int port = client.Session.Engine.ListenPort;

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(torrent.FilePath, save, output, peers: port);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        var log = await client.LogAsync(t);
        Assert.Contains(log, l => l.StartsWith("connected to 127.0.0.1:", StringComparison.Ordinal)
                                  && l.Contains("(libtorrent", StringComparison.Ordinal) && l.Contains(", in, fast", StringComparison.Ordinal));
    }
}
