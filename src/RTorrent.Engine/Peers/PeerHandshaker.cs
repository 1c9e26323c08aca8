using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers.Encryption;

namespace RTorrent.Engine.Peers;

/// <summary>The outcome of a handshake: who the peer is, what it supports, and how the stream is encrypted.</summary>
/// <param name="Leftover">Bytes the peer sent after its handshake, already decrypted, for the connection to parse first.</param>
internal sealed record HandshakeResult(PeerStream Stream, IPEndPoint RemoteEndPoint, InfoHash InfoHash, byte[] PeerId,
    PeerFeatures Features, bool Outgoing, StreamCiphers Ciphers, byte[] Leftover);

/// <summary>
/// Opens outgoing connections and performs the handshake in both directions, with timeouts: the plain 68-byte
/// BitTorrent handshake, or that handshake inside Message Stream Encryption (see <see cref="MseHandshake"/>).
/// </summary>
internal static class PeerHandshaker
{
    /// <summary>
    /// Connects to <paramref name="endPoint"/> over TCP and exchanges handshakes, encrypted or not as <paramref name="mode"/>
    /// says, with one retry the other way where the mode allows it.
    /// </summary>
    /// <param name="upgradeHash">
    /// BEP 52: a hybrid torrent's truncated v2 hash, which a v2 peer may answer with when our handshake sets the v2
    /// ("upgrade") bit; the connection is then on the v2 protocol. Null accepts only <paramref name="infoHash"/>.
    /// </param>
    /// <param name="proxy">The proxy to connect through (issue 16: docs/PROXIES.md), or null to connect directly.</param>
    /// <exception cref="PeerProtocolException">The peer answered something else, or for another torrent.</exception>
    public static Task<HandshakeResult> ConnectAsync(IPEndPoint endPoint, InfoHash infoHash, byte[] peerId,
        PeerFeatures features, TimeSpan timeout, EncryptionMode mode, CancellationToken cancellationToken, InfoHash? upgradeHash = null,
        Proxies.ProxyServer? proxy = null) =>
        ConnectAsync(endPoint, (ep, ct) => ConnectTcpAsync(ep, proxy, ct), infoHash, peerId, features, timeout, mode, cancellationToken, upgradeHash);

    /// <summary>
    /// Dials a peer the way libtorrent does: over uTP first when <paramref name="utp"/> is given and the peer did not
    /// fail to answer uTP lately, then over TCP when the uTP connection could not be opened (no answer to the SYN within
    /// about 3 s, or a RESET) and <paramref name="tcp"/> allows it. A peer that answered uTP and then failed the
    /// handshake is not tried again over TCP: it speaks uTP and refused us. See docs/UTP.md. Through a proxy
    /// (<paramref name="proxy"/>) only TCP is used: uTP would leave directly (docs/PROXIES.md).
    /// </summary>
    public static async Task<HandshakeResult> DialAsync(IPEndPoint endPoint, Utp.UtpSocket? utp, bool tcp, InfoHash infoHash, byte[] peerId,
        PeerFeatures features, TimeSpan timeout, EncryptionMode mode, CancellationToken cancellationToken, InfoHash? upgradeHash = null,
        Proxies.ProxyServer? proxy = null)
    {
        if (proxy is not null)
        {
            if (!tcp) throw new SocketException((int)SocketError.ProtocolNotSupported);
            return await ConnectAsync(endPoint, infoHash, peerId, features, timeout, mode, cancellationToken, upgradeHash, proxy).ConfigureAwait(false);
        }
        if (utp is not null && !(tcp && utp.KnownWithoutUtp(endPoint)))
        {
            bool opened = false;
            try
            {
                return await ConnectAsync(endPoint, async (ep, ct) =>
                {
                    var c = await utp.ConnectAsync(ep, ct).ConfigureAwait(false);
                    opened = true;
                    return c;
                }, infoHash, peerId, features, timeout, mode, cancellationToken, upgradeHash).ConfigureAwait(false);
            }
            catch (Exception e) when (tcp && !opened && !cancellationToken.IsCancellationRequested &&
                e is SocketException or TimeoutException or ObjectDisposedException)
            {
                // No uTP there: TCP below.
            }
        }
        if (!tcp) throw new SocketException((int)SocketError.ProtocolNotSupported);
        return await ConnectAsync(endPoint, ConnectTcpAsync, infoHash, peerId, features, timeout, mode, cancellationToken, upgradeHash).ConfigureAwait(false);
    }

    /// <summary>Opens a TCP connection (no handshake).</summary>
    public static Task<PeerStream> ConnectTcpAsync(IPEndPoint endPoint, CancellationToken cancellationToken) =>
        ConnectTcpAsync(endPoint, null, cancellationToken);

    /// <summary>Opens a TCP connection (no handshake), through <paramref name="proxy"/> when given: the tunnel is the connection.</summary>
    public static async Task<PeerStream> ConnectTcpAsync(IPEndPoint endPoint, Proxies.ProxyServer? proxy, CancellationToken cancellationToken)
    {
        if (proxy is not null)
            return new TcpPeerStream(await Proxies.ProxyConnector.ConnectAsync(proxy, endPoint, cancellationToken).ConfigureAwait(false));
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return new TcpPeerStream(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a stream with <paramref name="open"/> (TCP or uTP) to <paramref name="endPoint"/> and exchanges
    /// handshakes, encrypted or not as <paramref name="mode"/> says, with one retry the other way where the mode allows it.
    /// </summary>
    public static async Task<HandshakeResult> ConnectAsync(IPEndPoint endPoint, Func<IPEndPoint, CancellationToken, Task<PeerStream>> open,
        InfoHash infoHash, byte[] peerId, PeerFeatures features, TimeSpan timeout, EncryptionMode mode, CancellationToken cancellationToken,
        InfoHash? upgradeHash = null)
    {
        const CryptoMethod Either = CryptoMethod.Rc4 | CryptoMethod.Plaintext;
        CryptoMethod? first = mode switch
        {
            EncryptionMode.Preferred => Either,
            EncryptionMode.Required => CryptoMethod.Rc4,
            _ => null, // plain
        };
        try
        {
            return await ConnectOnceAsync(endPoint, open, infoHash, peerId, features, timeout, first, cancellationToken, upgradeHash).ConfigureAwait(false);
        }
        // Enabled: peers that require encryption hang up on a plain handshake; try them encrypted, once.
        // Preferred: a peer without MSE hangs up or answers garbage; try it plain, once.
        catch (Exception e) when (mode switch
        {
            EncryptionMode.Enabled => e is PeerProtocolException { PeerHungUp: true } or SocketException { SocketErrorCode: SocketError.ConnectionReset },
            EncryptionMode.Preferred => e is PeerProtocolException,
            _ => false,
        })
        {
            CryptoMethod? retry = mode == EncryptionMode.Enabled ? Either : null;
            return await ConnectOnceAsync(endPoint, open, infoHash, peerId, features, timeout, retry, cancellationToken, upgradeHash).ConfigureAwait(false);
        }
    }

    private static async Task<HandshakeResult> ConnectOnceAsync(IPEndPoint endPoint, Func<IPEndPoint, CancellationToken, Task<PeerStream>> open,
        InfoHash infoHash, byte[] peerId, PeerFeatures features, TimeSpan timeout, CryptoMethod? encrypt, CancellationToken cancellationToken,
        InfoHash? upgradeHash)
    {
        PeerStream? socket = null;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            socket = await open(endPoint, cts.Token).ConfigureAwait(false);
            var ours = new byte[Handshake.Length];
            Handshake.Write(ours, infoHash, peerId, features);
            var reader = new HandshakeReader(socket);
            var ciphers = StreamCiphers.Plain;
            if (encrypt is { } provide)
                ciphers = await MseHandshake.InitiateAsync(reader, socket, infoHash, ours, provide, cts.Token).ConfigureAwait(false);
            else
                await SendAllAsync(socket, ours, cts.Token).ConfigureAwait(false);
            await reader.EnsureAsync(Handshake.Length, cts.Token).ConfigureAwait(false);
            if (!Handshake.TryRead(reader.Take(Handshake.Length), out var theirHash, out var theirId, out var theirFeatures))
                throw new PeerProtocolException("not a BitTorrent handshake");
            if (theirHash != infoHash && (upgradeHash != theirHash || !features.HasFlag(PeerFeatures.V2)))
                throw new PeerProtocolException("handshake for another torrent");
            return new HandshakeResult(socket, endPoint, theirHash, theirId, theirFeatures, Outgoing: true, ciphers, reader.TakeRemaining());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new TimeoutException($"no handshake from {endPoint} within {timeout.TotalSeconds:0} s");
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the handshake of an accepted connection, plain or MSE. The caller answers with <see cref="AnswerAsync"/>
    /// once it knows the torrent is ours.
    /// </summary>
    /// <param name="socket">The accepted connection.</param>
    /// <param name="remote">Its remote end.</param>
    /// <param name="timeout">For the whole handshake.</param>
    /// <param name="findTorrent">For MSE: the info-hash whose <see cref="MseHandshake.TorrentKey"/> is the given bytes, or null.</param>
    /// <param name="mode">Which handshakes to accept.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public static async Task<HandshakeResult> ReadIncomingAsync(PeerStream socket, IPEndPoint remote, TimeSpan timeout,
        Func<ReadOnlyMemory<byte>, InfoHash?> findTorrent, EncryptionMode mode, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var reader = new HandshakeReader(socket);
        try
        {
            // 20 bytes tell the two apart: "\x13BitTorrent protocol", or the start of a 96-byte DH key.
            await reader.EnsureAsync(20, cts.Token).ConfigureAwait(false);
            bool plain = Handshake.StartsWithProtocol(reader.Buffered);
            var ciphers = StreamCiphers.Plain;
            InfoHash? mseHash = null;
            if (plain && mode == EncryptionMode.Required) throw new PeerProtocolException("plain handshake refused (encryption required)");
            if (!plain)
            {
                if (mode == EncryptionMode.Disabled) throw new PeerProtocolException("not a BitTorrent handshake");
                var allowed = mode == EncryptionMode.Required ? CryptoMethod.Rc4 : CryptoMethod.Rc4 | CryptoMethod.Plaintext;
                (mseHash, ciphers) = await MseHandshake.RespondAsync(reader, socket, findTorrent, allowed,
                    preferRc4: mode != EncryptionMode.Enabled, cts.Token).ConfigureAwait(false);
            }
            await reader.EnsureAsync(Handshake.Length, cts.Token).ConfigureAwait(false);
            if (!Handshake.TryRead(reader.Take(Handshake.Length), out var hash, out var id, out var features))
                throw new PeerProtocolException("not a BitTorrent handshake");
            // The keys were made for one torrent; a handshake inside them naming another is not to be trusted.
            if (mseHash is { } keyed && keyed != hash) throw new PeerProtocolException("handshake for another torrent than its encryption");
            return new HandshakeResult(socket, Normalize(remote), hash, id, features, Outgoing: false, ciphers, reader.TakeRemaining());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("no handshake from an incoming peer in time");
        }
    }

    /// <summary>Sends our handshake on an accepted connection (encrypted when the connection is).</summary>
    public static async Task AnswerAsync(HandshakeResult incoming, byte[] peerId, PeerFeatures features, CancellationToken cancellationToken)
    {
        var buffer = new byte[Handshake.Length];
        Handshake.Write(buffer, incoming.InfoHash, peerId, features);
        incoming.Ciphers.Encryptor?.Apply(buffer);
        await SendAllAsync(incoming.Stream, buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>IPv4-mapped IPv6 addresses become plain IPv4, so one peer has one key.</summary>
    public static IPEndPoint Normalize(IPEndPoint ep) =>
        ep.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ep.Address.MapToIPv4(), ep.Port) : ep;

    /// <summary>Writes all of <paramref name="data"/> (a socket may take less per call).</summary>
    internal static async Task SendAllAsync(PeerStream socket, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, ct).ConfigureAwait(false);
            if (n <= 0) throw PeerProtocolException.HungUpDuringHandshake();
            data = data[n..];
        }
    }
}
