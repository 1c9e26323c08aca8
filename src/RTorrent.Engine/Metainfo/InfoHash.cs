using System.Buffers.Binary;

namespace RTorrent.Engine.Metainfo;

/// <summary>
/// A 20-byte hash: a v1 info-hash (SHA-1 of the info dictionary), or a v2 info-hash truncated to 20 bytes as the peer
/// wire and DHT use it. A value type so it can key dictionaries without allocating.
/// </summary>
public readonly struct InfoHash : IEquatable<InfoHash>, IComparable<InfoHash>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    private readonly ulong _a, _b;
    private readonly uint _c;

    /// <summary>Creates a hash from exactly 20 bytes.</summary>
    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException($"An info-hash has {Length} bytes, not {bytes.Length}.", nameof(bytes));
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>Parses 40 hex digits (either case).</summary>
    public static InfoHash FromHex(string hex)
    {
        if (hex.Length != 40) throw new FormatException($"An info-hash in hex has 40 digits, not {hex.Length}.");
        return new InfoHash(Convert.FromHexString(hex));
    }

    /// <summary>Tries to parse 40 hex digits.</summary>
    public static bool TryParseHex(string hex, out InfoHash hash)
    {
        hash = default;
        if (hex.Length != 40) return false;
        Span<byte> b = stackalloc byte[20];
        if (Convert.FromHexString(hex, b, out _, out int written) != System.Buffers.OperationStatus.Done || written != 20) return false;
        hash = new InfoHash(b);
        return true;
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

    /// <summary>Lower-case hex.</summary>
    public string ToHex()
    {
        Span<byte> b = stackalloc byte[Length];
        CopyTo(b);
        return Convert.ToHexStringLower(b);
    }

    /// <summary>Whether the span holds this hash.</summary>
    public bool Matches(ReadOnlySpan<byte> bytes) => bytes.Length == Length && Equals(new InfoHash(bytes));

    /// <inheritdoc/>
    public bool Equals(InfoHash other) => _a == other._a && _b == other._b && _c == other._c;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is InfoHash h && Equals(h);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    /// <inheritdoc/>
    public int CompareTo(InfoHash other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        return c != 0 ? c : _c.CompareTo(other._c);
    }

    /// <inheritdoc/>
    public override string ToString() => ToHex();

    /// <summary>Equality.</summary>
    public static bool operator ==(InfoHash left, InfoHash right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(InfoHash left, InfoHash right) => !left.Equals(right);
}
