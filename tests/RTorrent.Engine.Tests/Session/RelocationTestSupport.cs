using System.Net;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;

namespace RTorrent.Engine.Tests.Session;

/// <summary>One file of a test torrent: its path inside the torrent's folder, its length, whether it is a BEP 47 pad file.</summary>
internal readonly record struct TestFile(string Path, long Length, bool Pad = false);

/// <summary>Torrents with real piece hashes, their data written where a test wants it.</summary>
internal static class RelocationTorrents
{
    /// <summary>
    /// A multi-file torrent named <paramref name="name"/>; when <paramref name="saveDirectory"/> is given its files are
    /// written there (pad files never are). Returns the torrent and each written file's bytes by relative path.
    /// </summary>
    public static (TorrentMetainfo Meta, Dictionary<string, byte[]> Data) MultiFile(string? saveDirectory, string name, int pieceLength, params TestFile[] files)
    {
        var rng = new Random(name.Length * 7919 + files.Length);
        var list = new BList();
        using var all = new MemoryStream();
        var data = new Dictionary<string, byte[]>();
        foreach (var f in files)
        {
            var bytes = new byte[f.Length];
            if (!f.Pad) rng.NextBytes(bytes);
            all.Write(bytes);
            var entry = new BDictionary { ["length"] = new BInteger(f.Length), ["path"] = new BList(f.Path.Split('/').Select(p => (BValue)new BString(p))) };
            if (f.Pad) entry["attr"] = new BString("p");
            list.Add(entry);
            if (f.Pad) continue;
            data[name + "/" + f.Path] = bytes;
            if (saveDirectory is null) continue;
            var path = Path.Combine(saveDirectory, name, f.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
        var info = new BDictionary
        {
            ["files"] = list,
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(Client.TestTorrents.Hashes(all.ToArray(), pieceLength)),
        };
        return (TorrentMetainfo.Parse(BencodeWriter.Encode(new BDictionary { ["info"] = info })), data);
    }

    /// <summary>A single-file torrent; its file is written into <paramref name="saveDirectory"/> when given.</summary>
    public static (TorrentMetainfo Meta, byte[] Data) SingleFile(string? saveDirectory, string name, int length, int pieceLength)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        if (saveDirectory is not null)
        {
            Directory.CreateDirectory(saveDirectory);
            File.WriteAllBytes(Path.Combine(saveDirectory, name), bytes);
        }
        var info = new BDictionary
        {
            ["length"] = new BInteger(length),
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(Client.TestTorrents.Hashes(bytes, pieceLength)),
        };
        return (TorrentMetainfo.Parse(BencodeWriter.Encode(new BDictionary { ["info"] = info })), bytes);
    }

    /// <summary>A session on loopback with no DHT, plugins or peer sources: nothing leaves the machine.</summary>
    public static Task<ClientSession> OpenSessionAsync(string sessionDirectory) => ClientSession.OpenAsync(new SessionOptions
    {
        SessionDirectory = sessionDirectory,
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "dht", "pex", "lsd"],
    });

    /// <summary>Waits (bounded) until the torrent is in <paramref name="state"/>.</summary>
    public static async Task WaitForStateAsync(Torrent torrent, TorrentState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (torrent.State != state && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(state, torrent.State);
    }

    /// <summary>Everything under <paramref name="root"/>, relative, '/'-separated, sorted; empty when it does not exist.</summary>
    public static string[] Tree(string root) =>
        Directory.Exists(root)
            ? [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p).Replace('\\', '/')).Order(StringComparer.Ordinal)]
            : [];
}
