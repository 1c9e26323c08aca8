using System.Buffers.Binary;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Issue 14: a REQUEST for more than a 16 KiB block is refused. It is dropped and counted as a protocol violation, and
/// the connection stays (the check sits where Torrent.Peers handles REQUEST; a refactor of that code must keep it).
/// </summary>
public class OversizedRequestTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_request_for_a_block_larger_than_16_KiB_is_dropped_and_counted_and_the_next_one_served()
    {
        const int blockSize = 16 * 1024;
        await using var seeder = await RawSeeder.StartAsync(output, 4 * blockSize, 4 * blockSize);
        var data = seeder.FirstFile();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var wire = await seeder.ConnectAsync(ct, unchoked: true);

        // 32 KiB from the start of the piece (inside it, so only the size is wrong), then a proper 16 KiB block.
        var requests = new byte[2 * MessageWriter.RequestLength];
        MessageWriter.WriteRequest(requests, MessageId.Request, 0, 0, 2 * blockSize);
        MessageWriter.WriteRequest(requests.AsSpan(MessageWriter.RequestLength), MessageId.Request, 0, blockSize, blockSize);
        await wire.SendAsync(requests, ct);

        (MessageId Id, byte[] Payload) message;
        while ((message = await wire.ReadMessageAsync(ct)).Id != MessageId.Piece) { }
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(message.Payload));
        Assert.Equal(blockSize, BinaryPrimitives.ReadInt32BigEndian(message.Payload.AsSpan(4))); // the second request, not the first
        Assert.True(message.Payload.AsSpan(8).SequenceEqual(data.AsSpan(blockSize, blockSize)));

        var (peers, violations) = await seeder.Engine.Loop.InvokeAsync(() =>
            (seeder.Seeding.ConnectedPeers.Count, seeder.Seeding.ConnectedPeers.Sum(p => p.ProtocolViolations)));
        Assert.Equal(1, peers); // still connected
        Assert.Equal(1, violations);
    }
}
