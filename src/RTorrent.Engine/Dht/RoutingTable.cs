using System.Net;

namespace RTorrent.Engine.Dht;

/// <summary>A node's standing in the routing table (BEP 5).</summary>
public enum DhtNodeState
{
    /// <summary>Answered us in the last 15 minutes, or answered once and queried us in the last 15 minutes.</summary>
    Good,
    /// <summary>Quiet for 15 minutes, or missed one query: to be pinged before it is trusted or dropped.</summary>
    Questionable,
    /// <summary>Missed several queries in a row: the first to be replaced.</summary>
    Bad,
}

/// <summary>One node of the routing table. Mutable, owned by the table (the engine's lock guards it).</summary>
internal sealed class RoutingNode
{
    public RoutingNode(NodeId id, IPEndPoint endPoint, bool verified)
    {
        Id = id;
        EndPoint = endPoint;
        Verified = verified;
    }

    public NodeId Id { get; }
    public IPEndPoint EndPoint { get; set; }

    /// <summary>The ID passes BEP 42 for the node's address (always true for local addresses).</summary>
    public bool Verified { get; set; }

    /// <summary>When the node last answered one of our queries.</summary>
    public DateTimeOffset? LastResponse { get; set; }

    /// <summary>When the node last queried us.</summary>
    public DateTimeOffset? LastQuery { get; set; }

    /// <summary>When we last sent it a ping to check on it (so one node is not pinged over and over).</summary>
    public DateTimeOffset? LastPinged { get; set; }

    /// <summary>Queries in a row it did not answer.</summary>
    public int FailedQueries { get; set; }

    public DhtNodeState GetState(DateTimeOffset now)
    {
        if (FailedQueries >= RoutingTable.FailuresBeforeBad) return DhtNodeState.Bad;
        if (FailedQueries == 0 && LastResponse is { } r)
        {
            if (now - r < RoutingTable.GoodWindow) return DhtNodeState.Good;
            if (LastQuery is { } q && now - q < RoutingTable.GoodWindow) return DhtNodeState.Good;
        }
        return DhtNodeState.Questionable;
    }

    public DhtNodeInfo ToInfo() => new(Id, EndPoint);

    /// <summary>The last sign of life, for ordering (least recently seen first).</summary>
    public DateTimeOffset LastSeen =>
        LastResponse is { } r ? (LastQuery is { } q && q > r ? q : r) : LastQuery ?? DateTimeOffset.MinValue;
}

/// <summary>A k-bucket: up to k live nodes and up to k replacement candidates.</summary>
internal sealed class KBucket
{
    public List<RoutingNode> Nodes { get; } = [];

    /// <summary>Nodes that answered us while the bucket was full; most recent last.</summary>
    public List<RoutingNode> Replacements { get; } = [];

    /// <summary>When a node of this bucket last answered or joined (bucket refresh is due 15 minutes after).</summary>
    public DateTimeOffset LastChanged { get; set; }
}

/// <summary>What <see cref="RoutingTable.Add"/> did.</summary>
internal enum AddOutcome
{
    /// <summary>The node joined a bucket.</summary>
    Added,
    /// <summary>The node was there already and was refreshed.</summary>
    Updated,
    /// <summary>The bucket is full: the node waits in the replacement cache.</summary>
    Cached,
    /// <summary>Refused (our own ID, an ID/endpoint conflict, or a second node on one public IP).</summary>
    Rejected,
}

/// <summary>
/// The Kademlia routing table of BEP 5: a list of k-buckets where bucket <c>i</c> holds nodes whose ID shares
/// exactly <c>i</c> leading bits with ours, and the last bucket holds all nodes closer than that. Only the last
/// bucket (the one our own ID falls in) splits. Only nodes that answered one of our queries are added, so the table
/// holds nodes known to be reachable at the address they claim. Memory is bounded by buckets × 2k nodes.
/// Not thread-safe: the engine calls it under its lock.
/// </summary>
internal sealed class RoutingTable
{
    /// <summary>Missed queries in a row that make a node bad.</summary>
    public const int FailuresBeforeBad = 2;

    /// <summary>How long an answer keeps a node good, and after which an untouched bucket is refreshed.</summary>
    public static readonly TimeSpan GoodWindow = TimeSpan.FromMinutes(15);

    /// <summary>A questionable node is pinged at most this often.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time;
    private readonly List<KBucket> _buckets = [];
    private readonly Dictionary<IPAddress, int> _publicIps = [];

    public RoutingTable(NodeId self, TimeProvider time, int bucketSize = 8, int maxBuckets = NodeId.Bits,
        bool restrictPublicIps = true, bool preferVerified = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBuckets, 1);
        Self = self;
        _time = time;
        BucketSize = bucketSize;
        MaxBuckets = Math.Min(maxBuckets, NodeId.Bits);
        RestrictPublicIps = restrictPublicIps;
        PreferVerified = preferVerified;
        _buckets.Add(new KBucket { LastChanged = time.GetUtcNow() });
    }

    public NodeId Self { get; }
    public int BucketSize { get; }
    public int MaxBuckets { get; }

    /// <summary>At most one node per public IP address (local addresses are exempt), as libtorrent does.</summary>
    public bool RestrictPublicIps { get; }

    /// <summary>A BEP 42-verified node may push an unverified one out of a full bucket.</summary>
    public bool PreferVerified { get; }

    public IReadOnlyList<KBucket> Buckets => _buckets;

    /// <summary>Nodes in buckets (replacement caches not counted), any state.</summary>
    public int Count { get; private set; }

    /// <summary>Nodes in buckets that are not bad.</summary>
    public int CountLive()
    {
        var now = _time.GetUtcNow();
        int n = 0;
        foreach (var b in _buckets)
            foreach (var node in b.Nodes)
                if (node.GetState(now) != DhtNodeState.Bad) n++;
        return n;
    }

    /// <summary>Replacement candidates over all buckets.</summary>
    public int ReplacementCount => _buckets.Sum(b => b.Replacements.Count);

    public IEnumerable<RoutingNode> AllNodes => _buckets.SelectMany(b => b.Nodes);

    /// <summary>Index of the bucket a node with this ID belongs to.</summary>
    public int BucketIndexOf(NodeId id) => Math.Min(NodeId.CommonPrefixLength(Self, id), _buckets.Count - 1);

    /// <summary>Finds a node in the buckets by ID.</summary>
    public RoutingNode? Find(NodeId id)
    {
        if (id == Self) return null;
        foreach (var n in _buckets[BucketIndexOf(id)].Nodes)
            if (n.Id == id) return n;
        return null;
    }

    /// <summary>
    /// Adds or refreshes a node that just answered us from <paramref name="endPoint"/>. When its bucket is full of
    /// good nodes it goes to the replacement cache; the caller should then ping the bucket's questionable nodes
    /// (<see cref="NodesToPing"/>) so that dead ones make room.
    /// </summary>
    public AddOutcome Add(NodeId id, IPEndPoint endPoint, bool verified)
    {
        if (id == Self) return AddOutcome.Rejected;
        endPoint = AddressClass.Normalize(endPoint);
        var now = _time.GetUtcNow();
        var bucket = _buckets[BucketIndexOf(id)];

        var existing = bucket.Nodes.Find(n => n.Id == id);
        if (existing is not null)
        {
            if (!existing.EndPoint.Equals(endPoint))
            {
                // Same ID from another address: keep a node that still answers where we know it; an ID that hops
                // between addresses while the old one lives is a liar or a clone.
                if (existing.GetState(now) == DhtNodeState.Good) return AddOutcome.Rejected;
                if (!existing.EndPoint.Address.Equals(endPoint.Address))
                {
                    if (RestrictPublicIps && IsTakenPublicIp(endPoint.Address)) return AddOutcome.Rejected;
                    UntrackIp(existing.EndPoint.Address);
                    TrackIp(endPoint.Address);
                }
                existing.EndPoint = endPoint;
                existing.Verified = verified;
            }
            MarkResponded(existing, now);
            bucket.LastChanged = now;
            return AddOutcome.Updated;
        }

        int cached = bucket.Replacements.FindIndex(n => n.Id == id);
        if (cached >= 0)
        {
            UntrackIp(bucket.Replacements[cached].EndPoint.Address);
            bucket.Replacements.RemoveAt(cached);
        }
        if (RestrictPublicIps && IsTakenPublicIp(endPoint.Address) && !TryEvictBadAt(endPoint.Address, now))
            return AddOutcome.Rejected;

        var node = new RoutingNode(id, endPoint, verified);
        MarkResponded(node, now);
        return Insert(node, now);
    }

    /// <summary>Takes over a node from another table (our ID changed), keeping what we know about it.</summary>
    public AddOutcome Adopt(RoutingNode node)
    {
        if (node.Id == Self) return AddOutcome.Rejected;
        if (RestrictPublicIps && IsTakenPublicIp(node.EndPoint.Address)) return AddOutcome.Rejected;
        return Insert(node, _time.GetUtcNow());
    }

    /// <summary>Notes that a node in the table queried us (it stays good while it does, BEP 5).</summary>
    public RoutingNode? MarkQueried(NodeId id, IPEndPoint from)
    {
        var node = Find(id);
        if (node is null || !node.EndPoint.Equals(AddressClass.Normalize(from))) return null;
        node.LastQuery = _time.GetUtcNow();
        return node;
    }

    /// <summary>
    /// Notes that the node did not answer a query. A node that turns bad is replaced by the freshest candidate of
    /// its bucket's replacement cache, if there is one.
    /// </summary>
    public void MarkFailed(NodeId id, IPEndPoint endPoint)
    {
        var bucket = _buckets[BucketIndexOf(id)];
        var node = bucket.Nodes.Find(n => n.Id == id);
        if (node is null || !node.EndPoint.Equals(AddressClass.Normalize(endPoint))) return;
        node.FailedQueries++;
        var now = _time.GetUtcNow();
        if (node.GetState(now) != DhtNodeState.Bad || bucket.Replacements.Count == 0) return;
        RemoveNode(bucket, node);
        var best = bucket.Replacements[^1];
        bucket.Replacements.RemoveAt(bucket.Replacements.Count - 1);
        bucket.Nodes.Add(best);
        Count++;
        bucket.LastChanged = now;
    }

    /// <summary>Removes a node (an ID that lied about itself, for example).</summary>
    public bool Remove(NodeId id)
    {
        var bucket = _buckets[BucketIndexOf(id)];
        var node = bucket.Nodes.Find(n => n.Id == id);
        if (node is null) return false;
        RemoveNode(bucket, node);
        return true;
    }

    /// <summary>
    /// Whether a node with this ID would get a place without waiting: its bucket has room, can split, or holds a
    /// bad node. Used to decide whether a stranger that queried us is worth a ping.
    /// </summary>
    public bool HasRoomFor(NodeId id)
    {
        if (id == Self) return false;
        int index = BucketIndexOf(id);
        var bucket = _buckets[index];
        if (bucket.Nodes.Count < BucketSize) return true;
        if (index == _buckets.Count - 1 && _buckets.Count < MaxBuckets) return true;
        var now = _time.GetUtcNow();
        return bucket.Nodes.Exists(n => n.GetState(now) == DhtNodeState.Bad);
    }

    /// <summary>
    /// Questionable nodes of the bucket a node with this ID falls in, least recently seen first, that were not pinged
    /// within <see cref="PingInterval"/>. Marks them pinged.
    /// </summary>
    public List<RoutingNode> NodesToPing(NodeId id, int max)
    {
        var now = _time.GetUtcNow();
        var result = _buckets[BucketIndexOf(id)].Nodes
            .Where(n => n.GetState(now) == DhtNodeState.Questionable && (n.LastPinged is not { } p || now - p >= PingInterval))
            .OrderBy(n => n.LastSeen)
            .Take(max)
            .ToList();
        foreach (var n in result) n.LastPinged = now;
        return result;
    }

    /// <summary>The least recently seen questionable node of the whole table not pinged lately, marked pinged.</summary>
    public RoutingNode? NextQuestionableToPing()
    {
        var now = _time.GetUtcNow();
        RoutingNode? best = null;
        foreach (var b in _buckets)
            foreach (var n in b.Nodes)
                if (n.GetState(now) == DhtNodeState.Questionable && (n.LastPinged is not { } p || now - p >= PingInterval)
                    && (best is null || n.LastSeen < best.LastSeen))
                    best = n;
        if (best is not null) best.LastPinged = now;
        return best;
    }

    /// <summary>The <paramref name="count"/> nodes closest to <paramref name="target"/> that are not bad.</summary>
    public List<RoutingNode> Closest(NodeId target, int count)
    {
        var now = _time.GetUtcNow();
        var all = new List<RoutingNode>(Count);
        foreach (var b in _buckets)
            foreach (var n in b.Nodes)
                if (n.GetState(now) != DhtNodeState.Bad) all.Add(n);
        all.Sort((x, y) => NodeId.CompareDistance(target, x.Id, y.Id));
        if (all.Count > count) all.RemoveRange(count, all.Count - count);
        return all;
    }

    /// <summary>Indices of buckets nothing happened in for <paramref name="age"/>.</summary>
    public List<int> StaleBuckets(TimeSpan age)
    {
        var now = _time.GetUtcNow();
        var result = new List<int>();
        for (int i = 0; i < _buckets.Count; i++)
            if (now - _buckets[i].LastChanged >= age) result.Add(i);
        return result;
    }

    /// <summary>A random ID that falls in bucket <paramref name="index"/> (the target of its refresh lookup).</summary>
    public NodeId RandomIdInBucket(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _buckets.Count);
        // The last bucket covers every ID sharing at least `index` bits: any such ID refreshes it, and one sharing
        // exactly `index` bits is as good a choice as any.
        return Self.RandomWithCommonPrefix(index);
    }

    /// <summary>Marks a bucket as just refreshed.</summary>
    public void MarkRefreshed(int index) => _buckets[index].LastChanged = _time.GetUtcNow();

    private static void MarkResponded(RoutingNode node, DateTimeOffset now)
    {
        node.LastResponse = now;
        node.FailedQueries = 0;
    }

    private AddOutcome Insert(RoutingNode node, DateTimeOffset now)
    {
        while (true)
        {
            int index = BucketIndexOf(node.Id);
            var bucket = _buckets[index];
            if (bucket.Nodes.Count < BucketSize)
            {
                bucket.Nodes.Add(node);
                Count++;
                TrackIp(node.EndPoint.Address);
                bucket.LastChanged = now;
                return AddOutcome.Added;
            }
            if (index == _buckets.Count - 1 && _buckets.Count < MaxBuckets)
            {
                Split();
                continue;
            }
            var bad = bucket.Nodes.Find(n => n.GetState(now) == DhtNodeState.Bad);
            if (bad is null && PreferVerified && node.Verified)
                bad = bucket.Nodes.Where(n => !n.Verified).MinBy(n => n.LastSeen);
            if (bad is not null)
            {
                RemoveNode(bucket, bad);
                bucket.Nodes.Add(node);
                Count++;
                TrackIp(node.EndPoint.Address);
                bucket.LastChanged = now;
                return AddOutcome.Added;
            }
            if (bucket.Replacements.Count >= BucketSize)
            {
                UntrackIp(bucket.Replacements[0].EndPoint.Address);
                bucket.Replacements.RemoveAt(0);
            }
            bucket.Replacements.Add(node);
            TrackIp(node.EndPoint.Address);
            return AddOutcome.Cached;
        }
    }

    /// <summary>Splits the last bucket: nodes sharing more bits with us than its index move to a new last bucket.</summary>
    private void Split()
    {
        int lastIndex = _buckets.Count - 1;
        var last = _buckets[lastIndex];
        var next = new KBucket { LastChanged = last.LastChanged };
        _buckets.Add(next);
        MoveCloser(last.Nodes, next.Nodes, lastIndex);
        MoveCloser(last.Replacements, next.Replacements, lastIndex);
        // Candidates fill the room the split made, freshest first.
        foreach (var b in new[] { last, next })
        {
            while (b.Nodes.Count < BucketSize && b.Replacements.Count > 0)
            {
                var n = b.Replacements[^1];
                b.Replacements.RemoveAt(b.Replacements.Count - 1);
                b.Nodes.Add(n);
                Count++;
            }
        }

        void MoveCloser(List<RoutingNode> from, List<RoutingNode> to, int index)
        {
            for (int i = 0; i < from.Count;)
            {
                if (NodeId.CommonPrefixLength(Self, from[i].Id) > index)
                {
                    to.Add(from[i]);
                    from.RemoveAt(i);
                }
                else
                {
                    i++;
                }
            }
        }
    }

    private void RemoveNode(KBucket bucket, RoutingNode node)
    {
        bucket.Nodes.Remove(node);
        Count--;
        UntrackIp(node.EndPoint.Address);
    }

    /// <summary>Frees a public IP held by a bad node (a node that restarted with a new ID comes back this way).</summary>
    private bool TryEvictBadAt(IPAddress address, DateTimeOffset now)
    {
        foreach (var b in _buckets)
        {
            var holder = b.Nodes.Find(n => n.EndPoint.Address.Equals(address));
            if (holder is not null)
            {
                if (holder.GetState(now) != DhtNodeState.Bad) return false;
                RemoveNode(b, holder);
                return !IsTakenPublicIp(address);
            }
            int r = b.Replacements.FindIndex(n => n.EndPoint.Address.Equals(address));
            if (r >= 0)
            {
                b.Replacements.RemoveAt(r); // a waiting candidate gives way to the node that answered just now
                UntrackIp(address);
                return !IsTakenPublicIp(address);
            }
        }
        return false;
    }

    private bool IsTakenPublicIp(IPAddress address) => !AddressClass.IsLocal(address) && _publicIps.ContainsKey(address);

    private void TrackIp(IPAddress address)
    {
        if (AddressClass.IsLocal(address)) return;
        _publicIps[address] = _publicIps.GetValueOrDefault(address) + 1;
    }

    private void UntrackIp(IPAddress address)
    {
        if (AddressClass.IsLocal(address) || !_publicIps.TryGetValue(address, out int n)) return;
        if (n <= 1) _publicIps.Remove(address);
        else _publicIps[address] = n - 1;
    }
}
