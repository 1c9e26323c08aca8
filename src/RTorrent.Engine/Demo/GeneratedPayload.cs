using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Demo;

/// <summary>
/// A payload whose bytes are computed, not stored: byte i of the torrent is a function of i alone. Seeders read it
/// from nowhere, so the demo needs no disk space for them and starts at once.
/// </summary>
public sealed class GeneratedPayload
{
    /// <summary>The demo's files: (path inside the torrent folder, length).</summary>
    public static readonly IReadOnlyList<(string Path, long Length)> DefaultFiles =
    [
        ("Big Buck Demo (2026)/Big.Buck.Demo.2026.1080p.mkv", 220L * 1024 * 1024),
        ("Big Buck Demo (2026)/Extras/Making of.mkv", 48L * 1024 * 1024),
        ("Big Buck Demo (2026)/Extras/Trailer.mp4", 12L * 1024 * 1024 + 12345),
        ("Big Buck Demo (2026)/Subtitles/English.srt", 80_123),
        ("Big Buck Demo (2026)/Subtitles/Deutsch.srt", 83_456),
        ("Big Buck Demo (2026)/README.txt", 2_048),
    ];

    private readonly ulong _seed;

    /// <summary>Creates a payload for a seed value.</summary>
    public GeneratedPayload(ulong seed = 0x5254_3031_4445_4d4f) => _seed = seed;

    /// <summary>Fills <paramref name="destination"/> with the payload's bytes starting at torrent offset <paramref name="offset"/>.</summary>
    public void Fill(long offset, Span<byte> destination)
    {
        // 8-byte words from a mixing function of the word index: fast, deterministic, incompressible enough.
        long word = offset >> 3;
        int skip = (int)(offset & 7);
        Span<byte> w = stackalloc byte[8];
        int i = 0;
        if (skip != 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(w, Mix((ulong)word++));
            int n = Math.Min(8 - skip, destination.Length);
            w.Slice(skip, n).CopyTo(destination);
            i = n;
        }
        for (; i + 8 <= destination.Length; i += 8)
            BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], Mix((ulong)word++));
        if (i < destination.Length)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(w, Mix((ulong)word));
            w[..(destination.Length - i)].CopyTo(destination[i..]);
        }
    }

    private ulong Mix(ulong x)
    {
        x += _seed;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9UL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebUL;
        return x ^ (x >> 31);
    }

    /// <summary>Builds the demo torrent: hashes every piece of the generated data on all cores.</summary>
    public TorrentMetainfo CreateTorrent(string name, IReadOnlyList<(string Path, long Length)> files, long pieceLength,
        string announce, CancellationToken cancellationToken = default)
    {
        long total = files.Sum(f => f.Length);
        int pieces = (int)((total + pieceLength - 1) / pieceLength);
        var hashes = new byte[pieces * 20];
        Parallel.For(0, pieces, new ParallelOptions { CancellationToken = cancellationToken }, p =>
        {
            int size = (int)Math.Min(pieceLength, total - p * pieceLength);
            var buffer = ArrayPool<byte>.Shared.Rent(size);
            Fill(p * pieceLength, buffer.AsSpan(0, size));
            SHA1.HashData(buffer.AsSpan(0, size), hashes.AsSpan(p * 20, 20));
            ArrayPool<byte>.Shared.Return(buffer);
        });
        var list = new BList();
        foreach (var (path, length) in files)
        {
            var parts = path.Split('/');
            var p = new BList();
            foreach (var part in parts.Skip(1)) p.Add(new BString(part));
            list.Add(new BDictionary { ["length"] = new BInteger(length), ["path"] = p });
        }
        var info = new BDictionary
        {
            ["files"] = list,
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(hashes),
        };
        var torrent = new BDictionary
        {
            ["announce"] = new BString(announce),
            ["comment"] = new BString("The RTorrent demo: generated data, served by seeders in this process."),
            ["created by"] = new BString("RTorrent demo"),
            ["info"] = info,
        };
        return TorrentMetainfo.Parse(BencodeWriter.Encode(torrent));
    }
}

/// <summary>Read-only storage over a <see cref="GeneratedPayload"/> (seeders of the demo).</summary>
internal sealed class GeneratedStorage(GeneratedPayload payload, StorageContext context) : ITorrentStorage
{
    private readonly long[] _offsets = Offsets(context.Files);

    private static long[] Offsets(IReadOnlyList<StorageFile> files)
    {
        var o = new long[files.Count];
        long pos = 0;
        for (int i = 0; i < files.Count; i++)
        {
            o[i] = pos;
            pos += files[i].Length;
        }
        return o;
    }

    public ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        long left = context.Files[fileIndex].Length - offset;
        int n = (int)Math.Clamp(left, 0, buffer.Length);
        payload.Fill(_offsets[fileIndex] + offset, buffer.Span[..n]);
        return ValueTask.FromResult(n);
    }

    public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        throw new IOException("The demo seeders' data is generated and read-only.");

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new StorageFileState(true, context.Files[fileIndex].Length, DateTimeOffset.UnixEpoch));

    public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DeleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
