using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Proxies;
using RTorrent.Engine.Settings;

namespace RTorrent.Engine.Tests.Proxies;

/// <summary>
/// Issue 16 part 3: the proxy handshakes byte for byte against a scripted proxy on loopback (the real servers, dante,
/// microsocks and tinyproxy, are in the integration tests), and every way a proxy can refuse or misbehave.
/// </summary>
public class ProxyConnectorTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    /// <summary>A one-connection proxy: runs <paramref name="script"/> against the accepted socket.</summary>
    private static async Task<(ProxyServer Proxy, Task Served)> ScriptedAsync(ProxyKind kind, Func<Socket, Task> script, string? user = null, string? password = null)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var served = Task.Run(async () =>
        {
            using (listener)
            {
                using var client = await listener.AcceptAsync();
                await script(client);
            }
        });
        await Task.Yield();
        return (new ProxyServer(kind, "127.0.0.1", port, user, password), served);
    }

    private static async Task<byte[]> ReadAsync(Socket s, int count)
    {
        var buffer = new byte[count];
        int at = 0;
        while (at < count)
        {
            int n = await s.ReceiveAsync(buffer.AsMemory(at));
            if (n == 0) throw new IOException("closed");
            at += n;
        }
        return buffer;
    }

    [Fact]
    public async Task Socks5_logs_in_and_asks_for_a_name_it_never_looks_up_itself()
    {
        byte[]? greeting = null, login = null, request = null;
        var (proxy, served) = await ScriptedAsync(ProxyKind.Socks5, async s =>
        {
            greeting = await ReadAsync(s, 4);
            await s.SendAsync(new byte[] { 5, 2 });
            var head = await ReadAsync(s, 2);
            var user = await ReadAsync(s, head[1]);
            var plen = await ReadAsync(s, 1);
            var pass = await ReadAsync(s, plen[0]);
            login = [.. head, .. user, .. plen, .. pass];
            await s.SendAsync(new byte[] { 1, 0 });
            var req = await ReadAsync(s, 5);
            var rest = await ReadAsync(s, req[4] + 2);
            request = [.. req, .. rest];
            await s.SendAsync(new byte[] { 5, 0, 0, 1, 10, 0, 0, 1, 0x1F, 0x90 });
            await s.SendAsync("tunnel"u8.ToArray());
        }, "alice", "s3cret");
        using var cts = new CancellationTokenSource(Limit);
        using var socket = await ProxyConnector.ConnectAsync(proxy, new DnsEndPoint("tracker.example", 6969), cts.Token);
        await served.WaitAsync(Limit);
        Assert.Equal(new byte[] { 5, 2, 0, 2 }, greeting);
        Assert.Equal([1, 5, .. "alice"u8.ToArray(), 6, .. "s3cret"u8.ToArray()], login);
        Assert.Equal(new byte[] { 5, 1, 0, 3, 15 }, request![..5]);
        Assert.Equal("tracker.example", Encoding.ASCII.GetString(request, 5, 15));
        Assert.Equal(6969, request[^2] << 8 | request[^1]);
        // What the target sent after the reply is the caller's, untouched.
        Assert.Equal("tunnel", Encoding.ASCII.GetString(await ReadAsync(socket, 6)));
    }

    [Fact]
    public async Task Socks5_connect_to_an_IPv6_address_sends_it_as_one()
    {
        byte[]? request = null;
        var (proxy, served) = await ScriptedAsync(ProxyKind.Socks5, async s =>
        {
            await ReadAsync(s, 3);
            await s.SendAsync(new byte[] { 5, 0 });
            request = await ReadAsync(s, 4 + 16 + 2);
            byte[] reply = [5, 0, 0, 4, .. new byte[16], 0, 1];
            await s.SendAsync(reply);
        });
        using var cts = new CancellationTokenSource(Limit);
        using var socket = await ProxyConnector.ConnectAsync(proxy, new IPEndPoint(IPAddress.Parse("2001:db8::7"), 51413), cts.Token);
        await served.WaitAsync(Limit);
        Assert.Equal(new byte[] { 5, 1, 0, 4 }, request![..4]);
        Assert.Equal(IPAddress.Parse("2001:db8::7"), new IPAddress(request.AsSpan(4, 16)));
        Assert.Equal(51413, request[20] << 8 | request[21]);
    }

    [Theory]
    [InlineData(new byte[] { 5, 0xFF }, "wants a login")]
    [InlineData(new byte[] { 4, 0 }, "not a SOCKS5 proxy")]
    public async Task Socks5_greeting_refusals_say_why(byte[] answer, string expected)
    {
        var (proxy, served) = await ScriptedAsync(ProxyKind.Socks5, async s =>
        {
            await ReadAsync(s, 3);
            await s.SendAsync(answer);
        });
        using var cts = new CancellationTokenSource(Limit);
        var e = await Assert.ThrowsAsync<ProxyException>(() => ProxyConnector.ConnectAsync(proxy, new IPEndPoint(IPAddress.Loopback, 1), cts.Token));
        Assert.Contains(expected, e.Message);
        await served.WaitAsync(Limit);
    }

    [Fact]
    public async Task Socks5_wrong_password_and_refused_connections_are_errors_with_the_reason()
    {
        var (proxy, served) = await ScriptedAsync(ProxyKind.Socks5, async s =>
        {
            await ReadAsync(s, 4);
            await s.SendAsync(new byte[] { 5, 2 });
            await ReadAsync(s, 2 + 1 + 1 + 1);
            await s.SendAsync(new byte[] { 1, 1 });
        }, "a", "b");
        using var cts = new CancellationTokenSource(Limit);
        var e = await Assert.ThrowsAsync<ProxyException>(() => ProxyConnector.ConnectAsync(proxy, new IPEndPoint(IPAddress.Loopback, 1), cts.Token));
        Assert.Contains("refused the user name or password", e.Message);
        await served.WaitAsync(Limit);

        (proxy, served) = await ScriptedAsync(ProxyKind.Socks5, async s =>
        {
            await ReadAsync(s, 3);
            await s.SendAsync(new byte[] { 5, 0 });
            await ReadAsync(s, 10);
            await s.SendAsync(new byte[] { 5, 5, 0, 1, 0, 0, 0, 0, 0, 0 });
        });
        e = await Assert.ThrowsAsync<ProxyException>(() => ProxyConnector.ConnectAsync(proxy, new IPEndPoint(IPAddress.Loopback, 1), cts.Token));
        Assert.Contains("connection refused", e.Message);
        await served.WaitAsync(Limit);
    }

    [Fact]
    public async Task Socks4a_sends_names_for_the_proxy_to_resolve_and_addresses_as_addresses()
    {
        byte[]? request = null;
        var (proxy, served) = await ScriptedAsync(ProxyKind.Socks4, async s =>
        {
            request = await ReadAsync(s, 8 + 4 + 1 + 12 + 1);
            await s.SendAsync(new byte[] { 0, 0x5A, 0, 0, 0, 0, 0, 0 });
        }, "user");
        using var cts = new CancellationTokenSource(Limit);
        using (await ProxyConnector.ConnectAsync(proxy, new DnsEndPoint("peer.example", 6881), cts.Token)) { }
        await served.WaitAsync(Limit);
        Assert.Equal(new byte[] { 4, 1, 0x1A, 0xE1, 0, 0, 0, 1 }, request![..8]);
        Assert.Equal("user\0peer.example\0", Encoding.ASCII.GetString(request, 8, request.Length - 8));

        Assert.Equal(new byte[] { 4, 1, 0x1A, 0xE1, 10, 1, 2, 3, 0 }, Socks4Protocol.ConnectRequest(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 6881), null));
        var refused = Assert.Throws<ProxyException>(() => Socks4Protocol.ReadReply(new byte[] { 0, 0x5B, 0, 0, 0, 0, 0, 0 }));
        Assert.Contains("refused", refused.Message);
    }

    [Fact]
    public async Task Http_connect_sends_basic_credentials_and_leaves_the_targets_bytes_in_the_socket()
    {
        string? request = null;
        var (proxy, served) = await ScriptedAsync(ProxyKind.Http, async s =>
        {
            var text = new StringBuilder();
            var one = new byte[1];
            while (!text.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                one = await ReadAsync(s, 1);
                text.Append((char)one[0]);
            }
            request = text.ToString();
            // The answer and the target's first bytes in one write: the connector must not swallow the latter.
            await s.SendAsync("HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n\u0013BitTorrent"u8.ToArray());
        }, "bob", "pw:with:colons");
        using var cts = new CancellationTokenSource(Limit);
        using var socket = await ProxyConnector.ConnectAsync(proxy, new IPEndPoint(IPAddress.Parse("::1"), 6881), cts.Token);
        await served.WaitAsync(Limit);
        Assert.StartsWith("CONNECT [::1]:6881 HTTP/1.1\r\nHost: [::1]:6881\r\n", request);
        Assert.Contains("Proxy-Authorization: Basic " + Convert.ToBase64String("bob:pw:with:colons"u8.ToArray()) + "\r\n", request);
        Assert.Equal("\u0013BitTorrent", Encoding.ASCII.GetString(await ReadAsync(socket, 11)));
    }

    [Theory]
    [InlineData("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "wants a login (407)")]
    [InlineData("HTTP/1.0 403 Forbidden\r\n\r\n", "refused the tunnel: 403 Forbidden")]
    [InlineData("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP proxy answer")]
    public async Task Http_connect_refusals_say_why(string answer, string expected)
    {
        var (proxy, served) = await ScriptedAsync(ProxyKind.Http, async s =>
        {
            await s.ReceiveAsync(new byte[4096]);
            await s.SendAsync(Encoding.ASCII.GetBytes(answer));
        });
        using var cts = new CancellationTokenSource(Limit);
        var e = await Assert.ThrowsAsync<ProxyException>(() => ProxyConnector.ConnectAsync(proxy, new DnsEndPoint("a.example", 80), cts.Token));
        Assert.Contains(expected, e.Message);
        await served.WaitAsync(Limit);
    }

    [Fact]
    public async Task An_endless_http_proxy_answer_is_cut_off_at_its_cap()
    {
        var (proxy, served) = await ScriptedAsync(ProxyKind.Http, async s =>
        {
            await s.ReceiveAsync(new byte[4096]);
            var junk = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n" + new string('x', 64 * 1024));
            try { await s.SendAsync(junk); } catch (SocketException) { /* the client gave up, as it should */ }
        });
        using var cts = new CancellationTokenSource(Limit);
        var e = await Assert.ThrowsAsync<ProxyException>(() => ProxyConnector.ConnectAsync(proxy, new DnsEndPoint("a.example", 80), cts.Token));
        Assert.Contains("longer than", e.Message);
        await served.WaitAsync(Limit);
    }

    [Fact]
    public async Task A_proxy_that_is_down_is_a_proxy_error_not_a_direct_connection()
    {
        // A port nobody listens on: reserve one, then close it.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var cts = new CancellationTokenSource(Limit);
        var e = await Assert.ThrowsAsync<ProxyException>(() =>
            ProxyConnector.ConnectAsync(new ProxyServer(ProxyKind.Socks5, "127.0.0.1", port), new IPEndPoint(IPAddress.Loopback, 1), cts.Token));
        Assert.Contains("cannot reach the SOCKS5 proxy 127.0.0.1", e.Message);
    }

    [Fact]
    public void Udp_headers_round_trip_and_fragments_or_garbage_are_dropped()
    {
        var buffer = new byte[300];
        int n = Socks5Protocol.WriteUdpHeader(buffer, new IPEndPoint(IPAddress.Parse("192.0.2.9"), 6881));
        Assert.Equal(10, n);
        Assert.True(Socks5Protocol.TryReadUdpHeader(buffer.AsSpan(0, n + 3), out var from, out int offset));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.9"), 6881), from);
        Assert.Equal(10, offset);
        n = Socks5Protocol.WriteUdpHeader(buffer, new DnsEndPoint("router.example", 6881));
        Assert.True(Socks5Protocol.TryReadUdpHeader(buffer.AsSpan(0, n), out from, out _));
        Assert.Equal("router.example", ((DnsEndPoint)from).Host);
        buffer[2] = 1; // a fragment
        Assert.False(Socks5Protocol.TryReadUdpHeader(buffer.AsSpan(0, n), out _, out _));
        Assert.False(Socks5Protocol.TryReadUdpHeader(new byte[] { 0, 0, 0, 3, 200, 1 }, out _, out _)); // a name longer than the datagram
        Assert.False(Socks5Protocol.TryReadUdpHeader(new byte[] { 0, 0, 0, 9, 1, 2, 3, 4, 5, 6 }, out _, out _)); // unknown type
    }

    [Theory]
    [InlineData("socks5://alice:p%40ss@proxy.example:9050", ProxyKind.Socks5, "proxy.example", 9050, "alice", "p@ss")]
    [InlineData("socks4://10.0.0.1", ProxyKind.Socks4, "10.0.0.1", 1080, null, null)]
    [InlineData("http://[::1]:3128", ProxyKind.Http, "::1", 3128, null, null)]
    public void Proxy_urls_are_read(string url, ProxyKind kind, string host, int port, string? user, string? password)
    {
        Assert.True(ProxyUrl.TryParse(url, out var proxy, out _));
        Assert.Equal(new ProxyServer(kind, host, port, user, password), proxy);
    }

    [Fact]
    public void Bad_proxy_urls_and_settings_get_clear_errors()
    {
        Assert.False(ProxyUrl.TryParse("ftp://x:1", out _, out var error));
        Assert.Contains("not supported", error);
        Assert.False(ProxyUrl.TryParse("socks5 host", out _, out error));
        Assert.Contains("not a proxy URL", error);

        var errors = new EngineSettings { ProxyType = ProxyKind.Socks5, ProxyHost = "has space", ProxyPort = 0, ProxyPassword = "x" }.Validate();
        Assert.Contains(errors, e => e.StartsWith("proxyHost:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("proxyPort:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("proxyPassword:", StringComparison.Ordinal));
        Assert.Contains(new EngineSettings { ProxyOnly = true }.Validate(), e => e.StartsWith("proxyOnly:", StringComparison.Ordinal));
    }

    [Fact]
    public void Proxy_only_sends_every_kind_through_the_proxy_or_not_at_all()
    {
        var socks4 = new ProxyServer(ProxyKind.Socks4, "10.0.0.1", 1080);
        var only = new ProxyPolicy(socks4, Peers: false, Trackers: false, WebSeeds: false, Dht: false, ProxyOnly: true);
        Assert.Same(socks4, only.ForPeers);
        Assert.Same(socks4, only.ForTrackers);
        Assert.Same(socks4, only.ForWebSeeds);
        Assert.False(only.DhtAllowed); // SOCKS4 carries no datagrams
        Assert.False(only.UdpTrackersAllowed);
        Assert.False(only.DirectListeningAllowed);

        var some = new ProxyPolicy(socks4, Peers: true, Trackers: false, Dht: true);
        Assert.Same(socks4, some.ForPeers);
        Assert.Null(some.ForTrackers);
        Assert.True(some.UdpTrackersAllowed); // trackers go directly
        Assert.False(some.DhtAllowed); // the DHT is to be proxied and cannot be
        Assert.True(some.DirectListeningAllowed);

        var socks5 = new ProxyPolicy(new ProxyServer(ProxyKind.Socks5, "10.0.0.1", 1080), ProxyOnly: true);
        Assert.NotNull(socks5.ForDht);
        Assert.True(socks5.DhtAllowed);
        Assert.True(ProxyPolicy.Direct.DirectListeningAllowed);
        Assert.Null(ProxyPolicy.Direct.ForPeers);
    }
}
