using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Resume;

/// <summary>What loading resume data found.</summary>
public enum ResumeLoadStatus
{
    /// <summary>Valid data for the torrent; still validate it against the files (<see cref="ResumeValidator"/>).</summary>
    Loaded,
    /// <summary>No resume file: a new torrent, or one never saved. Recheck if data may already be on disk.</summary>
    Missing,
    /// <summary>A resume file that cannot be used; <see cref="ResumeLoadResult.Error"/> says why. Recheck.</summary>
    Failed,
}

/// <summary>The outcome of <see cref="ResumeStore.LoadAsync"/>.</summary>
/// <param name="Status">What was found.</param>
/// <param name="Data">The data when <see cref="ResumeLoadStatus.Loaded"/>.</param>
/// <param name="Error">Why it cannot be used when <see cref="ResumeLoadStatus.Failed"/>.</param>
public sealed record ResumeLoadResult(ResumeLoadStatus Status, ResumeData? Data, ResumeException? Error);

/// <summary>
/// The session folder's per-torrent files: <c>&lt;infohash&gt;.torrent</c> (the metainfo as added) and
/// <c>&lt;infohash&gt;.resume</c> (<see cref="ResumeData"/>), info-hash in lower-case hex. Every write is atomic
/// (<see cref="AtomicFile"/>).
/// </summary>
/// <remarks>One process owns a session folder; calls for one torrent must not overlap (the engine saves a torrent's
/// resume data from one place at a time).</remarks>
public sealed class ResumeStore
{
    /// <summary>Extension of resume files.</summary>
    public const string ResumeExtension = ".resume";

    /// <summary>Extension of the saved metainfo.</summary>
    public const string TorrentExtension = ".torrent";

    /// <summary>Resume files larger than this are refused unread (a torrent with millions of pieces needs a few MiB).</summary>
    public const long MaxResumeFileSize = 64 * 1024 * 1024;

    /// <summary>Uses <paramref name="sessionDirectory"/>, creating it on the first save.</summary>
    public ResumeStore(string sessionDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionDirectory);
        SessionDirectory = Path.GetFullPath(sessionDirectory);
    }

    /// <summary>The session folder (full path).</summary>
    public string SessionDirectory { get; }

    /// <summary>Where a torrent's resume data lives.</summary>
    public string GetResumePath(InfoHash infoHash) => Path.Combine(SessionDirectory, infoHash.ToHex() + ResumeExtension);

    /// <summary>Where a torrent's journal of pieces verified since its last save lives (<see cref="PieceJournal"/>).</summary>
    public string GetJournalPath(InfoHash infoHash) => Path.Combine(SessionDirectory, infoHash.ToHex() + PieceJournal.Extension);

    /// <summary>Where a torrent's metainfo lives.</summary>
    public string GetTorrentPath(InfoHash infoHash) => Path.Combine(SessionDirectory, infoHash.ToHex() + TorrentExtension);

    /// <summary>
    /// Saves resume data atomically. Follow the order in <see cref="ResumeData"/>'s remarks (flush the storage
    /// before saving a bitfield that claims its pieces).
    /// </summary>
    /// <remarks>
    /// Data equal to what this store last read from or wrote to the torrent's file is not written again (returns
    /// false): a session of 10,000 idle torrents saved each at quit, 20,000 fsyncs for files that did not change. The
    /// store trusts that nothing else writes its files while the session owns the folder (it holds the session lock).
    /// </remarks>
    /// <returns>Whether the file was written.</returns>
    public async Task<bool> SaveAsync(ResumeData data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var bytes = data.Encode();
        var print = Fingerprint(bytes);
        if (_onDisk.TryGetValue(data.InfoHash, out var known) && known == print) return false;
        // Unknown while it is being written: a failed write may leave either content.
        _onDisk.TryRemove(data.InfoHash, out _);
        await AtomicFile.WriteAllBytesAsync(GetResumePath(data.InfoHash), bytes, cancellationToken).ConfigureAwait(false);
        _onDisk[data.InfoHash] = print;
        return true;
    }

    /// <summary>What each torrent's resume file holds as this store last read or wrote it (16 bytes of its SHA-256).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<InfoHash, UInt128> _onDisk = new();

    private static UInt128 Fingerprint(ReadOnlySpan<byte> bytes)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(bytes, hash);
        return System.Runtime.InteropServices.MemoryMarshal.Read<UInt128>(hash);
    }

    /// <summary>Saves a torrent's metainfo (the .torrent file's bytes, or the info dictionary wrapped for a magnet).</summary>
    public Task SaveTorrentAsync(InfoHash infoHash, ReadOnlyMemory<byte> metainfo, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllBytesAsync(GetTorrentPath(infoHash), metainfo, cancellationToken);

    /// <summary>
    /// Loads a torrent's resume data and checks it belongs to the torrent. Never throws for bad content: a corrupt,
    /// truncated, foreign or unreadable file comes back as <see cref="ResumeLoadStatus.Failed"/> with the reason,
    /// and the caller rechecks. Temporary files left by a crashed save are not looked for here: the session removes
    /// them once when it opens (<see cref="DeleteStaleTemporaryFiles"/>); listing the folder on every load made
    /// restoring N torrents cost N listings of a folder of 2N files.
    /// </summary>
    /// <param name="infoHash">The torrent's info-hash.</param>
    /// <param name="pieceCount">The torrent's piece count.</param>
    /// <param name="fileCount">The torrent's file count, pad files included.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<ResumeLoadResult> LoadAsync(InfoHash infoHash, int pieceCount, int fileCount, CancellationToken cancellationToken = default)
    {
        var path = GetResumePath(infoHash);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return Directory.Exists(path)
                    ? Failed(ResumeProblem.Unreadable, $"{path} is a folder, not a file")
                    : new ResumeLoadResult(ResumeLoadStatus.Missing, null, null);
            }
            if (info.Length > MaxResumeFileSize)
                return Failed(ResumeProblem.Corrupt, $"{path} is {info.Length} bytes, more than resume data can be");
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return new ResumeLoadResult(ResumeLoadStatus.Missing, null, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failed(ResumeProblem.Unreadable, $"{path} cannot be read ({e.Message})", e);
        }

        if (bytes.Length == 0) return Failed(ResumeProblem.Truncated, $"{path} is empty");
        ResumeData data;
        try
        {
            data = ResumeData.Decode(bytes);
        }
        catch (ResumeException e)
        {
            return Failed(e.Problem, $"{path}: {e.Reason}", e.InnerException);
        }

        if (data.InfoHash != infoHash)
            return Failed(ResumeProblem.Mismatch, $"{path} belongs to torrent {data.InfoHash}, not {infoHash}");
        if (data.PieceCount != pieceCount)
            return Failed(ResumeProblem.Mismatch, $"{path} has {data.PieceCount} pieces; the torrent has {pieceCount}");
        if (data.Files.Count != fileCount)
            return Failed(ResumeProblem.Mismatch, $"{path} lists {data.Files.Count} files; the torrent has {fileCount}");
        if (data.Settings.FilePriorities.Count is not 0 && data.Settings.FilePriorities.Count != fileCount)
            return Failed(ResumeProblem.Mismatch, $"{path} has priorities for {data.Settings.FilePriorities.Count} files; the torrent has {fileCount}");
        _onDisk[infoHash] = Fingerprint(bytes);
        return new ResumeLoadResult(ResumeLoadStatus.Loaded, data, null);
    }

    /// <summary>The info-hashes of every torrent saved in the session folder (its .torrent files), sorted.</summary>
    public IReadOnlyList<InfoHash> ListTorrents()
    {
        if (!Directory.Exists(SessionDirectory)) return [];
        var list = new List<InfoHash>();
        foreach (var file in Directory.EnumerateFiles(SessionDirectory, "*" + TorrentExtension))
        {
            if (InfoHash.TryParseHex(Path.GetFileNameWithoutExtension(file), out var hash)) list.Add(hash);
        }
        list.Sort();
        return list;
    }

    /// <summary>
    /// Removes the temporary files crashed saves left in the session folder (<c>&lt;infohash&gt;.resume.XXXXXXXX.tmp</c>
    /// and <c>&lt;infohash&gt;.torrent.XXXXXXXX.tmp</c>) in one listing of the folder, and returns how many. Call it once,
    /// when the session opens, before anything saves: a save in progress has such a file too.
    /// </summary>
    public int DeleteStaleTemporaryFiles()
    {
        if (!Directory.Exists(SessionDirectory)) return 0;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(SessionDirectory, "*" + AtomicFile.TemporarySuffix))
        {
            if (!IsOwnTemporaryFile(Path.GetFileName(file))) continue;
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* tried again at the next start */ }
        }
        return removed;
    }

    /// <summary>Whether <paramref name="name"/> is a temporary file of a resume or metainfo save: <c>HASH.EXT.XXXXXXXX.tmp</c>.</summary>
    internal static bool IsOwnTemporaryFile(string name)
    {
        if (!name.EndsWith(AtomicFile.TemporarySuffix, StringComparison.Ordinal)) return false;
        var target = name[..^AtomicFile.TemporarySuffix.Length];
        int dot = target.LastIndexOf('.');
        if (dot < 0 || target.Length - dot - 1 != AtomicFile.TemporaryTagLength) return false;
        target = target[..dot];
        var extension = Path.GetExtension(target);
        return extension is ResumeExtension or TorrentExtension or PieceJournal.Extension && InfoHash.TryParseHex(Path.GetFileNameWithoutExtension(target), out _);
    }

    /// <summary>Removes a torrent's resume data, piece journal, metainfo and stray temporary files from the session folder.</summary>
    public void Delete(InfoHash infoHash)
    {
        _onDisk.TryRemove(infoHash, out _);
        foreach (var path in new[] { GetJournalPath(infoHash), GetResumePath(infoHash), GetTorrentPath(infoHash) })
        {
            AtomicFile.DeleteStaleTemporaryFiles(path);
            if (File.Exists(path)) File.Delete(path);
        }
    }

    private static ResumeLoadResult Failed(ResumeProblem problem, string reason, Exception? inner = null) =>
        new(ResumeLoadStatus.Failed, null, new ResumeException(problem, reason, inner));
}
