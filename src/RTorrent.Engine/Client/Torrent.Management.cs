using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Client;

/// <summary>
/// What a remote interface manages on a torrent (Transmission's <c>torrent-set</c>, <c>torrent-reannounce</c>):
/// labels, the tracker list, the seed ratio limit, the peer limit, and the times and counts its snapshot shows. Thin
/// here on purpose: the logic is in <see cref="TorrentLabels"/>, <see cref="TrackerList"/>, <see cref="SeedingLimit"/>,
/// <see cref="TorrentActivity"/> and <see cref="ConnectionTrimmer"/>. Every change is saved with the resume data.
/// </summary>
public sealed partial class Torrent
{
    private IReadOnlyList<string> _labels = TorrentLabels.None;
    private IReadOnlyList<IReadOnlyList<string>> _trackers = TrackerList.None;
    private int? _maxConnections;
    private SeedingLimit _seedLimit = new(SeedRatioMode.Global, null);
    private string? _category;
    private CategoryLimits? _categoryLimits;

    /// <summary>Times the snapshot shows (on the loop).</summary>
    internal TorrentActivity Activity { get; } = new();

    /// <summary>Takes the options' labels, trackers and limits (from the constructor).</summary>
    /// <exception cref="ArgumentException">An option is not valid.</exception>
    private void InitManagement(TorrentOptions options, TorrentMetainfo? metainfo, MagnetLink? magnet)
    {
        _labels = TorrentLabels.Normalize(options.Labels);
        _category = options.Category is { } category ? CategoryNames.Normalize(category) : null;
        _categoryLimits = options.CategoryLimits;
        if (options.Trackers is { } edited)
        {
            _trackers = TrackerList.Normalize(edited);
            TrackersEdited = true;
        }
        else _trackers = metainfo?.AnnounceTiers ?? magnet?.Trackers ?? TrackerList.None;
        if (options.MaxConnections is { } max) ValidateMaxConnections(max);
        _maxConnections = options.MaxConnections;
        _seedLimit = new SeedingLimit(options.SeedRatioMode, options.SeedRatioLimit);
        SeedingRules.ValidateTorrentLimit(options.SeedIdleMode, options.SeedIdleLimit, nameof(options.SeedIdleLimit));
        SeedingRules.ValidateTorrentLimit(options.SeedingTimeMode, options.SeedingTimeLimit, nameof(options.SeedingTimeLimit));
        if (options.MinSeedingTime is { } min) SeedingRules.ValidateMinimum(min, nameof(options.MinSeedingTime));
        (SeedIdleMode, SeedIdleLimit) = (options.SeedIdleMode, options.SeedIdleLimit);
        (SeedingTimeMode, SeedingTimeLimit) = (options.SeedingTimeMode, options.SeedingTimeLimit);
        MinSeedingTime = options.MinSeedingTime;
    }

    // ------------------------------------------------------------------ labels

    /// <summary>The torrent's labels (one immutable list, replaced when they change).</summary>
    public IReadOnlyList<string> Labels => _labels;

    /// <summary>
    /// Replaces the labels: each is trimmed, must not be empty or contain a comma; duplicates are dropped. Saved with
    /// the resume data.
    /// </summary>
    /// <exception cref="ArgumentException">A label is empty or contains a comma.</exception>
    public Task SetLabelsAsync(IReadOnlyList<string> labels)
    {
        var normalized = TorrentLabels.Normalize(labels);
        return _host.Loop.InvokeAsync(() =>
        {
            if (TorrentLabels.Same(_labels, normalized)) return;
            _labels = normalized;
            SettingsChanged();
        });
    }

    // ------------------------------------------------------------------ category

    /// <summary>The torrent's category (docs/CATEGORIES.md), or null for none. Its tags are its <see cref="Labels"/>.</summary>
    public string? Category => _category;

    /// <summary>
    /// Sets the category and the limits it brings (the session's <c>ClientSession.SetCategoryAsync</c> decides them and
    /// moves the data); saved with the resume data. The limits stand between the torrent's own and the session's.
    /// </summary>
    internal Task SetCategoryAsync(string? name, CategoryLimits? limits) => _host.Loop.InvokeAsync(() =>
    {
        bool renamed = !string.Equals(_category, name, StringComparison.Ordinal);
        if (!renamed && Equals(_categoryLimits, limits)) return;
        _category = name;
        _categoryLimits = limits;
        if (renamed) Log(PluginLogLevel.Information, name is null ? "category removed" : $"category set to {name}");
        SettingsChanged();
    });

    /// <summary>The session's seed ratio limit, or the category's when it has one.</summary>
    private double? SessionRatioLimit => _categoryLimits?.SeedRatioLimit ?? _host.Config.SeedRatioLimit;

    /// <summary>The session's idle limit, or the category's when it has one.</summary>
    private int? SessionIdleLimit => _categoryLimits?.IdleSeedingLimit ?? _host.Config.SeedingRules.IdleLimitMinutes;

    // ------------------------------------------------------------------ trackers

    /// <summary>The announce URLs by tier: the metainfo's (or magnet's) until edited (one immutable list, replaced on change).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Trackers => _trackers;

    /// <summary>Whether the tracker list was edited (then it is saved in the resume data and used after a restart).</summary>
    internal bool TrackersEdited { get; private set; }

    /// <summary>
    /// Replaces the tracker list (private torrents too). URLs must be http, https or udp; duplicates are dropped. The
    /// .torrent file is left as it is: the list is saved in the resume data and a restart uses it. A running torrent's
    /// tracker source switches at once (<see cref="TrackerPeerSource.ReplaceTrackersAsync"/>): trackers removed get
    /// their <c>stopped</c> announce, new ones announce <c>started</c> when they are used. Returns once the torrent
    /// holds the new list; the trackers are told in the background.
    /// </summary>
    /// <exception cref="ArgumentException">A URL is unusable; the message names it.</exception>
    public Task SetTrackersAsync(IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        var normalized = TrackerList.Normalize(tiers);
        return _host.Loop.InvokeAsync(() =>
        {
            if (TrackersEdited && TrackerList.Same(_trackers, normalized)) return;
            _trackers = normalized;
            TrackersEdited = true;
            Log(PluginLogLevel.Information, $"tracker list edited: {normalized.Sum(t => t.Count)} trackers in {normalized.Count} tiers");
            Sources.ReplaceTrackers(normalized);
            SettingsChanged();
        });
    }

    /// <summary>
    /// Asks every peer source to look for peers again as soon as it may (Transmission's <c>torrent-reannounce</c>):
    /// trackers announce once their <c>min interval</c> since the last announce has passed (at once if it has), the
    /// DHT looks up again no sooner than its minimum interval. This is what <see cref="IPeerSource.RequestMorePeers"/>
    /// already means, so peer sources need nothing new. Does nothing while the torrent is not running.
    /// </summary>
    public Task ReannounceAsync() => _host.Loop.InvokeAsync(() =>
    {
        if (!IsRunning) return;
        Sources.RequestMorePeers();
        Log(PluginLogLevel.Information, "reannounce asked");
    });

    // ------------------------------------------------------------------ peer limit

    /// <summary>The torrent's own peer limit, or null when it follows the session's per-torrent limit.</summary>
    public int? MaxConnections => _maxConnections;

    /// <summary>The peer limit in force.</summary>
    internal int MaxConnectionsLimit => _maxConnections ?? _host.Config.MaxConnectionsPerTorrent;

    /// <summary>
    /// Sets the torrent's peer limit (null: follow the session's per-torrent limit), applied at once: connections above
    /// it are closed, the least useful first. Saved with the resume data.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is below 1.</exception>
    public Task SetMaxConnectionsAsync(int? max)
    {
        if (max is { } m) ValidateMaxConnections(m);
        return _host.Loop.InvokeAsync(() =>
        {
            if (_maxConnections == max) return;
            _maxConnections = max;
            TrimConnections();
            SettingsChanged();
        });
    }

    private static void ValidateMaxConnections(int max) =>
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1, "maxConnections");

    /// <summary>Closes connections above the peer limit in force (on the loop).</summary>
    internal void TrimConnections()
    {
        var open = ConnectionTrimmer.WorstFirst(_peers);
        for (int i = 0; i < open.Count - MaxConnectionsLimit; i++) Disconnect(open[i], "peer limit lowered");
    }

    /// <summary>Open connections, least useful first (on the loop).</summary>
    internal List<Peer> PeersWorstFirst() => ConnectionTrimmer.WorstFirst(_peers);

    // ------------------------------------------------------------------ seed ratio

    /// <summary>Which seed ratio limit the torrent follows.</summary>
    public SeedRatioMode SeedRatioMode => _seedLimit.Mode;

    /// <summary>The torrent's own seed ratio limit (used in <see cref="SeedRatioMode.Custom"/>), or null.</summary>
    public double? SeedRatioLimit => _seedLimit.Limit;

    /// <summary>
    /// Sets the seed ratio mode and, when <paramref name="limit"/> is given, the torrent's own limit (kept otherwise).
    /// Applied at the next tick: a seeding torrent at or above its new limit stops. Saved with the resume data.
    /// </summary>
    /// <exception cref="ArgumentException">The limit is negative or not finite, the mode unknown, or Custom has no limit.</exception>
    public Task SetSeedRatioAsync(SeedRatioMode mode, double? limit)
    {
        SeedingLimit.Validate(mode, limit);
        return _host.Loop.InvokeAsync(() =>
        {
            if (mode == _seedLimit.Mode && (limit is null || limit == _seedLimit.Limit)) return;
            _seedLimit.Set(mode, limit);
            SettingsChanged();
        });
    }

    /// <summary>The session's limit changed: look at this torrent's ratio again at the next tick.</summary>
    internal void InvalidateSeedLimit()
    {
        Changed(); // IsFinished may change with it
        RecheckSeedLimit();
    }

    /// <summary>Something may have moved the ratio or the limit: the next tick looks at it (the torrent is ticked once).</summary>
    private void RecheckSeedLimit()
    {
        _seedLimit.Invalidate();
        _host.Activate(this);
    }

    /// <summary>Bytes of the wanted files (what the ratio is measured against).</summary>
    internal long WantedSize()
    {
        if (_metainfo is not { } meta) return Magnet?.ExactLength ?? 0;
        long size = 0;
        for (int i = 0; i < meta.Files.Count; i++)
            if (!meta.Files[i].IsPadding && FilePriorities[i] != Priority.Skip) size += meta.Files[i].Length;
        return size;
    }

    /// <summary>
    /// Stopped (by hand or by its limit), complete, and at its seed ratio limit: Transmission's <c>isFinished</c>.
    /// </summary>
    internal bool IsFinishedWith(long wantedSize) =>
        State == TorrentState.Stopped && UserPaused && IsComplete
        && (_stoppedByTimeRule || SeedingLimit.Reached(UploadedTotal, wantedSize, _seedLimit.Effective(SessionRatioLimit)));

    /// <summary>
    /// Stopped by its idle or seeding time limit in this run: finished too, as Transmission's <c>finishedSeedingByIdle</c>
    /// (Sonarr and Radarr remove a download once it is stopped and finished). Cleared when it starts again.
    /// </summary>
    private bool _stoppedByTimeRule;

    /// <summary>
    /// The user starts a finished torrent: as Transmission does ("Restarted manually -- disabling its seed ratio"),
    /// its limit is switched off so it seeds until the user sets one again; otherwise it would stop at once. Called
    /// by <see cref="StartAsync"/> before it clears <see cref="UserPaused"/>; a restore that starts a torrent is not by
    /// hand, so its limit stays and stops it at the next tick.
    /// </summary>
    private void OnStartByHand()
    {
        var now = _host.Time.GetUtcNow();
        _stoppedByTimeRule = false;
        if (IsFinishedWith(WantedSize()))
        {
            _seedLimit.Set(SeedRatioMode.Unlimited, null);
            Changed();
            Log(PluginLogLevel.Information, "started by hand after reaching its seed ratio limit: seeding without a limit now");
            _host.RequestResumeSave(this);
        }
        // The same for the seeding time limit, which would stop it again at once (the idle limit counts from the start).
        if (IsComplete && SeedingTimeLimitInForce() is { } time && Activity.SeedingTotal(now) >= TimeSpan.FromMinutes(time))
        {
            SeedingTimeMode = SeedRatioMode.Unlimited;
            Changed();
            Log(PluginLogLevel.Information, "started by hand after reaching its seeding time limit: seeding without a time limit now");
            _host.RequestResumeSave(this);
        }
    }

    // ------------------------------------------------------------------ seeding rules (docs/SEEDING-RULES.md)

    /// <summary>Which idle limit the torrent follows (Transmission's seedIdleMode).</summary>
    public SeedRatioMode SeedIdleMode { get; private set; } = SeedRatioMode.Global;

    /// <summary>The torrent's own idle limit in minutes (used in <see cref="SeedRatioMode.Custom"/>), or null.</summary>
    public int? SeedIdleLimit { get; private set; }

    /// <summary>Which seeding time limit the torrent follows.</summary>
    public SeedRatioMode SeedingTimeMode { get; private set; } = SeedRatioMode.Global;

    /// <summary>The torrent's own seeding time limit in minutes (used in <see cref="SeedRatioMode.Custom"/>), or null.</summary>
    public int? SeedingTimeLimit { get; private set; }

    /// <summary>The torrent's own minimum seeding time in minutes, or null to follow the session's.</summary>
    public int? MinSeedingTime { get; private set; }

    /// <summary>Sets the idle limit's mode and, when given, the torrent's own limit (kept otherwise). Applied at the next tick; saved.</summary>
    /// <exception cref="ArgumentException">Unknown mode, limit outside 1..<see cref="SeedingRules.MaxMinutes"/>, or Custom without one.</exception>
    public Task SetSeedIdleAsync(SeedRatioMode mode, int? minutes)
    {
        SeedingRules.ValidateTorrentLimit(mode, minutes ?? 1, nameof(minutes)); // Custom without any limit: checked on the loop
        return _host.Loop.InvokeAsync(() =>
        {
            var limit = minutes ?? SeedIdleLimit;
            if (mode == SeedRatioMode.Custom && limit is null) throw new ArgumentException("A custom limit mode needs a limit.", nameof(minutes));
            if (mode == SeedIdleMode && limit == SeedIdleLimit) return;
            (SeedIdleMode, SeedIdleLimit) = (mode, limit);
            SettingsChanged(); // looks at the limits again at the next tick
        });
    }

    /// <summary>Sets the seeding time limit's mode and, when given, the torrent's own limit. Applied at the next tick; saved.</summary>
    /// <exception cref="ArgumentException">Unknown mode, limit outside 1..<see cref="SeedingRules.MaxMinutes"/>, or Custom without one.</exception>
    public Task SetSeedingTimeLimitAsync(SeedRatioMode mode, int? minutes)
    {
        SeedingRules.ValidateTorrentLimit(mode, minutes ?? 1, nameof(minutes)); // Custom without any limit: checked on the loop
        return _host.Loop.InvokeAsync(() =>
        {
            var limit = minutes ?? SeedingTimeLimit;
            if (mode == SeedRatioMode.Custom && limit is null) throw new ArgumentException("A custom limit mode needs a limit.", nameof(minutes));
            if (mode == SeedingTimeMode && limit == SeedingTimeLimit) return;
            (SeedingTimeMode, SeedingTimeLimit) = (mode, limit);
            SettingsChanged(); // looks at the limits again at the next tick
        });
    }

    /// <summary>Sets the torrent's own minimum seeding time in minutes (null: the session's). Applied at the next tick; saved.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside 0..<see cref="SeedingRules.MaxMinutes"/>.</exception>
    public Task SetMinSeedingTimeAsync(int? minutes)
    {
        if (minutes is { } m) SeedingRules.ValidateMinimum(m, nameof(minutes));
        return _host.Loop.InvokeAsync(() =>
        {
            if (minutes == MinSeedingTime) return;
            MinSeedingTime = minutes;
            SettingsChanged(); // looks at the limits again at the next tick
        });
    }

    private int? SeedingTimeLimitInForce() =>
        SeedingRules.Effective(SeedingTimeMode, SeedingTimeLimit, _categoryLimits?.SeedingTimeLimit ?? _host.Config.SeedingRules.SeedingTimeLimitMinutes);

    /// <summary>
    /// At a tick of a seeding torrent: the ratio, seeding time and idle limits, held back until it seeded its minimum
    /// time; the first one reached acts (<see cref="SeedingRules.Action"/>). A torrent with a time limit and no peers is
    /// not ticked, so it is woken for the moment its next limit (or its minimum) comes.
    /// </summary>
    private void CheckSeedingRules(DateTimeOffset now)
    {
        if (State != TorrentState.Seeding) return;
        var rules = _host.Config.SeedingRules;
        bool ratioDue = _seedLimit.CheckDue(UploadedTotal);
        var idle = SeedingRules.Effective(SeedIdleMode, SeedIdleLimit, SessionIdleLimit);
        var time = SeedingTimeLimitInForce();
        if (!ratioDue && idle is null && time is null) return; // ten thousand seeds without time limits cost this

        var seeded = Activity.SeedingTotal(now);
        string? reached = null, detail = null;
        var ratio = _seedLimit.Effective(SessionRatioLimit);
        DateTimeOffset? next = null;
        if (ratioDue && SeedingLimit.Reached(UploadedTotal, WantedSize(), ratio))
            (reached, detail) = (SeedingLimit.ReachedNote, $"{ratio:0.###}");
        if (reached is null && time is { } t)
        {
            var limit = TimeSpan.FromMinutes(t);
            if (seeded >= limit) (reached, detail) = (SeedingTimeReachedNote, $"{t} min");
            else next = now + (limit - seeded);
        }
        if (reached is null && idle is { } i)
        {
            var since = IdleSince(now);
            var at = since + TimeSpan.FromMinutes(i);
            if (now >= at) (reached, detail) = (SeedIdleReachedNote, $"{i} min");
            else if (next is null || at < next) next = at;
        }
        var minimum = TimeSpan.FromMinutes(MinSeedingTime ?? rules.MinSeedingTimeMinutes);
        if (reached is not null && seeded < minimum)
        {
            // Held back: look again (the ratio too) when the minimum is over.
            _seedLimit.Invalidate();
            _host.WakeAt(this, now + (minimum - seeded));
            return;
        }
        if (reached is null)
        {
            if (next is { } n) _host.WakeAt(this, n);
            return;
        }
        _host.OnSeedingDone(this);
        UserPaused = true; // the queue leaves it alone, as a torrent paused by hand
        _stoppedByTimeRule = reached != SeedingLimit.ReachedNote;
        var action = rules.Action;
        Log(PluginLogLevel.Information, action switch
        {
            SeedingLimitAction.Remove => $"{reached} ({detail}); removing the torrent, keeping its data",
            SeedingLimitAction.RemoveWithData => $"{reached} ({detail}); removing the torrent and deleting its data",
            _ => $"{reached} ({detail}); stopping",
        });
        _ = StopOnLoopAsync(TorrentState.Stopped, reached);
        if (action != SeedingLimitAction.Stop) _host.RemoveBySeedingRule(this, action == SeedingLimitAction.RemoveWithData);
    }

    /// <summary>The note a torrent stopped by its seeding time limit shows.</summary>
    public const string SeedingTimeReachedNote = "seeding time limit reached";

    /// <summary>The note a torrent stopped by its idle limit shows.</summary>
    public const string SeedIdleReachedNote = "seed idle limit reached";

    /// <summary>Since when the torrent moved no payload: its last transfer, or the start of this run if later (Transmission's activityDate).</summary>
    private DateTimeOffset IdleSince(DateTimeOffset now)
    {
        var since = Activity.StartedAt ?? now;
        return Activity.ActivityAt is { } a && a > since ? a : since;
    }

    // ------------------------------------------------------------------ queue

    /// <summary>
    /// The torrent's place in the session's queue, 0 at the front (see <see cref="ClientEngine.MoveInQueueAsync"/>).
    /// Shown and saved; with queue limits the front ones run first (docs/QUEUE.md).
    /// </summary>
    public int QueuePosition
    {
        get => _queuePosition;
        internal set { _queuePosition = value; Changed(); }
    }

    private int _queuePosition;

    // ------------------------------------------------------------------ glue

    /// <summary>Payload downloaded in this run.</summary>
    internal long DownloadedThisRun => _download.Total;

    /// <summary>Payload uploaded in this run.</summary>
    internal long UploadedThisRun => _upload.Total;

    /// <summary>The torrent reported a change (on the loop): periods follow the state (the State setter does it too).</summary>
    internal void ObserveState()
    {
        if (Activity.Observe(State, Now)) RecheckSeedLimit();
    }

    /// <summary>A setting changed: tell listeners and save it.</summary>
    private void SettingsChanged()
    {
        RecheckSeedLimit();
        _host.OnTorrentChanged(this);
        _host.RequestResumeSave(this);
    }
}
