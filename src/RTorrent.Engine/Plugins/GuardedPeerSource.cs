using System.Net;
using System.Net.Sockets;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// Runs a plugin's peer source for one torrent and keeps its faults inside. Every awaited call is bounded by
/// <see cref="PluginGuardOptions.PeerSourceCallTimeout"/> (the source's token is cancelled, and the guard stops
/// waiting even if the source ignores it); synchronous calls are timed against
/// <see cref="PluginGuardOptions.PeerSourceSyncCallBudget"/>. A source that throws, hangs or is too slow is
/// disabled for this torrent: <see cref="Disabled"/> is raised once with the reason, the source is stopped and
/// disposed in the background (bounded by the same timeout), and peers it reports afterwards are dropped. There is
/// no fallback: the torrent's other sources carry on.
/// </summary>
/// <remarks>
/// Peers reported by the source pass through a filter that drops unusable endpoints (port 0, unspecified,
/// multicast or broadcast addresses), caps one report at <see cref="PluginGuardOptions.MaxPeersPerReport"/>
/// peers, and labels them with the registered name (a plugin cannot pass its peers off as another source's).
/// Cancellation by the caller is not a fault.
/// </remarks>
public sealed class GuardedPeerSource : IPeerSource
{
    private readonly PluginGuardOptions _options;
    private readonly TimeProvider _time;
    private readonly IPeerSource? _inner;
    private volatile ComponentFault? _fault;
    private int _innerReleased;

    private GuardedPeerSource(IPeerSource? inner, string componentName, PluginGuardOptions options, TimeProvider time)
    {
        _inner = inner;
        ComponentName = componentName;
        _options = options;
        _time = time;
    }

    /// <summary>
    /// Creates the plugin's source for a torrent through its factory, with a filtered sink, and guards it. When the
    /// factory throws or returns null, the result is already disabled (check <see cref="IsDisabled"/>: the
    /// <see cref="Disabled"/> event cannot reach handlers attached afterwards). The caller decides whether the source
    /// may run at all (<see cref="ComponentRegistry.PeerSourcesFor"/> applies BEP 27); this method refuses a source not
    /// allowed for a private torrent as a last line of defence.
    /// </summary>
    /// <exception cref="InvalidOperationException">The torrent is private and the source is not allowed for private torrents.</exception>
    public static GuardedPeerSource Create(IPeerSourceFactory factory, string componentName, PeerSourceContext context,
        PluginGuardOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(componentName);
        ArgumentNullException.ThrowIfNull(context);
        options ??= PluginGuardOptions.Default;
        time ??= TimeProvider.System;

        bool allowedForPrivate;
        try
        {
            allowedForPrivate = factory.AllowedForPrivateTorrents;
        }
        catch (Exception)
        {
            allowedForPrivate = false; // a source that cannot answer is treated as public-only
        }
        if (context.IsPrivate && !allowedForPrivate)
            throw new InvalidOperationException($"Peer source '{componentName}' is not allowed for private torrents (BEP 27).");

        GuardedPeerSource? guard = null;
        var sink = new FilteringSink(context.Sink, componentName, options.MaxPeersPerReport, () => guard?.IsDisabled ?? false);
        var guardedContext = new PeerSourceContext(context.InfoHash, context.PeerId, context.IsPrivate, context.TrackerTiers,
            context.ListenPort, sink, context.Totals);
        IPeerSource? inner = null;
        Exception? error = null;
        try
        {
            inner = factory.Create(guardedContext);
        }
        catch (Exception e)
        {
            error = e;
        }
        guard = new GuardedPeerSource(inner, componentName, options, time);
        if (inner is null)
            guard.Disable(error is null
                ? $"peer source '{componentName}' could not be created: its factory returned null"
                : $"peer source '{componentName}' could not be created: {error.GetType().Name}: {PluginLoadErrors.FirstLine(error.Message)}", error, releaseInner: false);
        return guard;
    }

    /// <summary>The source's registered name.</summary>
    public string ComponentName { get; }

    /// <summary>Whether the source has been disabled for this torrent.</summary>
    public bool IsDisabled => _fault is not null;

    /// <summary>Why it was disabled, or null.</summary>
    public ComponentFault? Fault => _fault;

    /// <summary>Raised once when the source is disabled, on the thread that noticed the fault.</summary>
    public event EventHandler<ComponentFault>? Disabled;

    /// <inheritdoc />
    public ValueTask StartAsync(CancellationToken cancellationToken) =>
        CallAsync("StartAsync", static (s, ct) => s.StartAsync(ct), cancellationToken);

    /// <inheritdoc />
    public ValueTask StopAsync(CancellationToken cancellationToken) =>
        CallAsync("StopAsync", static (s, ct) => s.StopAsync(ct), cancellationToken);

    /// <inheritdoc />
    public ValueTask OnEventAsync(TorrentEvent torrentEvent, CancellationToken cancellationToken) =>
        CallAsync("OnEventAsync", (s, ct) => s.OnEventAsync(torrentEvent, ct), cancellationToken);

    /// <inheritdoc />
    public void RequestMorePeers()
    {
        if (_inner is null || _fault is not null) return;
        var started = _time.GetTimestamp();
        try
        {
            _inner.RequestMorePeers();
        }
        catch (Exception e)
        {
            Disable($"peer source '{ComponentName}' RequestMorePeers threw {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e);
            return;
        }
        CheckSyncCall("RequestMorePeers", started);
    }

    /// <inheritdoc />
    public IReadOnlyList<PeerSourceStatus> GetStatus()
    {
        if (_inner is not null && _fault is null)
        {
            var started = _time.GetTimestamp();
            try
            {
                var status = _inner.GetStatus();
                if (status is null) Disable($"peer source '{ComponentName}' GetStatus returned null", null);
                else if (CheckSyncCall("GetStatus", started)) return status;
            }
            catch (Exception e)
            {
                Disable($"peer source '{ComponentName}' GetStatus threw {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e);
            }
        }
        var fault = _fault;
        return [new PeerSourceStatus { Source = ComponentName, Endpoint = ComponentName, State = "disabled", Message = fault?.Reason }];
    }

    /// <summary>Disposes the plugin's source, bounded by the call timeout; never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_inner is null || Interlocked.Exchange(ref _innerReleased, 1) != 0) return;
        try
        {
            await _inner.DisposeAsync().AsTask().WaitAsync(_options.PeerSourceCallTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Disable($"peer source '{ComponentName}' failed to dispose: {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e, releaseInner: false);
        }
    }

    private async ValueTask CallAsync(string what, Func<IPeerSource, CancellationToken, ValueTask> call, CancellationToken cancellationToken)
    {
        if (_inner is null || _fault is not null) return;
        cancellationToken.ThrowIfCancellationRequested();
        var timeout = _options.PeerSourceCallTimeout;
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        Task task;
        try
        {
            task = call(_inner, linked.Token).AsTask();
        }
        catch (Exception e)
        {
            Disable($"peer source '{ComponentName}' {what} threw {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e);
            return;
        }
        try
        {
            await task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(task);
            throw;
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && timeoutSource.IsCancellationRequested))
        {
            Observe(task);
            Disable($"peer source '{ComponentName}' {what} did not finish within {Describe(timeout)}", null);
        }
        catch (Exception e)
        {
            Disable($"peer source '{ComponentName}' {what} threw {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Disables the source when a synchronous call took too long; returns whether it is still enabled.</summary>
    private bool CheckSyncCall(string what, long started)
    {
        var elapsed = _time.GetElapsedTime(started);
        if (elapsed <= _options.PeerSourceSyncCallBudget) return true;
        Disable($"peer source '{ComponentName}' {what} took {elapsed.TotalMilliseconds:0} ms (limit {_options.PeerSourceSyncCallBudget.TotalMilliseconds:0} ms)", null);
        return false;
    }

    private void Disable(string reason, Exception? error, bool releaseInner = true)
    {
        var fault = new ComponentFault(ComponentKind.PeerSource, ComponentName, reason, error, _time.GetUtcNow());
        if (Interlocked.CompareExchange(ref _fault, fault, null) is not null) return;
        Disabled?.Invoke(this, fault);
        if (releaseInner) _ = StopAndDisposeInnerAsync();
    }

    /// <summary>Stops and disposes a faulty source in the background; a source that hangs here is abandoned.</summary>
    private async Task StopAndDisposeInnerAsync()
    {
        if (_inner is null || Interlocked.Exchange(ref _innerReleased, 1) != 0) return;
        var timeout = _options.PeerSourceCallTimeout;
        try
        {
            using var stop = new CancellationTokenSource(timeout, _time);
            await _inner.StopAsync(stop.Token).AsTask().WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already disabled for a reason the user has seen; a failing stop adds nothing.
        }
        try
        {
            await _inner.DisposeAsync().AsTask().WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // As above.
        }
    }

    /// <summary>Keeps an abandoned call's late exception from surfacing as an unobserved task exception.</summary>
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string Describe(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds:0.#} s" : $"{timeout.TotalMilliseconds:0} ms";

    /// <summary>The sink the plugin's source sees: drops unusable endpoints and everything once the source is disabled.</summary>
    private sealed class FilteringSink(IPeerSink inner, string sourceName, int maxPeers, Func<bool> isDisabled) : IPeerSink
    {
        public void AddPeers(IReadOnlyList<IPEndPoint> peers, string ignoredSourceName)
        {
            if (peers is null || peers.Count == 0 || isDisabled()) return;
            var usable = new List<IPEndPoint>(Math.Min(peers.Count, maxPeers));
            foreach (var peer in peers)
            {
                if (usable.Count >= maxPeers) break;
                if (IsUsable(peer)) usable.Add(peer);
            }
            if (usable.Count > 0) inner.AddPeers(usable, sourceName);
        }

        private static bool IsUsable(IPEndPoint? peer)
        {
            if (peer is null || peer.Port is <= 0 or > 65535) return false;
            var address = peer.Address;
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                Span<byte> b = stackalloc byte[4];
                address.TryWriteBytes(b, out _);
                return !(b[0] == 0 || b[0] >= 224); // 0.0.0.0/8, multicast (224/4), reserved and broadcast (240/4)
            }
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
                return !address.Equals(IPAddress.IPv6Any) && !address.IsIPv6Multicast;
            return false;
        }
    }
}
