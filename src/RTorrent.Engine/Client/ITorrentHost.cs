using System.Net;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Client;

/// <summary>
/// What the engine gives a torrent: the loop, clock, settings, identity, the session's connection budget, the tick list
/// and schedule, components by name, persistence and change notifications. Only <see cref="Torrent"/> sees it; each of
/// the torrent's parts gets a narrow interface of its own from the torrent (see Torrent.Wiring.cs).
/// </summary>
internal interface ITorrentHost
{
    EngineLoop Loop { get; }
    EngineConfig Config { get; }
    byte[] PeerId { get; }
    int ListenPort { get; }

    /// <summary>uTP over the listen port's UDP socket, or null when the port could not be bound.</summary>
    Peers.Utp.UtpSocket? Utp { get; }
    TimeProvider Time { get; }
    ILogger Logger { get; }

    /// <summary>Data read for serving peers, under one budget for every torrent (on the loop).</summary>
    PieceReadCache ReadCache { get; }

    /// <summary>The engine's one HTTP client for web seeds (keep-alive, connections per server capped); any thread.</summary>
    HttpClient WebSeedHttp { get; }

    /// <summary>The session's connection limits, shared by every torrent.</summary>
    IConnectionBudget Connections { get; }

    /// <summary>The session's blocklist: the torrent's peer pool refuses the addresses it blocks.</summary>
    Blocklists.Blocklist Blocklist { get; }

    /// <summary>Whether an endpoint is this client itself.</summary>
    bool IsSelf(IPEndPoint endPoint);

    /// <summary>
    /// Whether peers of this address's family may be dialled (settings.json <c>listenOnIPv4</c> / <c>listenOnIPv6</c>:
    /// a family turned off is neither accepted nor dialled). Every family by default.
    /// </summary>
    bool AllowsAddress(System.Net.IPAddress address) => true;

    /// <summary>The torrent changed state, completed or failed (on the loop).</summary>
    void OnTorrentChanged(Torrent torrent);

    /// <summary>The torrent finished downloading (on the loop): the session's completion hook.</summary>
    void OnDownloadCompleted(Torrent torrent);

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

    /// <summary>Creates a picker by name, or null when there is none.</summary>
    IPiecePicker? CreatePickerByName(Torrent torrent, TorrentMetainfo metainfo, string name);

    /// <summary>A magnet's metadata arrived and checked out (on the loop): persist the .torrent.</summary>
    Task OnMetadataReceivedAsync(Torrent torrent);

    /// <summary>The torrent's settings changed (on the loop): save its resume data soon, even while it is stopped.</summary>
    void RequestResumeSave(Torrent torrent);

    /// <summary>A seeding rule reached with a remove action: removes the torrent (off the loop), deleting its data if asked.</summary>
    void RemoveBySeedingRule(Torrent torrent, bool deleteData);

    /// <summary>A seeding rule ended the torrent's seeding, before its action (on the loop): the session's hook runs.</summary>
    void OnSeedingDone(Torrent torrent);

    /// <summary>Waits for a turn to hash data (checks run a few at a time, in the order asked); dispose the slot when done.</summary>
    Task<CheckQueue.Slot> EnterCheckAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Puts the torrent on the tick list (on the loop): it is ticked from the next engine tick until its
    /// <see cref="Torrent.Tick"/> says it has nothing to do every second.
    /// </summary>
    void Activate(Torrent torrent);

    /// <summary>Ticks the torrent at the first engine tick at or after <paramref name="at"/> (on the loop); the earliest wins.</summary>
    void WakeAt(Torrent torrent, DateTimeOffset at);

    /// <summary>Whether a torrent asking to start (not forced) gets a slot in the queue now (on the loop).</summary>
    bool MayStart(Torrent torrent);

    /// <summary>Something the queue depends on changed: evaluate it soon (on the loop).</summary>
    void RequestQueueEvaluation();
}
