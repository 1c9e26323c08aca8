using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Peers.Utp;

/// <summary>
/// One uTP connection (BEP 29) and the byte stream it carries for a peer connection. Every field is guarded by the
/// owning <see cref="UtpSocket"/>'s lock: packets arrive on the UDP receive loop, timeouts on the socket's timer, and
/// reads and writes from the peer connection's receive loop and send pump.
/// </summary>
/// <remarks>
/// Sending: written bytes are cut into packets of <see cref="UtpOptions.PacketSize"/> in pooled buffers (one copy),
/// sent while the congestion window (LEDBAT) and the peer's receive window allow, kept by sequence number until acked
/// (cumulatively or selectively), sent again on a timeout (rtt + 4 rtt_var, at least 500 ms, doubling) or at once
/// after three duplicate acks or three selective acks past a gap. Receiving: in-order payload is queued for the
/// reader, packets past a gap wait in a bounded reorder buffer, and every packet is acked, with a selective ACK while
/// there is a gap. Nothing is allocated per packet: buffers come from <see cref="ArrayPool{T}.Shared"/> and the
/// in-flight table reuses its entries.
/// </remarks>
internal sealed class UtpConnection : PeerStream
{
    internal enum ConnectionState { SynSent, Connected, Closed }

    private const int OutSlots = 1024;       // packets in flight at most (a power of two)
    private const int ReorderSlots = 1024;   // packets held past a gap at most (a power of two)
    private const int BufferSize = 2048;     // pooled packet buffer (ArrayPool's 2 KiB bucket)

    private sealed class OutPacket
    {
        public byte[]? Buffer;
        public int Length;
        public int Payload;
        public long SentAt;
        public int Transmissions;
        public int Strikes;             // timeouts that found it unacked
        public bool NeedResend;
        public bool Acked;
        public bool FastResent;
        public UtpType Type;
    }

    private struct Segment
    {
        public byte[] Buffer;
        public int Offset;
        public int Length;
    }

    private readonly UtpSocket _owner;
    private readonly UtpOptions _options;
    private readonly int _maxPayload;
    internal readonly SocketAddress Address;
    internal readonly ushort ReceiveId;
    internal readonly ushort SendId;

    internal ConnectionState State;

    // ---- sending
    private ushort _seqNr;          // next sequence number to use
    private ushort _ackedUpTo;      // the peer acked everything up to here
    private readonly OutPacket?[] _out = new OutPacket?[OutSlots];
    private int _inFlightBytes;     // payload sent and not acked
    private int _resendPending;
    private Segment[] _unsent = new Segment[4];
    private int _unsentHead, _unsentCount, _unsentBytes;
    private bool _finQueued;        // the application closed: FIN after the unsent bytes
    private ushort _finSeq;
    private bool _finSent;

    // ---- congestion control
    private int _cwnd;
    private int _ssthresh = int.MaxValue;
    private bool _slowStart = true;
    private uint _theirWindow;
    private int _rtt = -1, _rttVar;       // microseconds
    private long _rto;                    // microseconds
    private long _rtoDeadline;
    private int _dupAcks;
    private ushort _lossSeq;              // the window is cut at most once per window of packets
    private bool _lossSeqSet;
    private uint _baseDelay;
    private bool _baseDelaySet;
    private long _baseDelayRound;
    private uint _prevBaseDelay;

    // ---- receiving
    private ushort _ackNr;          // everything up to here arrived in order
    private Segment[] _received = new Segment[8];
    private int _receivedHead, _receivedCount, _receivedBytes;
    private readonly byte[]?[] _reorder = new byte[]?[ReorderSlots];
    private readonly int[] _reorderLength = new int[ReorderSlots];
    private int _reorderCount, _reorderBytes;
    private bool _eofSeen;
    private ushort _eofSeq;
    private bool _eof;
    private uint _replyMicros;      // their timestamp's distance to our clock: echoed as timestamp_difference
    private int _lastAdvertised;
    internal bool AckPending;
    internal bool AckQueued;        // on the socket's list of connections to ack at the end of the burst

    // ---- the application
    private readonly SemaphoreSlim _readable = new(0);
    private readonly SemaphoreSlim _writable = new(0);
    private TaskCompletionSource<bool>? _connected;
    private SocketError _error = SocketError.Success;
    private bool _appClosed;
    private bool _released;
    internal readonly bool Incoming;
    internal ushort SynSeq;         // an incoming connection's SYN (a repeated SYN is answered again)

    internal UtpConnection(UtpSocket owner, UtpOptions options, SocketAddress address, IPEndPoint remote,
        ushort receiveId, ushort sendId, bool incoming, ushort initialSeq)
    {
        _owner = owner;
        _options = options;
        _maxPayload = options.PacketSize - UtpHeader.Size;
        Address = address;
        RemoteEndPoint = remote;
        ReceiveId = receiveId;
        SendId = sendId;
        Incoming = incoming;
        _seqNr = initialSeq;
        _ackedUpTo = (ushort)(initialSeq - 1);
        _cwnd = 2 * options.PacketSize;
        _theirWindow = (uint)options.PacketSize;
        _rto = (long)options.InitialTimeout.TotalMicroseconds;
    }

    public IPEndPoint RemoteEndPoint { get; }

    public override PeerTransport Transport => PeerTransport.Utp;

    // ---- figures (tests, docs/UTP.md measurements)

    /// <summary>The congestion window in bytes.</summary>
    internal int CongestionWindow => _cwnd;

    /// <summary>The last queueing delay LEDBAT saw (our one-way delay above its base), microseconds.</summary>
    internal int QueueingDelayMicros { get; private set; }

    /// <summary>The smoothed round trip, microseconds (-1 before the first sample).</summary>
    internal int RoundTripMicros => _rtt;

    /// <summary>The current retransmission timeout, microseconds.</summary>
    internal long TimeoutMicros => _rto;

    internal int InFlightBytes => _inFlightBytes;
    internal int ReorderedPackets => _reorderCount;
    internal int BufferedBytes => _receivedBytes + _reorderBytes;
    internal int ReadableBytes => _receivedBytes;
    internal bool IsClosed => State == ConnectionState.Closed;
    internal SocketError Error => _error;
    internal int Resent { get; private set; }

    // ================================================================ PeerStream (any thread)

    public override int TrySend(ReadOnlySpan<byte> data, out SocketError error)
    {
        lock (_owner.Gate)
        {
            if (_error != SocketError.Success || _appClosed || State == ConnectionState.Closed)
            {
                error = _error != SocketError.Success ? _error : SocketError.Shutdown;
                return 0;
            }
            int n = Math.Min(data.Length, _options.SendBuffer - _unsentBytes);
            if (n <= 0)
            {
                error = SocketError.WouldBlock;
                return 0;
            }
            Append(data[..n]);
            if (State == ConnectionState.Connected) SendPackets(_owner.NowMicros());
            error = SocketError.Success;
            return n;
        }
    }

    public override async ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (true)
        {
            int n = TrySend(data.Span, out var error);
            if (n > 0) return n;
            if (error != SocketError.WouldBlock) throw new SocketException((int)error);
            await _writable.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_owner.Gate)
            {
                if (_receivedCount > 0) return Read(buffer.Span);
                if (_eof) return 0;
                if (_error != SocketError.Success) throw new SocketException((int)_error);
                if (_appClosed || State == ConnectionState.Closed) throw new ObjectDisposedException(nameof(UtpConnection));
            }
            await _readable.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the answer to our SYN.</summary>
    internal async Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        Task task;
        lock (_owner.Gate)
        {
            if (State == ConnectionState.Connected) return;
            if (_error != SocketError.Success) throw new SocketException((int)_error);
            _connected ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            task = _connected.Task;
        }
        await task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Shutdown() => Dispose();

    /// <summary>
    /// The application is done: bytes already written are still delivered, then a FIN; the connection stays in the
    /// socket's table until the FIN is acked or its retransmissions run out (bounded lingering).
    /// </summary>
    public override void Dispose()
    {
        lock (_owner.Gate)
        {
            if (_appClosed) return;
            _appClosed = true;
            ReleaseReceived();
            if (State == ConnectionState.Connected && _error == SocketError.Success)
            {
                _finQueued = true;
                SendPackets(_owner.NowMicros());
            }
            else Close(SocketError.Shutdown);
        }
        Wake(_readable);
        Wake(_writable);
    }

    /// <summary>
    /// Wakes a waiting reader or writer: one count at most, so a burst of packets does not leave a pile of wake-ups
    /// for the waiter to spin through (it looks at the buffers again after every wake-up anyway).
    /// </summary>
    private static void Wake(SemaphoreSlim signal)
    {
        if (signal.CurrentCount == 0) signal.Release();
    }

    // ================================================================ packets in (under the lock)

    /// <summary>A packet for this connection. Returns false when it was refused (acks data never sent).</summary>
    internal bool OnPacket(in UtpHeader h, ReadOnlySpan<byte> datagram, long now)
    {
        if (State == ConnectionState.Closed) return true;
        if (h.Type == UtpType.Reset)
        {
            Fail(State == ConnectionState.SynSent ? SocketError.ConnectionRefused : SocketError.ConnectionReset);
            return true;
        }
        if (h.Type == UtpType.Syn)
        {
            // Our STATE was lost and the peer asks again: answer again. Any other SYN on this id is ignored.
            if (Incoming && h.SequenceNumber == SynSeq) SendState(now);
            return true;
        }
        _replyMicros = (uint)now - h.TimestampMicros;
        if (State == ConnectionState.SynSent)
        {
            // The answer to our SYN (a STATE, or the peer's first DATA if the STATE was lost) acks the SYN.
            if (h.AckNumber != (ushort)(_ackedUpTo + 1) || h.Type is not (UtpType.State or UtpType.Data)) return false;
            // A STATE carries the sequence number the peer sends next; its first DATA that number itself.
            _ackNr = (ushort)(h.SequenceNumber - 1);
            State = ConnectionState.Connected;
            _connected?.TrySetResult(true);
        }
        _theirWindow = h.WindowSize;
        if (!OnAck(h, datagram, now)) return false;
        if (_theirWindow < _options.PacketSize) ForgiveOldest();

        switch (h.Type)
        {
            case UtpType.Data:
                OnData(h.SequenceNumber, datagram[h.PayloadOffset..], now);
                break;
            case UtpType.Fin:
                OnFin(h.SequenceNumber);
                break;
        }
        if (State == ConnectionState.Connected) SendPackets(now);
        return true;
    }

    private bool OnAck(in UtpHeader h, ReadOnlySpan<byte> datagram, long now)
    {
        ushort last = (ushort)(_seqNr - 1);
        int outstanding = Seq.Distance(_ackedUpTo, last);
        int advance = Seq.Distance(_ackedUpTo, h.AckNumber);
        if (advance >= 0x8000) return true; // an old ack (reordered): nothing new in it
        if (advance > outstanding)
        {
            _owner.Statistics.AcksForUnsentData++;
            return false; // acks a packet we never sent: forged or broken, refused whole
        }
        int acked = 0;
        for (int i = 1; i <= advance; i++) acked += AckPacket((ushort)(_ackedUpTo + i), now);
        bool progress = advance > 0;
        if (progress)
        {
            _ackedUpTo = h.AckNumber;
            _dupAcks = 0;
        }
        else if (outstanding > 0 && h.Type == UtpType.State && h.SackLength == 0)
        {
            // Three duplicate acks: the packet after the ack is lost; send it again now (once).
            if (++_dupAcks == 3) LostPacket((ushort)(h.AckNumber + 1), now);
        }
        if (h.SackLength > 0) acked += OnSelectiveAck(h.AckNumber, datagram.Slice(h.SackOffset, h.SackLength), now);

        if (acked > 0 || progress)
        {
            if (acked > 0) GrowWindow(acked, h.TimestampDifferenceMicros);
            _rtoDeadline = now + _rto;
            if (_finSent && Seq.Distance(_finSeq, _ackedUpTo) < 0x8000) _owner.Remove(this, "closed");
            else if (_unsentBytes < _options.SendBuffer) Wake(_writable);
        }
        return true;
    }

    /// <summary>Acks one packet; returns its payload bytes (0 if it was acked already).</summary>
    private int AckPacket(ushort seq, long now)
    {
        var p = _out[seq & (OutSlots - 1)];
        if (p is null || p.Acked || p.Buffer is null) return 0;
        if (p.Transmissions == 1) SampleRoundTrip(now - p.SentAt); // Karn: never from a packet sent twice
        if (p.NeedResend)
        {
            p.NeedResend = false;
            _resendPending--;
        }
        p.Acked = true;
        _inFlightBytes -= p.Payload;
        ArrayPool<byte>.Shared.Return(p.Buffer);
        p.Buffer = null;
        return Math.Max(p.Payload, 1);
    }

    private int OnSelectiveAck(ushort ack, ReadOnlySpan<byte> mask, long now)
    {
        ushort last = (ushort)(_seqNr - 1);
        int outstanding = Seq.Distance(_ackedUpTo, last);
        int acked = 0;
        int bits = Math.Min(mask.Length * 8, Math.Max(0, outstanding - 1));
        int highest = -1;
        for (int i = 0; i < bits; i++)
        {
            if ((mask[i >> 3] & (1 << (i & 7))) == 0) continue;
            ushort seq = (ushort)(ack + 2 + i);
            if (Seq.Distance(_ackedUpTo, seq) > outstanding) break; // past what we sent: ignored
            acked += AckPacket(seq, now);
            highest = i;
        }
        // A packet with three or more selectively acked packets after it is lost (libtorrent's rule): resend it now.
        int after = 0;
        for (int i = highest; i >= -1; i--)
        {
            bool set = i >= 0 && (mask[i >> 3] & (1 << (i & 7))) != 0;
            if (set) { after++; continue; }
            if (after >= 3) LostPacket((ushort)(ack + 2 + i), now);
        }
        return acked;
    }

    private void LostPacket(ushort seq, long now)
    {
        var p = _out[seq & (OutSlots - 1)];
        if (p is null || p.Acked || p.Buffer is null || p.NeedResend || p.FastResent) return;
        if (Seq.Distance(_ackedUpTo, seq) > Seq.Distance(_ackedUpTo, (ushort)(_seqNr - 1))) return;
        // Once per packet until a timeout: the acks that follow a resend still show the gap until it arrives.
        p.FastResent = true;
        p.NeedResend = true;
        _resendPending++;
        // Multiplicative decrease, once per window: a burst of losses is one congestion event.
        if (!_lossSeqSet || Seq.Before(_lossSeq, seq))
        {
            _cwnd = Math.Max(_cwnd / 2, _options.PacketSize);
            _ssthresh = _cwnd;
            _slowStart = false;
            _lossSeq = (ushort)(_seqNr - 1);
            _lossSeqSet = true;
        }
    }

    /// <summary>
    /// The peer answers but its window is shut: the packet we keep probing with is dropped for lack of room, not lost
    /// on a dead path, so its timeouts do not count towards giving up.
    /// </summary>
    private void ForgiveOldest()
    {
        ushort last = (ushort)(_seqNr - 1);
        int outstanding = Seq.Distance(_ackedUpTo, last);
        for (int i = 1; i <= outstanding; i++)
        {
            var p = _out[(_ackedUpTo + i) & (OutSlots - 1)];
            if (p is { Acked: false, Buffer: not null })
            {
                p.Strikes = 0;
                return;
            }
        }
    }

    private void SampleRoundTrip(long micros)
    {
        int sample = (int)Math.Clamp(micros, 0, int.MaxValue);
        if (_rtt < 0)
        {
            _rtt = sample;
            _rttVar = sample / 2;
        }
        else
        {
            // BEP 29: rtt_var += (|rtt - packet_rtt| - rtt_var) / 4; rtt += (packet_rtt - rtt) / 8.
            _rttVar += (Math.Abs(_rtt - sample) - _rttVar) / 4;
            _rtt += (sample - _rtt) / 8;
        }
        _rto = Math.Max((long)_rtt + 4L * _rttVar, (long)_options.MinTimeout.TotalMicroseconds);
    }

    /// <summary>LEDBAT (BEP 29): grow or shrink by how far the queueing delay is from the target.</summary>
    private void GrowWindow(int ackedBytes, uint delaySample)
    {
        long target = (long)_options.TargetDelay.TotalMicroseconds;
        long queueing = 0;
        if (delaySample != 0)
        {
            long now = _owner.NowMicros();
            // The base delay is the least one-way delay seen over the last two minutes (one minimum per minute).
            if (!_baseDelaySet || now - _baseDelayRound > 60_000_000)
            {
                _prevBaseDelay = _baseDelaySet ? _baseDelay : delaySample;
                _baseDelay = delaySample;
                _baseDelaySet = true;
                _baseDelayRound = now;
            }
            else if ((int)(delaySample - _baseDelay) < 0) _baseDelay = delaySample;
            uint baseDelay = (int)(_prevBaseDelay - _baseDelay) < 0 ? _prevBaseDelay : _baseDelay;
            queueing = Math.Max(0, (int)(delaySample - baseDelay));
            QueueingDelayMicros = (int)Math.Min(queueing, int.MaxValue);
        }
        if (_slowStart && queueing < target / 2)
        {
            _cwnd += ackedBytes;
            if (_cwnd >= _ssthresh) _slowStart = false;
        }
        else
        {
            _slowStart = false;
            double offTarget = (double)(target - queueing) / target;
            double windowFactor = (double)ackedBytes / Math.Max(_cwnd, 1);
            _cwnd += (int)(_options.MaxWindowIncreasePerRtt * offTarget * windowFactor);
        }
        _cwnd = Math.Clamp(_cwnd, _options.PacketSize, OutSlots / 2 * _options.PacketSize);
    }

    private void OnData(ushort seq, ReadOnlySpan<byte> payload, long now)
    {
        AckPending = true;
        int d = Seq.Distance(_ackNr, seq);
        if (d == 0 || d >= 0x8000) return; // a duplicate: acked again so the sender learns
        if (_eofSeen && Seq.Distance(_ackNr, _eofSeq) <= d) return; // past the FIN
        if (d == 1)
        {
            if (!Deliver(payload)) return; // no room: not acked, the sender tries again
            _ackNr = seq;
            DrainReorder();
            Wake(_readable);
            return;
        }
        if (d >= ReorderSlots) return; // too far ahead of the gap
        int slot = seq & (ReorderSlots - 1);
        if (_reorder[slot] is not null) return;
        if (_receivedBytes + _reorderBytes + payload.Length > _options.ReceiveBuffer) return;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(buffer);
        _reorder[slot] = buffer;
        _reorderLength[slot] = payload.Length;
        _reorderCount++;
        _reorderBytes += payload.Length;
    }

    private void OnFin(ushort seq)
    {
        AckPending = true;
        int d = Seq.Distance(_ackNr, seq);
        if (d == 0 || d >= 0x8000 || d >= ReorderSlots) return;
        if (_eofSeen && _eofSeq != seq) return;
        _eofSeen = true;
        _eofSeq = seq;
        if (d == 1) ReachEof();
    }

    private void ReachEof()
    {
        _ackNr = _eofSeq;
        _eof = true;
        Wake(_readable);
        // Both ends are done once our own FIN (if any) is acked; a peer that closed first waits for us.
        if (_appClosed && !_finQueued) _owner.Remove(this, "closed");
    }

    private void DrainReorder()
    {
        while (_reorderCount > 0)
        {
            ushort next = (ushort)(_ackNr + 1);
            int slot = next & (ReorderSlots - 1);
            var buffer = _reorder[slot];
            if (buffer is null) break;
            int length = _reorderLength[slot];
            _reorder[slot] = null;
            _reorderCount--;
            _reorderBytes -= length;
            Deliver(buffer.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(buffer);
            _ackNr = next;
        }
        if (_eofSeen && Seq.Distance(_ackNr, _eofSeq) == 1) ReachEof();
    }

    /// <summary>Queues in-order payload for the reader (coalesced into the last buffer when it has room).</summary>
    private bool Deliver(ReadOnlySpan<byte> payload)
    {
        if (_appClosed) return true; // nobody reads any more: acked and dropped so the peer can finish
        if (_receivedBytes + _reorderBytes + payload.Length > _options.ReceiveBuffer) return false;
        while (!payload.IsEmpty)
        {
            if (_receivedCount > 0)
            {
                ref var tail = ref _received[(_receivedHead + _receivedCount - 1) & (_received.Length - 1)];
                int room = tail.Buffer.Length - tail.Offset - tail.Length;
                if (room > 0)
                {
                    int n = Math.Min(room, payload.Length);
                    payload[..n].CopyTo(tail.Buffer.AsSpan(tail.Offset + tail.Length));
                    tail.Length += n;
                    _receivedBytes += n;
                    payload = payload[n..];
                    continue;
                }
            }
            if (_receivedCount == _received.Length)
            {
                Grow(ref _received, _receivedHead);
                _receivedHead = 0;
            }
            if (_receivedCount == 0) _receivedHead = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            int take = Math.Min(buffer.Length, payload.Length);
            payload[..take].CopyTo(buffer);
            _received[(_receivedHead + _receivedCount) & (_received.Length - 1)] = new Segment { Buffer = buffer, Offset = 0, Length = take };
            _receivedCount++;
            _receivedBytes += take;
            payload = payload[take..];
        }
        return true;
    }

    /// <summary>Doubles a ring, its items from the head moved to the start (the caller sets its head to 0).</summary>
    private static void Grow(ref Segment[] ring, int head)
    {
        var bigger = new Segment[ring.Length * 2];
        for (int i = 0; i < ring.Length; i++) bigger[i] = ring[(head + i) & (ring.Length - 1)];
        ring = bigger;
    }

    private int Read(Span<byte> to)
    {
        int copied = 0;
        while (_receivedCount > 0 && copied < to.Length)
        {
            ref var s = ref _received[_receivedHead];
            int n = Math.Min(s.Length, to.Length - copied);
            s.Buffer.AsSpan(s.Offset, n).CopyTo(to[copied..]);
            copied += n;
            s.Offset += n;
            s.Length -= n;
            _receivedBytes -= n;
            if (s.Length == 0)
            {
                ArrayPool<byte>.Shared.Return(s.Buffer);
                s = default;
                _receivedHead = (_receivedHead + 1) & (_received.Length - 1);
                _receivedCount--;
            }
        }
        // The window was nearly shut and is open again: say so, or a sender that stopped would wait for its timeout.
        if (_lastAdvertised < 4 * _options.PacketSize && Window() >= _options.ReceiveBuffer / 2 && State == ConnectionState.Connected)
            SendState(_owner.NowMicros());
        return copied;
    }

    private int Window() => Math.Max(0, _options.ReceiveBuffer - _receivedBytes - _reorderBytes);

    // ================================================================ packets out (under the lock)

    private void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_unsentCount > 0)
            {
                ref var tail = ref _unsent[(_unsentHead + _unsentCount - 1) & (_unsent.Length - 1)];
                int room = UtpHeader.Size + _maxPayload - tail.Length;
                if (room > 0)
                {
                    int n = Math.Min(room, data.Length);
                    data[..n].CopyTo(tail.Buffer.AsSpan(tail.Length));
                    tail.Length += n;
                    _unsentBytes += n;
                    data = data[n..];
                    continue;
                }
            }
            if (_unsentCount == _unsent.Length)
            {
                Grow(ref _unsent, _unsentHead);
                _unsentHead = 0;
            }
            if (_unsentCount == 0) _unsentHead = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            int take = Math.Min(_maxPayload, data.Length);
            data[..take].CopyTo(buffer.AsSpan(UtpHeader.Size));
            _unsent[(_unsentHead + _unsentCount) & (_unsent.Length - 1)] = new Segment { Buffer = buffer, Offset = 0, Length = UtpHeader.Size + take };
            _unsentCount++;
            _unsentBytes += take;
            data = data[take..];
        }
    }

    /// <summary>An incoming connection's SYN was taken: ack it (our STATE carries the first sequence number we send).</summary>
    internal void OnSynAccepted(in UtpHeader syn, long now)
    {
        _ackNr = syn.SequenceNumber;
        _theirWindow = syn.WindowSize;
        _replyMicros = (uint)now - syn.TimestampMicros;
        SendState(now);
    }

    /// <summary>Sends the SYN of an outgoing connection.</summary>
    internal void SendSyn(long now)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        // A SYN's connection id is the id we receive on; the peer sends to it and receives on id + 1.
        UtpHeader.Write(buffer, UtpType.Syn, ReceiveId, 0, 0, 0, _seqNr, 0);
        Track(buffer, UtpHeader.Size, 0, UtpType.Syn, now);
    }

    /// <summary>Resends what was lost, then sends new packets while the windows allow.</summary>
    internal void SendPackets(long now)
    {
        if (State != ConnectionState.Connected) return;
        if (_resendPending > 0) Resend(now);
        while (_unsentCount > 0)
        {
            ref var head = ref _unsent[_unsentHead];
            int payload = head.Length - UtpHeader.Size;
            if (!MaySend(payload)) break;
            var buffer = head.Buffer;
            int length = head.Length;
            head = default;
            _unsentHead = (_unsentHead + 1) & (_unsent.Length - 1);
            _unsentCount--;
            _unsentBytes -= payload;
            UtpHeader.Write(buffer, UtpType.Data, SendId, 0, 0, 0, _seqNr, _ackNr);
            Track(buffer, length, payload, UtpType.Data, now);
        }
        if (_unsentCount == 0 && _finQueued && !_finSent && Seq.Distance(_ackedUpTo, _seqNr) < OutSlots - 1)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            _finSeq = _seqNr;
            UtpHeader.Write(buffer, UtpType.Fin, SendId, 0, 0, 0, _seqNr, _ackNr);
            Track(buffer, UtpHeader.Size, 0, UtpType.Fin, now);
            _finSent = true;
        }
        if (AckPending) SendState(now);
    }

    private bool MaySend(int payload)
    {
        if (Seq.Distance(_ackedUpTo, _seqNr) >= OutSlots - 1) return false;
        if (_inFlightBytes == 0) return true; // one packet always goes: it probes a shut window
        long window = Math.Min(_cwnd, _theirWindow);
        return _inFlightBytes + payload <= window;
    }

    private void Track(byte[] buffer, int length, int payload, UtpType type, long now)
    {
        ushort seq = _seqNr++;
        var p = _out[seq & (OutSlots - 1)] ??= new OutPacket();
        p.Buffer = buffer;
        p.Length = length;
        p.Payload = payload;
        p.Transmissions = 0;
        p.Strikes = 0;
        p.NeedResend = false;
        p.Acked = false;
        p.FastResent = false;
        p.Type = type;
        if (Seq.Distance(_ackedUpTo, seq) == 1) _rtoDeadline = now + _rto; // the only packet in flight
        _inFlightBytes += payload;
        Transmit(p, now);
    }

    private void Transmit(OutPacket p, long now)
    {
        var span = p.Buffer.AsSpan(0, p.Length);
        int window = Window();
        _lastAdvertised = window;
        UtpHeader.Refresh(span, (uint)now, _replyMicros, (uint)window, p.Type == UtpType.Syn ? (ushort)0 : _ackNr);
        p.SentAt = now;
        p.Transmissions++;
        if (p.Transmissions > 1) Resent++;
        if (p.Type != UtpType.Syn) AckPending = false; // the packet carries our ack
        _owner.Send(span, Address);
    }

    private void Resend(long now)
    {
        ushort last = (ushort)(_seqNr - 1);
        int outstanding = Seq.Distance(_ackedUpTo, last);
        int sentNow = 0;
        for (int i = 1; i <= outstanding && _resendPending > 0; i++)
        {
            var p = _out[(_ackedUpTo + i) & (OutSlots - 1)];
            if (p is null || p.Acked || !p.NeedResend || p.Buffer is null) continue;
            // After a timeout the window is one packet: the first goes, the rest as acks open the window.
            if (sentNow > 0 && sentNow * _options.PacketSize >= _cwnd) break;
            p.NeedResend = false;
            _resendPending--;
            Transmit(p, now);
            sentNow++;
        }
    }

    /// <summary>Sends an ack (a STATE packet), with a selective ACK while packets wait past a gap.</summary>
    internal void SendState(long now)
    {
        Span<byte> packet = stackalloc byte[UtpHeader.Size + 2 + ReorderSlots / 8];
        int window = Window();
        _lastAdvertised = window;
        UtpHeader.Write(packet, UtpType.State, SendId, (uint)now, _replyMicros, (uint)window, _seqNr, _ackNr);
        int length = UtpHeader.Size;
        if (_reorderCount > 0)
        {
            // Bits for ack_nr + 2 onwards, up to the furthest packet held, in whole 32-bit words.
            int furthest = 0;
            for (int i = ReorderSlots - 1; i >= 2; i--)
                if (_reorder[(_ackNr + i) & (ReorderSlots - 1)] is not null) { furthest = i; break; }
            int bits = furthest - 1;
            int bytes = Math.Min((bits + 31) / 32 * 4, ReorderSlots / 8);
            Span<byte> mask = stackalloc byte[bytes];
            mask.Clear();
            for (int i = 0; i < bytes * 8; i++)
                if (_reorder[(_ackNr + 2 + i) & (ReorderSlots - 1)] is not null) mask[i >> 3] |= (byte)(1 << (i & 7));
            length = UtpHeader.WriteSack(packet, mask);
        }
        AckPending = false;
        _owner.Send(packet[..length], Address);
    }

    /// <summary>Tells the peer the connection is gone (the socket is closing: no FIN handshake will finish).</summary>
    internal void SendReset(long now)
    {
        if (State != ConnectionState.Connected) return;
        Span<byte> packet = stackalloc byte[UtpHeader.Size];
        UtpHeader.Write(packet, UtpType.Reset, SendId, (uint)now, _replyMicros, 0, _seqNr, _ackNr);
        _owner.Send(packet, Address);
    }

    // ================================================================ time (under the lock)

    /// <summary>The socket's timer: a retransmission timeout, or a connection that is dead.</summary>
    internal void OnTick(long now)
    {
        if (State == ConnectionState.Closed) return;
        ushort last = (ushort)(_seqNr - 1);
        int outstanding = Seq.Distance(_ackedUpTo, last);
        if (outstanding == 0 || now < _rtoDeadline) return;
        OutPacket? first = null;
        for (int i = 1; i <= outstanding; i++)
        {
            var p = _out[(_ackedUpTo + i) & (OutSlots - 1)];
            if (p is { Acked: false, Buffer: not null }) { first = p; break; }
        }
        if (first is null) return;
        int limit = first.Type switch
        {
            UtpType.Syn => _options.SynTransmissions,
            UtpType.Fin => _options.FinTransmissions,
            _ => _options.DataTransmissions,
        };
        if (first.Strikes >= limit - 1)
        {
            if (_appClosed) _owner.Remove(this, "closing timed out");
            else Fail(SocketError.TimedOut);
            return;
        }
        first.Strikes++;
        // BEP 29: on a timeout the window drops to one packet and the timeout doubles; everything in flight is sent again.
        _rto = Math.Min(_rto * 2, 60_000_000);
        _ssthresh = Math.Max(_cwnd / 2, 2 * _options.PacketSize);
        _cwnd = _options.PacketSize;
        _slowStart = true;
        for (int i = 1; i <= outstanding; i++)
        {
            var p = _out[(_ackedUpTo + i) & (OutSlots - 1)];
            if (p is { Acked: false, Buffer: not null }) p.FastResent = false;
            if (p is { Acked: false, Buffer: not null, NeedResend: false })
            {
                p.NeedResend = true;
                _resendPending++;
            }
        }
        _rtoDeadline = now + _rto;
        if (first.Type == UtpType.Syn)
        {
            first.NeedResend = false;
            _resendPending--;
            Transmit(first, now);
        }
        else SendPackets(now);
    }

    // ================================================================ the end (under the lock)

    /// <summary>The connection failed (timeout, reset): readers and writers hear why; the socket forgets it.</summary>
    internal void Fail(SocketError error)
    {
        if (State == ConnectionState.Closed) return;
        _error = error;
        _owner.Remove(this, error.ToString());
    }

    private void Close(SocketError error)
    {
        if (_error == SocketError.Success) _error = error;
        _owner.Remove(this, error.ToString());
    }

    /// <summary>Called by the socket when it drops the connection: every buffer goes back to the pool.</summary>
    internal void Release()
    {
        if (_released) return;
        _released = true;
        State = ConnectionState.Closed;
        if (_error == SocketError.Success && !_eof) _error = SocketError.Shutdown;
        for (int i = 0; i < OutSlots; i++)
        {
            if (_out[i] is { Buffer: { } b } p)
            {
                ArrayPool<byte>.Shared.Return(b);
                p.Buffer = null;
            }
        }
        _inFlightBytes = 0;
        while (_unsentCount > 0)
        {
            ArrayPool<byte>.Shared.Return(_unsent[_unsentHead].Buffer);
            _unsent[_unsentHead] = default;
            _unsentHead = (_unsentHead + 1) & (_unsent.Length - 1);
            _unsentCount--;
        }
        _unsentBytes = 0;
        ReleaseReceived();
        for (int i = 0; i < ReorderSlots; i++)
        {
            if (_reorder[i] is { } b)
            {
                ArrayPool<byte>.Shared.Return(b);
                _reorder[i] = null;
            }
        }
        _reorderCount = 0;
        _reorderBytes = 0;
        _connected?.TrySetException(new SocketException((int)(_error == SocketError.Shutdown ? SocketError.OperationAborted : _error)));
        Wake(_readable);
        Wake(_writable);
    }

    private void ReleaseReceived()
    {
        while (_receivedCount > 0)
        {
            ArrayPool<byte>.Shared.Return(_received[_receivedHead].Buffer);
            _received[_receivedHead] = default;
            _receivedHead = (_receivedHead + 1) & (_received.Length - 1);
            _receivedCount--;
        }
        _receivedBytes = 0;
    }

    public override string ToString() => $"uTP {RemoteEndPoint} ({ReceiveId}/{SendId})";

    /// <summary>The connection's figures, for the log line when it closes.</summary>
    internal string Describe() =>
        $"rtt {_rtt / 1000.0:0.#} ms, timeout {_rto / 1000} ms, window {_cwnd} (theirs {_theirWindow}), in flight {_inFlightBytes}, " +
        $"unsent {_unsentBytes}, resent {Resent}, queueing delay {QueueingDelayMicros / 1000} ms, buffered {_receivedBytes}+{_reorderBytes}";
}
