using System.Buffers;
using System.Net;
using RTorrent.Engine.Blocklists;
using RTorrent.Engine.Dht;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Dht;

namespace RTorrent.Engine.Tests.Blocklists;

/// <summary>The DHT obeys the blocklist: blocked nodes are not answered or queried, blocked peers it finds are not reported.</summary>
public sealed class BlocklistDhtTests
{
    private static Blocklist BlockOnly(string address)
    {
        var list = new Blocklist();
        var b = new IpRangeSetBuilder();
        b.Add(IPAddress.Parse(address), IPAddress.Parse(address));
        list.Replace(b.Build());
        list.Enabled = true;
        return list;
    }

    private static byte[] Ping(NodeId id)
    {
        var w = new ArrayBufferWriter<byte>();
        KrpcWriter.Ping(w, "pp"u8, id);
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public async Task A_blocked_node_is_neither_answered_nor_queried()
    {
        var list = BlockOnly("203.0.113.9");
        var transport = new RecordingTransport(new IPEndPoint(IPAddress.Loopback, 6881));
        await using var engine = new DhtEngine(new DhtOptions { Blocklist = list, NodeIdVerification = NodeIdVerification.Off },
            () => transport, null, new Dht.ManualTimeProvider());
        await engine.StartAsync();
        var blocked = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 6881);
        var allowed = new IPEndPoint(IPAddress.Parse("203.0.113.10"), 6881);

        engine.HandlePacket(Ping(NodeId.Random()), blocked);
        engine.HandlePacket(Ping(NodeId.Random()), allowed);
        engine.AddNode(new IPEndPoint(IPAddress.Parse("203.0.113.9"), 7000));
        engine.AddNode(new IPEndPoint(IPAddress.Parse("203.0.113.10"), 7000));
        await DhtNetworkTests.WaitUntilAsync(() => { lock (transport.Sent) return transport.Sent.Any(s => s.To.Port == 7000); }, "the allowed node to be pinged");

        List<IPEndPoint> sentTo;
        lock (transport.Sent) sentTo = transport.Sent.Select(s => s.To).ToList();
        Assert.Contains(allowed, sentTo);
        Assert.DoesNotContain(sentTo, ep => ep.Address.Equals(blocked.Address));
        Assert.Equal(1, engine.GetStatistics().DroppedFor(DhtDropReason.Blocked));
        Assert.Equal(2, list.BlockedCount); // the packet and the ping not sent
    }

    [Fact]
    public async Task Peers_found_by_a_lookup_leave_out_blocked_addresses()
    {
        // Node 1 lives on 127.0.0.5 and announces itself as a peer; node 2 (127.0.0.1) announces too. The last node
        // blocks 127.0.0.5: it never queries node 1, and the others' stored 127.0.0.5 peer is not reported.
        var list = BlockOnly("127.0.0.5");
        await using var dht = await LoopbackDht.StartAsync(7, (i, o) => i switch
        {
            1 => o with { BindAddress = IPAddress.Parse("127.0.0.5") },
            6 => o with { Blocklist = list },
            _ => o,
        });
        var infoHash = InfoHash.FromHex("00000000000000000000000000000000000000aa");
        Assert.True((await dht.Nodes[1].AnnounceAsync(infoHash, 7777)).AnnouncesAccepted > 0);
        Assert.True((await dht.Nodes[2].AnnounceAsync(infoHash, 8888)).AnnouncesAccepted > 0);

        var found = new List<IPEndPoint>();
        await foreach (var peer in dht.Nodes[6].GetPeersAsync(infoHash)) found.Add(peer);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 8888), found);
        Assert.DoesNotContain(found, p => p.Address.Equals(IPAddress.Parse("127.0.0.5")));
        Assert.True(list.BlockedCount > 0);

        // The control: a node without the list finds both.
        var all = new List<IPEndPoint>();
        await foreach (var peer in dht.Nodes[5].GetPeersAsync(infoHash)) all.Add(peer);
        Assert.Contains(new IPEndPoint(IPAddress.Parse("127.0.0.5"), 7777), all);
    }
}
