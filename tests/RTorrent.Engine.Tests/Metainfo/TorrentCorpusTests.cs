using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Metainfo;

public class TorrentCorpusTests
{
    public static TheoryData<string> ValidFiles() => TorrentManifest.Files(r => r.Valid);

    public static TheoryData<string> InvalidFiles() => TorrentManifest.Files(r => !r.Valid);

    public static TheoryData<string> AllFiles() => TorrentManifest.Files();

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Valid_torrent_loads_with_the_expected_hashes_name_and_sizes(string file)
    {
        var row = TorrentManifest.All[file];
        var t = TorrentMetainfo.Load(row.FullPath);

        Assert.Equal(row.InfoHashV1, t.InfoHashV1?.ToHex() ?? "");
        Assert.Equal(row.InfoHashV2, t.InfoHashV2 is null ? "" : Convert.ToHexStringLower(t.InfoHashV2));
        Assert.Equal(ExpectedName(row.Name), t.Name);
        Assert.Equal(row.TotalSize, t.TotalSize);
        Assert.Equal(row.NumFiles, t.Files.Count(f => !f.IsPadding));
        Assert.Equal(row.PieceLength, t.PieceLength);
        Assert.True(t.IsUsable); // v1, v2 and hybrid torrents all download
        Assert.Equal(t.TotalSize, t.Files.Where(f => !f.IsPadding).Sum(f => f.Length));
        Assert.Equal(t.TotalLength, t.Files.Sum(f => f.Length));
    }

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Invalid_torrent_is_refused_with_a_format_error(string file)
    {
        var row = TorrentManifest.All[file];
        var e = Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.Load(row.FullPath));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Every_path_stays_inside_the_download_folder_and_no_two_files_share_one(string file)
    {
        var t = TorrentMetainfo.Load(TorrentManifest.All[file].FullPath);
        var downloads = Path.Combine(Path.GetTempPath(), "rt-downloads");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in t.Files.Where(f => !f.IsPadding))
        {
            Assert.DoesNotContain('\\', f.Path);
            Assert.DoesNotContain('\0', f.Path);
            var full = PathSanitizer.ResolveInside(downloads, f.Path);
            Assert.StartsWith(downloads + Path.DirectorySeparatorChar, full);
            Assert.True(seen.Add(full), $"two files share the path {f.Path}");
            if (t.IsMultiFile) Assert.StartsWith(t.Name + "/", f.Path);
            foreach (var element in f.Path.Split('/')) Assert.DoesNotContain(element, new[] { "", ".", ".." });
            if (f.SymlinkTarget is { } target) PathSanitizer.ResolveInside(downloads, target);
        }
        // No file may sit where another file's folder is.
        foreach (var f in t.Files.Where(f => !f.IsPadding))
        {
            var parts = f.Path.Split('/');
            for (int i = 1; i < parts.Length; i++)
                Assert.DoesNotContain(string.Join('/', parts[..i]), t.Files.Where(x => !x.IsPadding).Select(x => x.Path));
        }
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void Parsing_from_memory_gives_the_same_verdict_as_loading(string file)
    {
        var row = TorrentManifest.All[file];
        var bytes = File.ReadAllBytes(row.FullPath);
        if (row.Valid) Assert.Equal(row.Name.Length > 0, TorrentMetainfo.Parse(bytes).Name.Length > 0);
        else Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.Parse(bytes));
    }

    // The manifest's names are libtorrent's on POSIX; with Windows rules a trailing dot or space is removed.
    private static string ExpectedName(string name) => OperatingSystem.IsWindows() ? name.TrimEnd('.', ' ') : name;
}
