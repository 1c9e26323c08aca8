namespace RTorrent.Engine.Client;

/// <summary>
/// Session-wide management a remote interface needs (Transmission's <c>queue-move-*</c>, <c>session-set</c> limits):
/// the queue, the seed ratio limit and the peer limits, applied while torrents run.
/// </summary>
public sealed partial class ClientEngine
{
    private readonly QueueOrder<Torrent> _queue = new(static (t, position) => t.QueuePosition = position);
    private readonly ResumeSaveQueue _saveQueue;
    private long _removedUploaded;
    private long _removedDownloaded;

    /// <summary>Torrents front to back in the session's queue.</summary>
    public Task<IReadOnlyList<Torrent>> GetQueueAsync() => Loop.InvokeAsync(() => _queue.Items);

    /// <summary>
    /// Moves torrents in the queue as Transmission's <c>tr_torrentsQueueMoveTop/Up/Down/Bottom</c> do for several ids:
    /// Top and Bottom take the torrents to that end keeping their order among themselves; Up and Down move each one
    /// step, front-most (or back-most) first, so a block moves as a block and a block already at the end stays.
    /// Torrents not in the session and repeats are ignored. Positions are saved with each torrent's resume data.
    /// </summary>
    /// <remarks>
    /// With queue limits (<see cref="SetQueueLimitsAsync"/>) the order decides which started torrents run: moving a
    /// queued torrent to the front starts it in place of the last running one.
    /// </remarks>
    public Task MoveInQueueAsync(IReadOnlyList<Torrent> torrents, QueueMove move)
    {
        ArgumentNullException.ThrowIfNull(torrents);
        if (!Enum.IsDefined(move)) throw new ArgumentOutOfRangeException(nameof(move), move, null);
        var copy = torrents.ToArray();
        return Loop.InvokeAsync(() => SavePositions(_queue.Move(copy, move)));
    }

    /// <summary>
    /// Puts a torrent at <paramref name="position"/> in the queue (clamped to 0..n-1, as Transmission's
    /// <c>tr_torrentSetQueuePosition</c>); the torrents between shift by one. See <see cref="MoveInQueueAsync"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The torrent is not in this session.</exception>
    public Task SetQueuePositionAsync(Torrent torrent, int position)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        return Loop.InvokeAsync(() =>
        {
            if (!_queue.Contains(torrent)) throw new InvalidOperationException($"{torrent.Name} is not in this session.");
            SavePositions(_queue.SetPosition(torrent, position));
        });
    }

    /// <summary>
    /// Puts restored torrents back in the order they had (their saved positions); they take the places they hold now.
    /// Torrents whose place differs from the one their resume data holds are saved again (not those that were only
    /// restored in another order and are back at their saved place: a restart rewrites nothing unchanged).
    /// </summary>
    internal Task RestoreQueueOrderAsync(IReadOnlyList<(Torrent Torrent, int? SavedPosition)> restored) =>
        Loop.InvokeAsync(() =>
        {
            var saved = new Dictionary<Torrent, int?>(ReferenceEqualityComparer.Instance);
            foreach (var (torrent, position) in restored) saved[torrent] = position;
            SavePositions(_queue.Restore(restored).Where(t => !saved.TryGetValue(t, out var p) || p != t.QueuePosition).ToList());
        });

    /// <summary>Torrents whose resume data waits to be saved at the next tick (on the loop).</summary>
    internal int ResumeSavesPending => _saveQueue.PendingCount;

    private void SavePositions(IReadOnlyList<Torrent> changed)
    {
        foreach (var t in changed) _saveQueue.Request(t);
        if (changed.Count > 0) RequestQueueEvaluation(); // the front of the queue may have changed
    }

    /// <summary>
    /// Changes the session's seed ratio limit (null: none) at once, without a restart: torrents in
    /// <see cref="SeedRatioMode.Global"/> mode that are seeding at or above it stop at the next tick. The caller saves
    /// it in settings.json (<c>seedRatioLimit</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit is negative or not finite.</exception>
    public Task SetSeedRatioLimitAsync(double? limit)
    {
        SeedingLimit.ValidateLimit(limit, nameof(limit));
        return Loop.InvokeAsync(() =>
        {
            Config = Config with { SeedRatioLimit = limit };
            foreach (var t in Torrents) t.InvalidateSeedLimit();
        });
    }

    /// <summary>
    /// Changes the session's seeding rules (idle limit, seeding time limit, minimum seeding time, action) at once:
    /// every seeding torrent looks at them at its next tick. The caller saves them in settings.json.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">See <see cref="SeedingRules.Validate"/>.</exception>
    public Task SetSeedingRulesAsync(SeedingRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        rules.Validate();
        return Loop.InvokeAsync(() =>
        {
            Config = Config with { SeedingRules = rules };
            foreach (var t in Torrents) t.InvalidateSeedLimit();
        });
    }

    /// <summary>
    /// Changes the read cache's budget at once (settings.json <c>diskReadCacheSize</c>): a smaller one gives memory back
    /// as the next reads land.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is negative.</exception>
    public Task SetReadCacheSizeAsync(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return Loop.InvokeAsync(() =>
        {
            Config = Config with { ReadCacheBytes = bytes };
            ReadCache.Capacity = bytes;
        });
    }

    /// <summary>
    /// Changes the requests in flight per web seed at once (settings.json <c>webSeedConnections</c>; 0 turns web seeds
    /// off): downloading torrents start the workers that are missing, and workers beyond the number stop after their
    /// request.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The number is negative.</exception>
    public Task SetWebSeedConnectionsAsync(int connections)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(connections);
        return Loop.InvokeAsync(() =>
        {
            Config = Config with { WebSeedConnections = connections };
            foreach (var t in Torrents) t.WebSeedSettingsChanged();
        });
    }

    /// <summary>
    /// Changes the peer limits at once, without a restart: <paramref name="global"/> connections across torrents and
    /// <paramref name="perTorrent"/> for each torrent without its own limit. Connections above a lowered limit are
    /// closed, the least useful first, and for the global limit from the torrents with the most connections. The
    /// caller saves them in settings.json (<c>maxConnections</c>, <c>maxConnectionsPerTorrent</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is below 1.</exception>
    public Task SetConnectionLimitsAsync(int global, int perTorrent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(global, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perTorrent, 1);
        return Loop.InvokeAsync(() =>
        {
            Config = Config with { MaxConnections = global, MaxConnectionsPerTorrent = perTorrent };
            var torrents = Torrents;
            foreach (var t in torrents) t.TrimConnections();
            var open = torrents.Select(t => (IReadOnlyList<Peer>)t.PeersWorstFirst()).ToList();
            foreach (var peer in ConnectionTrimmer.PlanGlobal(open, global)) peer.Connection.Close("global peer limit lowered");
        });
    }

    /// <summary>Payload moved in this run across all torrents, removed ones included. Thread-safe.</summary>
    internal (long Uploaded, long Downloaded) TransferredThisRun
    {
        get
        {
            lock (_torrents)
            {
                long up = _removedUploaded, down = _removedDownloaded;
                foreach (var t in _torrents.Values)
                {
                    up += t.UploadedThisRun;
                    down += t.DownloadedThisRun;
                }
                return (up, down);
            }
        }
    }

    /// <summary>A torrent left the session (on the loop, under the torrents' lock).</summary>
    private void OnRemoved(Torrent torrent)
    {
        _removedUploaded += torrent.UploadedThisRun;
        _removedDownloaded += torrent.DownloadedThisRun;
        _saveQueue.Forget(torrent);
        SavePositions(_queue.Remove(torrent));
    }

    void ITorrentHost.RequestResumeSave(Torrent torrent)
    {
        if (IsInSession(torrent)) _saveQueue.Request(torrent);
    }

    /// <summary>Whether the torrent is still in the session (a removed one's files must not be written again).</summary>
    private bool IsInSession(Torrent torrent)
    {
        lock (_torrents) return _torrents.TryGetValue(torrent.InfoHash, out var t) && ReferenceEquals(t, torrent);
    }
}
