using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// A hand-written peer listening on 127.0.0.1 that runs a scripted behaviour on every connection it accepts: the
/// hostile peers (corrupt data, oversized messages, garbage) of the robustness tests. It counts connections, records
/// which ones the client under test closed, and keeps every socket's lifetime bounded.
/// </summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<RawPeerConnection, CancellationToken, Task> _behaviour;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _closedByClient;

    private RawPeer(TestTorrent torrent, string name, Func<RawPeerConnection, CancellationToken, Task> behaviour)
    {
        Torrent = torrent;
        Name = name;
        _behaviour = behaviour;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Starts listening; <paramref name="behaviour"/> runs for each connection after the client's handshake was read.</summary>
    public static RawPeer Start(TestTorrent torrent, string name, Func<RawPeerConnection, CancellationToken, Task> behaviour) =>
        new(torrent, name, behaviour);

    /// <summary>What this peer does wrong, for messages.</summary>
    public string Name { get; }

    /// <summary>The torrent it pretends to have.</summary>
    public TestTorrent Torrent { get; }

    /// <summary>The listen port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections the client closed (end of stream or reset) while the behaviour still ran or waited.</summary>
    public int ClosedByClient => Volatile.Read(ref _closedByClient);

    /// <summary>Blocks of wrong data sent (for the corrupt peer).</summary>
    public int BadBlocksSent;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            lock (_connections) _connections.Add(RunAsync(socket));
        }
    }

    private async Task RunAsync(Socket socket)
    {
        using var _ = socket;
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        bound.CancelAfter(Limits.Transfer);
        var connection = new RawPeerConnection(this, socket);
        try
        {
            await connection.ReadHandshakeAsync(bound.Token);
            await _behaviour(connection, bound.Token);
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or IOException)
        {
            Interlocked.Increment(ref _closedByClient);
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (connection.SawClose) Interlocked.Increment(ref _closedByClient);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop;
        Task[] running;
        lock (_connections) running = [.. _connections];
        await Task.WhenAll(running);
        _stop.Dispose();
    }
}

/// <summary>One connection of a <see cref="RawPeer"/>.</summary>
internal sealed class RawPeerConnection(RawPeer owner, Socket socket)
{
    private readonly byte[] _header = new byte[4];

    /// <summary>The peer this connection belongs to.</summary>
    public RawPeer Owner => owner;

    /// <summary>The client's handshake reserved bytes (to see what it supports).</summary>
    public byte[] ClientReserved { get; } = new byte[8];

    /// <summary>Set when the client closed the connection (end of stream seen).</summary>
    public bool SawClose { get; private set; }

    internal async Task ReadHandshakeAsync(CancellationToken ct)
    {
        var hs = new byte[68];
        await ReadExactlyAsync(hs, ct);
        if (hs[0] != 19 || !hs.AsSpan(28, 20).SequenceEqual(owner.Torrent.Meta.WireHash.ToArray()))
            throw new IOException("not a handshake for the test torrent");
        hs.AsSpan(20, 8).CopyTo(ClientReserved);
    }

    /// <summary>Answers the handshake (with the extension protocol bit when <paramref name="extensions"/>, the fast extension's when <paramref name="fast"/>).</summary>
    public Task SendHandshakeAsync(CancellationToken ct, bool extensions = false, bool fast = false) =>
        SendAsync(WireFormat.Handshake(owner.Torrent.Meta.WireHash.ToArray(), WireFormat.RandomPeerId("-XX0001-"), extensions, fast), ct);

    /// <summary>Sends raw bytes.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        while (bytes.Length > 0)
        {
            int n = await socket.SendAsync(bytes, SocketFlags.None, ct);
            bytes = bytes[n..];
        }
    }

    /// <summary>The next message (id, payload); null on a keep-alive; throws <see cref="EndOfStreamException"/> when the client closed.</summary>
    public async Task<(byte Id, byte[] Payload)?> ReadMessageAsync(CancellationToken ct)
    {
        await ReadExactlyAsync(_header, ct);
        int length = BinaryPrimitives.ReadInt32BigEndian(_header);
        if (length is < 0 or > 1 << 20) throw new IOException($"the client sent a message of {length} bytes");
        if (length == 0) return null;
        var body = new byte[length];
        await ReadExactlyAsync(body, ct);
        return (body[0], body[1..]);
    }

    /// <summary>Whether the client has sent bytes not read yet, waiting up to <paramref name="wait"/> for some.</summary>
    public async Task<bool> HasPendingAsync(TimeSpan wait, CancellationToken ct)
    {
        var until = DateTime.UtcNow + wait;
        while (socket.Available == 0)
        {
            if (DateTime.UtcNow >= until) return false;
            await Task.Delay(20, ct);
        }
        return true;
    }

    /// <summary>Reads and ignores whatever the client sends until it closes the connection; true when it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var sink = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(sink, SocketFlags.None, cts.Token) > 0) { }
        }
        catch (SocketException) { /* reset: closed as well */ }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
        SawClose = true;
        return true;
    }

    private async Task ReadExactlyAsync(Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0)
            {
                SawClose = true;
                throw new EndOfStreamException();
            }
            buffer = buffer[n..];
        }
    }
}
