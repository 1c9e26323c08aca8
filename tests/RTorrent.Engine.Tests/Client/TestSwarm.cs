using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Builds payloads and torrents in memory for engine tests.</summary>
internal static class TestTorrents
{
    /// <summary>Writes deterministic files under <paramref name="root"/>/<paramref name="name"/> and returns the torrent.</summary>
    public static TorrentMetainfo CreateMultiFile(string root, string name, int pieceLength, params long[] sizes)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        var rng = new Random(42);
        var files = new BList();
        using var all = new MemoryStream();
        for (int i = 0; i < sizes.Length; i++)
        {
            var bytes = new byte[sizes[i]];
            rng.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(dir, $"file{i}.bin"), bytes);
            all.Write(bytes);
            files.Add(new BDictionary { ["length"] = new BInteger(sizes[i]), ["path"] = new BList { new BString($"file{i}.bin") } });
        }
        var info = new BDictionary
        {
            ["files"] = files,
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(Hashes(all.ToArray(), pieceLength)),
        };
        var torrent = new BDictionary { ["info"] = info, ["announce"] = new BString("http://127.0.0.1:1/announce") };
        return TorrentMetainfo.Parse(BencodeWriter.Encode(torrent));
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
}

/// <summary>Plain files for tests until the real file storage is wired (positional I/O, no handle cache).</summary>
internal sealed class PlainFileStorage(StorageContext context) : ITorrentStorage
{
    private string PathOf(int i) => Path.Combine(context.SaveDirectory, context.Files[i].Path);

    public ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var p = PathOf(fileIndex);
        if (!File.Exists(p)) return ValueTask.FromResult(0);
        using var h = File.OpenHandle(p, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return ValueTask.FromResult(RandomAccess.Read(h, buffer.Span, offset));
    }

    public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var p = PathOf(fileIndex);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        using var h = File.OpenHandle(p, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        RandomAccess.Write(h, data.Span, offset);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken)
    {
        var fi = new FileInfo(PathOf(fileIndex));
        return ValueTask.FromResult(fi.Exists ? new StorageFileState(true, fi.Length, fi.LastWriteTimeUtc) : default);
    }

    public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken)
    {
        var p = PathOf(fileIndex);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        using var fs = new FileStream(p, FileMode.OpenOrCreate);
        return ValueTask.CompletedTask;
    }

    public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken) => throw new NotSupportedException();

    public ValueTask DeleteAsync(CancellationToken cancellationToken)
    {
        foreach (var f in context.Files) File.Delete(Path.Combine(context.SaveDirectory, f.Path));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class TestCatalog : IComponentCatalog, IStorageFactory
{
    public List<IPeerSourceFactory> Sources { get; } = [];
    public IPiecePickerFactory? FindPicker(string name) => name == "rarest-first" ? new RarestFirstPickerFactory() : null;
    public IStorageFactory? FindStorage(string name) => name == "file" ? this : null;
    public IReadOnlyList<IPeerSourceFactory> PeerSources => Sources;
    public string Name => "file";
    public string Version => "test";
    public string Description => "test";
    public ITorrentStorage Open(StorageContext context) => new PlainFileStorage(context);
}
