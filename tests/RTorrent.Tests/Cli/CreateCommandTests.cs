using System.Text.Json;
using RTorrent.Cli;
using RTorrent.Engine.Metainfo;
using RTorrent.Testing;

namespace RTorrent.Tests.Cli;

public sealed class CreateCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("rt-cli-create");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Payload()
    {
        var root = Path.Combine(_dir, "payload");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        File.WriteAllBytes(Path.Combine(root, "one.bin"), Enumerable.Range(0, 50_000).Select(i => (byte)i).ToArray());
        File.WriteAllText(Path.Combine(root, "sub", "two.txt"), "hello");
        return root;
    }

    [Fact]
    public async Task Creates_a_torrent_that_info_reads_back()
    {
        var output = Path.Combine(_dir, "out.torrent");
        var r = await CliRunner.RunAsync("create", Payload(), "-o", output,
            "--tracker", "http://a.example/announce,http://b.example/announce", "--tracker", "udp://c.example:6969",
            "--web-seed", "http://seed.example/", "--piece-size", "32K", "--private", "--comment", "hi", "--source", "SRC");
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        Assert.Equal("", r.Error); // not a terminal: no progress line
        Assert.Contains("Info-hash:", r.Output);
        Assert.Contains("magnet:?xt=urn:btih:", r.Output);

        var t = TorrentMetainfo.Load(output);
        Assert.Equal(32 * 1024, t.PieceLength);
        Assert.True(t.IsPrivate);
        Assert.Equal("SRC", t.Source);
        Assert.Equal("hi", t.Comment);
        Assert.Equal(2, t.AnnounceTiers.Count);
        Assert.Equal(2, t.AnnounceTiers[0].Count);
        Assert.Equal(["http://seed.example/"], t.WebSeeds);

        var info = await CliRunner.RunAsync("info", "--json", output);
        using var doc = JsonDocument.Parse(info.Output);
        Assert.Equal(t.InfoHashV1!.Value.ToHex(), doc.RootElement.GetProperty("info_hash_v1").GetString());
        Assert.Equal(["payload/one.bin", "payload/sub/two.txt"], doc.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.True(doc.RootElement.GetProperty("private").GetBoolean());
    }

    [Theory]
    [InlineData("--v2", TorrentVersions.V2)]
    [InlineData("--hybrid", TorrentVersions.Hybrid)]
    public async Task Creates_v2_and_hybrid_torrents(string flag, TorrentVersions version)
    {
        var output = Path.Combine(_dir, "out.torrent");
        var r = await CliRunner.RunAsync("create", Payload(), "-o", output, flag, "--piece-size", "16K");
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        var t = TorrentMetainfo.Load(output);
        Assert.Equal(version, t.Versions);
        Assert.Contains($"Info-hash v2: {Convert.ToHexStringLower(t.InfoHashV2!)}", r.Output);
        Assert.Equal(version == TorrentVersions.Hybrid, r.Output.Contains("Info-hash:  ", StringComparison.Ordinal));
        Assert.Contains("urn:btmh:1220", r.Output);
    }

    [Fact]
    public async Task V2_and_hybrid_together_are_refused()
    {
        var r = await CliRunner.RunAsync("create", Payload(), "-o", Path.Combine(_dir, "out.torrent"), "--v2", "--hybrid");
        Assert.NotEqual(ExitCodes.Ok, r.ExitCode);
        Assert.Contains("--v2 and --hybrid cannot be used together", r.Error);
        Assert.False(File.Exists(Path.Combine(_dir, "out.torrent")));
    }

    [Fact]
    public async Task Refuses_to_overwrite_without_force()
    {
        var output = Path.Combine(_dir, "out.torrent");
        File.WriteAllText(output, "keep");
        var r = await CliRunner.RunAsync("create", Payload(), "-o", output);
        Assert.Equal(ExitCodes.Failure, r.ExitCode);
        Assert.Contains("--force", r.Error);
        Assert.Equal("keep", File.ReadAllText(output));

        var forced = await CliRunner.RunAsync("create", Payload(), "-o", output, "--force");
        Assert.Equal(ExitCodes.Ok, forced.ExitCode);
        Assert.Equal("payload", TorrentMetainfo.Load(output).Name);
    }

    [Fact]
    public async Task Missing_input_is_unusable_and_bad_options_fail()
    {
        var output = Path.Combine(_dir, "out.torrent");
        var missing = await CliRunner.RunAsync("create", Path.Combine(_dir, "nothing"), "-o", output);
        Assert.Equal(ExitCodes.UnusableInput, missing.ExitCode);
        Assert.False(File.Exists(output));

        var empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        Assert.Equal(ExitCodes.UnusableInput, (await CliRunner.RunAsync("create", empty, "-o", output)).ExitCode);

        Assert.Equal(ExitCodes.Failure, (await CliRunner.RunAsync("create", Payload(), "-o", output, "--piece-size", "1000")).ExitCode);
        Assert.Equal(ExitCodes.Failure, (await CliRunner.RunAsync("create", Payload(), "-o", output, "--tracker", "ftp://x")).ExitCode);
        Assert.Equal(ExitCodes.Failure, (await CliRunner.RunAsync("create", Payload())).ExitCode); // -o is required
        Assert.False(File.Exists(output));
    }
}
