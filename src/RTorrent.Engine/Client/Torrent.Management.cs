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

    /// <summary>Times the snapshot shows (on the loop).</summary>
    internal TorrentActivity Activity { get; } = new();

    /// <summary>Takes the options' labels, trackers and limits (from the constructor).</summary>
    /// <exception cref="ArgumentException">An option is not valid.</exception>
    private void InitManagement(TorrentOptions options, TorrentMetainfo? metainfo, MagnetLink? magnet)
    {
        _labels = TorrentLabels.Normalize(options.Labels);
        if (options.Trackers is { } edited)
        {
            _trackers = TrackerList.Normalize(edited);
            TrackersEdited = true;
        }
        else _trackers = metainfo?.AnnounceTiers ?? magnet?.Trackers ?? TrackerList.None;
        if (options.MaxConnections is { } max) ValidateMaxConnections(max);
        _maxConnections = options.MaxConnections;
        _seedLimit = new SeedingLimit(options.SeedRatioMode, options.SeedRatioLimit);
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
        && SeedingLimit.Reached(UploadedTotal, wantedSize, _seedLimit.Effective(_host.Config.SeedRatioLimit));

    /// <summary>
    /// The user starts a finished torrent: as Transmission does ("Restarted manually -- disabling its seed ratio"),
    /// its limit is switched off so it seeds until the user sets one again; otherwise it would stop at once. Called
    /// by <see cref="StartAsync"/> before it clears <see cref="UserPaused"/>; a restore that starts a torrent is not by
    /// hand, so its limit stays and stops it at the next tick.
    /// </summary>
    private void OnStartByHand()
    {
        if (!IsFinishedWith(WantedSize())) return;
        _seedLimit.Set(SeedRatioMode.Unlimited, null);
        Changed();
        Log(PluginLogLevel.Information, "started by hand after reaching its seed ratio limit: seeding without a limit now");
        _host.RequestResumeSave(this);
    }

    private void CheckSeedRatio()
    {
        if (State != TorrentState.Seeding || !_seedLimit.CheckDue(UploadedTotal)) return;
        var limit = _seedLimit.Effective(_host.Config.SeedRatioLimit);
        if (!SeedingLimit.Reached(UploadedTotal, WantedSize(), limit)) return;
        UserPaused = true;
        Log(PluginLogLevel.Information, $"{SeedingLimit.ReachedNote} ({limit:0.###}); stopping");
        _ = StopOnLoopAsync(TorrentState.Stopped, SeedingLimit.ReachedNote);
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
