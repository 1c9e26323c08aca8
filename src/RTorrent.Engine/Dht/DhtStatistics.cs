namespace RTorrent.Engine.Dht;

/// <summary>Counters of a <see cref="DhtEngine"/>, taken at one moment.</summary>
public sealed record DhtStatistics
{
    /// <summary>Packets received.</summary>
    public long PacketsReceived { get; init; }

    /// <summary>Packets sent (queries, answers and errors).</summary>
    public long PacketsSent { get; init; }

    /// <summary>Well-formed queries received.</summary>
    public long QueriesReceived { get; init; }

    /// <summary>Queries we answered (with a response or an error).</summary>
    public long QueriesAnswered { get; init; }

    /// <summary>Queries we sent.</summary>
    public long QueriesSent { get; init; }

    /// <summary>Answers to our queries that matched a transaction.</summary>
    public long ResponsesReceived { get; init; }

    /// <summary>Our queries that timed out.</summary>
    public long QueryTimeouts { get; init; }

    /// <summary>Packets dropped, by reason.</summary>
    public required IReadOnlyDictionary<DhtDropReason, long> Dropped { get; init; }

    /// <summary>All dropped packets.</summary>
    public long DroppedTotal => Dropped.Values.Sum();

    /// <summary>Packets dropped for one reason.</summary>
    public long DroppedFor(DhtDropReason reason) => Dropped.TryGetValue(reason, out long n) ? n : 0;
}

/// <summary>The live counters behind <see cref="DhtStatistics"/>; updated under the engine's lock.</summary>
internal sealed class DhtCounters
{
    private readonly long[] _dropped = new long[Enum.GetValues<DhtDropReason>().Length];

    public long PacketsReceived;
    public long PacketsSent;
    public long QueriesReceived;
    public long QueriesAnswered;
    public long QueriesSent;
    public long ResponsesReceived;
    public long QueryTimeouts;

    public void Drop(DhtDropReason reason) => _dropped[(int)reason]++;

    public DhtStatistics Snapshot()
    {
        var dropped = new Dictionary<DhtDropReason, long>();
        foreach (var reason in Enum.GetValues<DhtDropReason>())
            if (_dropped[(int)reason] > 0) dropped[reason] = _dropped[(int)reason];
        return new DhtStatistics
        {
            PacketsReceived = PacketsReceived,
            PacketsSent = PacketsSent,
            QueriesReceived = QueriesReceived,
            QueriesAnswered = QueriesAnswered,
            QueriesSent = QueriesSent,
            ResponsesReceived = ResponsesReceived,
            QueryTimeouts = QueryTimeouts,
            Dropped = dropped,
        };
    }
}
