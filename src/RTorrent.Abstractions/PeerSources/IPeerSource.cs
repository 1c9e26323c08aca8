using System.Net;

namespace RTorrent.Abstractions;

/// <summary>Creates peer sources; registered by a plugin (or built into the engine: trackers, DHT, PEX).</summary>
public interface IPeerSourceFactory : IPluginComponent
{
    /// <summary>
    /// Whether the source may be used for private torrents (BEP 27). Only sources that talk to the torrent's own
    /// trackers may say yes; the engine never starts a source that says no for a private torrent.
    /// </summary>
    bool AllowedForPrivateTorrents { get; }

    /// <summary>Creates the source for one torrent. It does nothing until <see cref="IPeerSource.StartAsync"/>.</summary>
    IPeerSource Create(PeerSourceContext context);
}

/// <summary>What a peer source knows about the torrent it finds peers for.</summary>
public sealed class PeerSourceContext
{
    /// <summary>Creates a context.</summary>
    public PeerSourceContext(ReadOnlyMemory<byte> infoHash, ReadOnlyMemory<byte> peerId, bool isPrivate,
        IReadOnlyList<IReadOnlyList<string>> trackerTiers, int listenPort, IPeerSink sink, Func<TransferTotals> totals)
    {
        if (infoHash.Length != 20) throw new ArgumentException("A v1 info-hash has 20 bytes.", nameof(infoHash));
        if (peerId.Length != 20) throw new ArgumentException("A peer id has 20 bytes.", nameof(peerId));
        InfoHash = infoHash;
        PeerId = peerId;
        IsPrivate = isPrivate;
        TrackerTiers = trackerTiers;
        ListenPort = listenPort;
        Sink = sink;
        Totals = totals;
    }

    /// <summary>The torrent's v1 info-hash (20 bytes), or the SHA-256 truncated to 20 bytes for v2-only torrents.</summary>
    public ReadOnlyMemory<byte> InfoHash { get; }

    /// <summary>Our peer id (20 bytes).</summary>
    public ReadOnlyMemory<byte> PeerId { get; }

    /// <summary>The torrent is private (BEP 27).</summary>
    public bool IsPrivate { get; }

    /// <summary>The torrent's trackers by tier (BEP 12), as in the metainfo or magnet link.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrackerTiers { get; }

    /// <summary>The TCP port we accept peers on.</summary>
    public int ListenPort { get; }

    /// <summary>Where found peers go.</summary>
    public IPeerSink Sink { get; }

    /// <summary>Current transfer totals, for announces. Cheap and thread-safe to call.</summary>
    public Func<TransferTotals> Totals { get; }
}

/// <summary>Byte counts reported to trackers.</summary>
/// <param name="Uploaded">Payload bytes uploaded this session.</param>
/// <param name="Downloaded">Payload bytes downloaded this session.</param>
/// <param name="Left">Bytes still needed to complete the wanted files.</param>
public readonly record struct TransferTotals(long Uploaded, long Downloaded, long Left);

/// <summary>Receives peers found by a source. Thread-safe; may be called from any thread.</summary>
public interface IPeerSink
{
    /// <summary>Reports peers. The engine de-duplicates by address and port, and ignores our own listen endpoint.</summary>
    void AddPeers(IReadOnlyList<IPEndPoint> peers, string sourceName);
}

/// <summary>Torrent events a source may care about (trackers send them with announces).</summary>
public enum TorrentEvent
{
    /// <summary>Nothing special (a regular announce).</summary>
    None,
    /// <summary>The torrent has just finished downloading.</summary>
    Completed,
}

/// <summary>One torrent's use of a peer source.</summary>
/// <remarks>
/// Every method that waits takes a cancellation token and must honour it; the engine also bounds each call with a
/// timeout and disables a source that throws or hangs, for that torrent only.
/// </remarks>
public interface IPeerSource : IAsyncDisposable
{
    /// <summary>Starts looking for peers; returns once started (the search itself runs in the background).</summary>
    ValueTask StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops looking (trackers send their "stopped" announce here).</summary>
    ValueTask StopAsync(CancellationToken cancellationToken);

    /// <summary>Tells the source about a torrent event, such as completion.</summary>
    ValueTask OnEventAsync(TorrentEvent torrentEvent, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Asks for more peers soon: when connections run low, and when the user asks to reannounce (Transmission's
    /// <c>torrent-reannounce</c>). A source that contacts a server should do so as soon as that server's minimum interval
    /// allows, not sooner; the built-in trackers and DHT do. The source may ignore it.
    /// </summary>
    void RequestMorePeers() { }

    /// <summary>What the source is doing, for the user: one row per endpoint (a tracker URL, the DHT, ...).</summary>
    IReadOnlyList<PeerSourceStatus> GetStatus();
}

/// <summary>What a peer source (or one of its endpoints) is doing, as shown to the user.</summary>
public sealed record PeerSourceStatus
{
    /// <summary>Source name, e.g. <c>tracker</c>, <c>dht</c>.</summary>
    public required string Source { get; init; }

    /// <summary>The endpoint, e.g. a tracker URL; the source name where there is only one.</summary>
    public required string Endpoint { get; init; }

    /// <summary>Tracker tier (BEP 12), or 0.</summary>
    public int Tier { get; init; }

    /// <summary>Short state: "working", "updating", "error", "not contacted", ...</summary>
    public required string State { get; init; }

    /// <summary>The last error or warning message, if any.</summary>
    public string? Message { get; init; }

    /// <summary>When the last successful contact happened.</summary>
    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>When the next contact is due.</summary>
    public DateTimeOffset? NextContact { get; init; }

    /// <summary>Seeders according to the endpoint (scrape or announce), if known.</summary>
    public int? Seeders { get; init; }

    /// <summary>Leechers according to the endpoint, if known.</summary>
    public int? Leechers { get; init; }

    /// <summary>Times the torrent was downloaded according to the endpoint, if known.</summary>
    public int? Downloaded { get; init; }

    /// <summary>Peers this endpoint reported in total.</summary>
    public int PeersReported { get; init; }
}
