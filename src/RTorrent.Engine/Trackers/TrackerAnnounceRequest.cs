using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>What an announce tells the tracker. The same request works for HTTP and UDP trackers.</summary>
public sealed record TrackerAnnounceRequest
{
    private readonly ReadOnlyMemory<byte> _peerId;
    private readonly int _port;

    /// <summary>The torrent.</summary>
    public required InfoHash InfoHash { get; init; }

    /// <summary>Our peer id: exactly 20 bytes.</summary>
    public required ReadOnlyMemory<byte> PeerId
    {
        get => _peerId;
        init => _peerId = value.Length == 20 ? value : throw new ArgumentException("A peer id has 20 bytes.", nameof(PeerId));
    }

    /// <summary>The TCP port we accept peers on (0 when we accept none).</summary>
    public required int Port
    {
        get => _port;
        init => _port = value is >= 0 and <= ushort.MaxValue ? value : throw new ArgumentOutOfRangeException(nameof(Port), value, "A port is 0-65535.");
    }

    /// <summary>Payload bytes uploaded since the <see cref="AnnounceEvent.Started"/> announce.</summary>
    public long Uploaded { get; init; }

    /// <summary>Payload bytes downloaded since the <see cref="AnnounceEvent.Started"/> announce.</summary>
    public long Downloaded { get; init; }

    /// <summary>Bytes still needed.</summary>
    public long Left { get; init; }

    /// <summary>The event, if any.</summary>
    public AnnounceEvent Event { get; init; }

    /// <summary>How many peers we would like; negative lets the tracker choose (UDP sends -1, HTTP leaves it out).</summary>
    public int NumWant { get; init; } = -1;

    /// <summary>
    /// A number that stays the same for this torrent during the session, so the tracker can recognise us when our
    /// address changes.
    /// </summary>
    public uint Key { get; init; }

    /// <summary>
    /// Our IPv6 address, sent to HTTP trackers as <c>ipv6=</c> (BEP 7) so one reached over IPv4 learns it too; null
    /// leaves the parameter out. UDP trackers have no field for it (BEP 15): they see the family we reach them over.
    /// </summary>
    public System.Net.IPAddress? IPv6Address { get; init; }

    /// <summary>The <c>tracker id</c> this tracker gave in an earlier answer (HTTP only), echoed as <c>trackerid</c>.</summary>
    public string? TrackerId { get; init; }
}
