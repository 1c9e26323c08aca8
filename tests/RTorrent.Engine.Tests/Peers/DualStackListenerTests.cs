using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Blocklists;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Dht;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>
/// One dual-stack listener ([::], IPv4 arriving as ::ffff:a.b.c.d): IPv4 peers are IPv4 everywhere (shown, compared,
/// blocked), IPv6 peers are shown as [address]:port, and the blocklist applies to both families.
/// </summary>
public sealed class DualStackListenerTests : IAsyncLifetime
{
    private readonly Blocklist _list = new();
    private readonly string _root = TestPaths.NewTempDir("rt-dual");
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));
    private ClientEngine _engine = null!;
    private TorrentMetainfo _meta = null!;

    public async Task InitializeAsync()
    {
        _engine = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = null },
            new ClientEngineOptions { Catalog = new TestCatalog(), Time = new ManualTimeProvider(), Blocklist = _list });
        await _engine.StartAsync();
        _meta = TestTorrents.CreateMultiFile(_root, "payload", 16 * 1024, 40_000);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        _cts.Dispose();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private async Task<Socket> ConnectAsync(IPAddress from, IPAddress to)
    {
        var socket = new Socket(from.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(new IPEndPoint(to, _engine.ListenPort), _cts.Token);
        var handshake = new byte[Handshake.Length];
        Handshake.Write(handshake, _meta.WireHash, PeerIds.Create(), PeerFeatures.Extensions);
        try { await socket.SendAsync(handshake, SocketFlags.None, _cts.Token); }
        catch (SocketException) { }
        return socket;
    }

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

    private void Block(params IPAddress[] addresses)
    {
        var b = new IpRangeSetBuilder();
        foreach (var a in addresses) b.Add(a, a);
        _list.Replace(b.Build());
        _list.Enabled = true;
    }

    [Fact]
    public async Task Ipv4_peers_on_the_dual_stack_port_are_shown_and_blocked_as_ipv4_and_ipv6_ones_as_bracketed_ipv6()
    {
        var torrent = await _engine.AddAsync(_meta, new TorrentOptions { SavePath = _root }, start: true);
        Block(IPAddress.Parse("127.0.0.2"));

        // 127.0.0.2 arrives as ::ffff:127.0.0.2 and is still refused by its IPv4 rule.
        using var blocked = await ConnectAsync(IPAddress.Parse("127.0.0.2"), IPAddress.Loopback);
        Assert.False(await AnsweredAsync(blocked));
        Assert.Equal(1, _list.BlockedCount);

        using var v4 = await ConnectAsync(IPAddress.Loopback, IPAddress.Loopback);
        Assert.True(await AnsweredAsync(v4));
        using var v6 = await ConnectAsync(IPAddress.IPv6Loopback, IPAddress.IPv6Loopback);
        Assert.True(await AnsweredAsync(v6));

        var v4Port = ((IPEndPoint)v4.LocalEndPoint!).Port;
        var v6Port = ((IPEndPoint)v6.LocalEndPoint!).Port;
        IReadOnlyList<PeerSnapshot> peers = [];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((peers = (await _engine.GetDetailsAsync(torrent)).Peers).Count < 2)
            await Task.Delay(20, wait.Token);
        Assert.Equal(new[] { $"127.0.0.1:{v4Port}", $"[::1]:{v6Port}" }.Order(), peers.Select(p => p.Address).Order());
    }
}
