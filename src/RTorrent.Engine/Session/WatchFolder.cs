using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Session;

/// <summary>Something the watch folder did or refused, for the user.</summary>
/// <param name="Path">The file (or the folder itself).</param>
/// <param name="IsError">A problem (not a torrent, the add failed, the folder is missing) rather than news.</param>
/// <param name="Message">One line for the user.</param>
public sealed record WatchFolderReport(string Path, bool IsError, string Message);

/// <summary>How a <see cref="WatchFolder"/> behaves.</summary>
public sealed record WatchFolderOptions
{
    /// <summary>
    /// How often the folder is scanned even without a change notification. inotify does not fire for changes made by
    /// other machines on network shares (NFS, SMB), so polling is what finds files there.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A file must keep the same size and modification time this long before it is read (still being written otherwise).</summary>
    public TimeSpan StableTime { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Rename added files to <c>NAME.added</c> (as transmission-daemon does), so they are not added again after a restart.</summary>
    public bool RenameAdded { get; init; } = true;

    /// <summary>
    /// Files added at once. Adding a torrent mostly waits (its .torrent and resume data are written and synced, its
    /// data probed, its check waits for its turn), so a folder of thousands is taken in many at a time, not one by one.
    /// </summary>
    public int MaxConcurrentAdds { get; init; } = 32;

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Adds and starts the torrents that appear in a folder, as rTorrent's watch directory does.
/// </summary>
/// <remarks>
/// <para>
/// It knows nothing of the engine: it calls the add function it is given, so the interface (over its own session)
/// and the daemon run the same code; only one of them watches a session's folder at a time.
/// </para>
/// <para>
/// Changes are noticed by a <see cref="FileSystemWatcher"/> and, because that misses changes on network shares and
/// can overflow, by a scan every <see cref="WatchFolderOptions.PollInterval"/> as well. A file is read only once its
/// size and modification time stayed the same for <see cref="WatchFolderOptions.StableTime"/>, so a torrent still
/// being copied in is not mistaken for a broken one. A .torrent file, or a text file holding a magnet link, is added;
/// anything else is reported once and left alone (it is remembered by path, size and modification time, so replacing
/// the file makes it count again). Hidden files and the usual partial-download names (.part, .crdownload, .tmp, ~)
/// are ignored. Only the folder itself is watched, not subfolders. The files found ready by one scan are added up to
/// <see cref="WatchFolderOptions.MaxConcurrentAdds"/> at a time, so the add function must allow concurrent calls.
/// </para>
/// </remarks>
public sealed class WatchFolder : IAsyncDisposable
{
    /// <summary>Largest file read as a torrent (the same bound the metainfo parser has).</summary>
    public const int MaxTorrentFileSize = 64 * 1024 * 1024;

    /// <summary>The suffix given to added files.</summary>
    public const string AddedSuffix = ".added";

    private static readonly string[] IgnoredSuffixes = [AddedSuffix, ".part", ".crdownload", ".tmp", ".download", ".partial", ".!qb", "~"];

    private readonly Func<string, CancellationToken, Task> _add;
    private readonly WatchFolderOptions _options;
    private readonly Dictionary<string, Observation> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Stamp> _done = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _scanLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private FileSystemWatcher? _watcher;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private string? _lastFolderProblem;

    /// <summary>Watches <paramref name="folder"/>; nothing happens until <see cref="Start"/>.</summary>
    /// <param name="folder">The folder to watch.</param>
    /// <param name="addTorrent">Adds and starts a torrent given a .torrent path or a magnet link; throws with a readable message when it cannot.</param>
    /// <param name="options">Timings and behaviour.</param>
    public WatchFolder(string folder, Func<string, CancellationToken, Task> addTorrent, WatchFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Folder = Path.GetFullPath(folder);
        _add = addTorrent;
        _options = options ?? new WatchFolderOptions();
    }

    /// <summary>The folder watched.</summary>
    public string Folder { get; }

    /// <summary>Raised (on a background thread) for every file added or refused, and for folder problems.</summary>
    public event Action<WatchFolderReport>? Reported;

    /// <summary>Starts watching: a change watcher where the file system offers one, and the polling loop.</summary>
    public void Start()
    {
        if (_loop is not null) return;
        TryStartWatcher();
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>
    /// Looks at the folder once: notes new or changed files and handles those that have been still long enough.
    /// The polling loop calls this; tests and a "rescan" command may too.
    /// </summary>
    public async Task ScanAsync(CancellationToken cancellationToken = default)
    {
        await _scanLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ScanOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _scanLock.Release();
        }
    }

    /// <summary>Files seen but not yet still for long enough.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Stops watching and waits for a scan in progress to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _watcher?.Dispose();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }

    private void TryStartWatcher()
    {
        try
        {
            if (!Directory.Exists(Folder)) return;
            var watcher = new FileSystemWatcher(Folder)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite,
            };
            watcher.Created += (_, _) => Signal();
            watcher.Changed += (_, _) => Signal();
            watcher.Renamed += (_, _) => Signal();
            // An overflow or a lost watch (the folder was unmounted) leaves the polling to carry on alone.
            watcher.Error += (_, _) => Signal();
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            // inotify limits reached, or a file system without notifications: polling still works.
            _watcher = null;
        }
    }

    private void Signal() => _changed.TrySetResult();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ScanAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                ReportFolderProblem($"Watch folder {Folder}: {e.Message}");
            }
            if (_watcher is null && Directory.Exists(Folder)) TryStartWatcher();

            // Files waiting to settle are looked at again soon; otherwise wait for a change or the next poll.
            TimeSpan wait = _pending.Count > 0 ? Min(_options.StableTime, _options.PollInterval) : _options.PollInterval;
            Task changed = _changed.Task;
            using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task delay = Task.Delay(wait, _options.Time, delayCancel.Token);
            try
            {
                await Task.WhenAny(changed, delay).ConfigureAwait(false);
            }
            finally
            {
                await delayCancel.CancelAsync().ConfigureAwait(false);
            }
            if (changed.IsCompleted)
            {
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                // Let a burst of events (a copy writes many times) settle into one scan.
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), _options.Time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ScanOnceAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Folder))
        {
            ReportFolderProblem($"Watch folder {Folder} does not exist (or cannot be read); looking again every {_options.PollInterval.TotalSeconds:0} s.");
            return;
        }
        _lastFolderProblem = null;

        DateTimeOffset now = _options.Time.GetUtcNow();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var ready = new List<string>();
        var enumeration = new EnumerationOptions { IgnoreInaccessible = true, RecurseSubdirectories = false, AttributesToSkip = FileAttributes.Directory };
        foreach (string path in Directory.EnumerateFiles(Folder, "*", enumeration))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Ignored(Path.GetFileName(path))) continue;
            FileInfo info;
            try
            {
                info = new FileInfo(path);
                if (!info.Exists) continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            seen.Add(path);
            var stamp = new Stamp(info.Length, info.LastWriteTimeUtc);
            if (_done.TryGetValue(path, out Stamp doneStamp) && doneStamp == stamp) continue;
            if (_pending.TryGetValue(path, out Observation previous) && previous.Stamp == stamp)
            {
                if (now - previous.Since >= _options.StableTime) ready.Add(path);
            }
            else
            {
                _pending[path] = new Observation(stamp, now);
            }
        }

        // Forget files that went away, so the maps do not grow and a file put back later counts as new.
        foreach (string gone in _pending.Keys.Where(p => !seen.Contains(p)).ToList()) _pending.Remove(gone);
        foreach (string gone in _done.Keys.Where(p => !seen.Contains(p)).ToList()) _done.Remove(gone);

        var handle = new List<(string Path, Stamp Stamp)>(ready.Count);
        foreach (string path in ready)
        {
            Stamp stamp = _pending[path].Stamp;
            _pending.Remove(path);
            _done[path] = stamp;
            handle.Add((path, stamp));
        }
        if (handle.Count == 1) await HandleAsync(handle[0].Path, handle[0].Stamp, cancellationToken).ConfigureAwait(false);
        else if (handle.Count > 1)
        {
            await Parallel.ForEachAsync(handle,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxConcurrentAdds), CancellationToken = cancellationToken },
                (file, ct) => new ValueTask(HandleAsync(file.Path, file.Stamp, ct))).ConfigureAwait(false);
        }
    }

    /// <summary>Forgets that a file was handled, so the next scan looks at it again (from concurrent handlers).</summary>
    private void Forget(string path)
    {
        lock (_done) _done.Remove(path);
    }

    private async Task HandleAsync(string path, Stamp stamp, CancellationToken cancellationToken)
    {
        string name = Path.GetFileName(path);
        if (stamp.Length > MaxTorrentFileSize)
        {
            Report(path, true, $"{name} is not a torrent (too large: {stamp.Length / (1024 * 1024)} MiB); left alone.");
            return;
        }

        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Perhaps locked or half-deleted: try again at the next scan.
            Forget(path);
            return;
        }

        string source;
        string? magnet = AsMagnet(data);
        if (magnet is not null)
        {
            source = magnet;
        }
        else
        {
            try
            {
                TorrentMetainfo.Parse(data);
            }
            catch (Exception e) when (e is FormatException or InvalidDataException or ArgumentException)
            {
                Report(path, true, $"{name} is not a torrent ({e.Message}); left alone.");
                return;
            }
            source = path;
        }

        try
        {
            await _add(source, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Forget(path);
            throw;
        }
        catch (Exception e)
        {
            Report(path, true, $"Could not add {name}: {e.Message}");
            return;
        }

        string note = "";
        if (_options.RenameAdded)
        {
            try
            {
                string target = path + AddedSuffix;
                File.Move(path, target, overwrite: true);
                Forget(path);
                note = $" (renamed to {Path.GetFileName(target)})";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                note = $" (could not rename it: {e.Message}; it stays remembered until it changes)";
            }
        }
        Report(path, false, $"Added {name} from the watch folder{note}.");
    }

    private static string? AsMagnet(byte[] data)
    {
        if (data.Length is 0 or > 64 * 1024) return null;
        string text;
        try
        {
            text = new System.Text.UTF8Encoding(false, true).GetString(data).Trim().TrimStart('\uFEFF');
        }
        catch (System.Text.DecoderFallbackException)
        {
            return null;
        }
        string first = text.Split('\n', 2)[0].Trim();
        return MagnetLink.LooksLikeMagnet(first) && MagnetLink.TryParse(first, out _, out _) ? first : null;
    }

    private static bool Ignored(string name)
    {
        if (name.StartsWith('.')) return true;
        foreach (string suffix in IgnoredSuffixes)
        {
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    private void ReportFolderProblem(string message)
    {
        if (message == _lastFolderProblem) return;
        _lastFolderProblem = message;
        Report(Folder, true, message);
    }

    private void Report(string path, bool isError, string message) => Reported?.Invoke(new WatchFolderReport(path, isError, message));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private readonly record struct Stamp(long Length, DateTime LastWriteUtc);

    private readonly record struct Observation(Stamp Stamp, DateTimeOffset Since);
}
