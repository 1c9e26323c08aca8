using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Ports for programs that cannot be told to pick their own (opentracker, aria2, transmission). A candidate is
/// checked free by binding it, then released for the program. Candidates come from below the kernel's ephemeral
/// range: a port released from that range could be handed at once to any socket bound to port 0 (other tests, our
/// own client) before the program binds it. The programs that can listen on port 0 (ours, libtorrent) do so instead.
/// </summary>
internal static class FreePorts
{
    private const int Lowest = 10_000;

    private static readonly Lazy<int> EphemeralLow = new(() =>
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32_768; // Linux's default
        }
    });

    /// <summary>A TCP port free on 127.0.0.1.</summary>
    public static int Tcp() => Find(udpToo: false);

    /// <summary>A port free for both TCP and UDP on 127.0.0.1 (opentracker serves both on one port).</summary>
    public static int TcpAndUdp() => Find(udpToo: true);

    private static int Find(bool udpToo)
    {
        int high = Math.Max(Lowest + 1_000, EphemeralLow.Value);
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(Lowest, high);
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                if (udpToo) udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) { /* taken: try another */ }
        }
        throw new InvalidOperationException($"No free port between {Lowest} and {high} on 127.0.0.1 after 200 tries.");
    }

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> IsListeningAsync(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
