using RTorrent.Abstractions;

namespace RTorrent.Engine.Storage;

/// <summary>A run of bytes of one file that a torrent range maps onto.</summary>
/// <param name="FileIndex">Index of the file in the torrent (pad files included).</param>
/// <param name="FileOffset">Offset of the run in the file.</param>
/// <param name="Length">Length of the run in bytes (never 0).</param>
/// <param name="BufferOffset">Offset of the run from the start of the mapped range (where it goes in a buffer).</param>
/// <param name="IsPadding">The run lies in a BEP 47 pad file: it reads as zeros and is never written.</param>
public readonly record struct FileSegment(int FileIndex, long FileOffset, int Length, int BufferOffset, bool IsPadding);

/// <summary>
/// How a torrent's byte stream (all files concatenated, pad files included) is cut into pieces and laid onto files.
/// Lookups are binary searches over the files' start offsets; mapping a range enumerates its segments without
/// allocating (<see cref="SegmentEnumerator"/> is a struct that <c>foreach</c> uses directly).
/// </summary>
public sealed class FileLayout
{
    private readonly StorageFile[] _files;
    private readonly long[] _starts;

    /// <summary>Builds the layout.</summary>
    /// <param name="files">The torrent's files in order; <see cref="StorageFile.Index"/> must equal the position.</param>
    /// <param name="pieceLength">Nominal piece length.</param>
    /// <param name="pieceCount">The metainfo's piece count, checked against the files' total length when given.</param>
    public FileLayout(IReadOnlyList<StorageFile> files, long pieceLength, int? pieceCount = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceLength, 1);
        if (pieceLength > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(pieceLength), "Pieces must fit in memory.");
        _files = [.. files];
        _starts = new long[_files.Length];
        long total = 0;
        for (int i = 0; i < _files.Length; i++)
        {
            var f = _files[i];
            if (f.Index != i) throw new ArgumentException($"File at position {i} has index {f.Index}.", nameof(files));
            if (f.Length < 0) throw new ArgumentException($"File {i} has a negative length.", nameof(files));
            _starts[i] = total;
            total = checked(total + f.Length);
        }
        TotalLength = total;
        PieceLength = pieceLength;
        long count = (total + pieceLength - 1) / pieceLength;
        if (count > int.MaxValue) throw new ArgumentException("Too many pieces.", nameof(pieceLength));
        PieceCount = (int)count;
        if (pieceCount is { } expected && expected != PieceCount)
            throw new ArgumentException(
                $"{total} bytes in pieces of {pieceLength} make {PieceCount} pieces, not {expected}.", nameof(pieceCount));
    }

    /// <summary>The files, in order.</summary>
    public IReadOnlyList<StorageFile> Files => _files;

    /// <summary>Nominal piece length.</summary>
    public long PieceLength { get; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Length of the byte stream, pad files included.</summary>
    public long TotalLength { get; }

    /// <summary>Offset of file <paramref name="fileIndex"/> in the byte stream.</summary>
    public long GetFileOffset(int fileIndex) => _starts[fileIndex];

    /// <summary>Offset of piece <paramref name="piece"/> in the byte stream.</summary>
    public long GetPieceOffset(int piece)
    {
        CheckPiece(piece);
        return piece * PieceLength;
    }

    /// <summary>Size of piece <paramref name="piece"/> (the last one may be shorter).</summary>
    public int GetPieceSize(int piece)
    {
        CheckPiece(piece);
        return (int)Math.Min(PieceLength, TotalLength - piece * PieceLength);
    }

    /// <summary>
    /// The file holding byte <paramref name="torrentOffset"/> of the stream, or -1 when the offset is outside it.
    /// Zero-length files hold no bytes and are never returned.
    /// </summary>
    public int FindFile(long torrentOffset)
    {
        if (torrentOffset < 0 || torrentOffset >= TotalLength) return -1;
        // The last file starting at or before the offset: zero-length files share their start with the next
        // file, so "last" skips them.
        int lo = 0, hi = _starts.Length - 1;
        while (lo < hi)
        {
            int mid = lo + (hi - lo + 1) / 2;
            if (_starts[mid] <= torrentOffset) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>
    /// The pieces that hold bytes of file <paramref name="fileIndex"/>: <c>First..Last</c> inclusive; for an empty
    /// file <c>Last = First - 1</c> (the same convention as <see cref="PickerFileSpan"/>).
    /// </summary>
    public (int First, int Last) GetPieceRange(int fileIndex)
    {
        var f = _files[fileIndex];
        int first = (int)(_starts[fileIndex] / PieceLength);
        if (f.Length == 0) return (first, first - 1);
        return (first, (int)((_starts[fileIndex] + f.Length - 1) / PieceLength));
    }

    /// <summary>The segments of the whole piece <paramref name="piece"/>.</summary>
    public SegmentEnumerator GetPieceSegments(int piece) => GetSegments(GetPieceOffset(piece), GetPieceSize(piece));

    /// <summary>The segments of <paramref name="length"/> bytes at <paramref name="torrentOffset"/> of the stream.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the stream.</exception>
    public SegmentEnumerator GetSegments(long torrentOffset, int length)
    {
        if (torrentOffset < 0 || length < 0 || torrentOffset > TotalLength - length)
            throw new ArgumentOutOfRangeException(nameof(torrentOffset),
                $"Range {torrentOffset}+{length} is not inside the torrent's {TotalLength} bytes.");
        if (length == 0) return new SegmentEnumerator(this, 0, 0, 0);
        int file = FindFile(torrentOffset);
        return new SegmentEnumerator(this, file, torrentOffset - _starts[file], length);
    }

    private void CheckPiece(int piece)
    {
        if ((uint)piece >= (uint)PieceCount)
            throw new ArgumentOutOfRangeException(nameof(piece), piece, $"The torrent has {PieceCount} pieces.");
    }

    /// <summary>Walks the segments of a range in order. A struct: <c>foreach</c> over it allocates nothing.</summary>
    public struct SegmentEnumerator
    {
        private readonly StorageFile[] _files;
        private int _file;
        private long _fileOffset;
        private int _remaining;
        private int _bufferOffset;

        internal SegmentEnumerator(FileLayout layout, int file, long fileOffset, int length)
        {
            _files = layout._files;
            _file = file;
            _fileOffset = fileOffset;
            _remaining = length;
            _bufferOffset = 0;
            Current = default;
        }

        /// <summary>The segment at the current position.</summary>
        public FileSegment Current { get; private set; }

        /// <summary>Returns itself, for <c>foreach</c>.</summary>
        public readonly SegmentEnumerator GetEnumerator() => this;

        /// <summary>Moves to the next segment.</summary>
        public bool MoveNext()
        {
            if (_remaining == 0) return false;
            // Skip files with nothing left at this position (zero-length files, or the end of the previous file).
            while (_files[_file].Length - _fileOffset == 0)
            {
                _file++;
                _fileOffset = 0;
            }
            var f = _files[_file];
            int len = (int)Math.Min(_remaining, f.Length - _fileOffset);
            Current = new FileSegment(_file, _fileOffset, len, _bufferOffset, f.IsPadding);
            _remaining -= len;
            _bufferOffset += len;
            _fileOffset += len;
            return true;
        }

        /// <summary>Counts the segments left (walks a copy).</summary>
        public readonly int Count()
        {
            var copy = this;
            int n = 0;
            while (copy.MoveNext()) n++;
            return n;
        }
    }
}
