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

/// <summary>Issue 14: silent half-open incoming connections cannot keep real peers out, and time out on the engine's clock.</summary>
public class HalfOpenListenerTests
{
    [Fact]
    public void Half_open_connections_make_room_by_dropping_the_oldest_of_the_same_address_then_of_all()
    {
        var halfOpen = new HalfOpenConnections(perAddress: 2, total: 3);
        var a = IPAddress.Parse("10.0.0.1");
        var b = IPAddress.Parse("10.0.0.2");
        var a1 = halfOpen.Add(a);
        var a2 = halfOpen.Add(a);
        var a3 = halfOpen.Add(a); // a has 2 already: a1 goes
        Assert.True(a1.Cancellation.IsCancellationRequested);
        Assert.False(a2.Cancellation.IsCancellationRequested);
        var b1 = halfOpen.Add(b); // 3 in all, under both limits
        Assert.Equal(3, halfOpen.Count);
        var b2 = halfOpen.Add(b); // full: the oldest of all (a2) goes
        Assert.True(a2.Cancellation.IsCancellationRequested);
        Assert.False(a3.Cancellation.IsCancellationRequested || b1.Cancellation.IsCancellationRequested);
        halfOpen.Remove(b2);
        halfOpen.Remove(b2); // twice is harmless
        Assert.Equal(2, halfOpen.Count);
        Assert.Equal(2, halfOpen.Evicted);
    }

    [Fact]
    public async Task Silent_half_handshakes_never_keep_a_real_peer_out_and_time_out_on_the_engine_clock()
    {
        var time = new ManualTimeProvider();
        var arrived = new TaskCompletionSource<HandshakeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hash = new RTorrent.Engine.Metainfo.InfoHash(new byte[20]);
        await using var listener = new PeerListener(r => { arrived.TrySetResult(r); return Task.CompletedTask; }, _ => null,
            EncryptionMode.Enabled, null, new HalfOpenConnections(8, 64), TimeSpan.FromHours(1), time);
        listener.Start(0, IPAddress.Loopback);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;

        var handshake = new byte[Handshake.Length];
        Handshake.Write(handshake, hash, PeerIds.Create(), PeerFeatures.Extensions);
        var silent = new List<Socket>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                silent.Add(s);
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.Port), ct);
                await s.SendAsync(handshake.AsMemory(0, 30), SocketFlags.None, ct); // half a handshake, then nothing
            }
            using var real = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await real.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.Port), ct);
            await real.SendAsync(handshake, SocketFlags.None, ct);
            var result = await arrived.Task.WaitAsync(ct);
            Assert.Equal(hash, result.InfoHash);
            result.Socket.Dispose();
            Assert.InRange(listener.HalfOpen.Count, 0, 8); // all from 127.0.0.1: at most 8 of them are kept

            // The handshake timeout is on the engine's clock: an hour of it passes, and the silent ones are let go.
            while (listener.HalfOpen.Count == 0) await Task.Yield();
            time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
            while (listener.HalfOpen.Count > 0) await Task.Delay(10, ct);
            // Closed by the listener (a reset, since it never read what was sent).
            int got;
            try { got = await silent[^1].ReceiveAsync(new byte[1], SocketFlags.None, ct); }
            catch (SocketException) { got = 0; }
            Assert.Equal(0, got);
        }
        finally
        {
            foreach (var s in silent) s.Dispose();
        }
    }
}
