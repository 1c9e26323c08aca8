using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Metainfo;

/// <summary>
/// Issue 14: inputs a stranger can publish (magnet links, metadata fetched for a magnet, .torrent files) must cost work in
/// proportion to their size. The work is counted (<see cref="ParseWork"/>), never timed: the tests compare the work
/// on a hostile input of size n with the work on one of size 2n, or bound the work per byte of input.
/// </summary>
public class LinearParsingTests
{
    internal static long Work(Action parse)
    {
        long before = ParseWork.Units;
        parse();
        return ParseWork.Units - before;
    }

    internal static void AssertLinear(long small, long large, string what)
    {
        // Twice the input may cost a little more than twice the work (fixed costs are a smaller share of the small
        // one), never four times: that is the quadratic growth this guards against.
        Assert.True(large <= 2.5 * Math.Max(small, 1), $"{what}: work {small} at size n but {large} at size 2n");
    }

    // ------------------------------------------------------------------ magnet links

    private const string Btih = "magnet:?xt=urn:btih:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

    [Fact]
    public void Repeated_so_ranges_cost_work_in_proportion_to_the_link_not_to_the_ranges_they_cover()
    {
        // The fuzzer's 22 KB link: the whole index range, over and over, took over a second.
        var uri = Btih + "&so=" + string.Join(',', Enumerable.Repeat("0-10000", 2800));
        MagnetLink? link = null;
        long work = Work(() => link = MagnetLink.Parse(uri));
        Assert.Equal(MagnetLink.MaxSelectedFileIndex + 1, link!.SelectedFiles!.Count);
        Assert.Equal(Enumerable.Range(0, MagnetLink.MaxSelectedFileIndex + 1), link.SelectedFiles);
        // One pass over the link, plus one over the index range for the whole link (not one per range).
        long bound = 4L * uri.Length + 2L * (MagnetLink.MaxSelectedFileIndex + 1);
        Assert.True(work <= bound, $"parsing a {uri.Length}-character link took {work} units of work; at most {bound} expected");
    }

    [Fact]
    public void Many_so_parameters_cost_work_in_proportion_to_the_link()
    {
        var uri = Btih + string.Concat(Enumerable.Repeat("&so=0-10000", 2000));
        MagnetLink? link = null;
        long work = Work(() => link = MagnetLink.Parse(uri));
        Assert.Equal(MagnetLink.MaxSelectedFileIndex + 1, link!.SelectedFiles!.Count);
        long bound = 4L * uri.Length + 2L * (MagnetLink.MaxSelectedFileIndex + 1);
        Assert.True(work <= bound, $"parsing a {uri.Length}-character link took {work} units of work; at most {bound} expected");
    }

    [Fact]
    public void A_parsed_selection_answers_Contains_without_a_scan()
    {
        // The engine applies a link's selection by asking Contains once per file of the torrent (Torrent.cs, through
        // LINQ's Contains). With a list that was a scan of 10,001 indices per file, for metadata of 300,000 files.
        var link = MagnetLink.Parse(Btih + "&so=0-10000");
        const int files = 100_000;
        int selected = 0;
        long work = Work(() =>
        {
            for (int i = 0; i < files; i++) if (link.SelectedFiles!.Contains(i)) selected++;
        });
        Assert.Equal(MagnetLink.MaxSelectedFileIndex + 1, selected);
        Assert.InRange(work, 1, 2L * files); // a unit or so per question: an answer, not a scan
    }

    [Fact]
    public void A_magnet_link_longer_than_the_limit_is_refused_with_an_error_naming_the_limit()
    {
        var atLimit = Btih + "&dn=" + new string('a', MagnetLink.MaxLength - Btih.Length - 4);
        Assert.Equal(MagnetLink.MaxLength, atLimit.Length);
        Assert.Equal(MagnetLink.MaxLength - Btih.Length - 4, MagnetLink.Parse(atLimit).Name!.Length);

        var e = Assert.Throws<MagnetFormatException>(() => MagnetLink.Parse(atLimit + "a"));
        Assert.Equal(MagnetError.TooLong, e.Error);
        Assert.Contains($"limit is {MagnetLink.MaxLength}", e.Message);
    }

    // ------------------------------------------------------------------ torrents

    /// <summary>A multi-file torrent whose one real file is <paramref name="depth"/> folders deep.</summary>
    internal static byte[] DeepTorrent(int depth, bool withSymlink = false, int symlinkDepth = 0)
    {
        var path = new BList();
        for (int i = 0; i < depth - 1; i++) path.Add(new BString("d"));
        path.Add(new BString("f"));
        var files = new BList { new BDictionary { ["length"] = new BInteger(1000), ["path"] = path } };
        if (withSymlink)
        {
            // A link at the top pointing at the deep file: resolving it looks at every folder above that file.
            var target = new BList();
            int targetDepth = symlinkDepth > 0 ? symlinkDepth : depth;
            for (int i = 0; i < targetDepth - 1; i++) target.Add(new BString("d"));
            target.Add(new BString("f"));
            files.Add(new BDictionary
            {
                ["length"] = new BInteger(0),
                ["attr"] = new BString("l"),
                ["path"] = new BList { new BString("link") },
                ["symlink path"] = target,
            });
        }
        var info = new BDictionary
        {
            ["name"] = new BString("deep"),
            ["files"] = files,
            ["piece length"] = new BInteger(16384),
            ["pieces"] = new BString(new byte[20]),
        };
        return BencodeWriter.Encode(new BDictionary { ["info"] = info });
    }

    [Fact]
    public void A_deep_file_path_costs_work_in_proportion_to_its_depth()
    {
        var small = DeepTorrent(400);
        var large = DeepTorrent(800);
        TorrentMetainfo? t = null;
        long smallWork = Work(() => TorrentMetainfo.Parse(small));
        long largeWork = Work(() => t = TorrentMetainfo.Parse(large));
        Assert.Equal("deep/" + string.Concat(Enumerable.Repeat("d/", 799)) + "f", t!.Files[0].Path);
        AssertLinear(smallWork, largeWork, "a file 400 vs 800 folders deep");
    }

    [Fact]
    public void A_deep_file_path_costs_work_in_proportion_to_its_depth_from_peers_too()
    {
        // The metadata fetched for a magnet link is checked against the info-hash, not trusted: anyone can publish one.
        static byte[] Info(int depth) => ((BDictionary)BencodeReader.Decode(DeepTorrent(depth)))["info"]!.RawBytes.ToArray();
        var small = Info(400);
        var large = Info(800);
        long smallWork = Work(() => TorrentMetainfo.FromInfoDictionary(small, []));
        long largeWork = Work(() => TorrentMetainfo.FromInfoDictionary(large, []));
        AssertLinear(smallWork, largeWork, "metadata with a file 400 vs 800 folders deep");
    }

    [Fact]
    public void A_path_deeper_than_the_limit_is_refused_with_an_error_naming_the_limit()
    {
        var t = TorrentMetainfo.Parse(DeepTorrent(TorrentMetainfo.MaxPathDepth));
        Assert.Equal(TorrentMetainfo.MaxPathDepth + 1, t.Files[0].Path.Split('/').Length); // the torrent's folder, then the path

        var e = Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.Parse(DeepTorrent(TorrentMetainfo.MaxPathDepth + 1)));
        Assert.Contains($"path of {TorrentMetainfo.MaxPathDepth + 1} elements; the limit is {TorrentMetainfo.MaxPathDepth}", e.Message);
        // The fuzzer's 60 KB torrent: one file 20,000 elements deep.
        e = Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.Parse(DeepTorrent(20_000)));
        Assert.Contains($"the limit is {TorrentMetainfo.MaxPathDepth}", e.Message);
    }

    [Fact]
    public void A_symlink_target_deeper_than_the_limit_is_refused_with_an_error_naming_the_limit()
    {
        var e = Assert.Throws<TorrentFormatException>(() =>
            TorrentMetainfo.Parse(DeepTorrent(2, withSymlink: true, symlinkDepth: TorrentMetainfo.MaxPathDepth + 1)));
        Assert.Contains($"symlink target of {TorrentMetainfo.MaxPathDepth + 1} elements; the limit is {TorrentMetainfo.MaxPathDepth}", e.Message);
    }

    [Fact]
    public void Resolving_a_symlink_next_to_a_deep_file_costs_work_in_proportion_to_the_depth()
    {
        var small = DeepTorrent(400, withSymlink: true);
        var large = DeepTorrent(800, withSymlink: true);
        TorrentMetainfo? t = null;
        long smallWork = Work(() => TorrentMetainfo.Parse(small));
        long largeWork = Work(() => t = TorrentMetainfo.Parse(large));
        var link = Assert.Single(t!.Files, f => f.SymlinkTarget is not null);
        Assert.Equal(t.Files[0].Path, link.SymlinkTarget);
        AssertLinear(smallWork, largeWork, "a symlink beside a file 400 vs 800 folders deep");
    }

    /// <summary>A torrent with <paramref name="count"/> distinct web seeds.</summary>
    private static byte[] ManySeeds(int count)
    {
        var info = new BDictionary
        {
            ["name"] = new BString("seeded"),
            ["length"] = new BInteger(1000),
            ["piece length"] = new BInteger(16384),
            ["pieces"] = new BString(new byte[20]),
        };
        var seeds = new BList();
        for (int i = 0; i < count; i++) seeds.Add(new BString($"http://seed{i}.example/f"));
        return BencodeWriter.Encode(new BDictionary { ["info"] = info, ["url-list"] = seeds });
    }

    [Fact]
    public void Web_seeds_cost_work_in_proportion_to_their_number()
    {
        var small = ManySeeds(2000);
        var large = ManySeeds(4000);
        TorrentMetainfo? t = null;
        long smallWork = Work(() => TorrentMetainfo.Parse(small));
        long largeWork = Work(() => t = TorrentMetainfo.Parse(large));
        Assert.Equal(4000, t!.WebSeeds.Count);
        AssertLinear(smallWork, largeWork, "2000 vs 4000 web seeds");
    }
}
