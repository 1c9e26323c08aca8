using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>Where the engine finds pickers, storages and peer sources by name (built-ins and plugins).</summary>
public interface IComponentCatalog
{
    /// <summary>The picker factory registered under <paramref name="name"/>, or null.</summary>
    IPiecePickerFactory? FindPicker(string name);

    /// <summary>The storage factory registered under <paramref name="name"/>, or null.</summary>
    IStorageFactory? FindStorage(string name);

    /// <summary>Every peer source factory.</summary>
    IReadOnlyList<IPeerSourceFactory> PeerSources { get; }
}

/// <summary>
/// A built-in peer source that needs the torrent itself (PEX reads its connections; the DHT hears PORT messages).
/// Plugins cannot implement it: it is internal.
/// </summary>
internal interface ITorrentAttachedSource
{
    void Attach(Torrent torrent);
}

/// <summary>Services and hooks the engine is built with.</summary>
public sealed record ClientEngineOptions
{
    /// <summary>Where engine logs go.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Pickers, storages and peer sources.</summary>
    public IComponentCatalog? Catalog { get; init; }

    /// <summary>Persists a torrent's resume data (it flushes the storage itself, in the right order).</summary>
    public Func<Torrent, Task>? SaveResume { get; init; }

    /// <summary>
    /// A piece was verified and its write completed (called on the loop; keep it cheap): the session journals it so a
    /// kill -9 before the next resume save keeps it.
    /// </summary>
    public Action<Torrent, int>? PieceVerified { get; init; }

    /// <summary>The DHT node's UDP port, when one runs (advertised to peers with PORT messages).</summary>
    public Func<int?>? DhtPort { get; init; }

    /// <summary>Nodes in the DHT routing table, for the status bar.</summary>
    public Func<int?>? DhtNodeCount { get; init; }

    /// <summary>A peer announced its DHT port (BEP 5 PORT): ping it as a DHT node.</summary>
    public Action<IPEndPoint>? DhtNodeHint { get; init; }

    /// <summary>A magnet's metadata arrived (called on the loop): persist the .torrent so a restart need not fetch it.</summary>
    public Func<Torrent, Task>? MetadataReceived { get; init; }

    /// <summary>
    /// A seeding rule removes a torrent (<see cref="SeedingLimitAction.Remove"/>, <see cref="SeedingLimitAction.RemoveWithData"/>):
    /// the session removes it its own way (forgetting its resume data); null: <see cref="ClientEngine.RemoveAsync"/>.
    /// Called off the loop.
    /// </summary>
    public Func<Torrent, bool, Task>? RemoveTorrent { get; init; }

    /// <summary>A torrent finished downloading (called on the loop; keep it cheap): the session runs its completion hook.</summary>
    public Action<Torrent>? TorrentCompleted { get; init; }

    /// <summary>
    /// A seeding rule ended a torrent's seeding, before its action (called on the loop; keep it cheap): the session runs
    /// its seeding-done hook.
    /// </summary>
    public Action<Torrent>? SeedingDone { get; init; }

    /// <summary>
    /// The blocklist the engine obeys (the session shares it with its DHT node and its updater); null for one of the
    /// engine's own, empty and off.
    /// </summary>
    public Blocklists.Blocklist? Blocklist { get; init; }
}

/// <summary>
/// The BitTorrent engine: one listen port, one loop, any number of torrents. Thread-safe: public methods may be
/// called from any thread.
/// </summary>
public sealed partial class ClientEngine : ITorrentHost, IConnectionBudget, IAsyncDisposable
{
    private readonly Dictionary<InfoHash, Torrent> _torrents = [];
    private readonly ClientEngineOptions _options;
    private readonly ILogger _logger;
    private PeerListener? _listener;
    private Peers.Utp.UdpPort? _udp;
    private ITimer? _timer;
    private int _connections;
    private int _halfOpen;
    private int _connectBudget;
    private HashSet<IPAddress> _localAddresses = [];

    /// <summary>Session-wide download limit; each torrent's limiter is its child, so a read must pass both.</summary>
    internal RateLimiting.RateLimiter GlobalDownload { get; }

    /// <summary>Session-wide upload limit.</summary>
    internal RateLimiting.RateLimiter GlobalUpload { get; }
    private bool _disposed;

    /// <summary>Creates an engine; nothing runs until <see cref="StartAsync"/>.</summary>
    public ClientEngine(EngineConfig config, ClientEngineOptions? options = null)
    {
        Config = config;
        ReadCache = new PieceReadCache(config.ReadCacheBytes);
        _options = options ?? new ClientEngineOptions();
        _logger = _options.LoggerFactory.CreateLogger("rtorrent.engine");
        Loop = new EngineLoop();
        Loop.UnhandledException += e => _logger.LogError(e, "unhandled error on the engine loop");
        PeerId = PeerIds.Create();
        GlobalDownload = new RateLimiting.RateLimiter(config.DownloadLimit, 0, null, _options.Time);
        GlobalUpload = new RateLimiting.RateLimiter(config.UploadLimit, 0, null, _options.Time);
        _saveQueue = new ResumeSaveQueue(t => IsInSession(t) ? _options.SaveResume?.Invoke(t) ?? Task.CompletedTask : Task.CompletedTask, _logger);
        Checks = new CheckQueue(Math.Max(1, config.MaxActiveChecks));
        Blocklist = _options.Blocklist ?? new Blocklists.Blocklist();
        Blocklist.Changed += () => Loop.Post(DropBlockedPeers);
    }

    /// <summary>
    /// The blocklist in force: incoming connections from a blocked address are closed before their handshake is read,
    /// blocked peers from any source are dropped and never dialled, and peers connected when their address becomes
    /// blocked (the list was reloaded or switched on) are disconnected.
    /// </summary>
    public Blocklists.Blocklist Blocklist { get; }

    /// <summary>The list changed (on the loop): connected peers it now blocks are let go, as libtorrent does on a new IP filter.</summary>
    private void DropBlockedPeers()
    {
        if (!Blocklist.Enabled || Blocklist.RuleCount == 0) return;
        foreach (var t in Torrents) t.DropBlockedPeers(Blocklist);
    }

    /// <summary>Hash checks waiting for and taking their turn.</summary>
    internal CheckQueue Checks { get; }

    /// <summary>The engine loop.</summary>
    public EngineLoop Loop { get; }

    /// <summary>The settings in force.</summary>
    public EngineConfig Config { get; private set; }

    /// <summary>Our peer id.</summary>
    public byte[] PeerId { get; }

    /// <summary>The TCP port we listen on (valid after start).</summary>
    public int ListenPort { get; private set; }

    /// <summary>The clock.</summary>
    public TimeProvider Time => _options.Time;

    ILogger ITorrentHost.Logger => _logger;

    /// <summary>Data read to serve peers, all torrents under <see cref="EngineConfig.ReadCacheBytes"/> (on the loop).</summary>
    internal PieceReadCache ReadCache { get; }

    PieceReadCache ITorrentHost.ReadCache => ReadCache;

    private HttpClient? _webSeedHttp;

    HttpClient ITorrentHost.WebSeedHttp
    {
        get
        {
            if (Volatile.Read(ref _webSeedHttp) is { } made) return made;
            var client = WebSeeds.WebSeedFetcher.CreateClient(Config.ClientName, Config.Proxy.ForWebSeeds);
            var raced = Interlocked.CompareExchange(ref _webSeedHttp, client, null);
            if (raced is null) return client;
            client.Dispose();
            return raced;
        }
    }

    /// <summary>Raised on the loop when a torrent changes state, completes or fails.</summary>
    public event Action<Torrent>? TorrentChanged;

    /// <summary>Torrents, in the order added.</summary>
    public IReadOnlyList<Torrent> Torrents
    {
        get { lock (_torrents) return _torrents.Values.ToArray(); }
    }

    /// <summary>Opens the listen port and starts the once-a-second tick.</summary>
    public Task StartAsync() => Loop.InvokeAsync(() =>
    {
        if (Config.Proxy.DirectListeningAllowed)
        {
            _listener = new PeerListener(OnIncomingHandshake, FindTorrentByMseKey, Config.Encryption, _logger,
                new HalfOpenConnections(Config.MaxHalfOpenIncomingPerAddress, Config.MaxHalfOpenIncoming), Config.IncomingHandshakeTimeout, Time,
                Blocklist.Refuse);
            _listener.Start(Config.ListenPort, Config.ListenAddress);
            ListenPort = _listener.Port;
            _logger.LogInformation("listening on port {Port}", ListenPort);
            try
            {
                // The same port number over UDP: uTP and the DHT share it (docs/UTP.md).
                _udp = Peers.Utp.UdpPort.Open(Config.ListenAddress is { } a && !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any) ? a : null,
                    ListenPort, Time, _options.LoggerFactory.CreateLogger("rtorrent.utp"));
                var listener = _listener;
                _udp.Utp.Accepted = (stream, remote) => _ = listener.AcceptAsync(stream, remote);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                _logger.LogWarning("UDP port {Port} could not be opened ({Error}): no uTP and no DHT on it", ListenPort, e.SocketErrorCode);
            }
        }
        else
        {
            // Proxy-only: answering a peer that dials us would send from our own address, and so would uTP on our UDP
            // port. Trackers are still told a port (they want one); nobody is listening on it.
            ListenPort = Config.ListenPort != 0 ? Config.ListenPort : Settings.EngineSettings.DefaultListenPort;
            _logger.LogInformation("proxy only: not listening for incoming peers, no uTP");
        }
        ApplyTransports(Config.Transports);
        _localAddresses = LocalAddresses();
        _connectBudget = Config.ConnectsPerSecond;
        _timer = Time.CreateTimer(_ => Loop.Post(Tick), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _trimmer = new HeapTrimmer(Time, _logger);
    });

    /// <summary>The listen port's UDP socket (uTP and the DHT), or null when it could not be bound.</summary>
    internal Peers.Utp.UdpPort? Udp => _udp;

    Peers.Utp.UtpSocket? ITorrentHost.Utp => _udp?.Utp;

    /// <summary>
    /// Turns each transport on or off for incoming and outgoing connections, at once: incoming TCP connections and uTP
    /// SYNs are refused while off, dials use what is on (uTP first). Open connections stay.
    /// </summary>
    public Task SetTransportsAsync(PeerTransports transports)
    {
        ArgumentNullException.ThrowIfNull(transports);
        return Loop.InvokeAsync(() =>
        {
            Config = Config with { Transports = transports };
            ApplyTransports(transports);
        });
    }

    private void ApplyTransports(PeerTransports transports)
    {
        if (_listener is not null) _listener.AcceptTcp = transports.TcpIncoming;
        if (_udp is not null) _udp.Utp.AcceptIncoming = transports.UtpIncoming;
    }

    private static HashSet<IPAddress> LocalAddresses()
    {
        var set = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback, IPAddress.Any, IPAddress.IPv6Any };
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                foreach (var a in nic.GetIPProperties().UnicastAddresses) set.Add(a.Address);
        }
        catch (NetworkInformationException) { /* loopback alone is enough to know ourselves locally */ }
        return set;
    }

    /// <summary>An incoming encrypted handshake names its torrent by HASH('req2', info-hash); find which one (any thread).</summary>
    private InfoHash? FindTorrentByMseKey(ReadOnlyMemory<byte> key)
    {
        if (key.Length != InfoHash.Length) return null;
        lock (_torrents) return _torrentsByMseKey.TryGetValue(new InfoHash(key.Span), out var hash) ? hash : null;
    }

    /// <summary>HASH('req2', info-hash) (20 bytes, kept as an <see cref="InfoHash"/>) to the info-hash; guarded by _torrents.</summary>
    private readonly Dictionary<InfoHash, InfoHash> _torrentsByMseKey = [];

    /// <summary>
    /// A hybrid torrent's second info-hash (v2 truncated, BEP 52) to the torrent: v2 peers connect with it. Kept apart
    /// from <see cref="_torrents"/> so every torrent is listed once. Guarded by _torrents.
    /// </summary>
    private readonly Dictionary<InfoHash, Torrent> _aliases = [];

    /// <summary>Makes a torrent findable by plain and encrypted handshakes. Call under the _torrents lock.</summary>
    private void AddTorrentEntry(InfoHash hash, Torrent torrent)
    {
        _torrents.Add(hash, torrent);
        _torrentsByMseKey[new InfoHash(Peers.Encryption.MseHandshake.TorrentKey(hash))] = hash;
        if (torrent.V2WireHash is { } alias && alias != hash && !_torrents.ContainsKey(alias) && _aliases.TryAdd(alias, torrent))
            _torrentsByMseKey[new InfoHash(Peers.Encryption.MseHandshake.TorrentKey(alias))] = alias;
        _queue.Append(torrent);
    }

    private Task OnIncomingHandshake(HandshakeResult hs) => Loop.RunAsync(async () =>
    {
        Torrent? t;
        lock (_torrents)
            if (!_torrents.TryGetValue(hs.InfoHash, out t)) _aliases.TryGetValue(hs.InfoHash, out t);
        if (t is null)
        {
            hs.Stream.Dispose();
            return;
        }
        await t.AcceptIncomingAsync(hs);
    });

    /// <summary>Adds a torrent; starts it unless <paramref name="start"/> is false.</summary>
    /// <param name="metainfo">The parsed .torrent.</param>
    /// <param name="options">Where and how.</param>
    /// <param name="start">Start at once.</param>
    /// <param name="trustedHave">Pieces known verified (from resume data); skips the initial check.</param>
    /// <param name="check">Hash existing data first (ignored when <paramref name="trustedHave"/> is given).</param>
    /// <exception cref="InvalidOperationException">The torrent is already added, or its picker/storage is unknown.</exception>
    public Task<Torrent> AddAsync(TorrentMetainfo metainfo, TorrentOptions options, bool start = true, Bitfield? trustedHave = null,
        bool check = true) =>
        Loop.RunAsync(async () =>
        {
            var torrent = Register(metainfo.WireHash, metainfo, null, options);
            if (trustedHave is not null) torrent.SetHave(trustedHave);
            else if (check) await torrent.CheckOnLoopAsync(full: true);
            if (start && torrent.State != TorrentState.Error) await torrent.StartOnLoopAsync();
            TorrentChanged?.Invoke(torrent);
            return torrent;
        });

    /// <summary>Adds a magnet link: the metadata is fetched from peers first (BEP 9), then it downloads as usual.</summary>
    public Task<Torrent> AddAsync(MagnetLink magnet, TorrentOptions options, bool start = true) =>
        Loop.RunAsync(async () =>
        {
            var torrent = Register(magnet.WireHash, null, magnet, options);
            if (start) await torrent.StartOnLoopAsync();
            TorrentChanged?.Invoke(torrent);
            return torrent;
        });

    /// <summary>
    /// Adds a torrent that cannot run because its saved storage or picker is not available: it shows, paused, with
    /// the reason, and is never moved to another storage behind the user's back.
    /// </summary>
    public Task<Torrent> AddUnavailableAsync(TorrentMetainfo metainfo, TorrentOptions options, string reason) =>
        Loop.InvokeAsync(() => AddOnLoop(metainfo, options, reason, static _ => { }));

    /// <summary>
    /// Adds a torrent in the caller's turn of the loop, so a restore or a bulk add puts many in one turn instead of
    /// one round trip per step per torrent: registered, <paramref name="init"/> applied (trusted pieces, saved totals),
    /// then announced with <see cref="TorrentChanged"/>; not started or checked. With <paramref name="unavailable"/>
    /// it is added paused with that reason (see <see cref="AddUnavailableAsync"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The torrent is already added, or its picker/storage is unknown.</exception>
    internal Torrent AddOnLoop(TorrentMetainfo metainfo, TorrentOptions options, string? unavailable, Action<Torrent> init)
    {
        Loop.AssertOnLoop();
        Torrent torrent;
        if (unavailable is null) torrent = Register(metainfo.WireHash, metainfo, null, options);
        else
        {
            lock (_torrents)
                if (_torrents.ContainsKey(metainfo.WireHash))
                    throw new InvalidOperationException($"{metainfo.Name} is already added.");
            torrent = new Torrent(this, metainfo.WireHash, null, null, options);
            torrent.SetMetainfo(metainfo, unavailable);
            torrent.SetStoppedWithReason(unavailable);
            lock (_torrents) AddTorrentEntry(metainfo.WireHash, torrent);
        }
        init(torrent);
        TorrentChanged?.Invoke(torrent);
        return torrent;
    }

    private Torrent Register(InfoHash hash, TorrentMetainfo? metainfo, MagnetLink? magnet, TorrentOptions options)
    {
        lock (_torrents)
            if (_torrents.ContainsKey(hash))
                throw new InvalidOperationException($"{metainfo?.Name ?? magnet?.Name ?? hash.ToHex()} is already added.");
        // Fail early on unknown plugin names, before anything is created.
        _ = FindStorage(options.Storage);
        _ = FindPicker(options.Picker);
        var torrent = new Torrent(this, hash, metainfo, magnet, options);
        lock (_torrents) AddTorrentEntry(hash, torrent);
        bool isPrivate = metainfo?.IsPrivate ?? false;
        var trackers = torrent.Trackers;
        foreach (var factory in Catalog.PeerSources)
        {
            if (isPrivate && !factory.AllowedForPrivateTorrents) continue;
            if (options.DisabledPeerSources.Contains(factory.Name, StringComparer.OrdinalIgnoreCase)) continue;
            var ctx = new PeerSourceContext(hash.ToArray(), PeerId, isPrivate, trackers, ListenPort, torrent.CreateSink(),
                () => new TransferTotals(torrent.UploadedTotal, torrent.DownloadedTotal, torrent.BytesLeft()));
            try
            {
                var source = factory.Create(ctx);
                torrent.AddSource(source);
                if (source is ITorrentAttachedSource attached) attached.Attach(torrent);
            }
            catch (Exception e) { torrent.Log(PluginLogLevel.Warning, $"peer source '{factory.Name}' failed: {e.Message}"); }
            // BEP 52: a hybrid is two swarms; announce to the trackers and the DHT under the v2 hash too (libtorrent does),
            // so v2 peers find it. Its peers connect with the v2 hash and are matched through _aliases.
            if (torrent.V2WireHash is { } alias && alias != hash && factory.Name is Trackers.TrackerPeerSource.SourceName or "dht")
            {
                var ctx2 = new PeerSourceContext(alias.ToArray(), PeerId, isPrivate, trackers, ListenPort, torrent.CreateSink(),
                    () => new TransferTotals(torrent.UploadedTotal, torrent.DownloadedTotal, torrent.BytesLeft()));
                try
                {
                    var source = factory.Create(ctx2);
                    torrent.AddSource(source);
                    if (source is ITorrentAttachedSource attached) attached.Attach(torrent);
                }
                catch (Exception e) { torrent.Log(PluginLogLevel.Warning, $"peer source '{factory.Name}' (v2 hash) failed: {e.Message}"); }
            }
        }
        return torrent;
    }

    private IComponentCatalog Catalog => _options.Catalog ?? throw new InvalidOperationException("The engine has no component catalog.");

    private IStorageFactory FindStorage(string name) =>
        Catalog.FindStorage(name) ?? throw new InvalidOperationException($"No storage named '{name}' is available.");

    private IPiecePickerFactory FindPicker(string name) =>
        Catalog.FindPicker(name) ?? throw new InvalidOperationException($"No piece picker named '{name}' is available.");

    ITorrentStorage ITorrentHost.CreateStorage(Torrent torrent, TorrentMetainfo metainfo) =>
        FindStorage(torrent.Options.Storage).Open(new StorageContext(Path.GetFullPath(torrent.Options.SavePath),
            FileRenames.StorageFiles(metainfo, torrent.Options.RenamedFiles),
            metainfo.WireHash.ToHex()));

    IPiecePicker? ITorrentHost.CreatePickerByName(Torrent torrent, TorrentMetainfo metainfo, string name) =>
        Catalog.FindPicker(name)?.Create(new PiecePickerContext(metainfo.PieceCount, metainfo.PieceLength, metainfo.TotalLength,
            metainfo.Files.Select(f => new PickerFileSpan(f.Path, f.Offset, f.Length,
                (int)(f.Offset / metainfo.PieceLength),
                f.Length == 0 ? (int)(f.Offset / metainfo.PieceLength) - 1 : (int)((f.Offset + f.Length - 1) / metainfo.PieceLength),
                f.IsPadding)).ToArray()));

    Task ITorrentHost.OnMetadataReceivedAsync(Torrent torrent) => _options.MetadataReceived?.Invoke(torrent) ?? Task.CompletedTask;

    void ITorrentHost.OnSeedingDone(Torrent torrent)
    {
        try { _options.SeedingDone?.Invoke(torrent); }
        catch (Exception e) { _logger.LogWarning("the seeding-done handler failed for {Torrent}: {Error}", torrent, e.Message); }
    }

    void ITorrentHost.RemoveBySeedingRule(Torrent torrent, bool deleteData)
    {
        var remove = _options.RemoveTorrent ?? RemoveAsync;
        _ = Task.Run(async () =>
        {
            try { await remove(torrent, deleteData).ConfigureAwait(false); }
            catch (Exception e) { _logger.LogWarning("removing {Torrent} by its seeding rule failed: {Error}", torrent, e.Message); }
        });
    }

    /// <summary>Removes a torrent, optionally deleting its data.</summary>
    public Task RemoveAsync(Torrent torrent, bool deleteData) => Loop.RunAsync(async () =>
    {
        await torrent.StopOnLoopAsync(TorrentState.Stopped, null);
        torrent.WakeDue = DateTimeOffset.MaxValue; // its entry in the schedule is skipped when it comes up
        lock (_torrents)
        {
            _torrents.Remove(torrent.InfoHash);
            _torrentsByMseKey.Remove(new InfoHash(Peers.Encryption.MseHandshake.TorrentKey(torrent.InfoHash)));
            if (torrent.V2WireHash is { } alias && _aliases.Remove(alias))
                _torrentsByMseKey.Remove(new InfoHash(Peers.Encryption.MseHandshake.TorrentKey(alias)));
            OnRemoved(torrent);
        }
        if (deleteData)
        {
            try { if (torrent.Storage is { } st) await st.DeleteAsync(CancellationToken.None); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _logger.LogWarning("deleting data failed: {Error}", e.Message); }
        }
        if (torrent.Storage is { } storage) await storage.DisposeAsync();
        foreach (var s in torrent.PeerSources)
        {
            try { await s.DisposeAsync(); } catch (Exception) { /* a broken source must not block removal */ }
        }
        TorrentChanged?.Invoke(torrent);
    });

    /// <summary>A picture of every torrent and the session.</summary>
    public Task<SessionSnapshot> GetSnapshotAsync() => Loop.InvokeAsync(() =>
    {
        var list = Torrents.Select(t => t.BuildSnapshot()).ToArray();
        return new SessionSnapshot
        {
            Torrents = list,
            DownloadRate = list.Sum(t => t.DownloadRate),
            UploadRate = list.Sum(t => t.UploadRate),
            DownloadLimit = Config.DownloadLimit,
            UploadLimit = Config.UploadLimit,
            ListenPort = ListenPort,
            Connections = _connections,
            DhtNodes = _options.DhtNodeCount?.Invoke(),
            BlockedAttempts = Blocklist.Enabled ? Blocklist.BlockedCount : null,
            BlocklistRules = Blocklist.RuleCount,
        };
    });

    /// <summary>Everything about one torrent.</summary>
    public Task<TorrentDetails> GetDetailsAsync(Torrent torrent) => Loop.InvokeAsync(torrent.BuildDetails);

    /// <summary>Finds a torrent by its hex id.</summary>
    /// <remarks>A dictionary lookup: RPC callers name thousands of torrents by id in one request.</remarks>
    public Torrent? Find(string id)
    {
        if (!InfoHash.TryParseHex(id, out var hash)) return null;
        lock (_torrents) return _torrents.TryGetValue(hash, out var t) ? t : null;
    }

    /// <summary>Changes the global rate limits (bytes/s, 0 = none).</summary>
    public Task SetGlobalLimitsAsync(long download, long upload) => Loop.InvokeAsync(() =>
    {
        Config = Config with { DownloadLimit = Math.Max(0, download), UploadLimit = Math.Max(0, upload) };
        GlobalDownload.SetRate(Config.DownloadLimit);
        GlobalUpload.SetRate(Config.UploadLimit);
    });

    // ---------------------------------------------------------------- the tick and the schedule

    /// <summary>Torrents ticked every second: those with peers, connections being made or payload moving.</summary>
    private readonly List<Torrent> _tickList = [];

    /// <summary>Torrents to tick at a time (the next connection attempt, a resume save); stale entries are skipped.</summary>
    private readonly PriorityQueue<Torrent, DateTimeOffset> _wakes = new();

    private Torrent[] _tickScratch = [];

    /// <summary>Gives memory back when the GC holds far more than is in use (after bursts of thousands of torrents).</summary>
    private HeapTrimmer? _trimmer;

    /// <summary>Calls of <see cref="Torrent.Tick"/> so far (for tests: an idle torrent is not ticked).</summary>
    internal long TorrentTicks { get; private set; }

    /// <summary>Torrents on the tick list now (for tests).</summary>
    internal int TickListCount => _tickList.Count;

    /// <summary>
    /// Once a second on the loop. The work is proportional to the torrents that have something to do, not to the
    /// session: the torrents on the tick list, and those whose scheduled time came. Ten thousand idle seeding torrents
    /// cost nothing here.
    /// </summary>
    private void Tick()
    {
        if (_disposed) return;
        var now = Time.GetUtcNow();
        _connectBudget = Config.ConnectsPerSecond;
        while (_wakes.TryPeek(out var woken, out var due) && due <= now)
        {
            _wakes.Dequeue();
            if (woken.WakeDue != due) continue; // moved earlier, or cancelled
            woken.WakeDue = DateTimeOffset.MaxValue;
            Activate(woken);
        }
        int count = _tickList.Count;
        if (count > 0)
        {
            if (_tickScratch.Length < count) _tickScratch = new Torrent[Math.Max(count, _tickScratch.Length * 2)];
            _tickList.CopyTo(_tickScratch);
            _tickList.Clear();
            for (int i = 0; i < count; i++) _tickScratch[i].OnTickList = false;
            for (int i = 0; i < count; i++)
            {
                var t = _tickScratch[i];
                _tickScratch[i] = null!;
                bool stay;
                try
                {
                    TorrentTicks++;
                    stay = t.Tick(now);
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "tick of {Torrent} failed", t);
                    stay = true; // as before: a broken tick does not stop the torrent's other work
                }
                if (stay) Activate(t);
                else if (!t.OnTickList) t.LeftTickList();
            }
        }
        TickQueue();
        _saveQueue.Pump();
    }

    private void Activate(Torrent torrent)
    {
        if (torrent.OnTickList) return;
        torrent.OnTickList = true;
        _tickList.Add(torrent);
    }

    void ITorrentHost.Activate(Torrent torrent)
    {
        if (Loop.IsOnLoop) Activate(torrent);
        else Loop.Post(() => Activate(torrent));
    }

    void ITorrentHost.WakeAt(Torrent torrent, DateTimeOffset at)
    {
        if (!Loop.IsOnLoop)
        {
            Loop.Post(() => ((ITorrentHost)this).WakeAt(torrent, at));
            return;
        }
        if (at >= torrent.WakeDue) return;
        torrent.WakeDue = at;
        _wakes.Enqueue(torrent, at);
    }

    // ---------------------------------------------------------------- ITorrentHost

    IConnectionBudget ITorrentHost.Connections => this;

    bool IConnectionBudget.HasRoom => _connections + _halfOpen < Config.MaxConnections;

    bool IConnectionBudget.TryBeginConnect()
    {
        if (_halfOpen >= Config.MaxHalfOpen || _connectBudget <= 0) return false;
        _halfOpen++;
        _connectBudget--;
        return true;
    }

    void IConnectionBudget.EndConnect() => _halfOpen--;

    void IConnectionBudget.Opened() => _connections++;

    void IConnectionBudget.Closed() => _connections--;

    int? ITorrentHost.DhtPort => _options.DhtPort?.Invoke();

    void ITorrentHost.OnDhtNodeHint(IPEndPoint endPoint)
    {
        try { _options.DhtNodeHint?.Invoke(endPoint); }
        catch (Exception e) { _logger.LogDebug("DHT node hint failed: {Error}", e.Message); }
    }

    Blocklists.Blocklist ITorrentHost.Blocklist => Blocklist;

    bool ITorrentHost.AllowsAddress(IPAddress address)
    {
        // The listen address says which families the session uses: null both, a wildcard or an address its own.
        if (Config.ListenAddress is not { } listen) return true;
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return a.AddressFamily == listen.AddressFamily;
    }

    bool ITorrentHost.IsSelf(IPEndPoint endPoint)
    {
        var a = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        return endPoint.Port == ListenPort && (IPAddress.IsLoopback(a) || _localAddresses.Contains(a));
    }

    RateLimiting.RateLimiter ITorrentHost.CreateLimiter(bool download, long bytesPerSecond) =>
        (download ? GlobalDownload : GlobalUpload).CreateChild(bytesPerSecond);

    void ITorrentHost.OnDownloadCompleted(Torrent torrent)
    {
        try { _options.TorrentCompleted?.Invoke(torrent); }
        catch (Exception e) { _logger.LogWarning("completion callback for {Torrent} failed: {Error}", torrent, e.Message); }
    }

    void ITorrentHost.OnTorrentChanged(Torrent torrent)
    {
        torrent.Changed();
        torrent.ObserveState();
        TorrentChanged?.Invoke(torrent);
        RequestQueueEvaluation();
    }

    Task ITorrentHost.SaveResumeAsync(Torrent torrent) => _options.SaveResume?.Invoke(torrent) ?? Task.CompletedTask;

    void ITorrentHost.OnPieceVerified(Torrent torrent, int piece) => _options.PieceVerified?.Invoke(torrent, piece);

    Task<CheckQueue.Slot> ITorrentHost.EnterCheckAsync(CancellationToken cancellationToken) => Checks.EnterAsync(cancellationToken);

    /// <summary>Stops every torrent (trackers hear "stopped", resume data is saved) and closes the port.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await Loop.RunAsync(async () =>
        {
            _disposing = true; // the queue starts nothing while torrents stop
            _timer?.Dispose();
            await Task.WhenAll(Torrents.Select(t => t.StopOnLoopAsync(TorrentState.Stopped, null, closing: true)));
            await _saveQueue.DrainAsync();
            foreach (var t in Torrents)
            {
                try { if (t.Storage is { } st) await st.DisposeAsync(); } catch (Exception e) { _logger.LogDebug("storage dispose: {Error}", e.Message); }
                foreach (var s in t.PeerSources)
                {
                    try { await s.DisposeAsync(); } catch (Exception e) { _logger.LogDebug("source dispose: {Error}", e.Message); }
                }
            }
            if (_listener is not null) await _listener.DisposeAsync();
            if (_udp is not null) await _udp.DisposeAsync();
        });
        _disposed = true;
        _trimmer?.Dispose();
        _webSeedHttp?.Dispose();
        Loop.Dispose();
    }
}
