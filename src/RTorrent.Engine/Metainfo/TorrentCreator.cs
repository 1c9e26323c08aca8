using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Metainfo;

/// <summary>What goes into a torrent made by <see cref="TorrentCreator"/>, besides the files.</summary>
public sealed record TorrentCreatorOptions
{
    /// <summary>Piece length in bytes (a power of two from 16 KiB to 16 MiB is usual); null chooses one from the size
    /// (<see cref="TorrentCreator.ChoosePieceLength"/>).</summary>
    public long? PieceLength { get; init; }

    /// <summary>Trackers by tier (BEP 12). The first URL is also written as 'announce'.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Trackers { get; init; } = [];

    /// <summary>Web seeds (BEP 19 'url-list').</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>Private torrent (BEP 27).</summary>
    public bool IsPrivate { get; init; }

    /// <summary>'comment', or null.</summary>
    public string? Comment { get; init; }

    /// <summary>'source' inside the info dictionary (private trackers use it; it changes the info-hash), or null.</summary>
    public string? Source { get; init; }

    /// <summary>'created by'.</summary>
    public string? CreatedBy { get; init; } = "RTorrent " + (typeof(TorrentCreator).Assembly.GetName().Version?.ToString(3) ?? "");

    /// <summary>'creation date'; null writes the current time (see <see cref="OmitCreationDate"/>).</summary>
    public DateTimeOffset? CreationDate { get; init; }

    /// <summary>Leave 'creation date' out, so the same input always gives the same file.</summary>
    public bool OmitCreationDate { get; init; }

    /// <summary>The torrent's name; null uses the file or folder name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Include hidden files and folders (names starting with '.', or marked hidden on Windows). Off by default: they are
    /// usually editor, VCS or OS droppings (.git, .DS_Store) nobody means to share.
    /// </summary>
    public bool IncludeHidden { get; init; }

    /// <summary>
    /// BEP 47 attributes (off by default, so the info-hash stays mktorrent's): files with the executable bit get 'x'
    /// (Unix), and a symlink inside the folder whose final target (a file or folder) is inside the folder too is stored
    /// as a link ('l' with a 'symlink path' from the torrent's root, no data) instead of being followed; links leaving
    /// the folder and broken links are still skipped. libtorrent's creator does the same with its symlinks flag.
    /// </summary>
    public bool Attributes { get; init; }

    /// <summary>Hashing threads; null uses every core.</summary>
    public int? Parallelism { get; init; }

    /// <summary>
    /// Which BitTorrent versions the torrent carries: v1 (SHA-1 pieces, the default), v2 (BEP 52 merkle trees only) or
    /// a hybrid of both (v1 aligned to v2 with pad files), laid out as libtorrent 2 makes them.
    /// </summary>
    public TorrentVersions Version { get; init; } = TorrentVersions.V1;
}

/// <summary>Progress of <see cref="TorrentCreator"/>'s hashing.</summary>
/// <param name="BytesHashed">Bytes hashed so far.</param>
/// <param name="TotalBytes">Bytes to hash.</param>
/// <param name="PiecesHashed">Pieces done.</param>
/// <param name="PieceCount">Pieces in all.</param>
public readonly record struct TorrentCreationProgress(long BytesHashed, long TotalBytes, int PiecesHashed, int PieceCount);

/// <summary>A torrent made by <see cref="TorrentCreator"/>.</summary>
/// <param name="TorrentFile">The .torrent file's bytes.</param>
/// <param name="Metainfo">The same torrent, parsed.</param>
/// <param name="Skipped">Paths left out, each with the reason (hidden files, symlinks).</param>
public sealed record CreatedTorrent(byte[] TorrentFile, TorrentMetainfo Metainfo, IReadOnlyList<string> Skipped);

/// <summary>
/// Makes v1 .torrent files from a file or a folder, hashing pieces in parallel on all cores with positional reads and
/// pooled buffers.
/// </summary>
/// <remarks>
/// <para>Files are sorted by their relative path (ordinal, '/'-separated), so the same folder always gives the same
/// info-hash, and the same one as mktorrent for the same piece length.</para>
/// <para>Hidden files are skipped unless <see cref="TorrentCreatorOptions.IncludeHidden"/>. Symlinks inside a folder are
/// followed only when they point at a file inside the same folder (stored as a plain file); links to anything outside
/// the folder and links to folders are skipped, so creating a torrent never shares data the user did not put in the
/// folder and never loops. A single file named on the command line is read even if it is a symlink. Empty folders are
/// not stored (v1 cannot express them).</para>
/// </remarks>
public static partial class TorrentCreator
{
    /// <summary>Smallest automatic piece length: 16 KiB (one block).</summary>
    public const long MinAutoPieceLength = 16 * 1024;

    /// <summary>Largest automatic piece length: 16 MiB.</summary>
    public const long MaxAutoPieceLength = 16 * 1024 * 1024;

    /// <summary>Largest read (and pooled buffer) per hashing worker; longer pieces are hashed incrementally.</summary>
    private const int MaxReadSize = 4 * 1024 * 1024;

    /// <summary>Automatic piece lengths give at most this many pieces (until the 16 MiB cap).</summary>
    public const int TargetMaxPieces = 2000;

    /// <summary>
    /// The piece length for <paramref name="totalSize"/> bytes: the smallest power of two from 16 KiB to 16 MiB that
    /// gives at most 2000 pieces, so torrents have roughly 1000 to 2000 pieces (the .torrent stays small and peers still
    /// get many pieces to trade). Up to 31.25 MiB: 16 KiB; 62.5 MiB: 32 KiB; 125 MiB: 64 KiB; 250 MiB: 128 KiB;
    /// 500 MiB: 256 KiB; 1000 MiB: 512 KiB; 1.95 GiB: 1 MiB; 3.9 GiB: 2 MiB; 7.8 GiB: 4 MiB; 15.6 GiB: 8 MiB; beyond:
    /// 16 MiB (more pieces).
    /// </summary>
    public static long ChoosePieceLength(long totalSize)
    {
        long length = MinAutoPieceLength;
        while (length < MaxAutoPieceLength && (totalSize + length - 1) / length > TargetMaxPieces) length *= 2;
        return length;
    }

    /// <summary>Makes a torrent of <paramref name="path"/> (a file or a folder).</summary>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <exception cref="ArgumentException">Nothing to share, or bad options.</exception>
    /// <exception cref="IOException">A file could not be read, or changed while it was hashed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<CreatedTorrent> CreateAsync(
        string path, TorrentCreatorOptions? options = null, IProgress<TorrentCreationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new TorrentCreatorOptions();
        var full = Path.GetFullPath(Path.TrimEndingDirectorySeparator(path));
        var skipped = new List<string>();
        bool multiFile;
        List<SourceFile> files;
        if (Directory.Exists(full))
        {
            multiFile = true;
            files = ListFolder(full, options.IncludeHidden, options.Attributes, skipped);
        }
        else if (File.Exists(full))
        {
            multiFile = false;
            files = [new SourceFile(full, [Path.GetFileName(full)], new FileInfo(full).Length, options.Attributes ? AttrOf(new FileInfo(full)) : "")];
        }
        else
        {
            throw new FileNotFoundException($"'{path}' does not exist.", path);
        }

        long total = files.Sum(f => f.Length);
        if (total == 0) throw new ArgumentException($"'{path}' holds no data to share (no files, or only empty ones).", nameof(path));
        if (options.Version is not (TorrentVersions.V1 or TorrentVersions.V2 or TorrentVersions.Hybrid))
            throw new ArgumentException($"Unknown torrent version {options.Version}.", nameof(options));
        if (options.Version != TorrentVersions.V1)
            return await CreateV2Async(full, multiFile, files, total, options, progress, skipped, cancellationToken).ConfigureAwait(false);
        long pieceLength = options.PieceLength ?? ChoosePieceLength(total);
        if (pieceLength < 1 || pieceLength > MetainfoParser.MaxPieceLength)
            throw new ArgumentException($"Piece length {pieceLength} is out of range (1 byte to 1 GiB).", nameof(options));
        long pieceCount = (total + pieceLength - 1) / pieceLength;
        if (pieceCount > MetainfoParser.MaxPieces)
            throw new ArgumentException($"{pieceCount} pieces is more than the {MetainfoParser.MaxPieces} a torrent may have; choose a larger piece length.", nameof(options));

        var hashes = await HashPiecesAsync(files, pieceLength, (int)pieceCount, options.Parallelism ?? Environment.ProcessorCount, progress, cancellationToken)
            .ConfigureAwait(false);

        var name = options.Name ?? Path.GetFileName(full);
        var info = new BDictionary();
        if (multiFile)
        {
            var list = new BList();
            foreach (var f in files)
            {
                var entry = new BDictionary { ["length"] = new BInteger(f.Length), ["path"] = new BList(f.Elements.Select(e => new BString(e))) };
                if (f.Attr.Length > 0) entry["attr"] = new BString(f.Attr);
                if (f.LinkTarget is { } target) entry["symlink path"] = new BList(target.Select(e => new BString(e)));
                list.Add(entry);
            }
            info["files"] = list;
        }
        else
        {
            info["length"] = new BInteger(total);
            if (files[0].Attr.Length > 0) info["attr"] = new BString(files[0].Attr);
        }
        info["name"] = new BString(name);
        info["piece length"] = new BInteger(pieceLength);
        info["pieces"] = new BString(hashes);
        if (options.IsPrivate) info["private"] = new BInteger(1);
        if (!string.IsNullOrEmpty(options.Source)) info["source"] = new BString(options.Source);

        var bytes = BencodeWriter.Encode(MakeTop(options, info, null));
        return new CreatedTorrent(bytes, TorrentMetainfo.Parse(bytes), skipped);
    }

    /// <summary>The top-level dictionary around <paramref name="info"/>: trackers, comment, dates, web seeds, v2 piece layers.</summary>
    private static BDictionary MakeTop(TorrentCreatorOptions options, BDictionary info, BDictionary? pieceLayers)
    {
        var top = new BDictionary();
        var trackers = options.Trackers.Where(t => t.Count > 0).ToList();
        if (trackers.Count > 0)
        {
            top["announce"] = new BString(trackers[0][0]);
            if (trackers.Sum(t => t.Count) > 1)
                top["announce-list"] = new BList(trackers.Select(t => new BList(t.Select(u => new BString(u)))));
        }
        if (!string.IsNullOrEmpty(options.Comment)) top["comment"] = new BString(options.Comment);
        if (!string.IsNullOrEmpty(options.CreatedBy)) top["created by"] = new BString(options.CreatedBy);
        if (!options.OmitCreationDate)
            top["creation date"] = new BInteger((options.CreationDate ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds());
        if (options.WebSeeds.Count > 0) top["url-list"] = new BList(options.WebSeeds.Select(u => new BString(u)));
        top["info"] = info;
        if (pieceLayers is { Count: > 0 }) top["piece layers"] = pieceLayers;
        return top;
    }

    /// <summary>Makes a torrent of <paramref name="path"/> and writes it to <paramref name="outputFile"/>.</summary>
    /// <param name="overwrite">Replace an existing output file; otherwise an existing file is an <see cref="IOException"/>.</param>
    public static async Task<CreatedTorrent> CreateFileAsync(
        string path, string outputFile, TorrentCreatorOptions? options = null, IProgress<TorrentCreationProgress>? progress = null,
        bool overwrite = false, CancellationToken cancellationToken = default)
    {
        if (!overwrite && File.Exists(outputFile)) throw new IOException($"'{outputFile}' already exists.");
        var created = await CreateAsync(path, options, progress, cancellationToken).ConfigureAwait(false);
        // Write beside the target and rename, so a crash never leaves half a .torrent under the final name.
        var temp = outputFile + ".part";
        await File.WriteAllBytesAsync(temp, created.TorrentFile, cancellationToken).ConfigureAwait(false);
        File.Move(temp, outputFile, overwrite);
        return created;
    }

    private sealed record SourceFile(string FullPath, string[] Elements, long Length, string Attr = "", string[]? LinkTarget = null);

    /// <summary>"x" for a file with the owner's executable bit (Unix), else "".</summary>
    private static string AttrOf(FileInfo file) =>
        !OperatingSystem.IsWindows() && file.UnixFileMode.HasFlag(UnixFileMode.UserExecute) ? "x" : "";

    private static List<SourceFile> ListFolder(string root, bool includeHidden, bool attributes, List<string> skipped)
    {
        var rootWithSeparator = root + Path.DirectorySeparatorChar;
        var files = new List<SourceFile>();
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(root));
        while (pending.Count > 0)
        {
            foreach (var entry in pending.Pop().EnumerateFileSystemInfos())
            {
                var relative = Path.GetRelativePath(root, entry.FullName);
                if (!includeHidden && IsHidden(entry))
                {
                    skipped.Add($"{relative}: hidden");
                    continue;
                }
                if (entry.LinkTarget is not null)
                {
                    var target = SafeResolve(entry);
                    if (attributes && target is { Exists: true } &&
                        (target.FullName == root || target.FullName.StartsWith(rootWithSeparator, StringComparison.Ordinal)))
                    {
                        // A link inside the folder to something inside it: kept as a link, its target from the torrent's
                        // folder (BEP 47's root; the folder itself is ".").
                        var to = target.FullName == root ? ["."] : Split(Path.GetRelativePath(root, target.FullName));
                        files.Add(new SourceFile(entry.FullName, Split(relative), 0, "l", to));
                        continue;
                    }
                    if (target is not FileInfo { Exists: true } file)
                    {
                        skipped.Add($"{relative}: symlink to a folder or to nothing (not followed)");
                        continue;
                    }
                    if (!file.FullName.StartsWith(rootWithSeparator, StringComparison.Ordinal))
                    {
                        skipped.Add($"{relative}: symlink to a file outside the folder (not followed)");
                        continue;
                    }
                    files.Add(new SourceFile(entry.FullName, Split(relative), file.Length));
                    continue;
                }
                switch (entry)
                {
                    case DirectoryInfo dir:
                        pending.Push(dir);
                        break;
                    case FileInfo f:
                        files.Add(new SourceFile(f.FullName, Split(relative), f.Length, attributes ? AttrOf(f) : ""));
                        break;
                }
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(string.Join('/', a.Elements), string.Join('/', b.Elements)));
        return files;

        static string[] Split(string relative) => relative.Split(Path.DirectorySeparatorChar);
    }

    private static FileSystemInfo? SafeResolve(FileSystemInfo entry)
    {
        try
        {
            return entry.ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException)
        {
            return null; // a link loop or a target that cannot be read
        }
    }

    private static bool IsHidden(FileSystemInfo entry) =>
        entry.Name.StartsWith('.') || (OperatingSystem.IsWindows() && entry.Attributes.HasFlag(FileAttributes.Hidden));

    private static async Task<byte[]> HashPiecesAsync(
        List<SourceFile> files, long pieceLength, int pieceCount, int parallelism, IProgress<TorrentCreationProgress>? progress,
        CancellationToken cancellationToken)
    {
        var hashes = new byte[pieceCount * 20];
        var starts = new long[files.Count + 1];
        for (int i = 0; i < files.Count; i++) starts[i + 1] = starts[i] + files[i].Length;
        long total = starts[^1];
        var tracker = new ProgressTracker(progress, total, pieceCount);
        int next = -1;
        int workers = Math.Clamp(parallelism, 1, pieceCount);

        void Work()
        {
            // Pieces up to 4 MiB are hashed in one call; larger ones in 4 MiB chunks, so memory stays bounded.
            int bufferSize = (int)Math.Min(pieceLength, MaxReadSize);
            var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
            using var incremental = pieceLength > bufferSize ? IncrementalHash.CreateHash(HashAlgorithmName.SHA1) : null;
            SafeFileHandle? handle = null;
            int handleFile = -1;
            try
            {
                int piece;
                while ((piece = Interlocked.Increment(ref next)) < pieceCount)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    long start = piece * pieceLength;
                    int size = (int)Math.Min(pieceLength, total - start);
                    int fileIndex = FindFile(starts, start);
                    for (int done = 0; done < size;)
                    {
                        int chunk = Math.Min(size - done, bufferSize);
                        int filled = 0;
                        while (filled < chunk)
                        {
                            long position = start + done + filled;
                            while (files[fileIndex].Length == 0 || starts[fileIndex + 1] <= position) fileIndex++;
                            if (handleFile != fileIndex)
                            {
                                handle?.Dispose();
                                handle = File.OpenHandle(files[fileIndex].FullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
                                handleFile = fileIndex;
                            }
                            long fileOffset = position - starts[fileIndex];
                            int want = (int)Math.Min(chunk - filled, files[fileIndex].Length - fileOffset);
                            int read = RandomAccess.Read(handle!, buffer.AsSpan(filled, want), fileOffset);
                            if (read <= 0)
                                throw new IOException($"'{files[fileIndex].FullPath}' became shorter while it was hashed.");
                            filled += read;
                        }
                        if (incremental is null) SHA1.HashData(buffer.AsSpan(0, chunk), hashes.AsSpan(piece * 20, 20));
                        else incremental.AppendData(buffer, 0, chunk);
                        done += chunk;
                    }
                    if (incremental is not null) incremental.GetHashAndReset(hashes.AsSpan(piece * 20, 20));
                    tracker.Add(size);
                }
            }
            finally
            {
                handle?.Dispose();
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        // Reads are synchronous positional reads: the page cache answers them faster than async I/O would, and each
        // worker is busy hashing anyway. LongRunning keeps them off the shared thread pool.
        var tasks = new Task[workers];
        for (int w = 0; w < workers; w++)
            tasks[w] = Task.Factory.StartNew(Work, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAll(tasks).ConfigureAwait(false);
        tracker.Finish();
        return hashes;
    }

    /// <summary>Index of the file holding stream byte <paramref name="offset"/> (the first, when empty files share it).</summary>
    private static int FindFile(long[] starts, long offset)
    {
        int lo = 0, hi = starts.Length - 2;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (starts[mid] <= offset) lo = mid;
            else hi = mid - 1;
        }
        while (lo > 0 && starts[lo - 1] == starts[lo]) lo--;
        return lo;
    }

    /// <summary>Counts hashed bytes from all workers and reports at most every half per cent.</summary>
    private sealed class ProgressTracker(IProgress<TorrentCreationProgress>? progress, long total, int pieceCount)
    {
        private readonly long _step = Math.Max(1, total / 200);
        private long _bytes;
        private int _pieces;
        private long _reported;

        public void Add(int bytes)
        {
            long done = Interlocked.Add(ref _bytes, bytes);
            int pieces = Interlocked.Increment(ref _pieces);
            if (progress is null) return;
            long last = Volatile.Read(ref _reported);
            if (done - last >= _step && Interlocked.CompareExchange(ref _reported, done, last) == last)
                progress.Report(new TorrentCreationProgress(done, total, pieces, pieceCount));
        }

        public void Finish() => progress?.Report(new TorrentCreationProgress(total, total, pieceCount, pieceCount));
    }
}
