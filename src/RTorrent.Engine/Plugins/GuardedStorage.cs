using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// Runs a torrent's storage backend (plugin or built-in) and turns every failure into one clear, final state:
/// the first exception, timeout or nonsensical result marks the storage faulted, raises <see cref="Faulted"/> once,
/// and makes that call and every later one throw <see cref="StorageFaultedException"/>. The engine then puts the
/// torrent into its error state. There is deliberately no fallback: a torrent's data is never silently redirected to
/// another storage.
/// </summary>
/// <remarks>
/// <para>
/// Arguments are checked before the backend sees them (file index, pad files, offsets within the file); a bad
/// argument is an engine bug and throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/>
/// without faulting the storage.
/// </para>
/// <para>
/// Every call is bounded: reads, writes, probes and closes by <see cref="PluginGuardOptions.StorageCallTimeout"/>;
/// flushes, preallocating prepares, moves, deletes and disposal by
/// <see cref="PluginGuardOptions.StorageLongCallTimeout"/>. The backend's token is cancelled at the timeout, and the
/// guard stops waiting even if the backend ignores it. Cancellation by the caller is not a fault.
/// </para>
/// <para>Thread-safe: calls may come concurrently, as the contract allows.</para>
/// </remarks>
public sealed class GuardedStorage : ITorrentStorage
{
    private readonly ITorrentStorage _inner;
    private readonly IReadOnlyList<StorageFile> _files;
    private readonly PluginGuardOptions _options;
    private readonly TimeProvider _time;
    private volatile ComponentFault? _fault;
    private int _disposed;

    private GuardedStorage(ITorrentStorage inner, string componentName, IReadOnlyList<StorageFile> files, PluginGuardOptions options, TimeProvider time)
    {
        _inner = inner;
        ComponentName = componentName;
        _files = files;
        _options = options;
        _time = time;
    }

    /// <summary>Opens storage for a torrent through the backend's factory and guards it.</summary>
    /// <exception cref="StorageFaultedException">The factory threw or returned null.</exception>
    public static GuardedStorage Open(IStorageFactory factory, string componentName, StorageContext context,
        PluginGuardOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(componentName);
        ArgumentNullException.ThrowIfNull(context);
        ITorrentStorage? inner;
        try
        {
            inner = factory.Open(context);
        }
        catch (Exception e)
        {
            throw new StorageFaultedException(componentName, $"storage '{componentName}' could not be opened: {Message(e)}", e);
        }
        if (inner is null)
            throw new StorageFaultedException(componentName, $"storage '{componentName}' could not be opened: its factory returned null");
        return new GuardedStorage(inner, componentName, context.Files, options ?? PluginGuardOptions.Default, time ?? TimeProvider.System);
    }

    /// <summary>The backend's registered name.</summary>
    public string ComponentName { get; }

    /// <summary>Whether the storage has failed.</summary>
    public bool IsFaulted => _fault is not null;

    /// <summary>Why it failed, or null.</summary>
    public ComponentFault? Fault => _fault;

    /// <summary>Raised once when the storage fails, on the thread of the failing call.</summary>
    public event EventHandler<ComponentFault>? Faulted;

    /// <inheritdoc />
    public async ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // A read may ask past the end of the file (the contract answers with a short read); it must start inside it.
        CheckRange(fileIndex, offset, 0);
        var read = await CallAsync($"reading {PathOf(fileIndex)}", _options.StorageCallTimeout,
            (s, ct) => s.ReadAsync(fileIndex, offset, buffer, ct), cancellationToken).ConfigureAwait(false);
        if (read < 0 || read > buffer.Length)
            throw Fail($"storage '{ComponentName}' returned {read} bytes for a read of {buffer.Length} from {PathOf(fileIndex)}", null);
        return read;
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        CheckRange(fileIndex, offset, data.Length);
        return CallAsync($"writing {PathOf(fileIndex)}", _options.StorageCallTimeout,
            (s, ct) => s.WriteAsync(fileIndex, offset, data, ct), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken) =>
        CallAsync("flushing", _options.StorageLongCallTimeout, static (s, ct) => s.FlushAsync(ct), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken)
    {
        CheckFile(fileIndex, allowPadding: true);
        var state = await CallAsync($"probing {PathOf(fileIndex)}", _options.StorageCallTimeout,
            (s, ct) => s.ProbeAsync(fileIndex, ct), cancellationToken).ConfigureAwait(false);
        if (state.Length < 0 || (!state.Exists && state.Length != 0))
            throw Fail($"storage '{ComponentName}' reported an impossible state for {PathOf(fileIndex)}: exists={state.Exists}, length={state.Length}", null);
        return state;
    }

    /// <inheritdoc />
    public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken)
    {
        CheckFile(fileIndex, allowPadding: false);
        return CallAsync($"preparing {PathOf(fileIndex)}", preallocate ? _options.StorageLongCallTimeout : _options.StorageCallTimeout,
            (s, ct) => s.PrepareAsync(fileIndex, preallocate, ct), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(newSaveDirectory);
        return CallAsync($"moving to {newSaveDirectory}", _options.StorageLongCallTimeout,
            (s, ct) => s.MoveAsync(newSaveDirectory, ct), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DeleteAsync(CancellationToken cancellationToken) =>
        CallAsync("deleting the files", _options.StorageLongCallTimeout, static (s, ct) => s.DeleteAsync(ct), cancellationToken);

    /// <inheritdoc />
    public ValueTask CloseAsync(int fileIndex, CancellationToken cancellationToken)
    {
        CheckFile(fileIndex, allowPadding: true);
        return CallAsync($"closing {PathOf(fileIndex)}", _options.StorageCallTimeout,
            (s, ct) => s.CloseAsync(fileIndex, ct), cancellationToken);
    }

    /// <summary>
    /// Disposes the backend, bounded by the long timeout. A failure is recorded as a fault (it may mean data was not
    /// written) and raised through <see cref="Faulted"/>, but not thrown: disposal runs on shutdown paths.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var timeout = _options.StorageLongCallTimeout;
        try
        {
            await _inner.DisposeAsync().AsTask().WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Fail($"storage '{ComponentName}' did not close within {Describe(timeout)}", null);
        }
        catch (Exception e)
        {
            Fail($"storage '{ComponentName}' failed closing: {Message(e)}", e);
        }
    }

    private async ValueTask CallAsync(string what, TimeSpan timeout, Func<ITorrentStorage, CancellationToken, ValueTask> call, CancellationToken cancellationToken) =>
        await CallAsync(what, timeout, async (s, ct) => { await call(s, ct).ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);

    private async ValueTask<T> CallAsync<T>(string what, TimeSpan timeout, Func<ITorrentStorage, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        Task<T> task;
        try
        {
            task = call(_inner, linked.Token).AsTask();
        }
        catch (Exception e)
        {
            throw Fail($"storage '{ComponentName}' failed {what}: {Message(e)}", e);
        }
        try
        {
            return await task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(task);
            throw;
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && timeoutSource.IsCancellationRequested))
        {
            Observe(task);
            throw Fail($"storage '{ComponentName}' did not finish {what} within {Describe(timeout)}", null);
        }
        catch (Exception e)
        {
            throw Fail($"storage '{ComponentName}' failed {what}: {Message(e)}", e);
        }
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault) throw new StorageFaultedException(ComponentName, fault.Reason, fault.Exception);
    }

    private StorageFaultedException Fail(string reason, Exception? error)
    {
        var fault = new ComponentFault(ComponentKind.Storage, ComponentName, reason, error, _time.GetUtcNow());
        if (Interlocked.CompareExchange(ref _fault, fault, null) is null) Faulted?.Invoke(this, fault);
        // Report the first fault: later ones are usually consequences of it.
        var first = _fault!;
        return new StorageFaultedException(ComponentName, first.Reason, first.Exception);
    }

    private void CheckFile(int fileIndex, bool allowPadding)
    {
        if ((uint)fileIndex >= (uint)_files.Count)
            throw new ArgumentOutOfRangeException(nameof(fileIndex), fileIndex, $"The torrent has {_files.Count} files.");
        if (!allowPadding && _files[fileIndex].IsPadding)
            throw new ArgumentException($"File {fileIndex} is a pad file; storage never touches pad files.", nameof(fileIndex));
    }

    private void CheckRange(int fileIndex, long offset, int length)
    {
        CheckFile(fileIndex, allowPadding: false);
        var fileLength = _files[fileIndex].Length;
        if (offset < 0 || offset > fileLength - length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{length} bytes at offset {offset} do not fit in {_files[fileIndex].Path} ({fileLength} bytes).");
    }

    private string PathOf(int fileIndex) => _files[fileIndex].Path;

    private static string Message(Exception e) =>
        e is IOException or UnauthorizedAccessException ? PluginLoadErrors.FirstLine(e.Message) : $"{e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}";

    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string Describe(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds:0.#} s" : $"{timeout.TotalMilliseconds:0} ms";
}
