using System.Runtime.CompilerServices;

namespace RTorrent.Engine.Client;

/// <summary>
/// One timer for many waits of a clock: background loops that sleep until a time (each torrent's tracker announce
/// and scrape loops, its DHT lookups) put their deadline here instead of creating a timer each.
/// </summary>
/// <remarks>
/// Ten thousand torrents meant ten thousand .NET timers: each expiry of any timer walks the whole timer list, and each
/// timed-out wait threw a <see cref="TimeoutException"/> on the thread pool; together they were the largest part of an
/// idle 10,000-torrent daemon's thread-pool CPU (docs/PERFORMANCE.md). Here a deadline is an entry in a priority queue
/// and one timer is set for the earliest; when it fires, every due entry's completion is set, with no exception.
/// Entries whose wait ended earlier (woken, cancelled) stay until their time and are then completed for nothing.
/// Thread-safe.
/// </remarks>
internal sealed class SharedDeadlines
{
    private static readonly ConditionalWeakTable<TimeProvider, SharedDeadlines> s_byClock = [];

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly PriorityQueue<TaskCompletionSource, DateTimeOffset> _due = new();
    private readonly ITimer _timer;
    private DateTimeOffset _armedFor = DateTimeOffset.MaxValue;

    private SharedDeadlines(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static s => ((SharedDeadlines)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The deadlines of <paramref name="time"/> (one set per clock, so tests with a manual clock get theirs).</summary>
    public static SharedDeadlines For(TimeProvider time) => s_byClock.GetValue(time, static t => new SharedDeadlines(t));

    /// <summary>Entries waiting (tests).</summary>
    public int Count
    {
        get { lock (_lock) return _due.Count; }
    }

    /// <summary>
    /// Whether a wait ending at <paramref name="due"/> is registered (tests: a loop is seen asleep until then, so on a
    /// manual clock nothing can wake it by time before <paramref name="due"/>).
    /// </summary>
    internal bool HasDeadline(DateTimeOffset due)
    {
        lock (_lock)
        {
            foreach (var (_, at) in _due.UnorderedItems)
                if (at == due) return true;
            return false;
        }
    }

    /// <summary>Sets <paramref name="completion"/>'s result once <paramref name="delay"/> has passed on the clock.</summary>
    public void Complete(TaskCompletionSource completion, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            completion.TrySetResult();
            return;
        }
        lock (_lock)
        {
            var due = _time.GetUtcNow() + delay;
            _due.Enqueue(completion, due);
            if (due < _armedFor) Arm(due);
        }
    }

    /// <summary>A task that completes once <paramref name="delay"/> has passed (never faults).</summary>
    public Task Delay(TimeSpan delay)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Complete(tcs, delay);
        return tcs.Task;
    }

    private void Arm(DateTimeOffset due)
    {
        _armedFor = due;
        var wait = due - _time.GetUtcNow();
        _timer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        List<TaskCompletionSource>? ready = null;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            while (_due.TryPeek(out var tcs, out var due) && due <= now)
            {
                _due.Dequeue();
                (ready ??= []).Add(tcs);
            }
            _armedFor = DateTimeOffset.MaxValue;
            if (_due.TryPeek(out _, out var next)) Arm(next);
        }
        if (ready is null) return;
        foreach (var tcs in ready) tcs.TrySetResult();
    }
}
