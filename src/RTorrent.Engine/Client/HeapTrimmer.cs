using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.Client;

/// <summary>
/// Gives memory back after the heap grew: once a minute it looks at the memory the GC has committed, and when it is
/// <see cref="Growth"/> more than after the last trim, one compacting, decommitting collection returns what is not in
/// use to the system (at most once every <see cref="MinimumGap"/>).
/// </summary>
/// <remarks>
/// Why: the GC keeps what it committed at a burst's peak (thousands of torrents read, parsed and announced at once,
/// an RPC client asking for everything) long after the live heap shrank: a 10,000-torrent session that had settled
/// held 284 MB committed for about 130 MB in use, and kept it (the large buffers of the burst were garbage a gen2
/// collection would free, but an idle process makes none). A compacting collection pauses the process once, for a
/// fraction of a second; an idle session whose heap does not grow never triggers one, and the check itself is a
/// timer a minute and one number. Whether memory is in use cannot be told cheaply without a full collection (the
/// live size is only known after one), so the trigger is growth, not a ratio.
/// </remarks>
internal sealed class HeapTrimmer : IDisposable
{
    /// <summary>How often the GC's numbers are looked at.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    /// <summary>The shortest time between two trims, whatever the numbers say.</summary>
    public static readonly TimeSpan MinimumGap = TimeSpan.FromMinutes(10);

    private readonly ITimer _timer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<long> _committed;
    private readonly Action _collect;
    private DateTimeOffset _lastTrim = DateTimeOffset.MinValue;
    private long _baseline;

    /// <summary>Committed growth since the last trim that makes a trim worth it (32 MiB).</summary>
    public const long Growth = 32L * 1024 * 1024;

    /// <param name="time">The clock of the checks.</param>
    /// <param name="logger">Where trims are noted.</param>
    /// <param name="committed">Bytes the GC has committed (its own figure by default; tests give theirs).</param>
    /// <param name="collect">The collection (a compacting, decommitting one by default).</param>
    public HeapTrimmer(TimeProvider time, ILogger logger, Func<long>? committed = null, Action? collect = null)
    {
        _time = time;
        _logger = logger;
        _committed = committed ?? (static () => GC.GetGCMemoryInfo().TotalCommittedBytes);
        _collect = collect ?? (static () => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true));
        _timer = time.CreateTimer(static s => ((HeapTrimmer)s!).Check(), this, Period, Period);
    }

    /// <summary>Collections made.</summary>
    public int Trims { get; private set; }

    private void Check()
    {
        // Received-block buffers kept for reuse go once no block arrived for a minute (before the heap is looked at).
        Peers.BlockBuffers.TrimIfUnused();
        var now = _time.GetUtcNow();
        if (now - _lastTrim < MinimumGap) return;
        long committed = _committed();
        if (committed - _baseline < Growth) return;
        _lastTrim = now;
        _collect();
        Trims++;
        _baseline = _committed();
        _logger.LogDebug("heap trimmed: {Before} bytes committed before, {After} after", committed, _baseline);
    }

    public void Dispose() => _timer.Dispose();
}
