using System.Net;

namespace RTorrent.Engine.Dht;

/// <summary>How strictly other nodes' IDs are checked against their addresses (BEP 42).</summary>
public enum NodeIdVerification
{
    /// <summary>IDs are not checked.</summary>
    Off,
    /// <summary>
    /// Unverified nodes are used, but a verified node takes the place of an unverified one in a full bucket. The
    /// default, as in libtorrent (<c>dht_prefer_verified_node_ids</c>): most of the DHT runs BEP 42 by now.
    /// </summary>
    PreferVerified,
    /// <summary>
    /// Unverified nodes never enter the routing table or lookups, and their queries get the error
    /// "invalid node ID" (libtorrent's <c>dht_enforce_node_id</c>). Local addresses stay exempt.
    /// </summary>
    Enforce,
}

/// <summary>
/// Settings of a <see cref="DhtEngine"/>. The defaults follow BEP 5 and libtorrent's where BEP 5 is silent; every
/// limit here bounds memory or traffic, so a hostile network cannot grow either without bound.
/// </summary>
public sealed record DhtOptions
{
    /// <summary>
    /// Well-known public bootstrap nodes. Not used unless copied into <see cref="BootstrapNodes"/>: the settings layer
    /// decides (tests must never reach the internet).
    /// </summary>
    public static IReadOnlyList<string> PublicBootstrapNodes { get; } =
    [
        "router.bittorrent.com:6881",
        "router.utorrent.com:6881",
        "dht.transmissionbt.com:6881",
        "dht.libtorrent.org:25401",
    ];

    /// <summary>Local address to bind the UDP socket to; <see cref="IPAddress.Any"/> by default. An IPv6 address runs an IPv6 DHT (BEP 32).</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Any;

    /// <summary>UDP port; 0 lets the system choose (read it back from <see cref="DhtEngine.LocalEndPoint"/>).</summary>
    public int Port { get; init; }

    /// <summary>Nodes to bootstrap from, as <c>host:port</c> (<c>[v6addr]:port</c> for IPv6 literals). Names are resolved at start.</summary>
    public IReadOnlyList<string> BootstrapNodes { get; init; } = [];

    /// <summary>
    /// Where the node ID and routing table are saved on stop and loaded at start (usually <c>SESSION/dht.dat</c>);
    /// null to keep nothing.
    /// </summary>
    public string? StateFilePath { get; init; }

    /// <summary>
    /// The session's blocklist: packets from blocked addresses are dropped, blocked nodes are never queried, and blocked
    /// peers found by lookups are not reported. Null for none.
    /// </summary>
    public Blocklists.Blocklist? Blocklist { get; init; }

    /// <summary>A fixed node ID (tests); null to load one from the state file or make one.</summary>
    public NodeId? NodeId { get; init; }

    /// <summary>Our external address if already known (from trackers, for example); otherwise nodes vote on it.</summary>
    public IPAddress? ExternalAddress { get; init; }

    /// <summary>Derive our node ID from our external address (BEP 42) once it is known, so secure nodes accept us.</summary>
    public bool UseSecureNodeId { get; init; } = true;

    /// <summary>How other nodes' IDs are checked (BEP 42).</summary>
    public NodeIdVerification NodeIdVerification { get; init; } = NodeIdVerification.PreferVerified;

    /// <summary>Distinct nodes that must report the same external address before we believe it.</summary>
    public int ExternalAddressVotes { get; init; } = 3;

    /// <summary>k: nodes per bucket and nodes per lookup result (BEP 5: 8).</summary>
    public int BucketSize { get; init; } = 8;

    /// <summary>At most this many buckets (the table holds at most buckets × 2k nodes with replacement caches).</summary>
    public int MaxBuckets { get; init; } = 160;

    /// <summary>At most one routing table node, and one lookup candidate, per public IP (local addresses exempt).</summary>
    public bool RestrictIps { get; init; } = true;

    /// <summary>alpha: parallel queries per lookup.</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>A query not answered in this time has failed.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A lookup stops waiting for a slow node after this time and asks the next one (the query stays open).</summary>
    public TimeSpan QuerySlowAfter { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>A lookup gives up after this time.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A lookup sends at most this many queries.</summary>
    public int MaxQueriesPerLookup { get; init; } = 200;

    /// <summary>
    /// Lookups running at once; more wait their turn (a session starting hundreds of torrents would otherwise start
    /// hundreds of lookups that starve each other of the query budget until they all time out).
    /// </summary>
    public int MaxConcurrentLookups { get; init; } = 16;

    /// <summary>Queries waiting for an answer at once; more wait for a slot.</summary>
    public int MaxPendingQueries { get; init; } = 256;

    /// <summary>Queries we send per second, at most (bursts up to twice that).</summary>
    public double MaxQueriesPerSecond { get; init; } = 100;

    /// <summary>Info-hashes we store announced peers for, at most (libtorrent: 2000).</summary>
    public int MaxStoredInfoHashes { get; init; } = 2000;

    /// <summary>Peers stored per info-hash, at most (libtorrent: 500).</summary>
    public int MaxPeersPerInfoHash { get; init; } = 500;

    /// <summary>An announced peer is forgotten after this time unless it announces again (BEP 5 leaves it open; 30 minutes is common).</summary>
    public TimeSpan PeerLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Peers in one get_peers answer, at most (libtorrent: 100); a random choice when we have more.</summary>
    public int MaxPeersPerResponse { get; init; } = 100;

    /// <summary>Answers per second to one source (an IP, or an IP and port for local addresses).</summary>
    public double ResponsesPerSecondPerSource { get; init; } = 5;

    /// <summary>Answers one source may get in a burst.</summary>
    public double ResponseBurstPerSource { get; init; } = 20;

    /// <summary>Sources tracked for rate limiting, at most (least recently seen are forgotten).</summary>
    public int RateLimitedSources { get; init; } = 4096;

    /// <summary>
    /// Bytes per second of answers to all sources together: the ceiling on what a flood of forged queries can make
    /// us send, however many addresses it comes from.
    /// </summary>
    public int MaxResponseBytesPerSecond { get; init; } = 64 * 1024;

    /// <summary>Packets larger than this are dropped unread.</summary>
    public int MaxPacketSize { get; init; } = 4096;

    /// <summary>How often routing table upkeep runs (bucket refresh, pings, expiry).</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A bucket nothing happened in for this long is refreshed with a lookup (BEP 5: 15 minutes).</summary>
    public TimeSpan BucketRefreshInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The state file is also saved this often while running (and always on stop).</summary>
    public TimeSpan StateSaveInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentException($"DHT port {Port} is not between 0 and 65535.", nameof(Port));
        if (BucketSize < 1) throw new ArgumentException("DHT bucket size must be at least 1.", nameof(BucketSize));
        if (MaxBuckets is < 1 or > 160) throw new ArgumentException("DHT bucket count must be between 1 and 160.", nameof(MaxBuckets));
        if (Alpha < 1) throw new ArgumentException("DHT alpha must be at least 1.", nameof(Alpha));
        if (MaxConcurrentLookups < 1) throw new ArgumentException("DHT concurrent lookup limit must be at least 1.", nameof(MaxConcurrentLookups));
        if (MaxPendingQueries < 1) throw new ArgumentException("DHT pending query limit must be at least 1.", nameof(MaxPendingQueries));
        if (MaxPendingQueries > 60000) throw new ArgumentException("DHT pending query limit must stay below the transaction ID space.", nameof(MaxPendingQueries));
        if (MaxQueriesPerSecond <= 0) throw new ArgumentException("DHT query rate must be positive.", nameof(MaxQueriesPerSecond));
        if (ResponsesPerSecondPerSource <= 0 || ResponseBurstPerSource < 1) throw new ArgumentException("DHT response rate must be positive.", nameof(ResponsesPerSecondPerSource));
        if (MaxResponseBytesPerSecond < 1500) throw new ArgumentException("DHT response budget must be at least 1500 bytes per second.", nameof(MaxResponseBytesPerSecond));
        if (MaxPacketSize is < 512 or > 65507) throw new ArgumentException("DHT packet size limit must be between 512 and 65507.", nameof(MaxPacketSize));
        if (ExternalAddressVotes < 1) throw new ArgumentException("DHT external address votes must be at least 1.", nameof(ExternalAddressVotes));
        if (QueryTimeout <= TimeSpan.Zero || LookupTimeout <= TimeSpan.Zero || MaintenanceInterval <= TimeSpan.Zero)
            throw new ArgumentException("DHT timeouts and intervals must be positive.");
    }
}
