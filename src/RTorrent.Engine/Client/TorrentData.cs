using System.Buffers;
using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Client;

/// <summary>
/// Moves pieces between the engine and a torrent's storage: splits a piece at file boundaries (binary search over
/// file offsets), leaves pad files out (they read as zeros and are never written), hashes from memory.
/// Thread-safe; used from the disk tasks, never from the loop directly.
/// </summary>
internal sealed class TorrentData : IPieceStore
{
    private readonly TorrentMetainfo _torrent;
    private readonly long[] _fileStarts;

    public TorrentData(TorrentMetainfo torrent, ITorrentStorage storage)
    {
        _torrent = torrent;
        Storage = storage;
        _fileStarts = torrent.Files.Select(f => f.Offset).ToArray();
    }

    public ITorrentStorage Storage { get; }

    /// <summary>
    /// A piece given as its blocks checked against the torrent's hashes: SHA-1 for v1, the merkle root of its 16 KiB
    /// blocks for v2 (a hybrid's piece must pass both; its v2 check is skipped only while its layer is unknown).
    /// </summary>
    public bool Verify(int piece, byte[]?[] blocks, int pieceSize)
    {
        if (_torrent.V2 is { } v2)
        {
            bool? ok = v2.Verify(piece, blocks);
            if (ok == false) return false;
            if (!_torrent.Versions.HasFlag(TorrentVersions.V1)) return ok == true;
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        int left = pieceSize;
        foreach (var b in blocks)
        {
            int n = Math.Min(left, 16 * 1024);
            hash.AppendData(b!, 0, n);
            left -= n;
        }
        Span<byte> digest = stackalloc byte[20];
        hash.GetHashAndReset(digest);
        return digest.SequenceEqual(_torrent.GetPieceHash(piece));
    }

    /// <summary>Writes a verified piece given as 16 KiB blocks, one gather write per file it touches.</summary>
    public async ValueTask WritePieceAsync(int piece, byte[]?[] blocks, int pieceSize, CancellationToken ct)
    {
        long start = piece * _torrent.PieceLength;
        long end = start + pieceSize;
        int fi = FindFile(start);
        var segment = new List<ReadOnlyMemory<byte>>(blocks.Length);
        for (long pos = start; pos < end && fi < _torrent.Files.Count; fi++)
        {
            var file = _torrent.Files[fi];
            long fileEnd = file.Offset + file.Length;
            if (fileEnd <= pos) continue;
            long segEnd = Math.Min(end, fileEnd);
            if (!file.IsPadding && file.Length > 0)
            {
                segment.Clear();
                for (long p = pos; p < segEnd;)
                {
                    int rel = (int)(p - start);
                    int block = rel / (16 * 1024);
                    int inBlock = rel % (16 * 1024);
                    int blockLen = Math.Min(16 * 1024, pieceSize - block * 16 * 1024);
                    int n = (int)Math.Min(blockLen - inBlock, segEnd - p);
                    segment.Add(blocks[block].AsMemory(inBlock, n));
                    p += n;
                }
                await Storage.WriteAsync(file.Index, pos - file.Offset, segment, ct).ConfigureAwait(false);
            }
            pos = segEnd;
        }
    }

    /// <summary>Reads <paramref name="buffer"/>.Length bytes at a torrent offset; pad ranges and missing data read as zeros.</summary>
    public async ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken ct)
    {
        long end = offset + buffer.Length;
        int fi = FindFile(offset);
        long pos = offset;
        for (; pos < end && fi < _torrent.Files.Count; fi++)
        {
            var file = _torrent.Files[fi];
            long fileEnd = file.Offset + file.Length;
            if (fileEnd <= pos) continue;
            long segEnd = Math.Min(end, fileEnd);
            var dest = buffer.Slice((int)(pos - offset), (int)(segEnd - pos));
            if (file.IsPadding) dest.Span.Clear();
            else
            {
                int read = 0;
                while (read < dest.Length)
                {
                    int n = await Storage.ReadAsync(file.Index, pos - file.Offset + read, dest[read..], ct).ConfigureAwait(false);
                    if (n <= 0)
                    {
                        dest.Span[read..].Clear();
                        break;
                    }
                    read += n;
                }
            }
            pos = segEnd;
        }
        if (pos < end) buffer.Span[(int)(pos - offset)..].Clear();
    }

    private int FindFile(long offset)
    {
        int i = Array.BinarySearch(_fileStarts, offset);
        if (i < 0) i = ~i - 1;
        // Several files can start at the same offset (empty files): step back to the first of them.
        while (i > 0 && _fileStarts[i - 1] == _fileStarts[i]) i--;
        return Math.Max(i, 0);
    }
}
