using System.Buffers;
using System.Buffers.Binary;

namespace RTorrent.Engine.Peers;

/// <summary>A decoded incoming message, handed to the engine loop in batches.</summary>
internal struct PeerMessage
{
    /// <summary>The message id; 255 for a keep-alive.</summary>
    public MessageId Id;
    public int Index;
    public int Begin;
    public int Length;

    /// <summary>
    /// For PIECE: a pooled 16 KiB buffer holding <see cref="Length"/> bytes (the loop takes ownership).
    /// For BITFIELD and EXTENDED: the payload (a plain array).
    /// </summary>
    public byte[]? Payload;

    /// <summary>The id a keep-alive is given in a batch (it has none on the wire).</summary>
    public const MessageId KeepAlive = (MessageId)255;
}

/// <summary>
/// Frames and decodes the peer wire's length-prefixed messages from bytes as they are read: span-based, each length
/// checked against the largest legal message before anything is buffered, payloads validated by message id. Unknown
/// ids are skipped, as BEP 3 clients do.
/// </summary>
internal static class PeerMessageReader
{
    /// <summary>BEP 52 hash messages start with a pieces root and four 32-bit numbers.</summary>
    public const int V2HashHeaderLength = 32 + 16;

    /// <summary>Largest block we request, and so the largest PIECE payload we accept.</summary>
    public const int MaxBlockLength = 16 * 1024;

    /// <summary>
    /// The largest legal message for a torrent of <paramref name="pieceCount"/> pieces: a bitfield, or a 16 KiB block,
    /// or an extension message (metadata pieces are 16 KiB plus a small header). Anything larger is a protocol error.
    /// </summary>
    public static int MaxMessageLength(int pieceCount) => Math.Max(1 + (pieceCount + 7) / 8, 9 + MaxBlockLength + 4096);

    /// <summary>
    /// Decodes the complete messages at the start of <paramref name="data"/> into <paramref name="into"/> and returns
    /// the bytes they took; an incomplete message at the end is left for the next read.
    /// </summary>
    /// <exception cref="PeerProtocolException">A length is out of bounds or a payload does not fit its message.</exception>
    public static int Read(ReadOnlySpan<byte> data, int maxMessageLength, List<PeerMessage> into)
    {
        int offset = 0;
        while (data.Length - offset >= 4)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(data[offset..]);
            if (length < 0 || length > maxMessageLength)
                throw new PeerProtocolException($"message length {length} exceeds the largest legal message ({maxMessageLength})");
            if (data.Length - offset - 4 < length) break;
            var body = data.Slice(offset + 4, length);
            offset += 4 + length;
            if (length == 0)
            {
                into.Add(new PeerMessage { Id = PeerMessage.KeepAlive }); // only refreshes the idle timer
                continue;
            }
            if (Decode(body) is { } m) into.Add(m);
        }
        return offset;
    }

    /// <summary>Returns the pooled block buffers of the PIECE messages in <paramref name="messages"/> from <paramref name="start"/> on.</summary>
    public static void ReturnBlocks(List<PeerMessage> messages, int start = 0)
    {
        for (int i = start; i < messages.Count; i++)
            if (messages[i].Id == MessageId.Piece && messages[i].Payload is { } b) BlockBuffers.Return(b);
    }

    private static PeerMessage? Decode(ReadOnlySpan<byte> body)
    {
        var id = (MessageId)body[0];
        var p = body[1..];
        switch (id)
        {
            case MessageId.Choke or MessageId.Unchoke or MessageId.Interested or MessageId.NotInterested:
                if (p.Length != 0) throw new PeerProtocolException($"{id} with a payload of {p.Length} bytes");
                return new PeerMessage { Id = id };
            case MessageId.HaveAll or MessageId.HaveNone:
                if (p.Length != 0) throw new PeerProtocolException($"{id} with a payload of {p.Length} bytes");
                return new PeerMessage { Id = id };
            case MessageId.Have or MessageId.SuggestPiece or MessageId.AllowedFast:
                if (p.Length != 4) throw new PeerProtocolException($"{id} of {p.Length} bytes");
                return new PeerMessage { Id = id, Index = BinaryPrimitives.ReadInt32BigEndian(p) };
            case MessageId.Bitfield:
                return new PeerMessage { Id = id, Payload = p.ToArray(), Length = p.Length };
            case MessageId.Request or MessageId.Cancel or MessageId.RejectRequest:
                if (p.Length != 12) throw new PeerProtocolException($"{id} of {p.Length} bytes");
                return new PeerMessage
                {
                    Id = id,
                    Index = BinaryPrimitives.ReadInt32BigEndian(p),
                    Begin = BinaryPrimitives.ReadInt32BigEndian(p[4..]),
                    Length = BinaryPrimitives.ReadInt32BigEndian(p[8..]),
                };
            case MessageId.Piece:
            {
                if (p.Length < 8) throw new PeerProtocolException($"PIECE of {p.Length} bytes");
                int blockLength = p.Length - 8;
                if (blockLength == 0 || blockLength > MaxBlockLength)
                    throw new PeerProtocolException($"PIECE carrying {blockLength} bytes");
                var block = BlockBuffers.Rent();
                p[8..].CopyTo(block);
                return new PeerMessage
                {
                    Id = id,
                    Index = BinaryPrimitives.ReadInt32BigEndian(p),
                    Begin = BinaryPrimitives.ReadInt32BigEndian(p[4..]),
                    Length = blockLength,
                    Payload = block,
                };
            }
            case MessageId.Port:
                if (p.Length != 2) throw new PeerProtocolException($"PORT of {p.Length} bytes");
                return new PeerMessage { Id = id, Index = BinaryPrimitives.ReadUInt16BigEndian(p) };
            case MessageId.HashRequest or MessageId.HashReject:
                if (p.Length != V2HashHeaderLength) throw new PeerProtocolException($"{id} of {p.Length} bytes");
                return new PeerMessage { Id = id, Payload = p.ToArray(), Length = p.Length };
            case MessageId.Hashes:
                if (p.Length < V2HashHeaderLength || (p.Length - V2HashHeaderLength) % 32 != 0)
                    throw new PeerProtocolException($"HASHES of {p.Length} bytes");
                return new PeerMessage { Id = id, Payload = p.ToArray(), Length = p.Length };
            case MessageId.Extended:
                if (p.Length < 1) throw new PeerProtocolException("EXTENDED without an id");
                return new PeerMessage { Id = id, Index = p[0], Payload = p[1..].ToArray(), Length = p.Length - 1 };
            default:
                return null; // unknown messages are ignored, as BEP 3 clients do
        }
    }
}
