using Microsoft.Win32.SafeHandles;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Storage;

/// <summary>
/// One torrent's files in its download folder (the default <c>file</c> storage). Created by
/// <see cref="FileStorageFactory"/>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Positional I/O (<see cref="RandomAccess"/>) on handles from the factory's bounded LRU cache; a file is opened
/// read-only while it is only read and reopened read-write on its first write.</item>
/// <item>Files are sparse: <see cref="PrepareAsync"/> sets the final length without writing zeros, unless asked to
/// preallocate. Existing data is never truncated.</item>
/// <item>Nothing is ever written, moved or deleted outside the download folder: paths are checked lexically when the
/// storage opens and physically (symbolic links followed) whenever a handle is opened. See <see cref="PathGuard"/>.</item>
/// <item><see cref="ReadAsync"/> of a missing file (or past a file's end) returns 0 bytes rather than throwing: resume
/// probing and rechecks read files that may not exist yet.</item>
/// <item>Errors are <see cref="StorageIOException"/>s ("No space left on device while writing PATH").</item>
/// <item><see cref="MoveAsync"/> and <see cref="DeleteAsync"/> expect the torrent to be stopped: reads and writes
/// issued meanwhile may see either location.</item>
/// <item><see cref="ChangeLocationAsync"/> switches folder or file names while the torrent runs: I/O in flight finishes
/// first, new I/O waits until the switch is done, so no operation ever uses a path that is being renamed.</item>
/// </list>
/// </remarks>
public sealed class FileStorage : ITorrentStorage
{
    private const FileShare Share = FileShare.ReadWrite | FileShare.Delete;

    private static StringComparer PathComparer => PathGuard.PathComparer;

    private readonly FileHandleCache _cache;
    private volatile StorageFile[] _files;
    private readonly int[] _dirty; // 1 = written since the last flush
    private readonly Func<string, bool, SafeFileHandle> _open;
    private readonly Func<string, bool, SafeFileHandle> _openForFlush;
    private volatile Location _location;
    private volatile bool _disposed;
    private int _users; // operations using _location right now (see TryEnter)
    private volatile Switch? _switch; // set while ChangeLocationAsync drains and switches
    private readonly SemaphoreSlim _switching = new(1, 1);
    private long _writes;

    internal FileStorage(StorageContext context, FileHandleCache cache)
    {
        ArgumentNullException.ThrowIfNull(context);
        _cache = cache;
        _files = [.. context.Files];
        for (int i = 0; i < _files.Length; i++)
        {
            if (_files[i].Index != i)
                throw new ArgumentException($"File {i} of the storage context has index {_files[i].Index}; files must be in torrent order.", nameof(context));
            if (_files[i].Length < 0)
                throw new ArgumentException($"File {i} has a negative length.", nameof(context));
        }
        _dirty = new int[_files.Length];
        InfoHashHex = context.InfoHashHex;
        _location = Locate(PathGuard.NormalizeRoot(context.SaveDirectory), _files);
        _open = OpenHandle;
        _openForFlush = OpenExistingForFlush;
    }

    /// <summary>The download folder (full path) the files are in now.</summary>
    public string SaveDirectory => _location.Root;

    /// <summary>The torrent's info-hash in hex, as given in the context.</summary>
    public string InfoHashHex { get; }

    /// <summary>The torrent's files, in order.</summary>
    public IReadOnlyList<StorageFile> Files => _files;

    /// <summary>Full path of file <paramref name="fileIndex"/> in the current download folder (null for a pad file).</summary>
    public string? GetFullPath(int fileIndex) => _location.Paths[GetFile(fileIndex).Index];

    /// <summary>
    /// Writes (and prepares) completed since the storage was opened. A caller that copies the files elsewhere compares it
    /// before and after, to know that no write landed in the copied files meanwhile.
    /// </summary>
    internal long WriteCount => Interlocked.Read(ref _writes);

    /// <summary>Bytes read from disk (pad files excluded): what a check hashed (tests, measurements).</summary>
    internal long BytesRead => Interlocked.Read(ref _bytesRead);

    private long _bytesRead;

    /// <inheritdoc/>
    /// <remarks>
    /// Returns fewer bytes than asked only at the end of the file, and 0 for a file that does not exist (yet). Reads
    /// stop at the torrent's length of the file even when the file on disk is longer. A pad file reads as zeros.
    /// </remarks>
    public async ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var file = GetFile(fileIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        cancellationToken.ThrowIfCancellationRequested();
        if (offset >= file.Length || buffer.IsEmpty) return 0;
        if (buffer.Length > file.Length - offset) buffer = buffer[..(int)(file.Length - offset)];
        if (file.IsPadding)
        {
            buffer.Span.Clear();
            return buffer.Length;
        }

        var location = TryEnter() ?? await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var path = location.Paths[fileIndex]!;
            FileHandleCache.Lease lease;
            try
            {
                lease = _cache.Acquire(this, fileIndex, path, write: false, _open);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return 0; // not written yet (or a file is where a folder should be: the data is not there either)
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw StorageErrors.Map(e, path, "opening");
            }

            using (lease)
            {
                int total = 0;
                try
                {
                    while (total < buffer.Length)
                    {
                        int n = await RandomAccess.ReadAsync(lease.Handle, buffer[total..], offset + total, cancellationToken).ConfigureAwait(false);
                        if (n == 0) break;
                        total += n;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw StorageErrors.Map(e, path, "reading");
                }
                Interlocked.Add(ref _bytesRead, total);
                return total;
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Creates the file and its folders when needed. Writing to a pad file does nothing.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the file's length.</exception>
    /// <exception cref="StorageIOException">Disk full, permission denied, read-only file system, a folder in the way, or a path leading outside the download folder.</exception>
    public async ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var file = GetFile(fileIndex);
        if (offset < 0 || offset > file.Length - data.Length)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"Writing {data.Length} bytes at {offset} does not fit in file {fileIndex} of {file.Length} bytes.");
        cancellationToken.ThrowIfCancellationRequested();
        if (file.IsPadding || data.IsEmpty) return;

        var location = TryEnter() ?? await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var path = location.Paths[fileIndex]!;
            FileHandleCache.Lease lease;
            try
            {
                lease = _cache.Acquire(this, fileIndex, path, write: true, _open);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw StorageErrors.Map(e, path, "creating");
            }

            using (lease)
            {
                try
                {
                    await RandomAccess.WriteAsync(lease.Handle, data, offset, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw StorageErrors.Map(e, path, "writing");
                }
            }
            // Marked after the write completed: a flush that starts later sees it; one already running may miss it,
            // which is what "durable when FlushAsync returns, for writes completed before it was called" allows.
            Volatile.Write(ref _dirty[fileIndex], 1);
            Interlocked.Increment(ref _writes);
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One positional vectored write (pwritev) for all the buffers. It runs synchronously on the calling thread: the
    /// engine calls it from a disk task already, and a page-cache write is faster than a hop to another thread.
    /// </remarks>
    public ValueTask WriteAsync(int fileIndex, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        var file = GetFile(fileIndex);
        long length = 0;
        foreach (var b in buffers) length += b.Length;
        if (offset < 0 || offset > file.Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"Writing {length} bytes at {offset} does not fit in file {fileIndex} of {file.Length} bytes.");
        cancellationToken.ThrowIfCancellationRequested();
        if (file.IsPadding || length == 0) return ValueTask.CompletedTask;

        // The common case stays synchronous; only a write that meets a location switch waits for it.
        return TryEnter() is { } location ? WriteGather(location, fileIndex, offset, buffers)
            : WriteGatherAfterSwitchAsync(fileIndex, offset, buffers, cancellationToken);
    }

    private async ValueTask WriteGatherAfterSwitchAsync(int fileIndex, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        var location = await EnterAsync(cancellationToken).ConfigureAwait(false);
        await WriteGather(location, fileIndex, offset, buffers).ConfigureAwait(false);
    }

    /// <summary>The gather write, on a location already entered (it exits).</summary>
    private ValueTask WriteGather(Location location, int fileIndex, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
    {
        try
        {
            var path = location.Paths[fileIndex]!;
            FileHandleCache.Lease lease;
            try
            {
                lease = _cache.Acquire(this, fileIndex, path, write: true, _open);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return ValueTask.FromException(StorageErrors.Map(e, path, "creating"));
            }
            using (lease)
            {
                try
                {
                    // One write per buffer (a block), not one gathered write of the whole piece: the kernel sizes the
                    // page-cache folios it allocates by the write, and on this machine (a VM whose free memory is
                    // reported to the host) large folios come from memory the host must fault back in. Measured
                    // writing 1 GiB in 1 MiB pieces: 0.6-2.3 s of CPU gathered, 0.36-0.42 s block by block
                    // (docs/PERFORMANCE.md); libtorrent and aria2 also write block by block.
                    long at = offset;
                    for (int i = 0; i < buffers.Count; i++)
                    {
                        RandomAccess.Write(lease.Handle, buffers[i].Span, at);
                        at += buffers[i].Length;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return ValueTask.FromException(StorageErrors.Map(e, path, "writing"));
                }
            }
            Volatile.Write(ref _dirty[fileIndex], 1);
            Interlocked.Increment(ref _writes);
            return ValueTask.CompletedTask;
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// fsyncs every file written (or prepared) since the last flush. A file whose handle was evicted from the cache
    /// meanwhile is reopened for the fsync: fsync makes the file's data durable whichever descriptor wrote it.
    /// </remarks>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < _dirty.Length; i++)
        {
            if (Volatile.Read(ref _dirty[i]) == 0) continue;
            cancellationToken.ThrowIfCancellationRequested();
            if (Interlocked.Exchange(ref _dirty[i], 0) == 0) continue;
            Location location;
            try
            {
                location = TryEnter() ?? await EnterAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Volatile.Write(ref _dirty[i], 1);
                throw;
            }
            var path = location.Paths[i]!;
            try
            {
                using var lease = _cache.Acquire(this, i, path, write: true, _openForFlush);
                var handle = lease.Handle;
                await Task.Run(() => RandomAccess.FlushToDisk(handle), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Deleted since it was written: nothing left to make durable.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Volatile.Write(ref _dirty[i], 1);
                throw StorageErrors.Map(e, path, "flushing");
            }
            finally
            {
                Exit();
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>A folder where the file should be counts as missing. Pad files are reported missing (they are never created).</remarks>
    /// <exception cref="StorageIOException">A symbolic link leads the path outside the download folder.</exception>
    public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken)
    {
        var file = GetFile(fileIndex);
        cancellationToken.ThrowIfCancellationRequested();
        if (file.IsPadding) return ValueTask.FromResult(default(StorageFileState));
        return TryEnter() is { } location ? ValueTask.FromResult(Probe(location, fileIndex)) : ProbeAfterSwitchAsync(fileIndex, cancellationToken);
    }

    private async ValueTask<StorageFileState> ProbeAfterSwitchAsync(int fileIndex, CancellationToken cancellationToken) =>
        Probe(await EnterAsync(cancellationToken).ConfigureAwait(false), fileIndex);

    /// <summary>Probes on a location already entered (it exits).</summary>
    private StorageFileState Probe(Location location, int fileIndex)
    {
        var path = location.Paths[fileIndex]!;
        try
        {
            PathGuard.EnsurePhysicallyInside(location.Root, path);
            var info = new FileInfo(path);
            if (!info.Exists) return default;
            return new StorageFileState(true, info.Length, new DateTimeOffset(info.LastWriteTimeUtc));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageErrors.Map(e, path, "examining");
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Creates the file and its folders. Without <paramref name="preallocate"/> the file gets its final length as a
    /// sparse file (no zeros written; blocks are allocated as data arrives). With it, the blocks are allocated up
    /// front (fallocate on Linux; elsewhere an existing file is only extended sparsely), so a full disk shows here
    /// rather than in the middle of a download. A longer existing file is not truncated. Zero-length files are
    /// created here, since no piece ever writes them. Pad files are not created.
    /// </remarks>
    public async ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken)
    {
        var file = GetFile(fileIndex);
        cancellationToken.ThrowIfCancellationRequested();
        if (file.IsPadding) return;
        var location = TryEnter() ?? await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var path = location.Paths[fileIndex]!;
            await Task.Run(() => Prepare(location.Root, path, file.Length, preallocate), cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _dirty[fileIndex], 1);
            Interlocked.Increment(ref _writes);
        }
        finally
        {
            Exit();
        }
    }

    private static void Prepare(string root, string path, long length, bool preallocate)
    {
        string operation = "creating";
        try
        {
            PathGuard.EnsurePhysicallyInside(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            SafeFileHandle? handle = null;
            bool allocated = false;
            if (preallocate && length > 0 && !File.Exists(path))
            {
                operation = "allocating";
                try
                {
                    handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, Share, FileOptions.None, length);
                    allocated = true;
                }
                catch (IOException) when (File.Exists(path))
                {
                    // Created by someone else meanwhile: treat as existing.
                }
            }
            handle ??= File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, Share);
            using (handle)
            {
                if (preallocate && !allocated && length > 0)
                {
                    operation = "allocating";
                    int rc = NativeFileSystem.Allocate(handle, length);
                    // -1: no posix_fallocate here; EINVAL/EOPNOTSUPP: the file system cannot; both fall back to sparse.
                    if (rc > 0 && rc is not (22 or 95))
                        throw new IOException($"posix_fallocate failed (errno {rc})", rc);
                }
                operation = "extending";
                if (RandomAccess.GetLength(handle) < length) RandomAccess.SetLength(handle, length);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageErrors.Map(e, path, operation);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Renames each existing file to the same relative path under <paramref name="newSaveDirectory"/> (a copy and a
    /// delete across file systems), then removes the torrent's folders left empty in the old place. Refuses to
    /// overwrite anything at the destination. On failure or cancellation (checked between files) the files already
    /// moved are moved back and the storage stays at the old folder.
    /// </remarks>
    public async ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var old = _location;
        var target = Locate(PathGuard.NormalizeRoot(newSaveDirectory), _files);
        if (PathComparer.Equals(old.Root, target.Root)) return;
        _cache.CloseOwner(this);
        await Task.Run(() => MoveFiles(old, target, cancellationToken), CancellationToken.None).ConfigureAwait(false);
        _location = target;
    }

    private void MoveFiles(Location from, Location to, CancellationToken cancellationToken)
    {
        var moved = new List<(string From, string To)>();
        string? src = null, dst = null;
        try
        {
            for (int i = 0; i < _files.Length; i++)
            {
                if (_files[i].IsPadding) continue;
                cancellationToken.ThrowIfCancellationRequested();
                src = from.Paths[i]!;
                dst = to.Paths[i]!;
                PathGuard.EnsurePhysicallyInside(from.Root, src);
                if (!File.Exists(src)) continue;
                PathGuard.EnsurePhysicallyInside(to.Root, dst);
                if (File.Exists(dst) || Directory.Exists(dst))
                    throw new StorageIOException(StorageErrorKind.DestinationExists, dst,
                        $"Cannot move {src} to {dst}: something with that name is already there");
                Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                File.Move(src, dst, overwrite: false);
                moved.Add((src, dst));
            }
        }
        catch (Exception e)
        {
            for (int k = moved.Count - 1; k >= 0; k--)
            {
                try { File.Move(moved[k].To, moved[k].From, overwrite: false); }
                catch (Exception) { /* best effort: the error below is what the user must see */ }
            }
            RemoveEmptyFolders(to);
            if (e is IOException or UnauthorizedAccessException && src is not null)
                throw StorageErrors.Map(e, dst ?? src, $"moving {src} to");
            throw;
        }
        RemoveEmptyFolders(from);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Deletes the torrent's files, then the folders of its file paths that are left empty (deepest first). Never
    /// the download folder itself, never anything that is not one of the torrent's paths, and never through a
    /// symbolic link that leads outside the folder.
    /// </remarks>
    public async ValueTask DeleteAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _cache.CloseOwner(this);
        var location = _location;
        await Task.Run(() =>
        {
            // Check every path before deleting any, so a hostile link stops the delete before it starts.
            for (int i = 0; i < _files.Length; i++)
            {
                if (_files[i].IsPadding) continue;
                var path = location.Paths[i]!;
                var parent = Path.GetDirectoryName(path)!;
                if (!PathComparer.Equals(Path.TrimEndingDirectorySeparator(parent), location.Root))
                    PathGuard.EnsurePhysicallyInside(location.Root, parent);
            }
            for (int i = 0; i < _files.Length; i++)
            {
                if (_files[i].IsPadding) continue;
                cancellationToken.ThrowIfCancellationRequested();
                var path = location.Paths[i]!;
                try
                {
                    // A link in the file's own place is removed as a link; its target is left alone.
                    if (File.Exists(path) || new FileInfo(path).LinkTarget is not null) File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw StorageErrors.Map(e, path, "deleting");
                }
                Volatile.Write(ref _dirty[i], 0);
            }
            RemoveEmptyFolders(location);
        }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask CloseAsync(int fileIndex, CancellationToken cancellationToken)
    {
        GetFile(fileIndex);
        _cache.Close(this, fileIndex);
        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the storage's cached handles. Does not flush: call <see cref="FlushAsync"/> first for durability.</summary>
    public ValueTask DisposeAsync()
    {
        _disposed = true;
        _cache.CloseOwner(this);
        return ValueTask.CompletedTask;
    }

    private StorageFile GetFile(int fileIndex)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)fileIndex >= (uint)_files.Length)
            throw new ArgumentOutOfRangeException(nameof(fileIndex), fileIndex, $"The torrent has {_files.Length} files.");
        return _files[fileIndex];
    }

    private SafeFileHandle OpenHandle(string path, bool write)
    {
        PathGuard.EnsurePhysicallyInside(_location.Root, path);
        if (!write) return File.OpenHandle(path, FileMode.Open, FileAccess.Read, Share, FileOptions.Asynchronous);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, Share, FileOptions.Asynchronous);
    }

    // Flushing must not recreate a file that was deleted since it was written.
    private SafeFileHandle OpenExistingForFlush(string path, bool write)
    {
        PathGuard.EnsurePhysicallyInside(_location.Root, path);
        return File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, Share, FileOptions.Asynchronous);
    }

    /// <summary>Computes every file's full path under <paramref name="root"/>, refusing paths that leave it.</summary>
    private static Location Locate(string root, StorageFile[] files)
    {
        var paths = new string?[files.Length];
        var seen = new HashSet<string>(PathComparer);
        for (int i = 0; i < files.Length; i++)
        {
            if (files[i].IsPadding) continue; // never touched, so never checked: a pad path cannot cause harm
            var full = PathGuard.Combine(root, files[i].Path);
            if (!seen.Add(full))
                throw new StorageIOException(StorageErrorKind.PathBlocked, full,
                    $"Two files of the torrent would be stored at {full}");
            paths[i] = full;
        }
        return new Location(root, paths);
    }

    /// <summary>Removes the folders of the torrent's paths that are empty, deepest first; errors are ignored.</summary>
    // Not empty after all, in use, or not ours to judge: such a folder is left.
    private void RemoveEmptyFolders(Location location) =>
        PathGuard.RemoveEmptyFolders(location.Root, location.Paths.OfType<string>());

    // ------------------------------------------------------------------ switching location while running

    /// <summary>
    /// Points the storage at another download folder and/or other relative file paths while reads and writes go on.
    /// Operations in flight finish first and new ones wait, so that nothing uses a path while
    /// <paramref name="diskWork"/> runs (renames on disk, with no handle of the storage open) and the switch happens.
    /// Then <paramref name="commitIf"/>, checked once nothing runs, may still veto the switch (the caller copied the
    /// files and must know that no write landed since, see <see cref="WriteCount"/>).
    /// </summary>
    /// <param name="newRoot">The download folder from now on.</param>
    /// <param name="relativePaths">Every file's relative path from now on (pad files included, ignored), or null to keep them.</param>
    /// <param name="diskWork">Runs while nothing uses the files; when it throws, nothing is switched and the exception propagates.</param>
    /// <param name="commitIf">Vetoes the switch when it returns false (after the drain, before <paramref name="diskWork"/>).</param>
    /// <returns>Whether the storage switched.</returns>
    /// <exception cref="StorageIOException">A new path would leave the folder or two files would share one (checked first).</exception>
    internal async Task<bool> ChangeLocationAsync(string newRoot, IReadOnlyList<string>? relativePaths, Action? diskWork, Func<bool>? commitIf)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var files = _files;
        if (relativePaths is not null)
        {
            if (relativePaths.Count != files.Length)
                throw new ArgumentException($"{relativePaths.Count} paths for {files.Length} files.", nameof(relativePaths));
            files = [.. files.Select((f, i) => f with { Path = relativePaths[i] })];
        }
        var next = Locate(PathGuard.NormalizeRoot(newRoot), files);
        await _switching.WaitAsync().ConfigureAwait(false);
        try
        {
            var pending = new Switch();
            Interlocked.Exchange(ref _switch, pending);
            try
            {
                if (Volatile.Read(ref _users) != 0) await pending.Drained.Task.ConfigureAwait(false);
                if (commitIf is not null && !commitIf()) return false;
                _cache.CloseOwner(this);
                diskWork?.Invoke();
                _files = files;
                _location = next;
                return true;
            }
            finally
            {
                _switch = null;
                pending.Done.TrySetResult();
            }
        }
        finally
        {
            _switching.Release();
        }
    }

    /// <summary>
    /// Starts an operation on the current location, or returns null when a switch is under way (then
    /// <see cref="EnterAsync"/> waits for it). Every location returned must be given back with <see cref="Exit"/>.
    /// </summary>
    /// <remarks>
    /// The count goes up before the switch flag is read, and <see cref="ChangeLocationAsync"/> sets the flag before it
    /// reads the count (both through full fences): either the operation sees the flag and backs off, or the switch
    /// sees the operation and waits for it.
    /// </remarks>
    private Location? TryEnter()
    {
        Interlocked.Increment(ref _users);
        if (_switch is null) return _location;
        Exit();
        return null;
    }

    private async ValueTask<Location> EnterAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_switch is { } pending) await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (TryEnter() is { } location) return location;
        }
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _users) == 0 && _switch is { } pending) pending.Drained.TrySetResult();
    }

    /// <summary>A location switch in progress: drained once no operation uses the old location, done once switched (or not).</summary>
    private sealed class Switch
    {
        public readonly TaskCompletionSource Drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Location(string Root, string?[] Paths);
}
