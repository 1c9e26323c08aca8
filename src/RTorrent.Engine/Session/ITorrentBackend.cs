using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Session;

/// <summary>
/// Everything the terminal interface needs from a session: immutable snapshots to draw, and the operations behind its
/// keys. The interface never touches the engine directly, so it runs the same over a session in its own process
/// (<see cref="SessionBackend"/>), over a daemon through its socket or URL (RTorrent.Remote's RemoteBackend), over
/// several daemons at once, and over a fake in tests.
/// </summary>
/// <remarks>
/// <para>
/// Change notification is by polling: the interface asks for <see cref="GetSessionAsync"/> (and the open torrent's
/// <see cref="GetDetailsAsync"/>) a few times a second and redraws only what differs from the previous snapshot. That
/// bounds the redraw rate however fast the engine changes, which is what keeps a slow SSH link usable.
/// </para>
/// <para>
/// Every member may be called from any thread; the interface calls them from background tasks, never blocking its
/// own thread. Methods throw an exception whose message a user understands (it is shown as is) when an operation is
/// refused: an unknown id, a bad .torrent file, a folder that cannot be written.
/// </para>
/// </remarks>
public interface ITorrentBackend
{
    /// <summary>All torrents and the session totals.</summary>
    Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default);

    /// <summary>One torrent in detail, or null when no torrent has that id (it was removed).</summary>
    Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The session's log (not tied to one torrent), oldest first.</summary>
    Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a torrent and returns its id.</summary>
    /// <param name="pathOrMagnet">A path to a .torrent file, or a magnet link.</param>
    /// <param name="saveDirectory">Where its files go.</param>
    /// <param name="start">Start it at once (otherwise it is added paused).</param>
    /// <param name="picker">Piece picker name from <see cref="PickerNames"/>; null for the default.</param>
    /// <param name="storage">Storage name from <see cref="StorageNames"/>; null for the default.</param>
    /// <param name="cancellationToken">Cancels the wait (the add may still happen).</param>
    Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default);

    /// <summary>Starts (resumes) a torrent through the queue: it waits, queued, when the queue's limits leave no slot.</summary>
    Task StartAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Forced start: the torrent runs at once beside the queue (Transmission's <c>torrent-start-now</c>). Backends that
    /// cannot do it throw <see cref="NotSupportedException"/>.
    /// </summary>
    Task StartNowAsync(string id, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend cannot force a start.");

    /// <summary>Moves a torrent in the session's queue (top, up, down, bottom).</summary>
    Task MoveInQueueAsync(string id, RTorrent.Engine.Client.QueueMove move, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend cannot move torrents in the queue.");

    /// <summary>Stops (pauses) a torrent.</summary>
    Task StopAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Hashes the torrent's data again.</summary>
    Task RecheckAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes a torrent from the session, and its downloaded files when <paramref name="deleteData"/>.</summary>
    Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default);

    /// <summary>Sets the priority of some of a torrent's files (indexes as in <see cref="FileSnapshot.Index"/>).</summary>
    Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority,
        CancellationToken cancellationToken = default);

    /// <summary>Sets a torrent's own rate limits in bytes per second (0 = no limit).</summary>
    Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the session's rate limits in force in bytes per second (0 = no limit): the turtle ones while turtle mode is on
    /// (<see cref="SessionSnapshot.AltSpeedEnabled"/>), the normal ones otherwise.
    /// </summary>
    Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default);

    /// <summary>Turns sequential (in order) download on or off.</summary>
    Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default);

    /// <summary>
    /// Turns BEP 16 super-seeding on or off (<see cref="Client.Torrent.SetSuperSeedingAsync"/>). Backends that cannot
    /// say so (test doubles) refuse.
    /// </summary>
    Task SetSuperSeedingAsync(string id, bool on, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend cannot set super-seeding.");

    /// <summary>The session's categories, sorted by name (docs/CATEGORIES.md); backends without categories have none.</summary>
    Task<IReadOnlyList<Category>> GetCategoriesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<Category>>([]);

    /// <summary>Adds or changes a category (by name); torrents in it move when its folders changed.</summary>
    Task SaveCategoryAsync(Category category, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend has no categories.");

    /// <summary>Removes a category; its torrents keep their data where it is and have no category.</summary>
    Task RemoveCategoryAsync(string name, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend has no categories.");

    /// <summary>
    /// Puts a torrent in a category (null or empty: none), creating the category when it does not exist, and moves its
    /// data to the category's folder. Returns once the category is set and the move done, or a few seconds into a long
    /// move (which goes on; a failure is in the torrent's log).
    /// </summary>
    Task SetCategoryAsync(string id, string? category, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend has no categories.");

    /// <summary>Replaces a torrent's tags (its labels: trimmed, no commas, no duplicates).</summary>
    Task SetTagsAsync(string id, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend cannot set tags.");

    /// <summary>Piece pickers a torrent can use; the first is the default.</summary>
    IReadOnlyList<string> PickerNames { get; }

    /// <summary>Storage backends a torrent can use; the first is the default.</summary>
    IReadOnlyList<string> StorageNames { get; }

    /// <summary>Plugins found at start-up, loaded or not.</summary>
    IReadOnlyList<PluginInfo> Plugins { get; }

    /// <summary>The settings a user can edit from the interface, as they are now.</summary>
    Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default);

    /// <summary>Applies and saves settings. Throws with a readable message when a value is refused.</summary>
    Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default);

    /// <summary>What this backend is connected to (shown in the title line; decides whether the stop-daemon key works).</summary>
    BackendInfo Info { get; }

    /// <summary>
    /// Bytes free on the file system of <paramref name="folder"/> on the machine that runs the session (a daemon's
    /// disk, not the interface's), or null when that cannot be told.
    /// </summary>
    Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops the daemon behind this backend: it saves its resume data and exits. Only when <see cref="BackendInfo.CanStopDaemon"/>;
    /// a session in the interface's own process stops when the interface quits.
    /// </summary>
    /// <exception cref="NotSupportedException">There is no daemon to stop.</exception>
    Task StopDaemonAsync(CancellationToken cancellationToken = default);

    /// <summary>The feeds (their last polls, errors and items) and the download rules (docs/FEEDS.md).</summary>
    /// <exception cref="NotSupportedException">The backend has no feeds (several daemons at once, test doubles).</exception>
    Task<Feeds.FeedsSnapshot> GetFeedsAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend has no feeds.");

    /// <summary>Replaces the feeds and rules (validated, saved to feeds.json, applied at once).</summary>
    /// <exception cref="FormatException">The configuration is refused; the message lists why.</exception>
    Task SetFeedsAsync(Feeds.FeedConfig config, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend has no feeds.");

    /// <summary>
    /// Polls a feed (by name), or every enabled feed when null, now. Returns once the poll started; its result shows in
    /// <see cref="GetFeedsAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No feed has that name.</exception>
    Task RefreshFeedAsync(string? feed, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This backend has no feeds.");
}

/// <summary>What kind of session a backend drives.</summary>
public enum BackendKind
{
    /// <summary>A session in this process: quitting the interface stops it.</summary>
    Local,
    /// <summary>An <c>rtorrent daemon</c> reached through its socket or URL: quitting the interface leaves it running.</summary>
    Daemon,
    /// <summary>Several daemons shown as one list (<c>--connect</c> given more than once).</summary>
    Multiple,
}

/// <summary>What a backend is connected to.</summary>
/// <param name="Kind">Local, a daemon, or several.</param>
/// <param name="Name">Where, for people: "local", a socket path, <c>host:port</c>, or the hosts' names.</param>
/// <param name="CanStopDaemon">The stop-daemon key applies (<see cref="ITorrentBackend.StopDaemonAsync"/>).</param>
public sealed record BackendInfo(BackendKind Kind, string Name, bool CanStopDaemon)
{
    /// <summary>A session in this process.</summary>
    public static BackendInfo Local { get; } = new(BackendKind.Local, "local", false);
}

/// <summary>The settings the interface edits (a view over the session's settings, not the whole of them).</summary>
public sealed record EditableSettings
{
    /// <summary>TCP port for incoming peers; 0 lets the system choose.</summary>
    public int ListenPort { get; init; }

    /// <summary>Where new torrents save their files.</summary>
    public string DownloadFolder { get; init; } = "";

    /// <summary>A folder whose .torrent files are added and started; empty for none.</summary>
    public string WatchFolder { get; init; } = "";

    /// <summary>Session download limit, bytes per second (0 = none).</summary>
    public long DownloadLimit { get; init; }

    /// <summary>Session upload limit, bytes per second (0 = none).</summary>
    public long UploadLimit { get; init; }

    /// <summary>Peers unchoked (uploaded to) at once per torrent.</summary>
    public int UploadSlots { get; init; } = 8;

    /// <summary>Connections across all torrents.</summary>
    public int MaxConnections { get; init; } = 500;

    /// <summary>Find peers through the DHT (BEP 5).</summary>
    public bool Dht { get; init; } = true;

    /// <summary>Exchange peers with peers (BEP 11).</summary>
    public bool Pex { get; init; } = true;

    /// <summary>Find peers on the local network (BEP 14).</summary>
    public bool Lsd { get; init; } = true;

    /// <summary>Peers, DHT and LSD over IPv4 (settings.json <c>listenOnIPv4</c>; applies at the next start).</summary>
    public bool IPv4 { get; init; } = true;

    /// <summary>Peers, DHT and LSD over IPv6 (settings.json <c>listenOnIPv6</c>; applies at the next start).</summary>
    public bool IPv6 { get; init; } = true;

    /// <summary>
    /// uTP (BEP 29) both ways: accept it and dial it first (settings.json enableIncomingUtp and enableOutgoingUtp; on
    /// while either is). Setting it sets both; TCP's two switches are settings.json only (docs/UTP.md).
    /// </summary>
    public bool Utp { get; init; } = true;

    /// <summary>Start torrents the watch folder adds (settings.json <c>startAddedTorrents</c>; the RPC's default too).</summary>
    public bool StartAddedTorrents { get; init; } = true;

    /// <summary>Protocol encryption (MSE): which handshakes are accepted and which are dialled.</summary>
    public RTorrent.Engine.Peers.Encryption.EncryptionMode Encryption { get; init; } = RTorrent.Engine.Peers.Encryption.EncryptionMode.Enabled;

    /// <summary>Turtle mode on: the session runs at <see cref="AltDownloadLimit"/> and <see cref="AltUploadLimit"/>.</summary>
    public bool AltSpeedEnabled { get; init; }

    /// <summary>Download limit in turtle mode, bytes per second (0 = none).</summary>
    public long AltDownloadLimit { get; init; } = Settings.EngineSettings.DefaultAltRateLimit;

    /// <summary>Upload limit in turtle mode, bytes per second (0 = none).</summary>
    public long AltUploadLimit { get; init; } = Settings.EngineSettings.DefaultAltRateLimit;

    /// <summary>Switch turtle mode on and off by the weekly schedule.</summary>
    public bool AltSpeedScheduleEnabled { get; init; }

    /// <summary>The schedule's start, minutes after local midnight.</summary>
    public int AltSpeedScheduleBegin { get; init; } = 540;

    /// <summary>The schedule's end, minutes after local midnight.</summary>
    public int AltSpeedScheduleEnd { get; init; } = 1020;

    /// <summary>The schedule's days: Sunday 1, Monday 2, ... Saturday 64.</summary>
    public int AltSpeedScheduleDays { get; init; } = 127;

    /// <summary>The program run when a torrent is added; empty for none.</summary>
    public string AddedHook { get; init; } = "";

    /// <summary>The program run when a torrent finishes downloading; empty for none.</summary>
    public string CompletedHook { get; init; } = "";

    /// <summary>The program run when a torrent is removed; empty for none.</summary>
    public string RemovedHook { get; init; } = "";

    /// <summary>Ask the router to forward the listen port (settings.json <c>portForwardingEnabled</c>); applies at once.</summary>
    public bool PortForwarding { get; init; } = true;

    /// <summary>Refuse peers in the blocklist (settings.json <c>blocklistEnabled</c>); applies at once.</summary>
    public bool BlocklistEnabled { get; init; }

    /// <summary>An http(s) address the blocklist is downloaded from; empty for none.</summary>
    public string BlocklistUrl { get; init; } = "";

    /// <summary>A blocklist file on the session's machine; empty for none.</summary>
    public string BlocklistFile { get; init; } = "";

    /// <summary>Hours between refreshes of the blocklist; 0 for only at start and on request.</summary>
    public int BlocklistRefreshHours { get; init; } = Settings.EngineSettings.DefaultBlocklistRefreshHours;

    /// <summary>Torrents downloading at once (settings.json <c>downloadQueueEnabled</c>/<c>Size</c>); null: no limit.</summary>
    public int? MaxActiveDownloads { get; init; }

    /// <summary>Torrents seeding at once (<c>seedQueueEnabled</c>/<c>Size</c>); null: no limit.</summary>
    public int? MaxActiveSeeds { get; init; }

    /// <summary>Torrents downloading or seeding at once (<c>activeQueueEnabled</c>/<c>Size</c>); null: no limit.</summary>
    public int? MaxActiveTorrents { get; init; }

    /// <summary>Minutes without payload after which a running torrent no longer counts (<c>queueStalledMinutes</c>); null: never.</summary>
    public int? QueueStalledMinutes { get; init; }
}

/// <summary>What kinds of components a plugin offers.</summary>
[Flags]
public enum PluginKinds
{
    /// <summary>Nothing (the plugin failed to load, or registered nothing).</summary>
    None = 0,
    /// <summary>Piece pickers.</summary>
    Picker = 1,
    /// <summary>Peer sources.</summary>
    PeerSource = 2,
    /// <summary>Storage backends.</summary>
    Storage = 4,
    /// <summary>Torrent sources (feed readers).</summary>
    TorrentSource = 8,
}

/// <summary>One plugin as the interface lists it.</summary>
/// <param name="Name">The plugin's name (its assembly or folder name).</param>
/// <param name="Kinds">What it offers.</param>
/// <param name="Version">Its version, free text.</param>
/// <param name="Folder">Where it was loaded from.</param>
/// <param name="Status">"loaded", or why it is not (e.g. "failed: contracts 2.0 needed").</param>
public sealed record PluginInfo(string Name, PluginKinds Kinds, string Version, string Folder, string Status);

/// <summary>
/// The session behind a backend cannot be reached right now (a daemon stopped, restarts, or the network is down). The
/// backend keeps trying by itself; the interface shows the message and carries on.
/// </summary>
public sealed class BackendUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why, for people ("the daemon at host:9091 is not answering: connection refused").</param>
    /// <param name="retryAt">When the backend tries again, if it knows.</param>
    /// <param name="inner">The failure underneath.</param>
    public BackendUnavailableException(string message, DateTimeOffset? retryAt = null, Exception? inner = null)
        : base(message, inner)
    {
        RetryAt = retryAt;
    }

    /// <summary>When the next attempt is due, if known.</summary>
    public DateTimeOffset? RetryAt { get; }
}
