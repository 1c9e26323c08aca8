using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Dht;

/// <summary>A DHT node as it travels in <c>nodes</c> / <c>nodes6</c>: its ID and UDP endpoint.</summary>
/// <param name="Id">The node's ID.</param>
/// <param name="EndPoint">The node's UDP endpoint.</param>
public readonly record struct DhtNodeInfo(NodeId Id, IPEndPoint EndPoint);

/// <summary>
/// BEP 5 compact encodings: a peer or node address is 4 (IPv4) or 16 (IPv6) address bytes and a big-endian port;
/// compact node info is the 20-byte ID followed by that (26 or 38 bytes).
/// </summary>
public static class Compact
{
    /// <summary>Compact IPv4 endpoint length.</summary>
    public const int EndPointV4Length = 6;

    /// <summary>Compact IPv6 endpoint length.</summary>
    public const int EndPointV6Length = 18;

    /// <summary>Length of a compact endpoint of the family.</summary>
    public static int EndPointLength(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? EndPointV6Length : EndPointV4Length;

    /// <summary>Length of compact node info of the family.</summary>
    public static int NodeLength(AddressFamily family) => NodeId.Length + EndPointLength(family);

    /// <summary>Reads a compact endpoint of 6 or 18 bytes; any other length is refused.</summary>
    public static bool TryReadEndPoint(ReadOnlySpan<byte> data, out IPEndPoint endPoint)
    {
        endPoint = null!;
        if (data.Length != EndPointV4Length && data.Length != EndPointV6Length) return false;
        int addressLength = data.Length - 2;
        var address = new IPAddress(data[..addressLength]);
        endPoint = new IPEndPoint(address, BinaryPrimitives.ReadUInt16BigEndian(data[addressLength..]));
        return true;
    }

    /// <summary>Writes a compact endpoint; returns the bytes written (6 or 18).</summary>
    public static int WriteEndPoint(IPEndPoint endPoint, Span<byte> destination)
    {
        var address = AddressClass.Normalize(endPoint.Address);
        if (!address.TryWriteBytes(destination, out int written))
            throw new ArgumentException("Destination too small for a compact endpoint.", nameof(destination));
        BinaryPrimitives.WriteUInt16BigEndian(destination[written..], (ushort)endPoint.Port);
        return written + 2;
    }

    /// <summary>
    /// Reads concatenated compact node info of one family. Returns false (and nothing) when the length is not a
    /// multiple of the record size: such a list is malformed as a whole.
    /// </summary>
    public static bool TryReadNodes(ReadOnlySpan<byte> data, AddressFamily family, List<DhtNodeInfo> into)
    {
        int size = NodeLength(family);
        if (data.Length % size != 0) return false;
        for (int offset = 0; offset < data.Length; offset += size)
        {
            var record = data.Slice(offset, size);
            TryReadEndPoint(record[NodeId.Length..], out var ep);
            into.Add(new DhtNodeInfo(new NodeId(record[..NodeId.Length]), ep));
        }
        return true;
    }

    /// <summary>Writes one compact node info record; returns the bytes written.</summary>
    public static int WriteNode(DhtNodeInfo node, Span<byte> destination)
    {
        node.Id.CopyTo(destination);
        return NodeId.Length + WriteEndPoint(node.EndPoint, destination[NodeId.Length..]);
    }

    /// <summary>Concatenated compact node info for the nodes of <paramref name="family"/> (others are skipped).</summary>
    public static byte[] NodesToArray(IEnumerable<DhtNodeInfo> nodes, AddressFamily family)
    {
        var list = nodes.Where(n => AddressClass.Normalize(n.EndPoint.Address).AddressFamily == family).ToList();
        var result = new byte[list.Count * NodeLength(family)];
        int offset = 0;
        foreach (var n in list) offset += WriteNode(n, result.AsSpan(offset));
        return result;
    }
}
