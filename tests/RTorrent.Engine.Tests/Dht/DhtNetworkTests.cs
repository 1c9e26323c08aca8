using System.Net;
using System.Net.Sockets;
using RTorrent.Abstractions;
using RTorrent.Engine.Dht;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Dht;

/// <summary>A small DHT of our own nodes on 127.0.0.1 (BEP 42 exempts loopback, so random IDs are fine).</summary>
internal sealed class LoopbackDht : IAsyncDisposable
{
    public List<DhtEngine> Nodes { get; } = [];

    public static async Task<LoopbackDht> StartAsync(int count, Func<int, DhtOptions, DhtOptions>? configure = null)
    {
        var dht = new LoopbackDht();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var options = new DhtOptions
                {
                    BindAddress = IPAddress.Loopback,
                    BootstrapNodes = i == 0 ? [] : [dht.Nodes[0].LocalEndPoint!.ToString()],
                    QueryTimeout = TimeSpan.FromSeconds(2),
                };
                if (configure is not null) options = configure(i, options);
                var node = new DhtEngine(options);
                dht.Nodes.Add(node);
                await node.StartAsync();
            }
            // Everyone bootstraps once more now that the network exists, so every table knows several nodes.
            foreach (var node in dht.Nodes.Skip(1)) await node.BootstrapAsync();
            foreach (var node in dht.Nodes) await node.BootstrapAsync();
            return dht;
        }
        catch
        {
            await dht.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
    }
}

internal sealed class CollectingSink : IPeerSink
{
    private readonly List<IPEndPoint> _peers = [];

    public void AddPeers(IReadOnlyList<IPEndPoint> peers, string sourceName)
    {
        Assert.Equal("dht", sourceName);
        lock (_peers) _peers.AddRange(peers);
    }

    public List<IPEndPoint> Peers
    {
        get { lock (_peers) return [.. _peers]; }
    }
}

public class DhtNetworkTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    internal static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var cts = new CancellationTokenSource(Patience);
        while (!condition())
        {
            if (cts.IsCancellationRequested) throw new TimeoutException($"Gave up waiting: {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Nodes_find_each_other_and_a_peer_announced_by_one_is_found_by_another()
    {
        await using var dht = await LoopbackDht.StartAsync(8);
        Assert.All(dht.Nodes, n => Assert.True(n.NodeCount >= 3, $"a node knows only {n.NodeCount} nodes"));

        var infoHash = InfoHash.FromHex("0123456789abcdef0123456789abcdef01234567");
        var announce = await dht.Nodes[3].AnnounceAsync(infoHash, 7777);
        Assert.True(announce.AnnouncesAccepted >= 3, $"accepted by {announce.AnnouncesAccepted} of {announce.AnnouncesSent}");

        var found = new List<IPEndPoint>();
        await foreach (var peer in dht.Nodes[7].GetPeersAsync(infoHash)) found.Add(peer);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 7777), found);
        Assert.Equal(found.Count, found.Distinct().Count());

        var other = InfoHash.FromHex("fedcba9876543210fedcba9876543210fedcba98");
        var none = await dht.Nodes[1].FindPeersAsync(other, _ => Assert.Fail("nobody announced this one"));
        Assert.Equal(0, none.PeersFound);
        Assert.True(none.NodesResponded >= 3);
    }

    [Fact]
    public async Task An_ipv6_dht_works_the_same_on_the_ipv6_loopback()
    {
        // BEP 32: an IPv6 DHT is its own DHT; bootstrap strings come out as "[::1]:port".
        await using var dht = await LoopbackDht.StartAsync(5, (_, o) => o with { BindAddress = IPAddress.IPv6Loopback });
        Assert.All(dht.Nodes, n => Assert.Equal(AddressFamily.InterNetworkV6, n.LocalEndPoint!.AddressFamily));
        Assert.All(dht.Nodes, n => Assert.True(n.NodeCount >= 2));
        var infoHash = InfoHash.FromHex("6666666666666666666666666666666666666666");
        Assert.True((await dht.Nodes[1].AnnounceAsync(infoHash, 6666)).AnnouncesAccepted > 0);
        var found = new List<IPEndPoint>();
        await foreach (var peer in dht.Nodes[4].GetPeersAsync(infoHash)) found.Add(peer);
        Assert.Contains(new IPEndPoint(IPAddress.IPv6Loopback, 6666), found);
    }

    [Fact]
    public async Task Stopping_a_peer_stream_early_cancels_the_lookup_and_the_node_stays_usable()
    {
        await using var dht = await LoopbackDht.StartAsync(4);
        var infoHash = InfoHash.FromHex("7777777777777777777777777777777777777777");
        await dht.Nodes[1].AnnounceAsync(infoHash, 1001);
        await dht.Nodes[2].AnnounceAsync(infoHash, 1002);
        await foreach (var peer in dht.Nodes[3].GetPeersAsync(infoHash))
            break; // the consumer has enough
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var peer in dht.Nodes[3].GetPeersAsync(infoHash, cts.Token)) { }
        });
        var found = new List<IPEndPoint>();
        await foreach (var peer in dht.Nodes[3].GetPeersAsync(infoHash)) found.Add(peer);
        Assert.Equal(2, found.Count);
    }

    [Fact]
    public async Task Using_a_node_that_is_not_running_is_a_clear_error()
    {
        var node = new DhtEngine(new DhtOptions { BindAddress = IPAddress.Loopback });
        var infoHash = InfoHash.FromHex("8888888888888888888888888888888888888888");
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.AnnounceAsync(infoHash, 1));
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var peer in node.GetPeersAsync(infoHash)) { }
        });
        await node.StartAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.StartAsync());
        await node.StopAsync();
        await node.StopAsync(); // twice is fine
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.FindNodeAsync(NodeId.Random()));
        Assert.Throws<ArgumentException>(() => new DhtEngine(new DhtOptions { Port = 70000 }));
    }

    [Theory]
    [InlineData("router.bittorrent.com:6881", true, "router.bittorrent.com", 6881)]
    [InlineData("127.0.0.1:1", true, "127.0.0.1", 1)]
    [InlineData("[::1]:6881", true, "::1", 6881)]
    [InlineData(" host:65535 ", true, "host", 65535)]
    [InlineData("host", false, "", 0)]
    [InlineData("host:", false, "", 0)]
    [InlineData(":6881", false, "", 0)]
    [InlineData("host:0", false, "", 0)]
    [InlineData("host:65536", false, "", 0)]
    [InlineData("host:-1", false, "", 0)]
    [InlineData("::1:6881", false, "", 0)]
    public void Bootstrap_node_strings_are_parsed(string text, bool ok, string host, int port)
    {
        Assert.Equal(ok, DhtEngine.TryParseHostPort(text, out var h, out int p));
        if (!ok) return;
        Assert.Equal((host, port), (h, p));
    }

    [Fact]
    public async Task Bootstrap_names_are_resolved()
    {
        await using var dht = await LoopbackDht.StartAsync(2);
        int port = dht.Nodes[0].LocalEndPoint!.Port;
        await using var node = new DhtEngine(new DhtOptions
        {
            BindAddress = IPAddress.Loopback,
            BootstrapNodes = [$"localhost:{port}", "not a node", "no-such-host.invalid:6881"],
        });
        await node.StartAsync();
        var result = await node.BootstrapAsync();
        Assert.True(result.NodesResponded >= 1);
        Assert.True(node.NodeCount >= 1);
    }

    [Fact]
    public async Task Implied_port_announces_our_udp_port()
    {
        await using var dht = await LoopbackDht.StartAsync(4);
        var infoHash = InfoHash.FromHex("1111111111111111111111111111111111111111");
        var result = await dht.Nodes[1].AnnounceAsync(infoHash, 0, impliedPort: true, null);
        Assert.True(result.AnnouncesAccepted > 0);
        var found = new List<IPEndPoint>();
        await foreach (var peer in dht.Nodes[2].GetPeersAsync(infoHash)) found.Add(peer);
        Assert.Contains(dht.Nodes[1].LocalEndPoint!, found);
    }

    [Fact]
    public async Task Find_node_converges_on_the_closest_nodes()
    {
        await using var dht = await LoopbackDht.StartAsync(10);
        var target = NodeId.Random();
        var result = await dht.Nodes[4].FindNodeAsync(target);
        var expected = dht.Nodes.Where(n => n != dht.Nodes[4]).Select(n => n.NodeId).OrderBy(id => id ^ target).Take(8).ToList();
        Assert.Equal(expected, result.ClosestNodes.Select(n => n.Id).ToList());
    }

    [Fact]
    public async Task State_is_saved_on_stop_and_a_restart_bootstraps_from_it_alone()
    {
        var dir = RTorrent.Testing.TestPaths.NewTempDir("rt-dht");
        try
        {
            await using var dht = await LoopbackDht.StartAsync(4);
            var path = Path.Combine(dir, "dht.dat");
            var options = new DhtOptions
            {
                BindAddress = IPAddress.Loopback,
                BootstrapNodes = [dht.Nodes[0].LocalEndPoint!.ToString()],
                StateFilePath = path,
            };
            NodeId firstId;
            await using (var node = new DhtEngine(options))
            {
                await node.StartAsync();
                await node.BootstrapAsync();
                Assert.True(node.NodeCount >= 3);
                firstId = node.NodeId;
                await node.StopAsync();
            }
            Assert.True(File.Exists(path));
            Assert.False(File.Exists(path + ".tmp"));
            var saved = await DhtStateFile.LoadAsync(path);
            Assert.Equal(firstId, saved!.NodeId);
            Assert.True(saved.Nodes.Count >= 3);

            await using var again = new DhtEngine(options with { BootstrapNodes = [] });
            await again.StartAsync();
            Assert.Equal(firstId, again.NodeId);
            await again.BootstrapAsync();
            Assert.True(again.NodeCount >= 3, $"restarted node knows {again.NodeCount} nodes");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_damaged_state_file_is_ignored()
    {
        var dir = RTorrent.Testing.TestPaths.NewTempDir("rt-dht");
        try
        {
            var path = Path.Combine(dir, "dht.dat");
            await File.WriteAllTextAsync(path, "d2:id3:xyz");
            await using var node = new DhtEngine(new DhtOptions { BindAddress = IPAddress.Loopback, StateFilePath = path });
            await node.StartAsync();
            Assert.True(node.IsRunning);
            await node.StopAsync();
            Assert.Equal(node.NodeId, (await DhtStateFile.LoadAsync(path))!.NodeId); // replaced by a good one
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_busy_port_gives_a_clear_error()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        await using var node = new DhtEngine(new DhtOptions { BindAddress = IPAddress.Loopback, Port = port });
        var ex = await Assert.ThrowsAsync<IOException>(() => node.StartAsync());
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    [Fact]
    public async Task Real_udp_garbage_and_floods_leave_the_node_working()
    {
        await using var dht = await LoopbackDht.StartAsync(3);
        var target = dht.Nodes[0];
        using var attacker = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var rng = new Random(99);
        int pings = 0, huge = 0;
        for (int i = 0; i < 3000; i++)
        {
            var junk = new byte[rng.Next(1, 1400)];
            rng.NextBytes(junk);
            if (i % 3 == 0)
            {
                junk = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8.ToArray();
                pings++;
            }
            else if (i % 7 == 0)
            {
                junk = new byte[9000];
                huge++;
            }
            await attacker.SendAsync(junk, target.LocalEndPoint!);
            if (i % 50 == 0) await Task.Delay(1); // a flood, but not one the loopback itself drops
        }
        // Loopback UDP may still drop a little of a burst like this: wait until arrivals stop, then judge.
        long last = -1;
        await WaitUntilAsync(() =>
        {
            long now = target.GetStatistics().PacketsReceived;
            bool settled = now == last && now > 0;
            last = now;
            if (!settled) Thread.Sleep(300);
            return settled;
        }, "the flood to arrive");
        Assert.True(target.GetStatistics().PacketsReceived >= 2400, $"{target.GetStatistics().PacketsReceived} of 3000 arrived");
        var stats = target.GetStatistics();
        long answered = stats.QueriesReceived - stats.DroppedFor(DhtDropReason.RateLimited);
        Assert.True(stats.QueriesReceived >= pings * 8 / 10);
        Assert.InRange(answered, 1, 40); // one source: one burst of answers, not one per ping
        Assert.True(stats.DroppedFor(DhtDropReason.Oversized) >= huge * 8 / 10);
        Assert.True(stats.DroppedTotal > 1500);
        // Still a working node: the others can use it.
        var infoHash = InfoHash.FromHex("2222222222222222222222222222222222222222");
        var announce = await dht.Nodes[1].AnnounceAsync(infoHash, 9999);
        Assert.True(announce.AnnouncesAccepted >= 1);
        var found = new List<IPEndPoint>();
        await foreach (var p in dht.Nodes[2].GetPeersAsync(infoHash)) found.Add(p);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 9999), found);
    }

    [Fact]
    public async Task Peer_source_reports_peers_and_status_and_never_runs_for_private_torrents()
    {
        await using var dht = await LoopbackDht.StartAsync(5);
        var infoHash = InfoHash.FromHex("3333333333333333333333333333333333333333");
        var seeder = await dht.Nodes[1].AnnounceAsync(infoHash, 5555);
        Assert.True(seeder.AnnouncesAccepted > 0);

        var factory = new DhtPeerSourceFactory(dht.Nodes[3]);
        Assert.Equal("dht", factory.Name);
        Assert.False(factory.AllowedForPrivateTorrents);

        var sink = new CollectingSink();
        await using (var source = factory.Create(Context(infoHash, sink, isPrivate: false, listenPort: 6000)))
        {
            Assert.Equal("not contacted", source.GetStatus()[0].State);
            await source.StartAsync(CancellationToken.None);
            await WaitUntilAsync(() => source.GetStatus()[0].State == "working", "the first DHT lookup");
            Assert.Contains(new IPEndPoint(IPAddress.Loopback, 5555), sink.Peers);
            var status = source.GetStatus().Single();
            Assert.Equal("dht", status.Source);
            Assert.NotNull(status.LastSuccess);
            Assert.True(status.PeersReported >= 1);
            Assert.Contains("DHT nodes", status.Message);
            Assert.True(status.NextContact > status.LastSuccess!.Value.AddMinutes(13)); // 15 minutes less up to 10% jitter
            await source.StopAsync(CancellationToken.None);
        }
        // The source announced our listen port: another node finds it.
        var found = new List<IPEndPoint>();
        await foreach (var p in dht.Nodes[4].GetPeersAsync(infoHash)) found.Add(p);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 6000), found);

        var privateSink = new CollectingSink();
        await using var privateSource = factory.Create(Context(infoHash, privateSink, isPrivate: true, listenPort: 6001));
        await privateSource.StartAsync(CancellationToken.None);
        privateSource.RequestMorePeers();
        Assert.Equal("disabled", privateSource.GetStatus()[0].State);
        Assert.Empty(privateSink.Peers);
        await privateSource.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Peer_source_asks_again_soon_when_more_peers_are_wanted()
    {
        await using var dht = await LoopbackDht.StartAsync(4);
        var infoHash = InfoHash.FromHex("4444444444444444444444444444444444444444");
        var sink = new CollectingSink();
        var factory = new DhtPeerSourceFactory(dht.Nodes[2], new DhtPeerSourceOptions { MinimumInterval = TimeSpan.FromMilliseconds(200) });
        await using var source = factory.Create(Context(infoHash, sink, isPrivate: false, listenPort: 0));
        await source.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => source.GetStatus()[0].State == "working", "the first DHT lookup");
        Assert.Empty(sink.Peers);
        Assert.Contains("not announced", source.GetStatus()[0].Message);

        await dht.Nodes[1].AnnounceAsync(infoHash, 4242); // a peer appears; the next regular lookup is 15 minutes away
        source.RequestMorePeers();
        await WaitUntilAsync(() => sink.Peers.Contains(new IPEndPoint(IPAddress.Loopback, 4242)), "a lookup asked for by RequestMorePeers");
    }

    private static PeerSourceContext Context(InfoHash infoHash, IPeerSink sink, bool isPrivate, int listenPort) =>
        new(infoHash.ToArray(), new byte[20], isPrivate, [], listenPort, sink, () => default);
}
