using System.Net.Sockets;

namespace RTorrent.Engine.Peers;

/// <summary>Which transport carries a peer connection.</summary>
public enum PeerTransport
{
    /// <summary>A TCP connection.</summary>
    Tcp,

    /// <summary>A uTP connection (BEP 29) over the session's UDP port.</summary>
    Utp,
}

/// <summary>
/// The byte stream under a peer connection: the handshakes (plain and MSE), the message reader and the send pump run
/// over it the same way whether it is a TCP socket (<see cref="TcpPeerStream"/>) or a uTP connection
/// (<see cref="Utp.UtpStream"/>).
/// </summary>
/// <remarks>
/// An abstract class rather than an interface: TCP's calls stay one virtual call to a sealed type that forwards to
/// its socket, with no copy and no allocation added to the hot path.
/// </remarks>
internal abstract class PeerStream : IDisposable
{
    /// <summary>The transport, shown in the Peers tab.</summary>
    public abstract PeerTransport Transport { get; }

    /// <summary>
    /// Writes what can be written without waiting; returns the bytes taken. <paramref name="error"/> is
    /// <see cref="SocketError.WouldBlock"/> when nothing could be taken now, another error when the stream failed.
    /// </summary>
    public abstract int TrySend(ReadOnlySpan<byte> data, out SocketError error);

    /// <summary>Writes some of <paramref name="data"/>, waiting for room; returns the bytes taken (at least one).</summary>
    public abstract ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Reads what arrived (waiting for at least one byte); 0 when the peer closed the stream.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Ends both directions (best effort; <see cref="Dispose"/> still follows).</summary>
    public abstract void Shutdown();

    public abstract void Dispose();
}

/// <summary>A TCP peer connection: a thin forwarder to its socket (non-blocking, so <see cref="TrySend"/> never waits).</summary>
internal sealed class TcpPeerStream : PeerStream
{
    private readonly Socket _socket;

    public TcpPeerStream(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>The socket (tests).</summary>
    internal Socket Socket => _socket;

    public override PeerTransport Transport => PeerTransport.Tcp;

    /// <summary>Makes synchronous sends return <see cref="SocketError.WouldBlock"/> instead of waiting.</summary>
    public void MakeNonBlocking() => _socket.Blocking = false;

    public override int TrySend(ReadOnlySpan<byte> data, out SocketError error) =>
        _socket.Send(data, SocketFlags.None, out error);

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _socket.SendAsync(data, SocketFlags.None, cancellationToken);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public override void Shutdown()
    {
        try { _socket.Shutdown(SocketShutdown.Both); } catch { /* already gone */ }
    }

    public override void Dispose() => _socket.Dispose();
}
