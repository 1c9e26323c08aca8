using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// Runs a torrent source (a feed reader, built-in or from a plugin) for one feed and keeps its faults inside, like
/// <see cref="GuardedPeerSource"/> does for peer sources. A read that fails with <see cref="TorrentSourceException"/>
/// is an ordinary failure (the server is down): it is rethrown with the source's message and the next poll tries again.
/// Anything else is a fault and disables the source for this feed: another exception, a null result or null items, a
/// read not done within <see cref="PluginGuardOptions.TorrentSourceReadTimeout"/> (its token is cancelled and the guard
/// stops waiting even if the source ignores it), or a factory that throws. A disabled source is released in the
/// background and every later read fails at once with the reason.
/// </summary>
/// <remarks>
/// What a read returns is checked, never trusted: items without an id, a title or something to add (an http(s)
/// .torrent link, a magnet link, or an info-hash) are dropped, text is cut at
/// <see cref="PluginGuardOptions.MaxItemTextLength"/>, and at most <see cref="PluginGuardOptions.MaxItemsPerRead"/> items
/// are kept. Cancellation by the caller is not a fault.
/// </remarks>
public sealed class GuardedTorrentSource : IAsyncDisposable
{
    private readonly PluginGuardOptions _options;
    private readonly TimeProvider _time;
    private readonly ITorrentSource? _inner;
    private volatile ComponentFault? _fault;
    private int _released;

    private GuardedTorrentSource(ITorrentSource? inner, string componentName, PluginGuardOptions options, TimeProvider time)
    {
        _inner = inner;
        ComponentName = componentName;
        _options = options;
        _time = time;
    }

    /// <summary>
    /// Creates the source for a feed through its factory and guards it. When the factory throws or returns null the
    /// result is already disabled (<see cref="IsDisabled"/>).
    /// </summary>
    public static GuardedTorrentSource Create(ITorrentSourceFactory factory, string componentName, TorrentSourceContext context,
        PluginGuardOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(componentName);
        ArgumentNullException.ThrowIfNull(context);
        options ??= PluginGuardOptions.Default;
        time ??= TimeProvider.System;
        ITorrentSource? inner = null;
        Exception? error = null;
        try
        {
            inner = factory.Create(context with { MaxItems = Math.Min(context.MaxItems, options.MaxItemsPerRead) });
        }
        catch (Exception e)
        {
            error = e;
        }
        var guard = new GuardedTorrentSource(inner, componentName, options, time);
        if (inner is null)
            guard.Disable(error is null
                ? $"torrent source '{componentName}' could not be created: its factory returned null"
                : $"torrent source '{componentName}' could not be created: {error.GetType().Name}: {PluginLoadErrors.FirstLine(error.Message)}", error);
        return guard;
    }

    /// <summary>The source's registered name.</summary>
    public string ComponentName { get; }

    /// <summary>Whether the source is disabled for this feed.</summary>
    public bool IsDisabled => _fault is not null;

    /// <summary>Why it was disabled, or null.</summary>
    public ComponentFault? Fault => _fault;

    /// <summary>Raised once when the source is disabled, on the thread that noticed the fault.</summary>
    public event EventHandler<ComponentFault>? Disabled;

    /// <summary>Items the last read returned that were dropped (malformed, or beyond the cap).</summary>
    public int LastDropped { get; private set; }

    /// <summary>Reads the feed once.</summary>
    /// <exception cref="TorrentSourceException">The read failed (the message says why), or the source is disabled.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TorrentSourceResult> ReadAsync(CancellationToken cancellationToken)
    {
        if (_fault is { } fault || _inner is null) throw new TorrentSourceException(_fault?.Reason ?? "disabled");
        cancellationToken.ThrowIfCancellationRequested();
        var timeout = _options.TorrentSourceReadTimeout;
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        Task<TorrentSourceResult> task;
        try
        {
            task = _inner.ReadAsync(linked.Token).AsTask();
        }
        catch (TorrentSourceException e)
        {
            throw new TorrentSourceException(e.Message, e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            throw Fail($"torrent source '{ComponentName}' ReadAsync threw {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e);
        }
        TorrentSourceResult? result;
        try
        {
            result = await task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(task);
            throw;
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && timeoutSource.IsCancellationRequested))
        {
            Observe(task);
            throw Fail($"torrent source '{ComponentName}' ReadAsync did not finish within {Describe(timeout)}", null);
        }
        catch (TorrentSourceException e)
        {
            throw new TorrentSourceException(e.Message, e);
        }
        catch (Exception e)
        {
            throw Fail($"torrent source '{ComponentName}' ReadAsync threw {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e);
        }
        if (result is null || result.Items is null)
            throw Fail($"torrent source '{ComponentName}' ReadAsync returned {(result is null ? "null" : "null items")}", null);
        return Clean(result);
    }

    private TorrentSourceResult Clean(TorrentSourceResult result)
    {
        int max = _options.MaxItemsPerRead, cut = _options.MaxItemTextLength;
        var kept = new List<TorrentSourceItem>(Math.Min(result.Items.Count, max));
        int dropped = 0;
        foreach (var item in result.Items)
        {
            if (kept.Count >= max || item is null || string.IsNullOrWhiteSpace(item.Id) || string.IsNullOrWhiteSpace(item.Title))
            {
                dropped++;
                continue;
            }
            string? url = Cut(item.TorrentUrl, cut);
            if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https")) url = null;
            string? magnet = item.MagnetUri is { } m && m.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) && m.Length <= Metainfo.MagnetLink.MaxLength ? m : null;
            string? hash = Cut(item.InfoHash?.Trim(), 64);
            if (url is null && magnet is null && hash is null)
            {
                dropped++;
                continue;
            }
            kept.Add(item with
            {
                Id = Cut(item.Id, cut)!,
                Title = Cut(item.Title.Trim(), cut)!,
                TorrentUrl = url,
                MagnetUri = magnet,
                InfoHash = hash,
                Category = Cut(item.Category, 256),
                Size = item.Size is < 0 ? null : item.Size,
                Seeders = item.Seeders is < 0 ? null : item.Seeders,
            });
        }
        LastDropped = dropped;
        return new TorrentSourceResult { Title = Cut(result.Title, 256), Items = kept };
    }

    private static string? Cut(string? text, int max) => text is null || text.Length <= max ? text : text[..max];

    /// <summary>Disposes the source, bounded by the read timeout; never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_inner is null || Interlocked.Exchange(ref _released, 1) != 0) return;
        try
        {
            await _inner.DisposeAsync().AsTask().WaitAsync(_options.TorrentSourceReadTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nothing to tell: the feed is going away.
        }
    }

    private TorrentSourceException Fail(string reason, Exception? error)
    {
        Disable(reason, error);
        _ = DisposeAsync().AsTask();
        return new TorrentSourceException(reason, error);
    }

    private void Disable(string reason, Exception? error)
    {
        var fault = new ComponentFault(ComponentKind.TorrentSource, ComponentName, reason, error, _time.GetUtcNow());
        if (Interlocked.CompareExchange(ref _fault, fault, null) is not null) return;
        Disabled?.Invoke(this, fault);
    }

    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string Describe(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds:0.#} s" : $"{timeout.TotalMilliseconds:0} ms";
}
