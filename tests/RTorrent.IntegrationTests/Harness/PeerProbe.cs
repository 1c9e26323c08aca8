using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Asks a BitTorrent peer what it has, over one short connection: handshake, then read until its bitfield. Used to
/// know a third-party seeder finished checking its data before a client under test dials it (a failed dial is
/// retried only after a back-off, which would make tests slow).
/// </summary>
internal static class PeerProbe
{
    /// <summary>Whether 127.0.0.1:<paramref name="port"/> answers for the torrent with every piece.</summary>
    public static async Task<bool> IsSeedingAsync(int port, TestTorrent torrent)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            await s.SendAsync(WireFormat.Handshake(torrent.Meta.WireHash.ToArray(), WireFormat.RandomPeerId("-PR0001-")), cts.Token);
            var hs = new byte[68];
            await ReadExactlyAsync(s, hs, cts.Token);
            if (!hs.AsSpan(28, 20).SequenceEqual(torrent.Meta.WireHash.ToArray())) return false;
            var header = new byte[4];
            while (true)
            {
                await ReadExactlyAsync(s, header, cts.Token);
                int length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length is < 0 or > 1 << 20) return false;
                if (length == 0) continue;
                var body = new byte[length];
                await ReadExactlyAsync(s, body, cts.Token);
                if (body[0] == 0x0e) return true;                       // HAVE ALL (fast extension)
                if (body[0] == 0x0f) return false;                      // HAVE NONE
                if (body[0] == 5) return CountBits(body.AsSpan(1)) == torrent.Meta.PieceCount;
                if (body[0] is 0 or 1 or 2 or 3 or 4) return false;     // a core message before any bitfield: it has nothing
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or EndOfStreamException)
        {
            return false;
        }
    }

    /// <summary>Waits until <see cref="IsSeedingAsync"/> holds.</summary>
    public static Task WaitSeedingAsync(int port, TestTorrent torrent, RunningProcess seeder) =>
        Poll.UntilAsync(async () => seeder.HasExited
                ? throw new InvalidOperationException($"{seeder.Name} exited with {seeder.ExitCode}.\n{seeder.Tail()}")
                : await IsSeedingAsync(port, torrent),
            Limits.Startup, $"{seeder.Name} seeding on port {port}", TimeSpan.FromMilliseconds(500), () => seeder.Tail());

    private static int CountBits(ReadOnlySpan<byte> bits)
    {
        int n = 0;
        foreach (var b in bits) n += System.Numerics.BitOperations.PopCount(b);
        return n;
    }

    private static async Task ReadExactlyAsync(Socket s, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            int n = await s.ReceiveAsync(buffer, ct);
            if (n == 0) throw new EndOfStreamException();
            buffer = buffer[n..];
        }
    }
}
