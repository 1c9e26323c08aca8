using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>Swarm counts for one torrent from a scrape.</summary>
/// <param name="Seeders">Peers with the whole torrent (<c>complete</c>).</param>
/// <param name="Leechers">Peers still downloading (<c>incomplete</c>).</param>
/// <param name="Downloaded">Completed downloads the tracker has counted (<c>downloaded</c>).</param>
public readonly record struct ScrapeCounts(int Seeders, int Leechers, int Downloaded);

/// <summary>A tracker's answer to a scrape.</summary>
public sealed class TrackerScrapeResponse
{
    /// <summary>
    /// Counts per torrent. A torrent the tracker does not know (or has no peers for) may be missing: opentracker
    /// leaves such torrents out.
    /// </summary>
    public required IReadOnlyDictionary<InfoHash, ScrapeCounts> Files { get; init; }
}
