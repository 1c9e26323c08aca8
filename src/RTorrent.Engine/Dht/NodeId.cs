using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Dht;

/// <summary>
/// A 160-bit DHT key: a node ID or an info-hash used as a lookup target (BEP 5). Comparing two XOR distances is
/// comparing the keys as big-endian unsigned integers, which <see cref="CompareTo"/> does.
/// </summary>
public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    /// <summary>Number of bits.</summary>
    public const int Bits = 160;

    private readonly ulong _a, _b;
    private readonly uint _c;

    private NodeId(ulong a, ulong b, uint c)
    {
        _a = a;
        _b = b;
        _c = c;
    }

    /// <summary>Creates an ID from exactly 20 bytes.</summary>
    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException($"A node ID has {Length} bytes, not {bytes.Length}.", nameof(bytes));
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>The all-zero ID.</summary>
    public static NodeId Zero => default;

    /// <summary>A uniformly random ID from a cryptographic generator.</summary>
    public static NodeId Random()
    {
        Span<byte> b = stackalloc byte[Length];
        RandomNumberGenerator.Fill(b);
        return new NodeId(b);
    }

    /// <summary>The info-hash as a DHT key.</summary>
    public static NodeId FromInfoHash(InfoHash infoHash)
    {
        Span<byte> b = stackalloc byte[Length];
        infoHash.CopyTo(b);
        return new NodeId(b);
    }

    /// <summary>Parses 40 hex digits.</summary>
    public static NodeId FromHex(string hex)
    {
        if (hex.Length != 40) throw new FormatException($"A node ID in hex has 40 digits, not {hex.Length}.");
        return new NodeId(Convert.FromHexString(hex));
    }

    /// <summary>This key as an info-hash.</summary>
    public InfoHash ToInfoHash()
    {
        Span<byte> b = stackalloc byte[Length];
        CopyTo(b);
        return new InfoHash(b);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var b = new byte[Length];
        CopyTo(b);
        return b;
    }

    /// <summary>The XOR distance between two keys, itself a key.</summary>
    public static NodeId operator ^(NodeId x, NodeId y) => new(x._a ^ y._a, x._b ^ y._b, x._c ^ y._c);

    /// <summary>Number of leading bits two keys share (160 when equal).</summary>
    public static int CommonPrefixLength(NodeId x, NodeId y) => (x ^ y).LeadingZeroCount();

    /// <summary>
    /// Index of the highest set bit of the XOR distance (159 for the top bit, 0 for the lowest). Equal keys give 0,
    /// as in libtorrent's <c>distance_exp</c>.
    /// </summary>
    public static int DistanceExponent(NodeId x, NodeId y) => Math.Max(0, Bits - 1 - CommonPrefixLength(x, y));

    /// <summary>
    /// Compares the distances of <paramref name="x"/> and <paramref name="y"/> from <paramref name="target"/>:
    /// negative when <paramref name="x"/> is closer.
    /// </summary>
    public static int CompareDistance(NodeId target, NodeId x, NodeId y) => (x ^ target).CompareTo(y ^ target);

    /// <summary>Number of leading zero bits.</summary>
    public int LeadingZeroCount()
    {
        if (_a != 0) return BitOperations.LeadingZeroCount(_a);
        if (_b != 0) return 64 + BitOperations.LeadingZeroCount(_b);
        return 128 + BitOperations.LeadingZeroCount(_c);
    }

    /// <summary>The bit at <paramref name="index"/> (0 = most significant).</summary>
    public bool GetBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Bits);
        if (index < 64) return ((_a >> (63 - index)) & 1) != 0;
        if (index < 128) return ((_b >> (127 - index)) & 1) != 0;
        return ((_c >> (159 - index)) & 1) != 0;
    }

    /// <summary>
    /// A random key that shares exactly <paramref name="prefixLength"/> leading bits with this one (the next bit
    /// differs), or, when <paramref name="prefixLength"/> is 160, this key. Used to refresh a routing table bucket.
    /// </summary>
    public NodeId RandomWithCommonPrefix(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, Bits);
        if (prefixLength == Bits) return this;
        Span<byte> mine = stackalloc byte[Length];
        Span<byte> rnd = stackalloc byte[Length];
        CopyTo(mine);
        RandomNumberGenerator.Fill(rnd);
        for (int bit = 0; bit <= prefixLength; bit++)
        {
            int i = bit >> 3, mask = 0x80 >> (bit & 7);
            bool set = (mine[i] & mask) != 0;
            if (bit == prefixLength) set = !set;
            rnd[i] = (byte)(set ? rnd[i] | mask : rnd[i] & ~mask);
        }
        return new NodeId(rnd);
    }

    /// <inheritdoc/>
    public bool Equals(NodeId other) => _a == other._a && _b == other._b && _c == other._c;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is NodeId n && Equals(n);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    /// <summary>Compares as 160-bit big-endian unsigned integers.</summary>
    public int CompareTo(NodeId other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        return c != 0 ? c : _c.CompareTo(other._c);
    }

    /// <summary>Lower-case hex.</summary>
    public override string ToString()
    {
        Span<byte> b = stackalloc byte[Length];
        CopyTo(b);
        return Convert.ToHexStringLower(b);
    }

    /// <summary>Equality.</summary>
    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);
}
