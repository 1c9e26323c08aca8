using System.Security.Cryptography;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Storage;

/// <summary>
/// Which pieces a check need not read because none of their bytes were ever written: they lie wholly in holes of
/// sparse files (or in files that do not exist). A partly downloaded torrent's files are sparse (the storage extends
/// them without writing, <see cref="FileStorage.PrepareAsync"/>), so after a crash the pieces never downloaded need no
/// reading: a hole reads as zeros, and a piece of zeros is valid only when its hash is the hash of zeros (checked here,
/// so such a piece is still read). Without this, a recheck after a kill -9 read every byte of every file that changed,
/// holes included: about a minute per 100 GiB.
/// </summary>
/// <remarks>
/// Linux only (lseek SEEK_DATA/SEEK_HOLE); elsewhere, or on a file system that cannot tell, every existing byte counts
/// as written and nothing is skipped. File systems report preallocated but unwritten extents as holes too, unless the
/// page cache holds written pages for them (which are then data), so the answer is never smaller than the truth.
/// </remarks>
public static class SparseRegions
{
    /// <summary>
    /// The pieces no byte of which is written on disk and whose expected hash is not the hash of zeros; null when no
    /// piece can be skipped (not Linux).
    /// </summary>
    /// <param name="layout">The torrent's files and pieces.</param>
    /// <param name="fullPath">A file's path on disk (null for a pad file).</param>
    /// <param name="pieceHashes">The 20-byte SHA-1s of every piece, concatenated.</param>
    public static Bitfield? FindAbsentPieces(FileLayout layout, Func<int, string?> fullPath, ReadOnlyMemory<byte> pieceHashes)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(fullPath);
        if (!OperatingSystem.IsLinux() || layout.PieceCount == 0) return null;
        var written = new Bitfield(layout.PieceCount);
        foreach (var file in layout.Files)
        {
            if (file.IsPadding || file.Length == 0 || fullPath(file.Index) is not { } path) continue;
            List<(long Start, long End)>? regions;
            long onDisk;
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                onDisk = Math.Min(RandomAccess.GetLength(handle), file.Length);
                regions = NativeFileSystem.DataRegions(handle, onDisk);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                continue; // nothing written
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                regions = null;
                onDisk = file.Length;
            }
            regions ??= onDisk > 0 ? [(0, onDisk)] : [];
            long fileStart = layout.GetFileOffset(file.Index);
            foreach (var (start, end) in regions)
            {
                if (end <= start) continue;
                int first = (int)((fileStart + start) / layout.PieceLength);
                int last = (int)((fileStart + end - 1) / layout.PieceLength);
                for (int p = first; p <= last && p < layout.PieceCount; p++) written.Set(p);
            }
        }
        var absent = new Bitfield(layout.PieceCount);
        byte[]? zeroHash = null, zeroHashShort = null;
        for (int p = 0; p < layout.PieceCount; p++)
        {
            if (written[p]) continue;
            if (pieceHashes.Length < (p + 1) * 20)
            {
                absent.Set(p); // a v2-only torrent has no SHA-1s: a hole is taken as missing (an all-zero piece is fetched again)
                continue;
            }
            // A hole reads as zeros: a piece whose data is all zeros is there even when nothing was written.
            int size = layout.GetPieceSize(p);
            // Only the last piece can be shorter than the others.
            var zero = size == layout.PieceLength
                ? zeroHash ??= SHA1.HashData(new byte[size])
                : zeroHashShort ??= SHA1.HashData(new byte[size]);
            if (pieceHashes.Span.Slice(p * 20, 20).SequenceEqual(zero)) continue;
            absent.Set(p);
        }
        return absent;
    }
}
