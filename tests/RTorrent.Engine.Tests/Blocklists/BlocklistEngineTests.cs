using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Blocklists;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Blocklists;

/// <summary>
/// The engine obeys the blocklist: a blocked address (127.0.0.2 here; all of 127/8 is loopback on Linux) is refused
/// incoming, never dialled, dropped from every source, and let go when a reload blocks it while connected; 127.0.0.1 is
/// the control that goes through.
/// </summary>
public sealed class BlocklistEngineTests : IAsyncLifetime
{
    private static readonly IPAddress Blocked = IPAddress.Parse("127.0.0.2");
    private readonly Blocklist _list = new();
    private readonly ManualTimeProvider _time = new();
    private readonly string _root = TestPaths.NewTempDir("rt-block");
    private ClientEngine _engine = null!;
    private TorrentMetainfo _meta = null!;
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));

    public async Task InitializeAsync()
    {
        _engine = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            new ClientEngineOptions { Catalog = new TestCatalog(), Time = _time, Blocklist = _list });
        await _engine.StartAsync();
        _meta = TestTorrents.CreateMultiFile(_root, "payload", 16 * 1024, 40_000);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        _cts.Dispose();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private static IpRangeSet Only(IPAddress address)
    {
        var b = new IpRangeSetBuilder();
        b.Add(address, address);
        return b.Build();
    }

    private void BlockLoopback2()
    {
        _list.Replace(Only(Blocked));
        _list.Enabled = true;
    }

    private Task<Torrent> AddSeedAsync(bool start = true) => _engine.AddAsync(_meta, new TorrentOptions { SavePath = _root }, start);

    /// <summary>Connects from <paramref name="from"/> and sends a handshake; returns the socket.</summary>
    private async Task<Socket> ConnectFromAsync(IPAddress from)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _engine.ListenPort), _cts.Token);
        var handshake = new byte[Handshake.Length];
        Handshake.Write(handshake, _meta.WireHash, PeerIds.Create(), PeerFeatures.Extensions);
        try { await socket.SendAsync(handshake, SocketFlags.None, _cts.Token); }
        catch (SocketException) { /* already closed by the engine: the read below says so */ }
        return socket;
    }

    /// <summary>Reads the engine's handshake answer; false when the engine closed the connection instead.</summary>
    private async Task<bool> AnsweredAsync(Socket socket)
    {
        var buffer = new byte[Handshake.Length];
        int got = 0;
        try
        {
            while (got < buffer.Length)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, _cts.Token);
                if (n == 0) return false;
                got += n;
            }
        }
        catch (SocketException) { return false; }
        return true;
    }

    [Fact]
    public async Task A_blocked_address_is_refused_incoming_and_the_refusal_is_counted()
    {
        await AddSeedAsync();
        BlockLoopback2();

        using var blocked = await ConnectFromAsync(Blocked);
        Assert.False(await AnsweredAsync(blocked));
        Assert.True(_list.BlockedCount >= 1);

        using var allowed = await ConnectFromAsync(IPAddress.Loopback);
        Assert.True(await AnsweredAsync(allowed));

        // Switched off, the same address gets in.
        _list.Enabled = false;
        using var again = await ConnectFromAsync(Blocked);
        Assert.True(await AnsweredAsync(again));
    }

    [Fact]
    public async Task A_connected_peer_is_let_go_when_a_reload_blocks_it()
    {
        var t = await AddSeedAsync();
        _list.Enabled = true; // on, but empty
        using var peer = await ConnectFromAsync(Blocked);
        Assert.True(await AnsweredAsync(peer));
        await TestWait.UntilAsync(() => _engine.Loop.InvokeAsync(() => t.ConnectionCount).Result == 1, "the peer to be admitted");

        _list.Replace(Only(Blocked));
        // The engine closes it: reading runs to the end of the stream (after what it sent: bitfield, extension handshake).
        var buffer = new byte[4096];
        try
        {
            while (await peer.ReceiveAsync(buffer, SocketFlags.None, _cts.Token) > 0) { }
        }
        catch (SocketException) { }
        await TestWait.UntilAsync(() => _engine.Loop.InvokeAsync(() => t.ConnectionCount).Result == 0, "the peer to be let go");
        Assert.Equal(1, _list.BlockedCount);
    }

    [Fact]
    public async Task A_blocked_peer_is_never_dialled_whether_it_was_known_before_the_list_or_given_after()
    {
        using var blockedListener = new TcpListener(Blocked, 0);
        using var allowedListener = new TcpListener(IPAddress.Loopback, 0);
        blockedListener.Start();
        allowedListener.Start();
        var blockedEp = (IPEndPoint)blockedListener.LocalEndpoint;
        var allowedEp = (IPEndPoint)allowedListener.LocalEndpoint;

        // Known while the torrent is stopped and the list empty, then the list blocks it, then the torrent starts.
        var t = await AddSeedAsync(start: false);
        await t.AddPeerAsync(blockedEp);
        await t.AddPeerAsync(allowedEp);
        Assert.Equal(2, (await Snapshot(t)).PeersKnown);
        BlockLoopback2();
        await t.StartAsync();

        using var dialled = await allowedListener.AcceptSocketAsync(_cts.Token); // the control is dialled...
        await _engine.Loop.InvokeAsync(() => { }); // ...in the same pass that skipped the blocked one
        Assert.False(blockedListener.Pending());
        Assert.Equal(1, (await Snapshot(t)).PeersKnown); // it left the pool, so it is never tried again
        Assert.Equal(1, _list.BlockedCount);

        // Given after the list: refused at once, so it never becomes a candidate.
        await t.AddPeerAsync(new IPEndPoint(Blocked, blockedEp.Port + 1));
        Assert.Equal(1, (await Snapshot(t)).PeersKnown);
        Assert.Equal(2, _list.BlockedCount);
        for (int i = 0; i < 15; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await _engine.Loop.InvokeAsync(() => { });
        }
        Assert.False(blockedListener.Pending());
    }

    [Theory]
    [InlineData("pex")]
    [InlineData("dht")]
    [InlineData("lsd")]
    [InlineData("tracker")]
    public async Task Peers_from_any_source_are_dropped_when_blocked(string source)
    {
        var t = await AddSeedAsync(start: false);
        BlockLoopback2();
        // What every source (built-in PEX, the DHT's and LSD's sinks, trackers, plugins) hands peers to.
        new Torrent.PeerSink(t).AddPeers(
            [new IPEndPoint(Blocked, 6881), new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.2"), 6882), new IPEndPoint(IPAddress.Loopback, 6883)],
            source);
        await _engine.Loop.InvokeAsync(() => { });
        Assert.Equal(1, (await Snapshot(t)).PeersKnown);
        Assert.Equal(2, _list.BlockedCount);
    }

    [Fact]
    public async Task A_ut_pex_message_from_a_peer_adds_only_the_addresses_the_list_does_not_block()
    {
        var list = new Blocklist();
        var b = new IpRangeSetBuilder();
        b.Add(IPAddress.Parse("127.1.0.0"), IPAddress.Parse("127.1.0.255"));
        list.Replace(b.Build());
        list.Enabled = true;
        await using var h = await EngineHarness.StartAsync(setup: c => c.Sources.Add(new RTorrent.Engine.Client.Extensions.PexPeerSourceFactory()),
            blocklist: list);
        var meta = h.NewTorrent();
        var t = await h.Engine.AddAsync(meta, new TorrentOptions { SavePath = h.Root });

        var ct = _cts.Token;
        var sockets = new List<Socket>();
        var (wire, _) = await RawSeeder.HandshakeAsync(h.Engine, meta, sockets, PeerFeatures.Extensions, ct);
        using var socket = sockets[0];
        await wire.SendAsync(Extended(0, new ExtensionHandshake { Extensions = { ["ut_pex"] = 2, ["ut_metadata"] = 3 } }.Encode()), ct);
        // 10 blocked (127.1.0.x) and 10 allowed (127.2.0.x) addresses nobody listens on.
        var added = Enumerable.Range(1, 10).Select(i => new IPEndPoint(new IPAddress(new byte[] { 127, 1, 0, (byte)i }), 1))
            .Concat(Enumerable.Range(1, 10).Select(i => new IPEndPoint(new IPAddress(new byte[] { 127, 2, 0, (byte)i }), 1))).ToList();
        await wire.SendAsync(Extended(RTorrent.Engine.Client.Extensions.PexPeerSource.LocalId,
            RTorrent.Engine.Client.Extensions.PexPeerSource.Encode(added, added.Select(_ => (byte)0).ToList(), [])), ct);
        // A metadata request behind it: its answer means the PEX message was handled.
        await wire.SendAsync(Extended(RTorrent.Engine.Client.Extensions.MetadataExchange.LocalId, "d8:msg_typei0e5:piecei0ee"u8.ToArray()), ct);
        while (await wire.ReadMessageAsync(ct) is var m && !(m.Id == MessageId.Extended && m.Payload[0] == 3)) { }
        await h.Engine.Loop.InvokeAsync(() => { });

        var snapshot = (await h.Engine.GetSnapshotAsync()).Torrents.Single(s => s.Id == t.InfoHash.ToHex());
        Assert.Equal(10, snapshot.PeersKnown);
        Assert.Equal(10, list.BlockedCount);
    }

    private static byte[] Extended(int id, byte[] payload)
    {
        var m = new byte[6 + payload.Length];
        MessageWriter.WriteHeader(m, MessageId.Extended, 1 + payload.Length);
        m[5] = (byte)id;
        payload.CopyTo(m, 6);
        return m;
    }

    private async Task<TorrentSnapshot> Snapshot(Torrent t) =>
        (await _engine.GetSnapshotAsync()).Torrents.Single(s => s.Id == t.InfoHash.ToHex());
}
