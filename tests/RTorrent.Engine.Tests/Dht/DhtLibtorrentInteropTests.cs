using System.Net;
using RTorrent.Engine.Dht;
using RTorrent.Engine.Metainfo;
using Xunit.Abstractions;

namespace RTorrent.Engine.Tests.Dht;

/// <summary>
/// Our DHT node in a DHT with three python3-libtorrent 2.0 sessions on 127.0.0.1: each side must find the peers the
/// other announced, through the DHT alone.
/// </summary>
public sealed class DhtLibtorrentInteropTests(ITestOutputHelper output)
{
    [Fact]
    public Task Our_node_and_libtorrent_find_each_others_announced_peers() => FindEachOthersPeersAsync(IPAddress.Loopback);

    /// <summary>
    /// BEP 32: the same over ::1. libtorrent runs an IPv6 DHT node on an IPv6 listen socket; its answers carry
    /// <c>nodes6</c> and 18-byte <c>values</c>, and ours must too.
    /// </summary>
    [Fact]
    public Task Our_ipv6_node_and_libtorrent_find_each_others_announced_peers_over_ipv6_loopback() =>
        FindEachOthersPeersAsync(IPAddress.IPv6Loopback);

    private async Task FindEachOthersPeersAsync(IPAddress host)
    {
        LibtorrentDhtNode.EnsureAvailable();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = deadline.Token;

        await using var ours = new DhtEngine(new DhtOptions
        {
            BindAddress = host,
            QueryTimeout = TimeSpan.FromSeconds(3),
        });
        await ours.StartAsync(ct);
        var ourEndPoint = ours.LocalEndPoint!;

        var seeded = InfoHash.FromHex("5eed000000000000000000000000000000000001"); // libtorrent announces, we look up
        var ourTorrent = InfoHash.FromHex("0c7e000000000000000000000000000000000002"); // we announce, libtorrent looks up
        const int ourPeerPort = 47777;

        int[] ports = [LibtorrentDhtNode.FreePort(host), LibtorrentDhtNode.FreePort(host), LibtorrentDhtNode.FreePort(host)];
        ports = [.. ports.Distinct()];
        Assert.Equal(3, ports.Length);
        IEnumerable<IPEndPoint> Others(int self) =>
            ports.Where(p => p != self).Select(p => new IPEndPoint(host, p)).Prepend(ourEndPoint);

        var lt = new List<LibtorrentDhtNode>();
        try
        {
            lt.Add(LibtorrentDhtNode.Start(ports[0], Others(ports[0]), announceHex: seeded.ToHex(), host: host));
            lt.Add(LibtorrentDhtNode.Start(ports[1], Others(ports[1]), lookupHex: ourTorrent.ToHex(), host: host));
            lt.Add(LibtorrentDhtNode.Start(ports[2], Others(ports[2]), host: host));
            foreach (var node in lt) await node.WaitForAsync(l => l.StartsWith("READY", StringComparison.Ordinal), "READY", ct);
            foreach (var node in lt) ours.AddNode(node.EndPoint);

            // The DHT forms: libtorrent nodes answer our pings and queries, and keep us in their tables.
            while (ours.NodeCount < 3 || lt.Any(n => n.RoutingTableSize < 2))
            {
                await Task.Delay(500, ct);
                await ours.BootstrapAsync(ct);
            }
            output.WriteLine($"our table: {ours.NodeCount} nodes; libtorrent tables: {string.Join(", ", lt.Select(n => n.RoutingTableSize))}");

            // 1. libtorrent announced `seeded` with its listen port: we find that peer by get_peers.
            var seederPeer = new IPEndPoint(host, ports[0]);
            bool found = false;
            while (!found)
            {
                await foreach (var peer in ours.GetPeersAsync(seeded, ct))
                {
                    output.WriteLine($"we found peer {peer}");
                    if (peer.Equals(seederPeer)) found = true;
                }
                if (!found) await Task.Delay(1000, ct);
            }

            // 2. We announce `ourTorrent`: libtorrent's get_peers finds us.
            string expected = $"PEER {ourTorrent.ToHex()} {host}:{ourPeerPort}";
            while (!lt[1].HasLine(l => l == expected))
            {
                var result = await ours.AnnounceAsync(ourTorrent, ourPeerPort, ct);
                output.WriteLine($"we announced to {result.AnnouncesAccepted} of {result.AnnouncesSent} nodes");
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(TimeSpan.FromSeconds(5));
                try
                {
                    await lt[1].WaitForAsync(l => l == expected, "finding our peer", wait.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                }
            }

            var stats = ours.GetStatistics();
            output.WriteLine($"our node: {stats.QueriesReceived} queries in, {stats.QueriesSent} out, {stats.DroppedTotal} dropped");
            // libtorrent's packets all parsed: nothing it sent was refused as malformed.
            Assert.Equal(0, stats.DroppedFor(DhtDropReason.NotBencode) + stats.DroppedFor(DhtDropReason.InvalidField)
                + stats.DroppedFor(DhtDropReason.MissingField));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            foreach (var node in lt) output.WriteLine($"libtorrent {node.Port}:\n{string.Join('\n', node.Lines.Where(l => !l.StartsWith("NODES", StringComparison.Ordinal)))}");
            throw new TimeoutException("The DHT interop test ran out of time; see the output for libtorrent's side.");
        }
        finally
        {
            foreach (var node in lt) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Libtorrent_nodes_that_only_know_our_node_find_each_other_through_it()
    {
        LibtorrentDhtNode.EnsureAvailable();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = deadline.Token;

        await using var ours = new DhtEngine(new DhtOptions { BindAddress = IPAddress.Loopback, QueryTimeout = TimeSpan.FromSeconds(3) });
        await ours.StartAsync(ct);
        var router = new[] { ours.LocalEndPoint! };
        var infoHash = InfoHash.FromHex("a11ce00000000000000000000000000000000003");

        int seederPort = LibtorrentDhtNode.FreePort(), leecherPort = LibtorrentDhtNode.FreePort();
        Assert.NotEqual(seederPort, leecherPort);
        var lt = new List<LibtorrentDhtNode>();
        try
        {
            // Our node is their bootstrap router: libtorrent starts its lookups there and learns everything else
            // from our find_node / get_peers answers.
            lt.Add(LibtorrentDhtNode.Start(seederPort, [], announceHex: infoHash.ToHex(), routers: router));
            lt.Add(LibtorrentDhtNode.Start(leecherPort, [], lookupHex: infoHash.ToHex(), routers: router));
            foreach (var node in lt) await node.WaitForAsync(l => l.StartsWith("READY", StringComparison.Ordinal), "READY", ct);
            foreach (var node in lt) ours.AddNode(node.EndPoint);

            string expected = $"PEER {infoHash.ToHex()} 127.0.0.1:{seederPort}";
            await lt[1].WaitForAsync(l => l == expected, "the leecher finding the seeder", ct);
            output.WriteLine($"found; libtorrent tables: {string.Join(", ", lt.Select(n => n.RoutingTableSize))}; ours: {ours.NodeCount}");
            Assert.True(ours.GetStatistics().QueriesAnswered > 0);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            foreach (var node in lt) output.WriteLine($"libtorrent {node.Port}:\n{string.Join('\n', node.Lines.Where(l => !l.StartsWith("NODES", StringComparison.Ordinal)))}");
            throw new TimeoutException("The DHT interop test ran out of time; see the output for libtorrent's side.");
        }
        finally
        {
            foreach (var node in lt) await node.DisposeAsync();
        }
    }
}
