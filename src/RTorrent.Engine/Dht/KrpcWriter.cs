using System.Buffers;
using System.Net;
using System.Text;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Dht;

/// <summary>
/// Encodes KRPC messages straight into a buffer, keys written in canonical (sorted) order by construction, so no
/// intermediate <see cref="BValue"/> tree is built for the thousands of small packets a node sends.
/// </summary>
internal static class KrpcWriter
{
    /// <summary>Our client version (<c>v</c>): "RT" and a two-byte version, as BEP 5 suggests.</summary>
    public static ReadOnlySpan<byte> ClientVersion => "RT\0\u0001"u8;

    /// <summary>A ping query.</summary>
    public static void Ping(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, NodeId self) =>
        Query(w, tid, "ping"u8, self, default, default);

    /// <summary>A find_node query.</summary>
    public static void FindNode(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, NodeId self, NodeId target, KrpcWant want = KrpcWant.None) =>
        Query(w, tid, "find_node"u8, self, "target"u8, target, want);

    /// <summary>A get_peers query.</summary>
    public static void GetPeers(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, NodeId self, NodeId infoHash, KrpcWant want = KrpcWant.None) =>
        Query(w, tid, "get_peers"u8, self, "info_hash"u8, infoHash, want);

    /// <summary>An announce_peer query.</summary>
    public static void AnnouncePeer(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, NodeId self, NodeId infoHash, int port,
        bool impliedPort, ReadOnlySpan<byte> token)
    {
        W(w, (byte)'d');
        BencodeWriter.WriteString(w, "a"u8);
        W(w, (byte)'d');
        WriteIdEntry(w, "id"u8, self);
        if (impliedPort)
        {
            BencodeWriter.WriteString(w, "implied_port"u8);
            BencodeWriter.WriteInteger(w, 1);
        }
        WriteIdEntry(w, "info_hash"u8, infoHash);
        BencodeWriter.WriteString(w, "port"u8);
        BencodeWriter.WriteInteger(w, port);
        BencodeWriter.WriteString(w, "token"u8);
        BencodeWriter.WriteString(w, token);
        W(w, (byte)'e');
        BencodeWriter.WriteString(w, "q"u8);
        BencodeWriter.WriteString(w, "announce_peer"u8);
        Trailer(w, tid, (byte)'q');
    }

    /// <summary>
    /// A response. <paramref name="requester"/> goes into <c>ip</c> (BEP 42) so the requester learns its external
    /// address. Keys whose value is null are left out; an empty <c>nodes</c> is written (find_node requires the key).
    /// </summary>
    public static void Response(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, NodeId self, IPEndPoint requester,
        byte[]? nodes, byte[]? nodes6, byte[]? token, IReadOnlyList<IPEndPoint>? values)
    {
        W(w, (byte)'d');
        WriteIp(w, requester);
        BencodeWriter.WriteString(w, "r"u8);
        W(w, (byte)'d');
        WriteIdEntry(w, "id"u8, self);
        if (nodes is not null)
        {
            BencodeWriter.WriteString(w, "nodes"u8);
            BencodeWriter.WriteString(w, nodes);
        }
        if (nodes6 is not null)
        {
            BencodeWriter.WriteString(w, "nodes6"u8);
            BencodeWriter.WriteString(w, nodes6);
        }
        if (token is not null)
        {
            BencodeWriter.WriteString(w, "token"u8);
            BencodeWriter.WriteString(w, token);
        }
        if (values is { Count: > 0 })
        {
            BencodeWriter.WriteString(w, "values"u8);
            W(w, (byte)'l');
            Span<byte> ep = stackalloc byte[Compact.EndPointV6Length];
            foreach (var peer in values) BencodeWriter.WriteString(w, ep[..Compact.WriteEndPoint(peer, ep)]);
            W(w, (byte)'e');
        }
        W(w, (byte)'e');
        Trailer(w, tid, (byte)'r');
    }

    /// <summary>An error.</summary>
    public static void Error(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, int code, string message, IPEndPoint? requester)
    {
        W(w, (byte)'d');
        BencodeWriter.WriteString(w, "e"u8);
        W(w, (byte)'l');
        BencodeWriter.WriteInteger(w, code);
        BencodeWriter.WriteString(w, Encoding.UTF8.GetBytes(message));
        W(w, (byte)'e');
        if (requester is not null) WriteIp(w, requester);
        Trailer(w, tid, (byte)'e');
    }

    private static void Query(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, ReadOnlySpan<byte> method, NodeId self,
        ReadOnlySpan<byte> targetKey, NodeId target, KrpcWant want = KrpcWant.None)
    {
        W(w, (byte)'d');
        BencodeWriter.WriteString(w, "a"u8);
        W(w, (byte)'d');
        WriteIdEntry(w, "id"u8, self); // "id" sorts before "info_hash" and "target", and they before "want"
        if (!targetKey.IsEmpty) WriteIdEntry(w, targetKey, target);
        if (want != KrpcWant.None)
        {
            BencodeWriter.WriteString(w, "want"u8);
            W(w, (byte)'l');
            if (want.HasFlag(KrpcWant.N4)) BencodeWriter.WriteString(w, "n4"u8);
            if (want.HasFlag(KrpcWant.N6)) BencodeWriter.WriteString(w, "n6"u8);
            W(w, (byte)'e');
        }
        W(w, (byte)'e');
        BencodeWriter.WriteString(w, "q"u8);
        BencodeWriter.WriteString(w, method);
        Trailer(w, tid, (byte)'q');
    }

    private static void Trailer(IBufferWriter<byte> w, ReadOnlySpan<byte> tid, byte type)
    {
        BencodeWriter.WriteString(w, "t"u8);
        BencodeWriter.WriteString(w, tid);
        BencodeWriter.WriteString(w, "v"u8);
        BencodeWriter.WriteString(w, ClientVersion);
        BencodeWriter.WriteString(w, "y"u8);
        BencodeWriter.WriteString(w, [type]);
        W(w, (byte)'e');
    }

    private static void WriteIp(IBufferWriter<byte> w, IPEndPoint requester)
    {
        Span<byte> ep = stackalloc byte[Compact.EndPointV6Length];
        int n = Compact.WriteEndPoint(requester, ep);
        BencodeWriter.WriteString(w, "ip"u8);
        BencodeWriter.WriteString(w, ep[..n]);
    }

    private static void WriteIdEntry(IBufferWriter<byte> w, ReadOnlySpan<byte> key, NodeId id)
    {
        Span<byte> b = stackalloc byte[NodeId.Length];
        id.CopyTo(b);
        BencodeWriter.WriteString(w, key);
        BencodeWriter.WriteString(w, b);
    }

    private static void W(IBufferWriter<byte> w, byte b)
    {
        w.GetSpan(1)[0] = b;
        w.Advance(1);
    }
}
