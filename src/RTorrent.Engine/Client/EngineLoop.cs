using System.Collections.Concurrent;

namespace RTorrent.Engine.Client;

/// <summary>
/// The one thread that runs torrent logic. Everything that touches torrent state (pieces, peers' request queues,
/// choking) runs here, so that state needs no locks; sockets, disk and hashing run on the thread pool and post their
/// results back. It is a <see cref="SynchronizationContext"/>, so an <c>await</c> inside loop code resumes on the loop.
/// </summary>
/// <remarks>
/// Once disposed it runs nothing more, and nobody waits on it for ever: work asked for with <see cref="InvokeAsync{T}"/>
/// or <see cref="RunAsync{T}"/>, whether it was queued before the disposal or asked for after it, fails with
/// <see cref="ObjectDisposedException"/>. Plain <see cref="Post(SendOrPostCallback, object?)"/> callbacks are dropped:
/// they come from sockets, timers and await continuations, which have nobody to hand an exception to (the awaiting
/// <see cref="RunAsync{T}"/> caller hears of it instead).
/// </remarks>
public sealed class EngineLoop : SynchronizationContext, IDisposable
{
    private static readonly SendOrPostCallback RunInvocation = static s => ((Invocation)s!).Run();

    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();
    // A short spin only: on a busy two-core machine a spinning idle loop steals the CPU the work needs.
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 20);
    private readonly Thread _thread;
    // RunAsync calls whose async work has not finished: their continuations are posts a disposed loop drops.
    private readonly HashSet<Invocation> _running = [];
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
        // Read after the enqueue: either Dispose's drain sees the item, or this sees the loop stopping and drains it.
        if (_stopping)
        {
            Abandon();
            return;
        }
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
    /// <exception cref="ObjectDisposedException">The loop was disposed before it ran <paramref name="func"/> (in the task).</exception>
    public Task<T> InvokeAsync<T>(Func<T> func)
    {
        if (IsOnLoop)
        {
            try { return Task.FromResult(func()); }
            catch (Exception e) { return Task.FromException<T>(e); }
        }
        if (_stopping) return Task.FromException<T>(Disposed());
        var invocation = new Invocation<T>(func);
        Post(RunInvocation, invocation);
        return invocation.Task;
    }

    /// <summary>Runs <paramref name="action"/> on the loop.</summary>
    public Task InvokeAsync(Action action) => InvokeAsync(() => { action(); return true; });

    /// <summary>Runs an async function on the loop (its awaits resume on the loop) and returns its task.</summary>
    /// <exception cref="ObjectDisposedException">The loop was disposed before the function finished (in the task).</exception>
    public Task<T> RunAsync<T>(Func<Task<T>> func)
    {
        var work = InvokeAsync<Task<T>>(func).Unwrap();
        if (work.IsCompleted) return work;
        // Its continuations are posts; once the loop is disposed nothing runs them, so the caller is failed instead.
        var run = new Invocation<T>(static () => throw new InvalidOperationException("A RunAsync is completed, never run."));
        lock (_running)
        {
            if (_stopping) return Task.FromException<T>(Disposed());
            _running.Add(run);
        }
        work.ContinueWith(static (t, s) =>
        {
            var (loop, r) = ((EngineLoop, Invocation<T>))s!;
            lock (loop._running) loop._running.Remove(r);
            r.CompleteFrom(t);
        }, (this, run), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return run.Task;
    }

    /// <summary>Runs an async function on the loop.</summary>
    public Task RunAsync(Func<Task> func) => RunAsync(async () =>
    {
        await func();
        return true;
    });

    private void Run()
    {
        SetSynchronizationContext(this);
        try
        {
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
        finally
        {
            Abandon();
        }
    }

    /// <summary>
    /// Stops the loop thread after the current callback. Work still queued, and work asked for later, fails with
    /// <see cref="ObjectDisposedException"/> (see the remarks on <see cref="EngineLoop"/>).
    /// </summary>
    public void Dispose()
    {
        _stopping = true;
        _signal.Set();
        if (!IsOnLoop) _thread.Join(TimeSpan.FromSeconds(5));
        Abandon();
    }

    /// <summary>Fails every queued invocation and every unfinished <see cref="RunAsync{T}"/> (the loop has stopped).</summary>
    private void Abandon()
    {
        while (_queue.TryDequeue(out var item))
            if (item.State is Invocation invocation && item.Callback == RunInvocation) invocation.Fail(Disposed());
        Invocation[] running;
        lock (_running)
        {
            running = [.. _running];
            _running.Clear();
        }
        foreach (var r in running) r.Fail(Disposed());
    }

    private ObjectDisposedException Disposed() => new(nameof(EngineLoop), "The engine loop has been disposed.");

    /// <summary>Work asked of the loop whose caller waits for it.</summary>
    private abstract class Invocation
    {
        public abstract void Run();
        public abstract void Fail(Exception e);
    }

    private sealed class Invocation<T>(Func<T> func) : Invocation
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _result.Task;

        public override void Run()
        {
            try { _result.TrySetResult(func()); }
            catch (Exception e) { _result.TrySetException(e); }
        }

        public override void Fail(Exception e) => _result.TrySetException(e);

        public void CompleteFrom(Task<T> done) => _result.TrySetFromTask(done);
    }
}
