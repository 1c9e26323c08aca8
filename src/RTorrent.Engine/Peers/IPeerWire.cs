using System.Net;
using RTorrent.Engine.Peers.Encryption;

namespace RTorrent.Engine.Peers;

/// <summary>
/// What the engine loop does with a peer's connection: queue encoded messages and close it. <see cref="PeerConnection"/>
/// is the socket; the loop's types see only this, so they can be tested with a fake that records what was sent.
/// </summary>
internal interface IPeerWire
{
    IPEndPoint RemoteEndPoint { get; }

    /// <summary>We dialled the peer (rather than it us).</summary>
    bool IsOutgoing { get; }

    bool IsClosed { get; }

    /// <summary>TCP or uTP.</summary>
    PeerTransport Transport => PeerTransport.Tcp;

    /// <summary>How the handshake and the stream were encrypted.</summary>
    StreamCiphers Encryption { get; }

    /// <summary>Bytes queued and not yet handed to the socket.</summary>
    int QueuedBytes { get; }

    /// <summary>Queues raw bytes (one or more encoded messages).</summary>
    void Enqueue(ReadOnlySpan<byte> bytes);

    /// <summary>Queues a PIECE message: header plus block data.</summary>
    void EnqueuePiece(int piece, int begin, ReadOnlySpan<byte> block);

    /// <summary>Queues a PIECE message whose block comes in two parts (it crosses two slices of the read cache).</summary>
    void EnqueuePiece(int piece, int begin, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail);

    /// <summary>Gives a span of <paramref name="length"/> bytes at the end of the queue to write into.</summary>
    void EnqueueWith(int length, Action<Memory<byte>> write);

    /// <summary>Closes the connection; its handler hears about it once, on the loop.</summary>
    void Close(string reason);
}
