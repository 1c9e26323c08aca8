using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Dht;

/// <summary>
/// A BitTorrent DHT node (BEP 5, with BEP 42 node IDs and BEP 32 when bound to IPv6): one per session, shared by
/// all torrents. It answers other nodes (ping, find_node, get_peers, announce_peer), keeps a routing table,
/// stores peers announced to it, and runs iterative lookups for us. Every table it keeps is bounded, answers are
/// rate-limited per source and in total, and no packet, however malformed, escapes the receive loop as an exception.
/// </summary>
/// <remarks>
/// Thread-safe. All state sits behind one lock; packet handling is short and never waits under it. Lookups run as
/// tasks that send through <see cref="QueryAsync"/> and wait for answers outside the lock.
/// </remarks>
public sealed class DhtEngine : IAsyncDisposable, ILookupNetwork
{
    /// <summary>Ping-backs to strangers that queried us, in flight at once (see <see cref="HandleQuery"/>).</summary>
    private const int MaxPingBacks = 16;

    /// <summary>The smallest answer we send (a ping reply with a 2-byte transaction ID), for early budget checks.</summary>
    private const int MinAnswerBytes = 60;

    /// <summary>Nodes of the other family taken from one answer for the sibling node to ping (BEP 32).</summary>
    private const int MaxNodesForSibling = 8;

    private static readonly TimeSpan BootstrapRetryInterval = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PeerExpiryInterval = TimeSpan.FromMinutes(1);

    private readonly DhtOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Func<IDhtTransport> _transportFactory;
    private readonly object _gate = new();
    private readonly DhtCounters _counters = new();
    private readonly Dictionary<ushort, PendingQuery> _pending = [];
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _lookupSlots;
    private readonly HashSet<IPEndPoint> _pingBacks = [];
    private readonly HashSet<Task> _background = [];
    private readonly ArrayBufferWriter<byte> _sendBuffer = new(1500);
    private readonly TokenManager _tokens;
    private readonly PeerStore _store;
    private readonly SourceRateLimiter _responseLimiter;
    private readonly TokenBucket _responseBytes;
    private readonly TokenBucket _queryRate;
    private readonly ExternalAddressVoter _voter;

    private IDhtTransport? _transport;
    private AddressFamily _family;
    private NodeId _self;
    private RoutingTable _table;
    private ushort _nextTid = (ushort)RandomNumberGenerator.GetInt32(65536);
    private List<DhtNodeInfo> _savedContacts = [];
    private CancellationTokenSource? _run;
    private CancellationToken _runToken = new(canceled: true);
    private Task? _receiveLoop, _maintenanceLoop;
    private Task? _bootstrap, _refresh;
    private DateTimeOffset _lastBootstrap = DateTimeOffset.MinValue, _lastExpiry, _lastSave;
    private int _lifecycle; // 0 new, 1 running, 2 stopped
    private DhtEngine? _sibling; // the session's node of the other address family (BEP 32), if any

    /// <summary>Creates a DHT node bound to a UDP socket when started.</summary>
    /// <param name="options">Settings; the defaults when null.</param>
    /// <param name="logger">Where to log; nowhere when null.</param>
    /// <param name="timeProvider">The clock; the system clock when null.</param>
    public DhtEngine(DhtOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
        : this(options, null, logger, timeProvider)
    {
    }

    internal DhtEngine(DhtOptions? options, Func<IDhtTransport>? transportFactory, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new DhtOptions();
        _options.Validate();
        _log = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _transportFactory = transportFactory ?? (() => new UdpDhtTransport(_options.BindAddress, _options.Port));
        _slots = new SemaphoreSlim(_options.MaxPendingQueries, _options.MaxPendingQueries);
        _lookupSlots = new SemaphoreSlim(_options.MaxConcurrentLookups, _options.MaxConcurrentLookups);
        _tokens = new TokenManager(_time);
        _store = new PeerStore(_time, _options.MaxStoredInfoHashes, _options.MaxPeersPerInfoHash, _options.PeerLifetime);
        _responseLimiter = new SourceRateLimiter(_time, _options.ResponsesPerSecondPerSource, _options.ResponseBurstPerSource, _options.RateLimitedSources);
        _responseBytes = new TokenBucket(_time, _options.MaxResponseBytesPerSecond, _options.MaxResponseBytesPerSecond);
        _queryRate = new TokenBucket(_time, _options.MaxQueriesPerSecond, Math.Max(1, _options.MaxQueriesPerSecond * 2));
        _voter = new ExternalAddressVoter(_options.ExternalAddressVotes, _options.ExternalAddress);
        _family = _options.BindAddress.AddressFamily;
        _self = _options.NodeId ?? InitialId(_voter.Current);
        _table = NewTable(_self);
        _lastExpiry = _lastSave = _time.GetUtcNow();
    }

    /// <summary>Our node ID. It changes once when our external address becomes known and the ID does not fit it (BEP 42).</summary>
    public NodeId NodeId
    {
        get { lock (_gate) return _self; }
    }

    NodeId ILookupNetwork.Self => NodeId;

    /// <summary>The bound UDP endpoint, once started.</summary>
    public IPEndPoint? LocalEndPoint
    {
        get { lock (_gate) return _transport?.LocalEndPoint; }
    }

    /// <summary>Our external address as other nodes report it (or as configured), once known.</summary>
    public IPAddress? ExternalAddress
    {
        get { lock (_gate) return _voter.Current; }
    }

    /// <summary>Nodes in the routing table that are not bad: what the status bar shows.</summary>
    public int NodeCount
    {
        get { lock (_gate) return _table.CountLive(); }
    }

    /// <summary>The address family this node serves (BEP 32 keeps the IPv4 and the IPv6 DHT apart).</summary>
    public AddressFamily AddressFamily
    {
        get { lock (_gate) return _family; }
    }

    /// <summary>The node of the other address family this one answers <c>want</c> from, once linked.</summary>
    public DhtEngine? Sibling => Volatile.Read(ref _sibling);

    /// <summary>
    /// Links a session's IPv4 and IPv6 nodes (BEP 32): each answers a query's <c>want</c> for the other family from the
    /// other's routing table, asks for both families in its find_node queries while the other's table is nearly empty,
    /// and hands the other family's nodes it is told of to the other node, which pings them.
    /// </summary>
    /// <exception cref="ArgumentException">The two nodes serve the same family.</exception>
    public static void Link(DhtEngine first, DhtEngine second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.AddressFamily == second.AddressFamily || ReferenceEquals(first, second))
            throw new ArgumentException("Only an IPv4 node and an IPv6 node can be linked.", nameof(second));
        Volatile.Write(ref first._sibling, second);
        Volatile.Write(ref second._sibling, first);
    }

    /// <summary>Whether the node is started and not stopped.</summary>
    public bool IsRunning => Volatile.Read(ref _lifecycle) == 1;

    /// <summary>Counters: packets, queries, drops by reason.</summary>
    public DhtStatistics GetStatistics()
    {
        lock (_gate) return _counters.Snapshot();
    }

    /// <summary>
    /// Binds the socket, loads the saved state, and starts answering, upkeep and bootstrap (in the background:
    /// this returns once the socket is bound).
    /// </summary>
    /// <exception cref="IOException">The UDP port cannot be bound.</exception>
    /// <exception cref="InvalidOperationException">Already started, or stopped.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _lifecycle, 1, 0) != 0)
            throw new InvalidOperationException("The DHT node was already started; create a new one to start again.");
        try
        {
            await LoadStateAsync(cancellationToken).ConfigureAwait(false);
            IDhtTransport transport;
            try
            {
                transport = _transportFactory();
            }
            catch (SocketException ex)
            {
                throw new IOException($"Cannot bind the DHT's UDP port {_options.Port} on {_options.BindAddress}: {ex.Message}", ex);
            }
            var run = new CancellationTokenSource();
            lock (_gate)
            {
                _transport = transport;
                _family = transport.LocalEndPoint.AddressFamily;
                _run = run;
                _runToken = run.Token;
            }
            _log.LogInformation("DHT node {Id} listening on UDP {EndPoint}", _self, transport.LocalEndPoint);
            _receiveLoop = Task.Run(() => ReceiveLoopAsync(transport, run.Token), CancellationToken.None);
            _maintenanceLoop = Task.Run(() => MaintenanceLoopAsync(run.Token), CancellationToken.None);
            lock (_gate) StartBootstrap();
        }
        catch
        {
            Volatile.Write(ref _lifecycle, 2);
            throw;
        }
    }

    /// <summary>Stops answering and searching, and saves the state file (if configured).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _lifecycle, 2, 1) != 1) return;
        CancellationTokenSource? run;
        IDhtTransport? transport;
        lock (_gate)
        {
            run = _run;
            transport = _transport;
        }
        if (run is not null) await run.CancelAsync().ConfigureAwait(false);
        Task[] tasks;
        lock (_gate)
        {
            tasks = [.. _background, .. new[] { _receiveLoop, _maintenanceLoop }.OfType<Task>()];
            foreach (var p in _pending.Values) p.Completion.TrySetResult(QueryOutcome.NotSent);
            _pending.Clear();
        }
        try
        {
            await Task.WhenAll(tasks).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // the loops end by cancellation
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _log.LogWarning(ex, "DHT task failed while stopping");
        }
        try
        {
            await SaveStateAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate) _transport = null;
            transport?.Dispose();
            // _run is cancelled but not disposed: late packet handlers may still read its token.
            _log.LogInformation("DHT node stopped");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _lifecycle) == 1) await StopAsync().ConfigureAwait(false);
        else Volatile.Write(ref _lifecycle, 2);
    }

    /// <summary>Writes the node ID and the routing table to the state file (nothing when none is configured).</summary>
    public async Task SaveStateAsync(CancellationToken cancellationToken = default)
    {
        if (_options.StateFilePath is not { } path) return;
        DhtState state;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var nodes = _table.AllNodes.Where(n => n.GetState(now) != DhtNodeState.Bad)
                .OrderBy(n => n.GetState(now)).ThenByDescending(n => n.LastSeen).Select(n => n.ToInfo()).ToList();
            // Nothing learnt this run (no network, say): keep the contacts we had rather than forget them.
            if (nodes.Count == 0) nodes = [.. _savedContacts];
            state = new DhtState(_self, _voter.Current, nodes);
            _lastSave = now;
        }
        try
        {
            await DhtStateFile.SaveAsync(path, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("Cannot save the DHT state to {Path}: {Message}", path, ex.Message);
        }
    }

    /// <summary>
    /// Runs a bootstrap lookup (find_node for our own ID from the routing table, saved nodes and bootstrap nodes)
    /// and waits for it. <see cref="StartAsync"/> starts one by itself; this is for callers that want to wait.
    /// </summary>
    public async Task<DhtLookupResult> BootstrapAsync(CancellationToken cancellationToken = default)
    {
        EnsureRunning();
        var endpoints = await ResolveBootstrapNodesAsync(cancellationToken).ConfigureAwait(false);
        NodeId self;
        lock (_gate)
        {
            self = _self;
            _lastBootstrap = _time.GetUtcNow();
        }
        return await LookupAsync(self, getPeers: false, null, endpoints, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks a node to join our routing table: it is pinged and added if it answers (the BEP 5 PORT message says to
    /// do exactly this). Returns at once.
    /// </summary>
    public void AddNode(IPEndPoint endPoint) => AddNode(endPoint, null);

    /// <summary>As <see cref="AddNode(IPEndPoint)"/>, for a node whose ID we were told: an answer with another ID is refused.</summary>
    internal void AddNode(IPEndPoint endPoint, NodeId? id)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        endPoint = AddressClass.Normalize(endPoint);
        if (!IsRunning || !AddressClass.IsUsable(endPoint) || endPoint.AddressFamily != _family) return;
        lock (_gate)
        {
            if (id is { } known && (known == _self || _table.Find(known) is not null)) return;
            if (_pingBacks.Count >= MaxPingBacks || !_pingBacks.Add(endPoint)) return;
        }
        StartPing(endPoint, id, fromPingBack: true);
    }

    /// <summary>
    /// Our closest nodes to <paramref name="target"/> in compact form, for the other family's node answering a
    /// <c>want</c> (BEP 32). Takes only this node's lock.
    /// </summary>
    internal byte[] ClosestCompactForSibling(NodeId target)
    {
        lock (_gate) return ClosestCompact(target);
    }

    /// <summary>Whether our table is so empty that the other family's node should ask for our family's nodes too.</summary>
    internal bool WantsNodes
    {
        get { lock (_gate) return _lifecycle == 1 && _table.CountLive() < _options.BucketSize; }
    }

    /// <summary>
    /// Looks up peers for an info-hash and streams them as they are found (each once). The sequence ends when the
    /// lookup ends; stop reading (or cancel) to stop the lookup.
    /// </summary>
    public async IAsyncEnumerable<IPEndPoint> GetPeersAsync(InfoHash infoHash, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<IPEndPoint>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lookup = RunAsync();
        try
        {
            await foreach (var peer in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return peer;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await lookup.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        async Task RunAsync()
        {
            try
            {
                await FindPeersAsync(infoHash, peers =>
                {
                    foreach (var p in peers) channel.Writer.TryWrite(p);
                }, stop.Token).ConfigureAwait(false);
                channel.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                channel.Writer.TryComplete(ex is OperationCanceledException && !cancellationToken.IsCancellationRequested ? null : ex);
            }
        }
    }

    /// <summary>Looks up peers for an info-hash, handing each batch of new peers to <paramref name="peersFound"/>.</summary>
    public Task<DhtLookupResult> FindPeersAsync(InfoHash infoHash, Action<IReadOnlyList<IPEndPoint>> peersFound,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peersFound);
        EnsureRunning();
        return LookupAsync(NodeId.FromInfoHash(infoHash), getPeers: true, peersFound, null, cancellationToken);
    }

    /// <summary>Looks up the nodes closest to a target (find_node).</summary>
    public Task<DhtLookupResult> FindNodeAsync(NodeId target, CancellationToken cancellationToken = default)
    {
        EnsureRunning();
        return LookupAsync(target, getPeers: false, null, null, cancellationToken);
    }

    /// <summary>Announces that we have the torrent at TCP <paramref name="port"/> (a get_peers lookup, then announce_peer).</summary>
    public Task<DhtAnnounceResult> AnnounceAsync(InfoHash infoHash, int port, CancellationToken cancellationToken = default) =>
        AnnounceAsync(infoHash, port, impliedPort: false, null, cancellationToken);

    /// <summary>
    /// Announces a torrent: a get_peers lookup (peers found go to <paramref name="peersFound"/>), then
    /// announce_peer to the k closest nodes that gave us a token. With <paramref name="impliedPort"/> the nodes
    /// store our UDP source port instead of <paramref name="port"/> (BEP 5, for peers behind NAT using uTP).
    /// </summary>
    public async Task<DhtAnnounceResult> AnnounceAsync(InfoHash infoHash, int port, bool impliedPort,
        Action<IReadOnlyList<IPEndPoint>>? peersFound, CancellationToken cancellationToken = default)
    {
        if (!impliedPort && port is <= 0 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(port), port, "An announced TCP port is between 1 and 65535.");
        EnsureRunning();
        var target = NodeId.FromInfoHash(infoHash);
        var lookup = NewLookup(target, getPeers: true, peersFound);
        var result = await RunLookupAsync(lookup, target, null, cancellationToken).ConfigureAwait(false);
        var targets = lookup.ClosestWithTokens();
        var outcomes = await Task.WhenAll(targets.Select(t =>
            QueryAsync(t.Node.EndPoint, t.Node.Id, OutgoingQuery.AnnouncePeer(target, impliedPort ? 0 : port, impliedPort, t.Token),
                cancellationToken))).ConfigureAwait(false);
        int accepted = outcomes.Count(o => o.Status == QueryStatus.Answered);
        _log.LogDebug("DHT announce of {InfoHash}: {Accepted}/{Sent} nodes accepted, {Peers} peers found",
            infoHash, accepted, targets.Count, result.PeersFound);
        return new DhtAnnounceResult { Lookup = result, AnnouncesSent = targets.Count, AnnouncesAccepted = accepted };
    }

    /// <summary>Parses <c>host:port</c> or <c>[v6]:port</c>, as given on the command line.</summary>
    public static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':')) return false; // a bare IPv6 address needs brackets
        return host.Length > 0 && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
    }

    // ---------------------------------------------------------------- packets in

    /// <summary>Handles one received datagram. Never throws on any input.</summary>
    internal void HandlePacket(ReadOnlyMemory<byte> packet, IPEndPoint from)
    {
        from = AddressClass.Normalize(from);
        List<(IPEndPoint EndPoint, NodeId Id, bool PingBack)>? pings = null;
        List<DhtNodeInfo>? forSibling = null;
        bool usable = AddressClass.IsUsable(from);
        // A blocked node is not answered, learnt from or added (libtorrent's DHT obeys its IP filter too).
        bool blocked = usable && _options.Blocklist?.Refuse(from.Address) == true;
        var parsed = usable && !blocked ? KrpcParser.Parse(packet, _options.MaxPacketSize) : default;
        // The other family's nodes a query wants (BEP 32) come from the sibling's table, read before our lock is taken
        // so the two nodes never wait on each other's lock.
        var sibling = Sibling;
        byte[]? siblingNodes = sibling is not null && parsed.Message is KrpcQuery { Method: KrpcMethod.FindNode or KrpcMethod.GetPeers } wq
            && wq.Want.HasFlag(OtherFamilyWant(sibling)) ? sibling.ClosestCompactForSibling(wq.Target) : null;
        lock (_gate)
        {
            _counters.PacketsReceived++;
            if (!usable)
            {
                _counters.Drop(DhtDropReason.InvalidField);
                return;
            }
            if (blocked)
            {
                _counters.Drop(DhtDropReason.Blocked);
                return;
            }
            switch (parsed.Message)
            {
                case null:
                    _counters.Drop(parsed.Reason);
                    if (parsed.QueryTransactionId is { } tid && _responseLimiter.TryAcquire(from))
                        SendError(tid, KrpcErrorCode.Protocol, "invalid arguments", from);
                    break;
                case KrpcQuery q:
                    HandleQuery(q, from, siblingNodes, ref pings);
                    break;
                default:
                    HandleReply(parsed.Message, from, ref pings, sibling is not null, ref forSibling);
                    break;
            }
        }
        if (forSibling is not null)
            foreach (var n in forSibling) sibling!.AddNode(n.EndPoint, n.Id);
        if (pings is null) return;
        foreach (var (endPoint, id, pingBack) in pings) StartPing(endPoint, id, pingBack);
    }

    private static KrpcWant OtherFamilyWant(DhtEngine sibling) =>
        sibling._options.BindAddress.AddressFamily == AddressFamily.InterNetworkV6 ? KrpcWant.N6 : KrpcWant.N4;

    private KrpcWant OwnWant => _family == AddressFamily.InterNetworkV6 ? KrpcWant.N6 : KrpcWant.N4;

    private void HandleQuery(KrpcQuery q, IPEndPoint from, byte[]? siblingNodes, ref List<(IPEndPoint, NodeId, bool)>? pings)
    {
        _counters.QueriesReceived++;
        if (q.SenderId == _self)
        {
            _counters.Drop(DhtDropReason.OwnId);
            return;
        }
        // The total answer budget is checked first too, so a flood from many addresses costs us no work beyond
        // parsing once the budget is spent (an answer is never smaller than a ping's).
        if (!_responseLimiter.TryAcquire(from) || _responseBytes.TimeUntil(MinAnswerBytes) > TimeSpan.Zero)
        {
            _counters.Drop(DhtDropReason.RateLimited);
            return;
        }
        bool verified = SecureNodeId.IsValid(q.SenderId, from.Address);
        if (!verified && _options.NodeIdVerification == NodeIdVerification.Enforce)
        {
            _counters.Drop(DhtDropReason.InvalidNodeId);
            SendError(q.TransactionId, KrpcErrorCode.Protocol, "invalid node ID", from);
            return;
        }

        if (!q.ReadOnly && _table.MarkQueried(q.SenderId, from) is null && _table.HasRoomFor(q.SenderId)
            && _pingBacks.Count < MaxPingBacks && _pingBacks.Add(from))
        {
            // A stranger with room for it in our table: ping it, and add it if it answers from where it queried us.
            // Only answering nodes join, so a forged source address never enters the table.
            (pings ??= []).Add((from, q.SenderId, true));
        }

        switch (q.Method)
        {
            case KrpcMethod.Ping:
                SendResponse(q, from, null, null, null, null);
                break;
            case KrpcMethod.FindNode:
                SendNodes(q, from, siblingNodes, null);
                break;
            case KrpcMethod.GetPeers:
            {
                var token = _tokens.Create(from.Address);
                var peers = _store.Get(q.Target, _options.MaxPeersPerResponse);
                peers.RemoveAll(p => p.AddressFamily != _family);
                // BEP 5: peers when we have them, otherwise the closest nodes.
                if (peers.Count > 0) SendResponse(q, from, null, null, token, peers);
                else SendNodes(q, from, siblingNodes, token);
                break;
            }
            case KrpcMethod.AnnouncePeer:
                if (q.Token is null || !_tokens.Validate(q.Token, from.Address))
                {
                    SendError(q.TransactionId, KrpcErrorCode.Protocol, "invalid token", from);
                    break;
                }
                _store.Add(q.Target, new IPEndPoint(from.Address, q.ImpliedPort ? from.Port : q.Port));
                SendResponse(q, from, null, null, null, null);
                break;
            default:
                SendError(q.TransactionId, KrpcErrorCode.MethodUnknown, "method unknown", from);
                break;
        }
    }

    /// <summary>
    /// Answers find_node or get_peers with nodes (BEP 32): without <c>want</c>, ours (the family the query came over);
    /// with it, the families it names, the other one from the sibling's table (<paramref name="siblingNodes"/>, read
    /// before the lock). A <c>want</c> naming only a family we cannot give still gets ours, so every answer helps.
    /// </summary>
    private void SendNodes(KrpcQuery q, IPEndPoint from, byte[]? siblingNodes, byte[]? token)
    {
        bool own = q.Want == KrpcWant.None || q.Want.HasFlag(OwnWant) || siblingNodes is null;
        SendResponse(q, from, own ? ClosestCompact(q.Target) : null, siblingNodes, token, null);
    }

    private void HandleReply(KrpcMessage message, IPEndPoint from, ref List<(IPEndPoint, NodeId, bool)>? pings,
        bool hasSibling, ref List<DhtNodeInfo>? forSibling)
    {
        if (message.TransactionId.Length != 2 ||
            !_pending.TryGetValue(BinaryPrimitives.ReadUInt16BigEndian(message.TransactionId), out var p))
        {
            _counters.Drop(DhtDropReason.UnknownTransaction);
            return;
        }
        if (!p.To.Equals(from))
        {
            // Someone else answering for the node we asked: a spoofer, or a node that lies about where it is.
            _counters.Drop(DhtDropReason.WrongSource);
            return;
        }
        _pending.Remove(p.Key);

        if (message is KrpcError error)
        {
            _counters.ResponsesReceived++;
            p.Completion.TrySetResult(new QueryOutcome(QueryStatus.Error, Error: error));
            return;
        }
        var r = (KrpcResponse)message;
        if (r.SenderId == _self)
        {
            _counters.Drop(DhtDropReason.OwnId);
            p.Completion.TrySetResult(QueryOutcome.Refused);
            return;
        }
        if (p.ExpectedId is { } expected && expected != r.SenderId)
        {
            // The node at this address is not the node we were told of: no routing table entry for either.
            _counters.Drop(DhtDropReason.InvalidNodeId);
            _table.MarkFailed(expected, from);
            p.Completion.TrySetResult(QueryOutcome.Refused);
            return;
        }
        bool verified = SecureNodeId.IsValid(r.SenderId, from.Address);
        if (!verified && _options.NodeIdVerification == NodeIdVerification.Enforce)
        {
            _counters.Drop(DhtDropReason.InvalidNodeId);
            p.Completion.TrySetResult(QueryOutcome.Refused);
            return;
        }
        _counters.ResponsesReceived++;
        if (_table.Add(r.SenderId, from, verified) == AddOutcome.Cached)
        {
            // Bucket full: check on its questionable nodes; the dead ones make room for this one.
            foreach (var n in _table.NodesToPing(r.SenderId, 2)) (pings ??= []).Add((n.EndPoint, n.Id, false));
        }
        if (r.ExternalAddress is { } external && external.AddressFamily == _family) VoteExternalAddress(from, external.Address);
        if (hasSibling)
        {
            // The other family's nodes (answers to our want, or volunteered) go to the sibling, which pings a few:
            // only those that answer it join its table, and its ping-backs in flight are bounded.
            var other = _family == AddressFamily.InterNetworkV6 ? r.Nodes : r.Nodes6;
            for (int i = 0; i < other.Count && i < MaxNodesForSibling; i++) (forSibling ??= []).Add(other[i]);
        }
        p.Completion.TrySetResult(new QueryOutcome(QueryStatus.Answered, r));
    }

    private void VoteExternalAddress(IPEndPoint voter, IPAddress address)
    {
        if (!_voter.Vote(voter, address)) return;
        var current = _voter.Current!;
        _log.LogInformation("DHT: our external address is {Address}", current);
        if (!_options.UseSecureNodeId || _options.NodeId is not null || SecureNodeId.IsValid(_self, current)) return;
        // BEP 42: secure nodes ignore us while our ID does not fit our address. Take a fitting one and rebuild
        // the table around it (bucket boundaries depend on our ID).
        var old = _table;
        _self = SecureNodeId.Generate(current);
        _table = NewTable(_self);
        foreach (var n in old.AllNodes) _table.Adopt(n);
        _log.LogInformation("DHT: new node ID {Id} for external address {Address} (BEP 42)", _self, current);
    }

    // ---------------------------------------------------------------- packets out

    private byte[] ClosestCompact(NodeId target) =>
        Compact.NodesToArray(_table.Closest(target, _options.BucketSize).Select(n => n.ToInfo()), _family);

    /// <param name="q">The query answered.</param>
    /// <param name="to">Its sender.</param>
    /// <param name="nodes">Nodes of our family, compact.</param>
    /// <param name="otherNodes">Nodes of the other family (from the sibling), compact.</param>
    /// <param name="token">get_peers' token.</param>
    /// <param name="values">get_peers' peers.</param>
    private void SendResponse(KrpcQuery q, IPEndPoint to, byte[]? nodes, byte[]? otherNodes, byte[]? token, IReadOnlyList<IPEndPoint>? values)
    {
        _sendBuffer.ResetWrittenCount();
        bool v6 = _family == AddressFamily.InterNetworkV6;
        KrpcWriter.Response(_sendBuffer, q.TransactionId, _self, to, v6 ? otherNodes : nodes, v6 ? nodes : otherNodes, token, values);
        SendAnswer(to);
    }

    private void SendError(byte[] tid, int code, string message, IPEndPoint to)
    {
        _sendBuffer.ResetWrittenCount();
        KrpcWriter.Error(_sendBuffer, tid, code, message, to);
        SendAnswer(to);
    }

    /// <summary>Sends the answer in the send buffer if the total answer budget allows (the anti-amplification cap).</summary>
    private void SendAnswer(IPEndPoint to)
    {
        if (_transport is null) return;
        if (!_responseBytes.TryTake(_sendBuffer.WrittenCount))
        {
            _counters.Drop(DhtDropReason.RateLimited);
            return;
        }
        if (_transport.TrySend(_sendBuffer.WrittenSpan, to))
        {
            _counters.PacketsSent++;
            _counters.QueriesAnswered++;
        }
    }

    /// <summary>
    /// Sends a query and waits for its outcome: an answer, an error, a timeout (<see cref="DhtOptions.QueryTimeout"/>),
    /// or a refusal. Waits for a free transaction slot and for the outgoing query budget first. A timeout counts as
    /// a failure of the node in the routing table when <paramref name="expectedId"/> names it.
    /// </summary>
    internal async Task<QueryOutcome> QueryAsync(IPEndPoint to, NodeId? expectedId, OutgoingQuery query, CancellationToken cancellationToken)
    {
        to = AddressClass.Normalize(to);
        if (to.AddressFamily != _family) return QueryOutcome.NotSent;
        if (_options.Blocklist?.Refuse(to.Address) == true) return QueryOutcome.NotSent;
        // BEP 32: a find_node asks for both families while the other family's table is nearly empty (as Transmission's
        // DHT does), so the IPv6 DHT can bootstrap from IPv4 nodes and the other way round. Read before our lock.
        var want = query.Want;
        if (want == KrpcWant.None && query.Method == KrpcMethod.FindNode && Sibling is { WantsNodes: true })
            want = KrpcWant.N4 | KrpcWant.N6;
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        PendingQuery? pending = null;
        try
        {
            await WaitForQueryBudgetAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                if (_transport is null || Volatile.Read(ref _lifecycle) != 1) return QueryOutcome.NotSent;
                pending = new PendingQuery(AllocateTransaction(), to, expectedId, query.Method);
                Span<byte> tid = stackalloc byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(tid, pending.Key);
                _sendBuffer.ResetWrittenCount();
                switch (query.Method)
                {
                    case KrpcMethod.Ping: KrpcWriter.Ping(_sendBuffer, tid, _self); break;
                    case KrpcMethod.FindNode: KrpcWriter.FindNode(_sendBuffer, tid, _self, query.Target, want); break;
                    case KrpcMethod.GetPeers: KrpcWriter.GetPeers(_sendBuffer, tid, _self, query.Target, want); break;
                    case KrpcMethod.AnnouncePeer:
                        KrpcWriter.AnnouncePeer(_sendBuffer, tid, _self, query.Target, query.Port, query.ImpliedPort, query.Token);
                        break;
                    default: throw new ArgumentException($"Cannot send a {query.Method} query.", nameof(query));
                }
                if (!_transport.TrySend(_sendBuffer.WrittenSpan, to)) return QueryOutcome.NotSent;
                _pending[pending.Key] = pending;
                _counters.QueriesSent++;
                _counters.PacketsSent++;
            }
            try
            {
                return await pending.Completion.Task.WaitAsync(_options.QueryTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                lock (_gate)
                {
                    if (_pending.Remove(pending.Key, out var p) && ReferenceEquals(p, pending))
                    {
                        _counters.QueryTimeouts++;
                        if (expectedId is { } id) _table.MarkFailed(id, to);
                    }
                    else if (p is not null)
                    {
                        _pending[p.Key] = p; // the key was reused by a newer query: not ours to remove
                    }
                }
                return pending.Completion.Task.IsCompletedSuccessfully ? pending.Completion.Task.Result : QueryOutcome.TimedOut;
            }
        }
        catch (OperationCanceledException)
        {
            if (pending is not null)
            {
                lock (_gate)
                {
                    if (_pending.TryGetValue(pending.Key, out var p) && ReferenceEquals(p, pending)) _pending.Remove(pending.Key);
                }
            }
            throw;
        }
        finally
        {
            _slots.Release();
        }
    }

    Task<QueryOutcome> ILookupNetwork.QueryAsync(IPEndPoint to, NodeId? expectedId, OutgoingQuery query, CancellationToken cancellationToken) =>
        QueryAsync(to, expectedId, query, cancellationToken);

    bool ILookupNetwork.IsAcceptableContact(DhtNodeInfo node)
    {
        if (AddressClass.Normalize(node.EndPoint.Address).AddressFamily != _family) return false;
        if (_options.Blocklist?.Refuse(node.EndPoint.Address) == true) return false;
        lock (_gate)
        {
            if (node.Id == _self) return false;
            if (_transport is { } t && node.EndPoint.Port == t.LocalEndPoint.Port && IsOwnAddress(node.EndPoint.Address)) return false;
        }
        return _options.NodeIdVerification != NodeIdVerification.Enforce || SecureNodeId.IsValid(node.Id, node.EndPoint.Address);
    }

    private bool IsOwnAddress(IPAddress address)
    {
        address = AddressClass.Normalize(address);
        var bound = _transport!.LocalEndPoint.Address;
        return address.Equals(bound) || address.Equals(_voter.Current)
            || ((bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any)) && IPAddress.IsLoopback(address));
    }

    private async Task WaitForQueryBudgetAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                wait = _queryRate.TimeUntil();
                if (wait == TimeSpan.Zero && _queryRate.TryTake()) return;
            }
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private ushort AllocateTransaction()
    {
        // Sequential from a random start: unpredictable enough together with the source check, and a key is not
        // reused while its query is open (there are far fewer open queries than keys).
        while (_pending.ContainsKey(_nextTid)) _nextTid++;
        return _nextTid++;
    }

    // ---------------------------------------------------------------- lookups

    private DhtLookup NewLookup(NodeId target, bool getPeers, Action<IReadOnlyList<IPEndPoint>>? onPeers) =>
        new(this, target, getPeers, _options.BucketSize, _options.Alpha, _options.MaxQueriesPerLookup, _options.QuerySlowAfter,
            _options.LookupTimeout, _time, _options.RestrictIps, onPeers is null || _options.Blocklist is null ? onPeers : WithoutBlocked(onPeers));

    /// <summary>Peers a lookup found, less those the blocklist blocks (each counted as a refused attempt).</summary>
    private Action<IReadOnlyList<IPEndPoint>> WithoutBlocked(Action<IReadOnlyList<IPEndPoint>> onPeers) => peers =>
    {
        var blocklist = _options.Blocklist!;
        List<IPEndPoint>? allowed = null;
        for (int i = 0; i < peers.Count; i++)
        {
            if (!blocklist.Refuse(peers[i].Address))
            {
                allowed?.Add(peers[i]);
                continue;
            }
            allowed ??= [.. peers.Take(i)];
        }
        var left = allowed ?? peers;
        if (left.Count > 0) onPeers(left);
    };

    private Task<DhtLookupResult> LookupAsync(NodeId target, bool getPeers, Action<IReadOnlyList<IPEndPoint>>? onPeers,
        IReadOnlyList<IPEndPoint>? bootstrap, CancellationToken cancellationToken) =>
        RunLookupAsync(NewLookup(target, getPeers, onPeers), target, bootstrap, cancellationToken);

    private async Task<DhtLookupResult> RunLookupAsync(DhtLookup lookup, NodeId target, IReadOnlyList<IPEndPoint>? bootstrap,
        CancellationToken cancellationToken)
    {
        await _lookupSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunLookupInSlotAsync(lookup, target, bootstrap, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lookupSlots.Release();
        }
    }

    private async Task<DhtLookupResult> RunLookupInSlotAsync(DhtLookup lookup, NodeId target, IReadOnlyList<IPEndPoint>? bootstrap,
        CancellationToken cancellationToken)
    {
        bool needContacts;
        List<IPEndPoint>? ownPeers = null;
        lock (_gate)
        {
            // We are a DHT node too: peers announced to us count (a lookup never asks itself).
            if (lookup.IsGetPeers) ownPeers = _store.Get(target, DhtLookup.MaxPeers);
            foreach (var n in _table.Closest(target, _options.BucketSize * 2)) lookup.AddKnown(n.ToInfo());
            needContacts = _table.CountLive() < _options.BucketSize;
            if (needContacts || bootstrap is not null)
                foreach (var n in _savedContacts) lookup.AddSaved(n);
        }
        if (bootstrap is null && needContacts)
            bootstrap = await ResolveBootstrapNodesAsync(cancellationToken).ConfigureAwait(false);
        if (bootstrap is not null)
            foreach (var ep in bootstrap) lookup.AddEndPoint(ep);
        if (ownPeers is { Count: > 0 }) lookup.ReportPeers(ownPeers);
        return await lookup.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<IPEndPoint>> ResolveBootstrapNodesAsync(CancellationToken cancellationToken)
    {
        var result = new List<IPEndPoint>();
        foreach (var text in _options.BootstrapNodes)
        {
            if (!TryParseHostPort(text, out var host, out int port))
            {
                _log.LogWarning("DHT bootstrap node '{Node}' is not HOST:PORT; ignored", text);
                continue;
            }
            if (IPAddress.TryParse(host, out var literal))
            {
                result.Add(new IPEndPoint(literal, port));
                continue;
            }
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                var addresses = await Dns.GetHostAddressesAsync(host, _family, timeout.Token).ConfigureAwait(false);
                result.AddRange(addresses.Select(a => new IPEndPoint(a, port)));
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                _log.LogWarning("Cannot resolve DHT bootstrap node {Host}: {Message}", host, ex.Message);
            }
        }
        return result.Select(AddressClass.Normalize).Where(e => e.AddressFamily == _family).Distinct().ToList();
    }

    // ---------------------------------------------------------------- background work

    private async Task ReceiveLoopAsync(IDhtTransport transport, CancellationToken cancellationToken)
    {
        var buffer = new byte[65536];
        while (!cancellationToken.IsCancellationRequested)
        {
            DhtDatagram datagram;
            try
            {
                datagram = await transport.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // ICMP errors for earlier sends surface here on some systems; the socket is fine.
                _log.LogDebug("DHT receive: {Message}", ex.Message);
                continue;
            }
            try
            {
                HandlePacket(buffer.AsMemory(0, datagram.Length), datagram.From);
            }
            catch (Exception ex)
            {
                // HandlePacket is written not to throw; if it ever does, one packet is lost, not the node.
                _log.LogError(ex, "DHT packet from {From} failed", datagram.From);
            }
        }
    }

    private int _maintenanceRuns;

    /// <summary>Upkeep rounds done (tests wait on it before asserting that a round sent nothing).</summary>
    internal int MaintenanceRuns => Volatile.Read(ref _maintenanceRuns);

    private async Task MaintenanceLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.MaintenanceInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Maintain();
                }
                catch (Exception ex)
                {
                    _log.LogError(ex, "DHT upkeep failed");
                }
                Interlocked.Increment(ref _maintenanceRuns);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Maintain()
    {
        var now = _time.GetUtcNow();
        (IPEndPoint, NodeId)? ping = null;
        NodeId? refresh = null;
        bool save = false;
        lock (_gate)
        {
            if (_lifecycle != 1) return;
            if (_table.CountLive() < _options.BucketSize && now - _lastBootstrap >= BootstrapRetryInterval) StartBootstrap();
            if (_refresh is null or { IsCompleted: true } && _table.StaleBuckets(_options.BucketRefreshInterval) is [var stale, ..])
            {
                _table.MarkRefreshed(stale);
                refresh = _table.RandomIdInBucket(stale);
            }
            if (_table.NextQuestionableToPing() is { } q) ping = (q.EndPoint, q.Id);
            if (now - _lastExpiry >= PeerExpiryInterval)
            {
                _store.RemoveExpired();
                _lastExpiry = now;
            }
            save = _options.StateFilePath is not null && now - _lastSave >= _options.StateSaveInterval;
            if (save) _lastSave = now;
        }
        if (refresh is { } target) _refresh = Track(Task.Run(() => RefreshAsync(target)));
        if (ping is var (ep, id)) StartPing(ep, id, fromPingBack: false);
        if (save) Track(SaveStateAsync(_runToken));
    }

    /// <summary>A find_node lookup for a random ID in a bucket nothing happened in for a while (BEP 5 refresh).</summary>
    private async Task RefreshAsync(NodeId target)
    {
        try
        {
            await LookupAsync(target, getPeers: false, null, null, _runToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Whether the bootstrap lookup started by <see cref="StartAsync"/> (or a retry) is still running.</summary>
    internal bool BootstrapRunning
    {
        get { lock (_gate) return _bootstrap is { IsCompleted: false }; }
    }

    /// <summary>Starts a bootstrap lookup unless one is running. Called under the lock.</summary>
    private void StartBootstrap()
    {
        if (_bootstrap is { IsCompleted: false } || _run is null) return;
        _lastBootstrap = _time.GetUtcNow();
        var token = _runToken;
        _bootstrap = Track(Task.Run(async () =>
        {
            try
            {
                var result = await BootstrapAsync(token).ConfigureAwait(false);
                _log.LogInformation("DHT bootstrap: {Responded} of {Queried} nodes answered; {Nodes} nodes in the table",
                    result.NodesResponded, result.NodesQueried, NodeCount);
            }
            catch (OperationCanceledException)
            {
            }
            catch (InvalidOperationException)
            {
                // stopped meanwhile
            }
        }, CancellationToken.None));
    }

    private void StartPing(IPEndPoint endPoint, NodeId? expectedId, bool fromPingBack)
    {
        var token = _runToken;
        Track(PingAsync());

        async Task PingAsync()
        {
            try
            {
                await QueryAsync(endPoint, expectedId, OutgoingQuery.Ping(), token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                if (fromPingBack)
                {
                    lock (_gate) _pingBacks.Remove(endPoint);
                }
            }
        }
    }

    private Task Track(Task task)
    {
        lock (_gate)
        {
            if (task.IsCompleted) return task;
            _background.Add(task);
        }
        task.ContinueWith(t =>
        {
            lock (_gate) _background.Remove(t);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    // ---------------------------------------------------------------- state

    private async Task LoadStateAsync(CancellationToken cancellationToken)
    {
        if (_options.StateFilePath is not { } path) return;
        DhtState? state;
        try
        {
            state = await DhtStateFile.LoadAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("Ignoring the DHT state in {Path}: {Message}", path, ex.Message);
            return;
        }
        if (state is null) return;
        lock (_gate)
        {
            _savedContacts = state.Nodes.Where(n => AddressClass.Normalize(n.EndPoint.Address).AddressFamily == _family).ToList();
            // Keep the saved ID (peers remember where to find us) unless it was fixed, or does not fit our address.
            var external = _voter.Current ?? state.ExternalAddress;
            if (_options.NodeId is null && (external is null || !_options.UseSecureNodeId || SecureNodeId.IsValid(state.NodeId, external)))
            {
                _self = state.NodeId;
                _table = NewTable(_self);
            }
        }
        _log.LogInformation("DHT state loaded from {Path}: {Count} saved nodes", path, state.Nodes.Count);
    }

    private NodeId InitialId(IPAddress? external) =>
        external is not null && _options.UseSecureNodeId && !AddressClass.IsLocal(external)
            ? SecureNodeId.Generate(external)
            : NodeId.Random();

    private RoutingTable NewTable(NodeId self) =>
        new(self, _time, _options.BucketSize, _options.MaxBuckets, _options.RestrictIps,
            preferVerified: _options.NodeIdVerification != NodeIdVerification.Off);

    private void EnsureRunning()
    {
        if (!IsRunning) throw new InvalidOperationException("The DHT node is not running; call StartAsync first.");
    }

    // ---------------------------------------------------------------- test hooks

    /// <summary>Sizes of every bounded structure, for tests that check a flood grows nothing.</summary>
    internal (int TableNodes, int Replacements, int Pending, int RateLimited, int StoredHashes, int StoredPeers, int PingBacks, int Background) GetSizes()
    {
        lock (_gate)
            return (_table.Count, _table.ReplacementCount, _pending.Count, _responseLimiter.Count, _store.InfoHashCount,
                _store.PeerCount, _pingBacks.Count, _background.Count);
    }

    internal RoutingTable Table
    {
        get { lock (_gate) return _table; }
    }
}
