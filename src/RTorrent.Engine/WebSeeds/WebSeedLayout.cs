using System.Text;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.WebSeeds;

/// <summary>Which protocol a web seed speaks.</summary>
public enum WebSeedKind
{
    /// <summary>BEP 19 'url-list' (or a magnet's 'ws'): plain files, fetched with ranged GETs.</summary>
    Url,

    /// <summary>BEP 17 'httpseeds': a script answering <c>?info_hash=&amp;piece=&amp;ranges=</c>.</summary>
    Http,
}

/// <summary>
/// One stretch of a torrent byte range as a web seed serves it: <see cref="Length"/> bytes at <see cref="Offset"/> of
/// <see cref="Url"/>, or, for a pad file (<see cref="Url"/> null), zeros that are never asked for.
/// </summary>
internal readonly record struct WebSeedRange(Uri? Url, long Offset, long Length, long FileLength);

/// <summary>
/// BEP 19's layout: where a torrent's bytes are on a web seed. A single-file torrent is the URL itself (or, for a URL
/// ending in '/', the URL followed by the torrent's name); a multi-file torrent's file is
/// <c>url/name/path/elements</c>, each element percent-encoded. The names are the torrent's own spelling, not what
/// sanitizing made of them for the disk: the server has the torrent's names. A piece that spans files maps onto
/// several ranges; pad files (BEP 47) are zeros and never requested; empty files and symlinks have no range.
/// </summary>
internal sealed class WebSeedLayout
{
    private readonly TorrentMetainfo _meta;
    private readonly string _baseUrl;
    private readonly long[] _starts;
    private readonly Uri?[] _urls; // made at first use: a torrent of a million files need not build a million URLs

    public WebSeedLayout(TorrentMetainfo meta, string baseUrl)
    {
        _meta = meta;
        // BEP 19: a multi-file torrent's URL names the folder that holds the torrent's folder; libtorrent adds the slash
        // a torrent forgot, and so do we (the parser already did for url-list; magnet 'ws' come here as given).
        _baseUrl = meta.IsMultiFile && !baseUrl.EndsWith('/') ? baseUrl + "/" : baseUrl;
        _starts = meta.Files.Select(f => f.Offset).ToArray();
        _urls = new Uri?[meta.Files.Count];
    }

    /// <summary>The URL a file is fetched from (not for pad files).</summary>
    public Uri FileUrl(int file) => _urls[file] ??= Exact(BuildFileUrl(_meta, _baseUrl, _meta.Files[file]));

    /// <summary>A URL taken as written: no unescaping or dot-segment removal by <see cref="Uri"/> (our escapes stay ours).</summary>
    internal static Uri Exact(string url) => new(url, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

    /// <summary>Builds a file's URL from a web seed's base URL (BEP 19).</summary>
    public static string BuildFileUrl(TorrentMetainfo meta, string baseUrl, TorrentFileEntry file)
    {
        var name = meta.OriginalName ?? meta.Name;
        if (!meta.IsMultiFile) return baseUrl.EndsWith('/') ? baseUrl + Escape(name) : baseUrl;
        var sb = new StringBuilder(baseUrl.Length + name.Length + 64);
        sb.Append(baseUrl);
        if (!baseUrl.EndsWith('/')) sb.Append('/');
        sb.Append(Escape(name));
        var path = file.OriginalPath ?? file.Path[(file.Path.IndexOf('/') + 1)..];
        foreach (var element in path.Split('/')) sb.Append('/').Append(Escape(element));
        return sb.ToString();
    }

    /// <summary>
    /// Percent-encodes one path element (RFC 3986: all but the unreserved characters). "." and ".." are encoded too,
    /// so a hostile torrent's names cannot make the URL climb out of the seed's folder by dot-segment removal.
    /// </summary>
    internal static string Escape(string element) => element switch
    {
        "." => "%2E",
        ".." => "%2E%2E",
        _ => Uri.EscapeDataString(element),
    };

    /// <summary>
    /// Appends the ranges that make up <paramref name="length"/> bytes at torrent offset <paramref name="start"/>, in
    /// order; consecutive bytes of one file are one range.
    /// </summary>
    public void Map(long start, long length, List<WebSeedRange> output)
    {
        long end = start + length;
        int fi = FindFile(start);
        var files = _meta.Files;
        for (long pos = start; pos < end && fi < files.Count; fi++)
        {
            var f = files[fi];
            long fileEnd = f.Offset + f.Length;
            if (fileEnd <= pos || f.Length == 0) continue;
            long segEnd = Math.Min(end, fileEnd);
            output.Add(new WebSeedRange(f.IsPadding ? null : FileUrl(fi), pos - f.Offset, segEnd - pos, f.Length));
            pos = segEnd;
        }
    }

    private int FindFile(long offset)
    {
        int i = Array.BinarySearch(_starts, offset);
        if (i < 0) i = ~i - 1;
        while (i > 0 && _starts[i - 1] == _starts[i]) i--;
        return Math.Max(i, 0);
    }

    /// <summary>
    /// BEP 17's request for a piece: <c>url?info_hash=…&amp;piece=N</c> (the existing query kept, '&amp;' added), the
    /// info-hash percent-encoded byte by byte. The whole piece is asked for; 'ranges' is left out (optional in BEP 17).
    /// </summary>
    public static Uri HttpSeedUrl(string baseUrl, ReadOnlySpan<byte> infoHash, int piece)
    {
        var sb = new StringBuilder(baseUrl.Length + 96);
        sb.Append(baseUrl).Append(baseUrl.Contains('?') ? '&' : '?').Append("info_hash=");
        foreach (byte b in infoHash)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
                sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        sb.Append("&piece=").Append(piece);
        return Exact(sb.ToString());
    }
}
