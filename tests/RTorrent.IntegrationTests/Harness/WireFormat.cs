using System.Buffers.Binary;
using System.Text;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// BitTorrent wire messages (BEP 3, BEP 10) written by hand for the test peers, independent of the engine's codec so
/// a bug there cannot hide in both ends.
/// </summary>
internal static class WireFormat
{
    /// <summary>Message ids.</summary>
    public const byte Choke = 0, Unchoke = 1, Interested = 2, NotInterested = 3, Have = 4, Bitfield = 5, Request = 6, Piece = 7,
        Cancel = 8, SuggestPiece = 13, HaveAll = 14, HaveNone = 15, RejectRequest = 16, AllowedFast = 17, Extended = 20;

    /// <summary>The 68-byte handshake; <paramref name="extensions"/> sets the BEP 10 bit, <paramref name="fast"/> BEP 6's.</summary>
    public static byte[] Handshake(ReadOnlySpan<byte> infoHash, ReadOnlySpan<byte> peerId, bool extensions = false, bool fast = false)
    {
        var b = new byte[68];
        b[0] = 19;
        Encoding.ASCII.GetBytes("BitTorrent protocol", b.AsSpan(1));
        if (extensions) b[25] |= 0x10;
        if (fast) b[27] |= 0x04;
        infoHash.CopyTo(b.AsSpan(28));
        peerId.CopyTo(b.AsSpan(48));
        return b;
    }

    /// <summary>An Azureus-style peer id with <paramref name="prefix"/> (8 characters) and random digits.</summary>
    public static byte[] RandomPeerId(string prefix)
    {
        var id = new byte[20];
        Encoding.ASCII.GetBytes(prefix, id);
        for (int i = prefix.Length; i < 20; i++) id[i] = (byte)('0' + Random.Shared.Next(10));
        return id;
    }

    /// <summary>A message: 4-byte big-endian length, id, payload.</summary>
    public static byte[] Message(byte id, ReadOnlySpan<byte> payload = default)
    {
        var b = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(b, 1 + payload.Length);
        b[4] = id;
        payload.CopyTo(b.AsSpan(5));
        return b;
    }

    /// <summary>A message carrying one piece index (HAVE, SUGGEST PIECE, ALLOWED FAST).</summary>
    public static byte[] IndexMessage(byte id, int index)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, index);
        return Message(id, payload);
    }

    /// <summary>A message carrying index, begin, length (REQUEST, CANCEL, REJECT REQUEST).</summary>
    public static byte[] BlockMessage(byte id, int index, int begin, int length)
    {
        var payload = new byte[12];
        BinaryPrimitives.WriteInt32BigEndian(payload, index);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), begin);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(8), length);
        return Message(id, payload);
    }

    /// <summary>A bitfield with every one of <paramref name="pieceCount"/> pieces set (spare bits clear).</summary>
    public static byte[] FullBitfield(int pieceCount)
    {
        var bits = new byte[(pieceCount + 7) / 8];
        for (int i = 0; i < pieceCount; i++) bits[i >> 3] |= (byte)(0x80 >> (i & 7));
        return Message(Bitfield, bits);
    }

    /// <summary>A PIECE message carrying <paramref name="block"/>.</summary>
    public static byte[] PieceMessage(int index, int begin, ReadOnlySpan<byte> block)
    {
        var payload = new byte[8 + block.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload, index);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), begin);
        block.CopyTo(payload.AsSpan(8));
        return Message(Piece, payload);
    }

    /// <summary>An extension message (BEP 10) with the peer's id for it (0 = the extended handshake).</summary>
    public static byte[] ExtendedMessage(byte extensionId, ReadOnlySpan<byte> payload)
    {
        var body = new byte[1 + payload.Length];
        body[0] = extensionId;
        payload.CopyTo(body.AsSpan(1));
        return Message(Extended, body);
    }
}
