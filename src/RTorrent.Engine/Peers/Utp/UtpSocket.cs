using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RTorrent.Engine.Peers.Utp;

/// <summary>Where a uTP socket's datagrams go: the shared UDP port, or a fake network in tests.</summary>
internal interface IDatagramSender
{
    /// <summary>Sends one datagram without waiting; a datagram the system refuses is lost (uTP sends it again).</summary>
    void SendTo(ReadOnlySpan<byte> datagram, SocketAddress to);
}

/// <summary>Counters of what a uTP socket saw (for tests and the hostile-input checks).</summary>
internal sealed class UtpStatistics
{
    public long PacketsIn, PacketsOut, Malformed, Refused, UnknownConnection, ResetsSent, SynsRefused, AcksForUnsentData;
}

/// <summary>
/// The uTP side of the session's UDP port: connections by (remote address, connection id), incoming SYNs within
/// limits, outgoing connects, and one timer for every connection's timeouts (running only while connections exist).
/// One lock guards the table and every connection (see <see cref="UtpConnection"/>); nothing it calls while holding
/// it blocks (sends are non-blocking datagrams, wake-ups complete asynchronously).
/// </summary>
internal sealed class UtpSocket : IDisposable
{
    private readonly struct Key(ushort id, SocketAddress address) : IEquatable<Key>
    {
        public readonly ushort Id = id;
        public readonly SocketAddress Address = address;
        public bool Equals(Key other) => Id == other.Id && Address.Equals(other.Address);
        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => HashCode.Combine(Id, Address.GetHashCode());
    }

    private readonly IDatagramSender _sender;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly UtpOptions _options;
    private readonly bool _runTimer;
    private readonly Dictionary<Key, UtpConnection> _connections = [];
    private readonly List<UtpConnection> _all = [];
    private readonly Dictionary<IPAddress, int> _incomingPerAddress = [];
    private readonly Dictionary<IPEndPoint, long> _noUtp = [];
    private readonly List<(UtpConnection, IPEndPoint)> _accepted = [];
    private readonly List<UtpConnection> _needAck = [];
    private ITimer? _timer;
    private long _resetWindowStart;
    private int _resetsInWindow;
    private bool _disposed;

    internal readonly object Gate = new();

    /// <param name="sender">Where packets go.</param>
    /// <param name="time">The clock (timestamps and timeouts).</param>
    /// <param name="logger">Connection failures at debug level.</param>
    /// <param name="options">Limits and timings.</param>
    /// <param name="runTimer">False in tests that call <see cref="Tick"/> themselves.</param>
    public UtpSocket(IDatagramSender sender, TimeProvider? time = null, ILogger? logger = null, UtpOptions? options = null, bool runTimer = true)
    {
        _sender = sender;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _options = options ?? new UtpOptions();
        _runTimer = runTimer;
    }

    /// <summary>A peer opened a uTP connection to us (called outside the lock, on the receive loop).</summary>
    public Action<UtpConnection, IPEndPoint>? Accepted { get; set; }

    /// <summary>Whether incoming SYNs are answered (settings.json utpIncoming).</summary>
    public bool AcceptIncoming { get; set; } = true;

    public UtpStatistics Statistics { get; } = new();

    public int ConnectionCount
    {
        get { lock (Gate) return _connections.Count; }
    }

    /// <summary>Microseconds on the socket's clock (wraps in the 32-bit timestamp field, which is fine).</summary>
    internal long NowMicros()
    {
        long ts = _time.GetTimestamp();
        long frequency = _time.TimestampFrequency;
        return frequency % 1_000_000 == 0 ? ts / (frequency / 1_000_000) : (long)((Int128)ts * 1_000_000 / frequency);
    }

    // ================================================================ in

    /// <summary>
    /// One datagram that looks like uTP (<see cref="UtpHeader.LooksLikeUtp"/>). <paramref name="from"/> may be a
    /// buffer the caller reuses: it is copied when a connection keeps it.
    /// </summary>
    public void Receive(ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        lock (Gate)
        {
            Statistics.PacketsIn++;
            if (_disposed) return;
            if (!UtpHeader.TryParse(datagram, out var h))
            {
                Statistics.Malformed++;
                return;
            }
            long now = NowMicros();
            if (h.Type == UtpType.Syn)
            {
                // The SYN names the id the peer receives on; we receive on id + 1.
                var synKey = new Key((ushort)(h.ConnectionId + 1), from);
                if (_connections.TryGetValue(synKey, out var existing)) existing.OnPacket(h, datagram, now);
                else OnSyn(h, from, now);
            }
            else if (_connections.TryGetValue(new Key(h.ConnectionId, from), out var c) || h.Type == UtpType.Reset && FindBySendId(h.ConnectionId, from, out c))
            {
                if (!c.OnPacket(h, datagram, now)) Statistics.Refused++;
                if (c.AckPending && !c.AckQueued)
                {
                    c.AckQueued = true;
                    _needAck.Add(c);
                }
            }
            else
            {
                Statistics.UnknownConnection++;
                // A packet for a connection we do not know (forgotten, or forged): a RESET, within a rate (we must
                // not answer a flood with one); never a RESET to a RESET.
                if (h.Type != UtpType.Reset) SendReset(h, from, now);
            }
        }
        FlushAccepted();
    }

    /// <summary>Sends the acks the last datagrams asked for (call when the receive queue is empty: one ack per burst).</summary>
    public void FlushAcks()
    {
        lock (Gate)
        {
            if (_needAck.Count == 0) return;
            long now = NowMicros();
            foreach (var c in _needAck)
            {
                c.AckQueued = false;
                // Acked meanwhile by a packet it sent, or gone: nothing to send.
                if (c.AckPending && c.State != UtpConnection.ConnectionState.Closed) c.SendState(now);
            }
            _needAck.Clear();
        }
    }

    /// <summary>
    /// A RESET answers a packet with the id it carried, which is the id the connection sends on (libtorrent does the
    /// same): the connection receiving on id ± 1 whose send id it is.
    /// </summary>
    private bool FindBySendId(ushort id, SocketAddress from, out UtpConnection c)
    {
        if (_connections.TryGetValue(new Key((ushort)(id - 1), from), out c!) && c.SendId == id) return true;
        if (_connections.TryGetValue(new Key((ushort)(id + 1), from), out c!) && c.SendId == id) return true;
        c = null!;
        return false;
    }

    private void OnSyn(in UtpHeader h, SocketAddress from, long now)
    {
        if (!AcceptIncoming || _connections.Count >= _options.MaxConnections)
        {
            Statistics.SynsRefused++;
            return;
        }
        var address = Copy(from);
        var remote = ToEndPoint(address);
        _incomingPerAddress.TryGetValue(remote.Address, out int fromThere);
        if (fromThere >= _options.MaxIncomingPerAddress)
        {
            Statistics.SynsRefused++;
            return;
        }
        ushort receiveId = (ushort)(h.ConnectionId + 1);
        var sendKey = new Key(h.ConnectionId, address);
        if (_connections.ContainsKey(sendKey))
        {
            Statistics.SynsRefused++; // the ids collide with a connection of ours to the same peer
            return;
        }
        var c = new UtpConnection(this, _options, address, remote, receiveId, h.ConnectionId, incoming: true, RandomSeq())
        {
            State = UtpConnection.ConnectionState.Connected,
            SynSeq = h.SequenceNumber,
        };
        Add(c);
        _incomingPerAddress[remote.Address] = fromThere + 1;
        c.OnSynAccepted(h, now);
        _accepted.Add((c, remote));
    }

    private void FlushAccepted()
    {
        if (_accepted.Count == 0) return;
        (UtpConnection, IPEndPoint)[] accepted;
        lock (Gate)
        {
            accepted = _accepted.ToArray();
            _accepted.Clear();
        }
        foreach (var (c, remote) in accepted)
        {
            if (Accepted is { } accept) accept(c, remote);
            else c.Dispose();
        }
    }

    private void SendReset(in UtpHeader h, SocketAddress to, long now)
    {
        if (now - _resetWindowStart > 1_000_000)
        {
            _resetWindowStart = now;
            _resetsInWindow = 0;
        }
        if (++_resetsInWindow > _options.ResetsPerSecond) return;
        Span<byte> packet = stackalloc byte[UtpHeader.Size];
        UtpHeader.Write(packet, UtpType.Reset, h.ConnectionId, (uint)now, 0, 0, (ushort)RandomNumberGenerator.GetInt32(65536), h.SequenceNumber);
        Statistics.ResetsSent++;
        Send(packet, to);
    }

    // ================================================================ out

    /// <summary>
    /// Opens a uTP connection: SYN, then the peer's STATE. Fails with a <see cref="SocketException"/> when the peer
    /// does not answer in <see cref="UtpOptions.SynTransmissions"/> tries (about 3 s) or resets; the peer is then
    /// remembered as one without uTP for a while (<see cref="KnownWithoutUtp"/>).
    /// </summary>
    public async Task<UtpConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        UtpConnection c;
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connections.Count >= _options.MaxConnections) throw new SocketException((int)SocketError.TooManyOpenSockets);
            var address = remote.Serialize();
            ushort id;
            int tries = 0;
            do
            {
                id = (ushort)RandomNumberGenerator.GetInt32(65536);
                if (++tries > 64) throw new SocketException((int)SocketError.TooManyOpenSockets);
            }
            while (_connections.ContainsKey(new Key(id, address)) || _connections.ContainsKey(new Key((ushort)(id + 1), address)));
            c = new UtpConnection(this, _options, address, remote, id, (ushort)(id + 1), incoming: false, RandomSeq());
            Add(c);
            c.SendSyn(NowMicros());
        }
        try
        {
            await c.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
            return c;
        }
        catch (Exception e)
        {
            c.Dispose();
            if (e is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.ConnectionRefused })
                lock (Gate) RememberNoUtp(remote);
            throw;
        }
    }

    /// <summary>Whether a peer did not answer uTP recently (then it is dialled over TCP directly, like libtorrent).</summary>
    public bool KnownWithoutUtp(IPEndPoint remote)
    {
        lock (Gate)
        {
            if (!_noUtp.TryGetValue(remote, out long until)) return false;
            if (NowMicros() < until) return true;
            _noUtp.Remove(remote);
            return false;
        }
    }

    private void RememberNoUtp(IPEndPoint remote)
    {
        // Bounded: when full, the oldest half is forgotten (they are dialled over uTP once more).
        if (_noUtp.Count >= 4096)
            foreach (var old in _noUtp.OrderBy(kv => kv.Value).Take(2048).Select(kv => kv.Key).ToList()) _noUtp.Remove(old);
        _noUtp[remote] = NowMicros() + (long)_options.NoUtpMemory.TotalMicroseconds;
    }

    internal void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        Statistics.PacketsOut++;
        _sender.SendTo(datagram, to);
    }

    // ================================================================ the table (under the lock)

    private void Add(UtpConnection c)
    {
        _connections.Add(new Key(c.ReceiveId, c.Address), c);
        _all.Add(c);
        if (_runTimer && _timer is null)
            _timer = _time.CreateTimer(static s => ((UtpSocket)s!).Tick(), this, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50));
    }

    /// <summary>Forgets a connection and gives its buffers back (under the lock).</summary>
    internal void Remove(UtpConnection c, string why)
    {
        if (!_connections.Remove(new Key(c.ReceiveId, c.Address))) return;
        _all.Remove(c);
        if (c.Incoming && _incomingPerAddress.TryGetValue(c.RemoteEndPoint.Address, out int n))
        {
            if (n <= 1) _incomingPerAddress.Remove(c.RemoteEndPoint.Address);
            else _incomingPerAddress[c.RemoteEndPoint.Address] = n - 1;
        }
        var st = Statistics;
        if (_logger.IsEnabled(LogLevel.Debug))
            _logger.LogDebug("{Connection}: {Why} ({Figures}; socket: in {In}, out {Out}, malformed {Malformed}, refused {Refused}, unknown {Unknown}, acks for unsent {Unsent})",
            c, why, c.Describe(), st.PacketsIn, st.PacketsOut, st.Malformed, st.Refused, st.UnknownConnection, st.AcksForUnsentData);
        c.Release();
        if (_all.Count == 0 && _timer is not null)
        {
            _timer.Dispose();
            _timer = null;
        }
    }

    /// <summary>Every connection's timeouts (the timer calls it every 50 ms while connections exist).</summary>
    internal void Tick()
    {
        lock (Gate)
        {
            if (_all.Count == 0) return;
            long now = NowMicros();
            // Backwards: a connection that times out leaves the list.
            for (int i = _all.Count - 1; i >= 0; i--)
                if (i < _all.Count) _all[i].OnTick(now);
        }
    }

    private static ushort RandomSeq() => (ushort)RandomNumberGenerator.GetInt32(65536);

    private static SocketAddress Copy(SocketAddress from)
    {
        var copy = new SocketAddress(from.Family, from.Size);
        from.Buffer.Span[..from.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    private static IPEndPoint ToEndPoint(SocketAddress address)
    {
        var template = address.Family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        return PeerHandshaker.Normalize((IPEndPoint)template.Create(address));
    }

    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed) return;
            _disposed = true;
            // Like closing TCP sockets: the peers hear at once (a RESET), instead of finding out by their timeouts.
            long now = NowMicros();
            foreach (var c in _all.ToArray())
            {
                c.SendReset(now);
                c.Fail(SocketError.OperationAborted);
            }
            _timer?.Dispose();
            _timer = null;
        }
    }
}
