using RTorrent.Engine.WebSeeds;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.WebSeeds;

public sealed class WebSeedLayoutTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-wslayout");

    public void Dispose() => Directory.Delete(_root, true);

    [Fact]
    public void A_single_file_torrent_is_the_url_itself_or_the_url_and_its_name_when_the_url_is_a_folder()
    {
        var (meta, _) = WebSeedTorrents.Create(_root, "my file.iso", 16384, [new SeedFile("", 40_000)]);
        var direct = new WebSeedLayout(meta, "http://h/x/download.iso");
        var folder = new WebSeedLayout(meta, "http://h/x/");
        var ranges = new List<WebSeedRange>();
        direct.Map(16384, 16384, ranges);
        Assert.Equal([new WebSeedRange(direct.FileUrl(0), 16384, 16384, 40_000)], ranges);
        Assert.Equal("http://h/x/download.iso", direct.FileUrl(0).OriginalString);
        Assert.Equal("http://h/x/my%20file.iso", folder.FileUrl(0).OriginalString);
    }

    [Fact]
    public void A_multi_file_torrent_maps_url_name_and_path_each_element_escaped_and_adds_a_missing_slash()
    {
        var (meta, _) = WebSeedTorrents.Create(_root, "Album #1", 16384, [new SeedFile("disc 1/a&b?.bin", 10), new SeedFile("c.bin", 10)]);
        var layout = new WebSeedLayout(meta, "http://h/pub");
        Assert.Equal("http://h/pub/Album%20%231/disc%201/a%26b%3F.bin", layout.FileUrl(0).OriginalString);
        Assert.Equal("http://h/pub/Album%20%231/c.bin", layout.FileUrl(1).OriginalString);
    }

    [Fact]
    public void A_piece_that_spans_files_is_one_range_per_file_and_empty_files_have_none()
    {
        var (meta, _) = WebSeedTorrents.Create(_root, "t", 16384,
            [new SeedFile("a", 10_000), new SeedFile("empty", 0), new SeedFile("b", 3_000), new SeedFile("c", 50_000)]);
        var layout = new WebSeedLayout(meta, "http://h/");
        var ranges = new List<WebSeedRange>();
        layout.Map(0, 16384, ranges); // piece 0: all of a, all of b, the first 3384 bytes of c
        Assert.Equal(
        [
            new WebSeedRange(layout.FileUrl(0), 0, 10_000, 10_000),
            new WebSeedRange(layout.FileUrl(2), 0, 3_000, 3_000),
            new WebSeedRange(layout.FileUrl(3), 0, 3_384, 50_000),
        ], ranges);
        ranges.Clear();
        layout.Map(16384, 16384 * 2, ranges); // a run of two pieces inside c is one range
        Assert.Equal([new WebSeedRange(layout.FileUrl(3), 3_384, 32_768, 50_000)], ranges);
        ranges.Clear();
        layout.Map(3 * 16384, meta.TotalLength - 3 * 16384, ranges); // the short last piece
        Assert.Equal([new WebSeedRange(layout.FileUrl(3), 3 * 16384 - 13_000, meta.TotalLength - 3 * 16384, 50_000)], ranges);
    }

    [Fact]
    public void Pad_files_are_zeros_that_are_never_requested()
    {
        var (meta, _) = WebSeedTorrents.Create(_root, "t", 16384,
            [new SeedFile("a", 10_000), new SeedFile("", 6_384, Pad: true), new SeedFile("b", 20_000)]);
        var layout = new WebSeedLayout(meta, "http://h/");
        var ranges = new List<WebSeedRange>();
        layout.Map(0, 32_768, ranges);
        Assert.Equal(3, ranges.Count);
        Assert.Equal(new WebSeedRange(layout.FileUrl(0), 0, 10_000, 10_000), ranges[0]);
        Assert.Null(ranges[1].Url);
        Assert.Equal(6_384, ranges[1].Length);
        Assert.Equal(new WebSeedRange(layout.FileUrl(2), 0, 16_384, 20_000), ranges[2]);
    }

    [Fact]
    public void Dot_names_cannot_climb_out_of_the_seeds_folder()
    {
        Assert.Equal("%2E%2E", WebSeedLayout.Escape(".."));
        Assert.Equal("%2E", WebSeedLayout.Escape("."));
        var url = WebSeedLayout.Exact("http://h/seed/%2E%2E/x");
        Assert.Equal("/seed/%2E%2E/x", url.PathAndQuery);
    }

    [Fact]
    public void A_bep17_request_names_the_info_hash_byte_by_byte_and_the_piece()
    {
        byte[] hash = [0x00, 0x41, 0xFF, 0x2F, 0x7E, .. new byte[15]];
        var url = WebSeedLayout.HttpSeedUrl("http://h/seed.php", hash, 12);
        Assert.Equal("http://h/seed.php?info_hash=%00A%FF%2F~" + string.Concat(Enumerable.Repeat("%00", 15)) + "&piece=12", url.OriginalString);
        Assert.StartsWith("http://h/s?k=v&info_hash=", WebSeedLayout.HttpSeedUrl("http://h/s?k=v", hash, 0).OriginalString);
    }

    [Fact]
    public void The_parser_reads_bep17_httpseeds_beside_the_url_list()
    {
        var (meta, _) = WebSeedTorrents.Create(_root, "t", 16384, [new SeedFile("", 100)],
            urlList: ["http://a/"], httpSeeds: ["http://b/seed", "ftp://c/", "http://b/seed"]);
        Assert.Equal(["http://a/"], meta.WebSeeds);
        Assert.Equal(["http://b/seed"], meta.HttpSeeds);
        Assert.Contains(meta.Warnings, w => w.Contains("ftp://c/", StringComparison.Ordinal));
    }
}
