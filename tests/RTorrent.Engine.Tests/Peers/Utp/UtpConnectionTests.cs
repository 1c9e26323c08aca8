using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Peers.Utp;

namespace RTorrent.Engine.Tests.Peers.Utp;

/// <summary>The uTP state machine over an in-memory network on a manual clock: set-up, transfer, loss, timeouts, windows.</summary>
public sealed class UtpConnectionTests
{
    internal static async Task<(UtpConnection A, UtpConnection B)> ConnectAsync(FakeUdpNetwork net, UtpSocket a, UtpSocket b, IPEndPoint to)
    {
        UtpConnection? accepted = null;
        b.Accepted = (c, _) => accepted = c;
        var connect = a.ConnectAsync(to, CancellationToken.None);
        for (int i = 0; i < 2000 && !connect.IsCompleted; i++)
        {
            net.Step();
            await Task.Yield();
        }
        var c = await connect.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(accepted);
        return (c, accepted!);
    }

    /// <summary>Writes <paramref name="data"/> into one end and reads the other until all arrived or the steps run out.</summary>
    internal static async Task<byte[]> TransferAsync(FakeUdpNetwork net, UtpConnection from, UtpConnection to, byte[] data, int maxSteps,
        Action<int>? eachStep = null)
    {
        int sent = 0;
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        for (int step = 0; step < maxSteps && received.Length < data.Length; step++)
        {
            while (sent < data.Length)
            {
                int n = from.TrySend(data.AsSpan(sent), out var error);
                if (n == 0)
                {
                    Assert.Equal(SocketError.WouldBlock, error);
                    break;
                }
                sent += n;
            }
            while (to.ReadableBytes > 0)
            {
                int n = await to.ReceiveAsync(buffer, CancellationToken.None);
                received.Write(buffer, 0, n);
            }
            eachStep?.Invoke(step);
            net.Step();
        }
        return received.ToArray();
    }

    private static byte[] Payload(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Connects_and_carries_a_megabyte_each_way_byte_exact()
    {
        var net = new FakeUdpNetwork();
        var (a, _) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        Assert.Equal(PeerTransport.Utp, ca.Transport);
        var up = Payload(1 << 20);
        Assert.Equal(up, await TransferAsync(net, ca, cb, up, 20_000));
        var down = Payload((1 << 20) + 17);
        Assert.Equal(down, await TransferAsync(net, cb, ca, down, 20_000));
        Assert.Equal(0, ca.Resent);
        Assert.InRange(ca.RoundTripMicros, 9_000, 13_000); // 2 × 5 ms, stepped by 1 ms
        Assert.Equal(500_000, ca.TimeoutMicros); // rtt + 4 rtt_var is far below the 500 ms floor
    }

    [Fact]
    public async Task Lost_and_reordered_packets_are_resent_and_the_stream_stays_byte_exact()
    {
        var net = new FakeUdpNetwork();
        var (a, _) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        int n = 0;
        var rng = new Random(7);
        // Every 13th datagram from A is lost; latency jitters so packets overtake each other.
        net.Drop = (data, from) => from.Equals(new IPEndPoint(IPAddress.Loopback, 1).Serialize()) && ++n % 13 == 0;
        var payload = Payload(600_000);
        var got = await TransferAsync(net, ca, cb, payload, 60_000, _ => net.Latency = TimeSpan.FromMilliseconds(rng.Next(1, 12)));
        Assert.Equal(payload, got);
        Assert.True(ca.Resent > 0);
        Assert.Equal(0, cb.ReorderedPackets);
    }

    [Fact]
    public async Task One_lost_packet_is_resent_at_once_on_selective_acks_without_waiting_for_the_timeout()
    {
        var net = new FakeUdpNetwork();
        var (a, aEp) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        // Let the window grow first.
        await TransferAsync(net, ca, cb, Payload(200_000), 10_000);
        bool dropped = false;
        var aAddress = aEp.Serialize();
        net.Drop = (data, from) =>
        {
            if (dropped || !from.Equals(aAddress) || data[0] >> 4 != (int)UtpType.Data) return false;
            return dropped = true;
        };
        var payload = Payload(100_000);
        long before = net.Clock.GetUtcNow().UtcTicks;
        var got = await TransferAsync(net, ca, cb, payload, 10_000);
        Assert.Equal(payload, got);
        Assert.True(dropped);
        Assert.Equal(1, ca.Resent);
        // Well under the 500 ms timeout: the gap was seen in the selective acks.
        Assert.True(TimeSpan.FromTicks(net.Clock.GetUtcNow().UtcTicks - before) < TimeSpan.FromMilliseconds(400));
        // The receiver sent selective acks while the gap was open.
        Assert.Contains(net.Sent, s => s.From.Equals(bEp.Serialize()) && s.Data[0] >> 4 == (int)UtpType.State && s.Data[1] == UtpHeader.SelectiveAckExtension);
    }

    [Fact]
    public async Task Three_duplicate_acks_resend_the_packet_after_them()
    {
        var net = new FakeUdpNetwork();
        var (a, aEp) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        await TransferAsync(net, ca, cb, Payload(100_000), 10_000);
        for (int i = 0; i < 20; i++) net.Step(); // the last acks arrive
        var resentBefore = ca.Resent;
        // Three plain duplicate acks (no selective ack) from B while A has data in flight.
        net.Latency = TimeSpan.FromMilliseconds(50);
        Assert.True(ca.TrySend(Payload(8000), out _) > 0);
        Assert.True(ca.InFlightBytes > 0);
        var ack = net.Sent.Last(s => s.From.Equals(bEp.Serialize()) && s.Data[0] >> 4 == (int)UtpType.State).Data.ToArray();
        ack[1] = 0; // no extension
        for (int i = 0; i < 3; i++) net.Inject(ack[..UtpHeader.Size], bEp, aEp);
        Assert.Equal(resentBefore + 1, ca.Resent);
    }

    [Fact]
    public async Task A_peer_that_stops_answering_times_out_with_the_timeout_doubling()
    {
        var net = new FakeUdpNetwork();
        var (a, aEp) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        await TransferAsync(net, ca, cb, Payload(50_000), 10_000);
        net.Drop = (_, _) => true; // the network goes dark
        var read = ca.ReceiveAsync(new byte[100], CancellationToken.None).AsTask();
        Assert.True(ca.TrySend(Payload(10_000), out _) > 0);
        var timeouts = new List<long>();
        long last = ca.TimeoutMicros;
        for (int i = 0; i < 30_000 && !ca.IsClosed; i++)
        {
            net.Step();
            if (ca.TimeoutMicros != last) timeouts.Add(last = ca.TimeoutMicros);
        }
        Assert.True(ca.IsClosed);
        Assert.Equal(SocketError.TimedOut, ca.Error);
        Assert.Equal([1_000_000, 2_000_000, 4_000_000], timeouts);
        var e = await Assert.ThrowsAsync<SocketException>(() => read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SocketError.TimedOut, e.SocketErrorCode);
        Assert.Equal(0, a.ConnectionCount);
    }

    [Fact]
    public async Task A_SYN_nobody_answers_fails_in_about_three_seconds_and_the_peer_is_remembered_without_utp()
    {
        var net = new FakeUdpNetwork();
        var (a, _) = net.Add(1);
        var nobody = new IPEndPoint(IPAddress.Loopback, 9);
        var connect = a.ConnectAsync(nobody, CancellationToken.None);
        int steps = 0;
        // The socket gives up inside a tick (on the fake clock) and the task's failure reaches us later on the thread
        // pool: counting steps until the task showed it let a loaded machine run hundreds of steps past the give-up.
        // The connection leaving the socket's table is what happens in the tick.
        while (a.ConnectionCount > 0 && steps < 10_000)
        {
            net.Step();
            steps++;
        }
        var e = await Assert.ThrowsAsync<SocketException>(() => connect.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SocketError.TimedOut, e.SocketErrorCode);
        Assert.InRange(steps, 2_900, 3_200);
        Assert.Equal(2, net.Sent.Count(s => s.Data[0] >> 4 == (int)UtpType.Syn));
        Assert.True(a.KnownWithoutUtp(nobody));
        Assert.Equal(0, a.ConnectionCount);
    }

    [Fact]
    public async Task A_reader_that_does_not_read_shuts_the_window_and_reading_opens_it_again()
    {
        var options = new UtpOptions { ReceiveBuffer = 64 * 1024 };
        var net = new FakeUdpNetwork();
        var (a, _) = net.Add(1, options);
        var (b, bEp) = net.Add(2, options);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        var payload = Payload(1_000_000);
        int sent = 0;
        for (int i = 0; i < 3000; i++)
        {
            int n = ca.TrySend(payload.AsSpan(sent), out _);
            sent += n;
            net.Step();
        }
        // Nobody read: B holds at most its buffer, A stopped with the rest.
        Assert.InRange(cb.BufferedBytes, 60 * 1024, 64 * 1024);
        Assert.True(sent < payload.Length);
        Assert.Equal(SocketError.Success, ca.Error);
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        for (int i = 0; i < 50_000 && received.Length < payload.Length; i++)
        {
            if (sent < payload.Length) sent += ca.TrySend(payload.AsSpan(sent), out _);
            while (cb.ReadableBytes > 0) received.Write(buffer, 0, await cb.ReceiveAsync(buffer, CancellationToken.None));
            net.Step();
        }
        Assert.Equal(payload, received.ToArray());
    }

    [Fact]
    public async Task LEDBAT_shrinks_the_window_when_the_queueing_delay_passes_the_target()
    {
        var net = new FakeUdpNetwork();
        var (a, _) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        // A steady flow at 5 ms: the base delay is learned and the window grows.
        var payload = Payload(3_000_000);
        var task = TransferAsync(net, ca, cb, payload, 3000);
        await task;
        int grown = ca.CongestionWindow;
        Assert.True(grown > 20 * 1400, $"window {grown}");
        // The path's queue fills: one-way delay 5 ms → 305 ms, 200 ms over the target.
        net.Latency = TimeSpan.FromMilliseconds(305);
        await TransferAsync(net, ca, cb, payload, 6000);
        Assert.InRange(ca.QueueingDelayMicros, 250_000, 350_000);
        Assert.True(ca.CongestionWindow < grown / 2, $"window {ca.CongestionWindow} after {grown}");
    }

    [Fact]
    public async Task Closing_sends_a_FIN_after_the_data_and_the_other_side_reads_the_end()
    {
        var net = new FakeUdpNetwork();
        var (a, _) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await ConnectAsync(net, a, b, bEp);
        var payload = Payload(30_000);
        Assert.Equal(payload.Length, ca.TrySend(payload, out _));
        ca.Dispose();
        var received = new MemoryStream();
        var buffer = new byte[4096];
        for (int i = 0; i < 1000; i++)
        {
            net.Step();
            if (cb.ReadableBytes > 0) received.Write(buffer, 0, await cb.ReceiveAsync(buffer, CancellationToken.None));
        }
        Assert.Equal(payload, received.ToArray());
        Assert.Equal(0, await cb.ReceiveAsync(buffer, CancellationToken.None)); // the end of the stream
        Assert.Equal(0, a.ConnectionCount); // our FIN was acked: forgotten
        cb.Dispose();
        for (int i = 0; i < 100; i++) net.Step();
        Assert.Equal(0, b.ConnectionCount);
    }
}
