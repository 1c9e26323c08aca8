using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// Finds peers for one torrent through its trackers: <c>started</c> when started, regular announces at the tracker's
/// interval, <c>completed</c> on completion, <c>stopped</c> when stopped; tiers per BEP 12; periodic scrapes for
/// swarm counts. A tracker that fails is shown with its error and retried with exponential backoff; nothing a
/// tracker does can crash or stall the torrent.
/// </summary>
/// <remarks>
/// Background work: one loop per announce lane (the whole tier list, or each tier when
/// <see cref="TrackerPeerSourceOptions.AnnounceToAllTiers"/>) and one scrape loop. Each waits on a timer from the
/// <see cref="TimeProvider"/> or a wake-up. Every request waits for its turn at the tracker's gate in the shared
/// <see cref="AnnounceScheduler"/>, which paces the torrents of one tracker, limits what is in flight to it, backs off
/// once for all of them when the tracker fails, batches their scrapes, and bounds the stopped announces at quit.
/// </remarks>
public sealed class TrackerPeerSource : IPeerSource
{
    /// <summary>The source name used for peers and status rows.</summary>
    public const string SourceName = "tracker";

    private readonly PeerSourceContext _context;
    private readonly InfoHash _infoHash;
    private readonly TrackerPeerSourceOptions _options;
    private readonly TrackerClientPool _clients;
    private readonly bool _ownsClients;
    private readonly AnnounceScheduler _scheduler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly uint _key;
    private readonly Lock _lock = new();
    private readonly List<TrackerEndpoint> _endpoints = [];
    private readonly List<AnnounceLane> _lanes = [];
    private readonly WakeSignal _scrapeWake = new();

    /// <summary>Serializes start, stop and tracker replacement (each swaps the loops).</summary>
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private DateTimeOffset _scrapeDue = DateTimeOffset.MaxValue;
    private bool _scrapeForced;
    private CancellationTokenSource? _running;
    private Task[] _loops = [];
    private bool _disposed;

    /// <summary>Creates the source for one torrent; it does nothing until <see cref="StartAsync"/>.</summary>
    /// <param name="context">The torrent: info-hash, peer id, trackers, listen port, totals, where peers go.</param>
    /// <param name="options">Intervals, timeouts, numwant; <see cref="TrackerPeerSourceOptions.Default"/> when null.</param>
    /// <param name="clients">Tracker clients shared between torrents; a private pool (disposed with this source) when null.</param>
    /// <param name="scheduler">Spreads announces across torrents; <see cref="AnnounceScheduler.Shared"/> when null.</param>
    /// <param name="timeProvider">Time for intervals and backoff; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">Where announces and failures are logged.</param>
    public TrackerPeerSource(PeerSourceContext context, TrackerPeerSourceOptions? options = null, TrackerClientPool? clients = null,
        AnnounceScheduler? scheduler = null, TimeProvider? timeProvider = null, ILogger? logger = null)
        : this(context, options, clients, scheduler, timeProvider, logger, random: null)
    {
    }

    internal TrackerPeerSource(PeerSourceContext context, TrackerPeerSourceOptions? options, TrackerClientPool? clients,
        AnnounceScheduler? scheduler, TimeProvider? timeProvider, ILogger? logger, Random? random)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _infoHash = new InfoHash(context.InfoHash.Span);
        _options = options ?? TrackerPeerSourceOptions.Default;
        _ownsClients = clients is null;
        _clients = clients ?? new TrackerClientPool(timeProvider: timeProvider);
        _scheduler = scheduler ?? AnnounceScheduler.Shared;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _random = random ?? new Random();
        _key = (uint)_random.NextInt64(0, uint.MaxValue + 1L);
        BuildTrackers(context.TrackerTiers, reuse: null);
    }

    /// <inheritdoc/>
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { StartCore(); }
        finally { _lifecycle.Release(); }
        if (_lanes.Count == 0) _logger.LogInformation("Torrent {InfoHash} has no usable trackers", _infoHash);
    }

    private void StartCore()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_running is not null) return;
            _running = new CancellationTokenSource();
            // Announce at once: the tracker's gate paces torrents that start together.
            var first = _time.GetUtcNow();
            foreach (var lane in _lanes)
            {
                lane.DueAt = first;
                lane.Current = null;
                lane.LastAnnounce = null;
                lane.MinInterval = _options.DefaultMinInterval;
            }
            foreach (var ep in _endpoints.Where(e => e.Client is not null))
            {
                ep.StartedSent = false;
                ep.RetryAt = null;
                ep.Failures = 0;
                ep.State = TrackerEndpoint.NotContacted;
                ep.Message = null;
                ep.Refused = false;
            }
            _scrapeDue = first + _options.FirstScrapeDelay;
            LaunchLoops();
        }
    }

    /// <summary>Starts a loop per lane and the scrape loop on <see cref="_running"/>'s token. Called under the lock.</summary>
    private void LaunchLoops()
    {
        var token = _running!.Token;
        var loops = _lanes.Select(lane => Task.Run(() => RunLaneAsync(lane, token), CancellationToken.None)).ToList();
        // A torrent without a usable tracker has nothing to scrape: no loop asleep for it.
        if (_lanes.Count > 0) loops.Add(Task.Run(() => RunScrapeLoopAsync(token), CancellationToken.None));
        _loops = [.. loops];
    }

    /// <summary>
    /// Stops announcing and sends <c>stopped</c> to every tracker that may list us, waiting at most
    /// <see cref="TrackerPeerSourceOptions.StopTimeout"/> (or until <paramref name="cancellationToken"/>). Never throws
    /// for tracker trouble.
    /// </summary>
    public async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        // Not cancellable: a replacement in progress holds the gate only while its loops end (bounded by StopTimeout),
        // and giving up here would leave the loops it starts running.
        await _lifecycle.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try { await StopCoreAsync(cancellationToken).ConfigureAwait(false); }
        finally { _lifecycle.Release(); }
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        CancellationTokenSource running;
        Task[] loops;
        lock (_lock)
        {
            if (_running is null) return;
            running = _running;
            loops = _loops;
            _running = null;
            _loops = [];
        }
        await running.CancelAsync().ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(_options.StopTimeout, _time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            // The loops end promptly on cancellation: every wait in them takes the token.
            await Task.WhenAll(loops).WaitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Tracker loops of {InfoHash} did not end in time", _infoHash);
        }
        running.Dispose();

        List<TrackerEndpoint> listed;
        lock (_lock)
        {
            listed = [.. _endpoints.Where(e => e.Client is not null && e.MayListUs)];
            foreach (var ep in _endpoints.Where(e => e.Client is not null))
            {
                ep.State = TrackerEndpoint.Stopped;
                ep.RetryAt = null;
            }
        }
        await Task.WhenAll(listed.Select(ep => SendStoppedAsync(ep, bounded.Token))).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask OnEventAsync(TorrentEvent torrentEvent, CancellationToken cancellationToken)
    {
        if (torrentEvent != TorrentEvent.Completed) return ValueTask.CompletedTask;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var lane in _lanes)
            {
                lane.CompletedAsked++;
                // Completion is announced right away (as every client does), not held back by min interval.
                if (_running is not null && lane.DueAt > now) lane.DueAt = now;
                lane.Wake.Set();
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Announces early for more peers, but not sooner than the tracker's <c>min interval</c> (or
    /// <see cref="TrackerPeerSourceOptions.DefaultMinInterval"/>) after the previous announce.
    /// </summary>
    public void RequestMorePeers()
    {
        lock (_lock)
        {
            if (_running is null) return;
            var now = _time.GetUtcNow();
            foreach (var lane in _lanes)
            {
                if (lane.LastAnnounce is not { } last) continue; // the first announce is on its way anyway
                lane.MorePeersAsked = true;
                var earliest = last + lane.MinInterval;
                var due = earliest > now ? earliest : now;
                if (due < lane.DueAt)
                {
                    lane.DueAt = due;
                    lane.Wake.Set();
                }
            }
        }
    }

    /// <summary>
    /// Announces to every lane now, ignoring intervals and backoff: the user's "reannounce". Trackers that keep
    /// failing are tried again too.
    /// </summary>
    public void ForceReannounce()
    {
        lock (_lock)
        {
            if (_running is null) return;
            var now = _time.GetUtcNow();
            foreach (var ep in _endpoints) ep.RetryAt = null;
            foreach (var lane in _lanes)
            {
                lane.ForceAsked = true;
                lane.DueAt = now;
                lane.Wake.Set();
            }
        }
    }

    /// <summary>
    /// Replaces the torrent's trackers (the user edited the list), running or not. Trackers still listed keep what we
    /// know of them (whether they list us, their tracker id, counts, backoff); a lane whose tracker in use is kept and
    /// still first in its order keeps its schedule. Trackers no longer listed that may list us get <c>stopped</c>
    /// (bounded by <see cref="TrackerPeerSourceOptions.StopTimeout"/> or <paramref name="cancellationToken"/>); new
    /// ones are announced to (<c>started</c>) when their lane uses them: a lane whose first tracker changed announces
    /// at once, while a backup in a lane whose current tracker works waits its turn, as BEP 12 has it. Completes when
    /// the removed trackers have been told.
    /// </summary>
    /// <param name="tiers">The new announce URLs by tier.</param>
    /// <param name="cancellationToken">Cuts the <c>stopped</c> announces short.</param>
    /// <exception cref="ObjectDisposedException">The source was disposed.</exception>
    public async Task ReplaceTrackersAsync(IReadOnlyList<IReadOnlyList<string>> tiers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        List<TrackerEndpoint> removed;
        await _lifecycle.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            CancellationTokenSource? running;
            Task[] loops;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                running = _running;
                loops = _loops;
            }
            if (running is not null)
            {
                // The loops hold lanes that are about to change: end them (promptly, every wait takes the token).
                await running.CancelAsync().ConfigureAwait(false);
                using var deadline = new CancellationTokenSource(_options.StopTimeout, _time);
                try { await Task.WhenAll(loops).WaitAsync(deadline.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { _logger.LogWarning("Tracker loops of {InfoHash} did not end in time", _infoHash); }
            }
            lock (_lock)
            {
                removed = RebuildTrackers(tiers, running is not null);
                if (running is not null)
                {
                    _running = new CancellationTokenSource();
                    LaunchLoops();
                }
            }
            running?.Dispose();
        }
        finally { _lifecycle.Release(); }

        var listed = removed.Where(ep => ep.Client is not null && ep.MayListUs).ToList();
        if (listed.Count == 0) return;
        using var stopDeadline = new CancellationTokenSource(_options.StopTimeout, _time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stopDeadline.Token, cancellationToken);
        await Task.WhenAll(listed.Select(ep => SendStoppedAsync(ep, bounded.Token))).ConfigureAwait(false);
    }

    /// <summary>Builds endpoints and lanes for new tiers, keeping what is known. Returns the endpoints dropped. Under the lock.</summary>
    private List<TrackerEndpoint> RebuildTrackers(IReadOnlyList<IReadOnlyList<string>> tiers, bool running)
    {
        var now = _time.GetUtcNow();
        var before = _endpoints.ToDictionary(e => e.Url, StringComparer.Ordinal);
        var oldLanes = _lanes.ToList();
        _endpoints.Clear();
        _lanes.Clear();
        BuildTrackers(tiers, before);
        foreach (var lane in _lanes)
        {
            var members = lane.Trackers.InOrder().Select(x => x.Tracker).ToHashSet();
            var previous = oldLanes.FirstOrDefault(l => l.Current is { } c && members.Contains(c));
            if (previous is not null)
            {
                // The tracker that answered last stays first in its tier (BEP 12), as it was.
                lane.Trackers.Promote(previous.Current!);
                lane.Current = previous.Current;
                lane.LastAnnounce = previous.LastAnnounce;
                lane.MinInterval = previous.MinInterval;
                lane.CompletedAsked = previous.CompletedAsked;
                lane.CompletedDelivered = previous.CompletedDelivered;
                lane.MorePeersAsked = previous.MorePeersAsked;
                lane.ForceAsked = previous.ForceAsked;
                bool stillFirst = ReferenceEquals(lane.Trackers.InOrder()[0].Tracker, previous.Current);
                lane.DueAt = stillFirst ? previous.DueAt : now;
            }
            else
            {
                lane.MinInterval = _options.DefaultMinInterval;
                lane.DueAt = running ? now : DateTimeOffset.MaxValue;
            }
        }
        var kept = _endpoints.ToHashSet();
        return [.. before.Values.Where(e => !kept.Contains(e))];
    }

    /// <summary>Scrapes now (the user asked for fresh counts).</summary>
    public void ScrapeNow()
    {
        lock (_lock)
        {
            if (_running is null) return;
            _scrapeForced = true;
        }
        _scrapeWake.Set();
    }

    /// <inheritdoc/>
    public IReadOnlyList<PeerSourceStatus> GetStatus()
    {
        lock (_lock)
        {
            bool running = _running is not null;
            return [.. _endpoints.Select(ep => new PeerSourceStatus
            {
                Source = SourceName,
                Endpoint = ep.Url,
                Tier = ep.Tier,
                State = ep.State,
                Message = ep.Message ?? ep.ScrapeMessage,
                LastSuccess = ep.LastSuccess,
                NextContact = running ? NextContactOf(ep) : null,
                Seeders = ep.Seeders,
                Leechers = ep.Leechers,
                Downloaded = ep.Downloaded,
                PeersReported = ep.PeersReported,
            })];
        }
    }

    /// <summary>
    /// What the torrent's trackers say against it, as Transmission reports it in a torrent's <c>error</c>: an error when
    /// the torrent's only tracker refused the last announce (with many trackers, one dead tracker is too common to
    /// report), else a warning when a tracker that answered added a warning message; null when there is none. Cheap
    /// (no allocation unless there is a problem): a snapshot asks it every time.
    /// </summary>
    internal Client.TrackerProblem? Problem()
    {
        lock (_lock)
        {
            if (_running is null) return null;
            if (_endpoints.Count == 1 && _endpoints[0] is { State: TrackerEndpoint.Error, Refused: true, Message: { } refusal })
                return new Client.TrackerProblem(true, refusal);
            foreach (var ep in _endpoints)
                if (ep is { State: TrackerEndpoint.Working, Message: { } warning }) return new Client.TrackerProblem(false, warning);
            return null;
        }
    }

    /// <summary>The problem reported by the first tracker source among <paramref name="sources"/> that has one.</summary>
    internal static Client.TrackerProblem? ProblemOf(IReadOnlyList<IPeerSource> sources)
    {
        for (int i = 0; i < sources.Count; i++)
            if (sources[i] is TrackerPeerSource trackers && trackers.Problem() is { } problem) return problem;
        return null;
    }

    /// <summary>Stops (sending <c>stopped</c>, bounded) if still running, then releases what this source owns.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (_ownsClients) _clients.Dispose();
    }

    private void BuildTrackers(IReadOnlyList<IReadOnlyList<string>> tierList, IReadOnlyDictionary<string, TrackerEndpoint>? reuse)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tiers = new List<List<TrackerEndpoint>>();
        int index = 0;
        foreach (var tierUrls in tierList)
        {
            var tier = new List<TrackerEndpoint>();
            foreach (var raw in tierUrls)
            {
                string url = raw?.Trim() ?? "";
                if (url.Length == 0 || !seen.Add(url)) continue;
                if (reuse is not null && reuse.TryGetValue(url, out var kept))
                {
                    kept.Tier = tiers.Count;
                    kept.Index = index++;
                    tier.Add(kept);
                    continue;
                }
                ITrackerClient? client = null;
                string? reason = null;
                try
                {
                    client = _clients.GetClient(url);
                }
                catch (ArgumentException)
                {
                    TrackerClientPool.TryParseUrl(url, out _, out reason);
                    reason ??= "Unusable tracker URL.";
                }
                tier.Add(new TrackerEndpoint(url, tiers.Count, index++, client, reason,
                    client is null ? null : _scheduler.GateFor(client.AnnounceUri)));
            }
            if (tier.Count > 0) tiers.Add(tier);
        }
        _endpoints.AddRange(tiers.SelectMany(t => t));

        // Unusable URLs stay in the status list but never in a lane.
        var usable = tiers.Select(t => t.Where(e => e.Client is not null).ToList()).Where(t => t.Count > 0).ToList();
        if (_options.AnnounceToAllTiers)
        {
            foreach (var tier in usable) _lanes.Add(new AnnounceLane(new TrackerTierList<TrackerEndpoint>([tier], _random)));
        }
        else if (usable.Count > 0)
        {
            _lanes.Add(new AnnounceLane(new TrackerTierList<TrackerEndpoint>(usable, _random)));
        }
        foreach (var lane in _lanes)
            foreach (var (ep, _) in lane.Trackers.InOrder()) ep.Lane = lane;
    }

    private DateTimeOffset? NextContactOf(TrackerEndpoint ep)
    {
        if (ep.Client is null) return null;
        if (ep.RetryAt is { } retry) return retry;
        var lane = ep.Lane;
        if (lane.DueAt == DateTimeOffset.MaxValue) return null;
        if (lane.Current == ep) return lane.DueAt;
        // Not the tracker in use: it is contacted next only if nothing is in use yet.
        return lane.Current is null && ep.State == TrackerEndpoint.NotContacted ? lane.DueAt : null;
    }

    private async Task RunLaneAsync(AnnounceLane lane, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                lane.Wake.Reset();
                DateTimeOffset due;
                lock (_lock) due = lane.DueAt;
                var now = _time.GetUtcNow();
                if (due > now)
                {
                    await lane.Wake.WaitAsync(due == DateTimeOffset.MaxValue ? TimeSpan.MaxValue : due - now, _time, cancellationToken)
                        .ConfigureAwait(false);
                    continue;
                }
                await AnnounceRoundAsync(lane, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug here must not end announcing for the torrent: log it and try again later.
                _logger.LogError(e, "Announce round for {InfoHash} failed", _infoHash);
                lock (_lock) lane.DueAt = _time.GetUtcNow() + _options.RetryBase;
            }
        }
    }

    /// <summary>
    /// One announce by BEP 12: the trackers in order, skipping those waiting out a backoff, until one answers; that
    /// one moves to the front of its tier. When none answers, the lane waits for the first backoff to end.
    /// </summary>
    private async Task AnnounceRoundAsync(AnnounceLane lane, CancellationToken cancellationToken)
    {
        bool attempted = false;
        int completedAtStart;
        bool forced;
        lock (_lock)
        {
            // This round answers whatever was asked so far; what is asked from now on is kept for after it.
            lane.MorePeersAsked = false;
            forced = lane.ForceAsked;
            lane.ForceAsked = false;
            completedAtStart = lane.CompletedAsked;
        }
        foreach (var (ep, _) in lane.Trackers.InOrder())
        {
            AnnounceEvent ev;
            int completedAsked;
            lock (_lock)
            {
                if (ep.RetryAt is { } retry && retry > _time.GetUtcNow()) continue;
                completedAsked = lane.CompletedAsked;
                ev = !ep.StartedSent ? AnnounceEvent.Started
                    : lane.CompletedPending ? AnnounceEvent.Completed
                    : AnnounceEvent.None;
            }
            attempted = true;
            var kind = forced || ev == AnnounceEvent.Completed ? TrackerRequestKind.Urgent : TrackerRequestKind.Announce;
            var response = await AnnounceToAsync(ep, ev, kind, forced, cancellationToken).ConfigureAwait(false);
            if (response is null) continue;

            lane.Trackers.Promote(ep);
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                // A started announce after completion carries left=0, which tells the tracker as much as completed would.
                if (ev is AnnounceEvent.Started or AnnounceEvent.Completed)
                    lane.CompletedDelivered = Math.Max(lane.CompletedDelivered, completedAsked);
                lane.Current = ep;
                lane.LastAnnounce = now;
                var minInterval = ep.MinInterval ?? _options.DefaultMinInterval;
                var interval = Clamp(response.Interval ?? _options.DefaultInterval, _options.MinimumInterval, _options.MaximumInterval);
                if (interval < minInterval) interval = minInterval;
                lane.MinInterval = minInterval;
                lane.DueAt = now + interval;
                ApplyRequestsMadeDuringRound(lane, completedAtStart, now);
            }
            return;
        }

        lock (_lock)
        {
            var now = _time.GetUtcNow();
            lane.Current = null;
            if (attempted) lane.LastAnnounce = now;
            DateTimeOffset next = DateTimeOffset.MaxValue;
            foreach (var (ep, _) in lane.Trackers.InOrder())
                if (ep.RetryAt is { } retry && retry < next) next = retry;
            lane.DueAt = next;
            ApplyRequestsMadeDuringRound(lane, completedAtStart, now);
        }
    }

    /// <summary>
    /// Brings the next announce forward for what was asked while the round ran: a completion or a forced announce at
    /// once, more peers no sooner than min interval after this round. Called under the lock.
    /// </summary>
    private static void ApplyRequestsMadeDuringRound(AnnounceLane lane, int completedAtStart, DateTimeOffset now)
    {
        DateTimeOffset due = lane.DueAt;
        if (lane.ForceAsked || (lane.CompletedAsked != completedAtStart && lane.CompletedPending)) due = now;
        else if (lane.MorePeersAsked && lane.LastAnnounce is { } last && last + lane.MinInterval < due) due = last + lane.MinInterval;
        if (due < lane.DueAt) lane.DueAt = due < now ? now : due;
    }

    /// <summary>
    /// Announces to one tracker when the tracker's gate gives the turn, and records the outcome. Returns null when it
    /// failed or the tracker is backing off (never throws but for cancellation).
    /// </summary>
    private async Task<TrackerAnnounceResponse?> AnnounceToAsync(TrackerEndpoint ep, AnnounceEvent ev, TrackerRequestKind kind,
        bool forced, CancellationToken cancellationToken)
    {
        string previousState;
        lock (_lock)
        {
            previousState = ep.State;
            ep.State = TrackerEndpoint.Updating;
        }
        TrackerPermit? permit = null;
        try
        {
            permit = await ep.Gate!.EnterAsync(kind, forced, cancellationToken).ConfigureAwait(false);
            using var slot = await _scheduler.EnterAsync(cancellationToken).ConfigureAwait(false);
            if (ev == AnnounceEvent.Started)
                lock (_lock) ep.MayListUs = true;
            var response = await AnnounceWithTimeoutAsync(ep, ev, _options.NumWant, cancellationToken).ConfigureAwait(false);
            permit.Complete(TrackerOutcome.Answered);
            RecordSuccess(ep, ev, response);
            DeliverPeers(ep, response.Peers);
            return response;
        }
        catch (TrackerDeferredException deferred)
        {
            RecordDeferred(ep, deferred);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_lock) ep.State = previousState;
            throw;
        }
        catch (Exception e)
        {
            var trackerRetry = permit?.Complete(TrackerPermit.OutcomeOf(e), e, RetryDelay);
            RecordFailure(ep, ev, e, trackerRetry);
            return null;
        }
        finally
        {
            permit?.Dispose();
        }
    }

    private async Task<TrackerAnnounceResponse> AnnounceWithTimeoutAsync(TrackerEndpoint ep, AnnounceEvent ev, int numWant,
        CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.AnnounceTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var totals = _context.Totals();
        string? trackerId;
        lock (_lock) trackerId = ep.TrackerId;
        var request = new TrackerAnnounceRequest
        {
            InfoHash = _infoHash,
            PeerId = _context.PeerId,
            Port = _context.ListenPort,
            Uploaded = totals.Uploaded,
            Downloaded = totals.Downloaded,
            Left = totals.Left,
            Event = ev,
            NumWant = numWant,
            Key = _key,
            TrackerId = trackerId,
            IPv6Address = _options.IPv6Address?.Invoke(),
        };
        try
        {
            return await ep.Client!.AnnounceAsync(request, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TrackerException(TrackerErrorKind.Timeout,
                $"The tracker did not answer within {_options.AnnounceTimeout.TotalSeconds:0.#} s.", e);
        }
    }

    private void RecordSuccess(TrackerEndpoint ep, AnnounceEvent ev, TrackerAnnounceResponse response)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            ep.State = TrackerEndpoint.Working;
            ep.Message = response.WarningMessage;
            ep.Refused = false;
            ep.LastSuccess = now;
            ep.Failures = 0;
            ep.RetryAt = null;
            if (ev == AnnounceEvent.Started) ep.StartedSent = true;
            if (response.TrackerId is not null) ep.TrackerId = response.TrackerId;
            if (response.MinInterval is { } min) ep.MinInterval = min;
            if (response.Seeders is not null || response.Leechers is not null || response.Downloaded is not null)
            {
                ep.Seeders = response.Seeders ?? ep.Seeders;
                ep.Leechers = response.Leechers ?? ep.Leechers;
                ep.Downloaded = response.Downloaded ?? ep.Downloaded;
                ep.CountsUpdated = now;
            }
            ep.PeersReported += response.Peers.Count;
        }
        _logger.LogDebug("Tracker {Url} answered {Event} for {InfoHash}: {Peers} peers, interval {Interval}",
            ep.Url, ev, _infoHash, response.Peers.Count, response.Interval);
        if (response.WarningMessage is not null)
            _logger.LogInformation("Tracker {Url} warns: {Warning}", ep.Url, response.WarningMessage);
    }

    /// <param name="ep">The tracker.</param>
    /// <param name="ev">The event announced.</param>
    /// <param name="e">What went wrong.</param>
    /// <param name="trackerRetry">When the tracker's own backoff ends, if the failure was the tracker's: this torrent waits with the others.</param>
    private void RecordFailure(TrackerEndpoint ep, AnnounceEvent ev, Exception e, DateTimeOffset? trackerRetry)
    {
        var trackerError = e as TrackerException;
        string message = trackerError?.Message ?? $"Unexpected error: {e.Message}";
        TimeSpan delay;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            ep.Failures++;
            if (trackerRetry is { } shared && shared > now)
            {
                delay = shared - now;
            }
            else
            {
                delay = RetryDelay(ep.Failures);
                if (trackerError?.RetryIn is { } retryIn && retryIn > delay) delay = retryIn;
            }
            ep.RetryAt = now + delay;
            ep.State = TrackerEndpoint.Error;
            ep.Message = message;
            ep.Refused = trackerError?.Kind == TrackerErrorKind.TrackerFailure;
            // A refusal or an unreachable tracker has not listed us; after a timeout or garbage it may have.
            if (ev == AnnounceEvent.Started && trackerError?.Kind is TrackerErrorKind.TrackerFailure or TrackerErrorKind.Network)
                ep.MayListUs = false;
        }
        if (trackerError is null) _logger.LogWarning(e, "Announce to {Url} failed unexpectedly", ep.Url);
        else _logger.LogInformation("Announce to {Url} failed: {Message}; retry in {Delay}", ep.Url, message, delay);
    }

    /// <summary>
    /// Nothing was sent: the tracker is failing for all its torrents. This torrent shows the tracker's error and waits
    /// for the tracker's backoff to end; its own failure count is not raised (the tracker's is).
    /// </summary>
    private void RecordDeferred(TrackerEndpoint ep, TrackerDeferredException deferred)
    {
        lock (_lock)
        {
            ep.State = TrackerEndpoint.Error;
            ep.Message = deferred.Message;
            ep.Refused = false;
            ep.RetryAt = deferred.RetryAt;
        }
        _logger.LogDebug("Announce to {Url} for {InfoHash} waits for the tracker's backoff until {RetryAt}", ep.Url, _infoHash, deferred.RetryAt);
    }

    private void DeliverPeers(TrackerEndpoint ep, IReadOnlyList<IPEndPoint> peers)
    {
        if (peers.Count == 0) return;
        try
        {
            _context.Sink.AddPeers(peers, SourceName);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "The peer sink refused peers from {Url}", ep.Url);
        }
    }

    private async Task SendStoppedAsync(TrackerEndpoint ep, CancellationToken cancellationToken)
    {
        string? message = null;
        TrackerPermit? permit = null;
        try
        {
            // Ahead of every other request to the tracker and not paced, but within its in-flight limit, and at quit
            // within the session's budget for them all.
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _scheduler.QuitToken);
            permit = await ep.Gate!.EnterAsync(TrackerRequestKind.Stopped, force: false, bounded.Token).ConfigureAwait(false);
            await AnnounceWithTimeoutAsync(ep, AnnounceEvent.Stopped, 0, bounded.Token).ConfigureAwait(false);
            permit.Complete(TrackerOutcome.Answered);
            _logger.LogDebug("Tracker {Url} acknowledged stopped for {InfoHash}", ep.Url, _infoHash);
        }
        catch (TrackerDeferredException deferred)
        {
            message = "The stopped announce was not sent: " + deferred.Message;
        }
        catch (OperationCanceledException)
        {
            message = permit is null ? "The stopped announce was not sent in time." : "The stopped announce was not answered in time.";
        }
        catch (Exception e)
        {
            permit?.Complete(TrackerPermit.OutcomeOf(e), e, RetryDelay);
            message = "The stopped announce failed: " + (e is TrackerException ? e.Message : "unexpected error: " + e.Message);
        }
        finally
        {
            permit?.Dispose();
        }
        lock (_lock)
        {
            ep.MayListUs = false;
            ep.StartedSent = false;
            ep.Message = message;
        }
        // At quit the scheduler logs one summary instead of a line per torrent.
        if (message is not null)
            _logger.Log(_scheduler.Quitting ? LogLevel.Debug : LogLevel.Information, "Tracker {Url}: {Message}", ep.Url, message);
    }

    private async Task RunScrapeLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                _scrapeWake.Reset();
                DateTimeOffset due;
                bool forced;
                lock (_lock)
                {
                    due = _scrapeDue;
                    forced = _scrapeForced;
                    _scrapeForced = false;
                }
                var now = _time.GetUtcNow();
                if (!forced && due > now)
                {
                    await _scrapeWake.WaitAsync(due - now, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                foreach (var ep in ScrapeTargets(forced))
                    await ScrapeAsync(ep, cancellationToken).ConfigureAwait(false);
                lock (_lock) _scrapeDue = _time.GetUtcNow() + WithJitter(_options.ScrapeInterval);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Scrape for {InfoHash} failed", _infoHash);
                lock (_lock) _scrapeDue = _time.GetUtcNow() + _options.ScrapeInterval;
            }
        }
    }

    /// <summary>
    /// The first scrape-capable tracker of each tier (as Transmission does), skipping trackers whose counts an
    /// announce refreshed recently unless the user asked.
    /// </summary>
    private List<TrackerEndpoint> ScrapeTargets(bool forced)
    {
        var targets = new List<TrackerEndpoint>();
        var now = _time.GetUtcNow();
        foreach (var lane in _lanes)
        {
            for (int t = 0; t < lane.Trackers.TierCount; t++)
            {
                var ep = lane.Trackers.GetTier(t).FirstOrDefault(e => e.Client!.CanScrape);
                if (ep is null) continue;
                lock (_lock)
                {
                    if (!forced && ep.CountsUpdated is { } updated && now - updated < _options.ScrapeInterval / 2) continue;
                }
                targets.Add(ep);
            }
        }
        return targets;
    }

    private async Task ScrapeAsync(TrackerEndpoint ep, CancellationToken cancellationToken)
    {
        try
        {
            // With the other torrents of the tracker that scrape now: many info-hashes to a request.
            var found = await _scheduler.BatcherFor(ep.Client!, ep.Gate!)
                .ScrapeAsync(_infoHash, _options.AnnounceTimeout, RetryDelay, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                if (found is { } counts)
                {
                    ep.Seeders = counts.Seeders;
                    ep.Leechers = counts.Leechers;
                    ep.Downloaded = counts.Downloaded;
                }
                else
                {
                    // Trackers leave out torrents without peers (opentracker does): nobody is there.
                    ep.Seeders = 0;
                    ep.Leechers = 0;
                }
                ep.CountsUpdated = _time.GetUtcNow();
                ep.ScrapeMessage = null;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            bool known = e is TrackerException or TrackerDeferredException;
            string message = "Scrape failed: " + (known ? e.Message : "unexpected error: " + e.Message);
            lock (_lock) ep.ScrapeMessage = message;
            // A tracker failing for everyone is logged once by the scheduler, not for each torrent.
            _logger.Log(e is TrackerDeferredException ? LogLevel.Debug : LogLevel.Information, "Tracker {Url}: {Message}", ep.Url, message);
        }
    }

    /// <summary>15 s, 30 s, 60 s, ... capped, plus up to <see cref="TrackerPeerSourceOptions.Jitter"/> random extra.</summary>
    private TimeSpan RetryDelay(int failures)
    {
        double factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(_options.RetryBase.Ticks * factor, _options.RetryCap.Ticks));
        return WithJitter(delay);
    }

    private TimeSpan WithJitter(TimeSpan delay)
    {
        double extra;
        lock (_random) extra = _random.NextDouble() * _options.Jitter;
        return delay + delay * extra;
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) =>
        value < min ? min : value > max ? max : value;
}
