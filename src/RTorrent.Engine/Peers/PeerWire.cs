using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Peers;

/// <summary>Peer wire message ids (BEP 3, BEP 5 port, BEP 6 fast extension, BEP 10 extended).</summary>
public enum MessageId : byte
{
    /// <summary>We will not serve your requests.</summary>
    Choke = 0,
    /// <summary>We will serve your requests.</summary>
    Unchoke = 1,
    /// <summary>We want something you have.</summary>
    Interested = 2,
    /// <summary>We want nothing you have.</summary>
    NotInterested = 3,
    /// <summary>We now have a piece.</summary>
    Have = 4,
    /// <summary>The pieces we have (only as the first message).</summary>
    Bitfield = 5,
    /// <summary>Send us a block.</summary>
    Request = 6,
    /// <summary>A block.</summary>
    Piece = 7,
    /// <summary>Forget a request.</summary>
    Cancel = 8,
    /// <summary>Our DHT port (BEP 5).</summary>
    Port = 9,
    /// <summary>BEP 6: you might like to download this piece (a hint).</summary>
    SuggestPiece = 13,
    /// <summary>BEP 6: we have every piece (instead of a bitfield).</summary>
    HaveAll = 14,
    /// <summary>BEP 6: we have no piece (instead of a bitfield).</summary>
    HaveNone = 15,
    /// <summary>BEP 6: we will not send the block you asked for.</summary>
    RejectRequest = 16,
    /// <summary>BEP 6: you may request this piece even while we choke you.</summary>
    AllowedFast = 17,
    /// <summary>Extension protocol (BEP 10).</summary>
    Extended = 20,
    /// <summary>BEP 52: send me these hashes of a file's merkle tree, with their proof.</summary>
    HashRequest = 21,
    /// <summary>BEP 52: the hashes asked for, and the uncle hashes proving them.</summary>
    Hashes = 22,
    /// <summary>BEP 52: we will not send the hashes you asked for.</summary>
    HashReject = 23,
}

/// <summary>Reserved-bit flags of the handshake that we understand.</summary>
[Flags]
public enum PeerFeatures
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>BEP 10 extension protocol (reserved byte 5, 0x10).</summary>
    Extensions = 1,
    /// <summary>BEP 5 DHT (reserved byte 7, 0x01).</summary>
    Dht = 2,
    /// <summary>BEP 6 fast extension (reserved byte 7, 0x04).</summary>
    Fast = 4,
    /// <summary>BEP 52: the peer speaks v2 (reserved byte 7, 0x10, the "upgrade" bit libtorrent sets on hybrids).</summary>
    V2 = 8,
}

/// <summary>The 68-byte BitTorrent handshake.</summary>
public static class Handshake
{
    /// <summary>Length of a handshake.</summary>
    public const int Length = 68;

    private static ReadOnlySpan<byte> Protocol => "\u0013BitTorrent protocol"u8;

    /// <summary>Whether <paramref name="source"/> starts with the 20-byte protocol header of a plain handshake.</summary>
    public static bool StartsWithProtocol(ReadOnlySpan<byte> source) => source.StartsWith(Protocol);

    /// <summary>Writes a handshake advertising <paramref name="features"/>.</summary>
    public static void Write(Span<byte> destination, InfoHash infoHash, ReadOnlySpan<byte> peerId, PeerFeatures features)
    {
        Protocol.CopyTo(destination);
        var reserved = destination.Slice(20, 8);
        reserved.Clear();
        if (features.HasFlag(PeerFeatures.Extensions)) reserved[5] |= 0x10;
        if (features.HasFlag(PeerFeatures.Dht)) reserved[7] |= 0x01;
        if (features.HasFlag(PeerFeatures.Fast)) reserved[7] |= 0x04;
        if (features.HasFlag(PeerFeatures.V2)) reserved[7] |= 0x10;
        infoHash.CopyTo(destination.Slice(28, 20));
        peerId.CopyTo(destination.Slice(48, 20));
    }

    /// <summary>Reads a handshake; false if it is not the BitTorrent protocol.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out InfoHash infoHash, out byte[] peerId, out PeerFeatures features)
    {
        infoHash = default;
        peerId = [];
        features = PeerFeatures.None;
        if (source.Length < Length || !source[..20].SequenceEqual(Protocol)) return false;
        var reserved = source.Slice(20, 8);
        if ((reserved[5] & 0x10) != 0) features |= PeerFeatures.Extensions;
        if ((reserved[7] & 0x01) != 0) features |= PeerFeatures.Dht;
        if ((reserved[7] & 0x04) != 0) features |= PeerFeatures.Fast;
        if ((reserved[7] & 0x10) != 0) features |= PeerFeatures.V2;
        infoHash = new InfoHash(source.Slice(28, 20));
        peerId = source.Slice(48, 20).ToArray();
        return true;
    }
}

/// <summary>Peer ids in Azureus style: <c>-RT0100-</c> and twelve random characters.</summary>
public static class PeerIds
{
    /// <summary>Client prefix: RT, version 0.1.0.0.</summary>
    public const string Prefix = "-RT0100-";

    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>A new random peer id.</summary>
    public static byte[] Create()
    {
        var id = new byte[20];
        Encoding.ASCII.GetBytes(Prefix, id);
        Span<byte> random = stackalloc byte[12];
        RandomNumberGenerator.Fill(random);
        for (int i = 0; i < 12; i++) id[8 + i] = (byte)Alphabet[random[i] % Alphabet.Length];
        return id;
    }

    /// <summary>A readable client name from a peer id (Azureus and Shadow styles), for the Peers view.</summary>
    public static string DescribeClient(ReadOnlySpan<byte> peerId)
    {
        if (peerId.Length != 20) return "?";
        if (peerId[0] == '-' && peerId[7] == '-')
        {
            string code = Encoding.ASCII.GetString(peerId.Slice(1, 2));
            string v = Encoding.ASCII.GetString(peerId.Slice(3, 4));
            string name = code switch
            {
                "RT" => "RTorrent",
                "LT" => "libtorrent",
                "lt" => "libTorrent (rakshasa)",
                "TR" => "Transmission",
                "qB" => "qBittorrent",
                "DE" => "Deluge",
                "UT" => "µTorrent",
                "AZ" => "Vuze",
                "BC" => "BitComet",
                "MO" => "MonoTorrent",
                "A2" => "aria2",
                "KT" => "KTorrent",
                "BT" => "BitTorrent",
                _ => code,
            };
            string version = string.Join('.', v.Where(c => c != '-').Select(c => char.IsAsciiLetterOrDigit(c) ? c.ToString() : "?"));
            if (code == "TR") version = v; // Transmission writes 300Z etc.
            return $"{name} {version}".Trim();
        }
        var text = new StringBuilder();
        foreach (byte b in peerId) text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        return text.ToString();
    }
}

/// <summary>Writes peer wire messages (length prefix included) into spans.</summary>
public static class MessageWriter
{
    /// <summary>Length of a keep-alive (4) and of the simple id-only messages (5).</summary>
    public const int KeepAliveLength = 4, SimpleLength = 5, HaveLength = 9, RequestLength = 17, PieceHeaderLength = 13;

    /// <summary>A message with no payload (choke, unchoke, interested, not interested).</summary>
    public static int WriteSimple(Span<byte> d, MessageId id)
    {
        BinaryPrimitives.WriteInt32BigEndian(d, 1);
        d[4] = (byte)id;
        return SimpleLength;
    }

    /// <summary>HAVE.</summary>
    public static int WriteHave(Span<byte> d, int piece)
    {
        BinaryPrimitives.WriteInt32BigEndian(d, 5);
        d[4] = (byte)MessageId.Have;
        BinaryPrimitives.WriteInt32BigEndian(d[5..], piece);
        return HaveLength;
    }

    /// <summary>REQUEST or CANCEL.</summary>
    public static int WriteRequest(Span<byte> d, MessageId id, int piece, int begin, int length)
    {
        BinaryPrimitives.WriteInt32BigEndian(d, 13);
        d[4] = (byte)id;
        BinaryPrimitives.WriteInt32BigEndian(d[5..], piece);
        BinaryPrimitives.WriteInt32BigEndian(d[9..], begin);
        BinaryPrimitives.WriteInt32BigEndian(d[13..], length);
        return RequestLength;
    }

    /// <summary>The 13-byte header of a PIECE message carrying <paramref name="length"/> bytes.</summary>
    public static int WritePieceHeader(Span<byte> d, int piece, int begin, int length)
    {
        BinaryPrimitives.WriteInt32BigEndian(d, 9 + length);
        d[4] = (byte)MessageId.Piece;
        BinaryPrimitives.WriteInt32BigEndian(d[5..], piece);
        BinaryPrimitives.WriteInt32BigEndian(d[9..], begin);
        return PieceHeaderLength;
    }

    /// <summary>The 5-byte header of a message with an arbitrary payload (BITFIELD, EXTENDED).</summary>
    public static int WriteHeader(Span<byte> d, MessageId id, int payloadLength)
    {
        BinaryPrimitives.WriteInt32BigEndian(d, 1 + payloadLength);
        d[4] = (byte)id;
        return 5;
    }

    /// <summary>A message carrying one piece index: HAVE, SUGGEST PIECE, ALLOWED FAST.</summary>
    public static int WriteIndex(Span<byte> d, MessageId id, int piece)
    {
        BinaryPrimitives.WriteInt32BigEndian(d, 5);
        d[4] = (byte)id;
        BinaryPrimitives.WriteInt32BigEndian(d[5..], piece);
        return HaveLength;
    }

    /// <summary>PORT (BEP 5).</summary>
    public static int WritePort(Span<byte> d, int port)
    {
        BinaryPrimitives.WriteInt32BigEndian(d, 3);
        d[4] = (byte)MessageId.Port;
        BinaryPrimitives.WriteUInt16BigEndian(d[5..], (ushort)port);
        return 7;
    }
}

/// <summary>A peer broke the protocol; the connection is dropped.</summary>
public sealed class PeerProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PeerProtocolException(string message) : base(message) { }

    /// <summary>The peer hung up in the middle of the handshake (rather than sending something wrong).</summary>
    public bool PeerHungUp { get; private init; }

    /// <summary>The peer closed the connection before the handshake was complete.</summary>
    internal static PeerProtocolException HungUpDuringHandshake() =>
        new("connection closed during the handshake") { PeerHungUp = true };
}
