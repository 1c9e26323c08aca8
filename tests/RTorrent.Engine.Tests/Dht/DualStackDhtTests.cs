using System.Buffers;
using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Dht;
using RTorrent.Engine.Session;

namespace RTorrent.Engine.Tests.Dht;

/// <summary>
/// BEP 32: an IPv4 and an IPv6 node linked as one session's DHT. The codec of <c>want</c>, answers with <c>nodes</c> /
/// <c>nodes6</c> as asked, 18-byte peers, the <c>want</c> we send, the other family's nodes handed over, and a session
/// that runs both and saves each family's nodes.
/// </summary>
public sealed class DualStackDhtTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingTransport _t4 = new(DhtTestData.Ep("127.0.0.1:6881"));
    private readonly RecordingTransport _t6 = new(DhtTestData.Ep("[::1]:6881"));
    private DhtEngine _v4 = null!, _v6 = null!;

    public async Task InitializeAsync()
    {
        _v4 = new DhtEngine(new DhtOptions { BindAddress = IPAddress.Loopback }, () => _t4, null, _time);
        _v6 = new DhtEngine(new DhtOptions { BindAddress = IPAddress.IPv6Loopback }, () => _t6, null, _time);
        await _v4.StartAsync();
        await _v6.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _v4.DisposeAsync();
        await _v6.DisposeAsync();
    }

    private static byte[] Build(Action<ArrayBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        return w.WrittenSpan.ToArray();
    }

    private static KrpcResponse Ask(DhtEngine engine, RecordingTransport transport, byte[] packet, IPEndPoint from)
    {
        int before;
        lock (transport.Sent) before = transport.Sent.Count;
        engine.HandlePacket(packet, from);
        lock (transport.Sent)
        {
            var answers = transport.Sent.Skip(before).Where(s => s.To.Equals(from))
                .Select(s => KrpcParser.Parse(s.Data, 65507).Message).Where(m => m is not KrpcQuery).ToList();
            return Assert.IsType<KrpcResponse>(Assert.Single(answers));
        }
    }

    private void Fill(int v4Nodes, int v6Nodes)
    {
        for (int i = 0; i < v4Nodes; i++) _v4.Table.Add(NodeId.Random(), new IPEndPoint(IPAddress.Loopback, 20000 + i), true);
        for (int i = 0; i < v6Nodes; i++) _v6.Table.Add(NodeId.Random(), new IPEndPoint(IPAddress.IPv6Loopback, 30000 + i), true);
    }

    // ------------------------------------------------------------------ codec

    [Theory]
    [InlineData(0, "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:v4:RT\0\u00011:y1:qe")]
    [InlineData(2, "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n6ee1:q9:find_node1:t2:aa1:v4:RT\0\u00011:y1:qe")]
    [InlineData(3, "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node1:t2:aa1:v4:RT\0\u00011:y1:qe")]
    public void Find_node_writes_want_after_target_in_canonical_order_and_reads_it_back(int wantBits, string expected)
    {
        var want = (KrpcWant)wantBits;
        var self = new NodeId("abcdefghij0123456789"u8);
        var target = new NodeId("mnopqrstuvwxyz123456"u8);
        var packet = Build(w => KrpcWriter.FindNode(w, "aa"u8, self, target, want));
        Assert.Equal(expected, System.Text.Encoding.Latin1.GetString(packet));
        var q = Assert.IsType<KrpcQuery>(KrpcParser.Parse(packet, 4096).Message);
        Assert.Equal(want, q.Want);
        Assert.Equal(target, q.Target);
    }

    [Theory]
    [InlineData("l2:n62:n4e", 3)]
    [InlineData("l2:n6e", 2)]
    [InlineData("l2:n52:n42:N6i6ee", 1)] // unknown names and non-strings are skipped
    [InlineData("2:n6", 0)]             // not a list: as if absent (libtorrent ignores it too)
    [InlineData("le", 0)]
    public void Get_peers_want_is_read_leniently(string wantValue, int expectedBits)
    {
        var expected = (KrpcWant)expectedBits;
        string text = $"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:want{wantValue}e1:q9:get_peers1:t2:aa1:y1:qe";
        var q = Assert.IsType<KrpcQuery>(KrpcParser.Parse(System.Text.Encoding.Latin1.GetBytes(text), 4096).Message);
        Assert.Equal(KrpcMethod.GetPeers, q.Method);
        Assert.Equal(expected, q.Want);
    }

    // ------------------------------------------------------------------ answers

    [Fact]
    public void Without_want_each_node_answers_with_its_own_family_only()
    {
        DhtEngine.Link(_v4, _v6);
        Fill(12, 12);
        var r4 = Ask(_v4, _t4, Build(w => KrpcWriter.FindNode(w, "a1"u8, NodeId.Random(), NodeId.Random())), DhtTestData.Ep("127.0.0.1:40000"));
        Assert.Equal(8, r4.Nodes.Count);
        Assert.Empty(r4.Nodes6);
        var r6 = Ask(_v6, _t6, Build(w => KrpcWriter.FindNode(w, "a2"u8, NodeId.Random(), NodeId.Random())), DhtTestData.Ep("[::1]:40000"));
        Assert.Equal(8, r6.Nodes6.Count);
        Assert.Empty(r6.Nodes);
        Assert.All(r6.Nodes6, n => Assert.Equal(AddressFamily.InterNetworkV6, n.EndPoint.AddressFamily));
    }

    [Fact]
    public void Want_n4_n6_over_ipv4_gets_both_families_the_ipv6_ones_from_the_sibling_table()
    {
        DhtEngine.Link(_v4, _v6);
        Fill(12, 12);
        var target = NodeId.Random();
        var r = Ask(_v4, _t4, Build(w => KrpcWriter.FindNode(w, "b1"u8, NodeId.Random(), target, KrpcWant.N4 | KrpcWant.N6)),
            DhtTestData.Ep("127.0.0.1:40001"));
        Assert.Equal(8, r.Nodes.Count);
        Assert.Equal(_v6.Table.AllNodes.Select(n => n.Id).OrderBy(id => id ^ target).Take(8), r.Nodes6.Select(n => n.Id));

        // Only n6, asked of the IPv4 node: nodes6 alone.
        var only6 = Ask(_v4, _t4, Build(w => KrpcWriter.GetPeers(w, "b2"u8, NodeId.Random(), target, KrpcWant.N6)),
            DhtTestData.Ep("127.0.0.1:40002"));
        Assert.Empty(only6.Nodes);
        Assert.Equal(8, only6.Nodes6.Count);
        Assert.NotNull(only6.Token);

        // And the other way: n4 asked of the IPv6 node.
        var only4 = Ask(_v6, _t6, Build(w => KrpcWriter.FindNode(w, "b3"u8, NodeId.Random(), target, KrpcWant.N4)),
            DhtTestData.Ep("[::1]:40003"));
        Assert.Equal(8, only4.Nodes.Count);
        Assert.Empty(only4.Nodes6);
    }

    [Fact]
    public void A_node_without_a_sibling_answers_a_want_it_cannot_meet_with_its_own_family()
    {
        Fill(12, 0);
        var r = Ask(_v4, _t4, Build(w => KrpcWriter.FindNode(w, "c1"u8, NodeId.Random(), NodeId.Random(), KrpcWant.N6)),
            DhtTestData.Ep("127.0.0.1:40004"));
        Assert.Equal(8, r.Nodes.Count);
        Assert.Empty(r.Nodes6);
    }

    [Fact]
    public void The_ipv6_node_stores_and_returns_18_byte_peers()
    {
        var hash = NodeId.Random();
        var announcer = DhtTestData.Ep("[2001:db8::5]:40005");
        var first = Ask(_v6, _t6, Build(w => KrpcWriter.GetPeers(w, "d1"u8, NodeId.Random(), hash)), announcer);
        _v6.HandlePacket(Build(w => KrpcWriter.AnnouncePeer(w, "d2"u8, NodeId.Random(), hash, 51413, false, first.Token)), announcer);
        int before;
        lock (_t6.Sent) before = _t6.Sent.Count;
        var seeker = Ask(_v6, _t6, Build(w => KrpcWriter.GetPeers(w, "d3"u8, NodeId.Random(), hash)), DhtTestData.Ep("[::1]:40006"));
        Assert.Equal([DhtTestData.Ep("[2001:db8::5]:51413")], seeker.Values);
        // On the wire: one 18-byte string (16 address bytes and the port) in 'values'.
        byte[] raw;
        lock (_t6.Sent)
            raw = _t6.Sent.Skip(before).Single(s => s.To.Equals(DhtTestData.Ep("[::1]:40006")) && KrpcParser.Parse(s.Data, 65507).Message is KrpcResponse).Data;
        Assert.Contains("6:valuesl18:", System.Text.Encoding.Latin1.GetString(raw));
    }

    // ------------------------------------------------------------------ what we send

    private static KrpcQuery NextQuery(RecordingTransport transport, int after)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            lock (transport.Sent)
            {
                var q = transport.Sent.Skip(after).Select(s => KrpcParser.Parse(s.Data, 65507).Message).OfType<KrpcQuery>().FirstOrDefault();
                if (q is not null) return q;
            }
            if (cts.IsCancellationRequested) throw new TimeoutException("no query was sent");
            Thread.Sleep(10);
        }
    }

    [Fact]
    public async Task Find_node_asks_for_both_families_while_the_sibling_table_is_nearly_empty_and_get_peers_never()
    {
        Fill(1, 0);
        using var stop = new CancellationTokenSource();
        // Not linked: no want.
        var lookup = _v4.FindNodeAsync(NodeId.Random(), stop.Token);
        Assert.Equal(KrpcWant.None, NextQuery(_t4, 0).Want);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lookup);

        DhtEngine.Link(_v4, _v6);
        int sent;
        lock (_t4.Sent) sent = _t4.Sent.Count;
        using var stop2 = new CancellationTokenSource();
        var linked = _v4.FindNodeAsync(NodeId.Random(), stop2.Token);
        Assert.Equal(KrpcWant.N4 | KrpcWant.N6, NextQuery(_t4, sent).Want);
        await stop2.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => linked);

        // A get_peers lookup is about this family's peers: no want.
        lock (_t4.Sent) sent = _t4.Sent.Count;
        using var stop3 = new CancellationTokenSource();
        var peers = _v4.FindPeersAsync(new RTorrent.Engine.Metainfo.InfoHash(new byte[20]), _ => { }, stop3.Token);
        var gp = NextQuery(_t4, sent);
        Assert.Equal(KrpcMethod.GetPeers, gp.Method);
        Assert.Equal(KrpcWant.None, gp.Want);
        await stop3.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => peers);

        // Once the IPv6 table has k live nodes, find_node asks for IPv4 nodes only (implicitly).
        Fill(0, 8);
        lock (_t4.Sent) sent = _t4.Sent.Count;
        using var stop4 = new CancellationTokenSource();
        var full = _v4.FindNodeAsync(NodeId.Random(), stop4.Token);
        Assert.Equal(KrpcWant.None, NextQuery(_t4, sent).Want);
        await stop4.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => full);
    }

    [Fact]
    public async Task Ipv6_nodes_in_an_answer_to_the_ipv4_node_are_pinged_by_the_ipv6_node()
    {
        DhtEngine.Link(_v4, _v6);
        var responder = new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("127.0.0.1:20000"));
        _v4.Table.Add(responder.Id, responder.EndPoint, true);
        using var stop = new CancellationTokenSource();
        var lookup = _v4.FindNodeAsync(NodeId.Random(), stop.Token);
        var query = NextQuery(_t4, 0);

        var v6Node = new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("[::1]:30007"));
        var nodes6 = Compact.NodesToArray([v6Node], AddressFamily.InterNetworkV6);
        _v4.HandlePacket(Build(w => KrpcWriter.Response(w, query.TransactionId, responder.Id, DhtTestData.Ep("127.0.0.1:6881"),
            [], nodes6, null, null)), responder.EndPoint);

        // The IPv6 node pings it, expecting the ID it was listed under.
        var ping = NextQuery(_t6, 0);
        Assert.Equal(KrpcMethod.Ping, ping.Method);
        lock (_t6.Sent) Assert.Contains(_t6.Sent, s => s.To.Equals(v6Node.EndPoint));
        // It answers: it joins the IPv6 table, not the IPv4 one.
        _v6.HandlePacket(Build(w => KrpcWriter.Response(w, ping.TransactionId, v6Node.Id, DhtTestData.Ep("[::1]:6881"), null, null, null, null)),
            v6Node.EndPoint);
        Assert.NotNull(_v6.Table.Find(v6Node.Id));
        Assert.Null(_v4.Table.Find(v6Node.Id));
        await stop.CancelAsync();
        try { await lookup; } catch (OperationCanceledException) { } // it may have ended: its only node answered
    }

    [Fact]
    public void The_ipv6_node_takes_a_bep42_id_for_the_ipv6_address_three_nodes_report()
    {
        DhtEngine.Link(_v4, _v6);
        var external = IPAddress.Parse("2001:db8:77::77");
        Assert.False(SecureNodeId.IsValid(_v6.NodeId, external));
        for (int i = 1; i <= 3; i++)
        {
            var node = DhtTestData.Ep($"[2001:db8:{i}::1]:6881");
            _v6.AddNode(node);
            KrpcQuery? ping = null;
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (ping is null)
            {
                wait.Token.ThrowIfCancellationRequested();
                lock (_t6.Sent)
                    ping = _t6.Sent.Where(s => s.To.Equals(node)).Select(s => KrpcParser.Parse(s.Data, 65507).Message).OfType<KrpcQuery>().FirstOrDefault();
                if (ping is null) Thread.Sleep(10);
            }
            _v6.HandlePacket(Build(w => KrpcWriter.Response(w, ping.TransactionId, NodeId.Random(), new IPEndPoint(external, 6881), null, null, null, null)), node);
        }
        Assert.Equal(external, _v6.ExternalAddress);
        Assert.True(SecureNodeId.IsValid(_v6.NodeId, external));
        // The IPv4 node's address and ID are its own business.
        Assert.Null(_v4.ExternalAddress);
    }

    [Fact]
    public void Only_an_ipv4_and_an_ipv6_node_can_be_linked()
    {
        var other4 = new DhtEngine(new DhtOptions { BindAddress = IPAddress.Loopback });
        Assert.Throws<ArgumentException>(() => DhtEngine.Link(_v4, other4));
        Assert.Throws<ArgumentException>(() => DhtEngine.Link(_v4, _v4));
        DhtEngine.Link(_v4, _v6);
        Assert.Same(_v6, _v4.Sibling);
        Assert.Same(_v4, _v6.Sibling);
    }
}

/// <summary>A session runs both nodes on real sockets; the IPv6 one bootstraps over ::1 and saves its nodes in dht6.dat.</summary>
public sealed class DualStackSessionDhtTests
{
    [Fact]
    public async Task A_session_runs_linked_ipv4_and_ipv6_nodes_and_saves_each_familys_nodes_apart()
    {
        await using var v6Net = await LoopbackDht.StartAsync(3, (_, o) => o with { BindAddress = IPAddress.IPv6Loopback });
        var dir = Directory.CreateTempSubdirectory("rt-dual-dht-").FullName;
        try
        {
            await using (var session = await ClientSession.OpenAsync(new SessionOptions
            {
                SessionDirectory = dir,
                Engine = new RTorrent.Engine.Client.EngineConfig { ListenAddress = null, ListenPort = 0 },
                LoadPlugins = false,
                EnableDht = true,
                DhtUsePublicRouters = false,
                DhtBootstrap = [v6Net.Nodes[0].LocalEndPoint!.ToString()], // only an IPv6 node: the IPv4 node has none
            }))
            {
                Assert.NotNull(session.Dht6);
                Assert.Equal(AddressFamily.InterNetwork, session.Dht!.AddressFamily);
                Assert.Equal(AddressFamily.InterNetworkV6, session.Dht6!.AddressFamily);
                Assert.Same(session.Dht6, session.Dht.Sibling);
                Assert.Equal(session.Engine.ListenPort, session.Dht6.LocalEndPoint!.Port);
                await DhtNetworkTests.WaitUntilAsync(() => session.Dht6.NodeCount >= 2, "the IPv6 node learning the ::1 network");
                Assert.Equal(0, session.Dht.NodeCount);
            }
            var saved6 = DhtStateFile.Decode(await File.ReadAllBytesAsync(Path.Combine(dir, "dht6.dat")));
            Assert.NotEmpty(saved6.Nodes);
            Assert.All(saved6.Nodes, n => Assert.Equal(AddressFamily.InterNetworkV6, n.EndPoint.AddressFamily));
            var saved4 = DhtStateFile.Decode(await File.ReadAllBytesAsync(Path.Combine(dir, "dht.dat")));
            Assert.Empty(saved4.Nodes);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_ipv6_node_with_no_bootstrap_joins_the_ipv6_dht_through_its_ipv4_sibling()
    {
        // The IPv6 DHT: three nodes on ::1, and A6 in it. A4 is A6's sibling. B4 knows only A4; B6 knows nobody.
        await using var v6Net = await LoopbackDht.StartAsync(3, (_, o) => o with { BindAddress = IPAddress.IPv6Loopback });
        var opts = new DhtOptions { QueryTimeout = TimeSpan.FromSeconds(2) };
        await using var a6 = new DhtEngine(opts with { BindAddress = IPAddress.IPv6Loopback, BootstrapNodes = [v6Net.Nodes[0].LocalEndPoint!.ToString()] });
        await using var a4 = new DhtEngine(opts with { BindAddress = IPAddress.Loopback });
        DhtEngine.Link(a4, a6);
        await a4.StartAsync();
        await a6.StartAsync();
        await a6.BootstrapAsync();
        await DhtNetworkTests.WaitUntilAsync(() => a6.NodeCount >= 2, "A6 joining the ::1 DHT");

        await using var b4 = new DhtEngine(opts with { BindAddress = IPAddress.Loopback, BootstrapNodes = [a4.LocalEndPoint!.ToString()] });
        await using var b6 = new DhtEngine(opts with { BindAddress = IPAddress.IPv6Loopback });
        DhtEngine.Link(b4, b6);
        await b6.StartAsync();
        await b4.StartAsync();
        // B4's find_node asks A4 for n4 and n6 (B6 is empty); A4 answers nodes6 from A6's table; B6 pings them.
        await DhtNetworkTests.WaitUntilAsync(() => b6.NodeCount >= 1, "B6 learning IPv6 nodes through B4's want");

        var infoHash = RTorrent.Engine.Metainfo.InfoHash.FromHex("3232323232323232323232323232323232323232");
        Assert.True((await v6Net.Nodes[2].AnnounceAsync(infoHash, 3232)).AnnouncesAccepted > 0);
        var found = new List<IPEndPoint>();
        await foreach (var peer in b6.GetPeersAsync(infoHash)) found.Add(peer);
        Assert.Contains(new IPEndPoint(IPAddress.IPv6Loopback, 3232), found);
    }

    [Fact]
    public async Task Listen_on_ipv6_off_runs_no_ipv6_node_and_ipv4_off_an_ipv6_only_one()
    {
        var v4Only = SessionOptions.EngineConfigFrom(new RTorrent.Engine.Settings.EngineSettings { ListenOnIPv6 = false });
        Assert.Equal(IPAddress.Any, v4Only.ListenAddress);
        var v6Only = SessionOptions.EngineConfigFrom(new RTorrent.Engine.Settings.EngineSettings { ListenOnIPv4 = false });
        Assert.Equal(IPAddress.IPv6Any, v6Only.ListenAddress);
        Assert.Null(SessionOptions.EngineConfigFrom(new RTorrent.Engine.Settings.EngineSettings()).ListenAddress);
        // LSD follows: the family turned off is off for the plugin too.
        Assert.Equal("false", SessionOptions.FromSettings(new RTorrent.Engine.Settings.EngineSettings { ListenOnIPv6 = false }).PluginSettings!["lsd.ipv6"]);
        Assert.Equal("false", SessionOptions.FromSettings(new RTorrent.Engine.Settings.EngineSettings { ListenOnIPv4 = false }).PluginSettings!["lsd.ipv4"]);
        Assert.Null(SessionOptions.FromSettings(new RTorrent.Engine.Settings.EngineSettings()).PluginSettings);

        await using (var session = await ClientSession.OpenAsync(new SessionOptions
        {
            Engine = v4Only with { ListenPort = 0 },
            LoadPlugins = false,
            DhtUsePublicRouters = false,
        }))
        {
            Assert.Null(session.Dht6);
            Assert.Equal(AddressFamily.InterNetwork, session.Dht!.AddressFamily);
        }
        await using (var session = await ClientSession.OpenAsync(new SessionOptions
        {
            Engine = v6Only with { ListenPort = 0 },
            LoadPlugins = false,
            DhtUsePublicRouters = false,
        }))
        {
            Assert.Same(session.Dht, session.Dht6);
            Assert.Equal(AddressFamily.InterNetworkV6, session.Dht!.AddressFamily);
            Assert.Single(session.DhtNodes);
            // The peer port takes IPv6 alone: an IPv4 connection is refused.
            using var v4 = new TcpClient(AddressFamily.InterNetwork);
            await Assert.ThrowsAsync<SocketException>(() => v4.ConnectAsync(IPAddress.Loopback, session.Engine.ListenPort));
            using var v6 = new TcpClient(AddressFamily.InterNetworkV6);
            await v6.ConnectAsync(IPAddress.IPv6Loopback, session.Engine.ListenPort);
        }
    }
}
