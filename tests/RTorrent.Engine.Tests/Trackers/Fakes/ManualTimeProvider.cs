namespace RTorrent.Engine.Tests.Trackers.Fakes;

/// <summary>A clock that moves only when told; timers fire as <see cref="Advance"/> passes their due time.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_lock) return _now.UtcTicks;
    }

    /// <summary>Timers waiting to fire (for tests that wait until a loop is asleep).</summary>
    public int PendingTimers
    {
        get { lock (_lock) return _timers.Count(t => t.Due != DateTimeOffset.MaxValue); }
    }

    /// <summary>
    /// Timer firings so far, counted synchronously: by <see cref="Advance"/> for the timers it found due, and by a
    /// change that makes a timer fire at once. Unchanged across an <see cref="Advance"/> means nothing came due.
    /// </summary>
    public int Fired
    {
        get { lock (_lock) return _fired; }
    }

    private int _fired;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_lock)
        {
            _now += by;
            due = [.. _timers.Where(t => t.Due <= _now).OrderBy(t => t.Due)];
            foreach (var t in due)
            {
                if (t.Period > TimeSpan.Zero) t.Due = _now + t.Period;
                else
                {
                    t.Due = DateTimeOffset.MaxValue;
                    _timers.Remove(t);
                }
            }
            _fired += due.Count;
        }
        foreach (var t in due) t.Fire();
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset Due = DateTimeOffset.MaxValue;
        public TimeSpan Period = Timeout.InfiniteTimeSpan;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool fireNow = false;
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                Period = period;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    Due = DateTimeOffset.MaxValue;
                }
                else if (dueTime <= TimeSpan.Zero)
                {
                    fireNow = true;
                    owner._fired++;
                    Due = period > TimeSpan.Zero ? owner._now + period : DateTimeOffset.MaxValue;
                    if (Due != DateTimeOffset.MaxValue) owner._timers.Add(this);
                }
                else
                {
                    Due = owner._now + dueTime;
                    owner._timers.Add(this);
                }
            }
            if (fireNow) ThreadPool.QueueUserWorkItem(_ => Fire());
            return true;
        }

        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                Due = DateTimeOffset.MaxValue;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
