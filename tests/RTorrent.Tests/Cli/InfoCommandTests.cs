using System.Globalization;
using System.Text.Json;
using RTorrent.Cli;
using RTorrent.Testing;

namespace RTorrent.Tests.Cli;

public class InfoCommandTests
{
    private static readonly string[] JsonKeys =
        ["name", "info_hash_v1", "info_hash_v2", "total_size", "piece_length", "piece_count", "private", "trackers", "files"];

    private static string TorrentDir => Path.Combine(TestPaths.Corpus, "torrents");

    private static readonly Lazy<List<string[]>> Manifest = new(() =>
        [.. File.ReadLines(Path.Combine(TorrentDir, "manifest.tsv")).Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t'))]);

    public static TheoryData<string> ValidFiles() => [.. Manifest.Value.Where(r => r[1] == "valid").Select(r => r[0])];

    public static TheoryData<string> InvalidFiles() => [.. Manifest.Value.Where(r => r[1] == "invalid").Select(r => r[0])];

    [Fact]
    public async Task Text_output_shows_the_torrent()
    {
        var r = await CliRunner.RunAsync("info", Path.Combine(TorrentDir, "sample.torrent"));
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        Assert.Equal("", r.Error);
        Assert.Contains("Name:          sample", r.Output);
        Assert.Contains("58d8d15a4eb3bd9afabc9cee2564f78192777edb", r.Output);
        Assert.Contains("tier 1: udp://tracker.opentracker.com:80/announce", r.Output);
        Assert.Contains("sample/text_file2.txt", r.Output);
        Assert.Contains("Private:       no", r.Output);
        Assert.Contains("sample comment", r.Output);
        Assert.DoesNotContain("padding", r.Output);
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public async Task Json_has_exactly_the_documented_keys_and_the_manifest_values(string file)
    {
        var row = Manifest.Value.Single(r => r[0] == file);
        var r = await CliRunner.RunAsync("info", "--json", Path.Combine(TorrentDir, file));
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Output);
        var root = doc.RootElement;
        Assert.Equal(JsonKeys, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(row[5], root.GetProperty("name").GetString());
        Assert.Equal(row[3].Length == 0 ? null : row[3], root.GetProperty("info_hash_v1").GetString());
        Assert.Equal(row[4].Length == 0 ? null : row[4], root.GetProperty("info_hash_v2").GetString());
        Assert.Equal(long.Parse(row[6], CultureInfo.InvariantCulture), root.GetProperty("total_size").GetInt64());
        Assert.Equal(long.Parse(row[8], CultureInfo.InvariantCulture), root.GetProperty("piece_length").GetInt64());
        Assert.True(root.GetProperty("piece_count").GetInt32() > 0);
        Assert.True(root.GetProperty("private").ValueKind is JsonValueKind.True or JsonValueKind.False);
        var files = root.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(int.Parse(row[7], CultureInfo.InvariantCulture), files.Count);
        Assert.Equal(long.Parse(row[6], CultureInfo.InvariantCulture), files.Sum(x => x.GetProperty("length").GetInt64()));
        foreach (var x in files)
        {
            Assert.Equal(["path", "length"], x.EnumerateObject().Select(p => p.Name));
            var path = x.GetProperty("path").GetString()!;
            Assert.DoesNotContain('\\', path);
            Assert.False(Path.IsPathRooted(path));
            Assert.DoesNotContain("..", path.Split('/'));
        }
        Assert.All(root.GetProperty("trackers").EnumerateArray(), tier => Assert.Equal(JsonValueKind.Array, tier.ValueKind));
    }

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public async Task Invalid_torrent_prints_one_error_line_and_exits_2(string file)
    {
        var r = await CliRunner.RunAsync("info", Path.Combine(TorrentDir, file));
        Assert.Equal(ExitCodes.UnusableInput, r.ExitCode);
        Assert.Equal("", r.Output);
        Assert.Single(r.Error.TrimEnd('\n').Split('\n'));

        var j = await CliRunner.RunAsync("info", "--json", Path.Combine(TorrentDir, file));
        Assert.Equal(ExitCodes.UnusableInput, j.ExitCode);
        using var doc = JsonDocument.Parse(j.Output);
        Assert.Equal(["error"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Contains(file, doc.RootElement.GetProperty("error").GetString());
        Assert.Single(j.Error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Missing_file_and_folder_are_unusable_input()
    {
        var r = await CliRunner.RunAsync("info", "--json", "/no/such/file.torrent");
        Assert.Equal(ExitCodes.UnusableInput, r.ExitCode);
        Assert.Contains("no such file", r.Error);
        using var doc = JsonDocument.Parse(r.Output);
        Assert.True(doc.RootElement.TryGetProperty("error", out _));

        var d = await CliRunner.RunAsync("info", TorrentDir);
        Assert.Equal(ExitCodes.UnusableInput, d.ExitCode);
        Assert.Contains("folder", d.Error);
    }

    [Fact]
    public async Task Magnet_json_has_nulls_for_what_is_not_known()
    {
        var r = await CliRunner.RunAsync("info", "--json",
            "magnet:?xt=urn:btih:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd&dn=foo&tr=http://a.example/announce&tr=udp://b.example:1");
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Output);
        var root = doc.RootElement;
        Assert.Equal(JsonKeys, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("foo", root.GetProperty("name").GetString());
        Assert.Equal("cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", root.GetProperty("info_hash_v1").GetString());
        foreach (var key in new[] { "info_hash_v2", "total_size", "piece_length", "piece_count", "private" })
            Assert.Equal(JsonValueKind.Null, root.GetProperty(key).ValueKind);
        Assert.Equal(2, root.GetProperty("trackers").GetArrayLength());
        Assert.Equal(0, root.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task Magnet_text_and_bad_magnet()
    {
        var ok = await CliRunner.RunAsync("info", "magnet:?xt=urn:btmh:1220cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
        Assert.Equal(ExitCodes.Ok, ok.ExitCode);
        Assert.Contains("Info-hash v2:  cdcd", ok.Output);

        var bad = await CliRunner.RunAsync("info", "--json", "magnet:?dn=nohash");
        Assert.Equal(ExitCodes.UnusableInput, bad.ExitCode);
        using var doc = JsonDocument.Parse(bad.Output);
        Assert.Contains("info-hash", doc.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_sample_torrent_the_repository_ships_loads()
    {
        var r = await CliRunner.RunAsync("info", Path.Combine(TestPaths.RepoRoot, "docs", "sample", "sample.torrent"));
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        Assert.Contains("Name:          sample", r.Output);
    }
}
