using RTorrent.Engine.Tests.Peers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Connecting on its own: who is dialled and when, what a failed, late or doubled connection becomes, who is let in,
/// and how open connections are kept. Dials are fakes the test completes; the loop is real because a dial's result
/// comes back on it.
/// </summary>
public sealed class PeerConnectorTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly Host _host = new();
    private readonly Budget _budget = new();
    private readonly PeerPool _pool = new(_ => false);
    private readonly PeerConnector _connector;

    public PeerConnectorTests() => _connector = new PeerConnector(_host, _pool, _budget);

    public void Dispose() => _host.Loop.Dispose();

    private static IPEndPoint Ep(int port) => new(IPAddress.Parse("203.0.113.9"), port);

    private static byte[] Id(byte last)
    {
        var id = new byte[20];
        id[19] = last;
        return id;
    }

    private static HandshakeResult Handshake(IPEndPoint remote, byte[] peerId, bool outgoing = true) =>
        new(new TcpPeerStream(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)), remote, new InfoHash(new byte[20]), peerId,
            PeerFeatures.Extensions, outgoing, StreamCiphers.Plain, []);

    private Task<bool> ConnectMoreAsync() => _host.Loop.InvokeAsync(() => _connector.ConnectMore(_host.Now));

    [Fact]
    public async Task Known_peers_are_dialled_while_the_torrent_and_the_session_have_room()
    {
        _host.Limit = 3;
        for (int i = 1; i <= 5; i++) _pool.Add(Ep(i), "tracker");
        Assert.False(await ConnectMoreAsync());
        Assert.Equal(3, _connector.HalfOpen);
        Assert.Equal(3, _host.Dials.Count);
        Assert.True(_host.Activations > 0);
        Assert.Equal(3, _pool.All.Count(k => k.Connecting));

        _host.Limit = 10;
        _budget.Attempts = 1; // the session's rate allows one more this second
        Assert.True(await ConnectMoreAsync()); // candidates wait for the budget: the next tick tries again
        Assert.Equal(4, _connector.HalfOpen);
    }

    [Fact]
    public async Task A_failed_dial_frees_its_slot_and_the_peer_is_woken_for_when_its_backoff_ends()
    {
        var known = _pool.Add(Ep(1), "tracker")!;
        await ConnectMoreAsync();
        _host.Dials[Ep(1)].SetException(new SocketException((int)SocketError.ConnectionRefused));
        await _host.Loop.InvokeAsync(() => { }); // the result came back

        Assert.Equal(0, _connector.HalfOpen);
        Assert.Equal(1, _budget.Ended);
        Assert.False(known.Connecting);
        Assert.Equal(1, known.Failures);
        Assert.False(await ConnectMoreAsync());
        Assert.Equal(_host.Now + TimeSpan.FromSeconds(5), _host.WokenAt);
        Assert.Empty(_host.Errors); // the network's doing, not ours
    }

    [Fact]
    public async Task A_dial_that_fails_unexpectedly_is_logged_and_still_frees_its_slot()
    {
        _pool.Add(Ep(1), "tracker");
        await ConnectMoreAsync();
        _host.Dials[Ep(1)].SetException(new InvalidOperationException("bug"));
        await _host.Loop.InvokeAsync(() => { });
        Assert.Equal(0, _connector.HalfOpen);
        Assert.IsType<InvalidOperationException>(Assert.Single(_host.Errors));
    }

    [Fact]
    public async Task A_dialled_peer_is_opened_and_its_failures_forgotten()
    {
        var known = _pool.Add(Ep(1), "tracker")!;
        known.Failures = 3;
        await ConnectMoreAsync();
        _host.Dials[Ep(1)].SetResult(Handshake(Ep(1), Id(9)));
        await _host.Loop.InvokeAsync(() => { });

        Assert.Same(known, Assert.Single(_host.Opened).Known);
        Assert.True(known.Connected);
        Assert.Equal(0, known.Failures);
    }

    [Fact]
    public async Task A_dial_that_succeeds_after_the_torrent_stopped_is_closed()
    {
        _pool.Add(Ep(1), "tracker");
        await ConnectMoreAsync();
        _host.Running = false;
        var hs = Handshake(Ep(1), Id(9));
        _host.Dials[Ep(1)].SetResult(hs);
        await _host.Loop.InvokeAsync(() => { });
        Assert.Empty(_host.Opened);
        Assert.True(hs.Socket.SafeHandle.IsClosed);
    }

    [Fact]
    public async Task Ourselves_are_never_kept_nor_dialled_again()
    {
        var known = _pool.Add(Ep(1), "tracker")!;
        await ConnectMoreAsync();
        var hs = Handshake(Ep(1), _host.PeerId);
        _host.Dials[Ep(1)].SetResult(hs);
        await _host.Loop.InvokeAsync(() => { });
        Assert.True(known.IsSelf);
        Assert.True(hs.Socket.SafeHandle.IsClosed);
        Assert.Empty(_host.Opened);
        Assert.Empty(_pool.Candidates(_host.Now, 10, skipSeeds: false, out _));
    }

    [Fact]
    public async Task Of_two_connections_to_one_peer_both_ends_keep_the_one_the_smaller_peer_id_opened()
    {
        // Our id (…05) is smaller than theirs (…09): the connection we opened stays, theirs is refused.
        var existing = TestPeers.Create(_host.Time, endPoint: Ep(50), outgoing: false);
        existing.PeerId.AsSpan().Clear();
        existing.PeerId[19] = 9;
        _host.PeerList.Add(existing);
        _pool.Add(Ep(1), "tracker");
        await ConnectMoreAsync();
        _host.Dials[Ep(1)].SetResult(Handshake(Ep(1), Id(9), outgoing: true));
        await _host.Loop.InvokeAsync(() => { });
        Assert.Equal("duplicate connection", existing.Wire().CloseReason);
        Assert.Single(_host.Opened);

        // The same endpoint twice: the second is refused.
        var again = Handshake(Ep(50), Id(7), outgoing: false);
        _host.Running = true;
        await _host.Loop.RunAsync(() => _connector.AcceptAsync(again));
        Assert.True(again.Socket.SafeHandle.IsClosed);
        Assert.Single(_host.Opened);
    }

    [Fact]
    public async Task Incoming_peers_are_let_in_only_while_running_with_room_and_not_banned()
    {
        async Task<bool> Accepted(HandshakeResult hs)
        {
            int before = _host.Opened.Count;
            await _host.Loop.RunAsync(() => _connector.AcceptAsync(hs)).WaitAsync(Bound);
            return _host.Opened.Count > before;
        }

        Assert.True(await Accepted(Handshake(Ep(1), Id(1), outgoing: false)));
        Assert.Equal(1, _host.Answered);

        _pool.Add(Ep(2), "tracker")!.Banned = true;
        Assert.False(await Accepted(Handshake(Ep(2), Id(2), outgoing: false)));
        _budget.Room = false;
        Assert.False(await Accepted(Handshake(Ep(3), Id(3), outgoing: false)));
        _budget.Room = true;
        _host.Running = false;
        Assert.False(await Accepted(Handshake(Ep(4), Id(4), outgoing: false)));
        _host.Running = true;
        _host.AnswerFails = true;
        var failing = Handshake(Ep(5), Id(5), outgoing: false);
        Assert.False(await Accepted(failing));
        Assert.True(failing.Socket.SafeHandle.IsClosed);
    }

    [Fact]
    public void An_idle_peer_is_dropped_and_a_quiet_one_gets_a_keep_alive()
    {
        var peer = TestPeers.Create(_host.Time);
        _host.Time.Advance(TimeSpan.FromSeconds(91));
        PeerConnector.Upkeep(peer, _host.Now);
        Assert.Equal([PeerMessage.KeepAlive], peer.Wire().SentIds);
        Assert.Equal(_host.Now, peer.LastSent);

        _host.Time.Advance(TimeSpan.FromSeconds(90)); // 181 s without hearing from it
        PeerConnector.Upkeep(peer, _host.Now);
        Assert.Equal("idle for 3 minutes", peer.Wire().CloseReason);
    }

    [Fact]
    public async Task A_peer_that_hung_up_at_once_without_giving_anything_backs_off_and_others_are_redialled_soon()
    {
        var quick = TestPeers.Create(_host.Time, endPoint: Ep(1));
        var useful = TestPeers.Create(_host.Time, endPoint: Ep(2));
        useful.Download.Add(1);
        foreach (var p in new[] { quick, useful }) _pool.Add(p.EndPoint, "tracker")!.Connected = true;
        _host.Time.Advance(TimeSpan.FromSeconds(10));

        await _host.Loop.InvokeAsync(() =>
        {
            _connector.OnPeerLeft(quick);
            _connector.OnPeerLeft(useful);
        });

        var (q, u) = (_pool.Get(Ep(1))!, _pool.Get(Ep(2))!);
        Assert.False(q.Connected || u.Connected);
        Assert.Equal((1, _host.Now + TimeSpan.FromSeconds(5)), (q.Failures, q.NextAttempt));
        Assert.Equal((0, _host.Now + TimeSpan.FromSeconds(10)), (u.Failures, u.NextAttempt));
    }

    private sealed class Budget : IConnectionBudget
    {
        public bool Room = true;
        public int Attempts = int.MaxValue;
        public int Ended;
        public bool HasRoom => Room;

        public bool TryBeginConnect()
        {
            if (Attempts <= 0) return false;
            Attempts--;
            return true;
        }

        public void EndConnect() => Ended++;
        public void Opened() { }
        public void Closed() { }
    }

    private sealed class Host : IConnectorHost, ILogger
    {
        public ManualTimeProvider Time { get; } = new();
        public EngineLoop Loop { get; } = new("connector-test");
        public List<Peer> PeerList { get; } = [];
        public Dictionary<IPEndPoint, TaskCompletionSource<HandshakeResult>> Dials { get; } = [];
        public List<(HandshakeResult Handshake, KnownPeer? Known)> Opened { get; } = [];
        public List<Exception> Errors { get; } = [];
        public bool Running = true;
        public int Limit = 50;
        public int Activations;
        public int Answered;
        public bool AnswerFails;
        public DateTimeOffset? WokenAt;

        public bool IsRunning => Running;
        public int MaxConnections => Limit;
        public bool IsComplete => false;
        public IReadOnlyList<Peer> Peers => PeerList;
        public DateTimeOffset Now => Time.GetUtcNow();
        public byte[] PeerId { get; } = Id(5);
        public CancellationToken RunToken => CancellationToken.None;
        public ILogger Logger => this;
        public void Activate() => Activations++;
        public void WakeAt(DateTimeOffset at) => WokenAt = at;

        public Task<HandshakeResult> DialAsync(IPEndPoint endPoint, CancellationToken ct)
        {
            var tcs = new TaskCompletionSource<HandshakeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            Dials[endPoint] = tcs;
            return tcs.Task;
        }

        public Task AnswerAsync(HandshakeResult handshake, CancellationToken ct)
        {
            Answered++;
            return AnswerFails ? Task.FromException(new SocketException((int)SocketError.ConnectionReset)) : Task.CompletedTask;
        }

        public void Open(HandshakeResult handshake, KnownPeer? known) => Opened.Add((handshake, known));

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error && exception is not null) Errors.Add(exception);
        }
    }
}
