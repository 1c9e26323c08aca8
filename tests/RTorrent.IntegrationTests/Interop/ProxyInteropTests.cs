using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using RTorrent.Engine.Proxies;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// Issue 16 part 3: peers, trackers and the DHT through real proxies (Debian's dante, microsocks and tinyproxy), and
/// the kill switch: in namespaces whose firewall counts every packet that leaves other than to the proxy, a proxied
/// download sends none directly, and with the proxy down nothing at all.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed partial class ProxyInteropTests(ITestOutputHelper output)
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Downloads_from_libtorrent_through_microsocks_with_a_login_in_proxy_only_mode()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(seedData, Payload.MultiFile, seed: 161);
        var torrent = await TestTorrent.CreateAsync(seedData, tmp.PathOf("proxied.torrent"), 32 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, tmp.Path, output);
        int proxyPort = FreePort();
        await using var socks = await ProxyServers.StartMicrosocksAsync(proxyPort, "rtuser", "pa ss", output);

        var policy = new ProxyPolicy(new ProxyServer(ProxyKind.Socks5, "127.0.0.1", proxyPort, "rtuser", "pa ss"), ProxyOnly: true);
        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output, proxy: policy);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save, seeder.Port);
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameTree(seedData, Path.Combine(save, Path.GetFileName(seedData)));
        // microsocks logs each tunnel it opens: the seeder's port among them.
        Assert.Contains($"127.0.0.1:{seeder.Port}", socks.StandardOutput + socks.StandardError);
    }

    [Fact]
    public async Task A_wrong_proxy_password_fails_with_the_reason_and_fetches_nothing()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "one.bin"), 256 * 1024, seed: 162);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "one.bin"), tmp.PathOf("one.torrent"), 32 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);
        int proxyPort = FreePort();
        await using var socks = await ProxyServers.StartMicrosocksAsync(proxyPort, "rtuser", "right", output);

        var policy = new ProxyPolicy(new ProxyServer(ProxyKind.Socks5, "127.0.0.1", proxyPort, "rtuser", "wrong"), ProxyOnly: true);
        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output, proxy: policy);
        var t = await client.AddAsync(torrent.Meta, tmp.Sub("download"), seeder.Port);
        await client.WaitForLogAsync(t, l => l.Contains("refused the user name or password", StringComparison.Ordinal), Limits.Startup, "the proxy's refusal in the log");
        Assert.Equal(0, (await client.Session.Engine.GetSnapshotAsync()).Torrents.Single().Downloaded);
    }

    [Fact]
    public async Task Announces_and_connects_through_tinyproxy_with_http_connect_and_basic_login()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "http.bin"), 3 * 1024 * 1024 + 17, seed: 163);
        int trackerPort = OpenTracker.ReservePort();
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "http.bin"), tmp.PathOf("http.torrent"), 64 * 1024,
            OpenTracker.HttpAnnounceFor(trackerPort));
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);
        int proxyPort = FreePort();
        await using var proxy = await ProxyServers.StartTinyproxyAsync(tmp.Sub("tinyproxy"), proxyPort, "rt", "secret", output);

        var policy = new ProxyPolicy(new ProxyServer(ProxyKind.Http, "127.0.0.1", proxyPort, "rt", "secret"), ProxyOnly: true);
        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output, proxy: policy);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save); // no peers given: the tracker, asked through the proxy, names the seeder
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        var log = proxy.StandardOutput + proxy.StandardError;
        Assert.Contains($"GET http://127.0.0.1:{trackerPort}/announce", log);
        Assert.Contains($"CONNECT 127.0.0.1:{seeder.Port}", log);
    }

    [Fact]
    public async Task The_dht_goes_through_a_socks5_udp_association_with_dante()
    {
        using var tmp = new TempFolder();
        int proxyPort = FreePort();
        await using var dante = await ProxyServers.StartDanteAsync(tmp.Sub("dante"), "127.0.0.1", proxyPort, "127.0.0.1", output);
        using var echo = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var echoAt = (IPEndPoint)echo.LocalEndPoint!;

        using var cts = new CancellationTokenSource(Limits.Startup);
        using var relay = await Socks5UdpRelay.OpenAsync(new ProxyServer(ProxyKind.Socks5, "127.0.0.1", proxyPort), cts.Token);
        Assert.True(relay.TrySend("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8, echoAt));
        var buffer = new byte[1500];
        var got = await echo.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), cts.Token);
        // The datagram arrives from the proxy's relay, not from our socket.
        Assert.NotEqual(relay.LocalEndPoint.Port, ((IPEndPoint)got.RemoteEndPoint).Port);
        Assert.StartsWith("d1:ad2:id20:", System.Text.Encoding.ASCII.GetString(buffer, 0, got.ReceivedBytes));
        await echo.SendToAsync("pong"u8.ToArray(), got.RemoteEndPoint);
        var (length, from) = await relay.ReceiveAsync(buffer, cts.Token);
        Assert.Equal("pong", System.Text.Encoding.ASCII.GetString(buffer, 0, length));
        Assert.Equal(echoAt, from);

        // When the proxy goes, the association ends and nothing more is sent.
        await dante.DisposeAsync();
        await relay.Closed.WaitAsync(cts.Token);
        Assert.False(relay.TrySend("x"u8, echoAt));
    }

    [Fact]
    public async Task Asks_a_udp_tracker_by_name_through_dantes_relay_and_downloads_from_the_peer_it_names()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "udp.bin"), 2 * 1024 * 1024 + 5, seed: 165);
        int trackerPort = OpenTracker.ReservePort();
        // By name: the proxy looks "localhost" up, we never do.
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "udp.bin"), tmp.PathOf("udp.torrent"), 64 * 1024,
            $"udp://localhost:{trackerPort}/announce");
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);
        int proxyPort = FreePort();
        await using var dante = await ProxyServers.StartDanteAsync(tmp.Sub("dante"), "127.0.0.1", proxyPort, "127.0.0.1", output);

        var policy = new ProxyPolicy(new ProxyServer(ProxyKind.Socks5, "127.0.0.1", proxyPort), ProxyOnly: true);
        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output, proxy: policy);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save);
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        // dante logs an association's destinations when it ends: close the session and wait for that line.
        await client.DisposeAsync();
        await dante.WaitForLineAsync(l => l.Contains("udpassociate ]", StringComparison.Ordinal) && l.Contains($"127.0.0.1.{trackerPort}", StringComparison.Ordinal),
            Limits.Shutdown, "dante's record of the association to the tracker");
    }

    /// <summary>
    /// The kill switch, in three namespaces: the client's, whose firewall counts (and drops) every TCP or UDP packet
    /// that leaves for anywhere but the proxy; the proxy's (dante, relaying between the two networks, no forwarding);
    /// and the world's, with opentracker and a libtorrent seeder. The download completes through the proxy with the
    /// DHT on (through UDP ASSOCIATE) and the counter at zero; then, with the proxy stopped, a second run reports the
    /// proxy down and the counter is still zero.
    /// </summary>
    [Fact]
    public async Task In_proxy_only_mode_nothing_leaves_directly_even_when_the_proxy_is_down()
    {
        Assert.Null(NetworkLab.Unavailable());
        Tools.Require("nft", "nftables");
        using var tmp = new TempFolder();
        foreach (var dir in new[] { tmp.Path }) File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        await using var lab = NetworkLab.Create(output);
        string client = await lab.AddNamespaceAsync("c"), proxyNs = await lab.AddNamespaceAsync("p"), world = await lab.AddNamespaceAsync("w");
        await lab.LinkAsync(client, "10.201.1.2", proxyNs, "10.201.1.1");
        await lab.LinkAsync(proxyNs, "10.201.2.1", world, "10.201.2.2");
        // A route out, so that a direct attempt leaves (and is counted) instead of failing with "unreachable".
        await lab.InAsync(client, "ip", "route", "add", "default", "via", "10.201.1.1");
        var rules = tmp.PathOf("leaks.nft");
        await File.WriteAllTextAsync(rules, """
            table inet rtleak {
              counter leaks { }
              chain output {
                type filter hook output priority 0; policy accept;
                oifname "lo" accept
                ip daddr 10.201.1.1 tcp dport 1080 accept
                ip daddr 10.201.1.1 meta l4proto udp accept
                meta l4proto { tcp, udp } counter name "leaks" drop
              }
            }
            """);
        await lab.InAsync(client, "nft", "-f", rules);

        var seedData = tmp.Sub("seed");
        Payload.Write(seedData, Payload.MultiFile, seed: 164);
        const int trackerPort = 6969;
        var torrent = await TestTorrent.CreateAsync(seedData, tmp.PathOf("world.torrent"), 32 * 1024, $"http://10.201.2.2:{trackerPort}/announce");
        var trackerDir = tmp.Sub("tracker");
        await File.WriteAllTextAsync(Path.Combine(trackerDir, "whitelist"), torrent.InfoHashHex.ToLowerInvariant() + "\n");
        await using var tracker = lab.Start(world, "opentracker", Tools.Require("opentracker", "opentracker"),
            ["-i", "10.201.2.2", "-p", trackerPort.ToString(CultureInfo.InvariantCulture), "-P", trackerPort.ToString(CultureInfo.InvariantCulture),
             "-d", trackerDir, "-w", "whitelist"]);
        await using var seeder = lab.Start(world, "lt-seed", Tools.RequireLibtorrent(),
            [LibtorrentPeer.Script, "seed", "--torrent", torrent.FilePath, "--save", tmp.Path, "--listen", "10.201.2.2", "--max-time", "600"]);
        await seeder.WaitForLineAsync(l => l == "SEEDING", Limits.Startup, "the seeder seeding");
        await using (var dante = await ProxyServers.StartDanteAsync(tmp.Sub("dante"), "10.201.1.1", 1080, "10.201.2.1", output, lab, proxyNs))
        {
            var save = tmp.Sub("download");
            await using var download = StartClient("rt-proxied", tmp, save, "s1");
            int code = await download.WaitForExitAsync(Limits.Transfer);
            Assert.True(code == 0, $"the proxied download exited with {code}\n{download.Tail()}");
            Payload.AssertSameTree(seedData, Path.Combine(save, Path.GetFileName(seedData)));
            Assert.Equal(0, await LeaksAsync());
            // It went through dante: its log has the tunnel to the seeder and the DHT's association.
            var log = dante.StandardOutput + dante.StandardError;
            Assert.Contains("udpassociate", log);
            Assert.Contains("10.201.2.2.", log);
        }

        // The proxy is down (stopped by PID above). A new run must say so and still send nothing directly.
        var save2 = tmp.Sub("download2");
        await using var blind = StartClient("rt-no-proxy", tmp, save2, "s2");
        await blind.WaitForLineAsync(l => l.Contains("cannot reach the SOCKS5 proxy 10.201.1.1:1080", StringComparison.Ordinal), Limits.Startup,
            "the client reporting the proxy down");
        Assert.Equal(0, await LeaksAsync());
        Assert.False(blind.HasExited);
        Assert.DoesNotContain(Directory.EnumerateFiles(save2, "*", SearchOption.AllDirectories), f => new FileInfo(f).Length > 0);

        RunningProcess StartClient(string name, TempFolder folder, string save, string session) =>
            lab.Start(client, name, RTorrentCli.DotnetHostPath,
                [RTorrentCli.DllPath, "download", torrent.FilePath, "--save", save, "--session", folder.Sub(session), "--port", "0",
                 "--proxy", "socks5://10.201.1.1:1080", "--proxy-only", "--dht-bootstrap", "10.201.2.2:6881", "--verbose"],
                RTorrentCli.ProgramEnvironment(folder.Sub("home-" + name)));

        async Task<long> LeaksAsync()
        {
            var text = await lab.InAsync(client, "nft", "list", "counter", "inet", "rtleak", "leaks");
            var m = PacketsRegex().Match(text);
            Assert.True(m.Success, $"no packet count in: {text}");
            return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }
    }

    [GeneratedRegex(@"packets (\d+)")]
    private static partial Regex PacketsRegex();
}
