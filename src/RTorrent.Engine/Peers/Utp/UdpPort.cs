using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.Dht;

namespace RTorrent.Engine.Peers.Utp;

/// <summary>
/// The session's UDP port (the listen port's number): one socket per address family carrying uTP and the DHT,
/// told apart by content as libtorrent does. A uTP packet has version 1 in the low nibble of its first byte and a
/// type of at most 4 (<see cref="UtpHeader.LooksLikeUtp"/>); a DHT message is a bencoded dictionary, so it starts
/// with 'd' (0x64, whose low nibble is 4). Anything else is dropped (UDP tracker answers would be recognised here
/// later: they start with a 32-bit action of 0 to 3).
/// </summary>
internal sealed class UdpPort : IDatagramSender, IAsyncDisposable
{
    private const int ReceiveBufferSize = 64 * 1024;
    private const int DhtQueueLength = 512;

    private readonly Socket? _v4;
    private readonly Socket? _v6;
    private readonly CancellationTokenSource _cts = new();
    private readonly ILogger _logger;
    private readonly List<Task> _loops = [];
    private SharedDhtTransport? _dhtV4, _dhtV6;

    private UdpPort(Socket? v4, Socket? v6, TimeProvider time, ILogger logger, UtpOptions? options)
    {
        _v4 = v4;
        _v6 = v6;
        _logger = logger;
        Utp = new UtpSocket(this, time, logger, options);
        Port = ((IPEndPoint)(v4 ?? v6)!.LocalEndPoint!).Port;
    }

    /// <summary>The uTP connections on this port.</summary>
    public UtpSocket Utp { get; }

    public int Port { get; }

    /// <summary>Datagrams that were neither uTP nor DHT (dropped).</summary>
    public long Unrecognised => Interlocked.Read(ref _unrecognised);

    private long _unrecognised;

    /// <summary>
    /// Binds the port: on <paramref name="address"/>, or on every IPv4 address and (when the system has IPv6) every
    /// IPv6 address as a separate socket (BEP 32 runs a DHT per family).
    /// </summary>
    /// <exception cref="SocketException">The port is taken.</exception>
    public static UdpPort Open(IPAddress? address, int port, TimeProvider? time = null, ILogger? logger = null, UtpOptions? options = null)
    {
        Socket? v4 = null, v6 = null;
        try
        {
            if (address is not null)
            {
                if (address.AddressFamily == AddressFamily.InterNetworkV6) v6 = Bind(address, port);
                else v4 = Bind(address, port);
            }
            else
            {
                v4 = Bind(IPAddress.Any, port);
                int bound = ((IPEndPoint)v4.LocalEndPoint!).Port;
                if (Socket.OSSupportsIPv6)
                {
                    try { v6 = Bind(IPAddress.IPv6Any, bound); }
                    catch (SocketException) { /* no IPv6 here: IPv4 alone */ }
                }
            }
        }
        catch
        {
            v4?.Dispose();
            v6?.Dispose();
            throw;
        }
        var udp = new UdpPort(v4, v6, time ?? TimeProvider.System, logger ?? NullLogger.Instance, options);
        if (v4 is not null) udp._loops.Add(Task.Run(() => udp.ReceiveLoopAsync(v4)));
        if (v6 is not null) udp._loops.Add(Task.Run(() => udp.ReceiveLoopAsync(v6)));
        return udp;
    }

    private static Socket Bind(IPAddress address, int port)
    {
        var s = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6) s.DualMode = false;
            // uTP at full speed and a DHT's bursts of answers: a roomy buffer each way loses fewer datagrams.
            s.ReceiveBufferSize = 4 << 20;
            s.SendBufferSize = 4 << 20;
            s.Blocking = false;
            s.Bind(new IPEndPoint(address, port));
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Whether this port has a socket of <paramref name="family"/> (the DHT node of that family can share it).</summary>
    public bool Has(AddressFamily family) => (family == AddressFamily.InterNetworkV6 ? _v6 : _v4) is not null;

    /// <summary>
    /// A DHT transport over this port for one address family (the DHT node's socket). One at a time per family: a
    /// DHT that restarts asks again after disposing the last one.
    /// </summary>
    public IDhtTransport CreateDhtTransport(AddressFamily family = AddressFamily.InterNetwork)
    {
        var socket = family == AddressFamily.InterNetworkV6 ? _v6 : _v4;
        if (socket is null) throw new SocketException((int)SocketError.AddressFamilyNotSupported);
        var transport = new SharedDhtTransport(this, socket);
        if (family == AddressFamily.InterNetworkV6) _dhtV6 = transport;
        else _dhtV4 = transport;
        return transport;
    }

    // ================================================================ receiving

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var ct = _cts.Token;
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize, pinned: true);
        var from = new SocketAddress(socket.AddressFamily);
        while (!ct.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await socket.ReceiveFromAsync(buffer, SocketFlags.None, from, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                // An ICMP error for an earlier send (port unreachable) surfaces on the next receive: not ours to stop for.
                if (ct.IsCancellationRequested) return;
                _logger.LogDebug("UDP receive: {Error}", e.SocketErrorCode);
                continue;
            }
            try
            {
                Dispatch(socket, buffer.AsSpan(0, n), from);
                // The queue is empty: send the acks this burst of packets asked for, one per connection.
                if (socket.Available == 0) Utp.FlushAcks();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogError(e, "UDP datagram from {From} could not be handled", from);
            }
        }
    }

    private void Dispatch(Socket socket, ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        if (UtpHeader.LooksLikeUtp(datagram))
        {
            Utp.Receive(datagram, from);
            return;
        }
        if (datagram.Length > 0 && datagram[0] == (byte)'d')
        {
            var dht = socket == _v6 ? _dhtV6 : _dhtV4;
            if (dht is not null && !dht.IsDisposed)
            {
                var template = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
                dht.Enqueue(datagram, PeerHandshaker.Normalize((IPEndPoint)template.Create(from)));
                return;
            }
        }
        Interlocked.Increment(ref _unrecognised);
    }

    // ================================================================ sending

    public void SendTo(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        var socket = to.Family == AddressFamily.InterNetworkV6 ? _v6 : _v4;
        if (socket is null) return;
        try
        {
            socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (SocketException) { /* a full buffer or an unreachable peer: the packet is lost, uTP sends it again */ }
        catch (ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        Utp.Dispose();
        _v4?.Dispose();
        _v6?.Dispose();
        try { await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
        _cts.Dispose();
    }

    /// <summary>
    /// The DHT's view of the shared port: datagrams starting with 'd' are queued for it (bounded: when the DHT falls
    /// behind, new ones are dropped, as a full socket buffer would), and it sends through the port's socket.
    /// </summary>
    private sealed class SharedDhtTransport(UdpPort port, Socket socket) : IDhtTransport
    {
        private readonly Channel<(byte[] Data, int Length, IPEndPoint From)> _queue =
            Channel.CreateBounded<(byte[], int, IPEndPoint)>(new BoundedChannelOptions(DhtQueueLength)
            {
                FullMode = BoundedChannelFullMode.DropWrite,
                SingleReader = true,
                SingleWriter = false,
            }, dropped => ArrayPool<byte>.Shared.Return(dropped.Item1));

        public bool IsDisposed { get; private set; }

        public IPEndPoint LocalEndPoint { get; } = (IPEndPoint)socket.LocalEndPoint!;

        public void Enqueue(ReadOnlySpan<byte> datagram, IPEndPoint from)
        {
            var copy = ArrayPool<byte>.Shared.Rent(datagram.Length);
            datagram.CopyTo(copy);
            if (!_queue.Writer.TryWrite((copy, datagram.Length, from))) ArrayPool<byte>.Shared.Return(copy);
        }

        public bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to)
        {
            try
            {
                return socket.SendTo(datagram, SocketFlags.None, to) == datagram.Length;
            }
            catch (SocketException) { return false; }
            catch (ObjectDisposedException) { return false; }
        }

        public async ValueTask<DhtDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            (byte[] Data, int Length, IPEndPoint From) item;
            try { item = await _queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false); }
            catch (ChannelClosedException) { throw new ObjectDisposedException(nameof(IDhtTransport)); }
            var (data, length, from) = item;
            int n = Math.Min(length, buffer.Length);
            data.AsSpan(0, n).CopyTo(buffer.Span);
            ArrayPool<byte>.Shared.Return(data);
            return new DhtDatagram(n, from);
        }

        public void Dispose()
        {
            IsDisposed = true;
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var item)) ArrayPool<byte>.Shared.Return(item.Data);
            if (port._dhtV4 == this) port._dhtV4 = null;
            if (port._dhtV6 == this) port._dhtV6 = null;
        }
    }
}
