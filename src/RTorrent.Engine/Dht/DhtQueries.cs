using System.Net;

namespace RTorrent.Engine.Dht;

/// <summary>A query to send; the transaction ID and our node ID are filled in when it goes out.</summary>
internal readonly record struct OutgoingQuery(KrpcMethod Method, NodeId Target, int Port, bool ImpliedPort, byte[]? Token)
{
    /// <summary>
    /// The <c>want</c> of a find_node or get_peers (BEP 32). None lets the engine decide: it asks for both families
    /// on a find_node while the other family's table is nearly empty (see <see cref="DhtEngine"/>).
    /// </summary>
    public KrpcWant Want { get; init; }

    public static OutgoingQuery Ping() => new(KrpcMethod.Ping, default, 0, false, null);
    public static OutgoingQuery FindNode(NodeId target) => new(KrpcMethod.FindNode, target, 0, false, null);
    public static OutgoingQuery GetPeers(NodeId infoHash) => new(KrpcMethod.GetPeers, infoHash, 0, false, null);
    public static OutgoingQuery AnnouncePeer(NodeId infoHash, int port, bool impliedPort, byte[] token) =>
        new(KrpcMethod.AnnouncePeer, infoHash, port, impliedPort, token);
}

/// <summary>How one query ended.</summary>
internal enum QueryStatus
{
    /// <summary>A response came.</summary>
    Answered,
    /// <summary>A KRPC error came.</summary>
    Error,
    /// <summary>Nothing came in time.</summary>
    TimedOut,
    /// <summary>A response came but was refused: a changed ID, or one BEP 42 refuses under enforcement.</summary>
    Refused,
    /// <summary>It could not be sent (the node is stopping, the socket refused, or no slot was free).</summary>
    NotSent,
}

/// <summary>The outcome of one query.</summary>
internal sealed record QueryOutcome(QueryStatus Status, KrpcResponse? Response = null, KrpcError? Error = null)
{
    public static readonly QueryOutcome TimedOut = new(QueryStatus.TimedOut);
    public static readonly QueryOutcome Refused = new(QueryStatus.Refused);
    public static readonly QueryOutcome NotSent = new(QueryStatus.NotSent);
}

/// <summary>A query waiting for its answer.</summary>
internal sealed class PendingQuery(ushort key, IPEndPoint to, NodeId? expectedId, KrpcMethod method)
{
    public ushort Key { get; } = key;
    public IPEndPoint To { get; } = to;
    public NodeId? ExpectedId { get; } = expectedId;
    public KrpcMethod Method { get; } = method;
    public TaskCompletionSource<QueryOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
