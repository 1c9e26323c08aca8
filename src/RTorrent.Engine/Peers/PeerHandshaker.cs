using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Peers;

/// <summary>The outcome of a handshake: who the peer is and what it supports.</summary>
internal sealed record HandshakeResult(Socket Socket, IPEndPoint RemoteEndPoint, InfoHash InfoHash, byte[] PeerId,
    PeerFeatures Features, bool Outgoing);

/// <summary>Opens outgoing connections and performs the 68-byte handshake in both directions, with timeouts.</summary>
internal static class PeerHandshaker
{
    /// <summary>Connects to <paramref name="endPoint"/>, sends our handshake and reads the peer's.</summary>
    /// <exception cref="PeerProtocolException">The peer answered something else, or for another torrent.</exception>
    public static async Task<HandshakeResult> ConnectAsync(IPEndPoint endPoint, InfoHash infoHash, byte[] peerId,
        PeerFeatures features, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
            var buffer = new byte[Handshake.Length];
            Handshake.Write(buffer, infoHash, peerId, features);
            await socket.SendAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
            await ReceiveExactAsync(socket, buffer, cts.Token).ConfigureAwait(false);
            if (!Handshake.TryRead(buffer, out var theirHash, out var theirId, out var theirFeatures))
                throw new PeerProtocolException("not a BitTorrent handshake");
            if (theirHash != infoHash) throw new PeerProtocolException("handshake for another torrent");
            return new HandshakeResult(socket, endPoint, theirHash, theirId, theirFeatures, Outgoing: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"no handshake from {endPoint} within {timeout.TotalSeconds:0} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the handshake of an accepted connection. The caller answers with <see cref="AnswerAsync"/> once it knows
    /// the torrent is ours.
    /// </summary>
    public static async Task<HandshakeResult> ReadIncomingAsync(Socket socket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var buffer = new byte[Handshake.Length];
        try
        {
            await ReceiveExactAsync(socket, buffer, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("no handshake from an incoming peer in time");
        }
        if (!Handshake.TryRead(buffer, out var hash, out var id, out var features))
            throw new PeerProtocolException("not a BitTorrent handshake");
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        return new HandshakeResult(socket, Normalize(remote), hash, id, features, Outgoing: false);
    }

    /// <summary>Sends our handshake on an accepted connection.</summary>
    public static async Task AnswerAsync(Socket socket, InfoHash infoHash, byte[] peerId, PeerFeatures features, CancellationToken cancellationToken)
    {
        var buffer = new byte[Handshake.Length];
        Handshake.Write(buffer, infoHash, peerId, features);
        await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>IPv4-mapped IPv6 addresses become plain IPv4, so one peer has one key.</summary>
    public static IPEndPoint Normalize(IPEndPoint ep) =>
        ep.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ep.Address.MapToIPv4(), ep.Port) : ep;

    private static async Task ReceiveExactAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) throw new PeerProtocolException("connection closed during the handshake");
            read += n;
        }
    }
}
