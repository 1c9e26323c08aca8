using RTorrent.Abstractions;
using RTorrent.Engine.Settings;

namespace RTorrent.Engine.Session;

/// <summary>
/// The weekly window of turtle mode (Transmission's <c>alt-speed-time-*</c>): it starts at <c>begin</c> minutes after
/// local midnight on each day of the <c>days</c> bitmask (Sunday 1 ... Saturday 64) and lasts until <c>end</c>; an end at
/// or before the begin runs past midnight into the next day (which need not be in the mask), and an end equal to the
/// begin makes the window a whole day, as Transmission's minute table does.
/// </summary>
public static class AltSpeedSchedule
{
    private const int MinutesPerDay = 24 * 60;

    /// <summary>Whether the local time <paramref name="local"/> is inside the window.</summary>
    public static bool IsInWindow(DateTime local, int begin, int end, int days)
    {
        int minute = local.Hour * 60 + local.Minute;
        int length = end > begin ? end - begin : end + MinutesPerDay - begin;
        int today = (int)local.DayOfWeek;
        int yesterday = (today + 6) % 7;
        // A window that started today, or one that started yesterday and runs past midnight.
        return ((days & (1 << today)) != 0 && minute >= begin && minute - begin < length)
            || ((days & (1 << yesterday)) != 0 && minute + MinutesPerDay - begin < length);
    }

    /// <summary>Whether <paramref name="s"/>'s window holds the moment <paramref name="now"/> in the time zone <paramref name="zone"/>.</summary>
    public static bool IsInWindow(EngineSettings s, DateTimeOffset now, TimeZoneInfo zone) =>
        IsInWindow(TimeZoneInfo.ConvertTime(now, zone).DateTime, s.AltSpeedScheduleBegin, s.AltSpeedScheduleEnd, s.AltSpeedScheduleDays);
}

/// <summary>
/// Switches turtle mode at the schedule's edges: once a minute (at the minute's turn, on the session's clock) it asks
/// whether now is inside the window, and when that differs from what it was at the previous check it sets
/// <see cref="EngineSettings.AltSpeedEnabled"/> to it (saved like any change). Between edges it changes nothing, so a
/// switch by hand (the interface's key, the RPC) holds until the next edge: Transmission's behaviour. At start, and
/// whenever the schedule itself changes, the next check applies the window whatever it was before.
/// </summary>
internal sealed class AltSpeedScheduler : IDisposable
{
    private readonly SessionSettings _settings;
    private readonly TimeProvider _time;
    private readonly Action<PluginLogLevel, string> _log;
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private Task _checks = Task.CompletedTask;
    private bool? _lastInWindow;
    private (bool, int, int, int) _lastSchedule;
    private bool _disposed;

    public AltSpeedScheduler(SessionSettings settings, TimeProvider time, Action<PluginLogLevel, string> log)
    {
        _settings = settings;
        _time = time;
        _log = log;
        _lastSchedule = ScheduleOf(settings.Current);
    }

    /// <summary>The checks queued so far, done (tests wait on it after moving a fake clock).</summary>
    internal Task Idle
    {
        get { lock (_lock) return _checks; }
    }

    public void Start()
    {
        _settings.Changed += OnChanged;
        lock (_lock)
        {
            _timer = _time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Arm();
        }
        Queue();
    }

    private static (bool, int, int, int) ScheduleOf(EngineSettings s) =>
        (s.AltSpeedScheduleEnabled, s.AltSpeedScheduleBegin, s.AltSpeedScheduleEnd, s.AltSpeedScheduleDays);

    private void OnChanged(EngineSettings s)
    {
        var schedule = ScheduleOf(s);
        lock (_lock)
        {
            if (schedule == _lastSchedule) return;
            _lastSchedule = schedule;
            _lastInWindow = null; // a new schedule applies at once
        }
        Queue();
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            if (_disposed) return;
            Arm();
        }
        Queue();
    }

    /// <summary>The next check at the next turn of a minute (re-armed each time: the wall clock may jump).</summary>
    private void Arm()
    {
        var now = _time.GetUtcNow();
        var next = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(1);
        _timer?.Change(next - now, Timeout.InfiniteTimeSpan);
    }

    private void Queue()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _checks = _checks.ContinueWith(_ => CheckAsync(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task CheckAsync()
    {
        var s = _settings.Current;
        if (!s.AltSpeedScheduleEnabled) return;
        bool inWindow = AltSpeedSchedule.IsInWindow(s, _time.GetUtcNow(), _time.LocalTimeZone);
        lock (_lock)
        {
            if (_lastInWindow == inWindow) return;
            _lastInWindow = inWindow;
        }
        if (s.AltSpeedEnabled == inWindow) return;
        try
        {
            await _settings.UpdateAsync(x => x with { AltSpeedEnabled = inWindow }).ConfigureAwait(false);
            _log(PluginLogLevel.Information, inWindow ? "turtle mode on (schedule)" : "turtle mode off (schedule)");
        }
        catch (Exception e)
        {
            // A full disk, a session closing: the next edge tries again; the chain of checks goes on.
            _log(PluginLogLevel.Warning, $"the speed schedule could not switch turtle mode: {e.Message}");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
        }
        _settings.Changed -= OnChanged;
    }
}
