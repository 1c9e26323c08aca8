using System.Net;

namespace RTorrent.Engine.Dht;

/// <summary>The DHT queries of BEP 5.</summary>
internal enum KrpcMethod
{
    /// <summary>A query we do not implement (answered with error 204).</summary>
    Unknown,
    /// <summary><c>ping</c>.</summary>
    Ping,
    /// <summary><c>find_node</c>.</summary>
    FindNode,
    /// <summary><c>get_peers</c>.</summary>
    GetPeers,
    /// <summary><c>announce_peer</c>.</summary>
    AnnouncePeer,
}

/// <summary>The node families a query asks for in its <c>want</c> list (BEP 32): <c>n4</c>, <c>n6</c>.</summary>
[Flags]
internal enum KrpcWant
{
    /// <summary>No <c>want</c> key (or none we know): nodes of the family the query came over.</summary>
    None = 0,
    /// <summary><c>n4</c>: IPv4 nodes (<c>nodes</c>).</summary>
    N4 = 1,
    /// <summary><c>n6</c>: IPv6 nodes (<c>nodes6</c>).</summary>
    N6 = 2,
}

/// <summary>KRPC error codes (BEP 5).</summary>
internal static class KrpcErrorCode
{
    public const int Generic = 201;
    public const int Server = 202;
    public const int Protocol = 203;
    public const int MethodUnknown = 204;
}

/// <summary>A decoded KRPC message. Every byte it holds is copied out of the packet, so it outlives the buffer.</summary>
internal abstract class KrpcMessage
{
    /// <summary>The transaction ID (<c>t</c>), echoed in replies.</summary>
    public required byte[] TransactionId { get; init; }

    /// <summary>The sender's client version (<c>v</c>), if given.</summary>
    public byte[]? Version { get; init; }
}

/// <summary>A query (<c>y = q</c>).</summary>
internal sealed class KrpcQuery : KrpcMessage
{
    /// <summary>The method.</summary>
    public required KrpcMethod Method { get; init; }

    /// <summary>The method name as sent (for unknown methods).</summary>
    public required string MethodName { get; init; }

    /// <summary>The querying node's ID.</summary>
    public required NodeId SenderId { get; init; }

    /// <summary><c>target</c> of find_node, or <c>info_hash</c> of get_peers and announce_peer.</summary>
    public NodeId Target { get; init; }

    /// <summary>announce_peer's <c>port</c> (0 when <see cref="ImpliedPort"/>).</summary>
    public int Port { get; init; }

    /// <summary>announce_peer's <c>implied_port</c>: use the UDP source port instead of <see cref="Port"/>.</summary>
    public bool ImpliedPort { get; init; }

    /// <summary>announce_peer's <c>token</c>.</summary>
    public byte[]? Token { get; init; }

    /// <summary>The node families find_node or get_peers asks for (<c>want</c>, BEP 32).</summary>
    public KrpcWant Want { get; init; }

    /// <summary>The sender is a read-only node (BEP 43 <c>ro = 1</c>): it must not enter routing tables.</summary>
    public bool ReadOnly { get; init; }
}

/// <summary>A response (<c>y = r</c>).</summary>
internal sealed class KrpcResponse : KrpcMessage
{
    /// <summary>The responding node's ID.</summary>
    public required NodeId SenderId { get; init; }

    /// <summary>IPv4 nodes (<c>nodes</c>).</summary>
    public List<DhtNodeInfo> Nodes { get; init; } = [];

    /// <summary>IPv6 nodes (<c>nodes6</c>, BEP 32).</summary>
    public List<DhtNodeInfo> Nodes6 { get; init; } = [];

    /// <summary>Peers (<c>values</c>); entries of the wrong size are skipped.</summary>
    public List<IPEndPoint> Values { get; init; } = [];

    /// <summary>The write token of a get_peers reply.</summary>
    public byte[]? Token { get; init; }

    /// <summary>Our address as the responder saw it (BEP 42 <c>ip</c>).</summary>
    public IPEndPoint? ExternalAddress { get; init; }
}

/// <summary>An error (<c>y = e</c>).</summary>
internal sealed class KrpcError : KrpcMessage
{
    /// <summary>The error code.</summary>
    public required int Code { get; init; }

    /// <summary>The error message.</summary>
    public required string Message { get; init; }

    /// <summary>Our address as the responder saw it, if it says.</summary>
    public IPEndPoint? ExternalAddress { get; init; }
}
