namespace RTorrent.Engine.Client;

/// <summary>The runtime knobs the engine core reads (filled from the persisted settings).</summary>
public sealed record EngineConfig
{
    /// <summary>TCP listen port; 0 picks a free one.</summary>
    public int ListenPort { get; init; }

    /// <summary>Address to listen on; null for every interface (IPv6 and IPv4).</summary>
    public System.Net.IPAddress? ListenAddress { get; init; }

    /// <summary>Which transports accept and dial peers (settings.json enableIncomingTcp and the three others).</summary>
    public PeerTransports Transports { get; init; } = PeerTransports.Default;

    /// <summary>Message Stream Encryption: which handshakes we accept and which we start with.</summary>
    public Peers.Encryption.EncryptionMode Encryption { get; init; } = Peers.Encryption.EncryptionMode.Enabled;

    /// <summary>Connections across all torrents.</summary>
    public int MaxConnections { get; init; } = 500;

    /// <summary>Connections per torrent.</summary>
    public int MaxConnectionsPerTorrent { get; init; } = 100;

    /// <summary>Outgoing connection attempts in progress at once.</summary>
    public int MaxHalfOpen { get; init; } = 32;

    /// <summary>
    /// Incoming connections whose handshake is not read yet, in all and from one address (issue 14). When full, the
    /// oldest half-open one is dropped for the new one, so silent connections never keep a peer out.
    /// </summary>
    public int MaxHalfOpenIncoming { get; init; } = Peers.PeerListener.DefaultHalfOpenTotal;

    /// <inheritdoc cref="MaxHalfOpenIncoming"/>
    public int MaxHalfOpenIncomingPerAddress { get; init; } = Peers.PeerListener.DefaultHalfOpenPerAddress;

    /// <summary>How long an incoming peer has to finish its handshake (on the engine's clock).</summary>
    public TimeSpan IncomingHandshakeTimeout { get; init; } = Peers.PeerListener.DefaultHandshakeTimeout;

    /// <summary>New outgoing connection attempts per second.</summary>
    public int ConnectsPerSecond { get; init; } = 20;

    /// <summary>Peers unchoked per torrent (one of them optimistic).</summary>
    public int UploadSlots { get; init; } = 8;

    /// <summary>Global download limit, bytes/s, 0 = unlimited.</summary>
    public long DownloadLimit { get; init; }

    /// <summary>Global upload limit, bytes/s, 0 = unlimited.</summary>
    public long UploadLimit { get; init; }

    /// <summary>
    /// Bytes of data read from disk to serve requests, for all torrents (<see cref="PieceReadCache"/>; at least 4 MiB
    /// whatever this says). The same default as settings.json's <c>diskReadCacheSize</c>.
    /// </summary>
    public long ReadCacheBytes { get; init; } = Settings.EngineSettings.DefaultDiskReadCacheSize;

    /// <summary>Bytes of verified-but-unwritten and unverified complete pieces above which we stop requesting more.</summary>
    public long MaxPendingDiskBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Seconds' worth of blocks kept requested from a peer.</summary>
    public double RequestQueueSeconds { get; init; } = 3;

    /// <summary>Upper bound on requests outstanding to one peer.</summary>
    public int MaxRequestsPerPeer { get; init; } = 500;

    /// <summary>
    /// How many requests from a peer we queue; more are dropped (advertised as 'reqq'). A downloader keeps this many
    /// in flight as its cushion against its own stalls: libtorrent's kept 500 with a reqq of 500 and fed slower (4.24 s
    /// vs 3.61 s for 1 GiB on loopback) than with 2,000, which is also what libtorrent's high-performance seeder uses.
    /// A queued request is 12 bytes; the read cache, not this queue, bounds the memory serving uses.
    /// </summary>
    public int MaxIncomingRequests { get; init; } = 2000;

    /// <summary>Without a block for this long, a peer with requests outstanding is snubbed.</summary>
    public TimeSpan SnubTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Seconds between resume-data saves of a running torrent.</summary>
    public TimeSpan ResumeSaveInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Torrents whose data is hashed at once; more wait their turn in order (Checking, 0%). Each one's pieces are hashed
    /// on all cores, so a few at a time keep the cores busy between small torrents without reading many at once.
    /// </summary>
    public int MaxActiveChecks { get; init; } = 2;

    /// <summary>
    /// How many started torrents run at once; the others wait, queued, in queue order (<see cref="QueueLimits"/>).
    /// Changed live with <see cref="ClientEngine.SetQueueLimitsAsync"/>.
    /// </summary>
    public QueueLimits Queue { get; init; } = QueueLimits.None;

    /// <summary>Preallocate files fully instead of sparse.</summary>
    public bool Preallocate { get; init; }

    /// <summary>Where torrents go when no folder is given.</summary>
    public string DefaultSavePath { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Downloads");

    /// <summary>
    /// The session's seed ratio limit: a seeding torrent in <see cref="SeedRatioMode.Global"/> mode stops once it
    /// uploaded this many times the size of its wanted data; null seeds without a limit.
    /// </summary>
    public double? SeedRatioLimit { get; init; }

    /// <summary>
    /// The session's idle and seeding time limits, minimum seeding time and what a reached limit does (for the ratio
    /// limit too). Changed live with <see cref="ClientEngine.SetSeedingRulesAsync"/>.
    /// </summary>
    public SeedingRules SeedingRules { get; init; } = SeedingRules.None;

    /// <summary>
    /// Which traffic goes through a proxy (docs/PROXIES.md). The engine dials peers through <see cref="Proxies.ProxyPolicy.ForPeers"/>
    /// and, in proxy-only mode, does not listen for incoming peers.
    /// </summary>
    public Proxies.ProxyPolicy Proxy { get; init; } = Proxies.ProxyPolicy.Direct;

    /// <summary>
    /// Requests in flight per web seed (BEP 19 and BEP 17, docs/WEB-SEEDS.md); 0 turns web seeds off. settings.json's
    /// <c>webSeedConnections</c>.
    /// </summary>
    public int WebSeedConnections { get; init; } = Settings.EngineSettings.DefaultWebSeedConnections;

    /// <summary>When a failing web seed is demoted and dropped, and its request limits (tests shorten the waits).</summary>
    internal WebSeeds.WebSeedPolicy WebSeedPolicy { get; init; } = WebSeeds.WebSeedPolicy.Default;

    /// <summary>The client name sent in the extended handshake ('v').</summary>
    public string ClientName { get; init; } = "RTorrent 0.1.0";
}

/// <summary>Which transports accept incoming peers and which dial them (uTP first, then TCP, when both dial).</summary>
public sealed record PeerTransports(bool TcpIncoming, bool TcpOutgoing, bool UtpIncoming, bool UtpOutgoing)
{
    public static PeerTransports All { get; } = new(true, true, true, true);

    /// <summary>
    /// The default: both accepted, peers dialled over TCP. Dialling uTP first costs a TCP-only peer the ~3 s SYN timeout
    /// before TCP is tried (every download from the bench's libtorrent seeder went from 2.1 s to 5.2 s, first piece at
    /// 3.5 s), and our uTP moves 83 MiB/s against TCP's 589 on loopback; docs/UTP.md. enableOutgoingUtp turns it on.
    /// </summary>
    public static PeerTransports Default { get; } = new(true, true, true, false);
}
