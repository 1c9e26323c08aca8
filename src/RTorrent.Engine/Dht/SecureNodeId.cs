using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;

namespace RTorrent.Engine.Dht;

/// <summary>
/// BEP 42 (DHT security extension): node IDs tied to the node's external IP address, so that one party cannot
/// place nodes wherever it likes in the key space. The first 21 bits of the ID come from
/// <c>crc32c((ip &amp; mask) | (r &lt;&lt; 29))</c> (64-bit form for IPv6), and the last byte carries <c>r</c>.
/// </summary>
public static class SecureNodeId
{
    private static ReadOnlySpan<byte> V4Mask => [0x03, 0x0f, 0x3f, 0xff];
    private static ReadOnlySpan<byte> V6Mask => [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

    /// <summary>Generates a random node ID that is valid for <paramref name="address"/>.</summary>
    public static NodeId Generate(IPAddress address) =>
        Generate(address, (byte)RandomNumberGenerator.GetInt32(256));

    /// <summary>
    /// Generates a node ID for <paramref name="address"/> from the random byte <paramref name="random"/> (its low
    /// three bits are BEP 42's <c>r</c>; the whole byte becomes the ID's last byte). The other bits are random.
    /// </summary>
    public static NodeId Generate(IPAddress address, byte random)
    {
        uint crc = Prefix(address, random);
        Span<byte> id = stackalloc byte[NodeId.Length];
        RandomNumberGenerator.Fill(id);
        id[0] = (byte)(crc >> 24);
        id[1] = (byte)(crc >> 16);
        id[2] = (byte)(((crc >> 8) & 0xf8) | (uint)(id[2] & 0x07));
        id[19] = random;
        return new NodeId(id);
    }

    /// <summary>
    /// Whether <paramref name="id"/> is a valid BEP 42 ID for a node at <paramref name="address"/>. Local addresses
    /// (loopback, private, link-local) are exempt and always valid, as BEP 42 says.
    /// </summary>
    public static bool IsValid(NodeId id, IPAddress address)
    {
        if (IsExempt(address)) return true;
        Span<byte> b = stackalloc byte[NodeId.Length];
        id.CopyTo(b);
        uint crc = Prefix(address, b[19]);
        return b[0] == (byte)(crc >> 24) && b[1] == (byte)(crc >> 16) && (b[2] & 0xf8) == ((crc >> 8) & 0xf8);
    }

    /// <summary>
    /// Whether BEP 42 exempts the address: 10/8, 172.16/12, 192.168/16, 169.254/16, 127/8 and their IPv6 kin
    /// (loopback, link-local, unique-local fc00::/7), plus unspecified addresses.
    /// </summary>
    public static bool IsExempt(IPAddress address) => AddressClass.IsLocal(address);

    private static uint Prefix(IPAddress address, byte random)
    {
        address = AddressClass.Normalize(address);
        uint r = (uint)(random & 0x07);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> ip = stackalloc byte[4];
            address.TryWriteBytes(ip, out _);
            for (int i = 0; i < 4; i++) ip[i] &= V4Mask[i];
            ip[0] |= (byte)(r << 5);
            return Crc32C(ip);
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> ip = stackalloc byte[16];
            address.TryWriteBytes(ip, out _);
            var high = ip[..8];
            for (int i = 0; i < 8; i++) high[i] &= V6Mask[i];
            high[0] |= (byte)(r << 5);
            return Crc32C(high);
        }
        throw new ArgumentException($"Not an IP address: {address}", nameof(address));
    }

    /// <summary>CRC-32C (Castagnoli), as BEP 42 specifies; the intrinsic where the CPU has one.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        while (data.Length >= 4)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }
        foreach (byte b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }
}

/// <summary>Classifies IP addresses for the DHT's trust rules.</summary>
public static class AddressClass
{
    /// <summary>IPv4-mapped IPv6 addresses become IPv4; others are returned as they are.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Same as <see cref="Normalize(IPAddress)"/> for an endpoint.</summary>
    public static IPEndPoint Normalize(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    /// <summary>
    /// Loopback, private (RFC 1918), link-local, unique-local IPv6 or unspecified. Many distinct nodes can share one
    /// such address (every node in a test on 127.0.0.1, every device behind a home router), so the per-IP rules that
    /// protect the public DHT are applied per endpoint for them instead.
    /// </summary>
    public static bool IsLocal(IPAddress address)
    {
        address = Normalize(address);
        if (IPAddress.IsLoopback(address)) return true;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] == 10
                || (b[0] == 172 && (b[1] & 0xf0) == 16)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || b[0] == 0;
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Any)) return true;
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || (b[0] & 0xfe) == 0xfc;
        }
        return false;
    }

    /// <summary>
    /// Whether a node or peer at this address can be contacted at all: not unspecified, multicast or broadcast.
    /// Used to drop junk from <c>nodes</c> and <c>values</c> lists.
    /// </summary>
    public static bool IsUsable(IPEndPoint endPoint)
    {
        if (endPoint.Port is <= 0 or > 65535) return false;
        var address = Normalize(endPoint.Address);
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast)) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] != 0 && b[0] < 224; // 224/4 multicast, 240/4 reserved
        }
        return !address.IsIPv6Multicast;
    }
}
