using System.Net;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>What the engine gives a torrent: the loop, settings, identity, global limits.</summary>
internal interface ITorrentHost
{
    EngineLoop Loop { get; }
    EngineConfig Config { get; }
    byte[] PeerId { get; }
    int ListenPort { get; }
    TimeProvider Time { get; }
    ILogger Logger { get; }

    /// <summary>Whether a new connection (either direction) fits under the global limit.</summary>
    bool HasConnectionRoom { get; }

    /// <summary>Takes one outgoing connection attempt from the global half-open and rate budget.</summary>
    bool TryBeginConnect();

    /// <summary>Returns the half-open slot.</summary>
    void EndConnect();

    /// <summary>Counts connections across torrents.</summary>
    void ConnectionOpened();
    void ConnectionClosed();

    /// <summary>Whether an endpoint is this client itself.</summary>
    bool IsSelf(IPEndPoint endPoint);

    Func<int, CancellationToken, ValueTask>? DownloadThrottle(Torrent torrent);
    Func<int, CancellationToken, ValueTask>? UploadThrottle(Torrent torrent);

    /// <summary>The torrent changed state, completed or failed (on the loop).</summary>
    void OnTorrentChanged(Torrent torrent);

    /// <summary>
    /// Saves the torrent's resume data: probes the files, takes the verified pieces, flushes the storage, then writes,
    /// in that order, so the file claims only durable pieces and any later write shows as a changed file.
    /// </summary>
    Task SaveResumeAsync(Torrent torrent);

    /// <summary>A piece verified and its write completed (on the loop): the session journals it (<c>PieceJournal</c>).</summary>
    void OnPieceVerified(Torrent torrent, int piece);

    /// <summary>Our DHT node's UDP port when the DHT runs (sent to peers in PORT messages), else null.</summary>
    int? DhtPort { get; }

    /// <summary>A peer told us its DHT port: a node worth pinging.</summary>
    void OnDhtNodeHint(IPEndPoint endPoint);

    /// <summary>A per-torrent limiter chained under the global one.</summary>
    RateLimiting.RateLimiter CreateLimiter(bool download, long bytesPerSecond);

    /// <summary>Opens the storage chosen for the torrent.</summary>
    ITorrentStorage CreateStorage(Torrent torrent, TorrentMetainfo metainfo);

    /// <summary>Creates the picker chosen for the torrent.</summary>
    IPiecePicker CreatePicker(Torrent torrent, TorrentMetainfo metainfo);

    /// <summary>Creates a picker by name, or null when there is none.</summary>
    IPiecePicker? CreatePickerByName(Torrent torrent, TorrentMetainfo metainfo, string name);

    /// <summary>A magnet's metadata arrived and checked out (on the loop): persist the .torrent.</summary>
    Task OnMetadataReceivedAsync(Torrent torrent);

    /// <summary>The torrent's settings changed (on the loop): save its resume data soon, even while it is stopped.</summary>
    void RequestResumeSave(Torrent torrent);

    /// <summary>Waits for a turn to hash data (checks run a few at a time, in the order asked); dispose the slot when done.</summary>
    Task<CheckQueue.Slot> EnterCheckAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Puts the torrent on the tick list (on the loop): it is ticked from the next engine tick until its
    /// <see cref="Torrent.Tick"/> says it has nothing to do every second.
    /// </summary>
    void Activate(Torrent torrent);

    /// <summary>Ticks the torrent at the first engine tick at or after <paramref name="at"/> (on the loop); the earliest wins.</summary>
    void WakeAt(Torrent torrent, DateTimeOffset at);
}

/// <summary>How a torrent is set up when it is added.</summary>
public sealed record TorrentOptions
{
    /// <summary>The download folder.</summary>
    public required string SavePath { get; init; }
    /// <summary>Picker name ("rarest-first" by default).</summary>
    public string Picker { get; init; } = RarestFirstPickerFactory.PickerName;
    /// <summary>Storage name ("file" by default).</summary>
    public string Storage { get; init; } = "file";
    /// <summary>
    /// Files the user renamed (<see cref="Session.ClientSession.RenamePathAsync"/>): file index to its relative path,
    /// '/'-separated, for the files whose path differs from the metainfo's; null or empty when none is renamed.
    /// </summary>
    public IReadOnlyDictionary<int, string>? RenamedFiles { get; init; }
    /// <summary>Per-file priorities (missing entries are Normal).</summary>
    public IReadOnlyList<Priority>? FilePriorities { get; init; }
    /// <summary>Peers to connect to directly.</summary>
    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];
    /// <summary>Per-torrent download limit, bytes/s (0 = none).</summary>
    public long DownloadLimit { get; init; }
    /// <summary>Per-torrent upload limit, bytes/s (0 = none).</summary>
    public long UploadLimit { get; init; }
    /// <summary>Download in order with a window ahead of the playback position.</summary>
    public bool Sequential { get; init; }
    /// <summary>Peer sources disabled for this torrent (by name).</summary>
    public IReadOnlyList<string> DisabledPeerSources { get; init; } = [];
    /// <summary>Labels (see <see cref="TorrentLabels.Normalize"/>); the torrent's current ones are <see cref="Torrent.Labels"/>.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>The torrent's own peer limit (at least 1), or null to follow the session's per-torrent limit.</summary>
    public int? MaxConnections { get; init; }
    /// <summary>The tracker list by tier when it was edited (see <see cref="TrackerList.Normalize"/>); null: the metainfo's or magnet's.</summary>
    public IReadOnlyList<IReadOnlyList<string>>? Trackers { get; init; }
    /// <summary>Which seed ratio limit the torrent follows.</summary>
    public SeedRatioMode SeedRatioMode { get; init; } = SeedRatioMode.Global;
    /// <summary>The torrent's own seed ratio limit (needed for <see cref="SeedRatioMode.Custom"/>).</summary>
    public double? SeedRatioLimit { get; init; }
}

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
    private readonly List<IPeerSource> _sources = [];
    // Scratch lists and the read cache only a torrent with peers needs: allocated at first use.
    private List<BlockRequest>? _requestScratch;
    private List<IBlockRequester>? _cancelScratch;
    private PieceManager _pieces;
    private IPiecePicker _picker;
    private PieceReadCache? _readCache;
    private TorrentData? _data;
    private CancellationTokenSource _runCts = new();
    private long _pendingDiskBytes;
    private int _halfOpen;
    private DateTimeOffset _lastRechoke;
    private DateTimeOffset _lastResumeSave;
    private (long Downloaded, long Uploaded) _savedTransfer = (-1, -1);

    /// <summary>The snapshot's lists, wrapped once per change of the torrent's own lists (not once per snapshot).</summary>
    private SnapshotListCache SnapshotLists { get; } = new();
    private int _checkedPieces;
    private bool _completedEventSent;

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
        _pool = new PeerPool(host.IsSelf);
        FilePriorities = [];
        AddedAt = host.Time.GetUtcNow();
        DownloadLimit = options.DownloadLimit;
        UploadLimit = options.UploadLimit;
        Sequential = options.Sequential;
        foreach (var ep in options.Peers) _pool.Add(ep, "manual");
        if (magnet is not null) foreach (var ep in magnet.Peers) _pool.Add(ep, "magnet");
        if (metainfo is not null) SetMetainfo(metainfo);
        MetadataExchange = new Extensions.MetadataExchange(this);
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
            _picker = _host.CreatePicker(this, metainfo);
            WatchGuards();
        }
        _data = null;
        _pieces = new PieceManager(metainfo.PieceCount, metainfo.PieceLength, metainfo.TotalLength);
        FilePriorities = new Priority[metainfo.Files.Count];
        var selected = Magnet?.SelectedFiles;
        for (int i = 0; i < FilePriorities.Length; i++)
        {
            FilePriorities[i] = Options.FilePriorities is { } fp && i < fp.Count ? fp[i]
                : selected is not null ? (selected.Contains(i) ? Priority.Normal : Priority.Skip)
                : Priority.Normal;
        }
        ApplyFilePriorities();
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
            if (Activity.Observe(value, _host.Time.GetUtcNow())) RecheckSeedLimit();
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

    /// <summary>The verified pieces (a copy, safe to keep).</summary>
    internal Bitfield HaveSnapshot() => new(_pieces.HaveField);

    /// <summary>The swarm's piece state (on the loop), for readers such as <see cref="PieceAvailability"/>.</summary>
    internal PieceManager PieceManager => _pieces;

    internal IReadOnlyList<IPeerSource> PeerSources => _sources;

    internal TorrentData Data => _data ??= new TorrentData(Meta, Storage!);

    internal long DownloadedTotal => DownloadedBefore + _download.Total;
    internal long UploadedTotal => UploadedBefore + _upload.Total;

    /// <summary>Set when the torrent should use another picker (switched while running).</summary>
    internal void SetPicker(IPiecePicker picker) => _picker = picker;

    internal void AddSource(IPeerSource source) => _sources.Add(source);

    /// <summary>Bytes still needed of the wanted files.</summary>
    internal long BytesLeft() => _metainfo is null ? (Magnet?.ExactLength ?? 0) : _pieces.BytesLeft();

    internal PeerSink CreateSink() => new(this);

    internal DateTimeOffset HostTime() => _host.Time.GetUtcNow();

    /// <summary>The BEP 9 metadata exchange (serving, and fetching for magnet links).</summary>
    internal Extensions.MetadataExchange? MetadataExchange { get; set; }

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
        if (!meta.IsUsable)
        {
            Fail("this torrent has no v1 part; v2-only torrents cannot be downloaded yet");
            return;
        }
        RebindPeersAfterMetadata();
        // Data may already be there (the same files downloaded before): check quietly without dropping peers.
        var lengths = new List<long>();
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
        foreach (var p in _peers)
        {
            UpdateInterest(p);
            if (!p.AmChoking || p.PeerInterested) ServeRequests(p);
        }
        ConnectMore(_host.Time.GetUtcNow());
    }

    /// <summary>Once a second while running (extensions use it for their timers).</summary>
    internal event Action<DateTimeOffset>? Ticked;

    // ------------------------------------------------------------------ log

    internal void Log(PluginLogLevel level, string message)
    {
        _log.Add(new LogEntry(_host.Time.GetUtcNow(), level, message));
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

    /// <summary>Starts (or resumes) the torrent: checks data if needed, then connects to peers.</summary>
    public Task StartAsync() => _host.Loop.RunAsync(() =>
    {
        OnStartByHand();
        UserPaused = false;
        return StartOnLoopAsync();
    });

    /// <summary>Stops the torrent: disconnects, tells trackers, saves resume data. It stays stopped across restarts.</summary>
    public Task StopAsync() => _host.Loop.RunAsync(() =>
    {
        UserPaused = true;
        return StopOnLoopAsync(TorrentState.Stopped, null);
    });

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
        bool wasRunning = State is TorrentState.Downloading or TorrentState.Seeding;
        await StopOnLoopAsync(TorrentState.Stopped, null);
        await CheckOnLoopAsync(full: true);
        if (wasRunning) await StartOnLoopAsync();
    });

    internal async Task StartOnLoopAsync()
    {
        _host.Loop.AssertOnLoop();
        if (State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Checking or TorrentState.FetchingMetadata) return;
        Error = null;
        _runCts = new CancellationTokenSource();
        if (_metainfo is null)
        {
            // A magnet link: find peers and fetch the info dictionary from them first (BEP 9).
            State = TorrentState.FetchingMetadata;
            Log(PluginLogLevel.Information, "fetching metadata from peers");
            _host.OnTorrentChanged(this);
            foreach (var source in _sources) _ = StartSourceAsync(source);
            ConnectMore(_host.Time.GetUtcNow());
            return;
        }
        if (!_metainfo.IsUsable)
        {
            Fail("this torrent has no v1 part; v2-only torrents cannot be downloaded yet");
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
        if (IsComplete) _completedEventSent = true;
        Log(PluginLogLevel.Information, State == TorrentState.Seeding ? "seeding" : "downloading");
        _host.OnTorrentChanged(this);
        foreach (var source in _sources) _ = StartSourceAsync(source);
        _lastResumeSave = _host.Time.GetUtcNow();
        // The resume data on disk matches the torrent as it starts (it was just loaded and checked, or saved on adding).
        _savedTransfer = (DownloadedTotal, UploadedTotal);
        ConnectMore(_host.Time.GetUtcNow());
    }

    private async Task StartSourceAsync(IPeerSource source)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(_runCts.Token);
            cts.CancelAfter(TimeSpan.FromSeconds(30));
            await source.StartAsync(cts.Token);
            if (IsComplete) await source.OnEventAsync(TorrentEvent.Completed, cts.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_runCts.IsCancellationRequested)
        {
            Log(PluginLogLevel.Warning, $"peer source failed to start: {e.Message}");
        }
    }

    /// <summary>Creates empty files and, when asked, preallocates; never truncates existing data.</summary>
    private async Task PrepareFilesAsync(CancellationToken ct)
    {
        for (int i = 0; i < Meta.Files.Count; i++)
        {
            var f = Meta.Files[i];
            if (f.IsPadding || FilePriorities[i] == Priority.Skip) continue;
            if (f.Length == 0 || _host.Config.Preallocate)
                await Storage!.PrepareAsync(i, _host.Config.Preallocate, ct);
        }
    }

    /// <param name="newState">Stopped or Error.</param>
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
        DropReadCache();
        if (previous is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata)
        {
            var stops = _sources.Select(async s =>
            {
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await s.StopAsync(cts.Token);
                }
                catch (Exception e) { Log(PluginLogLevel.Debug, $"peer source stop: {e.Message}"); }
            }).ToArray();
            await Task.WhenAll(stops);
        }
        if (previous is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Checking && Storage is not null)
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
        var result = new Bitfield(Meta.PieceCount);
        try
        {
            using var turn = await _host.EnterCheckAsync(ct);
            var lengths = new long[Meta.Files.Count];
            for (int i = 0; i < lengths.Length; i++)
            {
                if (Meta.Files[i].IsPadding) { lengths[i] = Meta.Files[i].Length; continue; }
                var st = await Storage!.ProbeAsync(i, ct);
                lengths[i] = st.Exists ? st.Length : -1;
            }
            var data = Data;
            var torrent = Meta;
            int done = 0;
            var toCheck = Enumerable.Range(0, torrent.PieceCount)
                .Where(p => (full || trusted is null || !trusted[p]) && (absent is null || !absent[p])).ToArray();
            if (!full && trusted is not null)
                for (int p = trusted.NextSet(0); p >= 0; p = trusted.NextSet(p + 1)) result.Set(p);
            var found = new bool[torrent.PieceCount];
            await Task.Run(() => Parallel.ForEachAsync(toCheck,
                new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
                async (piece, token) =>
                {
                    if (PieceOnDisk(piece, lengths))
                    {
                        var buffer = await data.ReadPieceAsync(piece, token);
                        try { found[piece] = data.Verify(piece, buffer.AsSpan(0, torrent.GetPieceSize(piece))); }
                        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
                    }
                    _checkedPieces = Interlocked.Increment(ref done);
                }), ct);
            for (int p = 0; p < found.Length; p++) if (found[p]) result.Set(p);
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
        DropReadCache();
        Log(PluginLogLevel.Information, $"checked: {result.TrueCount} of {result.Length} pieces present");
        State = TorrentState.Stopped;
        _host.OnTorrentChanged(this);
    }

    /// <summary>
    /// A check was asked for and has not finished (it waits for its turn, runs, or was cancelled): the verified pieces
    /// are not known, so resume data saved meanwhile must claim none and make the next start check (on the loop).
    /// </summary>
    internal bool CheckPending { get; private set; }

    /// <summary>Whether every file a piece touches exists and is long enough to hold it.</summary>
    private bool PieceOnDisk(int piece, long[] lengths)
    {
        long start = piece * Meta.PieceLength;
        long end = start + Meta.GetPieceSize(piece);
        foreach (var f in Meta.Files)
        {
            if (f.Offset >= end) break;
            if (f.Offset + f.Length <= start || f.IsPadding || f.Length == 0) continue;
            long needEnd = Math.Min(end, f.Offset + f.Length) - f.Offset;
            if (lengths[f.Index] < needEnd) return false;
        }
        return true;
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
        ApplyFilePriorities();
        foreach (var p in _peers) UpdateInterest(p);
        if (State == TorrentState.Seeding && !IsComplete) State = TorrentState.Downloading;
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

    private void ApplyFilePriorities()
    {
        // A piece gets the highest priority of the files it touches; it is skipped only if all its files are.
        var piecePrio = new Priority[Meta.PieceCount];
        foreach (var f in Meta.Files)
        {
            if (f.IsPadding || f.Length == 0) continue;
            int first = (int)(f.Offset / Meta.PieceLength);
            int last = (int)((f.Offset + f.Length - 1) / Meta.PieceLength);
            var prio = FilePriorities[f.Index];
            for (int p = first; p <= last; p++) if (prio > piecePrio[p]) piecePrio[p] = prio;
        }
        _pieces.SetPriorities(piecePrio);
    }

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
            if (IsRunning) ConnectMore(_host.Time.GetUtcNow());
        }
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
            foreach (var p in _peers.ToArray()) CheckPeerTimeouts(p, now);
            if (now - _lastRechoke >= ChokeScheduler.RechokeInterval)
            {
                _lastRechoke = now;
                Rechoke(now);
            }
        }
        bool waitingToConnect = ConnectMore(now);
        Activity.OnTransfer(now, _download.Total, _upload.Total);
        CheckResumeSave(now);
        foreach (var p in _peers) RequestMore(p);
        CheckSeedRatio();
        return IsRunning && (_peers.Count > 0 || _halfOpen > 0 || waitingToConnect || _download.Rate > 0 || _upload.Rate > 0);
    }

    /// <summary>
    /// Saves the resume data when payload moved since the last save, at most once per
    /// <see cref="EngineConfig.ResumeSaveInterval"/>; pieces and files change only through downloads, the totals only
    /// through transfers, and settings changes ask for a save themselves. Saving every idle torrent every minute cost
    /// 1,000 fsyncs a minute with 1,000 seeding torrents (most of an idle daemon's CPU). What an idle torrent's file
    /// misses is the seeding time since its last save, written at the next stop.
    /// </summary>
    private void CheckResumeSave(DateTimeOffset now)
    {
        if (_metainfo is null) return;
        var stamp = (DownloadedTotal, UploadedTotal);
        if (stamp == _savedTransfer) return;
        var due = _lastResumeSave + _host.Config.ResumeSaveInterval;
        if (now < due)
        {
            _host.WakeAt(this, due); // saved then, even if the torrent is idle by then
            return;
        }
        _lastResumeSave = now;
        _savedTransfer = stamp;
        _ = SaveResumeAfterFlushAsync();
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
    internal TorrentSnapshot BuildSnapshotFresh() => BuildSnapshotFresh(RTorrent.Engine.Trackers.TrackerPeerSource.ProblemOf(_sources));

    private TorrentSnapshot BuildSnapshotFresh(TrackerProblem? trackerProblem)
    {
        var transferring = TransferringPeers();
        long size = 0, done = 0;
        var have = _pieces.HaveField;
        var meta = _metainfo;
        if (meta is not null)
        {
            for (int i = 0; i < meta.Files.Count; i++)
            {
                var f = meta.Files[i];
                if (f.IsPadding || FilePriorities[i] == Priority.Skip) continue;
                size += f.Length;
            }
            done = size - Math.Min(size, _pieces.BytesLeft());
        }
        else size = Magnet?.ExactLength ?? 0;
        double progress = State == TorrentState.Checking
            ? (double)_checkedPieces / Math.Max(1, meta?.PieceCount ?? 1)
            : meta is null ? 0 : size == 0 ? 1 : (double)done / size;
        long rate = _download.Rate;
        TimeSpan? eta = State == TorrentState.Downloading && rate > 0 ? TimeSpan.FromSeconds((size - done) / (double)rate) : null;
        return new TorrentSnapshot
        {
            Id = InfoHash.ToHex(),
            Name = Name,
            State = State,
            Error = State == TorrentState.FetchingMetadata ? MetadataStatus() : Error,
            InfoHashV1 = meta is null ? Magnet?.InfoHashV1?.ToHex() : meta.InfoHashV1?.ToHex(),
            InfoHashV2 = (meta?.InfoHashV2 ?? Magnet?.InfoHashV2) is { } v2 ? Convert.ToHexStringLower(v2) : null,
            SavePath = SavePath,
            Size = size,
            TotalSize = meta?.TotalSize ?? size,
            Done = done,
            Progress = progress,
            DownloadRate = rate,
            UploadRate = _upload.Rate,
            Downloaded = DownloadedTotal,
            Uploaded = UploadedTotal,
            Ratio = size == 0 ? 0 : (double)UploadedTotal / size,
            PeersConnected = _peers.Count,
            SeedsConnected = _peers.Count(p => p.IsSeed),
            PeersKnown = _pool.Count,
            Eta = eta,
            PieceCount = meta?.PieceCount ?? 0,
            PieceLength = meta?.PieceLength ?? 0,
            PiecesHave = have.TrueCount,
            AddedAt = AddedAt,
            CompletedAt = CompletedAt,
            DownloadLimit = DownloadLimit,
            UploadLimit = UploadLimit,
            IsPrivate = meta?.IsPrivate ?? false,
            Sequential = Sequential,
            Picker = Options.Picker,
            Storage = Options.Storage,
            Comment = meta?.Comment,
            CreationDate = meta?.CreationDate,
            Wasted = Wasted,
            HashFailures = HashFailures,
            Labels = SnapshotLists.Labels(_labels),
            Trackers = SnapshotLists.Trackers(_trackers),
            WebSeeds = SnapshotLists.WebSeeds(meta?.WebSeeds ?? Magnet?.WebSeeds ?? []),
            QueuePosition = QueuePosition,
            StartedAt = Activity.StartedAt,
            ActivityAt = Activity.ActivityAt,
            DownloadingTimeBefore = Activity.DownloadingBefore,
            DownloadingSince = Activity.DownloadingSince,
            SeedingTimeBefore = Activity.SeedingBefore,
            SeedingSince = Activity.SeedingSince,
            PeersSendingToUs = transferring.SendingToUs,
            PeersGettingFromUs = transferring.GettingFromUs,
            CreatedBy = meta?.CreatedBy,
            MetadataProgress = meta is not null ? 1 : MetadataExchange?.Progress ?? 0,
            MaxConnections = MaxConnectionsLimit,
            SeedRatioMode = _seedLimit.Mode,
            SeedRatioLimit = _seedLimit.Limit,
            IsFinished = IsFinishedWith(size),
            TrackerProblem = trackerProblem,
        };
    }

    /// <summary>What a magnet link is waiting for, so it never sits silently.</summary>
    private string MetadataStatus()
    {
        var fetch = MetadataExchange?.Status ?? "";
        var sources = new List<string>();
        foreach (var s in _sources)
        {
            try
            {
                foreach (var st in s.GetStatus())
                    sources.Add($"{st.Source} {st.State}{(st.PeersReported > 0 ? $" ({st.PeersReported} peers)" : "")}");
            }
            catch (Exception) { /* a broken source shows nothing here; its own row says why */ }
        }
        return $"metadata: {fetch}; {_peers.Count} connected, {_pool.Count} known" +
               (sources.Count > 0 ? "; " + string.Join(", ", sources.Distinct()) : "; no peer sources");
    }

    /// <summary>Everything about the torrent (call on the loop).</summary>
    internal TorrentDetails BuildDetails()
    {
        var have = _pieces.HaveField;
        var pieces = new PieceDisplayState[_metainfo?.PieceCount ?? 0];
        for (int i = 0; i < pieces.Length; i++)
            pieces[i] = have[i] ? PieceDisplayState.Have
                : _pieces.InProgress[i] || _pieces.IsVerifying(i) ? PieceDisplayState.Downloading
                : _pieces.GetPriority(i) == Priority.Skip ? PieceDisplayState.Skipped
                : PieceDisplayState.Missing;
        var files = (_metainfo?.Files ?? []).Where(f => !f.IsPadding).Select(f => new FileSnapshot
        {
            Index = f.Index,
            Path = FileRenames.PathOf(_metainfo!, Options.RenamedFiles, f.Index),
            Length = f.Length,
            Done = FileDone(f, have),
            Priority = FilePriorities[f.Index],
        }).ToList();
        var peers = _peers.Select(p => new PeerSnapshot
        {
            Address = p.EndPoint.ToString(),
            Client = p.Client,
            Flags = PeerFlags(p),
            DownloadRate = p.Download.Rate,
            UploadRate = p.Upload.Rate,
            Downloaded = p.Download.Total,
            Uploaded = p.Upload.Total,
            Progress = p.Progress,
            RequestsOut = p.Outstanding.Count,
            RequestsIn = p.Incoming.Count,
            Source = p.Source,
            AmChoking = p.AmChoking,
            AmInterested = p.AmInterested,
            PeerChoking = p.PeerChoking,
            PeerInterested = p.PeerInterested,
        }).ToList();
        var sources = new List<PeerSourceStatus>();
        foreach (var s in _sources)
        {
            try { sources.AddRange(s.GetStatus()); }
            catch (Exception e) { sources.Add(new PeerSourceStatus { Source = s.GetType().Name, Endpoint = "?", State = "error", Message = e.Message }); }
        }
        return new TorrentDetails
        {
            Summary = BuildSnapshot(),
            Files = files,
            Peers = peers,
            Sources = sources,
            Pieces = pieces,
            Log = _log.ToArray(),
        };
    }

    private long FileDone(TorrentFileEntry f, Bitfield have)
    {
        if (f.Length == 0) return 0;
        long done = 0;
        int first = (int)(f.Offset / Meta.PieceLength);
        int last = (int)((f.Offset + f.Length - 1) / Meta.PieceLength);
        for (int p = first; p <= last; p++)
        {
            if (!have[p]) continue;
            long ps = p * Meta.PieceLength, pe = ps + Meta.GetPieceSize(p);
            done += Math.Min(pe, f.Offset + f.Length) - Math.Max(ps, f.Offset);
        }
        return done;
    }

    private static string PeerFlags(Peer p)
    {
        var s = new System.Text.StringBuilder();
        if (p.AmInterested) s.Append(p.PeerChoking ? 'd' : 'D');
        if (p.PeerInterested) s.Append(p.AmChoking ? 'u' : 'U');
        if (!p.Connection.IsOutgoing) s.Append('I');
        if (p.Connection.Encryption.IsEncrypted) s.Append('E');
        else if (p.Connection.Encryption.ViaMse) s.Append('e');
        if (p.Snubbed) s.Append('S');
        if (p.OptimisticSince is not null) s.Append('O');
        s.Append(p.Source switch
        {
            "pex" => 'X',
            "dht" => 'H',
            "tracker" => 'T',
            "lsd" => 'L',
            _ => ' ',
        });
        return s.ToString().TrimEnd();
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
