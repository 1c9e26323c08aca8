namespace RTorrent.Engine.Client.RateLimiting;

/// <summary>
/// A token bucket limiting bytes per second, optionally chained under a parent (a torrent's limiter under the global
/// one): bytes pass only when every bucket up the chain lets them. A rate of 0 means unlimited.
/// </summary>
/// <remarks>
/// <para>Tokens refill continuously at <see cref="BytesPerSecond"/> up to <see cref="BurstBytes"/>. A request larger
/// than the burst is granted once the bucket is full and leaves it in debt, so any size passes at the right average
/// rate.</para>
/// <para>Two ways to use it:</para>
/// <list type="bullet">
/// <item><see cref="WaitAsync"/>: waits (no spinning: one timer per bucket, set for when the first waiter can go)
/// until the bytes may pass. Waiters are served first come, first served in each bucket.</item>
/// <item><see cref="TryTake"/>: for a loop that asks "how much may I send now"; never waits and returns 0 while
/// anyone is queued in <see cref="WaitAsync"/>, so it cannot overtake waiters. Unused grant goes back with
/// <see cref="Return"/>.</item>
/// </list>
/// <para>Thread-safe. Time comes from a <see cref="TimeProvider"/> so tests can drive it.</para>
/// </remarks>
public sealed class RateLimiter : IDisposable
{
    /// <summary>The smallest default burst: one 16 KiB block.</summary>
    public const long MinimumDefaultBurst = 16 * 1024;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly LinkedList<Waiter> _queue = [];
    private ITimer? _timer;
    private long _rate;
    private long _burst;
    private double _tokens;
    private long _lastRefill;
    private bool _disposed;

    /// <summary>Creates a limiter.</summary>
    /// <param name="bytesPerSecond">The rate; 0 = unlimited.</param>
    /// <param name="burstBytes">Most bytes allowed at once after an idle time; 0 = one second's worth (at least 16 KiB).</param>
    /// <param name="parent">A limiter every request must also pass (for example the global one).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> by default.</param>
    public RateLimiter(long bytesPerSecond = 0, long burstBytes = 0, RateLimiter? parent = null, TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? parent?._time ?? TimeProvider.System;
        Parent = parent;
        _lastRefill = _time.GetTimestamp();
        Configure(bytesPerSecond, burstBytes);
        _tokens = _burst; // start full: the first bytes go at once
    }

    /// <summary>The limiter above this one, or null.</summary>
    public RateLimiter? Parent { get; }

    /// <summary>The rate in bytes per second; 0 = unlimited.</summary>
    public long BytesPerSecond
    {
        get
        {
            lock (_lock) return _rate;
        }
    }

    /// <summary>The burst size in bytes (0 when unlimited).</summary>
    public long BurstBytes
    {
        get
        {
            lock (_lock) return _burst;
        }
    }

    /// <summary>Whether this bucket (not its parents) is unlimited.</summary>
    public bool IsUnlimited => BytesPerSecond == 0;

    /// <summary>Requests waiting in this bucket.</summary>
    public int QueuedWaiters
    {
        get
        {
            lock (_lock) return _queue.Count;
        }
    }

    /// <summary>
    /// Bytes that <see cref="TryTake"/> would grant now through the whole chain (long.MaxValue when nothing limits).
    /// </summary>
    public long Available
    {
        get
        {
            long own;
            lock (_lock) own = AvailableLocked(long.MaxValue);
            return Parent is null ? own : Math.Min(own, Parent.Available);
        }
    }

    /// <summary>Creates a limiter chained under this one, sharing its clock.</summary>
    public RateLimiter CreateChild(long bytesPerSecond = 0, long burstBytes = 0) => new(bytesPerSecond, burstBytes, this, _time);

    /// <summary>
    /// Changes the rate (and burst; 0 = one second's worth) at once. Waiters are rescheduled for the new rate, and
    /// all released when it becomes unlimited.
    /// </summary>
    public void SetRate(long bytesPerSecond, long burstBytes = 0)
    {
        List<Waiter>? release;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Refill();
            Configure(bytesPerSecond, burstBytes);
            _tokens = Math.Min(_tokens, _burst);
            release = Drain();
        }
        Complete(release);
    }

    /// <summary>
    /// Waits until <paramref name="bytes"/> may pass this limiter and every parent, then takes them. Completes
    /// synchronously when they may pass now.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting; nothing is taken.</exception>
    /// <exception cref="ObjectDisposedException">The limiter was disposed while waiting.</exception>
    public ValueTask WaitAsync(int bytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0) return ValueTask.CompletedTask;
        var own = WaitOwnAsync(bytes, cancellationToken);
        if (Parent is null) return own;
        if (own.IsCompletedSuccessfully)
        {
            own.GetAwaiter().GetResult();
            return WaitParentAsync(bytes, cancellationToken);
        }
        return WaitOwnThenParentAsync(own, bytes, cancellationToken);
    }

    private async ValueTask WaitOwnThenParentAsync(ValueTask own, int bytes, CancellationToken cancellationToken)
    {
        await own.ConfigureAwait(false);
        await WaitParentAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WaitParentAsync(int bytes, CancellationToken cancellationToken)
    {
        try
        {
            await Parent!.WaitAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            ReturnOwn(bytes); // nothing passed: give this bucket's share back
            throw;
        }
    }

    /// <summary>
    /// Takes as many bytes as may pass now, up to <paramref name="maxBytes"/>, through the whole chain; 0 when none
    /// may (or when requests are queued in <see cref="WaitAsync"/>). Never waits.
    /// </summary>
    public int TryTake(int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        return maxBytes == 0 ? 0 : TryTakeChain(this, maxBytes);
    }

    // Locks are always taken child first, parent second; nothing takes them the other way round.
    private static int TryTakeChain(RateLimiter node, int maxBytes)
    {
        lock (node._lock)
        {
            ObjectDisposedException.ThrowIf(node._disposed, node);
            int own = (int)node.AvailableLocked(maxBytes);
            if (own == 0) return 0;
            int granted = node.Parent is null ? own : TryTakeChain(node.Parent, own);
            if (node._rate != 0) node._tokens -= granted;
            return granted;
        }
    }

    /// <summary>Gives back bytes taken but not used (for example after a short send), to this limiter and its parents.</summary>
    public void Return(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        for (var node = this; node is not null; node = node.Parent) node.ReturnOwn(bytes);
    }

    private void ReturnOwn(int bytes)
    {
        List<Waiter>? release;
        lock (_lock)
        {
            if (_disposed || _rate == 0) return;
            Refill();
            _tokens = Math.Min(_burst, _tokens + bytes);
            release = Drain();
        }
        Complete(release);
    }

    /// <summary>Stops the timer; waiters fail with <see cref="ObjectDisposedException"/>. Parents are not disposed.</summary>
    public void Dispose()
    {
        List<Waiter> waiters;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
            waiters = [.. _queue];
            _queue.Clear();
        }
        foreach (var w in waiters)
        {
            w.Registration.Dispose();
            w.Completion.TrySetException(new ObjectDisposedException(nameof(RateLimiter)));
        }
    }

    private ValueTask WaitOwnAsync(int bytes, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_rate == 0) return ValueTask.CompletedTask;
            cancellationToken.ThrowIfCancellationRequested();
            Refill();
            if (_queue.Count == 0 && CanGrant(bytes))
            {
                _tokens -= bytes;
                return ValueTask.CompletedTask;
            }
            waiter = new Waiter(bytes);
            waiter.Node = _queue.AddLast(waiter);
            if (_queue.Count == 1) Schedule();
        }
        if (cancellationToken.CanBeCanceled)
        {
            // Registered outside the lock: a token cancelled meanwhile runs the callback right here.
            waiter.Registration = cancellationToken.UnsafeRegister(static (state, ct) =>
            {
                var (limiter, w) = ((RateLimiter, Waiter))state!;
                limiter.Cancel(w, ct);
            }, (this, waiter));
            // Granted before the registration was stored: Complete could not dispose it, so do it here.
            if (waiter.Completion.Task.IsCompleted) waiter.Registration.Dispose();
        }
        return new ValueTask(waiter.Completion.Task);
    }

    private void Cancel(Waiter waiter, CancellationToken cancellationToken)
    {
        List<Waiter>? release = null;
        bool removed = false;
        lock (_lock)
        {
            if (waiter.Node is { List: not null } node)
            {
                bool wasFirst = node == _queue.First;
                _queue.Remove(node);
                waiter.Node = null;
                removed = true;
                if (wasFirst)
                {
                    Refill();
                    release = Drain(); // the next waiter may fit already
                }
            }
        }
        if (removed) waiter.Completion.TrySetCanceled(cancellationToken);
        Complete(release);
    }

    private void OnTimer()
    {
        List<Waiter>? release;
        lock (_lock)
        {
            if (_disposed) return;
            Refill();
            release = Drain();
        }
        Complete(release);
    }

    /// <summary>Grants queued waiters in order while tokens allow, then sets the timer for the next one.</summary>
    private List<Waiter>? Drain()
    {
        List<Waiter>? release = null;
        while (_queue.First is { } first && (_rate == 0 || CanGrant(first.Value.Bytes)))
        {
            if (_rate != 0) _tokens -= first.Value.Bytes;
            _queue.RemoveFirst();
            first.Value.Node = null;
            (release ??= []).Add(first.Value);
        }
        Schedule();
        return release;
    }

    private void Schedule()
    {
        if (_queue.First is not { } first || _rate == 0)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        double missing = Math.Min(first.Value.Bytes, _burst) - _tokens;
        var due = TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling(missing / _rate * TimeSpan.TicksPerSecond)));
        if (_timer is null)
            _timer = _time.CreateTimer(static s => ((RateLimiter)s!).OnTimer(), this, due, Timeout.InfiniteTimeSpan);
        else
            _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private static void Complete(List<Waiter>? waiters)
    {
        if (waiters is null) return;
        foreach (var w in waiters)
        {
            w.Registration.Dispose();
            w.Completion.TrySetResult();
        }
    }

    // A request is granted when the bucket holds its size, or is full for one larger than the burst (leaving debt).
    // The epsilon absorbs floating-point rounding of the refill so a timer set for the exact moment is not re-armed.
    private bool CanGrant(int bytes) => _tokens + 1e-6 >= Math.Min(bytes, _burst);

    private long AvailableLocked(long max)
    {
        if (_rate == 0) return max;
        if (_queue.Count > 0) return 0;
        Refill();
        return _tokens < 1 ? 0 : Math.Min(max, (long)_tokens);
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        if (_rate != 0)
        {
            double seconds = _time.GetElapsedTime(_lastRefill, now).TotalSeconds;
            if (seconds > 0) _tokens = Math.Min(_burst, _tokens + seconds * _rate);
        }
        _lastRefill = now;
    }

    private void Configure(long bytesPerSecond, long burstBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(burstBytes);
        _rate = bytesPerSecond;
        _burst = bytesPerSecond == 0 ? 0 : burstBytes > 0 ? burstBytes : Math.Max(bytesPerSecond, MinimumDefaultBurst);
    }

    private sealed class Waiter(int bytes)
    {
        public readonly int Bytes = bytes;
        public readonly TaskCompletionSource Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node;
        public CancellationTokenRegistration Registration;
    }
}
