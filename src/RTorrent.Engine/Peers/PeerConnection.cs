using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RTorrent.Engine.Peers;

/// <summary>Receives what a connection reads, on the engine loop.</summary>
/// <remarks>
/// A handler that throws closes the connection (the failure is logged); it is never left open with nobody reading it.
/// </remarks>
internal interface IPeerConnectionHandler
{
    /// <summary>
    /// A batch of messages arrived. The handler owns the PIECE buffers; the list itself goes back to the connection
    /// when this returns.
    /// </summary>
    void OnMessages(IPeerWire connection, List<PeerMessage> batch);

    /// <summary>The send buffer drained below its low-water mark: more blocks may be queued.</summary>
    void OnSendBufferLow(IPeerWire connection);

    /// <summary>The connection closed (error, protocol violation, remote close, or <see cref="PeerConnection.Close"/>).</summary>
    void OnClosed(IPeerWire connection, string reason);
}

/// <summary>
/// The socket side of one peer: a receive loop that frames and decodes messages and a send pump that coalesces
/// queued bytes into few large writes. Both run on the thread pool; decoded messages go to the engine loop in
/// batches (one post per socket read), so the loop never waits on a socket.
/// </summary>
/// <remarks>
/// Whatever ends the receive loop or the send pump (the peer, the network, a protocol error, or a bug here or in the
/// handler) closes the connection and is logged: an unexpected failure as an error with its exception, the rest at
/// debug level.
/// </remarks>
internal sealed class PeerConnection : IPeerWire
{
    /// <summary>Queued bytes above which the loop stops serving more blocks to this peer until it drains.</summary>
    public const int SendHighWater = 512 * 1024;

    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>
    /// What a connection that fills its receive buffer gets instead: a peer sending at full speed is read in fewer,
    /// larger reads, each one handing the loop a bigger batch (fewer system calls and thread wake-ups per GiB), while
    /// the many connections that receive little keep 64 KiB.
    /// </summary>
    private const int LargeReceiveBufferSize = 256 * 1024;
    private const int MaxBatchesInFlight = 4;

    private readonly PeerStream _socket;
    private readonly IPeerConnectionHandler _handler;
    private readonly System.Threading.SynchronizationContext _loop;
    private readonly ILogger _logger;
    private readonly int _maxMessageLength;
    private readonly CancellationTokenSource _cts = new();
    private readonly SemaphoreSlim _batchSlots = new(MaxBatchesInFlight, MaxBatchesInFlight);
    private readonly ConcurrentQueue<List<PeerMessage>> _spareBatches = new();
    private readonly object _sendLock = new();
    private readonly SemaphoreSlim _sendSignal = new(0, int.MaxValue);
    // Queued bytes are _sendBuffer[_sendStart .. _sendStart + _sendLength). A partial send advances _sendStart
    // instead of shifting the rest down: with megabytes queued, shifting after every partial send cost more
    // memmove than the data itself.
    private byte[] _sendBuffer = SendBuffers.NewSmall();
    // A small buffer kept for the next swap (under the send lock): most connections only ever send small messages.
    private byte[]? _smallSpare;
    private int _sendStart;
    private int _sendLength;
    private bool _sendSignalled;
    private bool _lowNotified = true;
    private int _closed;
    private readonly SendQueueBudget _sendBudget;


    public PeerConnection(PeerStream socket, IPEndPoint remote, bool outgoing, int pieceCount,
        IPeerConnectionHandler handler, System.Threading.SynchronizationContext loop,
        Func<int, CancellationToken, ValueTask>? receiveThrottle = null,
        Func<int, CancellationToken, ValueTask>? sendThrottle = null,
        Encryption.StreamCiphers? ciphers = null, ILogger? logger = null, SendQueueBudget? sendBudget = null)
    {
        _socket = socket;
        _sendBudget = sendBudget ?? SendQueueBudget.Shared;
        _sendBudget.Register();
        Encryption = ciphers ?? Peers.Encryption.StreamCiphers.Plain;
        RemoteEndPoint = remote;
        IsOutgoing = outgoing;
        _handler = handler;
        _loop = loop;
        _logger = logger ?? NullLogger.Instance;
        ReceiveThrottle = receiveThrottle;
        SendThrottle = sendThrottle;
        _maxMessageLength = PeerMessageReader.MaxMessageLength(pieceCount);
        // Synchronous sends from the loop must never wait: they return WouldBlock and the pump takes the rest.
        if (socket is TcpPeerStream tcp) tcp.MakeNonBlocking();
    }

    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>TCP or uTP.</summary>
    public PeerTransport Transport => _socket.Transport;

    /// <summary>
    /// How the handshake and the stream were encrypted. With RC4, bytes are encrypted as they are queued (in order,
    /// under the send lock, so both the inline flush and the pump send ciphertext) and decrypted as they are read.
    /// </summary>
    public Encryption.StreamCiphers Encryption { get; }
    public bool IsOutgoing { get; }
    public bool IsClosed => Volatile.Read(ref _closed) != 0;
    public string? CloseReason { get; private set; }

    /// <summary>Awaited before each socket read with the bytes just read (download rate limit).</summary>
    public Func<int, CancellationToken, ValueTask>? ReceiveThrottle { get; set; }

    /// <summary>Awaited before each socket write with the bytes about to be written (upload rate limit).</summary>
    public Func<int, CancellationToken, ValueTask>? SendThrottle { get; set; }

    /// <summary>Bytes queued and not yet handed to the socket.</summary>
    public int QueuedBytes
    {
        get { lock (_sendLock) return _sendLength; }
    }

    /// <summary>Starts the receive loop and the send pump. Bytes already read past the handshake are parsed first.</summary>
    public void Start(ReadOnlyMemory<byte> alreadyReceived = default)
    {
        _ = Task.Run(() => ReceiveLoopAsync(alreadyReceived));
        _ = Task.Run(SendPumpAsync);
    }

    // ---------------- sending (called on the loop) ----------------

    /// <summary>Queues raw bytes (one or more encoded messages).</summary>
    public void Enqueue(ReadOnlySpan<byte> bytes)
    {
        if (IsClosed) return;
        bool over;
        lock (_sendLock)
        {
            over = _sendBudget.Exceeds(_sendLength, bytes.Length);
            if (!over)
            {
                int at = EnsureCapacity(bytes.Length);
                bytes.CopyTo(_sendBuffer.AsSpan(at));
                Commit(at, bytes.Length);
            }
        }
        AfterEnqueue(over);
    }

    /// <summary>Queues a PIECE message: header plus block data.</summary>
    public void EnqueuePiece(int piece, int begin, ReadOnlySpan<byte> block)
    {
        if (IsClosed) return;
        int length = MessageWriter.PieceHeaderLength + block.Length;
        bool over;
        lock (_sendLock)
        {
            over = _sendBudget.Exceeds(_sendLength, length);
            if (!over)
            {
                int at = EnsureCapacity(length);
                MessageWriter.WritePieceHeader(_sendBuffer.AsSpan(at), piece, begin, block.Length);
                block.CopyTo(_sendBuffer.AsSpan(at + MessageWriter.PieceHeaderLength));
                Commit(at, length);
            }
        }
        AfterEnqueue(over);
    }

    /// <summary>Queues a PIECE message whose block is in two parts (it crosses two slices of the read cache).</summary>
    public void EnqueuePiece(int piece, int begin, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        if (IsClosed) return;
        int blockLength = head.Length + tail.Length;
        int length = MessageWriter.PieceHeaderLength + blockLength;
        bool over;
        lock (_sendLock)
        {
            over = _sendBudget.Exceeds(_sendLength, length);
            if (!over)
            {
                int at = EnsureCapacity(length);
                MessageWriter.WritePieceHeader(_sendBuffer.AsSpan(at), piece, begin, blockLength);
                head.CopyTo(_sendBuffer.AsSpan(at + MessageWriter.PieceHeaderLength));
                tail.CopyTo(_sendBuffer.AsSpan(at + MessageWriter.PieceHeaderLength + head.Length));
                Commit(at, length);
            }
        }
        AfterEnqueue(over);
    }

    /// <summary>Gives a span of <paramref name="length"/> bytes at the end of the queue to write into.</summary>
    public void EnqueueWith(int length, Action<Memory<byte>> write)
    {
        if (IsClosed) return;
        bool over;
        lock (_sendLock)
        {
            over = _sendBudget.Exceeds(_sendLength, length);
            if (!over)
            {
                int at = EnsureCapacity(length);
                write(_sendBuffer.AsMemory(at, length));
                Commit(at, length);
            }
        }
        AfterEnqueue(over);
    }

    /// <summary>
    /// After a message was queued, or refused because the queue would pass its share of the
    /// <see cref="SendQueueBudget"/> (checked under the send lock the queueing takes anyway): a peer that lets its queue
    /// grow that far is not reading what it asks for; it is dropped (the reason is logged where the connection's close
    /// is handled) instead of buffered. Closing happens outside the lock.
    /// </summary>
    private void AfterEnqueue(bool overBudget)
    {
        if (!overBudget) ScheduleFlush();
        else Close($"send queue over {_sendBudget.LimitFor() / 1024} KiB: the peer does not read what it asks for");
    }

    /// <summary>
    /// Adds the <paramref name="length"/> bytes just written at <paramref name="at"/> (by <see cref="EnsureCapacity"/>)
    /// to the queue: encrypted in queue order, and past the high-water mark the loop hears when it drains. Under the send lock.
    /// </summary>
    private void Commit(int at, int length)
    {
        Encryption.Encryptor?.Apply(_sendBuffer.AsSpan(at, length));
        _sendLength += length;
        if (_sendLength >= SendHighWater) _lowNotified = false;
    }

    /// <summary>Makes room for <paramref name="extra"/> more bytes; returns where they go. Called under the send lock.</summary>
    private int EnsureCapacity(int extra)
    {
        if (_sendStart + _sendLength + extra <= _sendBuffer.Length) return _sendStart + _sendLength;
        if (_sendLength + extra <= _sendBuffer.Length)
        {
            // Room at the front: move the queued bytes down once.
            Buffer.BlockCopy(_sendBuffer, _sendStart, _sendBuffer, 0, _sendLength);
        }
        else
        {
            int needed = _sendLength + extra;
            var bigger = needed <= SendBuffers.LargeSize && _sendBuffer.Length < SendBuffers.LargeSize
                ? SendBuffers.RentLarge()
                : GC.AllocateUninitializedArray<byte>((needed + SendBuffers.SmallSize - 1) / SendBuffers.SmallSize * SendBuffers.SmallSize);
            _sendBuffer.AsSpan(_sendStart, _sendLength).CopyTo(bigger);
            GiveBack(_sendBuffer);
            _sendBuffer = bigger;
        }
        _sendStart = 0;
        return _sendLength;
    }

    /// <summary>A send buffer no longer used (under the send lock): a large one to the shared few, a small one kept.</summary>
    private void GiveBack(byte[] buffer)
    {
        if (buffer.Length == SendBuffers.LargeSize) SendBuffers.ReturnLarge(buffer);
        else if (buffer.Length == SendBuffers.SmallSize) _smallSpare = buffer;
    }

    /// <summary>
    /// Queued bytes are sent once per loop turn, after everything the turn queued: one write instead of many.
    /// </summary>
    private void ScheduleFlush()
    {
        if (_flushScheduled) return;
        _flushScheduled = true;
        _loop.Post(static s =>
        {
            var c = (PeerConnection)s!;
            c._flushScheduled = false;
            c.Flush();
        }, this);
    }

    /// <summary>
    /// Writes queued bytes straight from the loop when the socket takes them without waiting (the usual case): a
    /// non-blocking send costs a system call, handing over to the send pump costs two thread wake-ups. What the socket
    /// does not take, or anything rate-limited, goes to the pump.
    /// </summary>
    public void Flush()
    {
        if (IsClosed) return;
        if (CanSendInline is not { } inline || !inline())
        {
            Signal();
            return;
        }
        byte[] buffer;
        int start, length;
        lock (_sendLock)
        {
            if (_pumpActive || _sendLength == 0) return;
            _pumpActive = true;
            buffer = _sendBuffer;
            start = _sendStart;
            length = _sendLength;
        }
        int sent = 0;
        SocketError error = SocketError.Success;
        try
        {
            while (sent < length)
            {
                int n = _socket.TrySend(buffer.AsSpan(start + sent, length - sent), out error);
                if (error != SocketError.Success || n <= 0) break;
                sent += n;
            }
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        bool notify, rest;
        lock (_sendLock)
        {
            // Only the loop appends, and it is here: nothing was added during the send.
            _sendStart += sent;
            _sendLength -= sent;
            if (_sendLength == 0) _sendStart = 0;
            _pumpActive = false;
            rest = _sendLength > 0;
            notify = !_lowNotified && _sendLength < SendHighWater / 2;
            if (notify) _lowNotified = true;
        }
        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            Close($"send failed: {error}");
            return;
        }
        if (rest) Signal();
        if (notify) SendBufferLow(this);
    }

    /// <summary>Whether queued bytes may be written from the loop now (no upload limit in force).</summary>
    public Func<bool>? CanSendInline { get; set; }

    private bool _flushScheduled;
    private bool _pumpActive;

    private void Signal()
    {
        bool release;
        lock (_sendLock)
        {
            release = !_sendSignalled;
            _sendSignalled = true;
        }
        if (release) _sendSignal.Release();
    }

    private async Task SendPumpAsync()
    {
        var ct = _cts.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await _sendSignal.WaitAsync(ct).ConfigureAwait(false);
                while (true)
                {
                    byte[] toSend;
                    int start, length;
                    lock (_sendLock)
                    {
                        _sendSignalled = false;
                        if (_sendLength == 0 || _pumpActive) break;
                        _pumpActive = true;
                        toSend = _sendBuffer;
                        start = _sendStart;
                        length = _sendLength;
                        // A peer being served blocks gets a large buffer to fill while this one is sent; the rest a
                        // small one, so a connection that goes quiet holds 64 KiB, not half a megabyte.
                        if (length >= SendBuffers.SmallSize / 2) _sendBuffer = SendBuffers.RentLarge();
                        else
                        {
                            _sendBuffer = _smallSpare ?? SendBuffers.NewSmall();
                            _smallSpare = null;
                        }
                        _sendStart = 0;
                        _sendLength = 0;
                    }
                    // Low-water: tell the loop it may queue more blocks while this batch is on its way.
                    bool notify;
                    lock (_sendLock)
                    {
                        notify = !_lowNotified;
                        _lowNotified = true;
                    }
                    if (notify) _loop.Post(static s => SendBufferLow((PeerConnection)s!), this);

                    int offset = 0;
                    while (offset < length)
                    {
                        // Rate-limited sends go in 64 KiB steps so the limiter can space them; others in one call.
                        var throttle = SendThrottle;
                        int chunk = throttle is null ? length - offset : Math.Min(length - offset, 64 * 1024);
                        if (throttle is not null) await throttle(chunk, ct).ConfigureAwait(false);
                        int sent = await _socket.SendAsync(toSend.AsMemory(start + offset, chunk), ct).ConfigureAwait(false);
                        if (sent <= 0) throw new SocketException((int)SocketError.ConnectionReset);
                        offset += sent;
                    }
                    lock (_sendLock)
                    {
                        GiveBack(toSend);
                        _pumpActive = false;
                    }
                }
            }
        }
        catch (Exception e)
        {
            Ended("send pump", e);
        }
    }

    // ---------------- receiving ----------------

    private async Task ReceiveLoopAsync(ReadOnlyMemory<byte> initial)
    {
        var ct = _cts.Token;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(ReceiveBufferSize, _maxMessageLength + 4));
        int filled = 0;
        List<PeerMessage>? batch = null;
        try
        {
            initial.Span.CopyTo(buffer);
            filled = initial.Length;
            bool first = true;
            while (true)
            {
                if (!first || filled == 0)
                {
                    int n = await _socket.ReceiveAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false);
                    if (n == 0)
                    {
                        Close("closed by peer");
                        return;
                    }
                    Encryption.Decryptor?.Apply(buffer.AsSpan(filled, n));
                    filled += n;
                    if (filled == buffer.Length && buffer.Length < LargeReceiveBufferSize)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(LargeReceiveBufferSize);
                        buffer.AsSpan(0, filled).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    if (ReceiveThrottle is { } throttle) await throttle(n, ct).ConfigureAwait(false);
                }
                first = false;

                batch ??= _spareBatches.TryDequeue(out var spare) ? spare : new List<PeerMessage>(64);
                int consumed = PeerMessageReader.Read(buffer.AsSpan(0, filled), _maxMessageLength, batch);
                if (batch.Count > 0)
                {
                    await _batchSlots.WaitAsync(ct).ConfigureAwait(false);
                    _loop.Post(static s =>
                    {
                        var (c, b) = ((PeerConnection, List<PeerMessage>))s!;
                        c.Deliver(b);
                    }, (this, batch));
                    batch = null;
                }
                if (consumed > 0)
                {
                    buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                    filled -= consumed;
                }
            }
        }
        catch (Exception e)
        {
            Ended("receive loop", e);
        }
        finally
        {
            // Blocks decoded before a bad message in the same read are not delivered: back to the pool.
            if (batch is not null) PeerMessageReader.ReturnBlocks(batch);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Why the receive loop or the send pump stopped: a wait cut short by <see cref="Close"/> needs nothing more; the
    /// peer's and the network's failures close it as usual; anything else is a bug and is logged as an error.
    /// </summary>
    private void Ended(string loop, Exception e)
    {
        switch (e)
        {
            case OperationCanceledException or SocketException or ObjectDisposedException or IOException when IsClosed:
                break; // closed while it waited: nothing killed it
            case PeerProtocolException:
                _logger.LogDebug("{Peer}: {Loop} stopped: {Reason}", RemoteEndPoint, loop, e.Message);
                Close(e.Message);
                break;
            case SocketException or ObjectDisposedException or IOException:
                string what = loop == "send pump" ? "send failed" : "receive failed";
                string reason = e is SocketException se ? $"{what}: {se.SocketErrorCode}" : what;
                _logger.LogDebug("{Peer}: {Loop} stopped: {Reason}", RemoteEndPoint, loop, reason);
                Close(reason);
                break;
            default:
                _logger.LogError(e, "{Peer}: {Loop} failed; closing the connection", RemoteEndPoint, loop);
                Close($"internal error in the {loop}: {e.GetType().Name}: {e.Message}");
                break;
        }
    }

    /// <summary>Hands a batch to the handler (on the loop); a handler that throws closes the connection.</summary>
    private void Deliver(List<PeerMessage> batch)
    {
        try { _handler.OnMessages(this, batch); }
        catch (Exception e) { HandlerFailed(nameof(IPeerConnectionHandler.OnMessages), e); }
        finally { ReturnBatch(batch); }
    }

    private static void SendBufferLow(PeerConnection c)
    {
        try { c._handler.OnSendBufferLow(c); }
        catch (Exception e) { c.HandlerFailed(nameof(IPeerConnectionHandler.OnSendBufferLow), e); }
    }

    private void HandlerFailed(string callback, Exception e)
    {
        _logger.LogError(e, "{Peer}: {Callback} failed; closing the connection", RemoteEndPoint, callback);
        Close($"internal error handling the peer: {e.GetType().Name}: {e.Message}");
    }

    private void ReturnBatch(List<PeerMessage> batch)
    {
        batch.Clear();
        _spareBatches.Enqueue(batch);
        _batchSlots.Release();
    }

    /// <summary>Closes the socket; the handler hears about it once, on the loop.</summary>
    public void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _sendBudget.Unregister();
        CloseReason = reason;
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        _socket.Shutdown();
        _socket.Dispose();
        _loop.Post(static s =>
        {
            var c = (PeerConnection)s!;
            try { c._handler.OnClosed(c, c.CloseReason ?? "closed"); }
            catch (Exception e) { c._logger.LogError(e, "{Peer}: OnClosed failed", c.RemoteEndPoint); }
        }, this);
        lock (_sendLock)
        {
            _sendStart = 0;
            _sendLength = 0;
        }
    }

    public override string ToString() => RemoteEndPoint.ToString();
}
