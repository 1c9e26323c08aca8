using System.Diagnostics;
using Terminal.Gui.App;

namespace RTorrent.Tui;

/// <summary>
/// Makes Terminal.Gui's main loop wait for something to do instead of iterating at a fixed rate: it wakes when a key
/// arrives (<see cref="InputArrived"/>), when anything is queued onto the loop (a timer added, <c>Invoke</c> from
/// another thread), when a timer falls due, and otherwise at least every <see cref="IdleWait"/>.
/// </summary>
/// <remarks>
/// <para>
/// Terminal.Gui 2.5 sleeps a fixed 1/<see cref="Application.MaximumIterationsPerSecond"/> after every iteration
/// (<c>Task.Delay(...).Wait()</c>), so a key waits up to 40 ms at the default 25/s, and each of those sleeps is a .NET
/// timer whose callback runs on a thread-pool worker; the workers then spin for work, which is what most of the idle
/// CPU was. The pacer waits on an event with a kernel timeout instead, inside the loop's <c>Iteration</c> event (raised
/// at the start of every iteration, before input is processed and the screen drawn).
/// </para>
/// <para>
/// For <see cref="ActiveSpan"/> after a key it polls every <see cref="ActiveWait"/>: Terminal.Gui's input parser holds
/// a lone Esc for 50 ms to tell it from an escape sequence, and defers a single click to see whether a double click
/// follows; both are released only by an iteration. When idle, an iteration at least every <see cref="IdleWait"/>
/// still notices a resized terminal.
/// </para>
/// </remarks>
internal sealed class LoopPacer : IDisposable
{
    /// <summary>The longest wait while keys are arriving.</summary>
    internal static readonly TimeSpan ActiveWait = TimeSpan.FromMilliseconds(10);

    /// <summary>How long after the last key the loop counts as active.</summary>
    internal static readonly TimeSpan ActiveSpan = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait when idle.</summary>
    internal static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The loop's own rate while paced: above 1000/s Terminal.Gui computes no time to sleep after an iteration, so the
    /// pacer alone decides (each of its sleeps was a .NET timer, hence a thread-pool worker woken to spin).
    /// </summary>
    internal const ushort LoopRateCeiling = 2000;

    /// <summary>
    /// The shortest wait that is not cut short by a key or queued work: even a timer that is always due (one re-added
    /// with no interval) cannot make the loop iterate more than a thousand times a second.
    /// </summary>
    internal static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(1);

    private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
    private readonly Func<TimeSpan?>? _nextTimer;
    private volatile ITimedEvents? _attachedTimers;
    private long _lastInput = long.MinValue;

    /// <param name="nextTimer">
    /// Time until the next timer of the loop is due (zero when one is due now), or null when none is set; when not
    /// given, <see cref="Attach"/> reads the attached application's timers.
    /// </param>
    internal LoopPacer(Func<TimeSpan?>? nextTimer = null)
    {
        _nextTimer = nextTimer;
    }

    /// <summary>Called from the input thread once a key's bytes are queued for the loop.</summary>
    public void InputArrived()
    {
        Volatile.Write(ref _lastInput, Stopwatch.GetTimestamp());
        _wake.Set();
    }

    /// <summary>Wakes the loop now (something was queued onto it).</summary>
    public void Wake() => _wake.Set();

    /// <summary>How long the loop may wait before its next iteration.</summary>
    internal TimeSpan NextWait()
    {
        long last = Volatile.Read(ref _lastInput);
        TimeSpan sinceInput = last == long.MinValue ? TimeSpan.MaxValue : Stopwatch.GetElapsedTime(last);
        TimeSpan? nextTimer = _nextTimer is { } given ? given() : _attachedTimers is { } timers ? NextTimer(timers) : null;
        return WaitFor(sinceInput, nextTimer);
    }

    /// <summary>
    /// The wait for an iteration: short while keys arrive, long when idle, never past the next timer (plus a
    /// millisecond, so the timer is due when the loop wakes rather than a fraction of a millisecond before), and
    /// never under <see cref="MinimumWait"/>.
    /// </summary>
    internal static TimeSpan WaitFor(TimeSpan sinceLastInput, TimeSpan? untilNextTimer)
    {
        TimeSpan cap = sinceLastInput < ActiveSpan ? ActiveWait : IdleWait;
        if (untilNextTimer is { } timer)
        {
            timer = timer <= TimeSpan.Zero ? MinimumWait : timer + TimeSpan.FromMilliseconds(1);
            if (timer < cap) return timer;
        }
        return cap;
    }

    /// <summary>
    /// Waits (on the loop's thread) until there is something to do or the wait is over; true when something woke it
    /// (a key, queued work) rather than the time running out.
    /// </summary>
    public bool BeforeIteration()
    {
        bool woken = _wake.Wait(NextWait());
        // Whatever woke the loop was queued before the event was set, and this iteration handles it; anything queued
        // after this reset sets the event again, so the next wait returns at once.
        _wake.Reset();
        return woken;
    }

    /// <summary>
    /// Hooks the pacer into <paramref name="app"/>'s loop, which must run on the calling thread; disposing the result
    /// unhooks it and restores the loop's rate.
    /// </summary>
    public IDisposable Attach(IApplication app)
    {
        ITimedEvents? timed = app.TimedEvents;
        _attachedTimers = timed;
        ushort rate = Application.MaximumIterationsPerSecond;
        int loopThread = Environment.CurrentManagedThreadId;
        void OnIteration(object? sender, EventArgs<IApplication?> e) => _ = BeforeIteration();
        void OnAdded(object? sender, TimeoutEventArgs e)
        {
            // Added on the loop's thread (a timer re-armed, Invoke from a handler): the loop is not waiting, and its
            // next wait already counts the new timer. Waking it would only cost an iteration.
            if (Environment.CurrentManagedThreadId != loopThread) Wake();
        }
        app.Iteration += OnIteration;
        if (timed is not null) timed.Added += OnAdded;
        Application.MaximumIterationsPerSecond = LoopRateCeiling;
        return new Detach(() =>
        {
            Application.MaximumIterationsPerSecond = rate;
            _attachedTimers = null;
            app.Iteration -= OnIteration;
            if (timed is not null) timed.Added -= OnAdded;
            Wake();
        });
    }

    /// <summary>Time until the next timer of <paramref name="timed"/> is due, as Terminal.Gui's own loop would compute it.</summary>
    internal static TimeSpan? NextTimer(ITimedEvents? timed)
    {
        if (timed is not TimedEvents events) return ActiveWait;
        return events.CheckTimers(out int ms) ? TimeSpan.FromMilliseconds(Math.Max(0, ms)) : null;
    }

    public void Dispose() => _wake.Dispose();

    private sealed class Detach(Action undo) : IDisposable
    {
        private Action? _undo = undo;

        public void Dispose() => Interlocked.Exchange(ref _undo, null)?.Invoke();
    }
}
