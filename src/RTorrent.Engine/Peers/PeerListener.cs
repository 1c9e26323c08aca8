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
    private readonly SemaphoreSlim _pendingHandshakes = new(64, 64);

    /// <param name="onHandshake">Called with each incoming peer whose handshake was read.</param>
    /// <param name="findTorrent">For encrypted handshakes: the torrent whose <see cref="MseHandshake.TorrentKey"/> is given.</param>
    /// <param name="encryption">Which handshakes to accept.</param>
    /// <param name="logger">Where failed handshakes are noted.</param>
    public PeerListener(Func<HandshakeResult, Task> onHandshake, Func<ReadOnlyMemory<byte>, InfoHash?> findTorrent,
        EncryptionMode encryption, ILogger? logger = null)
    {
        _onHandshake = onHandshake;
        _findTorrent = findTorrent;
        _encryption = encryption;
        _logger = logger ?? NullLogger.Instance;
    }

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
            socket.NoDelay = true;
            if (!_pendingHandshakes.Wait(0))
            {
                socket.Dispose(); // too many half-open incoming connections: a flood, not peers
                continue;
            }
            _ = HandshakeAsync(socket, ct);
        }
    }

    private async Task HandshakeAsync(Socket socket, CancellationToken ct)
    {
        try
        {
            var result = await PeerHandshaker.ReadIncomingAsync(socket, TimeSpan.FromSeconds(10), _findTorrent, _encryption, ct).ConfigureAwait(false);
            await _onHandshake(result).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PeerProtocolException or TimeoutException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("incoming handshake failed: {Error}", e.Message);
            socket.Dispose();
        }
        finally
        {
            _pendingHandshakes.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _cts.Cancel();
        foreach (var s in _sockets) s.Dispose();
        return ValueTask.CompletedTask;
    }
}
