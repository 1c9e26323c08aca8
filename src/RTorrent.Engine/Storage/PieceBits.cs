namespace RTorrent.Engine.Storage;

/// <summary>
/// A fixed-size set of piece indexes, safe to set from many threads at once (recheck workers). Internal stand-in
/// until the engine's own bitfield type (Pieces/) takes over; it converts through the BEP 3 wire layout
/// (<see cref="ToBytes"/>/<see cref="FromBytes"/>: piece 0 is the high bit of byte 0, spare bits zero) and bool arrays.
/// </summary>
internal sealed class PieceBits
{
    private readonly ulong[] _words;
    private int _count;

    public PieceBits(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _words = new ulong[(length + 63) / 64];
    }

    /// <summary>Number of pieces.</summary>
    public int Length { get; }

    /// <summary>Number of pieces in the set.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether piece <paramref name="index"/> is in the set.</summary>
    public bool this[int index]
    {
        get
        {
            Check(index);
            return (Volatile.Read(ref _words[index >> 6]) & (1UL << (index & 63))) != 0;
        }
    }

    /// <summary>Adds a piece; true when it was not in the set. Thread-safe.</summary>
    public bool Set(int index)
    {
        Check(index);
        ulong bit = 1UL << (index & 63);
        ulong before = Interlocked.Or(ref _words[index >> 6], bit);
        if ((before & bit) != 0) return false;
        Interlocked.Increment(ref _count);
        return true;
    }

    /// <summary>Removes a piece; true when it was in the set. Thread-safe.</summary>
    public bool Clear(int index)
    {
        Check(index);
        ulong bit = 1UL << (index & 63);
        ulong before = Interlocked.And(ref _words[index >> 6], ~bit);
        if ((before & bit) == 0) return false;
        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>The BEP 3 bitfield bytes: <c>ceil(Length / 8)</c> bytes, piece 0 in the high bit of byte 0.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[(Length + 7) / 8];
        for (int i = 0; i < Length; i++)
            if (this[i]) bytes[i >> 3] |= (byte)(0x80 >> (i & 7));
        return bytes;
    }

    /// <summary>Reads BEP 3 bitfield bytes for <paramref name="length"/> pieces.</summary>
    /// <exception cref="FormatException">The byte count is wrong or a spare bit past the last piece is set.</exception>
    public static PieceBits FromBytes(ReadOnlySpan<byte> bytes, int length)
    {
        if (bytes.Length != (length + 7) / 8)
            throw new FormatException($"A bitfield of {length} pieces has {(length + 7) / 8} bytes, not {bytes.Length}.");
        if (length % 8 != 0 && (bytes[^1] & (0xFF >> (length % 8))) != 0)
            throw new FormatException("The bitfield has bits set past its last piece.");
        var bits = new PieceBits(length);
        for (int i = 0; i < length; i++)
            if ((bytes[i >> 3] & (0x80 >> (i & 7))) != 0) bits.Set(i);
        return bits;
    }

    private void Check(int index)
    {
        if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"There are {Length} pieces.");
    }
}
