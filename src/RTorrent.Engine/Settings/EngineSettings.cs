using System.Globalization;

namespace RTorrent.Engine.Settings;

/// <summary>
/// Every setting of the engine in one immutable object: edit with <c>with</c>, check with <see cref="Validate"/>,
/// load and save with <see cref="SettingsStore"/> (<c>settings.json</c> in the session folder, camelCase names).
/// Rates are in bytes per second and 0 means unlimited.
/// </summary>
public sealed record EngineSettings
{
    /// <summary>rTorrent's first default port (its range is 6890-6999); away from 6881-6889, which some ISPs throttle.</summary>
    public const int DefaultListenPort = 6890;

    /// <summary>Well-known DHT routers used when no node is known yet.</summary>
    public static readonly IReadOnlyList<string> DefaultDhtBootstrapNodes =
    [
        "router.bittorrent.com:6881",
        "dht.transmissionbt.com:6881",
        "router.utorrent.com:6881",
        "dht.libtorrent.org:25401",
    ];

    /// <summary>
    /// Port for incoming peer connections (TCP, and UDP for DHT). 0 asks the system for any free port at each start
    /// (useful for tests and several instances; trackers then see a new port every start).
    /// </summary>
    public int ListenPort { get; init; } = DefaultListenPort;

    /// <summary>Accept and make connections over IPv4.</summary>
    public bool ListenOnIPv4 { get; init; } = true;

    /// <summary>Accept and make connections over IPv6 (where the system has it).</summary>
    public bool ListenOnIPv6 { get; init; } = true;

    /// <summary>Peer connections across all torrents (qBittorrent's default).</summary>
    public int MaxConnections { get; init; } = 500;

    /// <summary>Peer connections per torrent, unless the torrent sets its own.</summary>
    public int MaxConnectionsPerTorrent { get; init; } = 100;

    /// <summary>Outgoing connection attempts in progress at once.</summary>
    public int MaxHalfOpenConnections { get; init; } = 40;

    /// <summary>New outgoing connection attempts per second (libtorrent's default is 30).</summary>
    public int ConnectionsPerSecond { get; init; } = 30;

    /// <summary>Peers unchoked per torrent by tit-for-tat, besides the one optimistic unchoke.</summary>
    public int UploadSlots { get; init; } = 8;

    /// <summary>Global download limit in bytes per second; 0 = unlimited.</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Global upload limit in bytes per second; 0 = unlimited.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>
    /// The global download limit kept while the limit is switched off (Transmission's <c>speed-limit-down</c> while
    /// <c>speed-limit-down-enabled</c> is false), in bytes per second: never applied while off; it becomes
    /// <see cref="DownloadRateLimit"/> when the limit is switched on again. 0 when none is kept.
    /// </summary>
    public long DownloadRateLimitWhenOn { get; init; } = DefaultRateLimitWhenOn;

    /// <summary>The global upload limit kept while the limit is switched off; see <see cref="DownloadRateLimitWhenOn"/>.</summary>
    public long UploadRateLimitWhenOn { get; init; } = DefaultRateLimitWhenOn;

    /// <summary>Transmission's default speed limit, 100 kB/s: what switching a limit on uses until one is set.</summary>
    public const long DefaultRateLimitWhenOn = 100_000;

    /// <summary>
    /// Alternative speed limits ("turtle mode", Transmission's <c>alt-speed-enabled</c>) in force: the session's limits
    /// are then <see cref="AltDownloadRateLimit"/> and <see cref="AltUploadRateLimit"/> instead of
    /// <see cref="DownloadRateLimit"/> and <see cref="UploadRateLimit"/>, which are kept for when it is switched off.
    /// Switched by the interface's key, the RPC, or the schedule (<see cref="AltSpeedScheduleEnabled"/>) at its edges.
    /// </summary>
    public bool AltSpeedEnabled { get; init; }

    /// <summary>The download limit in turtle mode, bytes per second; 0 = unlimited that way (Transmission's default, 50 kB/s).</summary>
    public long AltDownloadRateLimit { get; init; } = DefaultAltRateLimit;

    /// <summary>The upload limit in turtle mode, bytes per second; 0 = unlimited that way.</summary>
    public long AltUploadRateLimit { get; init; } = DefaultAltRateLimit;

    /// <summary>Transmission's default alternative speed limit, 50 kB/s.</summary>
    public const long DefaultAltRateLimit = 50_000;

    /// <summary>
    /// Switch turtle mode on at <see cref="AltSpeedScheduleBegin"/> and off at <see cref="AltSpeedScheduleEnd"/> on the
    /// days of <see cref="AltSpeedScheduleDays"/>, in local time (Transmission's <c>alt-speed-time-enabled</c>). A switch
    /// by hand holds until the next edge of the schedule. See docs/SCHEDULES-AND-HOOKS.md.
    /// </summary>
    public bool AltSpeedScheduleEnabled { get; init; }

    /// <summary>When turtle mode starts, in minutes after local midnight (0-1439; Transmission's default 540, 09:00).</summary>
    public int AltSpeedScheduleBegin { get; init; } = 540;

    /// <summary>
    /// When turtle mode ends, in minutes after local midnight (0-1439; default 1020, 17:00). An end at or before the
    /// begin runs past midnight into the next day; an end equal to the begin is a whole day.
    /// </summary>
    public int AltSpeedScheduleEnd { get; init; } = 1020;

    /// <summary>The days the schedule starts on: Sunday 1, Monday 2, Tuesday 4, ... Saturday 64 (Transmission's bitmask); 127 every day.</summary>
    public int AltSpeedScheduleDays { get; init; } = 127;

    /// <summary>The download limit in force: the turtle one while turtle mode is on.</summary>
    public long EffectiveDownloadRateLimit => AltSpeedEnabled ? AltDownloadRateLimit : DownloadRateLimit;

    /// <summary>The upload limit in force: the turtle one while turtle mode is on.</summary>
    public long EffectiveUploadRateLimit => AltSpeedEnabled ? AltUploadRateLimit : UploadRateLimit;

    /// <summary>
    /// A program run when a torrent is added (not when the session restores it), as an absolute path; run without a
    /// shell and without arguments, the torrent given in environment variables (docs/SCHEDULES-AND-HOOKS.md). Kept
    /// while <see cref="AddedHookEnabled"/> is off.
    /// </summary>
    public string? AddedHook { get; init; }

    /// <summary>Run <see cref="AddedHook"/> (Transmission's <c>script-torrent-added-enabled</c>).</summary>
    public bool AddedHookEnabled { get; init; }

    /// <summary>A program run when a torrent finishes downloading (Transmission's <c>script-torrent-done-filename</c>).</summary>
    public string? CompletedHook { get; init; }

    /// <summary>Run <see cref="CompletedHook"/>.</summary>
    public bool CompletedHookEnabled { get; init; }

    /// <summary>A program run when a torrent is removed from the session.</summary>
    public string? RemovedHook { get; init; }

    /// <summary>Run <see cref="RemovedHook"/>.</summary>
    public bool RemovedHookEnabled { get; init; }

    /// <summary>
    /// A program run when a seeding rule ends a torrent's seeding (its ratio, seeding time or idle limit; Transmission's
    /// <c>script-torrent-done-seeding-filename</c>), before the rule's action (stop or remove) is taken.
    /// </summary>
    public string? SeedingDoneHook { get; init; }

    /// <summary>Run <see cref="SeedingDoneHook"/>.</summary>
    public bool SeedingDoneHookEnabled { get; init; }

    /// <summary>Seconds a hook may run before it and every process it started are killed (default 10 minutes).</summary>
    public int HookTimeoutSeconds { get; init; } = 600;

    /// <summary>Download limit given to newly added torrents; 0 = none (only the global limit applies).</summary>
    public long DefaultTorrentDownloadRateLimit { get; init; }

    /// <summary>Upload limit given to newly added torrents; 0 = none.</summary>
    public long DefaultTorrentUploadRateLimit { get; init; }

    /// <summary>Where torrents are saved unless told otherwise (see <see cref="DefaultPaths"/>).</summary>
    public string DownloadDirectory { get; init; } = DefaultPaths.DownloadDirectory;

    /// <summary>
    /// The session folder these settings belong to: where they were loaded from (or <c>--session</c>). Not stored
    /// in settings.json itself, since the file lives inside it.
    /// </summary>
    public string SessionDirectory { get; init; } = DefaultPaths.SessionDirectory;

    /// <summary>A folder watched for new .torrent files, or null for none.</summary>
    public string? WatchDirectory { get; init; }

    /// <summary>Use the DHT (BEP 5) to find peers for public torrents.</summary>
    public bool DhtEnabled { get; init; } = true;

    /// <summary>Nodes (<c>host:port</c>, IPv6 as <c>[addr]:port</c>) used to join the DHT.</summary>
    public IReadOnlyList<string> DhtBootstrapNodes { get; init; } = DefaultDhtBootstrapNodes;

    /// <summary>Exchange peers with peers (BEP 11) for public torrents.</summary>
    public bool PexEnabled { get; init; } = true;

    /// <summary>Local Service Discovery (BEP 14) for public torrents.</summary>
    public bool LsdEnabled { get; init; } = true;

    /// <summary>
    /// Ask the router to forward the listen port (TCP and UDP) with UPnP IGD and NAT-PMP/PCP, renew the mappings and remove
    /// them at exit (Transmission's <c>port-forwarding-enabled</c>; on by default there and in qBittorrent). Applies at
    /// once. Nothing is asked while the session listens only on loopback. See docs/PORT-MAPPING.md.
    /// </summary>
    public bool PortForwardingEnabled { get; init; } = true;

    /// <summary>
    /// Refuse peers whose address is in the blocklist (<see cref="BlocklistUrl"/> and <see cref="BlocklistFile"/>):
    /// incoming and outgoing connections, peers from trackers, DHT, PEX and LSD, and DHT nodes. Applies at once.
    /// See docs/BLOCKLISTS.md.
    /// </summary>
    public bool BlocklistEnabled { get; init; }

    /// <summary>
    /// An http(s) address to download a blocklist from (PeerGuardian text, eMule DAT or CIDR, gzip or plain), kept in
    /// the session folder and downloaded again every <see cref="BlocklistRefreshHours"/>; null for none.
    /// </summary>
    public string? BlocklistUrl { get; init; }

    /// <summary>A blocklist file on this machine (same formats), read again on the same schedule; null for none.</summary>
    public string? BlocklistFile { get; init; }

    /// <summary>Hours between downloads of <see cref="BlocklistUrl"/> (and rereads of the file); 0 = only at start and on request.</summary>
    public int BlocklistRefreshHours { get; init; } = DefaultBlocklistRefreshHours;

    /// <summary>A day, as most published lists are rebuilt daily.</summary>
    public const int DefaultBlocklistRefreshHours = 24;

    /// <summary>
    /// The proxy's protocol: none, socks4 (spoken as SOCKS4a), socks5 or http. See docs/PROXIES.md. Read when the
    /// session starts (a change applies at the next start, as the settings dialog and the RPC say).
    /// </summary>
    public Proxies.ProxyKind ProxyType { get; init; }

    /// <summary>The proxy's address or host name (needed when <see cref="ProxyType"/> is not none).</summary>
    public string? ProxyHost { get; init; }

    /// <summary>The proxy's port (1080, SOCKS's own, by default).</summary>
    public int ProxyPort { get; init; } = 1080;

    /// <summary>User name for the proxy (SOCKS5 login, SOCKS4 user id, HTTP Basic), or null for none.</summary>
    public string? ProxyUsername { get; init; }

    /// <summary>Password for the proxy (SOCKS5 and HTTP), or null.</summary>
    public string? ProxyPassword { get; init; }

    /// <summary>Outgoing peer connections go through the proxy.</summary>
    public bool ProxyPeers { get; init; } = true;

    /// <summary>Tracker requests go through the proxy (HTTP ones with any proxy, UDP ones only through SOCKS5).</summary>
    public bool ProxyTrackers { get; init; } = true;

    /// <summary>Web seeds and the session's other HTTP downloads (blocklists) go through the proxy.</summary>
    public bool ProxyWebSeeds { get; init; } = true;

    /// <summary>DHT datagrams go through the proxy (SOCKS5 only; with another proxy the DHT then does not run).</summary>
    public bool ProxyDht { get; init; } = true;

    /// <summary>
    /// The kill switch: nothing ever leaves directly. Every kind of traffic goes through the proxy or not at all: no
    /// listening for incoming peers, no local discovery, no DHT or UDP trackers unless the proxy is SOCKS5; when the
    /// proxy is down, nothing is sent.
    /// </summary>
    public bool ProxyOnly { get; init; }

    /// <summary>The proxy settings as the engine uses them.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Proxies.ProxyPolicy ProxyPolicy => ProxyType == Proxies.ProxyKind.None || string.IsNullOrWhiteSpace(ProxyHost)
        ? Proxies.ProxyPolicy.Direct
        : new(new Proxies.ProxyServer(ProxyType, ProxyHost.Trim(), ProxyPort, ProxyUsername, ProxyPassword),
            ProxyPeers, ProxyTrackers, ProxyWebSeeds, ProxyDht, ProxyOnly);

    /// <summary>Names of peer sources (built-in or plugins) never started.</summary>
    public IReadOnlyList<string> DisabledPeerSources { get; init; } = [];

    /// <summary>Piece picker for newly added torrents.</summary>
    public string DefaultPicker { get; init; } = "rarest-first";

    /// <summary>Storage backend for newly added torrents.</summary>
    public string DefaultStorage { get; init; } = "file";

    /// <summary>
    /// Stop seeding a torrent once it uploaded this many times the size of its wanted data; null = seed until stopped.
    /// Torrents follow it unless they have their own limit or none (<see cref="Client.SeedRatioMode"/>); a torrent
    /// stopped by it shows "seed ratio limit reached". Changed live with <see cref="Client.ClientEngine.SetSeedRatioLimitAsync"/>.
    /// </summary>
    public double? SeedRatioLimit { get; init; }

    /// <summary>
    /// The seed ratio limit kept while the limit is switched off (Transmission's <c>seedRatioLimit</c> while
    /// <c>seedRatioLimited</c> is false): never applied while off; it becomes <see cref="SeedRatioLimit"/> when the
    /// limit is switched on again. Transmission's default, 2.
    /// </summary>
    public double SeedRatioLimitWhenOn { get; init; } = 2.0;

    /// <summary>
    /// Limit the torrents downloading at once to <see cref="DownloadQueueSize"/> (Transmission's
    /// <c>download-queue-enabled</c>); started torrents beyond it wait, queued, in queue order. Off by default so a
    /// session that ran every torrent keeps doing so after an upgrade. Changed live; see docs/QUEUE.md.
    /// </summary>
    public bool DownloadQueueEnabled { get; init; }

    /// <summary>Torrents downloading at once when <see cref="DownloadQueueEnabled"/> (Transmission's default, 5).</summary>
    public int DownloadQueueSize { get; init; } = 5;

    /// <summary>Limit the torrents seeding at once to <see cref="SeedQueueSize"/> (Transmission's <c>seed-queue-enabled</c>).</summary>
    public bool SeedQueueEnabled { get; init; }

    /// <summary>Torrents seeding at once when <see cref="SeedQueueEnabled"/> (Transmission's default, 10).</summary>
    public int SeedQueueSize { get; init; } = 10;

    /// <summary>
    /// Limit the torrents downloading or seeding at once to <see cref="ActiveQueueSize"/> (qBittorrent's
    /// <c>max_active_torrents</c>): a torrent counts against the download or the seed limit and against this one.
    /// </summary>
    public bool ActiveQueueEnabled { get; init; }

    /// <summary>Torrents running at once when <see cref="ActiveQueueEnabled"/> (default 15: the download and seed sizes together).</summary>
    public int ActiveQueueSize { get; init; } = 15;

    /// <summary>
    /// A running torrent that moved no payload for <see cref="QueueStalledMinutes"/> does not count against the queue's
    /// limits, so a dead torrent does not block it (Transmission's <c>queue-stalled-enabled</c>, on by default).
    /// </summary>
    public bool QueueStalledEnabled { get; init; } = true;

    /// <summary>Minutes without payload after which a running torrent is stalled (Transmission's default, 30).</summary>
    public int QueueStalledMinutes { get; init; } = 30;

    /// <summary>
    /// Stop (or remove, <see cref="SeedingLimitAction"/>) a seeding torrent that uploaded nothing for
    /// <see cref="IdleSeedingLimit"/> minutes (Transmission's <c>idle-seeding-limit-enabled</c>, off by default).
    /// Torrents follow it unless they have their own idle limit or none. Changed live; docs/SEEDING-RULES.md.
    /// </summary>
    public bool IdleSeedingLimitEnabled { get; init; }

    /// <summary>Minutes without upload after which a seeding torrent stops (Transmission's default, 30).</summary>
    public int IdleSeedingLimit { get; init; } = 30;

    /// <summary>
    /// Stop (or remove) a torrent that seeded <see cref="SeedingTimeLimit"/> minutes in all (qBittorrent's
    /// <c>max_seeding_time_enabled</c>, off by default). Changed live.
    /// </summary>
    public bool SeedingTimeLimitEnabled { get; init; }

    /// <summary>Minutes of seeding (over the torrent's life, across restarts) after which it stops; default a day.</summary>
    public int SeedingTimeLimit { get; init; } = 1440;

    /// <summary>
    /// Minutes a torrent seeds before any seeding rule (ratio, idle, seeding time) may act; 0: none. The private
    /// trackers' "seed at least N hours": a rule reached earlier waits until then. Changed live.
    /// </summary>
    public int MinSeedingTime { get; init; }

    /// <summary>What a reached seeding limit does: stop (the default), remove, or removeWithData. Changed live.</summary>
    public Client.SeedingLimitAction SeedingLimitAction { get; init; } = Client.SeedingLimitAction.Stop;

    /// <summary>The seeding rules these settings put in force.</summary>
    public Client.SeedingRules SeedingRules => new()
    {
        IdleLimitMinutes = IdleSeedingLimitEnabled ? IdleSeedingLimit : null,
        SeedingTimeLimitMinutes = SeedingTimeLimitEnabled ? SeedingTimeLimit : null,
        MinSeedingTimeMinutes = MinSeedingTime,
        Action = SeedingLimitAction,
    };

    /// <summary>The queue limits these settings put in force.</summary>
    public Client.QueueLimits QueueLimits => new()
    {
        MaxDownloads = DownloadQueueEnabled ? DownloadQueueSize : null,
        MaxSeeds = SeedQueueEnabled ? SeedQueueSize : null,
        MaxActive = ActiveQueueEnabled ? ActiveQueueSize : null,
        StalledAfter = QueueStalledEnabled ? TimeSpan.FromMinutes(QueueStalledMinutes) : null,
    };

    /// <summary>Allocate files fully when a torrent starts (a full disk shows at once) instead of sparse files.</summary>
    public bool Preallocate { get; init; }

    /// <summary>
    /// Message Stream Encryption: disabled, enabled (the default: accept encrypted and plain peers, dial plain and retry
    /// encrypted), preferred (dial encrypted first) or required (RC4 only). See docs/PROTOCOL-ENCRYPTION.md.
    /// </summary>
    public Peers.Encryption.EncryptionMode Encryption { get; init; } = Peers.Encryption.EncryptionMode.Enabled;

    /// <summary>File handles kept open across all torrents.</summary>
    public int MaxOpenFiles { get; init; } = 128;

    /// <summary>
    /// Accept peers over uTP (BEP 29) on the listen port's UDP socket (libtorrent's enable_incoming_utp). Applies at
    /// once. See docs/UTP.md.
    /// </summary>
    public bool EnableIncomingUtp { get; init; } = true;

    /// <summary>
    /// Dial peers over uTP first, falling back to TCP when they do not answer (enable_outgoing_utp). Applies at once.
    /// Off by default (<see cref="Client.PeerTransports.Default"/> says why): peers are dialled over TCP, and uTP peers
    /// reach us through <see cref="EnableIncomingUtp"/>.
    /// </summary>
    public bool EnableOutgoingUtp { get; init; }

    /// <summary>Accept peers over TCP (enable_incoming_tcp); the port stays bound, connections are closed at once. Applies at once.</summary>
    public bool EnableIncomingTcp { get; init; } = true;

    /// <summary>Dial peers over TCP (alone, or when uTP fails) (enable_outgoing_tcp). Applies at once.</summary>
    public bool EnableOutgoingTcp { get; init; } = true;

    /// <summary>The four transport switches as the engine takes them.</summary>
    public Client.PeerTransports Transports => new(EnableIncomingTcp, EnableOutgoingTcp, EnableIncomingUtp, EnableOutgoingUtp);

    /// <summary>
    /// Bytes of data read from disk to serve peers, for all torrents together. The kernel's page cache does the
    /// caching: this only batches reads and reads ahead, and 8 MiB serves a fast peer at full speed
    /// (docs/PERFORMANCE.md); more only holds more memory. Values below 4 MiB (0 included) act as 4 MiB: the slice
    /// being sent and the next few must be in memory (<see cref="Client.PieceReadCache.MinimumSlices"/>). Changed live.
    /// </summary>
    public long DiskReadCacheSize { get; init; } = DefaultDiskReadCacheSize;

    /// <summary>The default of <see cref="DiskReadCacheSize"/>.</summary>
    public const long DefaultDiskReadCacheSize = 8L * 1024 * 1024;

    /// <summary>
    /// Requests in flight at once to each web seed of a downloading torrent (BEP 19 url-list, BEP 17 httpseeds;
    /// docs/WEB-SEEDS.md); 0 turns web seeds off. Two keep a server's connection busy while the other request's answer
    /// is checked and handed on. Changed live.
    /// </summary>
    public int WebSeedConnections { get; init; } = DefaultWebSeedConnections;

    /// <summary>The default of <see cref="WebSeedConnections"/>.</summary>
    public const int DefaultWebSeedConnections = 2;

    /// <summary>Start torrents as soon as they are added (by the RPC without <c>paused</c>, and by the watch folder).</summary>
    public bool StartAddedTorrents { get; init; } = true;

    /// <summary>Transmission's RPC port (its default, so Sonarr, Radarr and web clients find us without configuration).</summary>
    public const int DefaultRpcPort = 9091;

    /// <summary>Default largest RPC request body: 10 MiB (a base64 .torrent of 7.5 MB).</summary>
    public const long DefaultRpcMaxRequestBytes = 10L * 1024 * 1024;

    /// <summary>
    /// Where <c>rtorrent daemon</c> serves its RPC over TCP, as <c>address:port</c> (IPv6 as <c>[address]:port</c>);
    /// empty for none (the Unix socket in the session folder is always there). <c>--rpc</c> replaces the list for one
    /// run. An address other than loopback is refused unless <see cref="RpcUsername"/> and a password are set.
    /// </summary>
    public IReadOnlyList<string> RpcBind { get; init; } = ["127.0.0.1:9091"];

    /// <summary>User name for HTTP basic authentication of the RPC over TCP; null for none (loopback only).</summary>
    public string? RpcUsername { get; init; }

    /// <summary>
    /// The RPC password as a salted PBKDF2 hash (<c>rtorrent rpc-password</c> writes it; never the password itself).
    /// </summary>
    public string? RpcPasswordHash { get; init; }

    /// <summary>Check the Host header of RPC requests (DNS rebinding protection); others get 421.</summary>
    public bool RpcHostAllowListEnabled { get; init; } = true;

    /// <summary>
    /// Host names allowed besides localhost, IP literals and the bound addresses; <c>*.example.com</c> matches
    /// subdomains.
    /// </summary>
    public IReadOnlyList<string> RpcHostAllowList { get; init; } = [];

    /// <summary>Only answer RPC clients whose address is in <see cref="RpcAddressAllowList"/>; others get 403.</summary>
    public bool RpcAddressAllowListEnabled { get; init; } = true;

    /// <summary>Client addresses allowed: addresses, <c>192.168.*.*</c> wildcards, or CIDR blocks (<c>10.0.0.0/8</c>, <c>fd00::/8</c>).</summary>
    public IReadOnlyList<string> RpcAddressAllowList { get; init; } = ["127.0.0.1", "::1"];

    /// <summary>Largest RPC request body in bytes; larger requests get 413.</summary>
    public long RpcMaxRequestBytes { get; init; } = DefaultRpcMaxRequestBytes;

    /// <summary>
    /// A certificate (PEM, or PKCS#12 .pfx/.p12) to serve the TCP RPC over HTTPS; null for plain HTTP. The Unix socket
    /// stays plain (only the owner can reach it).
    /// </summary>
    public string? RpcTlsCertificate { get; init; }

    /// <summary>The PEM private key of <see cref="RpcTlsCertificate"/>, when it is in a file of its own.</summary>
    public string? RpcTlsKey { get; init; }

    /// <summary>A folder holding a web client (e.g. Transmission's) served at <c>/transmission/web/</c>; null for none.</summary>
    public string? RpcWebHome { get; init; }

    /// <summary>
    /// Checks every value; returns one line per problem, each starting with the field's name in settings.json
    /// (<c>listenPort: must be ...</c>). Empty when the settings are usable.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, string rule)
        {
            if (!ok) errors.Add($"{field}: {rule}");
        }

        Check(ListenPort is >= 0 and <= 65535, "listenPort", $"must be 0 (any free port) or 1-65535, not {ListenPort}");
        Check(ListenOnIPv4 || ListenOnIPv6, "listenOnIPv4", "listenOnIPv4 and listenOnIPv6 cannot both be false");
        Check(MaxConnections >= 1, "maxConnections", $"must be at least 1, not {MaxConnections}");
        Check(MaxConnectionsPerTorrent >= 1, "maxConnectionsPerTorrent", $"must be at least 1, not {MaxConnectionsPerTorrent}");
        Check(MaxHalfOpenConnections >= 1, "maxHalfOpenConnections", $"must be at least 1, not {MaxHalfOpenConnections}");
        Check(ConnectionsPerSecond >= 1, "connectionsPerSecond", $"must be at least 1, not {ConnectionsPerSecond}");
        Check(UploadSlots >= 1, "uploadSlots", $"must be at least 1, not {UploadSlots}");
        Check(DownloadRateLimit >= 0, "downloadRateLimit", $"must be 0 (unlimited) or more, not {DownloadRateLimit}");
        Check(UploadRateLimit >= 0, "uploadRateLimit", $"must be 0 (unlimited) or more, not {UploadRateLimit}");
        Check(DownloadRateLimitWhenOn >= 0, "downloadRateLimitWhenOn", $"must be 0 (none kept) or more, not {DownloadRateLimitWhenOn}");
        Check(UploadRateLimitWhenOn >= 0, "uploadRateLimitWhenOn", $"must be 0 (none kept) or more, not {UploadRateLimitWhenOn}");
        Check(AltDownloadRateLimit >= 0, "altDownloadRateLimit", $"must be 0 (unlimited) or more, not {AltDownloadRateLimit}");
        Check(AltUploadRateLimit >= 0, "altUploadRateLimit", $"must be 0 (unlimited) or more, not {AltUploadRateLimit}");
        Check(AltSpeedScheduleBegin is >= 0 and < 1440, "altSpeedScheduleBegin", $"must be 0-1439 (minutes after midnight), not {AltSpeedScheduleBegin}");
        Check(AltSpeedScheduleEnd is >= 0 and < 1440, "altSpeedScheduleEnd", $"must be 0-1439 (minutes after midnight), not {AltSpeedScheduleEnd}");
        Check(AltSpeedScheduleDays is >= 0 and <= 127, "altSpeedScheduleDays", $"must be 0-127 (Sunday 1, Monday 2, ... Saturday 64), not {AltSpeedScheduleDays}");
        CheckHook(AddedHook, AddedHookEnabled, "addedHook");
        CheckHook(CompletedHook, CompletedHookEnabled, "completedHook");
        CheckHook(RemovedHook, RemovedHookEnabled, "removedHook");
        CheckHook(SeedingDoneHook, SeedingDoneHookEnabled, "seedingDoneHook");
        Check(HookTimeoutSeconds is >= 1 and <= 86400, "hookTimeoutSeconds", $"must be 1-86400, not {HookTimeoutSeconds}");
        Check(DefaultTorrentDownloadRateLimit >= 0, "defaultTorrentDownloadRateLimit", $"must be 0 (none) or more, not {DefaultTorrentDownloadRateLimit}");
        Check(DefaultTorrentUploadRateLimit >= 0, "defaultTorrentUploadRateLimit", $"must be 0 (none) or more, not {DefaultTorrentUploadRateLimit}");
        Check(IsAbsolute(DownloadDirectory), "downloadDirectory", $"must be an absolute path, not '{DownloadDirectory}'");
        Check(WatchDirectory is null || IsAbsolute(WatchDirectory), "watchDirectory", $"must be an absolute path or null, not '{WatchDirectory}'");
        if (DhtBootstrapNodes is null) errors.Add("dhtBootstrapNodes: must be a list");
        else
            foreach (var node in DhtBootstrapNodes)
                Check(IsHostPort(node), "dhtBootstrapNodes", $"'{node}' is not host:port (IPv6 as [address]:port)");
        if (DisabledPeerSources is null) errors.Add("disabledPeerSources: must be a list");
        else
            foreach (var name in DisabledPeerSources)
                Check(!string.IsNullOrWhiteSpace(name), "disabledPeerSources", "names cannot be empty");
        Check(BlocklistUrl is null || IsHttpUrl(BlocklistUrl), "blocklistUrl", $"must be an http:// or https:// address or null, not '{BlocklistUrl}'");
        Check(BlocklistFile is null || IsAbsolute(BlocklistFile), "blocklistFile", $"must be an absolute path or null, not '{BlocklistFile}'");
        Check(BlocklistRefreshHours is >= 0 and <= 8760, "blocklistRefreshHours",
            $"must be 0 (only at start and on request) to 8760 (a year), not {BlocklistRefreshHours}");
        Check(Enum.IsDefined(ProxyType), "proxyType", $"must be none, socks4, socks5 or http, not {ProxyType}");
        Check(ProxyType == Proxies.ProxyKind.None || IsProxyHost(ProxyHost), "proxyHost",
            $"must be the proxy's address or host name (no port, no spaces), not '{ProxyHost}'");
        Check(ProxyPort is >= 1 and <= 65535, "proxyPort", $"must be 1-65535, not {ProxyPort}");
        Check(ProxyUsername is null || (ProxyUsername.Length is > 0 and <= 255 && !ProxyUsername.Any(char.IsControl)), "proxyUsername",
            "must be null or 1-255 characters without control characters");
        Check(ProxyPassword is null || (ProxyPassword.Length <= 255 && !ProxyPassword.Any(char.IsControl)), "proxyPassword",
            "must be null or at most 255 characters without control characters");
        Check(ProxyPassword is null || ProxyUsername is not null, "proxyPassword", "needs proxyUsername");
        Check(!ProxyOnly || ProxyType != Proxies.ProxyKind.None, "proxyOnly", "needs a proxy (proxyType and proxyHost): with none, nothing could be sent at all");
        Check(!string.IsNullOrWhiteSpace(DefaultPicker), "defaultPicker", "must name a piece picker");
        Check(!string.IsNullOrWhiteSpace(DefaultStorage), "defaultStorage", "must name a storage backend");
        Check(SeedRatioLimit is null || (double.IsFinite(SeedRatioLimit.Value) && SeedRatioLimit >= 0), "seedRatioLimit",
            $"must be null (no limit) or a number of 0 or more, not {SeedRatioLimit?.ToString(CultureInfo.InvariantCulture)}");
        Check(double.IsFinite(SeedRatioLimitWhenOn) && SeedRatioLimitWhenOn >= 0, "seedRatioLimitWhenOn",
            $"must be a number of 0 or more, not {SeedRatioLimitWhenOn.ToString(CultureInfo.InvariantCulture)}");
        Check(DownloadQueueSize is >= 0 and <= 100_000, "downloadQueueSize", $"must be 0-100000, not {DownloadQueueSize}");
        Check(SeedQueueSize is >= 0 and <= 100_000, "seedQueueSize", $"must be 0-100000, not {SeedQueueSize}");
        Check(ActiveQueueSize is >= 0 and <= 100_000, "activeQueueSize", $"must be 0-100000, not {ActiveQueueSize}");
        Check(QueueStalledMinutes is >= 1 and <= 525_600, "queueStalledMinutes", $"must be 1-525600 (a year), not {QueueStalledMinutes}");
        Check(IdleSeedingLimit is >= 1 and <= Client.SeedingRules.MaxMinutes, "idleSeedingLimit",
            $"must be 1-{Client.SeedingRules.MaxMinutes} minutes, not {IdleSeedingLimit}");
        Check(SeedingTimeLimit is >= 1 and <= Client.SeedingRules.MaxMinutes, "seedingTimeLimit",
            $"must be 1-{Client.SeedingRules.MaxMinutes} minutes, not {SeedingTimeLimit}");
        Check(MinSeedingTime is >= 0 and <= Client.SeedingRules.MaxMinutes, "minSeedingTime",
            $"must be 0 (none) to {Client.SeedingRules.MaxMinutes} minutes, not {MinSeedingTime}");
        Check(Enum.IsDefined(SeedingLimitAction), "seedingLimitAction", $"must be stop, remove or removeWithData, not {SeedingLimitAction}");
        Check(MaxOpenFiles is >= 1 and <= 65536, "maxOpenFiles", $"must be 1-65536, not {MaxOpenFiles}");
        Check(EnableIncomingTcp || EnableOutgoingTcp || EnableIncomingUtp || EnableOutgoingUtp, "enableIncomingTcp",
            "enableIncomingTcp, enableOutgoingTcp, enableIncomingUtp and enableOutgoingUtp cannot all be false (no peer could connect)");
        Check(Enum.IsDefined(Encryption), "encryption", $"must be disabled, enabled, preferred or required, not {Encryption}");
        Check(WebSeedConnections is >= 0 and <= 16, "webSeedConnections", $"must be 0 (web seeds off) to 16, not {WebSeedConnections}");
        Check(DiskReadCacheSize >= 0, "diskReadCacheSize", $"must be 0 or more (below 4 MiB acts as 4 MiB), not {DiskReadCacheSize}");
        if (RpcBind is null) errors.Add("rpcBind: must be a list");
        else
            foreach (var bind in RpcBind)
                Check(IsAddressPort(bind), "rpcBind", $"'{bind}' is not address:port (an IP address, IPv6 as [address]:port)");
        Check(RpcUsername is null || (RpcUsername.Length > 0 && !RpcUsername.Contains(':')), "rpcUsername",
            "must be null or a non-empty name without ':'");
        Check((RpcUsername is null) == (RpcPasswordHash is null), "rpcPasswordHash",
            "rpcUsername and rpcPasswordHash are set together (rtorrent rpc-password sets both)");
        if (RpcHostAllowList is null) errors.Add("rpcHostAllowList: must be a list");
        else
            foreach (var host in RpcHostAllowList)
                Check(!string.IsNullOrWhiteSpace(host) && !host.Any(char.IsWhiteSpace), "rpcHostAllowList", $"'{host}' is not a host name");
        if (RpcAddressAllowList is null) errors.Add("rpcAddressAllowList: must be a list");
        Check(RpcMaxRequestBytes >= 1024, "rpcMaxRequestBytes", $"must be at least 1024, not {RpcMaxRequestBytes}");
        Check(RpcTlsKey is null || RpcTlsCertificate is not null, "rpcTlsKey", "is only used with rpcTlsCertificate");
        Check(RpcTlsCertificate is null || IsAbsolute(RpcTlsCertificate), "rpcTlsCertificate", $"must be an absolute path or null, not '{RpcTlsCertificate}'");
        Check(RpcTlsKey is null || IsAbsolute(RpcTlsKey), "rpcTlsKey", $"must be an absolute path or null, not '{RpcTlsKey}'");
        Check(RpcWebHome is null || IsAbsolute(RpcWebHome), "rpcWebHome", $"must be an absolute path or null, not '{RpcWebHome}'");
        return errors;

        void CheckHook(string? path, bool enabled, string field)
        {
            Check(string.IsNullOrEmpty(path) || (IsAbsolute(path) && !path.Contains('\0')), field, $"must be an absolute path to a program or null, not '{path}'");
            Check(!enabled || !string.IsNullOrEmpty(path), field + "Enabled", $"needs {field} (the program to run)");
        }
    }

    /// <summary>An absolute http:// or https:// address with a host.</summary>
    public static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) &&
        !string.IsNullOrEmpty(uri.Host);

    private static bool IsAbsolute(string? path) => !string.IsNullOrWhiteSpace(path) && Path.IsPathFullyQualified(path);

    /// <summary>Whether <paramref name="value"/> is <c>ipv4:port</c> or <c>[ipv6]:port</c> with a port of 0-65535.</summary>
    internal static bool IsAddressPort(string? value) => TryParseAddressPort(value, out _);

    /// <summary>Parses <c>ipv4:port</c> or <c>[ipv6]:port</c> (port 0-65535, 0 for any free port).</summary>
    public static bool TryParseAddressPort(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out System.Net.IPEndPoint? endPoint)
    {
        endPoint = null;
        if (string.IsNullOrWhiteSpace(value)) return false;
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) ||
            port is < 0 or > 65535)
            return false;
        var host = value[..colon];
        if (host.StartsWith('['))
        {
            if (!host.EndsWith(']') || !System.Net.IPAddress.TryParse(host[1..^1], out var ip6) ||
                ip6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                return false;
            endPoint = new System.Net.IPEndPoint(ip6, port);
            return true;
        }
        if (host.Contains(':') || !System.Net.IPAddress.TryParse(host, out var ip4) ||
            ip4.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            return false;
        endPoint = new System.Net.IPEndPoint(ip4, port);
        return true;
    }

    /// <summary>Whether <paramref name="value"/> is <c>host:port</c> or <c>[ipv6]:port</c> with a port of 1-65535.</summary>
    internal static bool IsHostPort(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return false;
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) ||
            port is < 1 or > 65535)
            return false;
        var host = value[..colon];
        if (host.StartsWith('['))
            return host.EndsWith(']') && System.Net.IPAddress.TryParse(host[1..^1], out var ip6) &&
                   ip6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return !host.Contains(':') && !host.Any(char.IsWhiteSpace);
    }

    private static bool IsProxyHost(string? host) =>
        !string.IsNullOrWhiteSpace(host) && host.Length <= 255 && !host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '@') &&
        (System.Net.IPAddress.TryParse(host, out _) || !host.Contains(':'));

    /// <inheritdoc/>
    public bool Equals(EngineSettings? other) =>
        other is not null &&
        ListenPort == other.ListenPort && ListenOnIPv4 == other.ListenOnIPv4 && ListenOnIPv6 == other.ListenOnIPv6 &&
        MaxConnections == other.MaxConnections && MaxConnectionsPerTorrent == other.MaxConnectionsPerTorrent &&
        MaxHalfOpenConnections == other.MaxHalfOpenConnections && ConnectionsPerSecond == other.ConnectionsPerSecond &&
        UploadSlots == other.UploadSlots && DownloadRateLimit == other.DownloadRateLimit &&
        UploadRateLimit == other.UploadRateLimit && DownloadRateLimitWhenOn == other.DownloadRateLimitWhenOn &&
        UploadRateLimitWhenOn == other.UploadRateLimitWhenOn && SeedRatioLimitWhenOn.Equals(other.SeedRatioLimitWhenOn) &&
        DefaultTorrentDownloadRateLimit == other.DefaultTorrentDownloadRateLimit &&
        DefaultTorrentUploadRateLimit == other.DefaultTorrentUploadRateLimit && DownloadDirectory == other.DownloadDirectory &&
        SessionDirectory == other.SessionDirectory && WatchDirectory == other.WatchDirectory && DhtEnabled == other.DhtEnabled &&
        SameList(DhtBootstrapNodes, other.DhtBootstrapNodes) && PexEnabled == other.PexEnabled && LsdEnabled == other.LsdEnabled &&
        PortForwardingEnabled == other.PortForwardingEnabled &&
        BlocklistEnabled == other.BlocklistEnabled && BlocklistUrl == other.BlocklistUrl && BlocklistFile == other.BlocklistFile &&
        BlocklistRefreshHours == other.BlocklistRefreshHours &&
        ProxyType == other.ProxyType && ProxyHost == other.ProxyHost && ProxyPort == other.ProxyPort &&
        ProxyUsername == other.ProxyUsername && ProxyPassword == other.ProxyPassword && ProxyPeers == other.ProxyPeers &&
        ProxyTrackers == other.ProxyTrackers && ProxyWebSeeds == other.ProxyWebSeeds && ProxyDht == other.ProxyDht && ProxyOnly == other.ProxyOnly &&
        SameList(DisabledPeerSources, other.DisabledPeerSources) && DefaultPicker == other.DefaultPicker &&
        DefaultStorage == other.DefaultStorage && Nullable.Equals(SeedRatioLimit, other.SeedRatioLimit) &&
        Preallocate == other.Preallocate && MaxOpenFiles == other.MaxOpenFiles && DiskReadCacheSize == other.DiskReadCacheSize &&
        WebSeedConnections == other.WebSeedConnections &&
        Encryption == other.Encryption && StartAddedTorrents == other.StartAddedTorrents &&
        EnableIncomingUtp == other.EnableIncomingUtp && EnableOutgoingUtp == other.EnableOutgoingUtp &&
        EnableIncomingTcp == other.EnableIncomingTcp && EnableOutgoingTcp == other.EnableOutgoingTcp &&
        DownloadQueueEnabled == other.DownloadQueueEnabled && DownloadQueueSize == other.DownloadQueueSize &&
        SeedQueueEnabled == other.SeedQueueEnabled && SeedQueueSize == other.SeedQueueSize &&
        ActiveQueueEnabled == other.ActiveQueueEnabled && ActiveQueueSize == other.ActiveQueueSize &&
        QueueStalledEnabled == other.QueueStalledEnabled && QueueStalledMinutes == other.QueueStalledMinutes &&
        IdleSeedingLimitEnabled == other.IdleSeedingLimitEnabled && IdleSeedingLimit == other.IdleSeedingLimit &&
        SeedingTimeLimitEnabled == other.SeedingTimeLimitEnabled && SeedingTimeLimit == other.SeedingTimeLimit &&
        MinSeedingTime == other.MinSeedingTime && SeedingLimitAction == other.SeedingLimitAction &&
        SameList(RpcBind, other.RpcBind) && RpcUsername == other.RpcUsername && RpcPasswordHash == other.RpcPasswordHash &&
        RpcHostAllowListEnabled == other.RpcHostAllowListEnabled && SameList(RpcHostAllowList, other.RpcHostAllowList) &&
        RpcAddressAllowListEnabled == other.RpcAddressAllowListEnabled && SameList(RpcAddressAllowList, other.RpcAddressAllowList) &&
        RpcMaxRequestBytes == other.RpcMaxRequestBytes && RpcTlsCertificate == other.RpcTlsCertificate && RpcTlsKey == other.RpcTlsKey &&
        RpcWebHome == other.RpcWebHome &&
        AltSpeedEnabled == other.AltSpeedEnabled && AltDownloadRateLimit == other.AltDownloadRateLimit &&
        AltUploadRateLimit == other.AltUploadRateLimit && AltSpeedScheduleEnabled == other.AltSpeedScheduleEnabled &&
        AltSpeedScheduleBegin == other.AltSpeedScheduleBegin && AltSpeedScheduleEnd == other.AltSpeedScheduleEnd &&
        AltSpeedScheduleDays == other.AltSpeedScheduleDays && AddedHook == other.AddedHook && AddedHookEnabled == other.AddedHookEnabled &&
        CompletedHook == other.CompletedHook && CompletedHookEnabled == other.CompletedHookEnabled && RemovedHook == other.RemovedHook &&
        SeedingDoneHook == other.SeedingDoneHook && SeedingDoneHookEnabled == other.SeedingDoneHookEnabled &&
        RemovedHookEnabled == other.RemovedHookEnabled && HookTimeoutSeconds == other.HookTimeoutSeconds;

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(ListenPort, MaxConnections, DownloadRateLimit, UploadRateLimit, DownloadDirectory, SessionDirectory,
            DefaultPicker, DhtBootstrapNodes?.Count);

    private static bool SameList(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.SequenceEqual(b, StringComparer.Ordinal));
}
