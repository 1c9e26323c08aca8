using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Tests.Client;

/// <summary>A connection that keeps what the loop queued, decoded, instead of sending it.</summary>
internal sealed class FakeWire(IPEndPoint remote, bool outgoing = true, StreamCiphers? ciphers = null) : IPeerWire
{
    private readonly Lock _lock = new();
    private readonly List<(MessageId Id, int Count, TaskCompletionSource Seen)> _waiters = [];
    private byte[] _bytes = [];

    public IPEndPoint RemoteEndPoint { get; } = remote;
    public bool IsOutgoing { get; } = outgoing;
    public bool IsClosed => CloseReason is not null;
    public string? CloseReason { get; private set; }
    public StreamCiphers Encryption { get; } = ciphers ?? StreamCiphers.Plain;

    /// <summary>What <see cref="QueuedBytes"/> reports (a full send buffer holds back uploads).</summary>
    public int Queued { get; set; }

    public int QueuedBytes => Queued;

    public void Enqueue(ReadOnlySpan<byte> bytes)
    {
        if (IsClosed) return;
        lock (_lock)
        {
            _bytes = [.. _bytes, .. bytes];
            var sent = SentIds;
            foreach (var w in _waiters.ToArray())
            {
                if (sent.Count(id => id == w.Id) < w.Count) continue;
                _waiters.Remove(w);
                w.Seen.TrySetResult();
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> messages with <paramref name="id"/> were queued (before or after the call).</summary>
    public Task WhenSentAsync(MessageId id, int count = 1)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (SentIds.Count(x => x == id) >= count) seen.SetResult();
            else _waiters.Add((id, count, seen));
        }
        return seen.Task;
    }

    public void EnqueuePiece(int piece, int begin, ReadOnlySpan<byte> block)
    {
        var header = new byte[MessageWriter.PieceHeaderLength];
        MessageWriter.WritePieceHeader(header, piece, begin, block.Length);
        Enqueue([.. header, .. block]);
    }

    public void EnqueuePiece(int piece, int begin, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail) =>
        EnqueuePiece(piece, begin, [.. head, .. tail]);

    public void EnqueueWith(int length, Action<Memory<byte>> write)
    {
        var m = new byte[length];
        write(m);
        Enqueue(m);
    }

    public void Close(string reason) => CloseReason ??= reason;

    /// <summary>Everything queued so far, decoded (PIECE blocks go back to the pool; their fields stay).</summary>
    public List<PeerMessage> Sent
    {
        get
        {
            var list = new List<PeerMessage>();
            lock (_lock) PeerMessageReader.Read(_bytes, int.MaxValue, list);
            PeerMessageReader.ReturnBlocks(list);
            return list;
        }
    }

    /// <summary>The bytes queued so far, as they would go on the wire.</summary>
    public byte[] Bytes
    {
        get { lock (_lock) return [.. _bytes]; }
    }

    /// <summary>The ids sent so far, in order.</summary>
    public List<MessageId> SentIds => Sent.Select(m => m.Id).ToList();

    /// <summary>Forgets what was sent.</summary>
    public void Clear()
    {
        lock (_lock) _bytes = [];
    }
}

/// <summary>Peers on fake connections.</summary>
internal static class TestPeers
{
    private static int _port = 20000;

    public static Peer Create(TimeProvider time, int pieceCount = 8, IPEndPoint? endPoint = null, bool outgoing = true,
        string source = "tracker", StreamCiphers? ciphers = null, PeerFeatures features = PeerFeatures.Extensions)
    {
        endPoint ??= new IPEndPoint(IPAddress.Parse("203.0.113.7"), Interlocked.Increment(ref _port));
        var id = new byte[20];
        "-RT0100-"u8.CopyTo(id);
        Random.Shared.NextBytes(id.AsSpan(8));
        return new Peer(new FakeWire(endPoint, outgoing, ciphers), id, features, pieceCount, source, time.GetUtcNow(), time);
    }

    public static FakeWire Wire(this Peer peer) => (FakeWire)peer.Connection;

    public static Bitfield Pieces(int count, params int[] set)
    {
        var b = new Bitfield(count);
        foreach (int i in set) b.Set(i);
        return b;
    }
}
