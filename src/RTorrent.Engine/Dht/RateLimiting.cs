using System.Net;

namespace RTorrent.Engine.Dht;

/// <summary>A token bucket: <see cref="Rate"/> tokens per second up to <see cref="Burst"/>. Not thread-safe.</summary>
internal sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private double _tokens;
    private long _stamp;

    public TokenBucket(TimeProvider time, double rate, double burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _time = time;
        Rate = rate;
        Burst = burst;
        _tokens = burst;
        _stamp = time.GetTimestamp();
    }

    public double Rate { get; }
    public double Burst { get; }

    /// <summary>Takes <paramref name="amount"/> tokens if there are that many.</summary>
    public bool TryTake(double amount = 1)
    {
        Refill();
        if (_tokens < amount) return false;
        _tokens -= amount;
        return true;
    }

    /// <summary>How long until <paramref name="amount"/> tokens are there (zero if they are now).</summary>
    public TimeSpan TimeUntil(double amount = 1)
    {
        Refill();
        return _tokens >= amount ? TimeSpan.Zero : TimeSpan.FromSeconds((amount - _tokens) / Rate);
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        double seconds = _time.GetElapsedTime(_stamp, now).TotalSeconds;
        _stamp = now;
        if (seconds > 0) _tokens = Math.Min(Burst, _tokens + seconds * Rate);
    }
}

/// <summary>
/// Per-source token buckets with a bounded least-recently-used set of sources, so a flood from many addresses
/// cannot grow memory. Sources are IP addresses, except local addresses (loopback, private), which are keyed by
/// IP and port because many genuine nodes share them (every node of a test on 127.0.0.1). Not thread-safe.
/// </summary>
internal sealed class SourceRateLimiter
{
    private readonly TimeProvider _time;
    private readonly double _rate, _burst;
    private readonly int _capacity;
    private readonly Dictionary<IPEndPoint, LinkedListNode<(IPEndPoint Key, TokenBucket Bucket)>> _map = [];
    private readonly LinkedList<(IPEndPoint Key, TokenBucket Bucket)> _lru = new();

    public SourceRateLimiter(TimeProvider time, double ratePerSecond, double burst, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _rate = ratePerSecond;
        _burst = burst;
        _capacity = capacity;
    }

    /// <summary>Sources currently tracked (never more than the capacity).</summary>
    public int Count => _map.Count;

    /// <summary>Whether the source may have one more answer now; takes a token if so.</summary>
    public bool TryAcquire(IPEndPoint source)
    {
        var key = KeyOf(source);
        if (_map.TryGetValue(key, out var node))
        {
            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value.Bucket.TryTake();
        }
        if (_map.Count >= _capacity)
        {
            var last = _lru.Last!;
            _lru.RemoveLast();
            _map.Remove(last.Value.Key);
        }
        var bucket = new TokenBucket(_time, _rate, _burst);
        _map[key] = _lru.AddFirst((key, bucket));
        return bucket.TryTake();
    }

    /// <summary>The rate-limiting key of a source: its IP, or IP and port for local addresses.</summary>
    public static IPEndPoint KeyOf(IPEndPoint source)
    {
        source = AddressClass.Normalize(source);
        return AddressClass.IsLocal(source.Address) ? source : new IPEndPoint(source.Address, 0);
    }
}
