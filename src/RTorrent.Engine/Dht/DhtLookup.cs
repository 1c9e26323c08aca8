using System.Net;
using System.Threading.Channels;

namespace RTorrent.Engine.Dht;

/// <summary>What a lookup did.</summary>
public sealed record DhtLookupResult
{
    /// <summary>Queries sent.</summary>
    public int NodesQueried { get; init; }

    /// <summary>Nodes that answered.</summary>
    public int NodesResponded { get; init; }

    /// <summary>Distinct peers found (get_peers lookups).</summary>
    public int PeersFound { get; init; }

    /// <summary>The closest nodes that answered, closest first (at most k).</summary>
    public IReadOnlyList<DhtNodeInfo> ClosestNodes { get; init; } = [];
}

/// <summary>What an announce did: the get_peers lookup, then announce_peer to the closest nodes that gave tokens.</summary>
public sealed record DhtAnnounceResult
{
    /// <summary>The get_peers lookup before the announce.</summary>
    public required DhtLookupResult Lookup { get; init; }

    /// <summary>Nodes we sent announce_peer to.</summary>
    public int AnnouncesSent { get; init; }

    /// <summary>Nodes that accepted our announce.</summary>
    public int AnnouncesAccepted { get; init; }
}

/// <summary>How a lookup may talk to the network; the engine in production, a fake in tests.</summary>
internal interface ILookupNetwork
{
    /// <summary>Our current node ID (it may change when our external address becomes known).</summary>
    NodeId Self { get; }

    /// <summary>Sends a lookup query (find_node or get_peers) and waits for its outcome.</summary>
    Task<QueryOutcome> QueryAsync(IPEndPoint to, NodeId? expectedId, OutgoingQuery query, CancellationToken cancellationToken);

    /// <summary>Whether a node found in a <c>nodes</c> list may be queried (family, BEP 42 policy, not ourselves).</summary>
    bool IsAcceptableContact(DhtNodeInfo node);
}

/// <summary>
/// One iterative Kademlia lookup (BEP 5) for a target: find_node, or get_peers collecting peers and write tokens.
/// Candidates are kept ordered by distance; up to alpha queries run at once; a query slower than
/// <c>slowAfter</c> stops counting against alpha (the lookup branches out, the query may still answer); the
/// lookup ends when the k closest candidates that have not failed have all answered, when nothing is left to ask,
/// or when its query budget is spent and only slow queries remain. State is touched only by the loop in <see cref="RunAsync"/>; query tasks report through a channel.
/// </summary>
internal sealed class DhtLookup
{
    private enum State { Fresh, InFlight, Slow, Responded, Failed }

    private sealed class Candidate(NodeId? id, IPEndPoint endPoint, bool checkId)
    {
        public NodeId? Id { get; set; } = id;
        public IPEndPoint EndPoint { get; } = endPoint;
        /// <summary>The ID came from a node list: the node must answer with it. Saved contacts may have restarted.</summary>
        public bool CheckId { get; } = checkId;
        public State State { get; set; }
        public byte[]? Token { get; set; }
    }

    private abstract record Event(Candidate Candidate);
    private sealed record Answered(Candidate Candidate, KrpcResponse Response) : Event(Candidate);
    private sealed record Failed(Candidate Candidate) : Event(Candidate);
    private sealed record Slow(Candidate Candidate) : Event(Candidate);

    /// <summary>Candidates kept at most; the farthest unqueried ones give way.</summary>
    public const int MaxCandidates = 256;

    /// <summary>Distinct peers kept per lookup, at most.</summary>
    public const int MaxPeers = 10_000;

    private readonly ILookupNetwork _network;
    private readonly NodeId _target;
    private readonly bool _getPeers;
    private readonly int _k, _alpha, _maxQueries;
    private readonly TimeSpan _slowAfter, _timeout;
    private readonly TimeProvider _time;
    private readonly bool _restrictIps;
    private readonly Action<IReadOnlyList<IPEndPoint>>? _onPeers;

    private readonly List<Candidate> _ranked = [];
    private readonly Queue<Candidate> _unranked = new();
    private readonly HashSet<IPEndPoint> _endPoints = [];
    private readonly HashSet<NodeId> _ids = [];
    private readonly HashSet<IPAddress> _publicIps = [];
    private readonly HashSet<IPEndPoint> _peers = [];
    private readonly Channel<Event> _events = Channel.CreateUnbounded<Event>(new UnboundedChannelOptions { SingleReader = true });
    private int _queried, _responded, _active, _inFlight;

    public DhtLookup(ILookupNetwork network, NodeId target, bool getPeers, int k, int alpha, int maxQueries, TimeSpan slowAfter,
        TimeSpan timeout, TimeProvider time, bool restrictIps, Action<IReadOnlyList<IPEndPoint>>? onPeers)
    {
        _timeout = timeout;
        _network = network;
        _target = target;
        _getPeers = getPeers;
        _k = k;
        _alpha = alpha;
        _maxQueries = maxQueries;
        _slowAfter = slowAfter;
        _time = time;
        _restrictIps = restrictIps;
        _onPeers = onPeers;
    }

    /// <summary>Adds a starting node whose ID we know from our routing table (it must answer with that ID).</summary>
    public void AddKnown(DhtNodeInfo node) => TryAddRanked(node, checkId: true);

    /// <summary>Adds a starting node whose ID may be stale (saved from an earlier run).</summary>
    public void AddSaved(DhtNodeInfo node) => TryAddRanked(node, checkId: false);

    /// <summary>Adds a starting endpoint whose ID is unknown (a bootstrap node): it is asked first.</summary>
    public void AddEndPoint(IPEndPoint endPoint)
    {
        endPoint = AddressClass.Normalize(endPoint);
        if (!AddressClass.IsUsable(endPoint) || !_endPoints.Add(endPoint)) return;
        _unranked.Enqueue(new Candidate(null, endPoint, checkId: false));
    }

    /// <summary>The closest nodes that answered and gave a write token, closest first (for announce_peer).</summary>
    public List<(DhtNodeInfo Node, byte[] Token)> ClosestWithTokens() =>
        _ranked.Where(c => c.State == State.Responded && c.Token is not null)
            .Take(_k).Select(c => (new DhtNodeInfo(c.Id!.Value, c.EndPoint), c.Token!)).ToList();

    /// <summary>A get_peers lookup (rather than find_node).</summary>
    public bool IsGetPeers => _getPeers;

    /// <summary>The lookup ran out of time before it converged.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>Runs the lookup to its end; throws only when <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task<DhtLookupResult> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            while (true)
            {
                while (_active < _alpha && _queried < _maxQueries && TryPickNext(out var next)) Launch(next, stop.Token);
                if (IsDone() || _inFlight == 0) break;
                if (_queried >= _maxQueries && _active == 0) break; // out of budget, and only slow queries left
                Event ev;
                try
                {
                    ev = await _events.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    TimedOut = true;
                    break; // out of time: what we have is the answer
                }
                Handle(ev);
            }
        }
        finally
        {
            // Queries still open belong to nobody now; cancelling them frees their transaction slots.
            await stop.CancelAsync().ConfigureAwait(false);
        }
        return new DhtLookupResult
        {
            NodesQueried = _queried,
            NodesResponded = _responded,
            PeersFound = _peers.Count,
            ClosestNodes = _ranked.Where(c => c.State == State.Responded).Take(_k).Select(c => new DhtNodeInfo(c.Id!.Value, c.EndPoint)).ToList(),
        };
    }

    private bool TryPickNext(out Candidate candidate)
    {
        foreach (var c in _unranked)
        {
            if (c.State == State.Fresh)
            {
                candidate = c;
                return true;
            }
        }
        int window = 0;
        foreach (var c in _ranked)
        {
            if (c.State is State.Failed or State.Slow) continue;
            if (c.State == State.Fresh)
            {
                candidate = c;
                return true;
            }
            if (++window >= _k) break;
        }
        candidate = null!;
        return false;
    }

    /// <summary>
    /// The k closest candidates that have not failed have all answered. A slow node among them is waited for (up to
    /// the query timeout), since its answer may hold closer nodes; it only stops holding up new queries.
    /// </summary>
    private bool IsDone()
    {
        foreach (var c in _unranked)
            if (c.State is State.Fresh or State.InFlight or State.Slow) return false;
        int window = 0;
        foreach (var c in _ranked)
        {
            if (c.State is State.Failed) continue;
            if (c.State != State.Responded) return false;
            if (++window >= _k) break;
        }
        return window > 0;
    }

    private void Launch(Candidate c, CancellationToken stop)
    {
        c.State = State.InFlight;
        _queried++;
        _active++;
        _inFlight++;
        var query = _getPeers ? OutgoingQuery.GetPeers(_target) : OutgoingQuery.FindNode(_target);
        _ = QueryAsync(c, c.CheckId ? c.Id : null, query, stop);
        _ = MarkSlowAsync(c, stop);
    }

    private async Task QueryAsync(Candidate c, NodeId? expectedId, OutgoingQuery query, CancellationToken stop)
    {
        Event ev;
        try
        {
            var outcome = await _network.QueryAsync(c.EndPoint, expectedId, query, stop).ConfigureAwait(false);
            ev = outcome.Response is { } r ? new Answered(c, r) : new Failed(c);
        }
        catch (OperationCanceledException)
        {
            ev = new Failed(c);
        }
        catch (Exception)
        {
            // A query must never take the lookup down; to the lookup a broken query is a failed one.
            ev = new Failed(c);
        }
        _events.Writer.TryWrite(ev);
    }

    private async Task MarkSlowAsync(Candidate c, CancellationToken stop)
    {
        try
        {
            await Task.Delay(_slowAfter, _time, stop).ConfigureAwait(false);
            _events.Writer.TryWrite(new Slow(c));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Handle(Event ev)
    {
        var c = ev.Candidate;
        switch (ev)
        {
            case Slow when c.State == State.InFlight:
                c.State = State.Slow;
                _active--;
                break;
            case Answered a when c.State is State.InFlight or State.Slow:
                if (c.State == State.InFlight) _active--;
                _inFlight--;
                c.State = State.Responded;
                _responded++;
                OnAnswer(c, a.Response);
                break;
            case Failed when c.State is State.InFlight or State.Slow:
                if (c.State == State.InFlight) _active--;
                _inFlight--;
                c.State = State.Failed;
                break;
        }
    }

    private void OnAnswer(Candidate c, KrpcResponse r)
    {
        if (c.Id != r.SenderId)
        {
            // A bootstrap node (or a saved contact that restarted) tells us its ID now: rank it.
            if (c.Id is { } old)
            {
                _ranked.Remove(c);
                _ids.Remove(old);
            }
            c.Id = r.SenderId;
            if (_ids.Add(r.SenderId)) InsertRanked(c);
        }
        c.Token = r.Token;

        foreach (var node in r.Nodes) TryAddRanked(node, checkId: true);
        foreach (var node in r.Nodes6) TryAddRanked(node, checkId: true);

        if (_getPeers) ReportPeers(r.Values);
    }

    /// <summary>Reports peers not reported before (our own node's store, or a node's <c>values</c>).</summary>
    public void ReportPeers(IEnumerable<IPEndPoint> peers)
    {
        List<IPEndPoint>? fresh = null;
        foreach (var peer in peers)
        {
            var p = AddressClass.Normalize(peer);
            if (!AddressClass.IsUsable(p) || _peers.Count >= MaxPeers || !_peers.Add(p)) continue;
            (fresh ??= []).Add(p);
        }
        if (fresh is not null) _onPeers?.Invoke(fresh);
    }

    private void TryAddRanked(DhtNodeInfo node, bool checkId)
    {
        var ep = AddressClass.Normalize(node.EndPoint);
        if (!AddressClass.IsUsable(ep) || !_network.IsAcceptableContact(node)) return;
        if (_endPoints.Contains(ep) || _ids.Contains(node.Id)) return;
        bool isPublic = !AddressClass.IsLocal(ep.Address);
        // One candidate per public IP: a host cannot fill a lookup with nodes of its own making.
        if (_restrictIps && isPublic && _publicIps.Contains(ep.Address)) return;
        if (_ranked.Count >= MaxCandidates)
        {
            // Make room only by dropping a farther candidate we have not asked yet.
            var farthest = _ranked[^1];
            if (farthest.State != State.Fresh || NodeId.CompareDistance(_target, node.Id, farthest.Id!.Value) >= 0) return;
            _ranked.RemoveAt(_ranked.Count - 1);
        }
        _endPoints.Add(ep);
        _ids.Add(node.Id);
        if (isPublic) _publicIps.Add(ep.Address);
        InsertRanked(new Candidate(node.Id, ep, checkId));
    }

    private void InsertRanked(Candidate c)
    {
        var key = c.Id!.Value ^ _target;
        int lo = 0, hi = _ranked.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if ((_ranked[mid].Id!.Value ^ _target).CompareTo(key) < 0) lo = mid + 1;
            else hi = mid;
        }
        _ranked.Insert(lo, c);
    }
}
