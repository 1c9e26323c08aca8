using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Dht;

/// <summary>One received datagram.</summary>
/// <param name="Length">Bytes received into the buffer.</param>
/// <param name="From">The sender.</param>
internal readonly record struct DhtDatagram(int Length, IPEndPoint From);

/// <summary>How the engine sends and receives datagrams; a UDP socket, or a fake in tests.</summary>
internal interface IDhtTransport : IDisposable
{
    /// <summary>The bound local endpoint.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends one datagram without waiting; false when the system refused it.</summary>
    bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to);

    /// <summary>Receives the next datagram.</summary>
    ValueTask<DhtDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>The UDP socket of a DHT node (one address family: BEP 32 runs IPv4 and IPv6 as two DHTs).</summary>
internal sealed class UdpDhtTransport : IDhtTransport
{
    private readonly Socket _socket;
    private readonly EndPoint _anyRemote;

    public UdpDhtTransport(IPAddress bindAddress, int port)
    {
        _socket = new Socket(bindAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (bindAddress.AddressFamily == AddressFamily.InterNetworkV6) _socket.DualMode = false;
            // A DHT node gets bursts of answers to its parallel queries: a roomy receive buffer loses fewer.
            _socket.ReceiveBufferSize = 1 << 20;
            _socket.SendBufferSize = 1 << 20;
            _socket.Bind(new IPEndPoint(bindAddress, port));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _anyRemote = new IPEndPoint(bindAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
    }

    public IPEndPoint LocalEndPoint { get; }

    public bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        try
        {
            return _socket.SendTo(datagram, SocketFlags.None, to) == datagram.Length;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public async ValueTask<DhtDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, _anyRemote, cancellationToken).ConfigureAwait(false);
        return new DhtDatagram(result.ReceivedBytes, AddressClass.Normalize((IPEndPoint)result.RemoteEndPoint));
    }

    public void Dispose() => _socket.Dispose();
}
