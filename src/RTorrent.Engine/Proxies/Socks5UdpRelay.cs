using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Proxies;

/// <summary>
/// One SOCKS5 UDP association (RFC 1928 section 7): datagrams to any target go to the proxy's relay with a small
/// header naming the target, and datagrams from targets come back from the relay with a header naming the sender.
/// The association lives as long as its TCP control connection; when the proxy closes that, <see cref="Closed"/>
/// completes and the relay sends nothing more (it never falls back to sending directly).
/// </summary>
public sealed class Socks5UdpRelay : IDisposable
{
    /// <summary>A datagram and its header: DHT and tracker datagrams are far smaller, uTP's at most ~1.5 KB.</summary>
    private const int MaxDatagram = 64 * 1024;

    private readonly Socket _control;
    private readonly Socket _udp;
    private readonly IPEndPoint _relay;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _receiveBuffer = new byte[MaxDatagram];
    private readonly EndPoint _anyRemote;
    private volatile bool _disposed;

    private Socks5UdpRelay(Socket control, Socket udp, IPEndPoint relay)
    {
        _control = control;
        _udp = udp;
        _relay = relay;
        _anyRemote = new IPEndPoint(udp.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        _ = WatchControlAsync();
    }

    /// <summary>Where the proxy relays our datagrams from.</summary>
    public IPEndPoint RelayEndPoint => _relay;

    /// <summary>Our UDP socket's local end point (what the proxy sees is its own address, not this).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_udp.LocalEndPoint!;

    /// <summary>Completes when the association ends: the proxy closed the control connection, or we were disposed.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Whether datagrams can still be sent.</summary>
    public bool IsOpen => !_closed.Task.IsCompleted;

    /// <summary>Logs in to the proxy and asks for an association.</summary>
    /// <exception cref="ProxyException">The proxy refused, failed, or is not SOCKS5.</exception>
    public static async Task<Socks5UdpRelay> OpenAsync(ProxyServer proxy, CancellationToken cancellationToken)
    {
        if (!proxy.CarriesUdp) throw new ArgumentException($"a {proxy} cannot carry datagrams", nameof(proxy));
        var control = await ProxyConnector.ConnectToProxyAsync(proxy, cancellationToken).ConfigureAwait(false);
        Socket? udp = null;
        try
        {
            var proxyAddress = ((IPEndPoint)control.RemoteEndPoint!).Address;
            if (proxyAddress.IsIPv4MappedToIPv6) proxyAddress = proxyAddress.MapToIPv4();
            udp = new Socket(proxyAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(proxyAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
            // We name no client address: our datagrams may leave from an address the proxy sees differently (NAT).
            var any = new IPEndPoint(proxyAddress.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            var bound = await ProxyConnector.Socks5HandshakeAsync(control, proxy, Socks5Protocol.UdpAssociate, any, cancellationToken).ConfigureAwait(false);
            if (bound is not IPEndPoint relay || relay.Port == 0)
                throw new ProxyException($"the SOCKS5 proxy gave no usable relay address ({bound})");
            // Servers behind a wildcard bind answer 0.0.0.0: the relay is then at the address we reached the proxy on.
            if (relay.Address.Equals(IPAddress.Any) || relay.Address.Equals(IPAddress.IPv6Any)) relay = new IPEndPoint(proxyAddress, relay.Port);
            if (relay.Address.IsIPv4MappedToIPv6) relay = new IPEndPoint(relay.Address.MapToIPv4(), relay.Port);
            if (relay.AddressFamily != udp.AddressFamily)
                throw new ProxyException($"the SOCKS5 proxy's relay {relay} is of another address family than the proxy");
            return new Socks5UdpRelay(control, udp, relay);
        }
        catch
        {
            udp?.Dispose();
            control.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends one datagram to <paramref name="target"/> (an address, or a name the proxy looks up) through the relay,
    /// without waiting. False when the association is closed or the system refused it; never sent directly.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> payload, EndPoint target)
    {
        if (!IsOpen) return false;
        var buffer = ArrayPool<byte>.Shared.Rent(3 + Socks5Protocol.MaxAddressLength + payload.Length);
        try
        {
            int header = Socks5Protocol.WriteUdpHeader(buffer, target);
            payload.CopyTo(buffer.AsSpan(header));
            int length = header + payload.Length;
            return _udp.SendTo(buffer.AsSpan(0, length), SocketFlags.None, _relay) == length;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ProxyException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Receives the next datagram the relay passes on: its payload copied into <paramref name="buffer"/> (cut to fit) and
    /// its sender. Datagrams that do not come from the relay, fragments and malformed headers are dropped.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The relay was disposed.</exception>
    public async ValueTask<(int Length, EndPoint From)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _udp.ReceiveFromAsync(_receiveBuffer, SocketFlags.None, _anyRemote, cancellationToken).ConfigureAwait(false);
            var from = (IPEndPoint)result.RemoteEndPoint;
            var fromAddress = from.Address.IsIPv4MappedToIPv6 ? from.Address.MapToIPv4() : from.Address;
            // Only the relay may speak for targets: anything else is someone guessing our port.
            if (!fromAddress.Equals(_relay.Address) || from.Port != _relay.Port) continue;
            var datagram = _receiveBuffer.AsSpan(0, result.ReceivedBytes);
            if (!Socks5Protocol.TryReadUdpHeader(datagram, out var sender, out int offset)) continue;
            int length = Math.Min(datagram.Length - offset, buffer.Length);
            datagram.Slice(offset, length).CopyTo(buffer.Span);
            return (length, sender);
        }
    }

    private async Task WatchControlAsync()
    {
        // The proxy never sends on the control connection; it only closes it when the association ends.
        var one = new byte[1];
        try
        {
            while (true)
            {
                int n = await _control.ReceiveAsync(one, SocketFlags.None).ConfigureAwait(false);
                if (n == 0) break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // closed either way
        }
        _closed.TrySetResult();
        if (!_disposed) Dispose();
    }

    /// <summary>Ends the association (closes the control connection) and the UDP socket.</summary>
    public void Dispose()
    {
        _disposed = true;
        _control.Dispose();
        _udp.Dispose();
        _closed.TrySetResult();
    }
}
