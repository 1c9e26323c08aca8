using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.Client;

/// <summary>
/// The queue acting (<see cref="QueueLimits"/>): which started torrents run and which wait, queued. Evaluated on the
/// loop when a torrent starts, stops, completes or fails, when the order or the limits change, and every
/// <see cref="QueueIntervalSeconds"/> seconds (stalled torrents). The queue starts the first queued torrents in queue
/// order when slots free up, and puts the last running ones back in the queue (queued, not stopped) when a limit is
/// lowered. Stopped (paused) torrents are never counted nor started by it; forced ones run beside it.
/// </summary>
public sealed partial class ClientEngine
{
    /// <summary>Seconds between evaluations by the tick (a torrent becoming stalled frees its slot within this).</summary>
    internal const int QueueIntervalSeconds = 5;

    private readonly HashSet<Torrent> _queueStarting = new(ReferenceEqualityComparer.Instance);
    private bool _queueEvaluationPosted;
    private bool _queueHeld;
    private int _queueTicks;

    /// <summary>Queue evaluations run so far (for tests).</summary>
    internal int QueueEvaluations { get; private set; }

    /// <summary>
    /// Changes the queue limits at once, without a restart: queued torrents start when slots are free, running ones
    /// beyond a lowered limit (the last in queue order) are queued again. The caller saves them in settings.json.
    /// Returns once the starts and stops it caused are done.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is negative or the stalled time not positive.</exception>
    public Task SetQueueLimitsAsync(QueueLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        return Loop.RunAsync(() =>
        {
            Config = Config with { Queue = limits };
            return EvaluateQueue();
        });
    }

    /// <summary>
    /// Holds the queue while a restore adds torrents in whatever order they are read: with limits, every torrent that
    /// starts meanwhile waits queued, and <see cref="ReleaseQueueAsync"/> starts the first ones in the restored order
    /// (so a restart does not start and stop torrents to reach the order it had).
    /// </summary>
    internal Task HoldQueueAsync() => Loop.InvokeAsync(() => { _queueHeld = true; });

    /// <summary>Ends <see cref="HoldQueueAsync"/> and starts the torrents the limits let run.</summary>
    internal Task ReleaseQueueAsync() => Loop.RunAsync(() =>
    {
        _queueHeld = false;
        return _disposing ? Task.CompletedTask : EvaluateQueue();
    });

    private bool _disposing;

    /// <summary>Evaluates the queue once, soon, on the loop (many requests in one turn make one evaluation).</summary>
    private void RequestQueueEvaluation()
    {
        if (_queueEvaluationPosted || _disposing || !Config.Queue.Any) return;
        _queueEvaluationPosted = true;
        Loop.Post(() =>
        {
            _queueEvaluationPosted = false;
            if (_disposing) return;
            _ = EvaluateQueue().ContinueWith(t => _logger.LogError(t.Exception, "queue evaluation failed"),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        });
    }

    /// <summary>Called by the tick: every few seconds, stalled torrents are looked at again.</summary>
    private void TickQueue()
    {
        if (!Config.Queue.Any || ++_queueTicks < QueueIntervalSeconds) return;
        _queueTicks = 0;
        RequestQueueEvaluation();
    }

    /// <summary>Starts and queues torrents as the plan says (on the loop).</summary>
    private Task EvaluateQueue()
    {
        Loop.AssertOnLoop();
        if (_queueHeld || _disposing) return Task.CompletedTask;
        QueueEvaluations++;
        var (entries, who) = QueueEntries(null);
        var plan = QueuePlanner.Plan(entries, Config.Queue);
        List<Task>? work = null;
        for (int i = 0; i < who.Count; i++)
        {
            var t = who[i];
            if (_queueStarting.Contains(t)) continue;
            if (plan[i] && t.State == TorrentState.Queued) (work ??= []).Add(StartFromQueueAsync(t));
            else if (!plan[i] && entries[i].Running)
            {
                t.Log(Abstractions.PluginLogLevel.Information, "queued: the queue's limits leave no slot for it");
                (work ??= []).Add(t.StopOnLoopAsync(TorrentState.Queued, null));
            }
        }
        return work is null ? Task.CompletedTask : Task.WhenAll(work);
    }

    private async Task StartFromQueueAsync(Torrent torrent)
    {
        _queueStarting.Add(torrent);
        try { await torrent.StartOnLoopAsync(byQueue: true); }
        finally { _queueStarting.Remove(torrent); }
    }

    /// <summary>
    /// The torrents the queue looks at, in queue order: running (or being started by the queue) and queued ones;
    /// <paramref name="asking"/>, when given, as an auto torrent that is not running (it asks for a slot). Stalled
    /// flags are brought up to date on the way.
    /// </summary>
    private (List<QueueEntry> Entries, List<Torrent> Who) QueueEntries(Torrent? asking)
    {
        var now = Time.GetUtcNow();
        // Without limits nothing looks at stalled torrents again: the flags are cleared rather than left stale.
        var stalledAfter = Config.Queue.Any ? Config.Queue.StalledAfter : null;
        var items = _queue.Items;
        var entries = new List<QueueEntry>(items.Count);
        var who = new List<Torrent>(items.Count);
        foreach (var t in items)
        {
            if (ReferenceEquals(t, asking))
            {
                entries.Add(new QueueEntry(QueueRole.Auto, t.IsComplete, false, false));
                who.Add(t);
                continue;
            }
            bool starting = _queueStarting.Contains(t);
            var state = t.State;
            bool running = starting || state is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;
            if (!running && state != TorrentState.Queued)
            {
                t.QueueStalled = false;
                continue;
            }
            bool stalled = running && !starting && IsStalled(t, now, stalledAfter);
            t.QueueStalled = stalled;
            bool seeding = state == TorrentState.Seeding || (state != TorrentState.Downloading && state != TorrentState.FetchingMetadata && t.IsComplete);
            entries.Add(new QueueEntry(t.Forced ? QueueRole.Forced : QueueRole.Auto, seeding, running, stalled));
            who.Add(t);
        }
        return (entries, who);
    }

    /// <summary>
    /// Moved no payload for <paramref name="after"/> since it started or last moved some (Transmission's idle time:
    /// from the later of the start and the last activity).
    /// </summary>
    private static bool IsStalled(Torrent t, DateTimeOffset now, TimeSpan? after)
    {
        if (after is not { } limit || t.Activity.StartedAt is not { } started) return false;
        var since = t.Activity.ActivityAt is { } a && a > started ? a : started;
        return now - since >= limit;
    }

    /// <summary>Whether a torrent asking to start (not forced) gets a slot now; otherwise it waits, queued.</summary>
    bool ITorrentHost.MayStart(Torrent torrent)
    {
        var limits = Config.Queue;
        if (!limits.Any) return true;
        if (_queueHeld || _disposing) return false;
        var (entries, who) = QueueEntries(torrent);
        var plan = QueuePlanner.Plan(entries, limits);
        int at = who.IndexOf(torrent);
        return at < 0 || plan[at];
    }

    void ITorrentHost.RequestQueueEvaluation() => RequestQueueEvaluation();
}
