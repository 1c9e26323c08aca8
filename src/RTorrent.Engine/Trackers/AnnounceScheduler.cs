namespace RTorrent.Engine.Trackers;

/// <summary>Settings of <see cref="AnnounceScheduler"/>.</summary>
public sealed record AnnounceSchedulerOptions
{
    /// <summary>The defaults.</summary>
    public static AnnounceSchedulerOptions Default { get; } = new();

    /// <summary>Announces and scrapes in flight at once across all torrents (default 8).</summary>
    public int MaxConcurrent { get; init; } = 8;

    /// <summary>Torrents started within <see cref="StartWindow"/> that announce at once, without delay (default 5).</summary>
    public int BurstSize { get; init; } = 5;

    /// <summary>The window in which starts count as "together" (default 30 s).</summary>
    public TimeSpan StartWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How much each start beyond the burst widens the random delay (default 250 ms).</summary>
    public TimeSpan StartSpacing { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The widest random first-announce delay (default 2 min).</summary>
    public TimeSpan MaxStartDelay { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Spreads the announces of many torrents so that a session restoring hundreds of torrents does not hit every
/// tracker (and our own connection table) at the same instant.
/// </summary>
/// <remarks>
/// Two mechanisms, both cheap:
/// <list type="number">
/// <item>A global limit on announces and scrapes in flight (<see cref="AnnounceSchedulerOptions.MaxConcurrent"/>);
/// the rest wait their turn.</item>
/// <item>A start stagger: the first <see cref="AnnounceSchedulerOptions.BurstSize"/> torrents started within
/// <see cref="AnnounceSchedulerOptions.StartWindow"/> announce at once (adding a torrent by hand is never delayed);
/// the k-th start beyond that waits a random time in [0, min(k × spacing, max delay)], so 500 torrents spread their
/// first announces over up to two minutes, and their regular announces stay spread after that.</item>
/// </list>
/// Stopped announces skip both: they are sent at shutdown under a short deadline, where waiting would only drop them.
/// </remarks>
public sealed class AnnounceScheduler
{
    private readonly AnnounceSchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly SemaphoreSlim _slots;
    private readonly Queue<DateTimeOffset> _recentStarts = new();
    private readonly Lock _lock = new();

    /// <summary>Creates a scheduler.</summary>
    public AnnounceScheduler(AnnounceSchedulerOptions? options = null, TimeProvider? timeProvider = null, Random? random = null)
    {
        _options = options ?? AnnounceSchedulerOptions.Default;
        if (_options.MaxConcurrent < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxConcurrent must be at least 1.");
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? new Random();
        _slots = new SemaphoreSlim(_options.MaxConcurrent, _options.MaxConcurrent);
    }

    /// <summary>The scheduler shared by every tracker source that is not given its own.</summary>
    public static AnnounceScheduler Shared { get; } = new();

    /// <summary>Announces currently in flight.</summary>
    public int InFlight => _options.MaxConcurrent - _slots.CurrentCount;

    /// <summary>Records a torrent start and returns how long its first announce should wait.</summary>
    public TimeSpan NextStartDelay()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            while (_recentStarts.Count > 0 && now - _recentStarts.Peek() > _options.StartWindow) _recentStarts.Dequeue();
            _recentStarts.Enqueue(now);
            int beyond = _recentStarts.Count - _options.BurstSize;
            if (beyond <= 0) return TimeSpan.Zero;
            var spread = TimeSpan.FromTicks(Math.Min(_options.MaxStartDelay.Ticks, _options.StartSpacing.Ticks * beyond));
            return TimeSpan.FromTicks((long)(_random.NextDouble() * spread.Ticks));
        }
    }

    /// <summary>Waits for a free announce slot; dispose the result to free it.</summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Slot(this);
    }

    /// <summary>An announce slot; disposing it frees it (once).</summary>
    public sealed class Slot : IDisposable
    {
        private AnnounceScheduler? _owner;

        internal Slot(AnnounceScheduler owner) => _owner = owner;

        /// <inheritdoc/>
        public void Dispose() => Interlocked.Exchange(ref _owner, null)?._slots.Release();
    }
}
