using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Tests.Client;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>
/// Whatever stops a connection's receive loop or send pump, the connection closes, its handler hears it once, and
/// the cause is logged: a bug (a throwing handler, a failing read or write step) as an error with its exception, the
/// peer's own doing at debug level. One connection over loopback, no torrent.
/// </summary>
public sealed class PeerConnectionFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly EngineLoop _loop = new("peer-connection-test");
    private readonly RecordingLogger _log = new();
    private Socket _remote = null!;
    private Socket _local = null!;

    public async Task InitializeAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _remote = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptAsync();
        await _remote.ConnectAsync(listener.LocalEndPoint!);
        _local = await accept;
    }

    public Task DisposeAsync()
    {
        _remote.Dispose();
        _local.Dispose();
        _loop.Dispose();
        return Task.CompletedTask;
    }

    private PeerConnection Open(Handler handler, Func<int, CancellationToken, ValueTask>? receiveThrottle = null,
        Func<int, CancellationToken, ValueTask>? sendThrottle = null)
    {
        var c = new PeerConnection(new TcpPeerStream(_local), (IPEndPoint)_local.RemoteEndPoint!, outgoing: false, pieceCount: 10, handler, _loop,
            receiveThrottle, sendThrottle, logger: _log);
        c.Start();
        return c;
    }

    private static readonly byte[] Unchoke = [0, 0, 0, 1, (byte)MessageId.Unchoke];

    [Fact]
    public async Task A_message_handler_that_throws_closes_the_peer_and_logs_the_exception()
    {
        var handler = new Handler { OnMessagesThrows = new InvalidOperationException("handler bug") };
        var c = Open(handler);
        await _remote.SendAsync(Unchoke);

        string reason = await handler.Closed.Task.WaitAsync(Bound);
        Assert.Contains("handler bug", reason);
        Assert.True(c.IsClosed);
        var error = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(error.Exception);
        Assert.Equal(0, await ReceiveUntilClosedAsync()); // the peer sees the socket close, not a silent zombie
        Assert.Equal(1, handler.ClosedCount);
    }

    [Fact]
    public async Task A_fault_in_the_receive_loop_closes_the_peer_and_logs_the_exception()
    {
        // The throttle runs inside the receive loop after each read, where a decoding bug would throw too.
        var handler = new Handler();
        var c = Open(handler, receiveThrottle: (_, _) => throw new IndexOutOfRangeException("decoder bug"));
        await _remote.SendAsync(Unchoke);

        string reason = await handler.Closed.Task.WaitAsync(Bound);
        Assert.Contains("receive loop", reason);
        Assert.Contains("decoder bug", reason);
        Assert.True(c.IsClosed);
        var error = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<IndexOutOfRangeException>(error.Exception);
        Assert.Contains("receive loop", error.Message);
    }

    [Fact]
    public async Task A_fault_in_the_send_pump_closes_the_peer_and_logs_the_exception()
    {
        var handler = new Handler();
        var c = Open(handler, sendThrottle: (_, _) => throw new NullReferenceException("writer bug"));
        await _loop.InvokeAsync(() => c.Enqueue(Unchoke)); // no inline send allowed: the pump takes it

        string reason = await handler.Closed.Task.WaitAsync(Bound);
        Assert.Contains("send pump", reason);
        Assert.True(c.IsClosed);
        var error = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<NullReferenceException>(error.Exception);
    }

    [Fact]
    public async Task A_protocol_error_closes_the_peer_with_its_reason_and_is_no_error_of_ours()
    {
        var handler = new Handler();
        Open(handler);
        await _remote.SendAsync(new byte[] { 0, 0, 0, 2, (byte)MessageId.Unchoke, 9 });

        string reason = await handler.Closed.Task.WaitAsync(Bound);
        Assert.Contains("Unchoke with a payload", reason);
        await _log.WaitForAsync((level, message, _) => level == LogLevel.Debug && message.Contains("receive loop stopped")).WaitAsync(Bound);
        Assert.DoesNotContain(_log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task The_peer_hanging_up_closes_the_connection_once()
    {
        var handler = new Handler();
        var c = Open(handler);
        await _remote.SendAsync(Unchoke);
        await handler.FirstBatch.Task.WaitAsync(Bound);
        _remote.Shutdown(SocketShutdown.Both);

        Assert.Equal("closed by peer", await handler.Closed.Task.WaitAsync(Bound));
        c.Close("again"); // a second close is a no-op
        await _loop.InvokeAsync(() => { }); // anything it posted has run
        Assert.Equal(1, handler.ClosedCount);
        Assert.Equal([MessageId.Unchoke], handler.Received);
    }

    private async Task<int> ReceiveUntilClosedAsync()
    {
        var buffer = new byte[64];
        int n;
        do n = await _remote.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Bound);
        while (n > 0);
        return n;
    }

    private sealed class Handler : IPeerConnectionHandler
    {
        public Exception? OnMessagesThrows;
        public readonly List<MessageId> Received = [];
        public readonly TaskCompletionSource FirstBatch = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource<string> Closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int ClosedCount;

        public void OnMessages(IPeerWire connection, List<PeerMessage> batch)
        {
            Received.AddRange(batch.Select(m => m.Id));
            FirstBatch.TrySetResult();
            if (OnMessagesThrows is { } e) throw e;
        }

        public void OnSendBufferLow(IPeerWire connection) { }

        public void OnClosed(IPeerWire connection, string reason)
        {
            ClosedCount++;
            Closed.TrySetResult(reason);
        }
    }
}
