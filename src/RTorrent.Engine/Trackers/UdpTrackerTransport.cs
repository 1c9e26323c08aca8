using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// The UDP sockets UDP tracker clients send through: one per address family, created on first use, each with one
/// receive loop that hands answers to the request waiting for them.
/// </summary>
/// <remarks>
/// An answer is delivered only if its transaction id is one we are waiting for, it comes from the address and port
/// the request went to, and the request's validator accepts its action and length. Anything else (late answers,
/// spoofed packets, truncated or oversized packets) is dropped, so the request keeps waiting and retransmits.
/// The IPv6 socket is IPv6-only: which socket an answer arrived on tells the peer list's address family (BEP 15).
/// </remarks>
internal sealed class UdpTrackerTransport : IDisposable
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<uint, Exchange> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private Socket? _v4;
    private Socket? _v6;
    private bool _disposed;
    private readonly Proxies.RelayedDatagrams? _relay;

    /// <summary>UDP sockets of our own, one per address family.</summary>
    public UdpTrackerTransport()
    {
    }

    /// <summary>
    /// Every datagram through a SOCKS5 proxy's UDP relay (docs/PROXIES.md): nothing is sent directly, names go to the
    /// proxy to look up, and answers come only from the relay.
    /// </summary>
    public UdpTrackerTransport(Proxies.RelayedDatagrams relay)
    {
        _relay = relay;
        _ = Task.Run(RelayLoopAsync);
    }

    /// <summary>Whether datagrams go through a proxy's relay.</summary>
    public bool IsRelayed => _relay is not null;

    /// <summary>Starts waiting for an answer from <paramref name="remote"/> under a fresh random transaction id.</summary>
    public Exchange Begin(EndPoint remote, Func<ReadOnlyMemory<byte>, bool> accept)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (true)
        {
            // Unpredictable ids make blind spoofing of answers harder than a counter would.
            uint id = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4));
            var exchange = new Exchange(this, id, remote, accept);
            if (_pending.TryAdd(id, exchange)) return exchange;
        }
    }

    /// <summary>Sends one datagram.</summary>
    /// <exception cref="TrackerException">The socket refused to send (no route, no IPv6, ...).</exception>
    public async ValueTask SendAsync(EndPoint remote, ReadOnlyMemory<byte> packet, CancellationToken cancellationToken)
    {
        if (_relay is not null)
        {
            if (!_relay.TrySend(packet.Span, remote))
                throw new TrackerException(TrackerErrorKind.Network,
                    $"Nothing sent: the proxy's UDP relay is not open ({_relay.LastError ?? "still opening"}).");
            return;
        }
        if (remote is not IPEndPoint address) throw new ArgumentException("a direct datagram needs an address", nameof(remote));
        var socket = GetSocket(address.AddressFamily);
        try
        {
            await socket.SendToAsync(packet, SocketFlags.None, remote, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new TrackerException(TrackerErrorKind.Network, $"Could not send to the tracker: {e.Message}.", e);
        }
    }

    private Socket GetSocket(AddressFamily family)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ref Socket? slot = ref family == AddressFamily.InterNetwork ? ref _v4 : ref _v6;
            if (slot is not null) return slot;
            Socket socket;
            try
            {
                socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
                if (family == AddressFamily.InterNetworkV6) socket.DualMode = false;
                socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
            }
            catch (SocketException e)
            {
                throw new TrackerException(TrackerErrorKind.Network,
                    $"Cannot open a UDP socket for {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")}: {e.Message}.", e);
            }
            slot = socket;
            _ = Task.Run(() => ReceiveLoopAsync(socket));
            return socket;
        }
    }

    private async Task RelayLoopAsync()
    {
        var buffer = new byte[65536];
        var token = _closing.Token;
        while (!token.IsCancellationRequested)
        {
            int length;
            EndPoint from;
            try
            {
                (length, from) = await _relay!.ReceiveAsync(buffer, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            if (length < 8 || from is not IPEndPoint sender) continue;
            uint id = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(4));
            if (_pending.TryGetValue(id, out var exchange))
                exchange.TryDeliver(sender, buffer.AsMemory(0, length));
        }
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        var token = _closing.Token;
        int errors = 0;
        while (!token.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
                errors = 0;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // ICMP errors surface here on some platforms; they belong to no request in particular. A socket that
                // keeps failing is not spun on.
                if (++errors > 100)
                {
                    try { await Task.Delay(100, token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { return; }
                }
                continue;
            }
            if (result.ReceivedBytes < 8 || result.RemoteEndPoint is not IPEndPoint from) continue;
            uint id = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(4));
            if (_pending.TryGetValue(id, out var exchange))
                exchange.TryDeliver(from, buffer.AsMemory(0, result.ReceivedBytes));
        }
    }

    /// <summary>Closes the sockets; waiting requests fail with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _closing.Cancel();
        _relay?.Dispose();
        _v4?.Dispose();
        _v6?.Dispose();
        foreach (var exchange in _pending.Values) exchange.Fail(new ObjectDisposedException(nameof(UdpTrackerTransport)));
        _closing.Dispose();
    }

    /// <summary>One request waiting for its answer (across its retransmissions). Dispose to stop waiting.</summary>
    internal sealed class Exchange : IDisposable
    {
        private readonly UdpTrackerTransport _owner;
        private readonly EndPoint _remote;
        private readonly Func<ReadOnlyMemory<byte>, bool> _accept;
        private readonly TaskCompletionSource<byte[]> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Exchange(UdpTrackerTransport owner, uint transactionId, EndPoint remote, Func<ReadOnlyMemory<byte>, bool> accept)
        {
            _owner = owner;
            TransactionId = transactionId;
            _remote = remote;
            _accept = accept;
        }

        public uint TransactionId { get; }

        /// <summary>Completes with the first acceptable answer.</summary>
        public Task<byte[]> Answer => _answer.Task;

        internal void TryDeliver(IPEndPoint from, ReadOnlyMemory<byte> packet)
        {
            // A name sent through a proxy's relay: the answer names whatever address the proxy looked up, and only the
            // relay can hand us datagrams, so the random transaction id is the match (as for any UDP answer).
            if (_remote is IPEndPoint remote && (from.Port != remote.Port || !SameAddress(from.Address, remote.Address))) return;
            if (_remote is DnsEndPoint named && from.Port != named.Port) return;
            if (!_accept(packet)) return;
            _answer.TrySetResult(packet.ToArray());
        }

        internal void Fail(Exception e) => _answer.TrySetException(e);

        public void Dispose() => _owner._pending.TryRemove(new KeyValuePair<uint, Exchange>(TransactionId, this));

        private static bool SameAddress(IPAddress a, IPAddress b)
        {
            if (a.AddressFamily != b.AddressFamily) return false;
            // Compare the bytes only: a received IPv6 address may carry a scope id the configured one lacks.
            Span<byte> x = stackalloc byte[16];
            Span<byte> y = stackalloc byte[16];
            return a.TryWriteBytes(x, out int nx) && b.TryWriteBytes(y, out int ny) && x[..nx].SequenceEqual(y[..ny]);
        }
    }
}
