using System.Net;
using System.Net.Sockets;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Ports for programs that cannot be told to pick their own (opentracker, aria2, transmission). The OS picks a free
/// one (bind to port 0) and the socket is closed again: a small window in which another program could take it, which
/// is why the programs that can listen on port 0 (ours, libtorrent) do so instead.
/// </summary>
internal static class FreePorts
{
    /// <summary>A TCP port free on 127.0.0.1.</summary>
    public static int Tcp()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>A port free for both TCP and UDP on 127.0.0.1 (opentracker serves both on one port).</summary>
    public static int TcpAndUdp()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) { /* taken for UDP: try another */ }
        }
        throw new InvalidOperationException("No port free for both TCP and UDP on 127.0.0.1 after 50 tries.");
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
