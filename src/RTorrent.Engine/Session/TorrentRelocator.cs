using System.Collections.Concurrent;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Session;

/// <summary>
/// Moves torrents' data to another folder, points torrents at data that is already elsewhere, and renames their files
/// and folders, for <see cref="ClientSession"/> (which persists the result in the resume data). Operations on one
/// torrent run one at a time; closing the session cancels those under way and waits until they have cleaned up.
/// </summary>
/// <remarks>
/// Only the built-in <c>file</c> storage keeps a torrent's data in its download folder under the torrent's paths, so
/// only its data can be moved or renamed; other storages (the <c>memory</c> plugin, say) are refused with a message
/// saying so, since their data is not where the folder says and the engine cannot know how to move it.
/// </remarks>
internal sealed class TorrentRelocator : IAsyncDisposable
{
    private readonly ClientEngine _engine;
    private readonly Func<Torrent, Func<Task>, Task> _whileNoResumeSave;
    private readonly Func<Torrent, Task> _saveResumeOrThrow;
    private readonly Func<Torrent, Task> _saveResume;
    private readonly ConcurrentDictionary<InfoHash, SemaphoreSlim> _gates = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly HashSet<Task> _running = [];
    private bool _disposed;

    /// <param name="engine">The engine whose torrents are moved.</param>
    /// <param name="whileNoResumeSave">Runs a step while no resume save of the torrent runs (the session's save gate).</param>
    /// <param name="saveResumeOrThrow">Saves the torrent's resume data and throws when that fails (nothing without a session folder).</param>
    /// <param name="saveResume">Saves the torrent's resume data, logging a failure on the torrent.</param>
    public TorrentRelocator(ClientEngine engine, Func<Torrent, Func<Task>, Task> whileNoResumeSave, Func<Torrent, Task> saveResumeOrThrow,
        Func<Torrent, Task> saveResume)
    {
        _engine = engine;
        _whileNoResumeSave = whileNoResumeSave;
        _saveResumeOrThrow = saveResumeOrThrow;
        _saveResume = saveResume;
    }

    // ------------------------------------------------------------------ moving data

    /// <summary>Moves the torrent's data to <paramref name="newSavePath"/> (see <see cref="ClientSession.MoveDataAsync(Torrent, string, CancellationToken)"/>).</summary>
    public Task MoveAsync(Torrent torrent, string newSavePath, IProgress<MoveProgress>? progress, CancellationToken cancellationToken) =>
        RunAsync(torrent, cancellationToken, ct => MoveCoreAsync(torrent, newSavePath, progress, ct));

    // What a kill -9 leaves at each step of a move (the resume data names the old folder until step 4 wrote it):
    //  1. pause (incomplete torrents only): the resume data is saved as usual; the torrent resumes from the old folder.
    //  2. stage (DataMover.StageAsync): the old files are only read and stay complete; the new folder may hold copies,
    //     whole under their final names or partial under temporary names. A restart uses the old folder; a later move
    //     removes the temporary names and refuses the final ones until the user removes them.
    //  3. switch the storage on the loop: in memory only; as 2.
    //  4. save the resume data with the new folder (atomic, after the copies were fsynced): before the rename of the
    //     resume file, as 2; after it, the new folder is used and it is complete and durable.
    //  5. delete the old files and the torrent's folders left empty there: the new folder is used; what is left of
    //     the old copy is plain files that nothing refers to any more.
    // A failure or cancellation before 4 removes what step 2 created and points the torrent back at the old folder,
    // whose files were never written: nothing is lost and the resume data never names a folder without the data.
    private async Task MoveCoreAsync(Torrent torrent, string newSavePath, IProgress<MoveProgress>? progress, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(newSavePath);
        var target = PathGuard.NormalizeRoot(newSavePath);
        var now = await ReadAsync(torrent);
        var from = PathGuard.NormalizeRoot(now.SavePath);
        if (string.Equals(from, target, StringComparison.Ordinal)) return;
        if (now.Meta is null)
        {
            // A magnet link still fetching its metadata has no data yet: its files will be created in the new folder.
            await _engine.Loop.InvokeAsync(() => torrent.SetSavePathOnLoop(target));
            await LogAsync(torrent, PluginLogLevel.Information, $"download folder set to {target}");
            return;
        }
        var files = FileStorageOf(torrent, now, "moved");
        if (now.State == TorrentState.Checking)
            throw new InvalidOperationException($"{now.Name} is being checked; move its data when the check has finished.");
        var mover = new DataMover(from, target, files.Files, torrent.InfoHash.ToHex()[..8]);
        if (mover.IsSamePlace) return;

        // A complete torrent only reads its files, so it keeps seeding from the old folder while they are copied. An
        // incomplete one would write pieces into files already copied, so it is paused for the move.
        bool seeding = now.State == TorrentState.Seeding;
        bool resume = false;
        await LogAsync(torrent, PluginLogLevel.Information, $"moving the data from {from} to {target}{(seeding ? " while seeding" : "")}");
        try
        {
            if (!seeding) resume = await PauseAsync(torrent, ct);
            if (!await StageAndSwitchAsync(torrent, files, mover, progress, ct))
            {
                if (!seeding) throw StartedDuringMove();
                // It wrote into the old files while they were copied (a skipped file was wanted again and downloaded):
                // the copy is stale. Move it again, paused.
                await LogAsync(torrent, PluginLogLevel.Information, "the torrent wrote data during the move; moving it again while it is paused");
                resume = await PauseAsync(torrent, ct);
                mover = new DataMover(from, target, files.Files, torrent.InfoHash.ToHex()[..8]);
                if (!await StageAndSwitchAsync(torrent, files, mover, progress, ct)) throw StartedDuringMove();
            }
            var problems = await Task.Run(mover.RemoveSources, CancellationToken.None);
            foreach (var p in problems) await LogAsync(torrent, PluginLogLevel.Warning, $"after the move, {p}");
            await LogAsync(torrent, PluginLogLevel.Information,
                $"moved the data to {target}: {mover.LinkedFiles} file(s) renamed, {mover.CopiedFiles} copied ({mover.CopiedBytes} bytes)");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await LogAsync(torrent, PluginLogLevel.Warning, $"moving the data to {target} was cancelled; it stays in {from}");
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var message = $"Could not move the data of {now.Name} to {target}: {e.Message.TrimEnd('.')}. Its data stays in {from}.";
            await LogAsync(torrent, PluginLogLevel.Error, message);
            throw e is StorageIOException s ? new StorageIOException(s.Kind, s.Path, message, e) : new IOException(message, e);
        }
        catch (InvalidOperationException e)
        {
            await LogAsync(torrent, PluginLogLevel.Error, $"moving the data to {target} failed: {e.Message}");
            throw;
        }
        finally
        {
            if (resume) await UnpauseAsync(torrent);
        }
    }

    private static IOException StartedDuringMove() =>
        new("the torrent was started while its data was being moved, so the copy could miss pieces; the move was undone");

    /// <summary>
    /// Copies the files (step 2), then, with no resume save running, switches the storage on the loop (3) and saves the
    /// resume data (4). False when a write reached the old files after the copy began (nothing switched, copies
    /// removed). On a failure the copies are removed and the torrent points at the old folder again.
    /// </summary>
    private async Task<bool> StageAndSwitchAsync(Torrent torrent, FileStorage files, DataMover mover, IProgress<MoveProgress>? progress, CancellationToken ct)
    {
        long writes = files.WriteCount;
        await mover.StageAsync(progress, ct);
        bool switched = false;
        try
        {
            await _whileNoResumeSave(torrent, async () =>
            {
                ct.ThrowIfCancellationRequested();
                switched = await _engine.Loop.RunAsync(async () =>
                {
                    EnsureStillAdded(torrent);
                    if (!await files.ChangeLocationAsync(mover.To, null, null, () => files.WriteCount == writes)) return false;
                    torrent.SetSavePathOnLoop(mover.To);
                    return true;
                });
                if (switched) await _saveResumeOrThrow(torrent);
            });
        }
        catch (Exception e)
        {
            if (switched)
            {
                // The resume data was not written: it names the old folder, whose files are intact. Go back there.
                await _engine.Loop.RunAsync(async () =>
                {
                    await files.ChangeLocationAsync(mover.From, null, null, null);
                    torrent.SetSavePathOnLoop(mover.From);
                });
            }
            mover.Rollback();
            if (switched && e is IOException or UnauthorizedAccessException or InvalidOperationException)
                throw new IOException($"its resume data could not be saved ({e.Message.TrimEnd('.')}), so the move was undone", e);
            throw;
        }
        if (!switched) mover.Rollback();
        return switched;
    }

    // ------------------------------------------------------------------ pointing at data elsewhere

    /// <summary>Points the torrent at data already in <paramref name="newSavePath"/> and checks it (see <see cref="ClientSession.SetLocationAsync"/>).</summary>
    public Task SetLocationAsync(Torrent torrent, string newSavePath, CancellationToken cancellationToken) =>
        RunAsync(torrent, cancellationToken, async ct =>
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(newSavePath);
            var target = PathGuard.NormalizeRoot(newSavePath);
            var now = await ReadAsync(torrent);
            if (string.Equals(PathGuard.NormalizeRoot(now.SavePath), target, StringComparison.Ordinal)) return;
            if (now.Meta is null)
            {
                await _engine.Loop.InvokeAsync(() => torrent.SetSavePathOnLoop(target));
                await LogAsync(torrent, PluginLogLevel.Information, $"download folder set to {target}");
                return;
            }
            var files = FileStorageOf(torrent, now, "pointed at another folder");
            if (now.State == TorrentState.Checking)
                throw new InvalidOperationException($"{now.Name} is being checked; change its location when the check has finished.");
            bool resume = false;
            try
            {
                resume = await PauseAsync(torrent, ct);
                await _whileNoResumeSave(torrent, () => _engine.Loop.RunAsync(async () =>
                {
                    EnsureStillAdded(torrent);
                    await files.ChangeLocationAsync(target, null, null, null);
                    torrent.SetSavePathOnLoop(target);
                }));
                await LogAsync(torrent, PluginLogLevel.Information, $"data location set to {target} (the data was not moved); checking it");
                await _engine.Loop.RunAsync(() => torrent.CheckOnLoopAsync(full: true));
                await _saveResume(torrent);
            }
            finally
            {
                if (resume) await UnpauseAsync(torrent);
            }
        });

    // ------------------------------------------------------------------ renaming

    /// <summary>Renames a file or folder of the torrent (see <see cref="ClientSession.RenamePathAsync"/>).</summary>
    public Task RenameAsync(Torrent torrent, string path, string newName, CancellationToken cancellationToken) =>
        RunAsync(torrent, cancellationToken, async ct =>
        {
            ArgumentNullException.ThrowIfNull(path);
            ArgumentNullException.ThrowIfNull(newName);
            var now = await ReadAsync(torrent);
            if (now.Meta is not { } meta)
                throw new InvalidOperationException($"The files of {now.Name} are not known until its metadata has arrived.");
            var files = FileStorageOf(torrent, now, "renamed");
            var plan = FileRenames.Plan(meta, now.Renamed, path, newName);
            if (plan.IsNoOp) return;
            var root = files.SaveDirectory;
            var oldFull = PathGuard.Combine(root, plan.OldPath);
            var newFull = PathGuard.Combine(root, plan.NewPath);
            var oldPaths = FileRenames.StorageFiles(meta, now.Renamed).Select(f => f.Path).ToArray();
            var oldRenamed = now.Renamed ?? new Dictionary<int, string>();
            bool renamed = false;
            try
            {
                // Said before anything changes; checked again while nothing uses the files.
                await Task.Run(() => CheckRenameOnDisk(root, oldFull, newFull), CancellationToken.None);
                ct.ThrowIfCancellationRequested();
                await _whileNoResumeSave(torrent, async () =>
                {
                    await _engine.Loop.RunAsync(async () =>
                    {
                        EnsureStillAdded(torrent);
                        await files.ChangeLocationAsync(root, plan.Paths, () => RenameOnDisk(root, oldFull, newFull), null);
                        torrent.SetRenamedFilesOnLoop(plan.Renamed);
                    });
                    renamed = true;
                    // Saved at once, so that a restart finds the files under their new names; a kill -9 in the
                    // moment between the rename and this save leaves the resume data naming the old paths: the
                    // renamed files then count as missing and their pieces are downloaded again.
                    await _saveResumeOrThrow(torrent);
                });
            }
            catch (Exception e) when (renamed && e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                await _engine.Loop.RunAsync(async () =>
                {
                    await files.ChangeLocationAsync(root, oldPaths, () => RenameOnDisk(root, newFull, oldFull), null);
                    torrent.SetRenamedFilesOnLoop(oldRenamed);
                });
                var message = $"Could not rename '{plan.OldPath}' to '{newName}': the resume data could not be saved ({e.Message.TrimEnd('.')}), so the rename was undone.";
                await LogAsync(torrent, PluginLogLevel.Error, message);
                throw new IOException(message, e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var message = $"Could not rename '{plan.OldPath}' to '{newName}': {e.Message.TrimEnd('.')}.";
                await LogAsync(torrent, PluginLogLevel.Error, message);
                throw e is StorageIOException s ? new StorageIOException(s.Kind, s.Path, message, e) : new IOException(message, e);
            }
            await LogAsync(torrent, PluginLogLevel.Information, $"renamed '{plan.OldPath}' to '{plan.NewPath}'");
        });

    /// <summary>Refuses a rename onto a name that something on disk already has (a file or folder that is not ours).</summary>
    private static void CheckRenameOnDisk(string root, string oldFull, string newFull)
    {
        PathGuard.EnsurePhysicallyInside(root, oldFull);
        PathGuard.EnsurePhysicallyInside(root, newFull);
        bool exists = File.Exists(newFull) || Directory.Exists(newFull) || new FileInfo(newFull).LinkTarget is not null;
        if (!exists) return;
        // "a" to "A" on a file system that ignores case finds "a" itself under the new name: that is no collision.
        if (string.Equals(oldFull, newFull, StringComparison.OrdinalIgnoreCase) && !HasExactEntry(newFull)) return;
        throw new StorageIOException(StorageErrorKind.DestinationExists, newFull,
            $"{newFull} already exists on disk and is not part of this torrent (it was left alone)");
    }

    private static bool HasExactEntry(string fullPath)
    {
        var folder = Path.GetDirectoryName(fullPath)!;
        var name = Path.GetFileName(fullPath);
        return Directory.Exists(folder) && new DirectoryInfo(folder)
            .EnumerateFileSystemInfos(name, new EnumerationOptions { MatchCasing = MatchCasing.CaseSensitive, AttributesToSkip = 0 })
            .Any(i => string.Equals(i.Name, name, StringComparison.Ordinal));
    }

    /// <summary>Renames the file or folder on disk when it is there (nothing is there before its data arrived), durably.</summary>
    private static void RenameOnDisk(string root, string fromFull, string toFull)
    {
        CheckRenameOnDisk(root, fromFull, toFull);
        try
        {
            if (new FileInfo(fromFull) is { LinkTarget: not null } || File.Exists(fromFull)) File.Move(fromFull, toFull, overwrite: false);
            else if (Directory.Exists(fromFull)) Directory.Move(fromFull, toFull);
            else return;
            NativeFileSystem.FsyncDirectory(Path.GetDirectoryName(toFull)!);
        }
        catch (Exception e) when (e is (IOException or UnauthorizedAccessException) and not StorageIOException)
        {
            throw StorageErrors.Map(e, toFull, $"renaming {fromFull} to");
        }
    }

    // ------------------------------------------------------------------ shared

    private sealed record TorrentNow(TorrentMetainfo? Meta, ITorrentStorage? Storage, TorrentState State, string SavePath, string StorageName,
        string Name, IReadOnlyDictionary<int, string>? Renamed);

    private Task<TorrentNow> ReadAsync(Torrent torrent) => _engine.Loop.InvokeAsync(() =>
    {
        EnsureStillAdded(torrent);
        return new TorrentNow(torrent.Metainfo, torrent.Storage, torrent.State, torrent.SavePath, torrent.Options.Storage, torrent.Name,
            torrent.Options.RenamedFiles);
    });

    private static FileStorage FileStorageOf(Torrent torrent, TorrentNow now, string what) => now.Storage switch
    {
        FileStorage files => files,
        null => throw new InvalidOperationException(
            $"The data of {now.Name} cannot be {what}: its storage '{now.StorageName}' is not available{(torrent.Unavailable is { } why ? $" ({why})" : "")}."),
        _ => throw new InvalidOperationException(
            $"The data of the '{now.StorageName}' storage cannot be {what}: only the '{FileStorageFactory.StorageName}' storage keeps a torrent's files in its download folder."),
    };

    private void EnsureStillAdded(Torrent torrent)
    {
        if (!_engine.Torrents.Contains(torrent)) throw new InvalidOperationException($"{torrent.Name} is not in the session (it was removed).");
    }

    /// <summary>
    /// Stops the torrent for the move when it runs, and waits for the writes it had already started; whether it ran.
    /// </summary>
    private async Task<bool> PauseAsync(Torrent torrent, CancellationToken ct)
    {
        bool ran = await _engine.Loop.RunAsync(async () =>
        {
            if (!torrent.IsRunning) return false;
            await torrent.StopOnLoopAsync(TorrentState.Stopped, null);
            return true;
        });
        try
        {
            await torrent.WaitForPendingWritesAsync(ct);
        }
        catch (OperationCanceledException)
        {
            if (ran) await UnpauseAsync(torrent);
            throw;
        }
        return ran;
    }

    /// <summary>Starts again a torrent paused for the move, unless the user paused it meanwhile or removed it.</summary>
    private Task UnpauseAsync(Torrent torrent) => _engine.Loop.RunAsync(async () =>
    {
        if (torrent.State == TorrentState.Stopped && !torrent.UserPaused && _engine.Torrents.Contains(torrent)) await torrent.StartOnLoopAsync();
    });

    private Task LogAsync(Torrent torrent, PluginLogLevel level, string message) => _engine.Loop.InvokeAsync(() => torrent.Log(level, message));

    /// <summary>Runs one operation on a torrent: one at a time per torrent, cancelled when the session closes.</summary>
    private Task RunAsync(Torrent torrent, CancellationToken cancellationToken, Func<CancellationToken, Task> operation)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        Task task;
        lock (_running)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            task = RunGatedAsync(torrent, cancellationToken, operation);
            _running.Add(task);
        }
        _ = task.ContinueWith(t => { lock (_running) _running.Remove(t); }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    private async Task RunGatedAsync(Torrent torrent, CancellationToken cancellationToken, Func<CancellationToken, Task> operation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        var gate = _gates.GetOrAdd(torrent.InfoHash, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(linked.Token).ConfigureAwait(false);
        try
        {
            await operation(linked.Token).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Cancels the operations under way and waits until they have cleaned up (before the engine stops).</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] running;
        lock (_running)
        {
            if (_disposed) return;
            _disposed = true;
            running = [.. _running];
        }
        _closing.Cancel();
        try { await Task.WhenAll(running).ConfigureAwait(false); }
        catch (Exception) { /* each caller sees its own outcome */ }
        _closing.Dispose();
    }
}
