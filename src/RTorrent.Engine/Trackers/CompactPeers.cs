using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// The compact peer format (BEP 23 for IPv4, BEP 7 for IPv6): address bytes then a big-endian port, back to back.
/// Shared by HTTP and UDP trackers (and usable by PEX and the DHT).
/// </summary>
public static class CompactPeers
{
    /// <summary>Bytes per IPv4 entry.</summary>
    public const int IPv4EntryLength = 6;

    /// <summary>Bytes per IPv6 entry.</summary>
    public const int IPv6EntryLength = 18;

    /// <summary>Bytes per entry for the address family.</summary>
    public static int EntryLength(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => IPv4EntryLength,
        AddressFamily.InterNetworkV6 => IPv6EntryLength,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Only IPv4 and IPv6 have a compact form."),
    };

    /// <summary>
    /// Adds the entries of <paramref name="data"/> to <paramref name="peers"/> (a set, so repeats collapse), skipping
    /// port 0. Returns false (adding nothing) when the length is not a whole number of entries.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, AddressFamily family, ISet<IPEndPoint> peers)
    {
        int entry = EntryLength(family);
        if (data.Length % entry != 0) return false;
        int addressLength = entry - 2;
        for (int i = 0; i < data.Length; i += entry)
        {
            int port = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + addressLength, 2));
            if (port == 0) continue;
            peers.Add(new IPEndPoint(new IPAddress(data.Slice(i, addressLength)), port));
        }
        return true;
    }

    /// <summary>Writes one endpoint in compact form and returns the bytes written (6 or 18).</summary>
    public static int Write(IPEndPoint endpoint, Span<byte> destination)
    {
        int entry = EntryLength(endpoint.AddressFamily);
        if (destination.Length < entry) throw new ArgumentException($"Need {entry} bytes.", nameof(destination));
        if (!endpoint.Address.TryWriteBytes(destination, out int written) || written != entry - 2)
            throw new ArgumentException("The address could not be written.", nameof(endpoint));
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(entry - 2), (ushort)endpoint.Port);
        return entry;
    }

    /// <summary>Encodes endpoints of one address family in compact form (others are skipped).</summary>
    public static byte[] Encode(IEnumerable<IPEndPoint> endpoints, AddressFamily family)
    {
        int entry = EntryLength(family);
        var list = endpoints.Where(e => e.AddressFamily == family).ToList();
        var result = new byte[list.Count * entry];
        for (int i = 0; i < list.Count; i++) Write(list[i], result.AsSpan(i * entry));
        return result;
    }
}
