using System.Globalization;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Metainfo;

/// <summary>
/// One row of a torrent manifest (shared/corpus/torrents/manifest.tsv format). Set RTORRENT_TORRENT_MANIFEST to the
/// path of another manifest.tsv to run the same tests over another folder of .torrent files.
/// </summary>
public sealed record ManifestRow(
    string File, bool Valid, string Reason, string InfoHashV1, string InfoHashV2, string Name,
    long TotalSize, int NumFiles, long PieceLength, string Notes)
{
    public string FullPath => Path.Combine(TorrentManifest.Directory, File);

    public override string ToString() => File;
}

public static class TorrentManifest
{
    public static string ManifestPath =>
        Environment.GetEnvironmentVariable("RTORRENT_TORRENT_MANIFEST") is { Length: > 0 } p
            ? p
            : Path.Combine(TestPaths.Corpus, "torrents", "manifest.tsv");

    public static string Directory => Path.GetDirectoryName(Path.GetFullPath(ManifestPath))!;

    private static readonly Lazy<IReadOnlyDictionary<string, ManifestRow>> Rows = new(Load);

    public static IReadOnlyDictionary<string, ManifestRow> All => Rows.Value;

    public static TheoryData<string> Files(Func<ManifestRow, bool>? filter = null)
    {
        var data = new TheoryData<string>();
        foreach (var row in All.Values)
            if (filter is null || filter(row)) data.Add(row.File);
        return data;
    }

    private static IReadOnlyDictionary<string, ManifestRow> Load()
    {
        if (!System.IO.File.Exists(ManifestPath))
            throw new FileNotFoundException($"Torrent manifest not found at {ManifestPath} (set RTORRENT_TORRENT_MANIFEST or RTORRENT_SHARED).");
        var rows = new Dictionary<string, ManifestRow>();
        foreach (var line in System.IO.File.ReadLines(ManifestPath).Skip(1))
        {
            if (line.Length == 0) continue;
            var c = line.Split('\t');
            bool valid = c[1] == "valid";
            rows[c[0]] = new ManifestRow(c[0], valid, c[2], c[3], c[4], c[5],
                valid ? long.Parse(c[6], CultureInfo.InvariantCulture) : 0,
                valid ? int.Parse(c[7], CultureInfo.InvariantCulture) : 0,
                valid ? long.Parse(c[8], CultureInfo.InvariantCulture) : 0,
                c.Length > 9 ? c[9] : "");
        }
        return rows;
    }
}
