using RTorrent.Engine.Client;
using RTorrent.Engine.Session;

namespace RTorrent.Tests.Tui;

/// <summary>A session that can be made unreachable (or fail) and brought back, as a daemon that stops and restarts.</summary>
internal sealed class FlakyBackend(FakeBackend inner) : DelegatingBackend(inner)
{
    /// <summary>While set, session snapshots (and details) fail with it.</summary>
    public Exception? Failure { get; set; }

    public override Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default) =>
        Failure is { } e ? Task.FromException<SessionSnapshot>(e) : base.GetSessionAsync(cancellationToken);

    public override Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default) =>
        Failure is { } e ? Task.FromException<TorrentDetails?>(e) : base.GetDetailsAsync(id, cancellationToken);

    public override Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) =>
        Failure is { } e ? Task.FromException<EditableSettings>(e) : base.GetSettingsAsync(cancellationToken);
}

/// <summary>A session whose snapshots wait while its gate is closed: a host that has gone silent.</summary>
internal sealed class GatedBackend(FakeBackend inner) : DelegatingBackend(inner)
{
    private TaskCompletionSource _gate = OpenGate();

    /// <summary>Snapshots asked for while closed wait until <see cref="Open"/>.</summary>
    public void Close()
    {
        if (_gate.Task.IsCompleted) _gate = new TaskCompletionSource();
    }

    /// <summary>
    /// Lets the waiting snapshot through; it has arrived when this returns. (The waiter resumes inside this call: a
    /// test's synchronization context would otherwise make it resume later on another thread.)
    /// </summary>
    public void Open()
    {
        SynchronizationContext? context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            _gate.TrySetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    /// <summary>How many snapshots were asked for (answered or not).</summary>
    public int Questions { get; private set; }

    public override async Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
    {
        Questions++;
        Task gate = _gate.Task;
        await gate.ConfigureAwait(false);
        return await base.GetSessionAsync(cancellationToken).ConfigureAwait(false);
    }

    private static TaskCompletionSource OpenGate()
    {
        var open = new TaskCompletionSource();
        open.SetResult();
        return open;
    }
}

/// <summary>A clock whose time and timers move only when a test moves them.</summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the time on and fires the timers that came due (on the calling thread).</summary>
    public void Advance(TimeSpan by)
    {
        var due = new List<ManualTimer>();
        lock (_gate)
        {
            _now += by;
            foreach (ManualTimer t in _timers.ToList())
            {
                if (t.Due > _now) continue;
                due.Add(t);
                if (t.Period > TimeSpan.Zero) t.Due = _now + t.Period;
                else _timers.Remove(t);
            }
        }
        foreach (ManualTimer t in due) t.Fire();
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset Due { get; set; }
        public TimeSpan Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                Due = clock._now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                clock._timers.Add(this);
                return true;
            }
        }

        public void Dispose()
        {
            lock (clock._gate) clock._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
