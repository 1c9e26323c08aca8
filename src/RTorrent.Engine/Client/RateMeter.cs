namespace RTorrent.Engine.Client;

/// <summary>
/// Bytes per second over a sliding window of whole seconds of a clock. Nothing ticks it: <see cref="Add"/> and
/// <see cref="Rate"/> move the window to the clock's current second themselves, so an idle meter costs nothing and
/// reads 0 once its last bytes are older than the window. Written and read on the engine loop; <see cref="Total"/> may
/// be read from any thread.
/// </summary>
public sealed class RateMeter
{
    private readonly TimeProvider _time;
    private readonly long[] _slots;
    private long _second = long.MinValue; // the clock's second the newest slot counts; MinValue until the first use
    private long _firstSecond;            // the first second counted (the window fills from there)
    private long _total;

    /// <summary>Creates a meter averaging over <paramref name="windowSeconds"/> whole seconds of <paramref name="time"/>.</summary>
    public RateMeter(TimeProvider? time = null, int windowSeconds = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSeconds, 1);
        _time = time ?? TimeProvider.System;
        _slots = new long[windowSeconds + 1]; // the window and the second in progress
    }

    /// <summary>Total bytes ever added.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>
    /// The average over the last whole seconds of the window (the second in progress is not counted), in bytes per
    /// second; over fewer seconds while the meter is younger than its window, so a transfer shows at once.
    /// </summary>
    public long Rate
    {
        get
        {
            if (_second == long.MinValue) return 0;
            long now = Now();
            Advance(now);
            int window = _slots.Length - 1;
            long seconds = Math.Clamp(now - _firstSecond, 1, window);
            long sum = 0;
            for (long s = now - seconds; s < now; s++) sum += _slots[Index(s)];
            return sum / seconds;
        }
    }

    /// <summary>Counts bytes (on the loop).</summary>
    public void Add(long bytes)
    {
        long now = Now();
        if (_second == long.MinValue)
        {
            _second = now;
            _firstSecond = now;
        }
        else Advance(now);
        _slots[Index(now)] += bytes;
        Interlocked.Add(ref _total, bytes);
    }

    private long Now() => _time.GetTimestamp() / _time.TimestampFrequency;

    private int Index(long second) => (int)(((second % _slots.Length) + _slots.Length) % _slots.Length);

    /// <summary>Clears the slots of the seconds between the newest one and <paramref name="now"/>.</summary>
    private void Advance(long now)
    {
        if (now <= _second) return;
        long gap = Math.Min(now - _second, _slots.Length);
        for (long s = now - gap + 1; s <= now; s++) _slots[Index(s)] = 0;
        _second = now;
    }
}
