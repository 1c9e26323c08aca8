using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers.Encryption;

namespace RTorrent.Engine.Peers;

/// <summary>
/// Accepts incoming peer connections on one port, over IPv6 and IPv4 (a dual-stack socket where the system allows it,
/// otherwise IPv4 alone), reads their handshakes and hands them on.
/// </summary>
internal sealed class PeerListener : IAsyncDisposable
{
    private readonly Func<HandshakeResult, Task> _onHandshake;
    private readonly Func<ReadOnlyMemory<byte>, InfoHash?> _findTorrent;
    private readonly EncryptionMode _encryption;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Socket> _sockets = [];
    private readonly HalfOpenConnections _halfOpen;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeProvider _time;
    private readonly Func<IPAddress, bool>? _refuse;

    /// <summary>Half-open incoming connections allowed from one address, and in all, by default.</summary>
    public const int DefaultHalfOpenPerAddress = 8, DefaultHalfOpenTotal = 64;

    /// <summary>How long an incoming peer has to complete its handshake, by default.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <param name="onHandshake">Called with each incoming peer whose handshake was read.</param>
    /// <param name="findTorrent">For encrypted handshakes: the torrent whose <see cref="MseHandshake.TorrentKey"/> is given.</param>
    /// <param name="encryption">Which handshakes to accept.</param>
    /// <param name="logger">Where failed handshakes are noted.</param>
    /// <param name="halfOpen">Limits on connections whose handshake is not read yet (default 8 per address, 64 in all).</param>
    /// <param name="handshakeTimeout">How long an incoming peer has to finish its handshake (default 10 s).</param>
    /// <param name="time">The clock the handshake timeout runs on (the engine's).</param>
    /// <param name="refuse">The blocklist: a connection from an address it blocks is closed at once, before a byte is read.</param>
    public PeerListener(Func<HandshakeResult, Task> onHandshake, Func<ReadOnlyMemory<byte>, InfoHash?> findTorrent,
        EncryptionMode encryption, ILogger? logger = null, HalfOpenConnections? halfOpen = null,
        TimeSpan? handshakeTimeout = null, TimeProvider? time = null, Func<IPAddress, bool>? refuse = null)
    {
        _refuse = refuse;
        _halfOpen = halfOpen ?? new HalfOpenConnections(DefaultHalfOpenPerAddress, DefaultHalfOpenTotal);
        _handshakeTimeout = handshakeTimeout ?? DefaultHandshakeTimeout;
        _time = time ?? TimeProvider.System;
        _onHandshake = onHandshake;
        _findTorrent = findTorrent;
        _encryption = encryption;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Incoming connections whose handshake is not read yet.</summary>
    internal HalfOpenConnections HalfOpen => _halfOpen;

    /// <summary>Whether accepted TCP connections are read (settings.json enableIncomingTcp); when false they are closed at once.</summary>
    public bool AcceptTcp
    {
        get => Volatile.Read(ref _acceptTcp);
        set => Volatile.Write(ref _acceptTcp, value);
    }

    private bool _acceptTcp = true;

    /// <summary>The port actually bound (useful when 0 was asked for).</summary>
    public int Port { get; private set; }

    /// <summary>Binds and starts accepting. <paramref name="address"/> null means every interface.</summary>
    public void Start(int port, IPAddress? address = null)
    {
        if (address is null)
        {
            try
            {
                var dual = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                dual.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
                dual.Listen(128);
                _sockets.Add(dual);
            }
            catch (SocketException)
            {
                var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                v4.Bind(new IPEndPoint(IPAddress.Any, port));
                v4.Listen(128);
                _sockets.Add(v4);
            }
        }
        else
        {
            var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // An IPv6 address given means IPv6 alone (settings.json listenOnIPv4 = false): never v4-mapped connections.
            if (address.AddressFamily == AddressFamily.InterNetworkV6) s.DualMode = false;
            s.Bind(new IPEndPoint(address, port));
            s.Listen(128);
            _sockets.Add(s);
        }
        Port = ((IPEndPoint)_sockets[0].LocalEndPoint!).Port;
        foreach (var s in _sockets) _ = Task.Run(() => AcceptLoopAsync(s));
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        var ct = _cts.Token;
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                _logger.LogDebug("accept failed: {Error}", e.SocketErrorCode);
                continue;
            }
            if (!AcceptTcp)
            {
                socket.Dispose();
                continue;
            }
            socket.NoDelay = true;
            // Always taken: when too many are half-open, the oldest silent one makes room (see HalfOpenConnections).
            var address = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            if (_refuse?.Invoke(address) == true)
            {
                // Blocked: closed before the handshake, and it takes no half-open slot.
                _logger.LogDebug("refused {Address}: blocked by the blocklist", address);
                socket.Dispose();
                continue;
            }
            var remote = socket.RemoteEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
            _ = HandshakeAsync(new TcpPeerStream(socket), remote, _halfOpen.Add(address), ct);
        }
    }

    /// <summary>
    /// Reads the handshake of an accepted connection (TCP from the accept loop, uTP from the UDP port) within the
    /// half-open limits and the handshake timeout, and hands it on.
    /// </summary>
    internal Task AcceptAsync(PeerStream stream, IPEndPoint remote)
    {
        if (_refuse?.Invoke(remote.Address) == true)
        {
            _logger.LogDebug("refused {Address}: blocked by the blocklist", remote.Address);
            stream.Dispose();
            return Task.CompletedTask;
        }
        return HandshakeAsync(stream, remote, _halfOpen.Add(remote.Address), _cts.Token);
    }

    private async Task HandshakeAsync(PeerStream socket, IPEndPoint remote, HalfOpenConnections.Entry entry, CancellationToken ct)
    {
        // The timeout runs on the engine's clock; eviction for a newer connection cancels the same way.
        using var timeout = new CancellationTokenSource(_handshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token, entry.Cancellation.Token);
        try
        {
            var result = await PeerHandshaker.ReadIncomingAsync(socket, remote, Timeout.InfiniteTimeSpan, _findTorrent, _encryption, linked.Token).ConfigureAwait(false);
            _halfOpen.Remove(entry);
            await _onHandshake(result).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PeerProtocolException or TimeoutException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            string why = timeout.IsCancellationRequested ? $"no handshake within {_handshakeTimeout.TotalSeconds:0} s"
                : entry.Cancellation.IsCancellationRequested ? "dropped for a newer connection (too many half-open)"
                : e.Message;
            _logger.LogDebug("incoming handshake from {Address} failed: {Error}", entry.Address, why);
            socket.Dispose();
        }
        finally
        {
            _halfOpen.Remove(entry);
            entry.Cancellation.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        _cts.Cancel();
        foreach (var s in _sockets) s.Dispose();
        return ValueTask.CompletedTask;
    }
}
