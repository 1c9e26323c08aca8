using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// A seeder serves every request up to the queue depth it advertises ('reqq'). A fast downloader on a busy machine
/// keeps that many requests in flight as its cushion against its own stalls: libtorrent's downloader kept 500 with
/// our old reqq of 500 and 2,000 with libtorrent's seeder, and feeding it was 20% slower with the smaller queue.
/// </summary>
public class DeepRequestQueueTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_seeder_advertises_a_deep_request_queue_and_answers_every_request_in_it()
    {
        const int blockSize = 16 * 1024;
        await using var seeder = await RawSeeder.StartAsync(output, 4 * blockSize, 16 * blockSize);
        var data = seeder.FirstFile();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var wire = await seeder.ConnectAsync(ct);
        // Its extended handshake says how many requests it takes; ask to be unchoked.
        ExtensionHandshake? theirs = null;
        while (theirs is null)
        {
            var (id, payload) = await wire.ReadMessageAsync(ct);
            if (id == MessageId.Extended && payload[0] == 0) theirs = ExtensionHandshake.Decode(payload.AsMemory(1));
        }
        int reqq = theirs.RequestQueue ?? 0;
        output.WriteLine($"reqq {reqq}");
        Assert.True(reqq >= 2000, $"the seeder advertises a request queue of {reqq}; fast downloaders need 2,000 to stay busy");
        await RawSeeder.BeUnchokedAsync(wire, ct);

        // Fill the whole advertised queue in one write (the 16 blocks over and over), then expect every block back.
        var requests = new byte[reqq * 17];
        for (int i = 0; i < reqq; i++)
        {
            int block = i % 16;
            MessageWriter.WriteRequest(requests.AsSpan(i * 17), MessageId.Request, block / 4, block % 4 * blockSize, blockSize);
        }
        await wire.SendAsync(requests, ct);
        int received = 0;
        while (received < reqq)
        {
            var (id, payload) = await wire.ReadMessageAsync(ct);
            if (id != MessageId.Piece) continue;
            int piece = BinaryPrimitives.ReadInt32BigEndian(payload);
            int begin = BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4));
            Assert.Equal(received % 16, piece * 4 + begin / blockSize); // served in the order asked
            Assert.True(payload.AsSpan(8).SequenceEqual(data.AsSpan(piece * 4 * blockSize + begin, blockSize)));
            received++;
        }
        // A dropped request fails this test by the timeout above: the loop would wait for a block that never comes.
    }

    /// <summary>Just enough of the peer wire for the test: whole messages in and out of a socket.</summary>
    internal sealed class Wire(Socket socket)
    {
        public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
        {
            while (bytes.Length > 0) bytes = bytes[await socket.SendAsync(bytes, SocketFlags.None, ct)..];
        }

        public async Task ReadExactlyAsync(Memory<byte> buffer, CancellationToken ct)
        {
            while (buffer.Length > 0)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (n == 0) throw new EndOfStreamException("the seeder closed the connection");
                buffer = buffer[n..];
            }
        }

        /// <summary>The next message that is not a keep-alive.</summary>
        public async Task<(MessageId Id, byte[] Payload)> ReadMessageAsync(CancellationToken ct)
        {
            var header = new byte[4];
            while (true)
            {
                await ReadExactlyAsync(header, ct);
                int length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length == 0) continue;
                var body = new byte[length];
                await ReadExactlyAsync(body, ct);
                return ((MessageId)body[0], body[1..]);
            }
        }
    }
}
