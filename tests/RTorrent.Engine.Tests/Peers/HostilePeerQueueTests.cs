using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Client;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Client.RateLimiting;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>Issue 14: the queues a peer can fill are bounded, and a peer that passes a bound is dropped.</summary>
public class HostilePeerQueueTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A loop that never runs what is posted: nothing queued is ever flushed.</summary>
    private sealed class StalledLoop : SynchronizationContext
    {
        public int Posts;
        public override void Post(SendOrPostCallback d, object? state) => Interlocked.Increment(ref Posts);
    }

    private sealed class NullHandler : IPeerConnectionHandler
    {
        public void OnMessages(IPeerWire connection, List<PeerMessage> batch) { }
        public void OnSendBufferLow(IPeerWire connection) { }
        public void OnClosed(IPeerWire connection, string reason) { }
    }

    [Fact]
    public async Task A_peer_whose_send_queue_passes_its_budget_is_closed_with_a_reason()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();
        var budget = new SendQueueBudget(perPeer: 256 * 1024, total: 1024 * 1024, floor: 64 * 1024);
        var connection = new PeerConnection(new TcpPeerStream(server), (IPEndPoint)client.LocalEndPoint!, outgoing: false, 10,
            new NullHandler(), new StalledLoop(), sendBudget: budget);
        Assert.Equal(1, budget.Connections);
        var block = new byte[16 * 1024];
        int queued = 0;
        for (int i = 0; i < 1000 && !connection.IsClosed; i++, queued++) connection.EnqueuePiece(0, i * block.Length, block);
        Assert.True(connection.IsClosed);
        Assert.Contains("send queue over 256 KiB", connection.CloseReason);
        Assert.InRange(queued, 15, 17); // 16 blocks fit in 256 KiB; the 17th would not
        Assert.Equal(0, budget.Connections);
    }

    [Fact]
    public void The_send_budget_shares_the_total_among_connections_but_never_below_the_floor()
    {
        var budget = new SendQueueBudget(perPeer: 4096, total: 8192, floor: 1024);
        budget.Register();
        Assert.Equal(4096, budget.LimitFor());
        for (int i = 0; i < 3; i++) budget.Register();
        Assert.Equal(2048, budget.LimitFor());
        for (int i = 0; i < 100; i++) budget.Register();
        Assert.Equal(1024, budget.LimitFor());
        Assert.True(budget.Exceeds(1000, 25));
        Assert.False(budget.Exceeds(1000, 24));
        // The default floor leaves room for block serving, which stops at the high-water mark plus one block.
        Assert.True(SendQueueBudget.DefaultFloor >= PeerConnection.SendHighWater + PeerMessageReader.MaxBlockLength);
    }

    [Fact]
    public void Metadata_requests_count_until_the_send_queue_drains_and_too_many_are_refused()
    {
        var limit = new MetadataRequestLimit();
        var peer = new object();
        for (int i = 0; i < MetadataRequestLimit.MaxPending; i++) Assert.True(limit.TryAdmit(peer, 100));
        Assert.False(limit.TryAdmit(peer, 100));
        Assert.True(limit.TryAdmit(peer, 0)); // the queue drained: a fresh start
        Assert.True(limit.TryAdmit(new object(), 100)); // per peer
    }

    [Fact]
    public void Block_requests_past_the_advertised_queue_drop_the_peer_after_a_few_hundred()
    {
        int ignored = 0;
        for (int i = 0; i < IncomingRequestLimit.MaxIgnored; i++) IncomingRequestLimit.Overflowed(ref ignored, 2000);
        Assert.Throws<PeerProtocolException>(() => IncomingRequestLimit.Overflowed(ref ignored, 2000));
    }

    [Fact]
    public async Task A_peer_flooding_ut_metadata_requests_it_does_not_read_is_dropped()
    {
        await using var seeder = await RawSeeder.StartAsync(output, 16 * 1024, 64 * 1024);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var wire = await seeder.ConnectAsync(ct);
        await wire.SendAsync(Extended(0, new ExtensionHandshake { Extensions = { ["ut_metadata"] = 3 } }.Encode()), ct);

        // 2,000 requests in one write, none of the answers read.
        var request = Extended(MetadataExchange.LocalId, "d8:msg_typei0e5:piecei0ee"u8.ToArray());
        var flood = new byte[request.Length * 2000];
        for (int i = 0; i < 2000; i++) request.CopyTo(flood, i * request.Length);
        await wire.SendAsync(flood, ct);

        int answers = 0;
        await RawSeeder.ReadUntilClosedAsync(wire, ct, (id, payload) => { if (id == MessageId.Extended && payload[0] == 3) answers++; });
        Assert.InRange(answers, 0, MetadataRequestLimit.MaxPending);
        await seeder.WaitUntilNoPeersAsync(ct);
    }

    [Fact]
    public async Task Repeated_extended_handshakes_cannot_grow_a_peers_extension_table_past_the_limit()
    {
        await using var seeder = await RawSeeder.StartAsync(output, 16 * 1024, 64 * 1024);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var wire = await seeder.ConnectAsync(ct);
        // Three handshakes of 100 new names each: each alone is within the limit of 128, together they are not.
        for (int h = 0; h < 3; h++)
        {
            var hs = new ExtensionHandshake();
            for (int i = 0; i < 100; i++) hs.Extensions[$"x_{h}_{i}"] = 1 + i;
            await wire.SendAsync(Extended(0, hs.Encode()), ct);
        }
        await RawSeeder.ReadUntilClosedAsync(wire, ct);
        await seeder.WaitUntilNoPeersAsync(ct);
    }

    /// <param name="fast">The peer speaks BEP 6: each request past the queue is answered with a REJECT, and it is still dropped.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_peer_sending_far_more_block_requests_than_the_queue_we_advertise_is_dropped(bool fast)
    {
        await using var seeder = await RawSeeder.StartAsync(output, 16 * 1024, 64 * 1024);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var wire = await seeder.ConnectAsync(ct, unchoked: true,
            features: fast ? PeerFeatures.Extensions | PeerFeatures.Fast : PeerFeatures.Extensions);

        // 4,000 requests for the same block, in one write, twice the 2,000 we advertise; the blocks that come are read.
        const int count = 4000;
        var requests = new byte[count * MessageWriter.RequestLength];
        for (int i = 0; i < count; i++)
            MessageWriter.WriteRequest(requests.AsSpan(i * MessageWriter.RequestLength), MessageId.Request, 0, 0, 16 * 1024);
        await wire.SendAsync(requests, ct);
        int blocks = 0, rejects = 0;
        await RawSeeder.ReadUntilClosedAsync(wire, ct, (id, _) =>
        {
            if (id == MessageId.Piece) blocks++;
            else if (id == MessageId.RejectRequest) rejects++;
        });
        Assert.InRange(blocks + rejects, 0, count - 1);
        if (!fast) Assert.Equal(0, rejects);
        await seeder.WaitUntilNoPeersAsync(ct);
    }

    [Fact]
    public async Task A_choked_fast_peer_flooding_requests_is_rejected_then_dropped()
    {
        await using var seeder = await RawSeeder.StartAsync(output, 16 * 1024, 64 * 1024);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var wire = await seeder.ConnectAsync(ct, features: PeerFeatures.Extensions | PeerFeatures.Fast); // never interested: choked

        const int count = 4000;
        var requests = new byte[count * MessageWriter.RequestLength];
        for (int i = 0; i < count; i++)
            MessageWriter.WriteRequest(requests.AsSpan(i * MessageWriter.RequestLength), MessageId.Request, 1, 0, 16 * 1024);
        await wire.SendAsync(requests, ct);
        int blocks = 0, rejects = 0;
        await RawSeeder.ReadUntilClosedAsync(wire, ct, (id, _) =>
        {
            if (id == MessageId.Piece) blocks++;
            else if (id == MessageId.RejectRequest) rejects++;
        });
        int limit = new EngineConfig().MaxIncomingRequests + IncomingRequestLimit.MaxIgnored;
        Assert.Equal(0, blocks);
        Assert.InRange(rejects, 0, limit); // those queued before the close may not all leave
        await seeder.WaitUntilNoPeersAsync(ct);
    }

    private static byte[] Extended(int id, byte[] payload)
    {
        var m = new byte[6 + payload.Length];
        MessageWriter.WriteHeader(m, MessageId.Extended, 1 + payload.Length);
        m[5] = (byte)id;
        payload.CopyTo(m, 6);
        return m;
    }
}
