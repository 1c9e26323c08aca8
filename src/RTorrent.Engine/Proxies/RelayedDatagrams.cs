using System.Net;
using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.Proxies;

/// <summary>
/// Datagrams through a SOCKS5 proxy that keep flowing across the proxy's restarts: a <see cref="Socks5UdpRelay"/>
/// opened at start and opened again (after 2 s, doubling to a minute) whenever its association ends. While there is
/// none, sends are dropped, never sent directly: in proxy-only mode the proxy being down means silence.
/// One receiver at a time (the DHT's and the UDP trackers' receive loops each have their own instance).
/// </summary>
public sealed class RelayedDatagrams : IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(15);

    private readonly ProxyServer _proxy;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keeper;
    private TaskCompletionSource<Socks5UdpRelay> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Socks5UdpRelay? _relay;

    /// <summary>Starts opening the association in the background.</summary>
    public RelayedDatagrams(ProxyServer proxy, ILogger logger, TimeProvider? time = null)
    {
        _proxy = proxy;
        _log = logger;
        _time = time ?? TimeProvider.System;
        _keeper = Task.Run(KeepOpenAsync);
    }

    /// <summary>Why the last attempt to open the association failed, or null while it is open or being opened.</summary>
    public string? LastError { get; private set; }

    /// <summary>Whether datagrams go out now.</summary>
    public bool IsOpen => _relay is { IsOpen: true };

    /// <summary>Sends one datagram through the relay without waiting; false (dropped) when there is no association.</summary>
    public bool TrySend(ReadOnlySpan<byte> payload, EndPoint target) => _relay is { } relay && relay.TrySend(payload, target);

    /// <summary>Receives the next datagram from any association, waiting for one to open when there is none.</summary>
    /// <exception cref="OperationCanceledException">Cancelled, or this was disposed.</exception>
    public async ValueTask<(int Length, EndPoint From)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // No linked token per datagram: disposing this disposes the relay, which ends a receive in progress, and the
        // waits below (rare: between associations) also watch _stop.
        while (true)
        {
            _stop.Token.ThrowIfCancellationRequested();
            var relay = _relay is { IsOpen: true } open ? open : await WaitAsync(Volatile.Read(ref _next).Task, cancellationToken).ConfigureAwait(false);
            try
            {
                return await relay.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or System.Net.Sockets.SocketException && !cancellationToken.IsCancellationRequested)
            {
                // That association ended (or this was disposed); wait for the keeper to open the next one.
                await WaitAsync(relay.Closed, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<T> WaitAsync<T>(Task<T> task, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        return await task.WaitAsync(linked.Token).ConfigureAwait(false);
    }

    private async Task WaitAsync(Task task, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        await task.WaitAsync(linked.Token).ConfigureAwait(false);
    }

    private async Task KeepOpenAsync()
    {
        var delay = FirstRetry;
        while (!_stop.IsCancellationRequested)
        {
            Socks5UdpRelay? relay = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(OpenTimeout);
                relay = await Socks5UdpRelay.OpenAsync(_proxy, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                LastError = e is OperationCanceledException ? $"no answer from the {_proxy} within {OpenTimeout.TotalSeconds:0} s" : e.Message;
                _log.LogWarning("UDP through the {Proxy}: {Error}; trying again in {Delay} s", _proxy, LastError, delay.TotalSeconds);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (relay is not null)
            {
                LastError = null;
                delay = FirstRetry;
                _relay = relay;
                var waiting = Interlocked.Exchange(ref _next, new TaskCompletionSource<Socks5UdpRelay>(TaskCreationOptions.RunContinuationsAsynchronously));
                waiting.TrySetResult(relay);
                _log.LogInformation("UDP goes through the {Proxy} (relay {Relay})", _proxy, relay.RelayEndPoint);
                try
                {
                    await relay.Closed.WaitAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                _relay = null;
                LastError = "the proxy ended the UDP association";
                _log.LogWarning("UDP through the {Proxy}: the association ended; opening another", _proxy);
            }
            try
            {
                await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetry.Ticks));
        }
        _relay?.Dispose();
    }

    /// <summary>Ends the association and stops opening new ones.</summary>
    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _relay?.Dispose();
        try { _keeper.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { /* logged in the loop */ }
    }
}
