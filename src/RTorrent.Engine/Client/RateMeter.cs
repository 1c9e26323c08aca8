namespace RTorrent.Engine.Client;

/// <summary>
/// Bytes per second over a sliding window of one-second slots. Written from any thread (<see cref="Add"/> is
/// lock-free), read on the loop once a second by <see cref="Tick"/>.
/// </summary>
public sealed class RateMeter
{
    private readonly long[] _slots;
    private long _current;
    private int _index;
    private int _filled;

    /// <summary>Creates a meter averaging over <paramref name="windowSeconds"/> seconds.</summary>
    public RateMeter(int windowSeconds = 5) => _slots = new long[windowSeconds];

    /// <summary>Total bytes ever added.</summary>
    public long Total => Interlocked.Read(ref _total);
    private long _total;

    /// <summary>The averaged rate as of the last tick, in bytes per second.</summary>
    public long Rate { get; private set; }

    /// <summary>Counts bytes.</summary>
    public void Add(long bytes)
    {
        Interlocked.Add(ref _current, bytes);
        Interlocked.Add(ref _total, bytes);
    }

    /// <summary>Closes the current one-second slot and recomputes <see cref="Rate"/>. Call once a second.</summary>
    public void Tick()
    {
        _slots[_index] = Interlocked.Exchange(ref _current, 0);
        _index = (_index + 1) % _slots.Length;
        if (_filled < _slots.Length) _filled++;
        long sum = 0;
        foreach (var s in _slots) sum += s;
        Rate = sum / _filled;
    }
}
