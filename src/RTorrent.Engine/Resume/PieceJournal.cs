using System.Buffers.Binary;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Resume;

/// <summary>
/// A torrent's append-only journal of pieces verified since its resume file was last written
/// (<c>&lt;infohash&gt;.pieces</c> beside <c>&lt;infohash&gt;.resume</c>): what a kill -9 between two full saves would
/// otherwise lose (up to <see cref="Client.EngineConfig.ResumeSaveInterval"/> of verified pieces).
/// </summary>
/// <remarks>
/// <para><b>The rule is the resume file's:</b> a piece may only be appended once its data is durable. The caller
/// (<see cref="Session.PieceJournalBatcher"/>) collects pieces whose writes have completed, flushes the storage, and
/// only then appends them; <see cref="AppendAsync"/> fsyncs before it returns.</para>
/// <para><b>Format:</b> an 8-byte header (<c>RTPJ</c>, version 1) then 8-byte records: the piece index and the index
/// XOR a constant, both little-endian. A kill during an append leaves a short or zero-filled tail (a file system may
/// extend the size before the data lands): reading stops at the first record that does not check, so a torn record
/// claims nothing.</para>
/// <para><b>Folded</b> into the resume file at the next full save (<see cref="CompactAsync"/>) and read on load
/// (<see cref="Read"/>); the loader trusts a journaled piece as it trusts a claimed piece of a file still downloading
/// (<see cref="ResumeValidator"/>).</para>
/// <para>Calls for one journal must not overlap (the batcher and the save take turns on a per-torrent gate).</para>
/// </remarks>
public sealed class PieceJournal : IDisposable
{
    /// <summary>Extension of journal files.</summary>
    public const string Extension = ".pieces";

    /// <summary>Bytes of the header.</summary>
    internal const int HeaderLength = 8;

    /// <summary>Bytes of one record.</summary>
    internal const int RecordLength = 8;

    private const uint Check = 0x9E3779B9;
    private static ReadOnlySpan<byte> Header => "RTPJ\u0001\0\0\0"u8;

    private readonly string _path;
    private FileStream? _stream;
    private readonly HashSet<int> _journaled = [];

    /// <summary>A journal at <paramref name="path"/>; the file is created at the first append.</summary>
    public PieceJournal(string path)
    {
        _path = path;
    }

    /// <summary>Where the journal lives.</summary>
    public string Path => _path;

    /// <summary>Pieces this instance appended (or found when it opened an existing journal) and not compacted away.</summary>
    public int Count => _journaled.Count;

    /// <summary>
    /// Appends <paramref name="pieces"/> and makes them durable (fsync; the folder too when the file is new). The
    /// caller must have made the pieces' data durable first.
    /// </summary>
    public async Task AppendAsync(IReadOnlyCollection<int> pieces, CancellationToken cancellationToken = default)
    {
        if (pieces.Count == 0) return;
        bool created = false;
        if (_stream is null)
        {
            created = !File.Exists(_path);
            _stream = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
            // An existing journal (this run's, or a crashed run's that the restore folded in and left): keep its
            // valid records, cut a torn tail so new records are read after them.
            long valid = HeaderLength;
            if (_stream.Length >= HeaderLength)
            {
                var existing = new byte[_stream.Length];
                await _stream.ReadExactlyAsync(existing, cancellationToken).ConfigureAwait(false);
                if (existing.AsSpan(0, HeaderLength).SequenceEqual(Header))
                    valid = HeaderLength + (long)Parse(existing, int.MaxValue, _journaled) * RecordLength;
                else _stream.SetLength(0);
            }
            else _stream.SetLength(0);
            if (_stream.Length == 0) await _stream.WriteAsync(Header.ToArray(), cancellationToken).ConfigureAwait(false);
            else _stream.SetLength(valid);
            _stream.Position = _stream.Length;
        }
        var buffer = new byte[pieces.Count * RecordLength];
        int at = 0;
        foreach (int piece in pieces)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(at), (uint)piece);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(at + 4), (uint)piece ^ Check);
            at += RecordLength;
        }
        await _stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        _stream.Flush(flushToDisk: true);
        if (created) NativeFileSystem.FsyncDirectory(System.IO.Path.GetDirectoryName(_path)!);
        foreach (int piece in pieces) _journaled.Add(piece);
    }

    /// <summary>
    /// After a full save of the resume file: keeps only the journaled pieces the save did not claim. When a journaled
    /// piece is no longer verified (a recheck found it bad, the data was pointed elsewhere) the journal is rewritten
    /// atomically, so it can never come back; otherwise a journal left with nothing is simply removed (should the
    /// removal be lost in a crash, the pieces it names are claimed by the resume file anyway).
    /// </summary>
    /// <param name="saved">Whether the resume file just written claims piece i.</param>
    /// <param name="verified">Whether piece i is verified now (false for every piece while a check is pending).</param>
    public async Task CompactAsync(Func<int, bool> saved, Func<int, bool> verified, CancellationToken cancellationToken = default)
    {
        if (_stream is null && !File.Exists(_path)) return;
        if (_stream is null)
        {
            // A journal this instance never opened (left by a crashed run and folded in at the restore).
            var bytes = await ReadBytesAsync(_path, cancellationToken).ConfigureAwait(false);
            if (bytes is not null) Parse(bytes, int.MaxValue, _journaled);
        }
        bool dropped = _journaled.Any(p => !verified(p));
        var keep = _journaled.Where(p => verified(p) && !saved(p)).Order().ToArray();
        if (keep.Length == _journaled.Count && _stream is not null) return; // nothing folded in
        _stream?.Dispose();
        _stream = null;
        _journaled.Clear();
        if (keep.Length == 0 && !dropped)
        {
            File.Delete(_path);
            return;
        }
        await AtomicFile.WriteAllBytesAsync(_path, Encode(keep), cancellationToken).ConfigureAwait(false);
        foreach (int p in keep) _journaled.Add(p);
    }

    /// <summary>The journal's bytes for <paramref name="pieces"/> (header and records).</summary>
    internal static byte[] Encode(IReadOnlyCollection<int> pieces)
    {
        var bytes = new byte[HeaderLength + pieces.Count * RecordLength];
        Header.CopyTo(bytes);
        int at = HeaderLength;
        foreach (int piece in pieces)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)piece);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 4), (uint)piece ^ Check);
            at += RecordLength;
        }
        return bytes;
    }

    /// <summary>
    /// The pieces a journal file names that are below <paramref name="pieceCount"/>, sorted; empty when there is no
    /// journal or it is not one. Reading stops at the first record that does not check (a torn append).
    /// </summary>
    public static async Task<int[]> ReadAsync(string path, int pieceCount, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (bytes is null) return [];
        var found = new HashSet<int>();
        Parse(bytes, pieceCount, found);
        return found.Order().ToArray();
    }

    /// <summary>As <see cref="ReadAsync"/>, from bytes.</summary>
    internal static int[] Read(ReadOnlySpan<byte> bytes, int pieceCount)
    {
        var found = new HashSet<int>();
        Parse(bytes, pieceCount, found);
        return found.Order().ToArray();
    }

    private static async Task<byte[]?> ReadBytesAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var info = new FileInfo(path);
            // A record per piece at most once each is far below this; anything larger is not ours.
            if (!info.Exists || info.Length > ResumeStore.MaxResumeFileSize) return null;
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Adds the valid records' pieces below <paramref name="pieceCount"/> to <paramref name="into"/>; returns the number of valid records.</summary>
    private static int Parse(ReadOnlySpan<byte> bytes, int pieceCount, HashSet<int> into)
    {
        if (bytes.Length < HeaderLength || !bytes[..HeaderLength].SequenceEqual(Header)) return 0;
        int records = 0;
        for (int at = HeaderLength; at + RecordLength <= bytes.Length; at += RecordLength)
        {
            uint piece = BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);
            uint check = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(at + 4)..]);
            if ((piece ^ Check) != check) break;
            records++;
            if (piece < (uint)pieceCount) into.Add((int)piece);
        }
        return records;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
