using RTorrent.Abstractions;

namespace RTorrent.Engine.Storage;

/// <summary>What a recheck does.</summary>
public sealed record RecheckOptions
{
    /// <summary>Pieces hashed at once; defaults to the number of cores.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Only these pieces (for example those resume validation could not trust); null checks every piece.</summary>
    public IReadOnlyList<int>? Pieces { get; init; }

    /// <summary>The files' states if already probed (one per file, pad files included); null probes them first.</summary>
    public IReadOnlyList<StorageFileState>? FileStates { get; init; }

    /// <summary>A v2 or hybrid torrent's merkle hashes: pieces are checked against them (and SHA-1 too for a hybrid).</summary>
    internal Metainfo.V2PieceHashes? V2 { get; init; }
}

/// <summary>How far a recheck is.</summary>
/// <param name="PiecesChecked">Pieces done (hashed or skipped for missing data).</param>
/// <param name="PiecesToCheck">Pieces the recheck covers.</param>
/// <param name="PiecesVerified">Pieces whose data matched their hash so far.</param>
/// <param name="BytesHashed">Bytes read and hashed so far.</param>
public readonly record struct RecheckProgress(int PiecesChecked, int PiecesToCheck, int PiecesVerified, long BytesHashed);

/// <summary>The outcome of a recheck: which pieces are on disk and correct.</summary>
public sealed class RecheckResult
{
    private readonly PieceBits _verified;

    internal RecheckResult(PieceBits verified, int checkedCount, int skippedCount)
    {
        _verified = verified;
        CheckedCount = checkedCount;
        SkippedCount = skippedCount;
    }

    /// <summary>Pieces in the torrent.</summary>
    public int PieceCount => _verified.Length;

    /// <summary>Pieces found correct.</summary>
    public int VerifiedCount => _verified.Count;

    /// <summary>Pieces the recheck covered.</summary>
    public int CheckedCount { get; }

    /// <summary>Pieces not read at all because a file they lie in is missing or too short.</summary>
    public int SkippedCount { get; }

    /// <summary>Whether piece <paramref name="piece"/> was found correct.</summary>
    public bool IsVerified(int piece) => _verified[piece];
}

/// <summary>
/// Hashes pieces from disk against the torrent's piece hashes, several at once, to find what is already there
/// (adding a torrent over existing data, <c>recheck</c>, or resume data that no longer holds).
/// </summary>
public static class PieceRecheck
{
    /// <summary>
    /// Rechecks the pieces of <paramref name="io"/>'s torrent. Pieces lying in a file that is missing or shorter than
    /// the piece needs are skipped without reading. Reports progress now and then (about every half percent).
    /// When <see cref="RecheckOptions.Pieces"/> is set, only those pieces can come out verified.
    /// </summary>
    /// <param name="io">The torrent's storage and layout.</param>
    /// <param name="pieceHashes">The 20-byte SHA-1s of every piece, concatenated (the metainfo's <c>pieces</c>).</param>
    /// <param name="options">Parallelism and scope.</param>
    /// <param name="progress">Receives progress from worker threads.</param>
    /// <param name="cancellationToken">Stops the recheck (throws <see cref="OperationCanceledException"/>).</param>
    public static async Task<RecheckResult> RunAsync(PieceIO io, ReadOnlyMemory<byte> pieceHashes, RecheckOptions? options = null,
        IProgress<RecheckProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(io);
        options ??= new RecheckOptions();
        var layout = io.Layout;
        if (options.V2 is null && pieceHashes.Length != layout.PieceCount * PieceIO.HashLength)
            throw new ArgumentException(
                $"{layout.PieceCount} pieces need {layout.PieceCount * PieceIO.HashLength} bytes of hashes, not {pieceHashes.Length}.", nameof(pieceHashes));

        var states = options.FileStates ?? await io.ProbeFilesAsync(cancellationToken).ConfigureAwait(false);
        if (states.Count != layout.Files.Count)
            throw new ArgumentException($"{states.Count} file states for {layout.Files.Count} files.", nameof(options));

        IReadOnlyList<int> pieces = options.Pieces ?? new PieceRange(layout.PieceCount);
        var verified = new PieceBits(layout.PieceCount);
        int done = 0, skipped = 0;
        long bytes = 0;
        int reportEvery = Math.Max(1, pieces.Count / 200);

        // Workers report now and then; the totals are reported once more after the last worker, so the last report
        // is always the final one (a worker's report can reach the receiver after a later worker's).
        void Completed()
        {
            int n = Interlocked.Increment(ref done);
            if (progress is not null && n % reportEvery == 0 && n < pieces.Count)
                progress.Report(new RecheckProgress(n, pieces.Count, verified.Count, Interlocked.Read(ref bytes)));
        }

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism),
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(pieces, parallel, async (piece, ct) =>
        {
            if (!IsOnDisk(layout, states, piece))
            {
                Interlocked.Increment(ref skipped);
                Completed();
                return;
            }
            if (options.V2 is { } v2)
            {
                var sha1 = pieceHashes.IsEmpty ? default : pieceHashes.Slice(piece * PieceIO.HashLength, PieceIO.HashLength);
                if (await io.VerifyV2PieceFromDiskAsync(piece, v2, sha1, ct).ConfigureAwait(false)) verified.Set(piece);
                Interlocked.Add(ref bytes, layout.GetPieceSize(piece));
                Completed();
                return;
            }
            var hash = new byte[PieceIO.HashLength];
            if (await io.HashPieceFromDiskAsync(piece, hash, ct).ConfigureAwait(false))
            {
                Interlocked.Add(ref bytes, layout.GetPieceSize(piece));
                if (hash.AsSpan().SequenceEqual(pieceHashes.Span.Slice(piece * PieceIO.HashLength, PieceIO.HashLength)))
                    verified.Set(piece);
            }
            Completed();
        }).ConfigureAwait(false);

        progress?.Report(new RecheckProgress(pieces.Count, pieces.Count, verified.Count, bytes));
        return new RecheckResult(verified, pieces.Count, skipped);
    }

    /// <summary>Whether every file segment of the piece exists on disk at full length (pad segments always do).</summary>
    internal static bool IsOnDisk(FileLayout layout, IReadOnlyList<StorageFileState> states, int piece)
    {
        foreach (var s in layout.GetPieceSegments(piece))
        {
            if (s.IsPadding) continue;
            var state = states[s.FileIndex];
            if (!state.Exists || state.Length < s.FileOffset + s.Length) return false;
        }
        return true;
    }

    /// <summary>0..count-1 as a list without allocating an array.</summary>
    private sealed class PieceRange(int count) : IReadOnlyList<int>
    {
        public int this[int index] => index;
        public int Count => count;
        public IEnumerator<int> GetEnumerator() => Enumerable.Range(0, count).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
