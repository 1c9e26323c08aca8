using System.Net;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Client;

/// <summary>
/// One torrent. Its state lives on the engine loop; the public methods may be called from any thread and complete
/// once the loop has done the work.
/// </summary>
public sealed partial class Torrent
{
    private readonly ITorrentHost _host;
    private readonly List<Peer> _peers = [];
    private readonly PeerPool _pool;
    private readonly List<LogEntry> _log = [];
    private readonly RateMeter _download;
    private readonly RateMeter _upload;
    private PieceManager _pieces;
    private IPiecePicker _picker;
    private TorrentData? _data;
    private CancellationTokenSource _runCts = new();
    private ResumeSaveSchedule _resumeSaves = new();

    /// <summary>The snapshot's lists, wrapped once per change of the torrent's own lists (not once per snapshot).</summary>
    internal SnapshotListCache SnapshotLists { get; } = new();
    private int _checkedPieces;

    internal Torrent(ITorrentHost host, InfoHash infoHash, TorrentMetainfo? metainfo, MagnetLink? magnet, TorrentOptions options)
    {
        _host = host;
        _options = options;
        InitManagement(options, metainfo, magnet);
        InfoHash = infoHash;
        Magnet = magnet;
        _pieces = new PieceManager(0, 1, 0);
        _picker = new RarestFirstPicker();
        _download = new RateMeter(host.Time);
        _upload = new RateMeter(host.Time);
        // A family the session does not use is refused before the blocklist, so it is not counted as blocked.
        _pool = new PeerPool(host.IsSelf, a => !host.AllowsAddress(a) || host.Blocklist.Refuse(a));
        FilePriorities = [];
        AddedAt = host.Time.GetUtcNow();
        DownloadLimit = options.DownloadLimit;
        UploadLimit = options.UploadLimit;
        Sequential = options.Sequential;
        foreach (var ep in options.Peers) _pool.Add(ep, "manual");
        if (magnet is not null) foreach (var ep in magnet.Peers) _pool.Add(ep, "magnet");
        if (metainfo is not null) SetMetainfo(metainfo);
        Sources = new TorrentPeerSources(this);
        Extensions = new ExtensionProtocol(this, _pool);
        MetadataExchange = new MetadataExchange(this);
    }

    /// <summary>
    /// Takes the torrent's metainfo (at once for a .torrent, later for a magnet link): piece bookkeeping, file
    /// priorities, storage and picker are set up here.
    /// </summary>
    internal void SetMetainfo(TorrentMetainfo metainfo, string? unavailable = null)
    {
        _metainfo = metainfo;
        Unavailable = unavailable;
        Changed();
        if (unavailable is null)
        {
            Storage = _host.CreateStorage(this, metainfo);
            _picker = _host.CreatePickerByName(this, metainfo, Options.Picker)
                ?? throw new InvalidOperationException($"No piece picker named '{Options.Picker}' is available.");
            WatchGuards();
        }
        _data = null;
        ResetWebSeeds();
        _pieces = new PieceManager(metainfo.PieceCount, metainfo.PieceLength, metainfo.TotalLength);
        FilePriorities = FilePriorityMap.Initial(metainfo, Options.FilePriorities, Magnet?.SelectedFiles);
        _pieces.SetPriorities(FilePriorityMap.ForPieces(metainfo, FilePriorities));
    }

    /// <summary>The 20-byte hash used on the wire.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>The parsed .torrent; null while a magnet link's metadata is being fetched.</summary>
    public TorrentMetainfo? Metainfo => _metainfo;

    /// <summary>Why the torrent cannot run (its saved storage or picker plugin is missing), or null.</summary>
    internal string? Unavailable { get; private set; }

    private HashSet<object>? _watched; // plugin components watched (only plugins need it)

    /// <summary>Plugin components report when they are disabled for this torrent; the user sees it in its log.</summary>
    private void WatchGuards()
    {
        if (_picker is Plugins.GuardedPiecePicker gp && (_watched ??= []).Add(gp))
        {
            if (gp.IsDisabled && gp.Fault is { } f0) Log(PluginLogLevel.Error, $"picker disabled: {f0.Reason}; using rarest-first");
            gp.Disabled += (_, f) => _host.Loop.Post(() => Log(PluginLogLevel.Error, $"picker disabled: {f.Reason}; using rarest-first"));
        }
        if (Storage is Plugins.GuardedStorage gs && (_watched ??= []).Add(gs))
            gs.Faulted += (_, f) => _host.Loop.Post(() => Fail($"storage '{f.ComponentName}' failed: {f.Reason}"));
    }

    /// <summary>The magnet link the torrent was added from, if any.</summary>
    public MagnetLink? Magnet { get; }

    /// <summary>The torrent's name: from the metainfo (as the user renamed it), else the magnet's 'dn', else the info-hash.</summary>
    public string Name => (_metainfo is { } m ? FileRenames.DisplayName(m, Options.RenamedFiles) : null) ?? Magnet?.Name ?? InfoHash.ToHex();

    /// <summary>The metainfo, for code that only runs once it is known.</summary>
    internal TorrentMetainfo Meta => _metainfo ?? throw new InvalidOperationException("The torrent's metadata is not known yet.");

    private TorrentMetainfo? _metainfo;

    /// <summary>How it was added (with the user's later changes: folder, renamed files, picker).</summary>
    public TorrentOptions Options
    {
        get => _options;
        private set { _options = value; Changed(); }
    }

    private TorrentOptions _options;

    /// <summary>The download folder.</summary>
    public string SavePath => Options.SavePath;

    /// <summary>Where the data lives (null until the metadata is known).</summary>
    public ITorrentStorage? Storage { get; private set; }

    /// <summary>Current state.</summary>
    public TorrentState State
    {
        get => _state;
        private set
        {
            if (_state == value) return;
            _state = value;
            Changed();
            // Periods open and close exactly when the state changes; the seed limit is looked at the next tick.
            if (Activity.Observe(value, Now)) RecheckSeedLimit();
            UpdateSuperSeeding();
            UpdateWebSeeds();
        }
    }

    private TorrentState _state = TorrentState.Stopped;

    /// <summary>The error that stopped the torrent, if any.</summary>
    public string? Error
    {
        get => _error;
        private set
        {
            _error = value;
            Changed();
        }
    }

    private string? _error;

    /// <summary>Priority of each file.</summary>
    internal Priority[] FilePriorities { get; private set; }

    /// <summary>When the torrent was added.</summary>
    public DateTimeOffset AddedAt
    {
        get => _addedAt;
        internal set { _addedAt = value; Changed(); }
    }

    private DateTimeOffset _addedAt;

    /// <summary>When the download completed.</summary>
    public DateTimeOffset? CompletedAt
    {
        get => _completedAt;
        internal set { _completedAt = value; Changed(); }
    }

    private DateTimeOffset? _completedAt;

    /// <summary>Payload downloaded in earlier sessions (from resume data).</summary>
    internal long DownloadedBefore
    {
        get => _downloadedBefore;
        set { _downloadedBefore = value; TotalsChanged(); }
    }

    private long _downloadedBefore;

    /// <summary>Payload uploaded in earlier sessions (from resume data).</summary>
    internal long UploadedBefore
    {
        get => _uploadedBefore;
        set { _uploadedBefore = value; TotalsChanged(); }
    }

    private long _uploadedBefore;

    /// <summary>Per-torrent download limit, bytes/s.</summary>
    public long DownloadLimit
    {
        get => _downloadLimit;
        internal set { _downloadLimit = value; Changed(); }
    }

    private long _downloadLimit;

    /// <summary>Per-torrent upload limit, bytes/s.</summary>
    public long UploadLimit
    {
        get => _uploadLimit;
        internal set { _uploadLimit = value; Changed(); }
    }

    private long _uploadLimit;

    /// <summary>This torrent's download limiter (child of the session's); made when a peer or a limit first needs it.</summary>
    internal RateLimiting.RateLimiter DownloadLimiter => _downloadLimiter ??= _host.CreateLimiter(true, DownloadLimit);

    /// <summary>This torrent's upload limiter (child of the session's); made when a peer or a limit first needs it.</summary>
    internal RateLimiting.RateLimiter UploadLimiter => _uploadLimiter ??= _host.CreateLimiter(false, UploadLimit);

    private RateLimiting.RateLimiter? _downloadLimiter;
    private RateLimiting.RateLimiter? _uploadLimiter;

    /// <summary>
    /// What a connection awaits per read or write: nothing while this torrent's limiter and the session's are both
    /// unlimited (the usual case costs no wait at all), else the limiter's turn.
    /// </summary>
    private static Func<int, CancellationToken, ValueTask> Throttle(RateLimiting.RateLimiter limiter) =>
        (bytes, ct) => limiter.IsUnlimited && (limiter.Parent?.IsUnlimited ?? true) ? ValueTask.CompletedTask : limiter.WaitAsync(bytes, ct);

    /// <summary>Sequential download.</summary>
    public bool Sequential
    {
        get => _sequential;
        internal set { _sequential = value; Changed(); }
    }

    private bool _sequential;

    /// <summary>Bytes thrown away.</summary>
    public long Wasted
    {
        get => _wasted;
        private set { _wasted = value; Changed(); }
    }

    private long _wasted;

    /// <summary>Pieces that failed the hash check.</summary>
    public int HashFailures
    {
        get => _hashFailures;
        private set { _hashFailures = value; Changed(); }
    }

    private int _hashFailures;

    /// <summary>Whether every wanted piece is verified.</summary>
    public bool IsComplete => _metainfo is not null && _pieces.IsComplete;

    /// <summary>
    /// BEP 21: what our extended handshake says. We want nothing more of the torrent (a seed, or a partial seed done
    /// with the files it wants), unless super-seeding, which shows us as a peer that has nothing (libtorrent does the
    /// same).
    /// </summary>
    internal bool IsUploadOnly => IsComplete && !SuperSeedingActive;

    /// <summary>The verified pieces (a copy, safe to keep).</summary>
    internal Bitfield HaveSnapshot() => new(_pieces.HaveField);

    /// <summary>The swarm's piece state (on the loop), for readers such as <see cref="PieceAvailability"/>.</summary>
    internal PieceManager PieceManager => _pieces;

    /// <summary>Peers known (connected or not).</summary>
    internal int KnownPeerCount => _pool.Count;

    /// <summary>Payload rates now, bytes/s.</summary>
    internal long DownloadRate => _download.Rate;

    internal long UploadRate => _upload.Rate;

    /// <summary>Pieces hashed so far by the check running now.</summary>
    internal int CheckedPieces => _checkedPieces;

    /// <summary>The torrent's log, oldest first (a copy).</summary>
    internal LogEntry[] LogEntries => [.. _log];

    internal IReadOnlyList<IPeerSource> PeerSources => Sources.All;

    internal TorrentData Data => _data ??= new TorrentData(Meta, Storage!);

    internal long DownloadedTotal => DownloadedBefore + _download.Total;
    internal long UploadedTotal => UploadedBefore + _upload.Total;

    internal void AddSource(IPeerSource source) => Sources.Add(source);

    /// <summary>Bytes still needed of the wanted files.</summary>
    internal long BytesLeft() => _metainfo is null ? (Magnet?.ExactLength ?? 0) : _pieces.BytesLeft();

    internal PeerSink CreateSink() => new(this);

    /// <summary>The engine's clock now.</summary>
    internal DateTimeOffset Now => _host.Time.GetUtcNow();

    /// <summary>The BEP 9 metadata exchange (serving, and fetching for magnet links).</summary>
    internal MetadataExchange MetadataExchange { get; }

    /// <summary>
    /// The info dictionary arrived and matched the info-hash: become a normal torrent without dropping peers, persist
    /// the .torrent, check for data already on disk, and download.
    /// </summary>
    internal async Task OnMetadataFetchedAsync(byte[] infoBytes)
    {
        _host.Loop.AssertOnLoop();
        TorrentMetainfo meta;
        try
        {
            meta = TorrentMetainfo.FromInfoDictionary(infoBytes, Magnet?.Trackers ?? []);
        }
        catch (TorrentFormatException e)
        {
            Fail($"the metadata is not a valid torrent: {e.Message}");
            return;
        }
        try
        {
            SetMetainfo(meta);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            Fail(e.Message);
            return;
        }
        Log(PluginLogLevel.Information, $"metadata received: {meta.Name}, {meta.Files.Count} files, {meta.TotalSize} bytes");
        try { await _host.OnMetadataReceivedAsync(this); }
        catch (Exception e) { Log(PluginLogLevel.Warning, $"saving the .torrent failed: {e.Message}"); }
        _availability?.RebindAfterMetadata();
        // Data may already be there (the same files downloaded before): check quietly without dropping peers.
        bool anyData = false;
        for (int i = 0; i < meta.Files.Count; i++)
        {
            if (meta.Files[i].IsPadding) continue;
            var st = await Storage!.ProbeAsync(i, _runCts.Token);
            if (st.Exists && st.Length > 0) anyData = true;
        }
        if (anyData) await CheckOnLoopAsync(full: true);
        try { await PrepareFilesAsync(_runCts.Token); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(e.Message);
            return;
        }
        State = IsComplete ? TorrentState.Seeding : TorrentState.Downloading;
        Log(PluginLogLevel.Information, State == TorrentState.Seeding ? "seeding" : "downloading");
        _host.OnTorrentChanged(this);
        foreach (var p in _peers.ToArray())
        {
            Availability.UpdateInterest(p);
            if (!p.Connection.IsClosed && (!p.AmChoking || p.PeerInterested)) Uploads.Serve(p);
        }
        Extensions.BroadcastUploadOnly(_peers);
        ConnectMore(Now);
    }

    /// <summary>Once a second while running (extensions use it for their timers).</summary>
    internal event Action<DateTimeOffset>? Ticked;

    // ------------------------------------------------------------------ log

    internal void Log(PluginLogLevel level, string message)
    {
        _log.Add(new LogEntry(Now, level, message));
        if (_log.Count > 500) _log.RemoveRange(0, _log.Count - 500);
        var lvl = level switch
        {
            PluginLogLevel.Debug => LogLevel.Debug,
            PluginLogLevel.Information => LogLevel.Information,
            PluginLogLevel.Warning => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        _host.Logger.Log(lvl, "[{Name}] {Message}", Name, message);
    }

    // ------------------------------------------------------------------ lifecycle (loop)

    /// <summary>
    /// Starts (or resumes) the torrent through the queue (Transmission's <c>torrent-start</c>): it runs when the
    /// queue's limits leave it a slot, else it waits, <see cref="TorrentState.Queued"/>. A forced torrent goes back
    /// to being queued like the others.
    /// </summary>
    public Task StartAsync() => _host.Loop.RunAsync(() =>
    {
        OnStartByHand();
        UserPaused = false;
        SetForced(false);
        return StartOnLoopAsync();
    });

    /// <summary>
    /// Starts the torrent at once, beside the queue (Transmission's <c>torrent-start-now</c>, qBittorrent's forced
    /// start): it is never queued while it runs (it still counts against the limits). Kept across restarts.
    /// </summary>
    public Task StartNowAsync() => _host.Loop.RunAsync(() =>
    {
        OnStartByHand();
        UserPaused = false;
        SetForced(true);
        return StartOnLoopAsync();
    });

    /// <summary>Stops the torrent: disconnects, tells trackers, saves resume data. It stays stopped across restarts.</summary>
    public Task StopAsync() => _host.Loop.RunAsync(() =>
    {
        UserPaused = true;
        SetForced(false);
        return StopOnLoopAsync(TorrentState.Stopped, null);
    });

    /// <summary>Started with <see cref="StartNowAsync"/>: runs beside the queue (kept in resume data).</summary>
    public bool Forced
    {
        get => _forced;
        internal set { if (_forced == value) return; _forced = value; Changed(); }
    }

    private bool _forced;

    private void SetForced(bool forced)
    {
        if (Forced == forced) return;
        Forced = forced;
        _host.RequestResumeSave(this);
        _host.RequestQueueEvaluation();
    }

    /// <summary>Running, and moved no payload for the queue's stalled time: it does not count against the limits.</summary>
    internal bool QueueStalled
    {
        get => _queueStalled;
        set { if (_queueStalled == value) return; _queueStalled = value; Changed(); }
    }

    private bool _queueStalled;

    /// <summary>Stopped by the user (kept in resume data, so a restart leaves it stopped).</summary>
    internal bool UserPaused
    {
        get => _userPaused;
        set { _userPaused = value; Changed(); }
    }

    private bool _userPaused;

    /// <summary>Hashes all data again, then carries on in the state it was in.</summary>
    public Task RecheckAsync() => _host.Loop.RunAsync(async () =>
    {
        bool wasRunning = State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Queued; // queued: back to the queue
        await StopOnLoopAsync(TorrentState.Stopped, null);
        await CheckOnLoopAsync(full: true);
        if (wasRunning) await StartOnLoopAsync();
    });

    /// <param name="byQueue">The queue gave it a slot (else a torrent that is not forced asks the queue first).</param>
    internal async Task StartOnLoopAsync(bool byQueue = false)
    {
        _host.Loop.AssertOnLoop();
        if (State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Checking or TorrentState.FetchingMetadata) return;
        if (!byQueue && !Forced && !_host.MayStart(this))
        {
            // Waits for a slot; the queue starts it (ClientEngine.Queue.cs). Not an error, and not paused.
            Error = null;
            if (State != TorrentState.Queued)
            {
                State = TorrentState.Queued;
                Log(PluginLogLevel.Information, "queued");
                _host.OnTorrentChanged(this);
            }
            return;
        }
        Error = null;
        _runCts = new CancellationTokenSource();
        if (_metainfo is null)
        {
            // A magnet link: find peers and fetch the info dictionary from them first (BEP 9).
            State = TorrentState.FetchingMetadata;
            Log(PluginLogLevel.Information, "fetching metadata from peers");
            _host.OnTorrentChanged(this);
            Sources.StartAll();
            ConnectMore(Now);
            return;
        }
        if (Storage is null)
        {
            Fail(Unavailable ?? "no storage");
            return;
        }
        try
        {
            await PrepareFilesAsync(_runCts.Token);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(e.Message);
            return;
        }
        State = IsComplete ? TorrentState.Seeding : TorrentState.Downloading;
        Log(PluginLogLevel.Information, State == TorrentState.Seeding ? "seeding" : "downloading");
        _host.OnTorrentChanged(this);
        Sources.StartAll();
        _resumeSaves.Saved(Now, (DownloadedTotal, UploadedTotal));
        ConnectMore(Now);
    }

    /// <summary>Creates empty files and, when asked, preallocates; never truncates existing data.</summary>
    private async Task PrepareFilesAsync(CancellationToken ct)
    {
        for (int i = 0; i < Meta.Files.Count; i++)
        {
            var f = Meta.Files[i];
            if (f.IsPadding || f.IsSymlink || FilePriorities[i] == Priority.Skip) continue;
            if (f.Length == 0 || _host.Config.Preallocate)
                await Storage!.PrepareAsync(i, _host.Config.Preallocate, ct);
        }
        await ApplyFileAttributesAsync(links: true, ct);
    }

    /// <param name="newState">Stopped, Error, or Queued (the queue took its slot back).</param>
    /// <param name="error">Why, for an error.</param>
    /// <param name="closing">The session is closing: the stop is not the torrent's (its seeding time goes on at the next start).</param>
    internal async Task StopOnLoopAsync(TorrentState newState, string? error, bool closing = false)
    {
        _host.Loop.AssertOnLoop();
        if (closing) Activity.Freeze();
        var previous = State;
        State = newState;
        Error = error;
        _runCts.Cancel();
        foreach (var p in _peers.ToArray()) p.Connection.Close(error is null ? "torrent stopped" : "torrent error");
        _pieces.Reset();
        _uploads?.DropCache();
        if (previous is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata)
            await Sources.StopAllAsync();
        // A queued torrent stopped by the user is saved too: its resume data must say paused, no longer queued (not when
        // the session closes: it is still queued then, as its resume data already says).
        bool wasQueued = previous == TorrentState.Queued && !closing;
        if ((previous is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Checking || wasQueued) && Storage is not null)
        {
            try
            {
                await _host.SaveResumeAsync(this);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
            {
                Log(PluginLogLevel.Warning, $"saving resume data failed: {e.Message}");
            }
        }
        _host.OnTorrentChanged(this);
    }

    /// <summary>The last wanted piece verified: seed, tell the sources once, and save at once.</summary>
    private void OnDownloadComplete()
    {
        if (State != TorrentState.Downloading) return;
        State = TorrentState.Seeding;
        CompletedAt ??= Now;
        ApplyModesAfterCompletion();
        Log(PluginLogLevel.Information, "download complete; seeding");
        _availability?.OnComplete();
        _pieces.Reset();
        Sources.Completed();
        Extensions.BroadcastUploadOnly(_peers);
        _ = SaveResumeAfterFlushAsync();
        _host.OnTorrentChanged(this);
        _host.OnDownloadCompleted(this);
    }

    /// <summary>Leaves the torrent stopped with a note saying why (shown in place of an error).</summary>
    internal void SetStoppedWithReason(string reason)
    {
        State = TorrentState.Stopped;
        Error = reason;
        UserPaused = true;
        Log(PluginLogLevel.Warning, reason);
    }

    /// <summary>Puts the torrent into the error state with a reason; the rest of the session keeps running.</summary>
    internal void Fail(string reason)
    {
        if (State == TorrentState.Error) return;
        Log(PluginLogLevel.Error, reason);
        _ = StopOnLoopAsync(TorrentState.Error, reason);
    }

    // ------------------------------------------------------------------ checking

    /// <summary>
    /// Hashes the data on disk: every piece (full) or only the pieces not already trusted. Pieces whose files are
    /// missing or short are failed without reading. The torrent waits in <see cref="TorrentState.Checking"/> for its
    /// turn in the engine's check queue (a few torrents at a time, so ten thousand added at once are not all read at
    /// once); its pieces are then hashed on all cores; the loop only sees the result.
    /// </summary>
    /// <param name="full">Hash every piece, trusting none.</param>
    /// <param name="trusted">Pieces taken as verified without hashing (when not <paramref name="full"/>).</param>
    /// <param name="absent">Pieces known not to be on disk (they lie in holes of sparse files): not read, not verified.</param>
    internal async Task CheckOnLoopAsync(bool full, Bitfield? trusted = null, Bitfield? absent = null)
    {
        _host.Loop.AssertOnLoop();
        State = TorrentState.Checking;
        CheckPending = true;
        _checkedPieces = 0;
        _host.OnTorrentChanged(this);
        var ct = _runCts.IsCancellationRequested ? (_runCts = new CancellationTokenSource()).Token : _runCts.Token;
        var meta = Meta;
        var result = new Bitfield(meta.PieceCount);
        if (!full && trusted is not null)
            for (int p = trusted.NextSet(0); p >= 0; p = trusted.NextSet(p + 1)) result.Set(p);
        try
        {
            using var turn = await _host.EnterCheckAsync(ct);
            var io = new PieceIO(Storage!, new FileLayout(FileRenames.StorageFiles(meta, Options.RenamedFiles), meta.PieceLength, meta.PieceCount));
            var options = new RecheckOptions
            {
                Pieces = (full || trusted is null) && absent is null ? null
                    : [.. Enumerable.Range(0, meta.PieceCount).Where(p => (full || trusted is null || !trusted[p]) && (absent is null || !absent[p]))],
                V2 = meta.V2,
            };
            // Off the loop from the start: probing thousands of files must not hold it.
            var found = await Task.Run(() => PieceRecheck.RunAsync(io, meta.PieceHashes, options, new CheckProgress(this), ct), ct);
            for (int p = 0; p < meta.PieceCount; p++) if (found.IsVerified(p)) result.Set(p);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            State = TorrentState.Stopped;
            _host.OnTorrentChanged(this);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            State = TorrentState.Stopped;
            Fail($"checking failed: {e.Message}");
            return;
        }
        for (int p = 0; p < Meta.PieceCount; p++) _pieces.SetHave(p, result[p]);
        CheckPending = false;
        _uploads?.DropCache();
        Log(PluginLogLevel.Information, $"checked: {result.TrueCount} of {result.Length} pieces present");
        State = TorrentState.Stopped;
        _host.OnTorrentChanged(this);
    }

    /// <summary>
    /// A check was asked for and has not finished (it waits for its turn, runs, or was cancelled): the verified pieces
    /// are not known, so resume data saved meanwhile must claim none and make the next start check (on the loop).
    /// </summary>
    internal bool CheckPending { get; private set; }

    /// <summary>Shows a check's progress (reported from its workers; the last report is the total).</summary>
    private sealed class CheckProgress(Torrent torrent) : IProgress<RecheckProgress>
    {
        public void Report(RecheckProgress value) => torrent._checkedPieces = value.PiecesChecked;
    }

    /// <summary>Marks pieces as verified without hashing (trusted resume data).</summary>
    internal void SetHave(Bitfield have)
    {
        for (int p = 0; p < have.Length; p++) _pieces.SetHave(p, have[p]);
    }

    // ------------------------------------------------------------------ priorities

    /// <summary>Sets a file's priority (skip stops downloading it).</summary>
    public Task SetFilePriorityAsync(int fileIndex, Priority priority) => SetFilePrioritiesAsync([(fileIndex, priority)]);

    /// <summary>
    /// Sets several files' priorities in one change (the pieces' priorities are worked out once, not once per file):
    /// a remote client sets the priorities of thousands of files in one request. All indices are checked first;
    /// nothing changes when one is out of range.
    /// </summary>
    /// <exception cref="InvalidOperationException">The metadata is not known yet.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A file index is out of range.</exception>
    public Task SetFilePrioritiesAsync(IReadOnlyList<(int FileIndex, Priority Priority)> priorities)
    {
        ArgumentNullException.ThrowIfNull(priorities);
        var copy = priorities.ToArray();
        return _host.Loop.InvokeAsync(() => SetFilePrioritiesOnLoop(copy));
    }

    private void SetFilePrioritiesOnLoop((int FileIndex, Priority Priority)[] priorities)
    {
        if (_metainfo is null) throw new InvalidOperationException("The file list is not known until the metadata has arrived.");
        foreach (var (fileIndex, _) in priorities)
            if ((uint)fileIndex >= (uint)FilePriorities.Length) throw new ArgumentOutOfRangeException(nameof(priorities), fileIndex, "No such file.");
        foreach (var (fileIndex, priority) in priorities) FilePriorities[fileIndex] = priority;
        _pieces.SetPriorities(FilePriorityMap.ForPieces(Meta, FilePriorities));
        foreach (var p in _peers.ToArray()) Availability.UpdateInterest(p);
        if (State == TorrentState.Seeding && !IsComplete)
        {
            State = TorrentState.Downloading;
            Extensions.BroadcastUploadOnly(_peers); // wanting more again: peers may give it to us
        }
        else if (State == TorrentState.Downloading && IsComplete) OnDownloadComplete();
        _host.OnTorrentChanged(this);
        _host.RequestResumeSave(this); // idle torrents are not saved periodically (Tick): a change must ask
    }

    /// <summary>
    /// Turns sequential (streaming) download on or off: on switches to the "sequential" picker (a window of pieces in
    /// order ahead of <paramref name="position"/>), off goes back to the torrent's chosen picker.
    /// </summary>
    /// <exception cref="InvalidOperationException">No "sequential" picker is installed.</exception>
    public Task SetSequentialAsync(bool on, long? position = null) => _host.Loop.InvokeAsync(() =>
    {
        if (_metainfo is not null)
        {
            var name = on ? SequentialPickerName : Options.Picker == SequentialPickerName ? RarestFirstPickerFactory.PickerName : Options.Picker;
            _picker = _host.CreatePickerByName(this, _metainfo, name)
                ?? throw new InvalidOperationException($"No '{name}' picker is installed (it ships as the SequentialPicker plugin).");
            WatchGuards();
        }
        Sequential = on;
        _pieces.StreamPosition = on ? position ?? 0 : null;
        Log(PluginLogLevel.Information, on ? "sequential download on" : "sequential download off");
        _host.OnTorrentChanged(this);
        _host.RequestResumeSave(this); // idle torrents are not saved periodically (Tick): a change must ask
    });

    /// <summary>Switches the piece picker while the torrent runs (the choice is saved with the torrent).</summary>
    /// <exception cref="InvalidOperationException">No picker of that name.</exception>
    public Task SetPickerAsync(string name) => _host.Loop.InvokeAsync(() =>
    {
        if (_metainfo is not null)
        {
            _picker = _host.CreatePickerByName(this, _metainfo, name)
                ?? throw new InvalidOperationException($"No piece picker named '{name}' is available.");
            WatchGuards();
        }
        Options = Options with { Picker = name };
        Sequential = string.Equals(name, SequentialPickerName, StringComparison.OrdinalIgnoreCase);
        Log(PluginLogLevel.Information, $"piece picker: {name}");
        _host.OnTorrentChanged(this);
    });

    /// <summary>The name of the streaming picker plugin.</summary>
    public const string SequentialPickerName = "sequential";

    /// <summary>Sets per-torrent rate limits in bytes/s (0 = none).</summary>
    public Task SetRateLimitsAsync(long download, long upload) => _host.Loop.InvokeAsync(() =>
    {
        DownloadLimit = Math.Max(0, download);
        UploadLimit = Math.Max(0, upload);
        _downloadLimiter?.SetRate(DownloadLimit); // one made later takes the limit then
        _uploadLimiter?.SetRate(UploadLimit);
        _host.OnTorrentChanged(this);
        _host.RequestResumeSave(this); // idle torrents are not saved periodically (Tick): a change must ask
    });

    // ------------------------------------------------------------------ peer sources

    /// <summary>Receives peers from sources on any thread and hands them to the loop.</summary>
    internal sealed class PeerSink(Torrent torrent) : IPeerSink
    {
        public void AddPeers(IReadOnlyList<IPEndPoint> peers, string sourceName)
        {
            var copy = peers.ToArray();
            torrent._host.Loop.Post(() => torrent.AddPeersOnLoop(copy, sourceName));
        }
    }

    internal void AddPeersOnLoop(IReadOnlyList<IPEndPoint> peers, string source)
    {
        int added = 0;
        foreach (var ep in peers)
        {
            int before = _pool.Count;
            _pool.Add(ep, source);
            if (_pool.Count > before) added++;
        }
        if (added > 0)
        {
            Changed();
            Log(PluginLogLevel.Debug, $"{added} new peers from {source}");
            if (IsRunning) ConnectMore(Now);
        }
    }

    /// <summary>The blocklist changed (on the loop): connected peers it blocks now are disconnected.</summary>
    internal void DropBlockedPeers(Blocklists.Blocklist blocklist)
    {
        foreach (var p in _peers.ToArray())
            if (blocklist.Refuse(p.EndPoint.Address)) p.Connection.Close("blocked by the blocklist");
    }

    /// <summary>Adds a peer by hand (like --peer).</summary>
    public Task AddPeerAsync(IPEndPoint endPoint) => _host.Loop.InvokeAsync(() => AddPeersOnLoop([endPoint], "manual"));

    // ------------------------------------------------------------------ periodic work

    /// <summary>
    /// At an engine tick, while the torrent is on the engine's tick list (<see cref="ITorrentHost.Activate"/>): peer
    /// timeouts and keep-alives, choking, connection attempts, requests, extensions' timers, last activity, the seed
    /// ratio limit and resume saves. Returns whether it still has work every second (peers, connections being made,
    /// payload moving); when it has not, the engine stops ticking it, and what is due later (the next connection
    /// attempt, a resume save) is put on the engine's schedule (<see cref="ITorrentHost.WakeAt"/>). An idle torrent
    /// costs nothing per tick.
    /// </summary>
    internal bool Tick(DateTimeOffset now)
    {
        if (!IsRunning) return false;
        if (_peers.Count > 0)
        {
            Ticked?.Invoke(now);
            foreach (var p in _peers.ToArray())
            {
                Requests.CheckSnub(p, now);
                PeerConnector.Upkeep(p, now);
            }
            Uploads.RechokeIfDue(now);
        }
        bool waitingToConnect = ConnectMore(now);
        Activity.OnTransfer(now, _download.Total, _upload.Total);
        CheckResumeSave(now);
        PumpV2Hashes();
        foreach (var p in _peers) Requests.RequestMore(p);
        _superSeeder?.Tick(now);
        CheckSeedingRules(now);
        return IsRunning && (_peers.Count > 0 || (_connector?.HalfOpen ?? 0) > 0 || waitingToConnect || _download.Rate > 0 || _upload.Rate > 0
            || (_webSeeds?.Working ?? false));
    }

    /// <summary>Saves the resume data when <see cref="ResumeSaveSchedule"/> says it is due, or wakes the torrent for then.</summary>
    private void CheckResumeSave(DateTimeOffset now)
    {
        if (_metainfo is null) return;
        if (_resumeSaves.IsDue(now, (DownloadedTotal, UploadedTotal), _host.Config.ResumeSaveInterval, out var wakeAt))
            _ = SaveResumeAfterFlushAsync();
        else if (wakeAt is { } at) _host.WakeAt(this, at);
    }

    private async Task SaveResumeAfterFlushAsync()
    {
        try
        {
            if (Storage is null) return;
            await _host.SaveResumeAsync(this);
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { Log(PluginLogLevel.Warning, $"saving resume data failed: {e.Message}"); }
    }

    /// <summary>A new snapshot for the UI (call on the loop); <see cref="BuildSnapshot"/> reuses the last one when it can.</summary>
    internal TorrentSnapshot BuildSnapshotFresh() => BuildSnapshotFresh(Sources.TrackerProblem);

    private TorrentSnapshot BuildSnapshotFresh(TrackerProblem? trackerProblem) => TorrentSnapshotBuilder.Summary(this, trackerProblem);

    /// <summary>Everything about the torrent (call on the loop).</summary>
    internal TorrentDetails BuildDetails() => TorrentSnapshotBuilder.Details(this, BuildSnapshot());

    /// <inheritdoc/>
    public override string ToString() => Name;
}
