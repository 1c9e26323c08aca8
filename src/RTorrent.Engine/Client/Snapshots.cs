using RTorrent.Abstractions;

namespace RTorrent.Engine.Client;

/// <summary>What a torrent is doing.</summary>
public enum TorrentState
{
    /// <summary>Stopped by the user (paused).</summary>
    Stopped,
    /// <summary>Waiting for a free slot (queueing).</summary>
    Queued,
    /// <summary>Hashing existing data.</summary>
    Checking,
    /// <summary>Fetching the info dictionary from peers (magnet link).</summary>
    FetchingMetadata,
    /// <summary>Downloading.</summary>
    Downloading,
    /// <summary>Complete and uploading.</summary>
    Seeding,
    /// <summary>Stopped by an error (see the error text).</summary>
    Error,
}

/// <summary>An immutable picture of one torrent for the UI. Built on the engine loop, read anywhere.</summary>
public sealed record TorrentSnapshot
{
    /// <summary>The torrent's id: the wire info-hash in hex.</summary>
    public required string Id { get; init; }
    /// <summary>Name.</summary>
    public required string Name { get; init; }
    /// <summary>State.</summary>
    public required TorrentState State { get; init; }
    /// <summary>Error text when <see cref="State"/> is Error; otherwise a note (e.g. why it is paused), or null.</summary>
    public string? Error { get; init; }
    /// <summary>Hex v1 info-hash, if any.</summary>
    public string? InfoHashV1 { get; init; }
    /// <summary>Hex v2 info-hash, if any.</summary>
    public string? InfoHashV2 { get; init; }
    /// <summary>Download folder.</summary>
    public required string SavePath { get; init; }
    /// <summary>Bytes of the wanted files.</summary>
    public long Size { get; init; }
    /// <summary>Size of all files.</summary>
    public long TotalSize { get; init; }
    /// <summary>Bytes verified of the wanted files.</summary>
    public long Done { get; init; }
    /// <summary>0..1 of the wanted files (or of the check while checking).</summary>
    public double Progress { get; init; }
    /// <summary>Download rate, bytes/s.</summary>
    public long DownloadRate { get; init; }
    /// <summary>Upload rate, bytes/s.</summary>
    public long UploadRate { get; init; }
    /// <summary>Payload bytes downloaded in total (all sessions).</summary>
    public long Downloaded { get; init; }
    /// <summary>Payload bytes uploaded in total (all sessions).</summary>
    public long Uploaded { get; init; }
    /// <summary>Uploaded / size.</summary>
    public double Ratio { get; init; }
    /// <summary>Connected peers.</summary>
    public int PeersConnected { get; init; }
    /// <summary>Connected seeds.</summary>
    public int SeedsConnected { get; init; }
    /// <summary>Peers known (from all sources).</summary>
    public int PeersKnown { get; init; }
    /// <summary>Estimated time to completion, null if unknown.</summary>
    public TimeSpan? Eta { get; init; }
    /// <summary>Pieces.</summary>
    public int PieceCount { get; init; }
    /// <summary>Piece length.</summary>
    public long PieceLength { get; init; }
    /// <summary>Pieces verified.</summary>
    public int PiecesHave { get; init; }
    /// <summary>When added.</summary>
    public DateTimeOffset AddedAt { get; init; }
    /// <summary>When completed, if it has.</summary>
    public DateTimeOffset? CompletedAt { get; init; }
    /// <summary>Per-torrent download limit, bytes/s (0 = none).</summary>
    public long DownloadLimit { get; init; }
    /// <summary>Per-torrent upload limit, bytes/s (0 = none).</summary>
    public long UploadLimit { get; init; }
    /// <summary>Private torrent.</summary>
    public bool IsPrivate { get; init; }
    /// <summary>Sequential (streaming) download on.</summary>
    public bool Sequential { get; init; }
    /// <summary>BEP 16 super-seeding on (it acts while the torrent seeds every piece, and ends once they are all out).</summary>
    public bool SuperSeeding { get; init; }
    /// <summary>Chosen piece picker.</summary>
    public string Picker { get; init; } = "";
    /// <summary>Chosen storage.</summary>
    public string Storage { get; init; } = "";
    /// <summary>Comment from the .torrent.</summary>
    public string? Comment { get; init; }
    /// <summary>Creation date from the .torrent.</summary>
    public DateTimeOffset? CreationDate { get; init; }
    /// <summary>Bytes thrown away (duplicates, failed hashes).</summary>
    public long Wasted { get; init; }
    /// <summary>Pieces that failed their hash check.</summary>
    public int HashFailures { get; init; }
    /// <summary>
    /// The daemon the torrent belongs to, when one interface shows several (set by the backend that merges them);
    /// null for a single session.
    /// </summary>
    public string? Host { get; init; }

    // Lists compare by their items (EquatableList), so a snapshot equals its copy through JSON and an idle torrent's
    // snapshots compare equal: record equality is how changed torrents are told from idle ones.

    /// <summary>Labels (the torrent's tags).</summary>
    public EquatableList<string> Labels { get; init; } = EquatableList<string>.Empty;
    /// <summary>The torrent's category, or "" for none (docs/CATEGORIES.md).</summary>
    public string Category { get; init; } = "";
    /// <summary>Announce URLs by tier (BEP 12), as edited or from the metainfo.</summary>
    public EquatableList<EquatableList<string>> Trackers { get; init; } = EquatableList<EquatableList<string>>.Empty;
    /// <summary>Web seeds (BEP 19 'url-list' of the metainfo, or the magnet's 'ws').</summary>
    public EquatableList<string> WebSeeds { get; init; } = EquatableList<string>.Empty;

    /// <summary>Web seeds that sent us payload within the rate window (Transmission's webseedsSendingToUs).</summary>
    public int WebSeedsSendingToUs { get; init; }
    /// <summary>Place in the session's queue, 0 at the front: with queue limits, the front ones run first.</summary>
    public int QueuePosition { get; init; }
    /// <summary>Started with "start now": runs beside the queue (shown as [F]).</summary>
    public bool IsForced { get; init; }
    /// <summary>Running but moved no payload for the queue's stalled time: not counted against the queue's limits.</summary>
    public bool IsStalled { get; init; }
    /// <summary>When the torrent last started running; null while it is not running.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When payload last moved either way (to the second), over the torrent's life; null if never.</summary>
    public DateTimeOffset? ActivityAt { get; init; }
    /// <summary>Time spent downloading before the current downloading period; see <see cref="DownloadingTime"/>.</summary>
    public TimeSpan DownloadingTimeBefore { get; init; }
    /// <summary>When the current downloading period (metadata fetching included) began, or null.</summary>
    public DateTimeOffset? DownloadingSince { get; init; }
    /// <summary>Time spent seeding before the current seeding period; see <see cref="SeedingTime"/>.</summary>
    public TimeSpan SeedingTimeBefore { get; init; }
    /// <summary>When the current seeding period began, or null.</summary>
    public DateTimeOffset? SeedingSince { get; init; }
    /// <summary>Connected peers we download from (we are interested, they do not choke us).</summary>
    public int PeersSendingToUs { get; init; }
    /// <summary>Connected peers we upload to (they are interested, we do not choke them).</summary>
    public int PeersGettingFromUs { get; init; }
    /// <summary>'created by' from the .torrent.</summary>
    public string? CreatedBy { get; init; }
    /// <summary>0..1 of the metadata while a magnet link fetches it; 1 once it is known.</summary>
    public double MetadataProgress { get; init; }
    /// <summary>The peer limit in force for this torrent (its own, or the session's per-torrent limit).</summary>
    public int MaxConnections { get; init; }
    /// <summary>Which seed ratio limit applies (Transmission's seedRatioMode 0/1/2).</summary>
    public SeedRatioMode SeedRatioMode { get; init; }
    /// <summary>The torrent's own seed ratio limit (used in <see cref="SeedRatioMode.Custom"/>), or null.</summary>
    public double? SeedRatioLimit { get; init; }
    /// <summary>Which idle limit applies (Transmission's seedIdleMode 0/1/2).</summary>
    public SeedRatioMode SeedIdleMode { get; init; }
    /// <summary>The torrent's own idle limit in minutes, or null.</summary>
    public int? SeedIdleLimit { get; init; }
    /// <summary>Which seeding time limit applies (0 the session's, 1 its own, 2 none).</summary>
    public SeedRatioMode SeedingTimeMode { get; init; }
    /// <summary>The torrent's own seeding time limit in minutes, or null.</summary>
    public int? SeedingTimeLimit { get; init; }
    /// <summary>The torrent's own minimum seeding time in minutes, or null (the session's).</summary>
    public int? MinSeedingTime { get; init; }
    /// <summary>Stopped, complete and at its seed ratio limit (Transmission's isFinished).</summary>
    public bool IsFinished { get; init; }
    /// <summary>What its trackers say against it (a refusal by its only tracker, or a warning), or null.</summary>
    public TrackerProblem? TrackerProblem { get; init; }

    /// <summary>Total time spent downloading, as of <paramref name="now"/>.</summary>
    public TimeSpan DownloadingTime(DateTimeOffset now) =>
        DownloadingSince is { } s && now > s ? DownloadingTimeBefore + (now - s) : DownloadingTimeBefore;

    /// <summary>Total time spent seeding, as of <paramref name="now"/>.</summary>
    public TimeSpan SeedingTime(DateTimeOffset now) =>
        SeedingSince is { } s && now > s ? SeedingTimeBefore + (now - s) : SeedingTimeBefore;
}

/// <summary>
/// A tracker's complaint about a torrent: Transmission's tracker error (its only tracker refused the announce, with
/// the tracker's reason) or tracker warning (a tracker answered with a warning message).
/// </summary>
/// <param name="IsError">A refusal (error) rather than a warning.</param>
/// <param name="Message">What the tracker said.</param>
public sealed record TrackerProblem(bool IsError, string Message);

/// <summary>One connected peer, for the Peers view.</summary>
public sealed record PeerSnapshot
{
    /// <summary>Address:port.</summary>
    public required string Address { get; init; }
    /// <summary>Client name from the peer id or extended handshake.</summary>
    public required string Client { get; init; }
    /// <summary>
    /// Flags in the usual notation: D/d we download / want to but are choked, U/u we upload / it wants but is choked,
    /// I incoming, E RC4-encrypted stream, e encrypted handshake with a plaintext stream, F fast extension (BEP 6), S snubbed, O optimistic
    /// unchoke, X from PEX, H from DHT, T from tracker, L local discovery.
    /// </summary>
    public required string Flags { get; init; }
    /// <summary>Download rate from the peer, bytes/s.</summary>
    public long DownloadRate { get; init; }
    /// <summary>Upload rate to the peer, bytes/s.</summary>
    public long UploadRate { get; init; }
    /// <summary>Payload downloaded from the peer.</summary>
    public long Downloaded { get; init; }
    /// <summary>Payload uploaded to the peer.</summary>
    public long Uploaded { get; init; }
    /// <summary>The peer's progress 0..1.</summary>
    public double Progress { get; init; }
    /// <summary>Requests outstanding to the peer.</summary>
    public int RequestsOut { get; init; }
    /// <summary>Requests from the peer queued.</summary>
    public int RequestsIn { get; init; }
    /// <summary>Where we learned of it.</summary>
    public string Source { get; init; } = "";
    /// <summary>We choke the peer (it may not download from us).</summary>
    public bool AmChoking { get; init; } = true;
    /// <summary>We want pieces the peer has.</summary>
    public bool AmInterested { get; init; }
    /// <summary>The peer chokes us (we may not download from it).</summary>
    public bool PeerChoking { get; init; } = true;
    /// <summary>The peer wants pieces we have.</summary>
    public bool PeerInterested { get; init; }
    /// <summary>TCP or uTP (Transmission's isUTP and its flag letter T).</summary>
    public Peers.PeerTransport Transport { get; init; }
}

/// <summary>One web seed (BEP 19 or BEP 17), for the Web seeds view and the RPC.</summary>
public sealed record WebSeedSnapshot
{
    /// <summary>The URL as the torrent gives it.</summary>
    public required string Url { get; init; }
    /// <summary>BEP 19 (url-list, a magnet's ws) or BEP 17 (httpseeds).</summary>
    public WebSeeds.WebSeedKind Kind { get; init; }
    /// <summary>Idle, active, waiting after a failure, or dropped.</summary>
    public WebSeeds.WebSeedState State { get; init; }
    /// <summary>Download rate from the seed, bytes/s.</summary>
    public long DownloadRate { get; init; }
    /// <summary>Payload received from the seed this run.</summary>
    public long Downloaded { get; init; }
    /// <summary>Requests in flight.</summary>
    public int Connections { get; init; }
    /// <summary>The last failure (or why it was dropped), or null.</summary>
    public string? LastError { get; init; }
    /// <summary>When a demoted seed is asked again.</summary>
    public DateTimeOffset? RetryAt { get; init; }
}

/// <summary>One file, for the Files view.</summary>
public sealed record FileSnapshot
{
    /// <summary>Index in the torrent.</summary>
    public required int Index { get; init; }
    /// <summary>Relative path, '/'-separated.</summary>
    public required string Path { get; init; }
    /// <summary>Length.</summary>
    public required long Length { get; init; }
    /// <summary>Bytes verified.</summary>
    public long Done { get; init; }
    /// <summary>Priority.</summary>
    public Priority Priority { get; init; }
    /// <summary>BEP 47 attributes the torrent gives the file: 'l' symlink, 'x' executable, 'h' hidden ("" for none).</summary>
    public string Attributes { get; init; } = "";
    /// <summary>Where a symlink points (a path from the download folder), or null (no link, or a link refused).</summary>
    public string? SymlinkTarget { get; init; }
}

/// <summary>Per-piece state for the Pieces view.</summary>
public enum PieceDisplayState : byte
{
    /// <summary>Not had.</summary>
    Missing,
    /// <summary>Being downloaded.</summary>
    Downloading,
    /// <summary>Had.</summary>
    Have,
    /// <summary>Not wanted.</summary>
    Skipped,
}

/// <summary>The whole torrent in detail.</summary>
public sealed record TorrentDetails
{
    /// <summary>The summary.</summary>
    public required TorrentSnapshot Summary { get; init; }
    /// <summary>Files.</summary>
    public required IReadOnlyList<FileSnapshot> Files { get; init; }
    /// <summary>Peers.</summary>
    public required IReadOnlyList<PeerSnapshot> Peers { get; init; }
    /// <summary>Trackers and other peer sources.</summary>
    public required IReadOnlyList<PeerSourceStatus> Sources { get; init; }
    /// <summary>Web seeds with their state, rate and last error.</summary>
    public IReadOnlyList<WebSeedSnapshot> WebSeeds { get; init; } = [];
    /// <summary>One state per piece.</summary>
    public required PieceDisplayState[] Pieces { get; init; }
    /// <summary>The torrent's log, oldest first.</summary>
    public required IReadOnlyList<LogEntry> Log { get; init; }
}

/// <summary>A line of a torrent's (or the session's) log.</summary>
/// <param name="Time">When.</param>
/// <param name="Level">Severity.</param>
/// <param name="Message">Text.</param>
public sealed record LogEntry(DateTimeOffset Time, PluginLogLevel Level, string Message);

/// <summary>The session as a whole, for the status bar.</summary>
public sealed record SessionSnapshot
{
    /// <summary>All torrents.</summary>
    public required IReadOnlyList<TorrentSnapshot> Torrents { get; init; }
    /// <summary>Sum of download rates.</summary>
    public long DownloadRate { get; init; }
    /// <summary>Sum of upload rates.</summary>
    public long UploadRate { get; init; }
    /// <summary>Global download limit (0 = none).</summary>
    public long DownloadLimit { get; init; }
    /// <summary>Global upload limit (0 = none).</summary>
    public long UploadLimit { get; init; }
    /// <summary>Turtle mode (alternative speed limits) is on: the limits above are the turtle ones.</summary>
    public bool AltSpeedEnabled { get; init; }
    /// <summary>The port we listen on.</summary>
    public int ListenPort { get; init; }
    /// <summary>Connected peers across torrents.</summary>
    public int Connections { get; init; }
    /// <summary>DHT nodes in the routing table (null when the DHT is off).</summary>
    public int? DhtNodes { get; init; }
    /// <summary>
    /// Attempts the blocklist refused since the program started (connections, peers from sources, DHT packets); null
    /// while the blocklist is off.
    /// </summary>
    public long? BlockedAttempts { get; init; }
    /// <summary>Ranges in the blocklist in force (0 when none is loaded).</summary>
    public int BlocklistRules { get; init; }
    /// <summary>What the router forwards to the listen port (UPnP, NAT-PMP, PCP), or why nothing; null while port forwarding is off.</summary>
    public PortMapping.PortMappingStatus? PortMapping { get; init; }
    /// <summary>Each daemon when one interface shows several (<c>--connect</c> more than once); null otherwise.</summary>
    public IReadOnlyList<HostStatus>? Hosts { get; init; }
}

/// <summary>One daemon of several, for the status line.</summary>
/// <param name="Name">How the user named it (<c>host:port</c> from its URL).</param>
/// <param name="Connected">Answering now.</param>
/// <param name="DownloadRate">Its download rate, bytes/s (0 while disconnected).</param>
/// <param name="UploadRate">Its upload rate, bytes/s.</param>
/// <param name="Torrents">Its torrents (as last seen).</param>
/// <param name="Problem">Why it is not connected (the last error), or null.</param>
/// <param name="RetryAt">When the next reconnection attempt is due, while disconnected.</param>
public sealed record HostStatus(string Name, bool Connected, long DownloadRate, long UploadRate, int Torrents, string? Problem,
    DateTimeOffset? RetryAt);
