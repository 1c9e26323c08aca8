using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// Message Stream Encryption against libtorrent: with peers that accept nothing but an RC4 stream, a transfer
/// completes only if our handshake and our RC4 both ways are right, byte for byte.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class EncryptionInteropTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Seeds_to_a_libtorrent_downloader_that_accepts_only_RC4_streams()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "secret"), Payload.MultiFile, seed: 21);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "secret"), tmp.PathOf("secret.torrent"), 32 * 1024);
        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"), "--verbose");
        int port = await RTorrentCli.WaitSeedingPortAsync(seeder);

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(torrent.FilePath, save, output, encryption: "rc4-only", peers: port);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        Assert.Contains(", in, RC4)", seeder.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Downloads_from_a_libtorrent_seeder_that_refuses_plain_connections_by_retrying_encrypted()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "only-rc4.bin"), 2 * 1024 * 1024 + 777, seed: 22);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "only-rc4.bin"), tmp.PathOf("only-rc4.torrent"), 64 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, encryption: "rc4-only");

        // The default mode dials plain first; libtorrent hangs up, and the retry speaks MSE.
        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"),
            [.. RTorrentCli.Peer(seeder.Port), "--verbose"]);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
        Assert.Contains(", out, RC4)", client.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Required_mode_downloads_over_RC4_from_a_libtorrent_seeder_with_default_settings()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "default.bin"), 1024 * 1024 + 3, seed: 23);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "default.bin"), tmp.PathOf("default.torrent"), 32 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"),
            [.. RTorrentCli.Peer(seeder.Port), "--verbose", "--encryption", "required"]);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
        Assert.Contains(", out, RC4)", client.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(", out)", client.StandardError, StringComparison.Ordinal);
    }
}
