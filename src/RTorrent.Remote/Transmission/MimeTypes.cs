using RTorrent.Engine.Metainfo;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// Transmission's <c>primary-mime-type</c>: the media type that most of a torrent's bytes have, judged by file
/// extension. The table holds the types torrents commonly carry; anything else counts as application/octet-stream.
/// </summary>
internal static class MimeTypes
{
    public const string Unknown = "application/octet-stream";

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mkv"] = "video/x-matroska", ["mp4"] = "video/mp4", ["m4v"] = "video/x-m4v", ["avi"] = "video/x-msvideo",
        ["mov"] = "video/quicktime", ["wmv"] = "video/x-ms-wmv", ["webm"] = "video/webm", ["mpg"] = "video/mpeg",
        ["mpeg"] = "video/mpeg", ["ts"] = "video/mp2t", ["m2ts"] = "video/mp2t", ["flv"] = "video/x-flv", ["ogv"] = "video/ogg",
        ["mp3"] = "audio/mpeg", ["flac"] = "audio/flac", ["ogg"] = "audio/ogg", ["opus"] = "audio/ogg", ["m4a"] = "audio/mp4",
        ["aac"] = "audio/aac", ["wav"] = "audio/x-wav", ["wma"] = "audio/x-ms-wma",
        ["jpg"] = "image/jpeg", ["jpeg"] = "image/jpeg", ["png"] = "image/png", ["gif"] = "image/gif", ["webp"] = "image/webp",
        ["txt"] = "text/plain", ["nfo"] = "text/x-nfo", ["srt"] = "application/x-subrip", ["pdf"] = "application/pdf",
        ["epub"] = "application/epub+zip", ["iso"] = "application/x-cd-image", ["img"] = "application/x-raw-disk-image",
        ["zip"] = "application/zip", ["rar"] = "application/vnd.rar", ["7z"] = "application/x-7z-compressed",
        ["gz"] = "application/gzip", ["xz"] = "application/x-xz", ["bz2"] = "application/x-bzip2", ["tar"] = "application/x-tar",
        ["exe"] = "application/x-msdownload", ["deb"] = "application/vnd.debian.binary-package", ["rpm"] = "application/x-rpm",
        ["apk"] = "application/vnd.android.package-archive", ["dmg"] = "application/x-apple-diskimage",
    };

    /// <summary>The type of <paramref name="path"/> by its extension.</summary>
    public static string Of(string path)
    {
        var ext = Path.GetExtension(path);
        return ext.Length > 1 && ByExtension.TryGetValue(ext[1..], out var type) ? type : Unknown;
    }

    /// <summary>The type holding the most bytes of <paramref name="meta"/>'s files (padding left out); octet-stream without metadata.</summary>
    public static string PrimaryOf(TorrentMetainfo? meta)
    {
        if (meta is null) return Unknown;
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var f in meta.Files)
            if (!f.IsPadding) bytes[Of(f.Path)] = bytes.GetValueOrDefault(Of(f.Path)) + f.Length;
        return bytes.Count == 0 ? Unknown : bytes.MaxBy(kv => kv.Value).Key;
    }
}
