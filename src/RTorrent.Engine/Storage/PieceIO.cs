using System.Buffers;
using System.Security.Cryptography;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Storage;

/// <summary>
/// Piece- and block-level I/O on top of any <see cref="ITorrentStorage"/>: splits ranges at file boundaries with
/// <see cref="FileLayout"/>, never touches pad files (they read as zeros and are skipped on write), and hashes pieces
/// from disk for rechecks. Writes pass slices of the caller's buffer straight to storage: no copies.
/// </summary>
/// <remarks>Thread-safe as far as the storage is: calls for different ranges may run concurrently.</remarks>
public sealed class PieceIO
{
    /// <summary>SHA-1 digest length.</summary>
    public const int HashLength = 20;

    // Pieces larger than this are hashed in chunks, so a recheck worker holds at most this much memory.
    private const int MaxHashChunk = 4 * 1024 * 1024;

    /// <summary>Creates the mapper over <paramref name="storage"/>.</summary>
    public PieceIO(ITorrentStorage storage, FileLayout layout)
    {
        Storage = storage ?? throw new ArgumentNullException(nameof(storage));
        Layout = layout ?? throw new ArgumentNullException(nameof(layout));
    }

    /// <summary>The storage the bytes go to.</summary>
    public ITorrentStorage Storage { get; }

    /// <summary>How pieces map onto files.</summary>
    public FileLayout Layout { get; }

    /// <summary>
    /// Writes a whole piece (normally after it was verified in memory): one storage write per file segment, pad
    /// segments skipped.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not exactly the piece's size.</exception>
    public ValueTask WritePieceAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        int size = Layout.GetPieceSize(piece);
        if (data.Length != size)
            throw new ArgumentException($"Piece {piece} has {size} bytes; {data.Length} were given.", nameof(data));
        return WriteSegmentsAsync(Layout.GetPieceSegments(piece), data, cancellationToken);
    }

    /// <summary>Writes bytes at an offset of the torrent's byte stream.</summary>
    public ValueTask WriteAsync(long torrentOffset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteSegmentsAsync(Layout.GetSegments(torrentOffset, data.Length), data, cancellationToken);

    private async ValueTask WriteSegmentsAsync(FileLayout.SegmentEnumerator segments, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        foreach (var s in segments)
        {
            if (s.IsPadding) continue;
            await Storage.WriteAsync(s.FileIndex, s.FileOffset, data.Slice(s.BufferOffset, s.Length), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads bytes at an offset of the torrent's byte stream into <paramref name="buffer"/>. Pad ranges read as zeros.
    /// Returns the number of bytes read contiguously from the start: fewer than asked when the range passes the end
    /// of the torrent or when a file is missing or shorter than it should be (the data is not there).
    /// </summary>
    public async ValueTask<int> ReadAsync(long torrentOffset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(torrentOffset);
        if (torrentOffset >= Layout.TotalLength) return 0;
        int length = (int)Math.Min(buffer.Length, Layout.TotalLength - torrentOffset);
        foreach (var s in Layout.GetSegments(torrentOffset, length))
        {
            var target = buffer.Slice(s.BufferOffset, s.Length);
            if (s.IsPadding)
            {
                target.Span.Clear();
                continue;
            }
            int done = 0;
            while (done < s.Length)
            {
                int n = await Storage.ReadAsync(s.FileIndex, s.FileOffset + done, target[done..], cancellationToken).ConfigureAwait(false);
                if (n <= 0) return s.BufferOffset + done;
                done += n;
            }
        }
        return length;
    }

    /// <summary>
    /// Reads piece <paramref name="piece"/> from disk and writes its SHA-1 into <paramref name="hash"/> (20 bytes).
    /// Returns false, without a hash, when the piece's data is not all on disk.
    /// </summary>
    /// <summary>
    /// Checks a v2 or hybrid piece on disk: the merkle root of its file data's 16 KiB blocks against the piece's hash
    /// (and, for a hybrid, the SHA-1 of the whole piece against <paramref name="sha1"/>). False when the data is short or
    /// wrong, or the piece's layer is not known yet.
    /// </summary>
    internal async ValueTask<bool> VerifyV2PieceFromDiskAsync(int piece, Metainfo.V2PieceHashes v2, ReadOnlyMemory<byte> sha1, CancellationToken cancellationToken)
    {
        int size = Layout.GetPieceSize(piece);
        int data = v2.DataLength(piece);
        long offset = Layout.GetPieceOffset(piece);
        int chunk = Math.Min(size, MaxHashChunk);
        var buffer = ArrayPool<byte>.Shared.Rent(chunk);
        int blocks = (size + Metainfo.MerkleTree.BlockSize - 1) / Metainfo.MerkleTree.BlockSize;
        var leaves = ArrayPool<byte>.Shared.Rent(Math.Max(1, blocks) * Metainfo.MerkleTree.HashSize);
        using var v1 = sha1.IsEmpty ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        try
        {
            int leafCount = 0;
            for (int done = 0; done < size;)
            {
                int want = Math.Min(chunk, size - done);
                int n = await ReadAsync(offset + done, buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (n < want) return false;
                v1?.AppendData(buffer, 0, n);
                int inData = Math.Clamp(data - done, 0, n);
                if (inData > 0)
                    leafCount += Metainfo.MerkleTree.HashBlocks(buffer.AsSpan(0, inData), leaves.AsSpan(leafCount * Metainfo.MerkleTree.HashSize));
                done += n;
            }
            if (v2.CheckLeaves(piece, leaves, leafCount) != true) return false;
            if (v1 is null) return true;
            Span<byte> digest = stackalloc byte[HashLength];
            v1.GetHashAndReset(digest);
            return digest.SequenceEqual(sha1.Span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(leaves);
        }
    }

    /// <summary>SHA-1 of piece <paramref name="piece"/> read from disk; false when the data is short.</summary>
    public async ValueTask<bool> HashPieceFromDiskAsync(int piece, Memory<byte> hash, CancellationToken cancellationToken = default)
    {
        if (hash.Length < HashLength) throw new ArgumentException($"The hash buffer needs {HashLength} bytes.", nameof(hash));
        int size = Layout.GetPieceSize(piece);
        long offset = Layout.GetPieceOffset(piece);
        int chunk = Math.Min(size, MaxHashChunk);
        var buffer = ArrayPool<byte>.Shared.Rent(chunk);
        try
        {
            if (chunk == size)
            {
                int n = await ReadAsync(offset, buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
                if (n < size) return false;
                SHA1.HashData(buffer.AsSpan(0, size), hash.Span);
                return true;
            }
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            for (int done = 0; done < size;)
            {
                int want = Math.Min(chunk, size - done);
                int n = await ReadAsync(offset + done, buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (n < want) return false;
                sha1.AppendData(buffer, 0, n);
                done += n;
            }
            sha1.GetHashAndReset(hash.Span);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Prepares (creates, sparse or preallocated) every file that is not padding and that <paramref name="include"/>
    /// accepts (for example, files not set to skip). Zero-length files are only ever created this way.
    /// </summary>
    public async ValueTask PrepareFilesAsync(bool preallocate, Func<int, bool>? include = null, CancellationToken cancellationToken = default)
    {
        foreach (var f in Layout.Files)
        {
            if (f.IsPadding || (include is not null && !include(f.Index))) continue;
            await Storage.PrepareAsync(f.Index, preallocate, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Probes every file (pad files report as missing without asking storage).</summary>
    public async ValueTask<StorageFileState[]> ProbeFilesAsync(CancellationToken cancellationToken = default)
    {
        var states = new StorageFileState[Layout.Files.Count];
        foreach (var f in Layout.Files)
        {
            if (f.IsPadding) continue;
            states[f.Index] = await Storage.ProbeAsync(f.Index, cancellationToken).ConfigureAwait(false);
        }
        return states;
    }
}
