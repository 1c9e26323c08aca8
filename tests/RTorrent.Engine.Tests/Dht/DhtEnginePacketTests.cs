using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using RTorrent.Engine.Dht;

namespace RTorrent.Engine.Tests.Dht;

/// <summary>The engine's answers and defences, with packets fed straight in and what it sends recorded.</summary>
public sealed class DhtEnginePacketTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingTransport _transport = new(DhtTestData.Ep("127.0.0.1:6881"));
    private DhtEngine _engine = null!;
    private static readonly NodeId Self = NodeId.FromHex("00112233445566778899aabbccddeeff00112233");

    private DhtOptions Options { get; set; } = new() { NodeId = Self };

    public async Task InitializeAsync() => await StartAsync(Options);

    private async Task StartAsync(DhtOptions options)
    {
        if (_engine is not null) await _engine.DisposeAsync();
        _transport.Sent.Clear();
        _engine = new DhtEngine(options, () => _transport, null, _time);
        await _engine.StartAsync();
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private static byte[] Build(Action<ArrayBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        return w.WrittenSpan.ToArray();
    }

    private static byte[] Ping(NodeId id, string tid = "pp") => Build(w => KrpcWriter.Ping(w, System.Text.Encoding.ASCII.GetBytes(tid), id));
    private static byte[] FindNode(NodeId id, NodeId target) => Build(w => KrpcWriter.FindNode(w, "fn"u8, id, target));
    private static byte[] GetPeers(NodeId id, NodeId hash) => Build(w => KrpcWriter.GetPeers(w, "gp"u8, id, hash));
    private static byte[] Announce(NodeId id, NodeId hash, int port, byte[] token, bool implied = false) =>
        Build(w => KrpcWriter.AnnouncePeer(w, "ap"u8, id, hash, port, implied, token));

    /// <summary>Feeds a packet and returns what the engine sent back to that source.</summary>
    private List<KrpcMessage> Exchange(byte[] packet, IPEndPoint from)
    {
        int before;
        lock (_transport.Sent) before = _transport.Sent.Count;
        _engine.HandlePacket(packet, from);
        lock (_transport.Sent)
            return _transport.Sent.Skip(before).Where(s => s.To.Equals(from)).Select(s => KrpcParser.Parse(s.Data, 65507).Message!)
                .Where(m => m is not KrpcQuery).ToList(); // our own ping-backs are not answers
    }

    private KrpcResponse Ask(byte[] packet, IPEndPoint from) => Assert.IsType<KrpcResponse>(Assert.Single(Exchange(packet, from)));

    [Fact]
    public void Ping_is_answered_with_our_id_and_the_requesters_address()
    {
        var from = DhtTestData.Ep("127.0.0.1:40000");
        var reply = Ask(Ping(NodeId.Random(), "xy"), from);
        Assert.Equal(Self, reply.SenderId);
        Assert.Equal("xy"u8.ToArray(), reply.TransactionId);
        Assert.Equal(from, reply.ExternalAddress);
        Assert.Equal(1, _engine.GetStatistics().QueriesAnswered);
    }

    [Fact]
    public void Find_node_answers_with_the_closest_nodes_we_know()
    {
        foreach (var i in Enumerable.Range(0, 20)) _engine.Table.Add(NodeId.Random(), new IPEndPoint(IPAddress.Loopback, 20000 + i), true);
        var target = NodeId.Random();
        var reply = Ask(FindNode(NodeId.Random(), target), DhtTestData.Ep("127.0.0.1:40001"));
        Assert.Equal(8, reply.Nodes.Count);
        var expected = _engine.Table.AllNodes.Select(n => n.Id).OrderBy(id => id ^ target).Take(8);
        Assert.Equal(expected, reply.Nodes.Select(n => n.Id));
    }

    [Fact]
    public void Get_peers_gives_a_token_that_lets_the_same_ip_announce()
    {
        var hash = NodeId.Random();
        var announcer = DhtTestData.Ep("127.0.0.1:40002");
        var first = Ask(GetPeers(NodeId.Random(), hash), announcer);
        Assert.NotNull(first.Token);
        Assert.Empty(first.Values);

        var ok = Exchange(Announce(NodeId.Random(), hash, 51413, first.Token!), announcer);
        Assert.IsType<KrpcResponse>(Assert.Single(ok));
        var implied = DhtTestData.Ep("127.0.0.1:40003");
        var token2 = Ask(GetPeers(NodeId.Random(), hash), implied).Token!;
        Assert.IsType<KrpcResponse>(Assert.Single(Exchange(Announce(NodeId.Random(), hash, 1, token2, implied: true), implied)));

        var seeker = Ask(GetPeers(NodeId.Random(), hash), DhtTestData.Ep("127.0.0.1:40009"));
        Assert.Equal(
            new[] { DhtTestData.Ep("127.0.0.1:51413"), DhtTestData.Ep("127.0.0.1:40003") }.OrderBy(e => e.Port),
            seeker.Values.OrderBy(e => e.Port));
        Assert.Empty(seeker.Nodes); // BEP 5: values, or nodes when there are none
    }

    [Fact]
    public void Announce_with_a_bad_or_foreign_token_is_refused()
    {
        var hash = NodeId.Random();
        var a = DhtTestData.Ep("198.51.100.1:1000");
        var b = DhtTestData.Ep("198.51.100.2:1000");
        var tokenForA = Ask(GetPeers(NodeId.Random(), hash), a).Token!;
        var wrong = Assert.IsType<KrpcError>(Assert.Single(Exchange(Announce(NodeId.Random(), hash, 6881, tokenForA), b)));
        Assert.Equal(203, wrong.Code);
        var forged = Assert.IsType<KrpcError>(Assert.Single(Exchange(Announce(NodeId.Random(), hash, 6881, [1, 2, 3]), a)));
        Assert.Equal(203, forged.Code);
        Assert.Equal(0, _engine.GetSizes().StoredPeers);
        _time.Advance(TimeSpan.FromMinutes(11)); // the token went stale
        Assert.IsType<KrpcError>(Assert.Single(Exchange(Announce(NodeId.Random(), hash, 6881, tokenForA), a)));
    }

    [Fact]
    public void Unknown_methods_and_bad_arguments_get_krpc_errors()
    {
        var from = DhtTestData.Ep("127.0.0.1:40004");
        var unknown = Assert.IsType<KrpcError>(Assert.Single(Exchange(
            "d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:aa1:y1:qe"u8.ToArray(), from)));
        Assert.Equal(204, unknown.Code);
        var bad = Assert.IsType<KrpcError>(Assert.Single(Exchange(
            "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:bb1:y1:qe"u8.ToArray(), from)));
        Assert.Equal(203, bad.Code);
        Assert.Equal("bb"u8.ToArray(), bad.TransactionId);
        Assert.Equal(1, _engine.GetStatistics().DroppedFor(DhtDropReason.MissingField));
    }

    [Fact]
    public void Garbage_is_counted_and_never_answered()
    {
        var from = DhtTestData.Ep("127.0.0.1:40005");
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            var junk = new byte[rng.Next(0, 200)];
            rng.NextBytes(junk);
            Assert.Empty(Exchange(junk, from));
        }
        Assert.Empty(Exchange("li1ee"u8.ToArray(), from));
        Assert.Empty(Exchange(new byte[5000], from));
        var stats = _engine.GetStatistics();
        Assert.Equal(2002, stats.DroppedTotal);
        Assert.Equal(1, stats.DroppedFor(DhtDropReason.Oversized));
    }

    [Fact]
    public void Answers_to_queries_we_never_sent_are_dropped()
    {
        var r = Build(w => KrpcWriter.Response(w, "zz"u8, NodeId.Random(), DhtTestData.Ep("1.2.3.4:5"),
            Compact.NodesToArray([new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("9.9.9.9:9"))], System.Net.Sockets.AddressFamily.InterNetwork), null, null, null));
        Assert.Empty(Exchange(r, DhtTestData.Ep("127.0.0.1:40006")));
        Assert.Equal(1, _engine.GetStatistics().DroppedFor(DhtDropReason.UnknownTransaction));
        Assert.Equal(0, _engine.Table.Count);
        Assert.Null(_engine.ExternalAddress);
    }

    /// <summary>Starts a query from the engine and returns its transaction ID once it is on the wire.</summary>
    private async Task<(Task<QueryOutcome> Query, byte[] Tid)> SendQueryAsync(IPEndPoint to, NodeId? expected)
    {
        int before;
        lock (_transport.Sent) before = _transport.Sent.Count;
        var query = _engine.QueryAsync(to, expected, OutgoingQuery.Ping(), CancellationToken.None);
        for (int i = 0; i < 500; i++)
        {
            lock (_transport.Sent)
            {
                var sent = _transport.Sent.Skip(before).FirstOrDefault(s => s.To.Equals(to));
                if (sent.Data is not null) return (query, KrpcParser.Parse(sent.Data, 65507).Message!.TransactionId);
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("the engine did not send the query");
    }

    private static byte[] Pong(byte[] tid, NodeId id, IPEndPoint? ip = null) =>
        Build(w => KrpcWriter.Response(w, tid, id, ip ?? DhtTestData.Ep("127.0.0.1:6881"), null, null, null, null));

    [Fact]
    public async Task A_node_that_answers_joins_the_table()
    {
        var node = DhtTestData.Ep("127.0.0.1:41000");
        var id = NodeId.Random();
        var (query, tid) = await SendQueryAsync(node, null);
        _engine.HandlePacket(Pong(tid, id), node);
        Assert.Equal(QueryStatus.Answered, (await query).Status);
        Assert.NotNull(_engine.Table.Find(id));
        Assert.Equal(1, _engine.NodeCount);
    }

    [Fact]
    public async Task An_answer_from_another_address_is_ignored()
    {
        var node = DhtTestData.Ep("127.0.0.1:41001");
        var id = NodeId.Random();
        var (query, tid) = await SendQueryAsync(node, null);
        _engine.HandlePacket(Pong(tid, id), DhtTestData.Ep("127.0.0.1:41002")); // other port
        _engine.HandlePacket(Pong(tid, id), DhtTestData.Ep("127.0.0.2:41001")); // other IP
        Assert.False(query.IsCompleted);
        Assert.Equal(2, _engine.GetStatistics().DroppedFor(DhtDropReason.WrongSource));
        Assert.Null(_engine.Table.Find(id));
        _engine.HandlePacket(Pong(tid, id), node); // the real answer still counts
        Assert.Equal(QueryStatus.Answered, (await query).Status);
        _engine.HandlePacket(Pong(tid, id), node); // a replay does not
        Assert.Equal(1, _engine.GetStatistics().DroppedFor(DhtDropReason.UnknownTransaction));
    }

    [Fact]
    public async Task A_node_answering_with_another_id_than_we_were_told_is_not_added()
    {
        var node = DhtTestData.Ep("127.0.0.1:41003");
        var told = NodeId.Random();
        var (query, tid) = await SendQueryAsync(node, told);
        var liar = NodeId.Random();
        _engine.HandlePacket(Pong(tid, liar), node);
        Assert.Equal(QueryStatus.Refused, (await query).Status);
        Assert.Null(_engine.Table.Find(liar));
        Assert.Null(_engine.Table.Find(told));
    }

    [Fact]
    public async Task Bep42_enforcement_refuses_ids_that_do_not_fit_public_addresses()
    {
        await StartAsync(Options with { NodeIdVerification = NodeIdVerification.Enforce });
        var publicNode = DhtTestData.Ep("198.51.100.7:6881");
        var ip = publicNode.Address;
        var bad = Exchange(Ping(NodeId.FromHex("ffffffffffffffffffffffffffffffffffffffff")), publicNode);
        Assert.Equal(203, Assert.IsType<KrpcError>(Assert.Single(bad)).Code);
        Assert.IsType<KrpcResponse>(Assert.Single(Exchange(Ping(SecureNodeId.Generate(ip)), publicNode)));
        Assert.IsType<KrpcResponse>(Assert.Single(Exchange(Ping(NodeId.Random()), DhtTestData.Ep("192.168.1.9:6881")))); // exempt

        var (query, tid) = await SendQueryAsync(publicNode, null);
        _engine.HandlePacket(Pong(tid, NodeId.FromHex("ffffffffffffffffffffffffffffffffffffffff")), publicNode);
        Assert.Equal(QueryStatus.Refused, (await query).Status);
        Assert.Equal(0, _engine.Table.Count);
    }

    [Fact]
    public async Task Our_id_becomes_bep42_secure_once_nodes_agree_on_our_address()
    {
        await StartAsync(new DhtOptions()); // no fixed ID
        var external = DhtTestData.Ep("203.0.113.50:6881");
        for (int i = 0; i < 3; i++)
        {
            var node = new IPEndPoint(new IPAddress([198, 51, 100, (byte)(10 + i)]), 6881);
            var (query, tid) = await SendQueryAsync(node, null);
            _engine.HandlePacket(Pong(tid, NodeId.Random(), external), node);
            await query;
        }
        Assert.Equal(external.Address, _engine.ExternalAddress);
        Assert.True(SecureNodeId.IsValid(_engine.NodeId, external.Address));
        Assert.False(SecureNodeId.IsExempt(external.Address));
        Assert.Equal(3, _engine.Table.Count); // the table was rebuilt around the new ID, nodes kept
    }

    [Fact]
    public void A_flood_from_many_sources_grows_nothing_and_is_not_amplified()
    {
        var hash = NodeId.Random();
        var rng = new Random(42);
        long queryBytes = 0;
        const int floodSize = 100_000;
        for (int i = 0; i < floodSize; i++)
        {
            var from = new IPEndPoint(new IPAddress([(byte)(1 + rng.Next(223)), (byte)rng.Next(256), (byte)rng.Next(256), (byte)(1 + rng.Next(254))]),
                1024 + rng.Next(60000));
            var id = NodeId.Random();
            byte[] packet = (i % 4) switch
            {
                0 => Ping(id),
                1 => FindNode(id, NodeId.Random()),
                2 => GetPeers(id, NodeId.Random()),
                _ => Announce(id, NodeId.Random(), 6881, [1, 2, 3, 4, 5, 6, 7, 8]),
            };
            queryBytes += packet.Length;
            _engine.HandlePacket(packet, from);
        }
        var sizes = _engine.GetSizes();
        var stats = _engine.GetStatistics();
        Assert.Equal(floodSize, stats.QueriesReceived);
        Assert.True(sizes.RateLimited <= Options.RateLimitedSources, $"rate limiter tracks {sizes.RateLimited}");
        Assert.True(sizes.PingBacks <= 16);
        Assert.True(sizes.Pending <= Options.MaxPendingQueries);
        Assert.Equal(0, sizes.StoredPeers); // forged tokens store nothing
        Assert.Equal(0, sizes.TableNodes); // nobody answered a ping: nobody joined
        // Time stands still here, so all we may send is one burst of the answer budget, and of our query budget
        // (the ping-backs to strangers, at most 16 at a time).
        List<(byte[] Data, IPEndPoint To)> sent;
        lock (_transport.Sent) sent = [.. _transport.Sent];
        var answers = sent.Where(p => KrpcParser.Parse(p.Data, 65507).Message is not KrpcQuery).ToList();
        int ourQueries = sent.Count - answers.Count;
        long answerBytes = answers.Sum(a => (long)a.Data.Length);
        Assert.True(answerBytes <= Options.MaxResponseBytesPerSecond, $"answered with {answerBytes} bytes");
        Assert.True(ourQueries <= 2 * Options.MaxQueriesPerSecond, $"sent {ourQueries} queries");
        Assert.True(_transport.SentBytes < queryBytes / 50, $"sent {_transport.SentBytes} bytes for {queryBytes}");
        Assert.True(stats.DroppedFor(DhtDropReason.RateLimited) > floodSize * 9 / 10);
    }

    [Fact]
    public void One_source_gets_its_burst_then_is_throttled_until_time_passes()
    {
        var from = DhtTestData.Ep("198.51.100.99:1000");
        int answered = 0;
        for (int i = 0; i < 1000; i++)
            answered += Exchange(Ping(NodeId.Random()), new IPEndPoint(from.Address, 1000 + i)).Count;
        Assert.Equal((int)Options.ResponseBurstPerSource, answered);
        _time.Advance(TimeSpan.FromSeconds(2));
        answered = 0;
        for (int i = 0; i < 100; i++) answered += Exchange(Ping(NodeId.Random()), from).Count;
        Assert.Equal((int)(2 * Options.ResponsesPerSecondPerSource), answered);
    }

    [Fact]
    public void Get_peers_answers_stay_small_with_many_stored_peers()
    {
        var hash = NodeId.Random();
        for (int i = 0; i < 400; i++)
        {
            var peer = new IPEndPoint(IPAddress.Loopback, 30000 + i);
            var token = Ask(GetPeers(NodeId.Random(), hash), peer).Token!;
            Exchange(Announce(NodeId.Random(), hash, 30000 + i, token), peer);
            _time.Advance(TimeSpan.FromMilliseconds(100)); // stay within the total answer budget
        }
        _transport.Sent.Clear();
        var query = GetPeers(NodeId.Random(), hash);
        var from = DhtTestData.Ep("127.0.0.1:50000");
        var reply = Ask(query, from);
        Assert.Equal(Options.MaxPeersPerResponse, reply.Values.Count);
        var size = _transport.Sent.Single().Data.Length;
        Assert.True(size < 1000, $"answer of {size} bytes"); // fits one unfragmented datagram
    }

    private List<(KrpcQuery Query, IPEndPoint To)> SentQueries()
    {
        lock (_transport.Sent)
            return _transport.Sent.Select(x => (KrpcParser.Parse(x.Data, 65507).Message as KrpcQuery, x.To))
                .Where(x => x.Item1 is not null).Select(x => (x.Item1!, x.To)).ToList();
    }

    [Fact]
    public async Task Quiet_buckets_are_refreshed_and_questionable_nodes_pinged()
    {
        await StartAsync(Options with { MaintenanceInterval = TimeSpan.FromMilliseconds(20) });
        // The start-up bootstrap runs on the thread pool; under load it could begin after the nodes below are in the
        // table and send them its own find_node. It is not what this test is about: let it end first.
        await DhtNetworkTests.WaitUntilAsync(() => !_engine.BootstrapRunning, "the start-up bootstrap to end");
        var nodes = Enumerable.Range(0, 12).Select(i => (Id: NodeId.Random(), Ep: new IPEndPoint(IPAddress.Loopback, 21000 + i))).ToList();
        foreach (var (id, ep) in nodes) _engine.Table.Add(id, ep, true);
        // Upkeep runs on the test's clock: three rounds, a few milliseconds of it, with every node fresh.
        for (int round = 1; round <= 3; round++)
        {
            int before = _engine.MaintenanceRuns;
            _time.Advance(TimeSpan.FromMilliseconds(20));
            await DhtNetworkTests.WaitUntilAsync(() => _engine.MaintenanceRuns > before, $"upkeep round {round}");
        }
        Assert.DoesNotContain(SentQueries(), q => q.Query.Method == KrpcMethod.FindNode); // all fresh: nothing to do

        _time.Advance(TimeSpan.FromMinutes(16)); // 15 minutes without a word from anyone
        await DhtNetworkTests.WaitUntilAsync(() => SentQueries().Any(q => q.Query.Method == KrpcMethod.FindNode), "a bucket refresh");
        await DhtNetworkTests.WaitUntilAsync(() => SentQueries().Any(q => q.Query.Method == KrpcMethod.Ping), "a ping to a questionable node");
        var refresh = SentQueries().First(q => q.Query.Method == KrpcMethod.FindNode);
        Assert.Contains(nodes, n => n.Ep.Equals(refresh.To));
        Assert.All(SentQueries().Where(q => q.Query.Method == KrpcMethod.Ping), p => Assert.Contains(nodes, n => n.Ep.Equals(p.To)));
    }

    [Fact]
    public async Task A_full_bucket_pings_its_questionable_nodes_when_a_newcomer_answers()
    {
        await StartAsync(Options with { MaxBuckets = 1 });
        var nodes = Enumerable.Range(0, 8).Select(i => (Id: NodeId.Random(), Ep: new IPEndPoint(IPAddress.Loopback, 22000 + i))).ToList();
        foreach (var (id, ep) in nodes) _engine.Table.Add(id, ep, true);
        _time.Advance(TimeSpan.FromMinutes(20));
        _transport.Sent.Clear();

        var newcomer = DhtTestData.Ep("127.0.0.1:22100");
        var (query, tid) = await SendQueryAsync(newcomer, null);
        _engine.HandlePacket(Pong(tid, NodeId.Random()), newcomer);
        await query;
        Assert.Equal(1, _engine.Table.ReplacementCount); // waits for a place
        var pings = SentQueries().Where(q => q.Query.Method == KrpcMethod.Ping && !q.To.Equals(newcomer)).ToList();
        Assert.Equal(2, pings.Count);
        Assert.All(pings, p => Assert.Contains(nodes, n => n.Ep.Equals(p.To)));
    }
}
