using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// Talks to one tracker URL. Implementations are thread-safe and may be shared by many torrents; they are
/// <see cref="IDisposable"/> when they own resources.
/// </summary>
public interface ITrackerClient
{
    /// <summary>The tracker's announce URL.</summary>
    Uri AnnounceUri { get; }

    /// <summary>Whether <see cref="ScrapeAsync"/> can work for this tracker.</summary>
    bool CanScrape { get; }

    /// <summary>Announces and returns the tracker's answer.</summary>
    /// <exception cref="TrackerException">The tracker failed, refused or answered garbage.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<TrackerAnnounceResponse> AnnounceAsync(TrackerAnnounceRequest request, CancellationToken cancellationToken);

    /// <summary>Asks for the swarm counts of the given torrents.</summary>
    /// <exception cref="TrackerException">
    /// The tracker failed or answered garbage; <see cref="TrackerErrorKind.Unsupported"/> when it cannot scrape.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<TrackerScrapeResponse> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken);
}
