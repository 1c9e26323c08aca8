using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RTorrent.Engine.Trackers;

/// <summary>Settings of <see cref="AnnounceScheduler"/>.</summary>
public sealed record AnnounceSchedulerOptions
{
    /// <summary>The defaults.</summary>
    public static AnnounceSchedulerOptions Default { get; } = new();

    /// <summary>Announces and scrapes in flight at once across all trackers (default 32); stopped announces are not counted.</summary>
    public int MaxConcurrent { get; init; } = 32;

    /// <summary>
    /// Requests in flight at once to one tracker (host and port), stopped announces included (default 8). HTTP trackers
    /// get as many pooled keep-alive connections at most.
    /// </summary>
    public int MaxInFlightPerTracker { get; init; } = 8;

    /// <summary>
    /// Stopped announces in flight at once to one tracker while the session quits (default 32): they are all that is
    /// left to send and have a budget of seconds; at 8, a tracker that closes every connection (opentracker) took
    /// 10,000 of them past the budget, each waiting for a new connection in turn.
    /// </summary>
    public int QuitInFlightPerTracker { get; init; } = 32;

    /// <summary>Requests to one tracker that go at once before pacing starts (default 20): a torrent added by hand is never delayed.</summary>
    public int BurstSize { get; init; } = 20;

    /// <summary>The pace beyond the burst: one request to a tracker per spacing (default 50 ms, 20 a second).</summary>
    public TimeSpan Spacing { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The longest a backlog of announces to one tracker takes to go out (default 1 min): when more are waiting than
    /// <see cref="Spacing"/> sends in that time, the pace rises to send them all within it (10,000 torrents restored
    /// on one tracker: about 170 a second for a minute).
    /// </summary>
    public TimeSpan MaxSpread { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// At quit (<see cref="AnnounceScheduler.BeginQuit"/>), how long stopped announces may take in all (default 2 s);
    /// those not answered by then are given up, so quitting never waits on trackers longer than this.
    /// </summary>
    public TimeSpan QuitBudget { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The session's coordinator of tracker traffic: one <see cref="TrackerGate"/> per tracker (scheme, host and port)
/// that every torrent's announces and scrapes to it pass through, one scrape batcher per announce URL, a global cap on
/// requests in flight, and the time budget of the stopped announces at quit.
/// </summary>
/// <remarks>
/// What each tracker gets, whatever the number of torrents on it:
/// <list type="bullet">
/// <item>Pacing: a burst, then one request per <see cref="AnnounceSchedulerOptions.Spacing"/>, faster only to send a
/// backlog within <see cref="AnnounceSchedulerOptions.MaxSpread"/>; stopped announces first, then completions and
/// announces the user asked for, then the rest in arrival order.</item>
/// <item>At most <see cref="AnnounceSchedulerOptions.MaxInFlightPerTracker"/> requests in flight.</item>
/// <item>One backoff for failures that are the tracker's (unreachable, timeouts, server errors, garbage): its torrents
/// wait it out together and one request probes the tracker when it ends, instead of each torrent retrying on its own.
/// A refusal of one torrent (a failure reason) is that torrent's, backed off by its own source.</item>
/// <item>Scrapes of many torrents in one request (BEP 15: 74 info-hashes per UDP packet; several info_hash parameters
/// over HTTP).</item>
/// </list>
/// </remarks>
public sealed class AnnounceScheduler : IDisposable
{
    private readonly AnnounceSchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<string, TrackerGate> _gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ITrackerClient, TrackerScrapeBatcher> _batchers = new(ReferenceEqualityComparer.Instance);
    private readonly CancellationTokenSource _quit = new();
    private readonly Lock _lock = new();
    private ITimer? _quitTimer;
    private DateTimeOffset? _quitStarted;
    private TimeSpan _quitBudget;
    private bool _summaryLogged;

    /// <summary>Creates a scheduler.</summary>
    /// <param name="options">Limits and pacing; <see cref="AnnounceSchedulerOptions.Default"/> when null.</param>
    /// <param name="timeProvider">Time for pacing, backoff and the quit budget.</param>
    /// <param name="logger">Where tracker-wide failures, recoveries and the quit summary are logged.</param>
    public AnnounceScheduler(AnnounceSchedulerOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _options = options ?? AnnounceSchedulerOptions.Default;
        if (_options.MaxConcurrent < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxConcurrent must be at least 1.");
        if (_options.MaxInFlightPerTracker < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxInFlightPerTracker must be at least 1.");
        if (_options.BurstSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "BurstSize must be at least 1.");
        if (_options.Spacing <= TimeSpan.Zero || _options.MaxSpread <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), "Spacing and MaxSpread must be positive.");
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _slots = new SemaphoreSlim(_options.MaxConcurrent, _options.MaxConcurrent);
    }

    /// <summary>The scheduler shared by every tracker source that is not given its own.</summary>
    public static AnnounceScheduler Shared { get; } = new();

    /// <summary>Announces and scrapes currently holding a global slot.</summary>
    public int InFlight => _options.MaxConcurrent - _slots.CurrentCount;

    internal AnnounceSchedulerOptions Options => _options;

    internal TimeProvider Time => _time;

    internal ILogger Logger => _logger;

    /// <summary>Cancelled when the quit budget has run out: stopped announces still waiting or in flight are given up.</summary>
    internal CancellationToken QuitToken => _quit.Token;

    /// <summary>Whether <see cref="BeginQuit"/> was called.</summary>
    internal bool Quitting
    {
        get { lock (_lock) return _quitStarted is not null; }
    }

    /// <summary>Waits for a free global slot; dispose the result to free it.</summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Slot(this);
    }

    /// <summary>
    /// The session is quitting: from now on stopped announces have <paramref name="budget"/> (default
    /// <see cref="AnnounceSchedulerOptions.QuitBudget"/>) in all; when it runs out, those still waiting or in flight
    /// are given up (counted and logged by <see cref="LogQuitSummary"/>). Call it before stopping the torrents.
    /// </summary>
    public void BeginQuit(TimeSpan? budget = null)
    {
        lock (_lock)
        {
            if (_quitStarted is not null) return;
            _quitStarted = _time.GetUtcNow();
            var after = _quitBudget = budget ?? _options.QuitBudget;
            if (after <= TimeSpan.Zero) _quit.Cancel();
            else _quitTimer = _time.CreateTimer(static s => ((AnnounceScheduler)s!).QuitBudgetSpent(), this, after, Timeout.InfiniteTimeSpan);
        }
    }

    private void QuitBudgetSpent()
    {
        try { _quit.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Logs how the stopped announces at quit went: how many were answered, failed and given up when the budget ran
    /// out, and which trackers had some given up. Once; nothing when not quitting.
    /// </summary>
    public void LogQuitSummary()
    {
        DateTimeOffset started;
        lock (_lock)
        {
            if (_quitStarted is not { } s || _summaryLogged) return;
            _summaryLogged = true;
            started = s;
        }
        int answered = 0, failed = 0, givenUp = 0;
        foreach (var gate in _gates.Values)
        {
            var (a, f, g) = gate.QuitCounts;
            answered += a;
            failed += f;
            givenUp += g;
            if (g > 0)
                _logger.LogWarning("Quit: {GivenUp} stopped announces to {Tracker} given up when the {Budget:0.#} s for them ran out ({Answered} answered, {Failed} failed)",
                    g, gate.Key, _quitBudget.TotalSeconds, a, f);
        }
        if (answered + failed + givenUp > 0)
            _logger.LogInformation("Quit: {Answered} stopped announces answered, {Failed} failed, {GivenUp} given up, to {Trackers} trackers in {Seconds:0.00} s",
                answered, failed, givenUp, _gates.Count, (_time.GetUtcNow() - started).TotalSeconds);
    }

    /// <summary>The gate of the tracker an announce URL points at (one per scheme, host and port).</summary>
    internal TrackerGate GateFor(Uri announceUri)
    {
        string key = $"{announceUri.Scheme.ToLowerInvariant()}://{announceUri.IdnHost.ToLowerInvariant()}:{announceUri.Port}";
        return _gates.GetOrAdd(key, k => new TrackerGate(this, k));
    }

    /// <summary>The scrape batcher of one tracker client (one announce URL).</summary>
    internal TrackerScrapeBatcher BatcherFor(ITrackerClient client, TrackerGate gate) =>
        _batchers.GetOrAdd(client, c => new TrackerScrapeBatcher(c, gate, this));

    /// <summary>Stops the quit timer.</summary>
    public void Dispose()
    {
        lock (_lock) _quitTimer?.Dispose();
    }

    /// <summary>A global slot; disposing it frees it (once).</summary>
    public sealed class Slot : IDisposable
    {
        private AnnounceScheduler? _owner;

        internal Slot(AnnounceScheduler owner) => _owner = owner;

        /// <inheritdoc/>
        public void Dispose() => Interlocked.Exchange(ref _owner, null)?._slots.Release();
    }
}
