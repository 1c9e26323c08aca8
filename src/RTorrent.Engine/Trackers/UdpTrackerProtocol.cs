using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>The packets of the UDP tracker protocol (BEP 15). All integers are big-endian.</summary>
internal static class UdpTrackerProtocol
{
    public const long ProtocolId = 0x41727101980;
    public const int ActionConnect = 0;
    public const int ActionAnnounce = 1;
    public const int ActionScrape = 2;
    public const int ActionError = 3;

    public const int ConnectLength = 16;
    public const int AnnounceRequestLength = 98;
    public const int AnnounceResponseHeaderLength = 20;
    public const int ScrapeHeaderLength = 16;
    public const int ScrapeEntryLength = 12;

    /// <summary>Hashes per scrape packet: BEP 15 says about 74 fit in a safe UDP payload.</summary>
    public const int MaxScrapeHashes = 74;

    public static byte[] Connect(uint transactionId)
    {
        var p = new byte[ConnectLength];
        BinaryPrimitives.WriteInt64BigEndian(p, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(8), ActionConnect);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), transactionId);
        return p;
    }

    public static byte[] Announce(long connectionId, uint transactionId, TrackerAnnounceRequest r)
    {
        var p = new byte[AnnounceRequestLength];
        var s = p.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(s, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(s[8..], ActionAnnounce);
        BinaryPrimitives.WriteUInt32BigEndian(s[12..], transactionId);
        r.InfoHash.CopyTo(s[16..36]);
        r.PeerId.Span.CopyTo(s[36..56]);
        BinaryPrimitives.WriteInt64BigEndian(s[56..], Math.Max(0, r.Downloaded));
        BinaryPrimitives.WriteInt64BigEndian(s[64..], Math.Max(0, r.Left));
        BinaryPrimitives.WriteInt64BigEndian(s[72..], Math.Max(0, r.Uploaded));
        BinaryPrimitives.WriteInt32BigEndian(s[80..], (int)r.Event);
        BinaryPrimitives.WriteUInt32BigEndian(s[84..], 0); // IP: 0 = the packet's source address
        BinaryPrimitives.WriteUInt32BigEndian(s[88..], r.Key);
        BinaryPrimitives.WriteInt32BigEndian(s[92..], r.NumWant < 0 ? -1 : r.NumWant);
        BinaryPrimitives.WriteUInt16BigEndian(s[96..], (ushort)r.Port);
        return p;
    }

    public static byte[] Scrape(long connectionId, uint transactionId, ReadOnlySpan<InfoHash> hashes)
    {
        var p = new byte[ScrapeHeaderLength + hashes.Length * InfoHash.Length];
        BinaryPrimitives.WriteInt64BigEndian(p, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(8), ActionScrape);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), transactionId);
        for (int i = 0; i < hashes.Length; i++) hashes[i].CopyTo(p.AsSpan(ScrapeHeaderLength + i * InfoHash.Length));
        return p;
    }

    public static int ActionOf(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadInt32BigEndian(packet);

    public static bool IsError(ReadOnlySpan<byte> packet) => packet.Length >= 8 && ActionOf(packet) == ActionError;

    /// <summary>A connect answer of the right size, or an error.</summary>
    public static bool IsConnectAnswer(ReadOnlySpan<byte> packet) =>
        IsError(packet) || (packet.Length >= ConnectLength && ActionOf(packet) == ActionConnect);

    /// <summary>
    /// An announce answer whose peer list is a whole number of entries for the family, a bare refusal (see
    /// <see cref="IsBareRefusal"/>), or an error.
    /// </summary>
    public static bool IsAnnounceAnswer(ReadOnlySpan<byte> packet, AddressFamily family) =>
        IsError(packet) || IsBareRefusal(packet) ||
        (packet.Length >= AnnounceResponseHeaderLength && ActionOf(packet) == ActionAnnounce &&
            (packet.Length - AnnounceResponseHeaderLength) % CompactPeers.EntryLength(family) == 0);

    /// <summary>
    /// An announce answer of only action and transaction id. Not in BEP 15, but opentracker answers this way for a
    /// torrent it does not serve (its whitelist mode), and libtorrent fails the announce on it too. Ignoring it like
    /// other bad lengths would retransmit for two hours and then blame a timeout.
    /// </summary>
    public static bool IsBareRefusal(ReadOnlySpan<byte> packet) => packet.Length == 8 && ActionOf(packet) == ActionAnnounce;

    /// <summary>A scrape answer with exactly one entry per hash asked for, or an error.</summary>
    public static bool IsScrapeAnswer(ReadOnlySpan<byte> packet, int hashCount) =>
        IsError(packet) || (ActionOf(packet) == ActionScrape && packet.Length == 8 + hashCount * ScrapeEntryLength);

    public static long ConnectionIdOf(ReadOnlySpan<byte> connectAnswer) => BinaryPrimitives.ReadInt64BigEndian(connectAnswer[8..]);

    public static string ErrorMessageOf(ReadOnlySpan<byte> errorPacket)
    {
        string text = TrackerText.Clean(errorPacket[8..]);
        return text.Length > 0 ? text : "The tracker refused the request without a reason.";
    }

    public static TrackerAnnounceResponse ParseAnnounce(ReadOnlySpan<byte> packet, AddressFamily family)
    {
        int interval = BinaryPrimitives.ReadInt32BigEndian(packet[8..]);
        int leechers = BinaryPrimitives.ReadInt32BigEndian(packet[12..]);
        int seeders = BinaryPrimitives.ReadInt32BigEndian(packet[16..]);
        var peers = new HashSet<IPEndPoint>();
        CompactPeers.TryParse(packet[AnnounceResponseHeaderLength..], family, peers);
        return new TrackerAnnounceResponse
        {
            Peers = [.. peers],
            Interval = interval > 0 ? TimeSpan.FromSeconds(interval) : null,
            Seeders = seeders >= 0 ? seeders : null,
            Leechers = leechers >= 0 ? leechers : null,
        };
    }

    public static void ParseScrape(ReadOnlySpan<byte> packet, ReadOnlySpan<InfoHash> hashes, IDictionary<InfoHash, ScrapeCounts> into)
    {
        for (int i = 0; i < hashes.Length; i++)
        {
            var e = packet.Slice(8 + i * ScrapeEntryLength, ScrapeEntryLength);
            int seeders = BinaryPrimitives.ReadInt32BigEndian(e);
            int completed = BinaryPrimitives.ReadInt32BigEndian(e[4..]);
            int leechers = BinaryPrimitives.ReadInt32BigEndian(e[8..]);
            into[hashes[i]] = new ScrapeCounts(Math.Max(0, seeders), Math.Max(0, leechers), Math.Max(0, completed));
        }
    }
}
