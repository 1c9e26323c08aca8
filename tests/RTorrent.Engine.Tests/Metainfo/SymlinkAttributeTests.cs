using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Metainfo;

/// <summary>BEP 47 attributes: symlinks resolved inside the torrent's folder or refused with a reason, 'x' and 'h' kept.</summary>
public class SymlinkAttributeTests
{
    /// <summary>A multi-file torrent "T" with one 1000-byte file "data/f.bin" and the given extra entries.</summary>
    internal static byte[] Torrent(params BDictionary[] extra)
    {
        var files = new BList
        {
            new BDictionary { ["length"] = new BInteger(1000), ["path"] = Path("data", "f.bin"), ["attr"] = new BString("xh") },
        };
        foreach (var e in extra) files.Add(e);
        var info = new BDictionary
        {
            ["name"] = new BString("T"),
            ["files"] = files,
            ["piece length"] = new BInteger(16384),
            ["pieces"] = new BString(new byte[20]),
        };
        return BencodeWriter.Encode(new BDictionary { ["info"] = info });
    }

    internal static BList Path(params string[] elements)
    {
        var l = new BList();
        foreach (var e in elements) l.Add(new BString(e));
        return l;
    }

    internal static BDictionary Link(string[] path, params string[] target) => new()
    {
        ["length"] = new BInteger(0),
        ["attr"] = new BString("l"),
        ["path"] = Path(path),
        ["symlink path"] = Path(target),
    };

    private static TorrentFileEntry File(TorrentMetainfo t, string path) => Assert.Single(t.Files, f => f.Path == path);

    [Fact]
    public void Executable_and_hidden_attributes_are_kept_and_the_torrent_is_valid()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["link"], "data", "f.bin")));
        var f = File(t, "T/data/f.bin");
        Assert.True(f.IsExecutable);
        Assert.True(f.IsHidden);
        Assert.False(f.IsSymlink);
        Assert.Equal("xh", f.Attributes);
        Assert.Equal(1000, t.TotalSize);
    }

    [Fact]
    public void A_link_to_a_file_of_the_torrent_resolves_from_the_root()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["link"], "data", "f.bin")));
        var link = File(t, "T/link");
        Assert.True(link.IsSymlink);
        Assert.Equal("T/data/f.bin", link.SymlinkTarget);
        Assert.Null(link.SymlinkProblem);
        Assert.Equal(0, link.Length);
    }

    [Fact]
    public void A_link_resolves_from_its_own_folder_when_the_root_has_no_such_path()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["data", "alias"], "f.bin")));
        Assert.Equal("T/data/f.bin", File(t, "T/data/alias").SymlinkTarget);
    }

    [Fact]
    public void Dot_dot_that_stays_inside_the_folder_is_allowed()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["data", "up"], "..", "data", "f.bin")));
        var link = File(t, "T/data/up");
        Assert.Equal("T/data/f.bin", link.SymlinkTarget);
    }

    [Fact]
    public void A_link_to_the_folder_itself_stays_inside()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["self"], ".")));
        Assert.Equal("T", File(t, "T/self").SymlinkTarget);
    }

    [Theory]
    [InlineData(new[] { "..", "..", "etc", "passwd" }, "leads outside")]
    [InlineData(new[] { "..", "T2", "x" }, "leads outside")]
    [InlineData(new[] { "data", "..", "..", "x" }, "leads outside")]
    [InlineData(new[] { "/etc/passwd" }, "absolute path")]
    [InlineData(new[] { "data\\..\\..\\x" }, "absolute path")]
    [InlineData(new[] { "C:", "Windows" }, "absolute path")]
    public void A_target_that_climbs_out_is_refused_with_a_reason_and_the_torrent_stays_valid(string[] target, string reason)
    {
        // At the top of the folder, so read from the root or from the link's folder the target means the same.
        var t = TorrentMetainfo.Parse(Torrent(Link(["evil"], target)));
        var link = File(t, "T/evil");
        Assert.True(link.IsSymlink);
        Assert.Null(link.SymlinkTarget);
        Assert.Contains(reason, link.SymlinkProblem);
        Assert.Contains(t.Warnings, w => w.Contains("T/evil") && w.Contains("will not be created") && w.Contains(reason));
        Assert.Equal(1000, t.TotalSize); // the rest of the torrent is usable
    }

    [Fact]
    public void A_target_that_climbs_out_from_the_root_but_not_from_the_links_folder_is_read_from_the_links_folder()
    {
        // libtorrent's creator stores what readlink says (relative to the link's folder), so "../x" from T/data is T/x.
        var t = TorrentMetainfo.Parse(Torrent(Link(["data", "l"], "..", "data", "f.bin"), Link(["data", "m"], "..", "..", "x")));
        Assert.Equal("T/data/f.bin", File(t, "T/data/l").SymlinkTarget);
        Assert.Null(File(t, "T/data/m").SymlinkTarget); // out from either
    }

    [Fact]
    public void Dot_dot_after_a_link_to_the_root_climbs_out_through_that_link_and_is_refused()
    {
        // "r" -> the torrent's folder; "x" -> "r/.." is the folder lexically, but on disk the parent of the folder.
        var t = TorrentMetainfo.Parse(Torrent(Link(["r"], "."), Link(["x"], "r", "..", "y")));
        Assert.Equal("T", File(t, "T/r").SymlinkTarget);
        var x = File(t, "T/x");
        Assert.Null(x.SymlinkTarget);
        Assert.Contains("outside", x.SymlinkProblem);
    }

    [Fact]
    public void A_link_through_a_refused_link_is_refused()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["out"], "..", ".."), Link(["via"], "out", "etc")));
        Assert.Null(File(t, "T/out").SymlinkTarget);
        var via = File(t, "T/via");
        Assert.Null(via.SymlinkTarget);
        Assert.Contains("refused link", via.SymlinkProblem);
    }

    [Fact]
    public void A_link_through_another_link_resolves_to_the_real_place()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["d"], "data"), Link(["via"], "d", "f.bin")));
        Assert.Equal("T/data", File(t, "T/d").SymlinkTarget);
        Assert.Equal("T/data/f.bin", File(t, "T/via").SymlinkTarget);
    }

    [Fact]
    public void Links_that_loop_are_refused()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["a"], "b"), Link(["b"], "a")));
        Assert.Null(File(t, "T/a").SymlinkTarget);
        Assert.Null(File(t, "T/b").SymlinkTarget);
        Assert.Contains("loops", File(t, "T/a").SymlinkProblem + File(t, "T/b").SymlinkProblem);
        var self = TorrentMetainfo.Parse(Torrent(Link(["s"], "s", "x")));
        Assert.Null(File(self, "T/s").SymlinkTarget);
    }

    [Fact]
    public void A_dangling_target_inside_the_folder_is_kept_with_a_warning()
    {
        var t = TorrentMetainfo.Parse(Torrent(Link(["l"], "nothing", "here")));
        Assert.Equal("T/nothing/here", File(t, "T/l").SymlinkTarget);
        Assert.Contains(t.Warnings, w => w.Contains("not in the torrent"));
    }
}

public class SymlinkAmplificationTests
{
    [Fact]
    public void Short_targets_through_a_link_to_a_deep_folder_cannot_make_gigabytes_of_paths()
    {
        // One file 900 folders deep, a link "x" to its folder, and many links "x/aN": each a few bytes in the torrent,
        // each resolving to a path of about 1800 characters.
        var deep = Enumerable.Repeat("d", 900).ToArray();
        var entries = new List<BDictionary>
        {
            new() { ["length"] = new BInteger(0), ["attr"] = new BString("l"), ["path"] = SymlinkAttributeTests.Path("x"), ["symlink path"] = SymlinkAttributeTests.Path(deep) },
            new() { ["length"] = new BInteger(10), ["path"] = SymlinkAttributeTests.Path([.. deep, "f"]) },
        };
        const int Links = 6000;
        for (int i = 0; i < Links; i++)
            entries.Add(SymlinkAttributeTests.Link(["l" + i], "x", "a" + i));
        var t = TorrentMetainfo.Parse(SymlinkAttributeTests.Torrent([.. entries]));
        var made = t.Files.Count(f => f.SymlinkTarget is not null);
        var refused = t.Files.Where(f => f.IsSymlink && f.SymlinkTarget is null).ToList();
        Assert.True(made > 1000, $"{made} links made");
        Assert.NotEmpty(refused);
        Assert.Contains("MaxTargetCharacters", refused[0].SymlinkProblem);
        Assert.True(t.Files.Where(f => f.SymlinkTarget is not null).Sum(f => (long)f.SymlinkTarget!.Length) <= SymlinkResolver.MaxTargetCharacters);
    }
}
