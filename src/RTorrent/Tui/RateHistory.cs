namespace RTorrent.Tui;

/// <summary>
/// Recent download and upload rates in fixed time buckets (a ring), for the sparklines. Samples arrive with each
/// refresh; a bucket holds their average, so the graph's time axis does not depend on the refresh rate.
/// </summary>
public sealed class RateHistory
{
    private readonly long[] _down;
    private readonly long[] _up;
    private long _currentBucket = long.MinValue;
    private long _sumDown;
    private long _sumUp;
    private int _samples;
    private int _count;
    private int _head; // index of the newest completed bucket

    /// <summary>Creates a history of <paramref name="capacity"/> buckets of <paramref name="bucket"/> each.</summary>
    public RateHistory(TimeSpan bucket, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(bucket, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Bucket = bucket;
        _down = new long[capacity];
        _up = new long[capacity];
        _head = capacity - 1;
    }

    /// <summary>How long one bucket (one sparkline cell) lasts.</summary>
    public TimeSpan Bucket { get; }

    /// <summary>How many buckets it keeps.</summary>
    public int Capacity => _down.Length;

    /// <summary>Completed buckets held, at most <see cref="Capacity"/>.</summary>
    public int Count => _count;

    /// <summary>Records the rates seen at <paramref name="now"/>.</summary>
    public void Add(DateTimeOffset now, long down, long up)
    {
        long bucket = now.UtcTicks / Bucket.Ticks;
        if (_currentBucket == long.MinValue) _currentBucket = bucket;
        if (bucket != _currentBucket)
        {
            Complete();
            // Buckets with no sample at all (the interface was busy, or the clock jumped) read as zero.
            long gap = Math.Min(bucket - _currentBucket - 1, Capacity);
            for (long i = 0; i < gap; i++) Push(0, 0);
            _currentBucket = bucket;
        }
        _sumDown += Math.Max(0, down);
        _sumUp += Math.Max(0, up);
        _samples++;
    }

    /// <summary>The newest <paramref name="max"/> completed buckets, oldest first.</summary>
    public (long[] Down, long[] Up) Latest(int max)
    {
        int n = Math.Min(Math.Max(0, max), _count);
        long[] down = new long[n];
        long[] up = new long[n];
        for (int i = 0; i < n; i++)
        {
            int index = ((_head - (n - 1 - i)) % Capacity + Capacity) % Capacity;
            down[i] = _down[index];
            up[i] = _up[index];
        }
        return (down, up);
    }

    private void Complete()
    {
        if (_samples == 0) return;
        Push(_sumDown / _samples, _sumUp / _samples);
        _sumDown = _sumUp = 0;
        _samples = 0;
    }

    private void Push(long down, long up)
    {
        _head = (_head + 1) % Capacity;
        _down[_head] = down;
        _up[_head] = up;
        if (_count < Capacity) _count++;
    }
}

/// <summary>Draws a series of values as one line of level characters scaled to its maximum.</summary>
public static class Sparkline
{
    /// <summary>
    /// One character per value, chosen from <paramref name="levels"/> (first = nothing, last = the maximum). Any value
    /// above zero shows at least the lowest mark, so a trickle is not mistaken for silence. Left-padded with blanks
    /// to <paramref name="width"/> so that the newest value is always at the right edge.
    /// </summary>
    public static string Render(IReadOnlyList<long> values, int width, string levels)
    {
        if (width <= 0) return "";
        int start = Math.Max(0, values.Count - width);
        long max = 0;
        for (int i = start; i < values.Count; i++) max = Math.Max(max, values[i]);
        var chars = new char[width];
        Array.Fill(chars, ' ');
        int top = levels.Length - 1;
        int offset = width - (values.Count - start);
        for (int i = start; i < values.Count; i++)
        {
            long v = values[i];
            int level = v <= 0 || max == 0 ? 0 : Math.Max(1, (int)Math.Round((double)v / max * top));
            chars[offset + i - start] = levels[level];
        }
        return new string(chars);
    }
}
