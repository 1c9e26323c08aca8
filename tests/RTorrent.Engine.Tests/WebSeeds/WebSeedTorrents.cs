using System.Security.Cryptography;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.WebSeeds;

/// <summary>One file of a web seed test torrent: its path under the torrent's folder, its length, or a pad file.</summary>
internal sealed record SeedFile(string Path, long Length, bool Pad = false);

/// <summary>Torrents whose payload is written where a web seed serves it (BEP 19's layout), with url-list or httpseeds.</summary>
internal static class WebSeedTorrents
{
    /// <summary>
    /// Writes the files under <paramref name="root"/>/<paramref name="name"/> (pad files are not written: a server
    /// does not have them) and returns the torrent; a single file when <paramref name="files"/> is one file named "".
    /// </summary>
    public static (TorrentMetainfo Meta, byte[] Payload) Create(string root, string name, int pieceLength, IReadOnlyList<SeedFile> files,
        IReadOnlyList<string>? urlList = null, IReadOnlyList<string>? httpSeeds = null, int seed = 7)
    {
        var rng = new Random(seed);
        using var all = new MemoryStream();
        var list = new BList();
        bool single = files.Count == 1 && files[0].Path.Length == 0;
        foreach (var f in files)
        {
            var bytes = new byte[f.Length];
            if (!f.Pad)
            {
                rng.NextBytes(bytes);
                var path = single ? Path.Combine(root, name) : Path.Combine(root, name, f.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, bytes);
            }
            all.Write(bytes);
            var entry = new BDictionary
            {
                ["length"] = new BInteger(f.Length),
                ["path"] = f.Pad ? new BList { new BString(".pad"), new BString(f.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)) }
                    : new BList(f.Path.Split('/').Select(e => (BValue)new BString(e))),
            };
            if (f.Pad) entry["attr"] = new BString("p");
            list.Add(entry);
        }
        var payload = all.ToArray();
        var info = new BDictionary
        {
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(Hashes(payload, pieceLength)),
        };
        if (single) info["length"] = new BInteger(files[0].Length);
        else info["files"] = list;
        var top = new BDictionary { ["info"] = info };
        if (urlList is { Count: > 0 }) top["url-list"] = new BList(urlList.Select(u => (BValue)new BString(u)));
        if (httpSeeds is { Count: > 0 }) top["httpseeds"] = new BList(httpSeeds.Select(u => (BValue)new BString(u)));
        return (TorrentMetainfo.Parse(BencodeWriter.Encode(top)), payload);
    }

    public static byte[] Hashes(byte[] data, int pieceLength)
    {
        int count = (int)((data.LongLength + pieceLength - 1) / pieceLength);
        var hashes = new byte[count * 20];
        for (int i = 0; i < count; i++)
        {
            int len = (int)Math.Min(pieceLength, data.LongLength - (long)i * pieceLength);
            SHA1.HashData(data.AsSpan(i * pieceLength, len), hashes.AsSpan(i * 20, 20));
        }
        return hashes;
    }

    /// <summary>The downloaded torrent's bytes in torrent order (pad files as zeros).</summary>
    public static byte[] ReadBack(TorrentMetainfo meta, string saveDirectory)
    {
        using var all = new MemoryStream();
        foreach (var f in meta.Files)
        {
            if (f.IsPadding) all.Write(new byte[f.Length]);
            else all.Write(File.ReadAllBytes(Path.Combine(saveDirectory, f.Path)));
        }
        return all.ToArray();
    }
}
