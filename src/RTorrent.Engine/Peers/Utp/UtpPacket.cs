using System.Buffers.Binary;

namespace RTorrent.Engine.Peers.Utp;

/// <summary>The five uTP packet types (BEP 29), in the high nibble of the first byte.</summary>
internal enum UtpType : byte
{
    Data = 0,
    Fin = 1,
    State = 2,
    Reset = 3,
    Syn = 4,
}

/// <summary>
/// A uTP header (BEP 29): 20 bytes, big-endian, then a chain of extensions (type, length, data). Only extension 1,
/// the selective ACK, is read; others are skipped. Parsing checks every length against the datagram, so a
/// malformed packet is refused whole and nothing past its end is read.
/// </summary>
internal readonly struct UtpHeader
{
    public const int Size = 20;
    public const byte Version = 1;
    public const byte SelectiveAckExtension = 1;

    public UtpType Type { get; init; }
    public ushort ConnectionId { get; init; }
    public uint TimestampMicros { get; init; }
    public uint TimestampDifferenceMicros { get; init; }
    public uint WindowSize { get; init; }
    public ushort SequenceNumber { get; init; }
    public ushort AckNumber { get; init; }

    /// <summary>Where the selective ACK bitmask is in the datagram (offset, length), or length 0 when absent.</summary>
    public int SackOffset { get; init; }
    public int SackLength { get; init; }

    /// <summary>Where the payload starts in the datagram.</summary>
    public int PayloadOffset { get; init; }

    /// <summary>
    /// Whether a datagram looks like uTP at all (version 1 in the low nibble, a known type, room for a header): what
    /// the shared UDP port demultiplexes on. A bencoded DHT message starts with 'd' (0x64: version 4), never this.
    /// </summary>
    public static bool LooksLikeUtp(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= Size && (datagram[0] & 0x0F) == Version && (datagram[0] >> 4) <= (int)UtpType.Syn;

    /// <summary>Parses a header and its extensions; false for anything malformed.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out UtpHeader header)
    {
        header = default;
        if (!LooksLikeUtp(datagram)) return false;
        int extension = datagram[1];
        int at = Size;
        int sackOffset = 0, sackLength = 0;
        // At most a few extensions: a chain that goes on is a malformed packet, not something to walk for long.
        for (int hops = 0; extension != 0; hops++)
        {
            if (hops >= 8 || at + 2 > datagram.Length) return false;
            int next = datagram[at];
            int length = datagram[at + 1];
            if (at + 2 + length > datagram.Length) return false;
            if (extension == SelectiveAckExtension)
            {
                // BEP 29 says a multiple of 32 bits; libtorrent sends whole bytes only, so any length is taken (one per packet).
                if (length == 0 || sackLength != 0) return false;
                sackOffset = at + 2;
                sackLength = length;
            }
            at += 2 + length;
            extension = next;
        }
        header = new UtpHeader
        {
            Type = (UtpType)(datagram[0] >> 4),
            ConnectionId = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]),
            TimestampMicros = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]),
            TimestampDifferenceMicros = BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]),
            WindowSize = BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]),
            SequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(datagram[16..]),
            AckNumber = BinaryPrimitives.ReadUInt16BigEndian(datagram[18..]),
            SackOffset = sackOffset,
            SackLength = sackLength,
            PayloadOffset = at,
        };
        return true;
    }

    /// <summary>Writes a 20-byte header with no extension (the first extension byte is set by <see cref="WriteSack"/>).</summary>
    public static void Write(Span<byte> to, UtpType type, ushort connectionId, uint timestamp, uint timestampDifference,
        uint window, ushort seq, ushort ack)
    {
        to[0] = (byte)(((int)type << 4) | Version);
        to[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(to[2..], connectionId);
        BinaryPrimitives.WriteUInt32BigEndian(to[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(to[8..], timestampDifference);
        BinaryPrimitives.WriteUInt32BigEndian(to[12..], window);
        BinaryPrimitives.WriteUInt16BigEndian(to[16..], seq);
        BinaryPrimitives.WriteUInt16BigEndian(to[18..], ack);
    }

    /// <summary>Refreshes the fields that change when a packet is sent again: timestamps, window and ack.</summary>
    public static void Refresh(Span<byte> packet, uint timestamp, uint timestampDifference, uint window, ushort ack)
    {
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(packet[8..], timestampDifference);
        BinaryPrimitives.WriteUInt32BigEndian(packet[12..], window);
        BinaryPrimitives.WriteUInt16BigEndian(packet[18..], ack);
    }

    /// <summary>
    /// Appends a selective ACK extension after the header at <paramref name="to"/> (which must hold
    /// <see cref="Size"/> + 2 + <paramref name="mask"/>.Length bytes) and links it; returns the packet's length.
    /// Bit i of the mask (byte i / 8, bit i % 8, least significant first) stands for ack_nr + 2 + i.
    /// </summary>
    public static int WriteSack(Span<byte> to, ReadOnlySpan<byte> mask)
    {
        to[1] = SelectiveAckExtension;
        to[Size] = 0; // no further extension
        to[Size + 1] = (byte)mask.Length;
        mask.CopyTo(to[(Size + 2)..]);
        return Size + 2 + mask.Length;
    }
}

/// <summary>16-bit sequence arithmetic: numbers wrap, and "after" means within half the space ahead.</summary>
internal static class Seq
{
    /// <summary>How far <paramref name="b"/> is ahead of <paramref name="a"/>, modulo 2^16.</summary>
    public static int Distance(ushort a, ushort b) => (ushort)(b - a);

    /// <summary>Whether <paramref name="a"/> comes before <paramref name="b"/>.</summary>
    public static bool Before(ushort a, ushort b) => a != b && Distance(a, b) < 0x8000;
}
