using System.Buffers;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Storage;

/// <summary>How far a move is: files and bytes placed at the destination so far, of the total.</summary>
/// <param name="FilesDone">Files placed.</param>
/// <param name="FilesTotal">Files to place (those that exist at the source).</param>
/// <param name="BytesDone">Bytes of the files placed.</param>
/// <param name="BytesTotal">Bytes of all files to place.</param>
internal readonly record struct MoveProgress(int FilesDone, int FilesTotal, long BytesDone, long BytesTotal);

/// <summary>
/// Moves one torrent's files from one download folder to another so that the data is never only half in either
/// place. The work is split in steps the caller runs in order, with its own switch in the middle:
/// <list type="number">
/// <item><see cref="StageAsync"/> puts a complete, durable copy of every existing file at the destination and
/// touches nothing at the source. On the same file system a file gets a second name (link(2), no data copied: a rename
/// whose old name goes later); across file systems it is copied to a temporary name in its destination folder, its
/// size checked, its mode and modification time kept, fsynced, and then given its final name (again with link(2),
/// which never replaces an existing file). The destination folders are fsynced last. On any failure or cancellation
/// everything it created is removed and the exception says why; the source is as it was.</item>
/// <item>The caller points the torrent at the destination and saves its resume data (or calls <see cref="Rollback"/>).</item>
/// <item><see cref="RemoveSources"/> deletes the old names and the torrent's folders left empty in the old place.</item>
/// </list>
/// Nothing is ever overwritten: a destination name that is taken stops the move before anything is created. Pad files
/// (BEP 47) are never on disk and files that do not exist (skipped, not downloaded yet) are left out; zero-length
/// files are moved like the others.
/// </summary>
/// <remarks>
/// <para>What a kill -9 (or power loss) leaves at each step, given that resume data names the old folder until the
/// caller saves it with the new one:</para>
/// <list type="bullet">
/// <item>during <see cref="StageAsync"/>: the old folder is intact and named by the resume data, so a restart uses it.
/// The destination may hold complete files under their final names (on the same file system, second names of the same
/// data) and at most one partial copy per folder under a temporary name <c>.rtorrent-move-TAG-INDEX</c>; a later move
/// of the same torrent deletes such temporary files, and refuses the final names until the user removes them (the
/// error says they may be left from an interrupted move).</item>
/// <item>after staging, before the resume data names the new folder: both copies are complete; the old one is used.</item>
/// <item>after the resume data names the new folder (it was written atomically after the copies were fsynced): the new
/// folder is used; old files not yet deleted stay behind as plain files the user may delete.</item>
/// </list>
/// <para>Not thread-safe: one move runs its steps one after the other.</para>
/// </remarks>
internal sealed class DataMover
{
    /// <summary>Bytes read and written at a time when copying.</summary>
    internal const int CopyChunk = 1024 * 1024;

    /// <summary>Granularity of the holes a copy keeps: a block of this many zero bytes is not written.</summary>
    private const int HoleBlock = 64 * 1024;

    /// <summary>Prefix of the temporary names copies are written under.</summary>
    internal const string TemporaryPrefix = ".rtorrent-move-";

    private static StringComparer PathComparer => PathGuard.PathComparer;

    private readonly StorageFile[] _files;
    private readonly string _tag;
    private readonly List<Item> _items = [];
    private readonly List<string> _placed = [];
    private readonly List<string> _createdFolders = [];
    private string? _temporary;
    private bool _staged;

    /// <summary>Prepares a move; nothing is touched until <see cref="StageAsync"/>.</summary>
    /// <param name="fromRoot">The download folder the files are in.</param>
    /// <param name="toRoot">The download folder they go to (created when missing).</param>
    /// <param name="files">The torrent's files, relative paths as the storage uses them.</param>
    /// <param name="tag">Names this torrent's temporary files (a few hex digits of its info-hash).</param>
    public DataMover(string fromRoot, string toRoot, IReadOnlyList<StorageFile> files, string tag)
    {
        From = PathGuard.NormalizeRoot(fromRoot);
        To = PathGuard.NormalizeRoot(toRoot);
        _files = [.. files];
        _tag = tag;
    }

    /// <summary>The old download folder (full path).</summary>
    public string From { get; }

    /// <summary>The new download folder (full path).</summary>
    public string To { get; }

    /// <summary>Whether both folders are the same place (also through symbolic links): then there is nothing to move.</summary>
    public bool IsSamePlace => PathComparer.Equals(From, To) || PathComparer.Equals(PathGuard.Resolve(From), PathGuard.Resolve(To));

    /// <summary>Files given a second name on the same file system (no data copied).</summary>
    public int LinkedFiles { get; private set; }

    /// <summary>Files copied to another file system.</summary>
    public int CopiedFiles { get; private set; }

    /// <summary>Bytes of the copied files.</summary>
    public long CopiedBytes { get; private set; }

    /// <summary>
    /// Places a durable copy of every existing file at the destination. The source is only read.
    /// </summary>
    /// <exception cref="StorageIOException">A destination name is taken, the disk is full, permission is denied, a
    /// path leads outside a folder, and so on; nothing is left at the destination.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; nothing is left at the destination.</exception>
    public Task StageAsync(IProgress<MoveProgress>? progress, CancellationToken cancellationToken)
    {
        if (_staged) throw new InvalidOperationException("The move was staged already.");
        _staged = true;
        return Task.Run(async () =>
        {
            try
            {
                await StageCoreAsync(progress, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Rollback();
                if (e is IOException or UnauthorizedAccessException && e is not StorageIOException)
                    throw StorageErrors.Map(e, _current ?? To, "moving");
                throw;
            }
        }, CancellationToken.None);
    }

    private string? _current; // the destination being written, for error messages

    private async Task StageCoreAsync(IProgress<MoveProgress>? progress, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Plan();
        long total = _items.Sum(i => i.Length), done = 0;
        int count = 0;
        foreach (var item in _items)
        {
            ct.ThrowIfCancellationRequested();
            _current = item.Destination;
            CreateFolders(Path.GetDirectoryName(item.Destination)!);
            // A symbolic link (inside the folder, or the storage would have refused it) is copied as the data it names.
            int rc = new FileInfo(item.Source).LinkTarget is null ? NativeFileSystem.Link(item.Source, item.Destination) : -1;
            if (rc == 0)
            {
                _placed.Add(item.Destination);
                LinkedFiles++;
            }
            else if (rc == NativeFileSystem.EEXIST)
            {
                throw Taken([item.Destination]);
            }
            else
            {
                // Another file system (EXDEV), or one without hard links: copy.
                var temporary = Path.Combine(Path.GetDirectoryName(item.Destination)!, $"{TemporaryPrefix}{_tag}-{item.Index}");
                _temporary = temporary;
                await CopyAsync(item.Source, temporary, item.Destination, ct).ConfigureAwait(false);
                Publish(temporary, item.Destination);
                _temporary = null;
                _placed.Add(item.Destination);
                CopiedFiles++;
                CopiedBytes += item.Length;
            }
            done += item.Length;
            progress?.Report(new MoveProgress(++count, _items.Count, done, total));
        }
        _current = null;
        FsyncFolders();
    }

    /// <summary>Lists the files to place and refuses, before creating anything, when a destination name is taken.</summary>
    private void Plan()
    {
        var taken = new List<string>();
        foreach (var f in _files)
        {
            if (f.IsPadding) continue;
            var source = PathGuard.Combine(From, f.Path);
            var destination = PathGuard.Combine(To, f.Path);
            PathGuard.EnsurePhysicallyInside(To, destination);
            // Also for files that do not exist here: the torrent would later write into someone else's file.
            if (File.Exists(destination) || Directory.Exists(destination) || new FileInfo(destination).LinkTarget is not null)
                taken.Add(destination);
            var info = new FileInfo(source);
            if (!info.Exists) continue; // skipped or not downloaded yet (a folder in its place is not its data either)
            PathGuard.EnsurePhysicallyInside(From, source);
            _items.Add(new Item(f.Index, source, destination, info.Length));
        }
        if (taken.Count > 0) throw Taken(taken);
    }

    private StorageIOException Taken(IReadOnlyList<string> taken)
    {
        var names = string.Join(", ", taken.Take(3)) + (taken.Count > 3 ? $" and {taken.Count - 3} more" : "");
        return new StorageIOException(StorageErrorKind.DestinationExists, taken[0],
            $"{To} already has {(taken.Count == 1 ? "a file" : "files")} with the name of this torrent's data ({names}); " +
            "moving there would overwrite it, so nothing was moved. Move it away (it may be left from an interrupted move) or choose another folder.");
    }

    /// <summary>Creates <paramref name="folder"/> and its missing parents, remembering them for <see cref="Rollback"/>.</summary>
    private void CreateFolders(string folder)
    {
        var missing = new Stack<string>();
        for (var d = folder; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Push(d);
        while (missing.Count > 0)
        {
            var d = missing.Pop();
            Directory.CreateDirectory(d);
            _createdFolders.Add(d);
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="temporary"/>: positional reads of 1 MiB, written but for
    /// blocks of 64 KiB zeros, which stay holes (a partly downloaded sparse file stays sparse); the length, mode and
    /// modification time kept, the length checked on both sides, then fsync.
    /// </summary>
    private static async Task CopyAsync(string source, string temporary, string destination, CancellationToken ct)
    {
        var sourceInfo = new FileInfo(source);
        var modified = sourceInfo.LastWriteTimeUtc;
        // A temporary name of ours left by an interrupted move: ours to replace.
        File.Delete(temporary);
        using var from = Open(source, FileMode.Open, FileAccess.Read, "reading");
        using var to = Open(temporary, FileMode.CreateNew, FileAccess.ReadWrite, "creating", destination);
        long length = RandomAccess.GetLength(from);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyChunk);
        try
        {
            for (long offset = 0; offset < length;)
            {
                ct.ThrowIfCancellationRequested();
                var chunk = buffer.AsMemory(0, (int)Math.Min(CopyChunk, length - offset));
                int n;
                try { n = await RandomAccess.ReadAsync(from, chunk, offset, ct).ConfigureAwait(false); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw StorageErrors.Map(e, source, "reading"); }
                if (n == 0)
                    throw new StorageIOException(StorageErrorKind.Other, source,
                        $"{source} became shorter while it was copied ({offset} of {length} bytes)");
                // Write the runs of blocks that hold data; blocks of zeros stay holes.
                for (int start = 0; start < n;)
                {
                    while (start < n && IsZero(chunk.Span.Slice(start, Math.Min(HoleBlock, n - start)))) start += HoleBlock;
                    if (start >= n) break;
                    int end = start;
                    while (end < n && !IsZero(chunk.Span.Slice(end, Math.Min(HoleBlock, n - end)))) end += HoleBlock;
                    end = Math.Min(end, n);
                    try { await RandomAccess.WriteAsync(to, chunk[start..end], offset + start, ct).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw StorageErrors.Map(e, destination, "copying to"); }
                    start = end;
                }
                offset += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        try
        {
            RandomAccess.SetLength(to, length); // trailing holes
            long copied = RandomAccess.GetLength(to), now = RandomAccess.GetLength(from);
            if (copied != length || now != length)
                throw new StorageIOException(StorageErrorKind.Other, destination,
                    $"The copy of {source} has {copied} bytes, the file {now}, {length} when the copy began");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, File.GetUnixFileMode(from));
            File.SetLastWriteTimeUtc(to, modified);
            RandomAccess.FlushToDisk(to);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageErrors.Map(e, destination, "copying to");
        }
    }

    private static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

    private static Microsoft.Win32.SafeHandles.SafeFileHandle Open(string path, FileMode mode, FileAccess access, string operation, string? shownAs = null)
    {
        try
        {
            return File.OpenHandle(path, mode, access, FileShare.ReadWrite | FileShare.Delete,
                FileOptions.Asynchronous | (access == FileAccess.Read ? FileOptions.SequentialScan : FileOptions.None));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageErrors.Map(e, shownAs ?? path, operation);
        }
    }

    /// <summary>Gives a finished copy its final name without replacing anything that appeared there meanwhile.</summary>
    private static void Publish(string temporary, string destination)
    {
        int rc = NativeFileSystem.Link(temporary, destination);
        if (rc == 0)
        {
            File.Delete(temporary);
            return;
        }
        if (rc == NativeFileSystem.EEXIST || File.Exists(destination) || Directory.Exists(destination))
            throw new StorageIOException(StorageErrorKind.DestinationExists, destination,
                $"{destination} appeared while the data was being moved; it was not overwritten, and nothing was moved");
        File.Move(temporary, destination, overwrite: false); // no hard links here: the exists check above must do
    }

    /// <summary>Makes the new names durable: every folder that got an entry, and the parents of the folders created.</summary>
    private void FsyncFolders()
    {
        var folders = new HashSet<string>(PathComparer);
        foreach (var placed in _placed) folders.Add(Path.GetDirectoryName(placed)!);
        foreach (var created in _createdFolders)
            if (Path.GetDirectoryName(created) is { } parent) folders.Add(parent);
        foreach (var folder in folders.OrderByDescending(f => f.Length))
        {
            try
            {
                NativeFileSystem.FsyncDirectory(folder);
            }
            catch (IOException e)
            {
                throw new StorageIOException(StorageErrorKind.Other, folder, $"Cannot make the new names in {folder} durable: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Removes what <see cref="StageAsync"/> created at the destination (never anything else), folders included when
    /// they are empty. Best effort: it never throws.
    /// </summary>
    public void Rollback()
    {
        if (_temporary is { } t) TryDelete(t);
        _temporary = null;
        foreach (var placed in _placed) TryDelete(placed);
        _placed.Clear();
        foreach (var folder in _createdFolders.OrderByDescending(f => f.Length))
        {
            try
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* not empty after all, or not ours to judge */ }
        }
        _createdFolders.Clear();
    }

    /// <summary>
    /// Deletes the moved files from the old folder, then the folders of the torrent's paths left empty there (deepest
    /// first, strictly inside the old download folder: never the folder itself or its parents). Call it only once the
    /// torrent uses the new folder and its resume data says so.
    /// </summary>
    /// <returns>One line per file or folder that could not be removed (the move itself succeeded).</returns>
    public IReadOnlyList<string> RemoveSources()
    {
        var problems = new List<string>();
        foreach (var item in _items)
        {
            try
            {
                PathGuard.EnsurePhysicallyInside(From, item.Source);
                File.Delete(item.Source);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add($"the old copy {item.Source} could not be removed: {e.Message}");
            }
        }
        PathGuard.RemoveEmptyFolders(From, _files.Where(f => !f.IsPadding).Select(f => PathGuard.Combine(From, f.Path)),
            (dir, e) => problems.Add($"the old folder {dir} could not be removed: {e.Message}"));
        return problems;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private sealed record Item(int Index, string Source, string Destination, long Length);
}
