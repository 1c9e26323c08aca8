using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.Trackers;

/// <summary>What a request to a tracker is, for its place in the tracker's queue.</summary>
internal enum TrackerRequestKind
{
    /// <summary>A started or regular announce: paced, in arrival order.</summary>
    Announce,

    /// <summary>A completion, or an announce the user asked for: paced, ahead of regular announces.</summary>
    Urgent,

    /// <summary>A stopped announce: ahead of everything, not paced (only the in-flight limit), bounded at quit.</summary>
    Stopped,

    /// <summary>A scrape of a batch of torrents: paced like an announce.</summary>
    Scrape,
}

/// <summary>How a request made under a <see cref="TrackerPermit"/> ended, as far as the tracker's health goes.</summary>
internal enum TrackerOutcome
{
    /// <summary>The tracker answered.</summary>
    Answered,

    /// <summary>The tracker answered but refused this torrent (a failure reason, an HTTP 4xx): the tracker is up.</summary>
    RefusedTorrent,

    /// <summary>The tracker could not be reached, timed out, failed (5xx) or answered garbage: its fault, not the torrent's.</summary>
    TrackerFailed,

    /// <summary>Cancelled or broken on our side: says nothing about the tracker.</summary>
    Abandoned,
}

/// <summary>
/// Nothing was sent: the tracker is failing for every torrent and waits out its backoff until <see cref="RetryAt"/>.
/// The message is the tracker's last failure.
/// </summary>
internal sealed class TrackerDeferredException(DateTimeOffset retryAt, string message) : Exception(message)
{
    public DateTimeOffset RetryAt { get; } = retryAt;
}

/// <summary>
/// One tracker (scheme, host and port) as every torrent of the session sees it: a queue with pacing and an in-flight
/// limit, and the tracker's health with one backoff for all its torrents. See <see cref="AnnounceScheduler"/>.
/// </summary>
/// <remarks>
/// Health: a tracker not heard from yet, whose backoff has just ended, or whose last request failed, is
/// <em>probed</em>: one request at a time until one is answered (an answer refusing a torrent counts: the tracker is
/// up). A failure that is the tracker's (<see cref="TrackerOutcome.TrackerFailed"/>) of a probe starts a backoff (the
/// source's exponential delay by the tracker's failure count); requests waiting or arriving before it ends fail at
/// once with <see cref="TrackerDeferredException"/> without sending anything, unless the user forced them. So a
/// tracker that was answering and fails once costs only the failed torrent its own backoff, and a dead one costs
/// every torrent one backoff and one request. Failures of requests already in flight do not count again.
/// <para>Pacing: a token bucket of <see cref="AnnounceSchedulerOptions.BurstSize"/> refilled at one per
/// <see cref="AnnounceSchedulerOptions.Spacing"/>, or faster when the longest queue since the tracker was last idle
/// could not otherwise be sent within <see cref="AnnounceSchedulerOptions.MaxSpread"/>. One timer per tracker, armed
/// only while requests wait for tokens.</para>
/// </remarks>
internal sealed class TrackerGate
{
    private readonly AnnounceScheduler _owner;
    private readonly AnnounceSchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _stopped = new();
    private readonly LinkedList<Waiter> _urgent = new();
    private readonly LinkedList<Waiter> _normal = new();
    private int _inFlight;
    private double _tokens;
    private DateTimeOffset _refilledAt;
    private int _peakBacklog;
    private ITimer? _timer;
    private DateTimeOffset _timerDue = DateTimeOffset.MaxValue;

    private bool _answered;
    private DateTimeOffset? _downUntil;
    private string? _downMessage;
    private int _failures;
    private bool _probeOut;
    private long _epoch;

    private int _stoppedAnsweredAtQuit;
    private int _stoppedFailedAtQuit;
    private int _stoppedGivenUpAtQuit;

    public TrackerGate(AnnounceScheduler owner, string key)
    {
        _owner = owner;
        _options = owner.Options;
        _time = owner.Time;
        Key = key;
        _tokens = _options.BurstSize;
        _refilledAt = _time.GetUtcNow();
    }

    /// <summary>scheme://host:port.</summary>
    public string Key { get; }

    /// <summary>Stopped announces since the quit began: answered, failed (the tracker or the connection), given up (the budget ran out).</summary>
    public (int Answered, int Failed, int GivenUp) QuitCounts
    {
        get { lock (_lock) return (_stoppedAnsweredAtQuit, _stoppedFailedAtQuit, _stoppedGivenUpAtQuit); }
    }

    /// <summary>Requests in flight now (for tests).</summary>
    public int InFlight
    {
        get { lock (_lock) return _inFlight; }
    }

    /// <summary>Requests waiting for their turn now (for tests).</summary>
    public int Waiting
    {
        get { lock (_lock) return _stopped.Count + _urgent.Count + _normal.Count; }
    }

    /// <summary>When the tracker's backoff ends, while it is failing for everyone; null when it is not.</summary>
    public DateTimeOffset? DownUntil
    {
        get { lock (_lock) return _downUntil; }
    }

    /// <summary>
    /// Waits for this request's turn. Dispose the permit when the request is over, after reporting how it went with
    /// <see cref="TrackerPermit.Complete"/>.
    /// </summary>
    /// <param name="kind">What the request is (its place in the queue and whether it is paced).</param>
    /// <param name="force">The user asked: the tracker is probed even during its backoff.</param>
    /// <param name="cancellationToken">Gives up waiting.</param>
    /// <exception cref="TrackerDeferredException">The tracker is backing off; nothing was sent.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public ValueTask<TrackerPermit> EnterAsync(TrackerRequestKind kind, bool force, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<TrackerPermit>(cancellationToken);
        var waiter = new Waiter(this, kind, force);
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_downUntil is { } until && now < until && !force)
                return ValueTask.FromException<TrackerPermit>(new TrackerDeferredException(until, _downMessage!));
            waiter.Node = QueueOf(kind).AddLast(waiter);
            if (kind != TrackerRequestKind.Stopped) _peakBacklog = Math.Max(_peakBacklog, _urgent.Count + _normal.Count);
            DispatchLocked(now);
        }
        // The task completes as the turn is given (under the gate's lock, continuations elsewhere), so whoever gave it
        // can tell at once; the registration is dropped then, not left on long-lived tokens.
        if (waiter.Node is not null && cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), waiter);
            lock (_lock)
            {
                if (waiter.Node is null) registration.Unregister();
                else waiter.Registration = registration;
            }
        }
        return new ValueTask<TrackerPermit>(waiter.Done.Task);
    }

    private LinkedList<Waiter> QueueOf(TrackerRequestKind kind) => kind switch
    {
        TrackerRequestKind.Stopped => _stopped,
        TrackerRequestKind.Urgent => _urgent,
        _ => _normal,
    };

    /// <summary>Takes a waiter out of its queue (it got its turn, was refused or gave up). Under the lock.</summary>
    private static void Dequeue(Waiter waiter)
    {
        waiter.Node!.List!.Remove(waiter.Node);
        waiter.Node = null;
        waiter.Registration.Unregister();
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        lock (_lock)
        {
            if (waiter.Node?.List is null) return; // already given its turn (or refused)
            Dequeue(waiter);
            if (waiter.Kind == TrackerRequestKind.Stopped && _owner.Quitting) _stoppedGivenUpAtQuit++;
            DispatchLocked(_time.GetUtcNow());
        }
        waiter.Done.TrySetCanceled(token);
    }

    /// <summary>Gives turns to waiting requests as far as the in-flight limit, the tracker's health and the tokens allow.</summary>
    private void DispatchLocked(DateTimeOffset now)
    {
        Refill(now);
        int limit = _owner.Quitting ? Math.Max(_options.MaxInFlightPerTracker, _options.QuitInFlightPerTracker) : _options.MaxInFlightPerTracker;
        while (_inFlight < limit)
        {
            var node = _stopped.First ?? _urgent.First ?? _normal.First;
            if (node is null) break;
            var waiter = node.Value;
            bool up = _answered && _downUntil is null;
            if (!up)
            {
                // One probe at a time while the tracker has not answered (yet, or since its failure).
                if (_probeOut) break;
                if (_downUntil is { } until && now < until && !waiter.Force)
                {
                    // Queued before the backoff began: refused (RejectWaitingLocked does this too); go on with the rest.
                    Dequeue(waiter);
                    waiter.Done.TrySetException(new TrackerDeferredException(until, _downMessage!));
                    continue;
                }
            }
            if (waiter.Kind != TrackerRequestKind.Stopped)
            {
                if (_tokens < 1 - 1e-6)
                {
                    var wait = TimeSpan.FromTicks((long)Math.Ceiling((1 - _tokens) / Rate() * TimeSpan.TicksPerSecond));
                    ArmTimer(now + wait);
                    break;
                }
                _tokens = Math.Max(0, _tokens - 1);
            }
            Dequeue(waiter);
            _inFlight++;
            bool probe = !up;
            if (probe) _probeOut = true;
            waiter.Done.TrySetResult(new TrackerPermit(this, waiter.Kind, probe, _epoch));
        }
        if (_urgent.Count + _normal.Count == 0) _peakBacklog = 0;
    }

    /// <summary>Requests a second: one per spacing, or the longest recent queue spread over the max spread.</summary>
    private double Rate() =>
        Math.Max(1 / _options.Spacing.TotalSeconds, _peakBacklog / _options.MaxSpread.TotalSeconds);

    private void Refill(DateTimeOffset now)
    {
        if (now > _refilledAt) _tokens = Math.Min(_options.BurstSize, _tokens + (now - _refilledAt).TotalSeconds * Rate());
        _refilledAt = now;
    }

    private void ArmTimer(DateTimeOffset due)
    {
        if (due >= _timerDue) return;
        _timerDue = due;
        _timer ??= _time.CreateTimer(static s => ((TrackerGate)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var wait = due - _time.GetUtcNow();
        _timer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            _timerDue = DateTimeOffset.MaxValue;
            DispatchLocked(_time.GetUtcNow());
        }
    }

    /// <summary>Records how a request ended. Returns when the tracker's backoff ends if it is failing for everyone, else null.</summary>
    internal DateTimeOffset? Complete(TrackerPermit permit, TrackerOutcome outcome, Exception? failure, Func<int, TimeSpan>? backoff)
    {
        DateTimeOffset? retryAt = null;
        string? wentDown = null;
        bool cameBack = false;
        TimeSpan delay = default;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            _inFlight--;
            if (permit.Probe) _probeOut = false;
            switch (outcome)
            {
                case TrackerOutcome.Answered:
                case TrackerOutcome.RefusedTorrent:
                    cameBack = _downUntil is not null;
                    _answered = true;
                    _downUntil = null;
                    _downMessage = null;
                    _failures = 0;
                    break;
                case TrackerOutcome.TrackerFailed when !permit.Probe && _answered && _downUntil is null:
                    // Up until now: one failure may be a hiccup (opentracker resets a few connections in a hundred), so
                    // the next request probes before anyone backs off; this torrent backs off on its own. Requests in
                    // flight from before fail alike and do not count again.
                    if (permit.Epoch == _epoch)
                    {
                        _answered = false;
                        _epoch++;
                    }
                    break;
                case TrackerOutcome.TrackerFailed:
                    // The probe failed: the tracker fails for everyone and they all wait out one backoff.
                    if (permit.Probe)
                    {
                        _failures++;
                        delay = backoff?.Invoke(_failures) ?? TimeSpan.FromSeconds(15);
                        if (failure is TrackerException { RetryIn: { } asked } && asked > delay) delay = asked;
                        _downUntil = now + delay;
                        _downMessage = failure?.Message ?? "The tracker failed.";
                        _epoch++;
                        wentDown = _downMessage;
                        RejectWaitingLocked(_downUntil.Value);
                    }
                    retryAt = _downUntil;
                    break;
            }
            if (permit.Kind == TrackerRequestKind.Stopped && _owner.Quitting)
            {
                if (outcome == TrackerOutcome.Abandoned) _stoppedGivenUpAtQuit++;
                else if (outcome == TrackerOutcome.Answered) _stoppedAnsweredAtQuit++;
                else _stoppedFailedAtQuit++;
            }
            DispatchLocked(now);
        }
        if (wentDown is not null)
            _owner.Logger.LogInformation("Tracker {Tracker} is failing ({Failures} in a row): {Message}; its torrents wait {Delay} before it is tried again",
                Key, _failures, wentDown, delay);
        else if (cameBack)
            _owner.Logger.LogInformation("Tracker {Tracker} answers again", Key);
        return retryAt;
    }

    /// <summary>Refuses every waiting request not forced by the user: the tracker is backing off.</summary>
    private void RejectWaitingLocked(DateTimeOffset until)
    {
        foreach (var queue in (LinkedList<Waiter>[])[_stopped, _urgent, _normal])
        {
            for (var node = queue.First; node is not null;)
            {
                var next = node.Next;
                if (!node.Value.Force)
                {
                    Dequeue(node.Value);
                    node.Value.Done.TrySetException(new TrackerDeferredException(until, _downMessage!));
                }
                node = next;
            }
        }
    }

    private sealed class Waiter(TrackerGate gate, TrackerRequestKind kind, bool force)
    {
        public TrackerRequestKind Kind { get; } = kind;
        public bool Force { get; } = force;
        public TaskCompletionSource<TrackerPermit> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node;
        public CancellationTokenRegistration Registration;

        public void Cancel(CancellationToken token) => gate.Cancel(this, token);
    }
}

/// <summary>A request's turn at a tracker. Report how it went with <see cref="Complete"/>, then dispose (which frees the turn once).</summary>
internal sealed class TrackerPermit(TrackerGate gate, TrackerRequestKind kind, bool probe, long epoch) : IDisposable
{
    private int _done;

    public TrackerRequestKind Kind { get; } = kind;

    /// <summary>This request tests whether the tracker answers; the others wait for it.</summary>
    public bool Probe { get; } = probe;

    public long Epoch { get; } = epoch;

    /// <summary>
    /// Records the outcome and frees the turn. Returns when the tracker's backoff ends if the tracker is now failing for
    /// everyone (the caller waits until then too), else null. Only the first call counts.
    /// </summary>
    /// <param name="outcome">How the request ended.</param>
    /// <param name="failure">The failure, for its message and the tracker's own retry time.</param>
    /// <param name="backoff">The delay for the tracker's n-th failure in a row.</param>
    public DateTimeOffset? Complete(TrackerOutcome outcome, Exception? failure = null, Func<int, TimeSpan>? backoff = null) =>
        Interlocked.Exchange(ref _done, 1) == 0 ? gate.Complete(this, outcome, failure, backoff) : null;

    /// <summary>Frees the turn if <see cref="Complete"/> was not called (as <see cref="TrackerOutcome.Abandoned"/>).</summary>
    public void Dispose() => Complete(TrackerOutcome.Abandoned);

    /// <summary>Whether a failure is the tracker's (all its torrents back off together) rather than this torrent's.</summary>
    public static TrackerOutcome OutcomeOf(Exception e) => e switch
    {
        TrackerException { Kind: TrackerErrorKind.Network or TrackerErrorKind.Timeout or TrackerErrorKind.InvalidResponse } => TrackerOutcome.TrackerFailed,
        // A 5xx or 429 is the server's trouble; a 4xx without a reason is about this request (an unregistered torrent).
        TrackerException { Kind: TrackerErrorKind.HttpStatus, StatusCode: var status } =>
            status is null or >= 500 or 429 ? TrackerOutcome.TrackerFailed : TrackerOutcome.RefusedTorrent,
        TrackerException => TrackerOutcome.RefusedTorrent,
        _ => TrackerOutcome.Abandoned,
    };
}
