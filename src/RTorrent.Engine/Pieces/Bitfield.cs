using System.Numerics;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Pieces;

/// <summary>
/// A fixed-length set of bits, one per piece, with a maintained count. Bit order on the wire is BEP 3's: the high bit
/// of the first byte is piece 0.
/// </summary>
public sealed class Bitfield : IBitfieldView
{
    private readonly ulong[] _words;

    /// <summary>Creates an all-clear bitfield.</summary>
    public Bitfield(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _words = new ulong[(length + 63) >> 6];
    }

    /// <summary>Copies another bitfield.</summary>
    public Bitfield(Bitfield other)
    {
        Length = other.Length;
        _words = (ulong[])other._words.Clone();
        TrueCount = other.TrueCount;
    }

    /// <inheritdoc/>
    public int Length { get; }

    /// <inheritdoc/>
    public int TrueCount { get; private set; }

    /// <summary>Whether every bit is set.</summary>
    public bool AllSet => TrueCount == Length;

    /// <summary>Whether no bit is set.</summary>
    public bool NoneSet => TrueCount == 0;

    /// <summary>Number of bytes in the wire form.</summary>
    public int ByteLength => (Length + 7) >> 3;

    /// <inheritdoc/>
    public bool this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index));
            return (_words[index >> 6] & (1UL << (index & 63))) != 0;
        }
        set
        {
            if (value) Set(index);
            else Clear(index);
        }
    }

    /// <summary>Sets a bit; returns true if it was clear.</summary>
    public bool Set(int index)
    {
        if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index));
        ref ulong w = ref _words[index >> 6];
        ulong mask = 1UL << (index & 63);
        if ((w & mask) != 0) return false;
        w |= mask;
        TrueCount++;
        return true;
    }

    /// <summary>Clears a bit; returns true if it was set.</summary>
    public bool Clear(int index)
    {
        if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index));
        ref ulong w = ref _words[index >> 6];
        ulong mask = 1UL << (index & 63);
        if ((w & mask) == 0) return false;
        w &= ~mask;
        TrueCount--;
        return true;
    }

    /// <summary>Sets every bit.</summary>
    public void SetAll()
    {
        Array.Fill(_words, ulong.MaxValue);
        TrimTail();
        TrueCount = Length;
    }

    /// <summary>Clears every bit.</summary>
    public void ClearAll()
    {
        Array.Clear(_words);
        TrueCount = 0;
    }

    /// <inheritdoc/>
    public int NextSet(int start)
    {
        if (start < 0) start = 0;
        if (start >= Length) return -1;
        int wi = start >> 6;
        ulong w = _words[wi] & (ulong.MaxValue << (start & 63));
        while (true)
        {
            if (w != 0)
            {
                int idx = (wi << 6) + BitOperations.TrailingZeroCount(w);
                return idx < Length ? idx : -1;
            }
            if (++wi >= _words.Length) return -1;
            w = _words[wi];
        }
    }

    /// <summary>Whether this and <paramref name="other"/> share a set bit.</summary>
    public bool Intersects(Bitfield other)
    {
        for (int i = 0; i < _words.Length; i++)
            if ((_words[i] & other._words[i]) != 0) return true;
        return false;
    }

    /// <summary>Writes the wire form (BEP 3) into <paramref name="destination"/> (at least <see cref="ByteLength"/> bytes).</summary>
    public void WriteTo(Span<byte> destination)
    {
        int n = ByteLength;
        for (int i = 0; i < n; i++)
        {
            ulong w = _words[i >> 3];
            byte b = (byte)(w >> ((i & 7) * 8));
            destination[i] = ReverseBits(b);
        }
    }

    /// <summary>The wire form as a new array.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[ByteLength];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>
    /// Reads the wire form. Returns false if the length is wrong or spare bits at the end are set (BEP 3 says a peer
    /// sending those should be dropped).
    /// </summary>
    public bool TryReadFrom(ReadOnlySpan<byte> source)
    {
        if (source.Length != ByteLength) return false;
        int spare = ByteLength * 8 - Length;
        if (spare > 0 && (source[^1] & ((1 << spare) - 1)) != 0) return false;
        Array.Clear(_words);
        int count = 0;
        for (int i = 0; i < source.Length; i++)
        {
            byte b = ReverseBits(source[i]);
            _words[i >> 3] |= (ulong)b << ((i & 7) * 8);
            count += BitOperations.PopCount(b);
        }
        TrueCount = count;
        return true;
    }

    /// <summary>Creates a bitfield from its wire form, or throws <see cref="FormatException"/>.</summary>
    public static Bitfield FromBytes(ReadOnlySpan<byte> source, int length)
    {
        var b = new Bitfield(length);
        if (!b.TryReadFrom(source)) throw new FormatException($"A bitfield for {length} pieces has {b.ByteLength} bytes with clear spare bits.");
        return b;
    }

    private void TrimTail()
    {
        int rem = Length & 63;
        if (rem != 0 && _words.Length > 0) _words[^1] &= (1UL << rem) - 1;
    }

    private static byte ReverseBits(byte b)
    {
        b = (byte)((b & 0xF0) >> 4 | (b & 0x0F) << 4);
        b = (byte)((b & 0xCC) >> 2 | (b & 0x33) << 2);
        return (byte)((b & 0xAA) >> 1 | (b & 0x55) << 1);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{TrueCount}/{Length}";
}
