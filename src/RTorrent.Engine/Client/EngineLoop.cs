using System.Collections.Concurrent;

namespace RTorrent.Engine.Client;

/// <summary>
/// The one thread that runs torrent logic. Everything that touches torrent state (pieces, peers' request queues,
/// choking) runs here, so that state needs no locks; sockets, disk and hashing run on the thread pool and post their
/// results back. It is a <see cref="SynchronizationContext"/>, so an <c>await</c> inside loop code resumes on the loop.
/// </summary>
public sealed class EngineLoop : SynchronizationContext, IDisposable
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();
    // A short spin only: on a busy two-core machine a spinning idle loop steals the CPU the work needs.
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 20);
    private readonly Thread _thread;
    private volatile bool _stopping;
    private int _pendingSignals;

    /// <summary>Starts the loop thread.</summary>
    public EngineLoop(string name = "rtorrent-engine")
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Raised (on the loop) when a posted callback throws; the loop itself keeps running.</summary>
    public event Action<Exception>? UnhandledException;

    /// <summary>Whether the caller is on the loop thread.</summary>
    public bool IsOnLoop => Thread.CurrentThread == _thread;

    /// <summary>Throws if not on the loop (debug aid for code that must only run there).</summary>
    public void AssertOnLoop()
    {
        if (!IsOnLoop) throw new InvalidOperationException("This must run on the engine loop.");
    }

    /// <inheritdoc/>
    public override void Post(SendOrPostCallback d, object? state)
    {
        _queue.Enqueue((d, state));
        // Wake the loop only if it may be sleeping; a burst of posts costs one semaphore release.
        if (Interlocked.Exchange(ref _pendingSignals, 1) == 0) _signal.Set();
    }

    /// <summary>Queues an action on the loop.</summary>
    public void Post(Action action) => Post(static s => ((Action)s!)(), action);

    /// <inheritdoc/>
    public override void Send(SendOrPostCallback d, object? state)
    {
        if (IsOnLoop)
        {
            d(state);
            return;
        }
        throw new NotSupportedException("Synchronous sends to the engine loop would block; use InvokeAsync.");
    }

    /// <summary>Runs <paramref name="func"/> on the loop and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> func)
    {
        if (IsOnLoop)
        {
            try { return Task.FromResult(func()); }
            catch (Exception e) { return Task.FromException<T>(e); }
        }
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try { tcs.SetResult(func()); }
            catch (Exception e) { tcs.SetException(e); }
        });
        return tcs.Task;
    }

    /// <summary>Runs <paramref name="action"/> on the loop.</summary>
    public Task InvokeAsync(Action action) => InvokeAsync(() => { action(); return true; });

    /// <summary>Runs an async function on the loop (its awaits resume on the loop) and returns its task.</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> func) => InvokeAsync<Task<T>>(func).Unwrap();

    /// <summary>Runs an async function on the loop.</summary>
    public Task RunAsync(Func<Task> func) => InvokeAsync<Task>(func).Unwrap();

    private void Run()
    {
        SetSynchronizationContext(this);
        while (!_stopping)
        {
            _signal.Reset();
            Volatile.Write(ref _pendingSignals, 0);
            while (_queue.TryDequeue(out var item))
            {
                try { item.Callback(item.State); }
                catch (Exception e)
                {
                    try { UnhandledException?.Invoke(e); } catch { /* a broken handler must not kill the loop */ }
                }
                if (_stopping) return;
            }
            _signal.Wait();
        }
    }

    /// <summary>Stops the loop thread after the current callback. Queued callbacks are dropped.</summary>
    public void Dispose()
    {
        _stopping = true;
        _signal.Set();
        if (!IsOnLoop) _thread.Join(TimeSpan.FromSeconds(5));
    }
}
