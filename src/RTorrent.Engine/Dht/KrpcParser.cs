using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Dht;

/// <summary>Why an incoming DHT packet was dropped. Counted in <see cref="DhtStatistics"/>.</summary>
public enum DhtDropReason
{
    /// <summary>Larger than the packet size limit.</summary>
    Oversized,
    /// <summary>Not valid bencode (or bytes after the value).</summary>
    NotBencode,
    /// <summary>Valid bencode but not a dictionary.</summary>
    NotDictionary,
    /// <summary>A required key is missing.</summary>
    MissingField,
    /// <summary>A key has the wrong type, length or value.</summary>
    InvalidField,
    /// <summary><c>y</c> is not <c>q</c>, <c>r</c> or <c>e</c>.</summary>
    UnknownMessageType,
    /// <summary>A response or error for a transaction we did not send (or that already ended).</summary>
    UnknownTransaction,
    /// <summary>A response from another endpoint than the one the query went to.</summary>
    WrongSource,
    /// <summary>A query beyond the sender's rate (or beyond our total response budget).</summary>
    RateLimited,
    /// <summary>A node ID that BEP 42 refuses for the sender's address, with enforcement on.</summary>
    InvalidNodeId,
    /// <summary>A packet claiming to come from our own node ID.</summary>
    OwnId,
    /// <summary>A packet from an address the blocklist blocks.</summary>
    Blocked,
}

/// <summary>The outcome of parsing one packet.</summary>
/// <param name="Message">The message, when it is well-formed.</param>
/// <param name="Reason">Why it was refused, when <paramref name="Message"/> is null.</param>
/// <param name="QueryTransactionId">
/// For a refused query whose envelope was sound (<c>t</c>, <c>y = q</c>, <c>q</c>, <c>a</c>), its transaction ID, so
/// the sender can be told with a protocol error (203).
/// </param>
internal readonly record struct KrpcParseResult(KrpcMessage? Message, DhtDropReason Reason, byte[]? QueryTransactionId = null);

/// <summary>
/// Turns UDP payloads into KRPC messages, strictly: anything that is not a bencoded dictionary with the fields BEP 5
/// requires, in the types and lengths it requires, is refused with a reason. Never throws on input.
/// </summary>
internal static class KrpcParser
{
    /// <summary>Transaction IDs longer than this are refused (real ones are 2 to 8 bytes).</summary>
    public const int MaxTransactionIdLength = 32;

    /// <summary>Write tokens longer than this are refused (libtorrent uses 4 bytes, others up to 20).</summary>
    public const int MaxTokenLength = 64;

    private static readonly BencodeReaderOptions ReaderOptions = new()
    {
        Strict = false, // accept the non-canonical integers libtorrent accepts
        MaxDepth = 8,
        MaxItems = 4096,
    };

    /// <summary>Parses one packet of at most <paramref name="maxPacketSize"/> bytes.</summary>
    public static KrpcParseResult Parse(ReadOnlyMemory<byte> packet, int maxPacketSize)
    {
        if (packet.Length > maxPacketSize) return Drop(DhtDropReason.Oversized);
        BValue root;
        try
        {
            root = BencodeReader.Decode(packet, out int consumed, ReaderOptions with { MaxInputLength = maxPacketSize });
            if (consumed != packet.Length) return Drop(DhtDropReason.NotBencode);
        }
        catch (BencodeException)
        {
            return Drop(DhtDropReason.NotBencode);
        }
        if (root is not BDictionary dict) return Drop(DhtDropReason.NotDictionary);

        if (!dict.TryGetValue("t"u8, out var tValue)) return Drop(DhtDropReason.MissingField);
        if (tValue is not BString t || t.Bytes.Length is 0 or > MaxTransactionIdLength) return Drop(DhtDropReason.InvalidField);
        if (!dict.TryGetValue("y"u8, out var yValue)) return Drop(DhtDropReason.MissingField);
        if (yValue is not BString y || y.Bytes.Length != 1) return Drop(DhtDropReason.UnknownMessageType);
        byte[]? version = dict.TryGetValue("v"u8, out var v) && v is BString vs && vs.Bytes.Length <= 16 ? vs.Bytes.ToArray() : null;
        byte[] tid = t.Bytes.ToArray();

        return y.Bytes.Span[0] switch
        {
            (byte)'q' => ParseQuery(dict, tid, version),
            (byte)'r' => ParseResponse(dict, tid, version),
            (byte)'e' => ParseError(dict, tid, version),
            _ => Drop(DhtDropReason.UnknownMessageType),
        };
    }

    private static KrpcParseResult Drop(DhtDropReason reason, byte[]? queryTid = null) => new(null, reason, queryTid);

    private static KrpcParseResult ParseQuery(BDictionary dict, byte[] tid, byte[]? version)
    {
        if (!dict.TryGetValue("q"u8, out var qValue) || !dict.TryGetValue("a"u8, out var aValue)) return Drop(DhtDropReason.MissingField);
        if (qValue is not BString q || q.Bytes.Length is 0 or > 32 || aValue is not BDictionary args) return Drop(DhtDropReason.InvalidField);

        // From here on the envelope is sound: a refusal can be answered with a protocol error.
        if (!args.TryGetValue("id"u8, out var idValue)) return Drop(DhtDropReason.MissingField, tid);
        if (!TryReadId(idValue, out var senderId)) return Drop(DhtDropReason.InvalidField, tid);
        bool readOnly = args.TryGetValue("ro"u8, out var ro) && ro is BInteger { Value: 1 };

        var name = q.Bytes.Span;
        KrpcMethod method = name.SequenceEqual("ping"u8) ? KrpcMethod.Ping
            : name.SequenceEqual("find_node"u8) ? KrpcMethod.FindNode
            : name.SequenceEqual("get_peers"u8) ? KrpcMethod.GetPeers
            : name.SequenceEqual("announce_peer"u8) ? KrpcMethod.AnnouncePeer
            : KrpcMethod.Unknown;

        NodeId target = default;
        int port = 0;
        var want = KrpcWant.None;
        bool implied = false;
        byte[]? token = null;
        switch (method)
        {
            case KrpcMethod.FindNode:
                if (!args.TryGetValue("target"u8, out var targetValue)) return Drop(DhtDropReason.MissingField, tid);
                if (!TryReadId(targetValue, out target)) return Drop(DhtDropReason.InvalidField, tid);
                want = ReadWant(args);
                break;
            case KrpcMethod.GetPeers:
            case KrpcMethod.AnnouncePeer:
                if (!args.TryGetValue("info_hash"u8, out var hashValue)) return Drop(DhtDropReason.MissingField, tid);
                if (!TryReadId(hashValue, out target)) return Drop(DhtDropReason.InvalidField, tid);
                if (method == KrpcMethod.GetPeers)
                {
                    want = ReadWant(args);
                    break;
                }
                if (args.TryGetValue("implied_port"u8, out var impliedValue))
                {
                    if (impliedValue is not BInteger { Value: 0 or 1 } impliedInt) return Drop(DhtDropReason.InvalidField, tid);
                    implied = impliedInt.Value == 1;
                }
                if (args.TryGetValue("port"u8, out var portValue))
                {
                    if (portValue is not BInteger portInt || portInt.Value is < 0 or > 65535) return Drop(DhtDropReason.InvalidField, tid);
                    port = (int)portInt.Value;
                }
                else if (!implied)
                {
                    return Drop(DhtDropReason.MissingField, tid);
                }
                if (!implied && port == 0) return Drop(DhtDropReason.InvalidField, tid);
                if (!args.TryGetValue("token"u8, out var tokenValue)) return Drop(DhtDropReason.MissingField, tid);
                if (tokenValue is not BString tokenString || tokenString.Bytes.Length is 0 or > MaxTokenLength)
                    return Drop(DhtDropReason.InvalidField, tid);
                token = tokenString.Bytes.ToArray();
                break;
        }

        return new KrpcParseResult(new KrpcQuery
        {
            TransactionId = tid,
            Version = version,
            Method = method,
            MethodName = Encoding.UTF8.GetString(name),
            SenderId = senderId,
            Target = target,
            Port = implied ? 0 : port,
            ImpliedPort = implied,
            Token = token,
            ReadOnly = readOnly,
            Want = want,
        }, default);
    }

    /// <summary>
    /// BEP 32's <c>want</c>: a list of <c>n4</c> / <c>n6</c>. Read leniently, as libtorrent does: anything that is not a
    /// list, and entries that are not those two strings, are ignored (the query is answered as if they were absent).
    /// </summary>
    private static KrpcWant ReadWant(BDictionary args)
    {
        if (!args.TryGetValue("want"u8, out var value) || value is not BList list) return KrpcWant.None;
        var want = KrpcWant.None;
        foreach (var item in list)
        {
            if (item is not BString { Bytes.Length: 2 } s) continue;
            if (s.Bytes.Span.SequenceEqual("n4"u8)) want |= KrpcWant.N4;
            else if (s.Bytes.Span.SequenceEqual("n6"u8)) want |= KrpcWant.N6;
        }
        return want;
    }

    private static KrpcParseResult ParseResponse(BDictionary dict, byte[] tid, byte[]? version)
    {
        if (!dict.TryGetValue("r"u8, out var rValue)) return Drop(DhtDropReason.MissingField);
        if (rValue is not BDictionary r) return Drop(DhtDropReason.InvalidField);
        if (!r.TryGetValue("id"u8, out var idValue)) return Drop(DhtDropReason.MissingField);
        if (!TryReadId(idValue, out var senderId)) return Drop(DhtDropReason.InvalidField);

        var nodes = new List<DhtNodeInfo>();
        var nodes6 = new List<DhtNodeInfo>();
        if (r.TryGetValue("nodes"u8, out var nodesValue))
        {
            if (nodesValue is not BString ns || !Compact.TryReadNodes(ns.Bytes.Span, AddressFamily.InterNetwork, nodes))
                return Drop(DhtDropReason.InvalidField);
        }
        if (r.TryGetValue("nodes6"u8, out var nodes6Value))
        {
            if (nodes6Value is not BString ns6 || !Compact.TryReadNodes(ns6.Bytes.Span, AddressFamily.InterNetworkV6, nodes6))
                return Drop(DhtDropReason.InvalidField);
        }
        var values = new List<IPEndPoint>();
        if (r.TryGetValue("values"u8, out var valuesValue))
        {
            if (valuesValue is not BList list) return Drop(DhtDropReason.InvalidField);
            foreach (var item in list)
            {
                // One bad entry does not spoil the others (libtorrent skips them too).
                if (item is BString s && Compact.TryReadEndPoint(s.Bytes.Span, out var peer)) values.Add(peer);
            }
        }
        byte[]? token = null;
        if (r.TryGetValue("token"u8, out var tokenValue))
        {
            if (tokenValue is not BString ts || ts.Bytes.Length is 0 or > MaxTokenLength) return Drop(DhtDropReason.InvalidField);
            token = ts.Bytes.ToArray();
        }

        return new KrpcParseResult(new KrpcResponse
        {
            TransactionId = tid,
            Version = version,
            SenderId = senderId,
            Nodes = nodes,
            Nodes6 = nodes6,
            Values = values,
            Token = token,
            ExternalAddress = ReadExternalAddress(dict),
        }, default);
    }

    private static KrpcParseResult ParseError(BDictionary dict, byte[] tid, byte[]? version)
    {
        if (!dict.TryGetValue("e"u8, out var eValue)) return Drop(DhtDropReason.MissingField);
        if (eValue is not BList { Count: >= 2 } e || e[0] is not BInteger code || e[1] is not BString message)
            return Drop(DhtDropReason.InvalidField);
        string text = message.Bytes.Length > 256 ? Encoding.UTF8.GetString(message.Bytes.Span[..256]) : message.Text;
        return new KrpcParseResult(new KrpcError
        {
            TransactionId = tid,
            Version = version,
            Code = (int)Math.Clamp(code.Value, int.MinValue, int.MaxValue),
            Message = text,
            ExternalAddress = ReadExternalAddress(dict),
        }, default);
    }

    private static IPEndPoint? ReadExternalAddress(BDictionary dict) =>
        dict.TryGetValue("ip"u8, out var ip) && ip is BString s && Compact.TryReadEndPoint(s.Bytes.Span, out var ep) ? ep : null;

    private static bool TryReadId(BValue value, out NodeId id)
    {
        if (value is BString s && s.Bytes.Length == NodeId.Length)
        {
            id = new NodeId(s.Bytes.Span);
            return true;
        }
        id = default;
        return false;
    }
}
