using System.Net;

namespace RTorrent.Engine.Trackers;

/// <summary>A tracker's answer to an announce.</summary>
public sealed class TrackerAnnounceResponse
{
    /// <summary>Peers the tracker reported: IPv4 and IPv6, without duplicates and without port 0.</summary>
    public required IReadOnlyList<IPEndPoint> Peers { get; init; }

    /// <summary>How long to wait before the next regular announce, if the tracker said (<c>interval</c>).</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The shortest time the tracker allows between announces, if it said (<c>min interval</c>).</summary>
    public TimeSpan? MinInterval { get; init; }

    /// <summary>The tracker's <c>tracker id</c>, to echo on later announces (HTTP only).</summary>
    public string? TrackerId { get; init; }

    /// <summary>A <c>warning message</c>: the announce worked but the tracker has something to say.</summary>
    public string? WarningMessage { get; init; }

    /// <summary>Seeders (<c>complete</c>), if reported.</summary>
    public int? Seeders { get; init; }

    /// <summary>Leechers (<c>incomplete</c>), if reported.</summary>
    public int? Leechers { get; init; }

    /// <summary>Completed downloads (<c>downloaded</c>), if reported.</summary>
    public int? Downloaded { get; init; }

    /// <summary>Our address as the tracker sees it (BEP 24 <c>external ip</c>), if reported.</summary>
    public IPAddress? ExternalAddress { get; init; }
}
