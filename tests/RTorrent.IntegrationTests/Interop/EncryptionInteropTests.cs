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
        // The default mode dials plain first; libtorrent hangs up, and the retry speaks MSE.
        string log = await DownloadFromLibtorrentAsync("rc4-only", seed: 22);
        Assert.Contains(", out, RC4)", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Required_mode_downloads_over_RC4_from_a_libtorrent_seeder_with_default_settings()
    {
        string log = await DownloadFromLibtorrentAsync("default", seed: 23, "--encryption", "required");
        Assert.Contains(", out, RC4)", log, StringComparison.Ordinal);
        Assert.DoesNotContain(", out)", log, StringComparison.Ordinal); // never a plain connection
    }

    /// <summary>
    /// <c>rtorrent download --verbose</c> of a 2 MiB file from a libtorrent seeder with <paramref name="ltEncryption"/>,
    /// dialled directly; asserts a byte-exact download and returns rtorrent's log.
    /// </summary>
    private async Task<string> DownloadFromLibtorrentAsync(string ltEncryption, int seed, params string[] rtorrentArgs)
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "file.bin"), 2 * 1024 * 1024 + 777, seed);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "file.bin"), tmp.PathOf("file.torrent"), 64 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, encryption: ltEncryption);

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"),
            [.. RTorrentCli.Peer(seeder.Port), "--verbose", .. rtorrentArgs]);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, save);
        return client.StandardError;
    }
}
