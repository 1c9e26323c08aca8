using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// One NAT-PMP/PCP request to the gateway and its answer over UDP, sent again after 250 ms, 500 ms, 1 s ... (RFC 6886
/// §3.1, RFC 6887 §8.1.1) up to <see cref="Attempts"/> times. Only datagrams from the gateway's port 5351 that
/// <c>accept</c> takes are answers; anything else is dropped. Datagrams are read into a buffer of PCP's largest message.
/// </summary>
public sealed class GatewayExchange(TimeProvider time)
{
    /// <summary>Sends in all (RFC 6886 allows 9, 64 s; a session waits less and tries again later).</summary>
    public int Attempts { get; init; } = 4;

    /// <summary>The gateway's port (5351; tests run a fake gateway elsewhere on loopback).</summary>
    public int ServerPort { get; init; } = NatPmpCodec.ServerPort;

    /// <summary>The wait after the first send; doubled after each.</summary>
    public TimeSpan FirstWait { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Sends <paramref name="request"/> from a socket bound to <paramref name="local"/>, returns the first answer accepted.</summary>
    /// <exception cref="TimeoutException">No answer after every attempt.</exception>
    public async Task<T> ExchangeAsync<T>(IPAddress gateway, IPAddress local, byte[] request, Func<ReadOnlyMemory<byte>, (bool Ours, T Value)> accept,
        CancellationToken cancellationToken)
    {
        using var socket = new Socket(gateway.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(local, 0));
        var server = new IPEndPoint(gateway, ServerPort);
        var buffer = new byte[PcpCodec.MaxMessageSize + 1];
        var wait = FirstWait;
        for (int attempt = 0; attempt < Attempts; attempt++, wait *= 2)
        {
            await socket.SendToAsync(request, SocketFlags.None, server, cancellationToken).ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(wait, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                while (true)
                {
                    var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(gateway.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), linked.Token).ConfigureAwait(false);
                    if (r.RemoteEndPoint is not IPEndPoint from || !from.Address.Equals(gateway) || from.Port != ServerPort) continue;
                    if (r.ReceivedBytes > PcpCodec.MaxMessageSize) continue;
                    var (ours, value) = accept(buffer.AsMemory(0, r.ReceivedBytes));
                    if (ours) return value;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // no answer in time: send again
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
            {
                // ICMP port unreachable from the gateway: nothing listens on 5351
                throw new TimeoutException($"nothing listens on {gateway}:{ServerPort}", e);
            }
        }
        throw new TimeoutException($"no answer from {gateway}:{ServerPort}");
    }
}
