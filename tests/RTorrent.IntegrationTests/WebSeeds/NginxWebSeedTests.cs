using RTorrent.Engine.Metainfo;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.WebSeeds;

/// <summary>
/// Web seeds (BEP 19) against Debian's nginx, started by each test on 127.0.0.1 with its own configuration: torrents
/// whose only source is the web seed download byte-exact with <c>rtorrent download</c>; a second nginx serving
/// corrupted copies beside an honest one is dropped and the download completes; an nginx answering 503 is backed off
/// and used again once it recovers.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class NginxWebSeedTests(ITestOutputHelper output)
{
    private static async Task<TestTorrent> CreateAsync(string content, string torrentPath, long pieceLength, params string[] webSeeds)
    {
        var created = await TorrentCreator.CreateFileAsync(content, torrentPath, new TorrentCreatorOptions
        {
            PieceLength = pieceLength,
            WebSeeds = webSeeds,
        });
        return new TestTorrent(torrentPath, created.Metainfo);
    }

    private async Task DownloadAsync(TempFolder tmp, TestTorrent torrent, string save, params string[] extra)
    {
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"), extra);
        int code = await client.WaitForExitAsync(Limits.Transfer);
        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
    }

    [Fact]
    public async Task A_single_file_torrent_whose_only_source_is_nginx_downloads_byte_exact()
    {
        using var tmp = new TempFolder("rt-webseed");
        var served = tmp.Sub("www");
        var file = Path.Combine(served, "pub", "big file.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        Payload.WriteFile(file, 9_000_001, seed: 19);
        await using var nginx = await Nginx.StartAsync(served, tmp.Sub("nginx"), output);
        var torrent = await CreateAsync(file, tmp.PathOf("single.torrent"), 256 * 1024, nginx.Url + "pub/");

        var save = tmp.Sub("download");
        await DownloadAsync(tmp, torrent, save);
        Payload.AssertSameFile(file, Path.Combine(save, "big file.bin"));
        Assert.Contains("\"GET /pub/big%20file.bin HTTP/1.1\" 206", await File.ReadAllTextAsync(tmp.PathOf("nginx", "logs", "access.log")));
    }

    [Fact]
    public async Task A_multi_file_torrent_whose_only_source_is_nginx_downloads_byte_exact()
    {
        using var tmp = new TempFolder("rt-webseed");
        var served = tmp.Sub("www");
        var root = Path.Combine(served, "mirror", "album");
        Payload.Write(root, Payload.MultiFile, seed: 20);
        await using var nginx = await Nginx.StartAsync(served, tmp.Sub("nginx"), output);
        // No trailing slash: a multi-file torrent's URL is a folder all the same (BEP 19).
        var torrent = await CreateAsync(root, tmp.PathOf("multi.torrent"), 64 * 1024, nginx.Url + "mirror");

        var save = tmp.Sub("download");
        await DownloadAsync(tmp, torrent, save);
        Payload.AssertSameTree(root, Path.Combine(save, "album"));
    }

    [Fact]
    public async Task A_lying_nginx_beside_an_honest_one_is_dropped_and_the_download_completes()
    {
        using var tmp = new TempFolder("rt-webseed");
        var honestRoot = tmp.Sub("honest");
        var lyingRoot = tmp.Sub("lying");
        var file = Path.Combine(honestRoot, "data.bin");
        Payload.WriteFile(file, 6_000_000, seed: 21);
        // The liar has the same file with every 4096th byte changed: same length, wrong data.
        var bytes = await File.ReadAllBytesAsync(file);
        for (int i = 0; i < bytes.Length; i += 4096) bytes[i] ^= 0xFF;
        await File.WriteAllBytesAsync(Path.Combine(lyingRoot, "data.bin"), bytes);
        await using var honest = await Nginx.StartAsync(honestRoot, tmp.Sub("nginx-honest"), output);
        await using var liar = await Nginx.StartAsync(lyingRoot, tmp.Sub("nginx-lying"), output);
        var torrent = await CreateAsync(file, tmp.PathOf("lie.torrent"), 64 * 1024, liar.Url, honest.Url);

        var save = tmp.Sub("download");
        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var t = await client.AddAsync(torrent.Meta, save);
        await client.WaitCompleteAsync(t, Limits.Transfer);
        Payload.AssertSameFile(file, Path.Combine(save, "data.bin"));
        var seeds = (await client.Session.Engine.GetDetailsAsync(t)).WebSeeds;
        var lying = Assert.Single(seeds, s => s.Url == liar.Url);
        Assert.Equal(RTorrent.Engine.WebSeeds.WebSeedState.Dropped, lying.State);
        Assert.Equal("sent 2 pieces with wrong data", lying.LastError);
        Assert.Contains(await client.LogAsync(t), l => l.StartsWith($"web seed {liar.Url} dropped: sent 2 pieces with wrong data", StringComparison.Ordinal));
        Assert.True(Assert.Single(seeds, s => s.Url == honest.Url).Downloaded > 0);
    }

    [Fact]
    public async Task An_nginx_that_answers_503_is_backed_off_and_used_again_when_it_recovers()
    {
        using var tmp = new TempFolder("rt-webseed");
        var served = tmp.Sub("www");
        var file = Path.Combine(served, "busy.bin");
        Payload.WriteFile(file, 3_000_000, seed: 22);
        // While the flag file exists nginx answers every request with 503 (a server under maintenance).
        var flag = tmp.PathOf("maintenance");
        await File.WriteAllTextAsync(flag, "down");
        await using var nginx = await Nginx.StartAsync(served, tmp.Sub("nginx"), output,
            $"location / {{ if (-f {flag}) {{ return 503; }} }}");
        var torrent = await CreateAsync(file, tmp.PathOf("busy.torrent"), 64 * 1024, nginx.Url);

        var save = tmp.Sub("download");
        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var t = await client.AddAsync(torrent.Meta, save);
        RTorrent.Engine.Client.WebSeedSnapshot? seed = null;
        await Poll.UntilAsync(async () =>
        {
            seed = (await client.Session.Engine.GetDetailsAsync(t)).WebSeeds.Single();
            return seed.State == RTorrent.Engine.WebSeeds.WebSeedState.Backoff;
        }, Limits.Startup, "the web seed backed off after a 503", TimeSpan.FromMilliseconds(100));
        Assert.Contains("503", seed!.LastError);
        Assert.Equal(0, (await client.Session.Engine.GetSnapshotAsync()).Torrents.Single().Downloaded);

        File.Delete(flag); // nginx recovers
        await client.WaitCompleteAsync(t, Limits.Transfer);
        Payload.AssertSameFile(file, Path.Combine(save, "busy.bin"));
        var log = await File.ReadAllTextAsync(tmp.PathOf("nginx", "logs", "access.log"));
        Assert.Contains("\"GET /busy.bin HTTP/1.1\" 503", log);
        Assert.Contains("\"GET /busy.bin HTTP/1.1\" 206", log);
    }
}
