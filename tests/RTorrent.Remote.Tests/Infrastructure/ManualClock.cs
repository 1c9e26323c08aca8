namespace RTorrent.Remote.Tests.Infrastructure;

/// <summary>
/// A clock that moves only when told (<see cref="Advance"/>); timers fire in due order as time passes them, on the
/// caller's thread. Tests wait for a timer to be set (<see cref="WaitForTimerAsync"/>), which is how they know code is
/// waiting on this clock, without sleeping.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_lock) return _now;
    }

    public override DateTimeOffset GetUtcNow() => Start.AddTicks(GetTimestamp());

    /// <summary>Timers set and not yet fired nor disposed.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_lock) return _timers.Count(t => t.Due is not null);
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_lock) _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>
    /// Waits until a timer is pending (set, not fired) and returns how long until it is due (the earliest one). Fails
    /// after <paramref name="timeout"/> (default 10 s).
    /// </summary>
    public async Task<TimeSpan> WaitForTimerAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                long? earliest = null;
                foreach (var t in _timers)
                    if (t.Due is { } due && (earliest is null || due < earliest)) earliest = due;
                if (earliest is { } e) return TimeSpan.FromTicks(e - _now);
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("no timer was set on the manual clock");
            }
        }
    }

    public void Advance(TimeSpan by)
    {
        long target;
        lock (_lock) target = _now + by.Ticks;
        AdvanceTo(target);
    }

    /// <summary>Moves the clock to <paramref name="when"/> (never backwards).</summary>
    public void AdvanceTo(DateTimeOffset when) => AdvanceTo(Math.Max((when - Start).Ticks, GetTimestamp()));

    private void AdvanceTo(long target)
    {
        while (true)
        {
            ManualTimer? next = null;
            lock (_lock)
            {
                foreach (var t in _timers)
                    if (t.Due is { } due && due <= target && (next is null || due < next.Due)) next = t;
                if (next is null)
                {
                    _now = Math.Max(_now, target);
                    return;
                }
                _now = Math.Max(_now, next.Due!.Value);
                next.Due = next.Period > 0 ? _now + next.Period : null;
            }
            next.Callback(next.State);
        }
    }

    private void Signal()
    {
        // Called under _lock.
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class ManualTimer(ManualClock owner, TimerCallback callback, object? state) : ITimer
    {
        public readonly TimerCallback Callback = callback;
        public readonly object? State = state;
        public long? Due;
        public long Period;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime.Ticks;
                Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
                owner.Signal();
            }
            return true;
        }

        public void Dispose()
        {
            lock (owner._lock)
            {
                Due = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
