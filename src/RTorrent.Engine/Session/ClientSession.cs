using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Dht;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Plugins;
using RTorrent.Engine.Proxies;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Storage;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Session;

/// <summary>How a session is opened.</summary>
public sealed record SessionOptions
{
    /// <summary>Options from the persisted settings (the session folder is the settings' own).</summary>
    public static SessionOptions FromSettings(Settings.EngineSettings s, ILoggerFactory? loggerFactory = null)
    {
        var disabled = s.DisabledPeerSources.ToList();
        var proxy = s.ProxyPolicy;
        if (!s.DhtEnabled || !proxy.DhtAllowed) disabled.Add("dht");
        if (!s.PexEnabled) disabled.Add("pex");
        if (!s.LsdEnabled) disabled.Add("lsd");
        return new SessionOptions
        {
            SessionDirectory = s.SessionDirectory,
            Engine = EngineConfigFrom(s),
            EnableDht = s.DhtEnabled && proxy.DhtAllowed,
            DhtBootstrap = s.DhtBootstrapNodes,
            DisabledPeerSources = disabled,
            PluginSettings = FamilyPluginSettings(s),
            Blocklist = Blocklists.BlocklistSources.From(s),
            PortForwarding = s.PortForwardingEnabled,
            LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance,
            RunFeeds = true,
        };
    }

    /// <summary>
    /// An address family turned off in settings.json (<c>listenOnIPv4</c> / <c>listenOnIPv6</c>) is off for the LSD
    /// plugin too (<c>lsd.ipv4</c> / <c>lsd.ipv6</c>: the engine's settings win over the plugin's environment variables).
    /// </summary>
    private static Dictionary<string, string>? FamilyPluginSettings(Settings.EngineSettings s)
    {
        if (s.ListenOnIPv4 && s.ListenOnIPv6) return null;
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!s.ListenOnIPv4) d["lsd.ipv4"] = "false";
        if (!s.ListenOnIPv6) d["lsd.ipv6"] = "false";
        return d;
    }

    /// <summary>The engine's runtime knobs from the persisted settings.</summary>
    public static EngineConfig EngineConfigFrom(Settings.EngineSettings s) => new()
    {
        ListenPort = s.ListenPort,
        // Both families: one dual-stack socket; one of them: that family's wildcard (IPv6 alone is IPv6-only).
        ListenAddress = s.ListenOnIPv6 ? (s.ListenOnIPv4 ? null : IPAddress.IPv6Any) : IPAddress.Any,
        MaxConnections = s.MaxConnections,
        MaxConnectionsPerTorrent = s.MaxConnectionsPerTorrent,
        MaxHalfOpen = s.MaxHalfOpenConnections,
        ConnectsPerSecond = s.ConnectionsPerSecond,
        UploadSlots = s.UploadSlots,
        DownloadLimit = s.EffectiveDownloadRateLimit,
        UploadLimit = s.EffectiveUploadRateLimit,
        ReadCacheBytes = s.DiskReadCacheSize,
        WebSeedConnections = s.WebSeedConnections,
        Preallocate = s.Preallocate,
        Encryption = s.Encryption,
        Transports = s.Transports,
        DefaultSavePath = s.DownloadDirectory,
        SeedRatioLimit = s.SeedRatioLimit,
        SeedingRules = s.SeedingRules,
        Queue = s.QueueLimits,
        Proxy = s.ProxyPolicy,
    };

    /// <summary>
    /// Where torrents, resume data, settings and DHT state persist; null for a throw-away session that remembers
    /// nothing (resume data is then not written).
    /// </summary>
    public string? SessionDirectory { get; init; }

    /// <summary>The engine's knobs.</summary>
    public EngineConfig Engine { get; init; } = new();

    /// <summary>Load plugins from the program's and the user's plugin folders (and <see cref="PluginDirectories"/>).</summary>
    public bool LoadPlugins { get; init; } = true;

    /// <summary>Extra plugin folders (<c>--plugins DIR</c>).</summary>
    public IReadOnlyList<string> PluginDirectories { get; init; } = [];

    /// <summary>Settings handed to plugins (e.g. the LSD port), by key.</summary>
    public IReadOnlyDictionary<string, string>? PluginSettings { get; init; }

    /// <summary>Watch picker plugins and load a rebuilt DLL without a restart.</summary>
    public bool PluginHotReload { get; init; } = true;

    /// <summary>Run a DHT node (BEP 5).</summary>
    public bool EnableDht { get; init; } = true;

    /// <summary>DHT bootstrap nodes, host:port. Empty: the node table saved in the session, else the public routers.</summary>
    public IReadOnlyList<string> DhtBootstrap { get; init; } = [];

    /// <summary>Use the public DHT routers when there is nothing else to bootstrap from.</summary>
    public bool DhtUsePublicRouters { get; init; } = true;

    /// <summary>Peer sources disabled for every torrent (by name: "tracker", "dht", "pex", "lsd", ...).</summary>
    public IReadOnlyList<string> DisabledPeerSources { get; init; } = [];

    /// <summary>The blocklist's sources and schedule (see docs/BLOCKLISTS.md); off by default.</summary>
    public Blocklists.BlocklistSources Blocklist { get; init; } = new();

    /// <summary>
    /// Keep the listen port forwarded by the router (UPnP, NAT-PMP/PCP; settings.json <c>portForwardingEnabled</c>). Off
    /// unless the settings say so: a session made in code (tests, <c>rtorrent download</c>) asks no router.
    /// </summary>
    public bool PortForwarding { get; init; }

    /// <summary>The ways of asking the router, made when mapping starts (tests give fakes); null for UPnP and NAT-PMP/PCP.</summary>
    public Func<IReadOnlyList<PortMapping.IPortMappingProtocol>>? PortMappingProtocols { get; init; }

    /// <summary>Timings of port mapping (tests).</summary>
    public PortMapping.PortMapperOptions? PortMapper { get; init; }

    /// <summary>
    /// Poll the feeds of feeds.json (docs/FEEDS.md) once the saved torrents are restored. On for the daemon and the
    /// interface (<see cref="FromSettings"/>); off for one-shot commands and tests unless they ask.
    /// </summary>
    public bool RunFeeds { get; init; }

    /// <summary>Limits on feed readers (tests shorten them); null for the defaults.</summary>
    public PluginGuardOptions? FeedGuard { get; init; }

    /// <summary>Tracker timings (tests shorten them).</summary>
    public TrackerPeerSourceOptions? Trackers { get; init; }

    /// <summary>Logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// How long a verified piece waits to be journaled (<see cref="PieceJournal"/>): at most what a kill -9 loses
    /// between two full resume saves. Zero journals each piece at once (tests).
    /// </summary>
    public TimeSpan PieceJournalInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A running client: the engine with its components (built-ins and plugins), the DHT node, and persistence of torrents
/// and resume data in the session folder. The command line, the terminal interface and the demo all drive one.
/// </summary>
public sealed partial class ClientSession : IAsyncDisposable
{
    private readonly SessionOptions _options;
    private readonly ILogger _logger;
    private readonly ResumeStore? _resume;
    private readonly FileStorageFactory _fileStorage;
    private readonly TrackerPeerSourceFactory _trackers;
    private PluginCatalog? _plugins;
    private FileStream? _lock;
    private readonly List<LogEntry> _log = [];
    private readonly TorrentRelocator _relocator;
    private readonly KeepingLoggerFactory _loggers;
    private readonly PieceJournalBatcher? _journals;

    private ClientSession(SessionOptions options)
    {
        _options = options;
        // What the session runs logs through _loggers, which also keeps its warnings and errors in the session log and
        // the torrents' logs (ClientSession.Logging.cs). The session's own warnings are AddLog's, kept already.
        _loggers = new KeepingLoggerFactory(options.LoggerFactory, this);
        _logger = options.LoggerFactory.CreateLogger("rtorrent.session");
        _fileStorage = new FileStorageFactory();
        var trackerOptions = options.Trackers ?? TrackerPeerSourceOptions.Default;
        // BEP 7: while the peer port takes IPv6, trackers hear our IPv6 address too (unless the caller chose one), but
        // never through a proxy: that would tell the tracker the very address the proxy hides.
        if (trackerOptions.IPv6Address is null && options.Engine.Proxy.ForTrackers is null
            && options.Engine.ListenAddress is null or { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 })
            trackerOptions = trackerOptions with { IPv6Address = LocalIPv6Address.Get };
        _trackerClients = TrackerClientsFor(options.Engine.Proxy, options.Time, _loggers.CreateLogger("rtorrent.trackers"));
        _trackers = new TrackerPeerSourceFactory(trackerOptions, _trackerClients, null, options.Time, _loggers);
        Components = new ComponentRegistry();
        if (options.SessionDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            _resume = new ResumeStore(dir);
            _journals = new PieceJournalBatcher(_resume, options.PieceJournalInterval, options.Time, WhileNoResumeSaveAsync);
        }
        Engine = new ClientEngine(options.Engine, new ClientEngineOptions
        {
            LoggerFactory = _loggers,
            Time = options.Time,
            Catalog = new SessionCatalog(this),
            SaveResume = SaveResumeAsync,
            PieceVerified = _journals is null ? null : _journals.Verified,
            MetadataReceived = SaveTorrentFileAsync,
            RemoveTorrent = RemoveAsync,
            DhtPort = () => DhtNodes.FirstOrDefault(d => d.IsRunning)?.LocalEndPoint?.Port,
            DhtNodeCount = () => DhtNodes is { Count: > 0 } nodes ? nodes.Sum(d => d.NodeCount) : null,
            // A peer's PORT message: the node of its family pings it (BEP 5; v4-mapped addresses are IPv4).
            DhtNodeHint = ep => DhtNodes.FirstOrDefault(d => d.AddressFamily == AddressClass.Normalize(ep).AddressFamily)?.AddNode(ep),
            TorrentCompleted = OnDownloadCompleted,
            SeedingDone = t => RunHook(HookEvent.SeedingDone, t),
            Blocklist = Blocklist,
        });
        BlocklistUpdater = new Blocklists.BlocklistUpdater(Blocklist,
            options.SessionDirectory is { } sessionDir ? Path.Combine(sessionDir, "blocklists") : Path.Combine(Path.GetTempPath(), $"rtorrent-blocklists-{Environment.ProcessId}"),
            options.Time, _loggers.CreateLogger("rtorrent.blocklist"), m => Keep(new LogEntry(options.Time.GetUtcNow(), PluginLogLevel.Warning, m)),
            options.Engine.Proxy.ForWebSeeds is { } webProxy ? new SocketsHttpHandler().Through(webProxy) : null);
        _relocator = new TorrentRelocator(Engine, WhileNoResumeSaveAsync, t => SaveResumeCoreAsync(t, rethrow: true), SaveResumeAsync);
        Statistics = new SessionStatistics(options.SessionDirectory, () => Engine.TransferredThisRun, options.Time,
            _loggers.CreateLogger("rtorrent.stats"), m => AddLog(PluginLogLevel.Warning, m));
    }

    /// <summary>
    /// The tracker clients: the process-wide shared ones without a proxy; with one, clients of this session whose HTTP goes
    /// through it, and UDP trackers through a SOCKS5 proxy's relay, or refused with the reason by other proxies.
    /// </summary>
    private static TrackerClientPool? TrackerClientsFor(Proxies.ProxyPolicy proxy, TimeProvider time, ILogger logger)
    {
        return proxy.ForTrackers is { } server ? TrackerClientPool.Through(server, time, logger) : null;
    }

    private readonly TrackerClientPool? _trackerClients;

    /// <summary>What this session did in this run and in all runs (Transmission's session-stats), kept in stats.json.</summary>
    public SessionStatistics Statistics { get; }

    /// <summary>The engine.</summary>
    public ClientEngine Engine { get; }

    /// <summary>Every picker, storage and peer source, built-in and from plugins.</summary>
    public ComponentRegistry Components { get; }

    /// <summary>What happened to each plugin folder.</summary>
    public PluginLoadReport Plugins { get; private set; } = PluginLoadReport.Empty;

    /// <summary>
    /// The blocklist the engine and the DHT obey: its rules, whether it is on and the count of attempts it refused.
    /// </summary>
    public Blocklists.Blocklist Blocklist { get; } = new();

    /// <summary>Loads, downloads and refreshes <see cref="Blocklist"/> from its sources.</summary>
    public Blocklists.BlocklistUpdater BlocklistUpdater { get; }

    /// <summary>The IPv4 DHT node, when enabled (or the IPv6 one when the session runs only IPv6).</summary>
    public DhtEngine? Dht { get; private set; }

    /// <summary>The IPv6 DHT node (BEP 32), when enabled and the system has IPv6.</summary>
    public DhtEngine? Dht6 { get; private set; }

    /// <summary>The running DHT nodes: IPv4 first, then IPv6.</summary>
    public IReadOnlyList<DhtEngine> DhtNodes => new[] { Dht, Dht6 }.OfType<DhtEngine>().Distinct().ToArray();

    /// <summary>The session folder, or null.</summary>
    public string? SessionDirectory => _options.SessionDirectory;

    /// <summary>
    /// Session-level events (plugin failures, restore problems) and the warnings and errors of the engine, the trackers,
    /// the DHT and plugins, oldest first.
    /// </summary>
    public IReadOnlyList<LogEntry> Log
    {
        get { lock (_log) return _log.ToArray(); }
    }

    internal void AddLog(PluginLogLevel level, string message)
    {
        Keep(new LogEntry(_options.Time.GetUtcNow(), level, message));
        _logger.Log(level switch { PluginLogLevel.Error => LogLevel.Error, PluginLogLevel.Warning => LogLevel.Warning, PluginLogLevel.Debug => LogLevel.Debug, _ => LogLevel.Information },
            "{Message}", message);
    }

    private void Keep(LogEntry entry)
    {
        lock (_log)
        {
            _log.Add(entry);
            if (_log.Count > 1000) _log.RemoveAt(0);
        }
    }

    /// <summary>
    /// Opens a session: takes the session folder's lock, registers the built-in components, loads plugins, starts the
    /// engine and the DHT. Torrents saved in the folder are not restored until <see cref="RestoreAsync"/>.
    /// </summary>
    /// <exception cref="IOException">Another instance uses the session folder.</exception>
    public static async Task<ClientSession> OpenAsync(SessionOptions options)
    {
        var session = new ClientSession(options);
        try
        {
            await session.StartAsync();
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        if (_options.SessionDirectory is { } dir)
        {
            try
            {
                _lock = new FileStream(Path.Combine(dir, "session.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                throw new IOException($"Another rtorrent is using the session folder {dir}; use --session to choose another.");
            }
            // Once per session, before anything saves: what crashed saves left (one listing of the folder).
            int stale = _resume!.DeleteStaleTemporaryFiles();
            if (stale > 0) _logger.LogInformation("removed {Count} temporary files left by an interrupted save", stale);
        }
        await Statistics.StartAsync();
        LoadCategories();
        Components.RegisterBuiltIns(new BuiltInComponents(this));
        CreateFeeds();
        Components.Changed += (_, e) =>
        {
            // A picker plugin was rebuilt and reloaded: torrents using it switch to the new code at once.
            foreach (var added in e.Added.Where(c => c.Kind == ComponentKind.Picker))
                foreach (var t in Engine.Torrents.Where(t => string.Equals(t.Options.Picker, added.Name, StringComparison.OrdinalIgnoreCase)))
                    _ = t.SetPickerAsync(t.Options.Picker).ContinueWith(r => AddLog(PluginLogLevel.Warning, $"reloading picker for {t.Name}: {r.Exception?.InnerException?.Message}"),
                        CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        };
        if (_options.LoadPlugins)
        {
            _plugins = new PluginCatalog(Components, new PluginCatalogOptions
            {
                Directories = PluginCatalogOptions.DefaultDirectories(_options.PluginDirectories),
                Settings = _options.PluginSettings,
                EnableHotReload = _options.PluginHotReload,
            }, _loggers);
            Plugins = _plugins.LoadAll();
            foreach (var failed in Plugins.Failed) AddLog(PluginLogLevel.Warning, $"plugin {failed}");
        }
        // Local copies are read before the port opens, so no blocked peer gets in during the first second; a URL with no
        // copy yet is downloaded in the background.
        await BlocklistUpdater.ApplyAsync(_options.Blocklist);
        await Engine.StartAsync();
        if (!_options.Engine.Proxy.DhtAllowed)
            AddLog(PluginLogLevel.Information, $"the DHT does not run: its datagrams must go through the {_options.Engine.Proxy.Server}, which carries none (only SOCKS5 does)");
        if (_options.EnableDht && _options.Engine.Proxy.DhtAllowed)
        {
            // BEP 32: one node per address family the peer port listens on, each with its own socket, routing table,
            // saved nodes (dht.dat, dht6.dat) and bootstrap; linked so each answers `want` for the other.
            var listen = _options.Engine.ListenAddress;
            var v4 = listen is null ? IPAddress.Any : listen.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? listen : null;
            var v6 = listen is null ? (System.Net.Sockets.Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : null)
                : listen.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? listen : null;
            // Through a SOCKS5 proxy's relay: one IPv4 node, its datagrams never out directly (docs/PROXIES.md).
            if (_options.Engine.Proxy.ForDht is not null) (v4, v6) = (IPAddress.Any, null);
            if (v4 is not null) Dht = await StartDhtNodeAsync(v4, "dht.dat", "rtorrent.dht", required: true);
            if (v6 is not null) Dht6 = await StartDhtNodeAsync(v6, "dht6.dat", "rtorrent.dht6", required: v4 is null);
            if (Dht is not null && Dht6 is not null) DhtEngine.Link(Dht, Dht6);
            Dht ??= Dht6;
        }
        // After the listener and the DHT's socket exist: the port to map is the one in use.
        if (_options.PortForwarding) await SetPortForwardingAsync(true);
    }

    /// <summary>Starts the DHT node of one family; null (and a log line) when its port cannot be bound.</summary>
    private async Task<DhtEngine?> StartDhtNodeAsync(IPAddress bind, string stateFile, string logName, bool required)
    {
        var bootstrap = _options.DhtBootstrap.ToList();
        string? state = _options.SessionDirectory is { } d ? Path.Combine(d, stateFile) : null;
        // Names are resolved for the node's own family and literals of the other family are skipped: a node given only
        // the other family's nodes learns its own through the sibling's `want` (BEP 32).
        if (bootstrap.Count == 0 && (state is null || !File.Exists(state)) && _options.DhtUsePublicRouters)
            bootstrap.AddRange(DhtOptions.PublicBootstrapNodes);
        if (_options.Engine.Proxy is { ProxyOnly: true, ForDht: not null })
        {
            // Looking a name up would ask our DNS server directly: in proxy-only mode only addresses are used
            // (and the nodes saved from earlier runs).
            int before = bootstrap.Count;
            bootstrap.RemoveAll(node => !IPEndPoint.TryParse(node, out _));
            if (bootstrap.Count < before)
                AddLog(PluginLogLevel.Information, $"proxy only: {before - bootstrap.Count} DHT bootstrap node(s) given by name are not used (a name lookup would leave directly)");
        }
        var dhtOptions = new DhtOptions
        {
            Port = Engine.ListenPort,
            BindAddress = bind,
            BootstrapNodes = bootstrap,
            StateFilePath = state,
            Blocklist = Blocklist,
        };
        var dhtLogger = _loggers.CreateLogger(logName);
        // Through a SOCKS5 proxy the DHT's datagrams go to the proxy's UDP relay, never out directly. Otherwise the
        // listen port's UDP socket of the node's family, shared with uTP (docs/UTP.md); the DHT's own socket when the
        // engine could not open that family's.
        var family = bind.AddressFamily;
        Func<IDhtTransport>? transport = _options.Engine.Proxy.ForDht is { } dhtProxy
            ? () => new ProxiedDhtTransport(new RelayedDatagrams(dhtProxy, dhtLogger, _options.Time), Engine.ListenPort)
            : Engine.Udp is { } udp && udp.Has(family) ? () => udp.CreateDhtTransport(family) : null;
        var node = new DhtEngine(dhtOptions, transport, dhtLogger, _options.Time);
        try
        {
            await node.StartAsync();
            return node;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            // No IPv6 on this system (or its port taken) leaves the IPv4 DHT running: worth a note, not a warning.
            if (required) AddLog(PluginLogLevel.Warning, $"DHT disabled: {e.Message}");
            else _logger.LogInformation("IPv6 DHT not started: {Error}", e.Message);
            await node.DisposeAsync();
            return null;
        }
    }

    /// <summary>Removes a torrent and forgets it in the session; optionally deletes its data.</summary>
    public async Task RemoveAsync(Torrent torrent, bool deleteData)
    {
        await Engine.RemoveAsync(torrent, deleteData);
        _journals?.Forget(torrent);
        _resume?.Delete(torrent.InfoHash);
        ForgetEngineLines(torrent.InfoHash);
        RunHook(HookEvent.Removed, torrent);
    }

    private static ReadOnlyMemory<byte> FullTorrentBytes(TorrentMetainfo meta) => meta.ToTorrentFile();

    // ------------------------------------------------------------------ moving and renaming data

    /// <summary>
    /// Moves the torrent's data to <paramref name="newSavePath"/> and makes it the torrent's download folder
    /// (Transmission's <c>torrent-set-location</c> with <c>move</c>). On one file system each file is renamed; across
    /// file systems each is copied, checked for size and fsynced before anything is deleted. A complete torrent keeps
    /// seeding from the old folder meanwhile; an incomplete one is paused and started again afterwards. The save path
    /// (<see cref="Torrent.SavePath"/>, the snapshot, the resume data) changes only once the data is complete in the
    /// new folder; then the old files, and the torrent's folders left empty there, are removed. Moving to the folder
    /// it is in does nothing. A kill -9 at any moment leaves the resume data naming a folder that holds the data.
    /// </summary>
    /// <exception cref="IOException">The move failed (disk full, permission denied, a file of the same name already in
    /// the new folder - never overwritten -, ...); the message says why, the torrent's log has a line, and the torrent
    /// still uses its old folder, whose files are untouched.</exception>
    /// <exception cref="InvalidOperationException">The torrent's storage keeps no files in a folder (e.g. "data of the
    /// 'memory' storage cannot be moved"), it is being checked, or it was removed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (or the session closed) before the switch; nothing changed.</exception>
    public Task MoveDataAsync(Torrent torrent, string newSavePath, CancellationToken cancellationToken = default) =>
        _relocator.MoveAsync(torrent, newSavePath, null, cancellationToken);

    /// <summary>As <see cref="MoveDataAsync(Torrent, string, CancellationToken)"/>, reporting each file placed.</summary>
    internal Task MoveDataAsync(Torrent torrent, string newSavePath, IProgress<MoveProgress>? progress, CancellationToken cancellationToken) =>
        _relocator.MoveAsync(torrent, newSavePath, progress, cancellationToken);

    /// <summary>
    /// Points the torrent at data that is already in <paramref name="newSavePath"/> (Transmission's
    /// <c>torrent-set-location</c> without <c>move</c>): nothing is moved; the torrent is paused, its data there is hashed
    /// (a full check), the resume data saved with the new folder, and it is started again if it ran.
    /// </summary>
    /// <exception cref="InvalidOperationException">The torrent's storage keeps no files in a folder, it is being checked, or it was removed.</exception>
    public Task SetLocationAsync(Torrent torrent, string newSavePath, CancellationToken cancellationToken = default) =>
        _relocator.SetLocationAsync(torrent, newSavePath, cancellationToken);

    /// <summary>
    /// Renames a file or folder of the torrent (Transmission's <c>torrent-rename-path</c>): <paramref name="path"/> is its
    /// torrent-relative path (for a multi-file torrent starting with the torrent's name; a single-file torrent's file is
    /// its name) and <paramref name="newName"/> its new last part. What is on disk is renamed (whole or partial files,
    /// running or not), the torrent uses the new paths from then on, and the renames are saved in the resume data, so a
    /// restart finds the files and trusts its resume data. Renaming the top folder (or the single file) renames the
    /// torrent as shown; its info-hash and metainfo never change.
    /// </summary>
    /// <exception cref="ArgumentException">The new name is not a valid file name, the torrent has no such path, or another
    /// of its files or folders already has that name.</exception>
    /// <exception cref="IOException">Something on disk already has the new name (left alone), or the rename failed.</exception>
    /// <exception cref="InvalidOperationException">The metadata is not known yet, or the storage keeps no files in a folder.</exception>
    public Task RenamePathAsync(Torrent torrent, string path, string newName, CancellationToken cancellationToken = default) =>
        _relocator.RenameAsync(torrent, path, newName, cancellationToken);

    // ------------------------------------------------------------------ persistence

    /// <summary>
    /// Saves a torrent's resume data. The order makes a kill -9 at any moment safe: (1) probe the files, (2) take the
    /// verified pieces, (3) flush, (4) write. Every claimed piece is durable (verified before the flush), and every
    /// write after the probe changes a file's size or time, so the next start hashes the pieces the file does not
    /// list. Saves of one torrent never overlap.
    /// </summary>
    private async Task SaveResumeAsync(Torrent torrent)
    {
        var gate = _saveGates.GetOrAdd(torrent.InfoHash, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try { await SaveResumeCoreAsync(torrent); }
        finally { gate.Release(); }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<InfoHash, SemaphoreSlim> _saveGates = new();

    /// <summary>Runs <paramref name="step"/> while no resume save of the torrent runs (and none starts).</summary>
    private async Task WhileNoResumeSaveAsync(Torrent torrent, Func<Task> step)
    {
        var gate = _saveGates.GetOrAdd(torrent.InfoHash, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try { await step(); }
        finally { gate.Release(); }
    }

    /// <summary>Saved queue positions of torrents being restored, written back unchanged until the order is restored.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<InfoHash, int> _restoringPositions = new();

    private async Task SaveResumeCoreAsync(Torrent torrent, bool rethrow = false)
    {
        if (_resume is null || torrent.Metainfo is not { } meta || torrent.Storage is not { } storage) return;
        try
        {
            var states = new StorageFileState[meta.Files.Count];
            for (int i = 0; i < states.Length; i++)
                states[i] = meta.Files[i].IsPadding ? new StorageFileState(true, meta.Files[i].Length, null) : await storage.ProbeAsync(i, CancellationToken.None);
            var data = await Engine.Loop.InvokeAsync(() => new ResumeData
            {
                InfoHash = torrent.InfoHash,
                SavePath = Path.GetFullPath(torrent.SavePath),
                PieceCount = meta.PieceCount,
                // While a check is pending the verified pieces are not known: claim none and record the files as unknown
                // (not there), so the next start finds them "written since the save" and checks them (ResumeValidator).
                VerifiedPieces = torrent.CheckPending ? new Bitfield(meta.PieceCount).ToBytes() : torrent.HaveSnapshot().ToBytes(),
                Files = torrent.CheckPending ? new StorageFileState[states.Length] : states,
                Uploaded = torrent.UploadedTotal,
                Downloaded = torrent.DownloadedTotal,
                AddedAt = torrent.AddedAt,
                CompletedAt = torrent.CompletedAt,
                PickerName = torrent.Options.Picker,
                StorageName = torrent.Options.Storage,
                RenamedFiles = torrent.Options.RenamedFiles ?? System.Collections.ObjectModel.ReadOnlyDictionary<int, string>.Empty,
                // The totals before the current periods and when those began, in session seconds (SessionClock): the
                // same values while a torrent keeps seeding, so an idle torrent's save writes nothing.
                SecondsDownloading = (long)torrent.Activity.DownloadingBefore.TotalSeconds,
                SecondsSeeding = (long)torrent.Activity.SeedingBefore.TotalSeconds,
                DownloadingSince = torrent.Activity.DownloadingSince is { } ds ? Statistics.Clock.ToSessionSeconds(ds) : null,
                SeedingSince = torrent.Activity.SeedingSince is { } ss ? Statistics.Clock.ToSessionSeconds(ss) : null,
                ActivityAt = torrent.Activity.ActivityAt,
                Settings = new TorrentResumeSettings
                {
                    DownloadRateLimit = torrent.DownloadLimit,
                    UploadRateLimit = torrent.UploadLimit,
                    FilePriorities = torrent.FilePriorities.ToArray(),
                    Sequential = torrent.Sequential,
                    SuperSeeding = torrent.SuperSeeding,
                    Paused = torrent.State is TorrentState.Stopped or TorrentState.Error && torrent.UserPaused,
                    Forced = torrent.Forced && !torrent.UserPaused,
                    Labels = torrent.Labels,
                    Category = torrent.Category,
                    Trackers = torrent.TrackersEdited ? torrent.Trackers : null,
                    MaxConnections = torrent.MaxConnections,
                    SeedRatioMode = torrent.SeedRatioMode,
                    SeedRatioLimit = torrent.SeedRatioLimit,
                    SeedIdleMode = torrent.SeedIdleMode,
                    SeedIdleLimit = torrent.SeedIdleLimit,
                    SeedingTimeMode = torrent.SeedingTimeMode,
                    SeedingTimeLimit = torrent.SeedingTimeLimit,
                    MinSeedingTime = torrent.MinSeedingTime,
                    QueuePosition = _restoringPositions.TryGetValue(torrent.InfoHash, out int saved) ? saved : torrent.QueuePosition,
                },
            });
            await storage.FlushAsync(CancellationToken.None);
            await _resume.SaveAsync(data);
            // What the file now claims leaves the journal of pieces verified since the last save (PieceJournal).
            if (_journals is not null)
                await _journals.CompactAfterSaveAsync(torrent, Bitfield.FromBytes(data.VerifiedPieces, meta.PieceCount),
                    () => Engine.Loop.InvokeAsync<Bitfield?>(() => torrent.CheckPending ? null : torrent.HaveSnapshot()));
        }
        catch (Exception e) when (!rethrow && e is IOException or UnauthorizedAccessException or InvalidOperationException or ObjectDisposedException)
        {
            torrent.Log(PluginLogLevel.Warning, $"saving resume data failed: {e.Message}");
        }
    }

    private async Task SaveTorrentFileAsync(Torrent torrent)
    {
        if (_resume is null || torrent.Metainfo is not { } meta) return;
        await _resume.SaveTorrentAsync(torrent.InfoHash, FullTorrentBytes(meta));
    }

    /// <summary>Journals the pieces verified and not yet journaled now, instead of at the end of the interval (tests, measurements).</summary>
    internal Task FlushPieceJournalsAsync() => _journals?.FlushAllAsync() ?? Task.CompletedTask;

    /// <summary>Appends made to piece journals (tests, measurements).</summary>
    internal int PieceJournalAppends => _journals is null ? 0 : Volatile.Read(ref _journals.Appends);

    /// <summary>Stops every torrent (saving resume data), saves the DHT's node table, closes the port, releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        // A restore still running stops between batches; what it restored is stopped and saved with the rest.
        Task[] restores;
        lock (_restores)
        {
            _closing.Cancel();
            restores = [.. _restores];
        }
        foreach (var restore in restores)
        {
            try { await restore; } catch (Exception e) { _logger.LogDebug("restore at close: {Error}", e.Message); }
        }
        // No feed adds anything once closing starts; what it took is saved.
        if (Feeds is not null) await Feeds.DisposeAsync();
        await _relocator.DisposeAsync();
        _altSpeed?.Dispose();
        // Hooks still running are killed (each says so in the log): the session's processes end with it.
        if (_hookRunner is not null) await _hookRunner.DisposeAsync();
        await BlocklistUpdater.DisposeAsync();
        // Mappings are removed while the port is still ours (bounded: a router that does not answer costs a few seconds).
        await SetPortForwardingAsync(false);
        // The torrents' stopped announces share one budget of a few seconds from here (given up beyond it), paced per tracker.
        _trackers.BeginQuit();
        await Engine.DisposeAsync();
        _journals?.Close();
        await Statistics.DisposeAsync();
        foreach (var node in DhtNodes)
        {
            try { await node.SaveStateAsync(); } catch (Exception e) { _logger.LogDebug("saving DHT state: {Error}", e.Message); }
            await node.DisposeAsync();
        }
        _plugins?.Dispose();
        _trackers.Dispose();
        _trackerClients?.Dispose();
        _fileStorage.Dispose();
        _lock?.Dispose();
    }

    // ------------------------------------------------------------------ components

    /// <summary>
    /// Registers the engine's own components the way a session does, without a running session (for listings such
    /// as <c>rtorrent plugins</c>).
    /// </summary>
    public static void RegisterBuiltIns(ComponentRegistry registry) => registry.RegisterBuiltIns(new BuiltInComponents(null));

    /// <summary>The engine's own components, registered through the same contract as plugins.</summary>
    private sealed class BuiltInComponents(ClientSession? session) : IRTorrentPlugin
    {
        public void Register(IPluginRegistry registry)
        {
            registry.AddPiecePicker(new RarestFirstPickerFactory());
            registry.AddStorage(session?._fileStorage ?? new FileStorageFactory());
            registry.AddPeerSource(session?._trackers ?? new TrackerPeerSourceFactory());
            registry.AddPeerSource(new LazyDhtSourceFactory(session));
            registry.AddPeerSource(new PexPeerSourceFactory());
            // Feeds are HTTP the session makes: through the proxy like web seeds and blocklists (docs/PROXIES.md).
            registry.AddTorrentSource(new Feeds.RssTorrentSourceFactory(
                session?._options.Engine.Proxy.ForWebSeeds is { } proxy ? new Feeds.FeedHttp(proxy: proxy) : null));
        }
    }

    /// <summary>The DHT source is registered before the node starts; it binds to the node when a torrent asks.</summary>
    private sealed class LazyDhtSourceFactory(ClientSession? session) : IPeerSourceFactory
    {
        public string Name => "dht";
        public string Version => "1.0";
        public string Description => "Kademlia DHT (BEP 5): peers without a tracker.";
        public bool AllowedForPrivateTorrents => false;

        public IPeerSource Create(PeerSourceContext context) =>
            session?.DhtNodes is { Count: > 0 } nodes ? new DhtPeerSourceFactory(nodes, null, session._options.Time).Create(context) : new NoPeers();

        private sealed class NoPeers : IPeerSource
        {
            public ValueTask StartAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
            public ValueTask StopAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
            public IReadOnlyList<PeerSourceStatus> GetStatus() => [new PeerSourceStatus { Source = "dht", Endpoint = "DHT", State = "disabled" }];
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// The engine's view of the registry: built-ins as they are, plugin components behind guards that bound their
    /// calls, check their answers and disable them for one torrent when they misbehave.
    /// </summary>
    private sealed class SessionCatalog(ClientSession session) : IComponentCatalog
    {
        public IPiecePickerFactory? FindPicker(string name) => session.Components.GetPicker(name) switch
        {
            null => null,
            { Origin.IsBuiltIn: true } c => c.Factory,
            { } c => new GuardedPickerFactory(c.Factory, c.Name, session._options.Time),
        };

        public IStorageFactory? FindStorage(string name) => session.Components.GetStorage(name) switch
        {
            null => null,
            { Origin.IsBuiltIn: true } c => c.Factory,
            { } c => new GuardedStorageFactory(c.Factory, c.Name, session._options.Time),
        };

        public IReadOnlyList<IPeerSourceFactory> PeerSources =>
            session.Components.PeerSources
                .Where(c => !session._options.DisabledPeerSources.Contains(c.Name, StringComparer.OrdinalIgnoreCase))
                // Proxy-only: plugin sources (local discovery among them) open sockets of their own, which no proxy
                // covers; only the built-in ones, whose traffic goes through it, run.
                .Where(c => session._options.Engine.Proxy.DirectListeningAllowed || c.Origin.IsBuiltIn)
                .Select(c => c.Origin.IsBuiltIn ? c.Factory : new GuardedSourceFactory(c.Factory, c.Name, session._options.Time))
                .ToArray();
    }

    private sealed class GuardedPickerFactory(IPiecePickerFactory inner, string name, TimeProvider time) : IPiecePickerFactory
    {
        public string Name => inner.Name;
        public string Version => inner.Version;
        public string Description => inner.Description;
        public IPiecePicker Create(PiecePickerContext context) =>
            GuardedPiecePicker.Create(inner, name, context, new RarestFirstPicker(), null, time);
    }

    private sealed class GuardedStorageFactory(IStorageFactory inner, string name, TimeProvider time) : IStorageFactory
    {
        public string Name => inner.Name;
        public string Version => inner.Version;
        public string Description => inner.Description;
        public ITorrentStorage Open(StorageContext context) => GuardedStorage.Open(inner, name, context, null, time);
    }

    private sealed class GuardedSourceFactory(IPeerSourceFactory inner, string name, TimeProvider time) : IPeerSourceFactory
    {
        public string Name => inner.Name;
        public string Version => inner.Version;
        public string Description => inner.Description;
        public bool AllowedForPrivateTorrents => SafeAllowed();
        public IPeerSource Create(PeerSourceContext context) => GuardedPeerSource.Create(inner, name, context, null, time);

        private bool SafeAllowed()
        {
            try { return inner.AllowedForPrivateTorrents; }
            catch (Exception) { return false; }
        }
    }
}
