using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using RTorrent.Engine.PortMapping;
using RTorrent.Engine.Session;
using RTorrent.IntegrationTests.Harness;
using RTorrent.Remote.Native;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Network;

/// <summary>
/// Port mapping against a real router (issue 16, item 2): <c>rtorrent daemon</c> runs in a LAN namespace behind Debian's
/// miniupnpd (nftables backend) doing NAT, and a peer in a WAN namespace reaches it through the mappings it asked for.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class PortMappingTests(ITestOutputHelper output)
{
    private const int ListenPort = 6890;

    /// <summary>
    /// The outside peer: a BitTorrent handshake over TCP and a DHT ping over UDP to the router's outside address and the
    /// mapped port; prints the info-hash the daemon answered and its UDP answer.
    /// </summary>
    private const string OutsidePeer = """
        import socket, sys
        host, port, ih = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
        try:
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(b'\x13BitTorrent protocol' + bytes(8) + ih + b'-OUTSID-000000000000')
            buf = b''
            while len(buf) < 68:
                d = s.recv(68 - len(buf))
                if not d: break
                buf += d
            print('tcp-handshake', buf[28:48].hex() if len(buf) >= 48 else 'short')
        except OSError as e:
            print('tcp-failed', e)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2)
        ping = b'd1:ad2:id20:' + b'w' * 20 + b'e1:q4:ping1:t2:pm1:y1:qe'
        for _ in range(4):
            u.sendto(ping, (host, port))
            try:
                d, _ = u.recvfrom(1500)
                print('udp-answer', 'pong' if b'1:y1:r' in d else d)
                break
            except socket.timeout:
                pass
        else:
            print('udp-none')
        """;

    [Fact]
    public async Task An_outside_peer_reaches_the_daemon_through_miniupnpd_the_switch_acts_live_and_the_mappings_go_at_exit()
    {
        Tools.Require("upnpc", "miniupnpc");
        using var tmp = new TempFolder("rt-portmap");
        await using var net = await NatRouter.StartAsync(tmp, output);

        string home = tmp.Sub("home");
        string session = tmp.Sub("session");
        string downloads = tmp.Sub("downloads");
        DaemonProcess.WriteSettings(session, downloads, json =>
        {
            json["listenPort"] = ListenPort;
            json["listenOnIPv6"] = false;
            json["portForwardingEnabled"] = true;
            // The DHT answers the UDP probe; its only bootstrap node is the outside host (nothing leaves the namespaces).
            json["dhtEnabled"] = true;
            json["dhtBootstrapNodes"] = new JsonArray($"{NatRouter.WanAddress}:6881");
        });
        Payload.WriteFile(tmp.PathOf("content", "mapped.bin"), 256 * 1024, seed: 16);
        var torrent = await TestTorrent.CreateAsync(tmp.PathOf("content", "mapped.bin"), tmp.PathOf("mapped.torrent"), 64 * 1024);

        await using var daemon = RunningProcess.Start("daemon", "ip",
            ["netns", "exec", net.Lan, RTorrentCli.DotnetHostPath, RTorrentCli.DllPath, "daemon", "--session", session, "--rpc", "127.0.0.1:9091"],
            output, RTorrentCli.ProgramEnvironment(home));
        await daemon.WaitForLineAsync(l => l.Contains("daemon ready", StringComparison.Ordinal), Limits.Startup, "the daemon to be ready");
        using var remote = new RemoteBackend(RemoteTarget.ForSession(session));
        await remote.AddTorrentAsync(torrent.FilePath, downloads, start: true, picker: null, storage: null);

        // Both ways of asking get TCP and UDP mapped by the same router: UPnP, and PCP (miniupnpd speaks it; NAT-PMP otherwise).
        foreach (var method in new[] { "UPnP", "PCP" })
            foreach (var transport in new[] { "Tcp", "Udp" })
                await daemon.WaitForLineAsync(l => l.Contains($"{method} maps {NatRouter.ExternalAddress}:{ListenPort} {transport} to port {ListenPort}", StringComparison.Ordinal),
                    Limits.Startup, $"{method} to map {transport}");
        var mapped = await WaitForMappingAsync(remote, PortMappingState.Mapped);
        Assert.Equal(NatRouter.ExternalAddress, mapped.ExternalAddress);
        Assert.Equal(ListenPort, mapped.ExternalTcpPort);
        Assert.Equal(ListenPort, mapped.ExternalUdpPort);
        Assert.Contains(mapped.Method, new[] { "UPnP", "PCP" });
        Assert.Null(mapped.Error);
        string redirects = await net.RedirectsAsync();
        Assert.Contains($"dnat ip to {NatRouter.LanAddress}:{ListenPort}", redirects, StringComparison.Ordinal);
        // miniupnpc's own client sees our mappings on the router (one rule per transport: miniupnpd takes the second
        // request for the same port and client as a renewal, and keeps the first one's description).
        var (_, listed) = await net.RunInAsync(net.Lan, TimeSpan.FromSeconds(30), "upnpc", "-l");
        Assert.Contains($"TCP  {ListenPort}->{NatRouter.LanAddress}:{ListenPort}", listed, StringComparison.Ordinal);
        Assert.Contains($"UDP  {ListenPort}->{NatRouter.LanAddress}:{ListenPort}", listed, StringComparison.Ordinal);

        // The Transmission RPC says it too (session-stats' portForwarding, session-get's port-forwarding-enabled).
        var stats = await TransmissionOverSocketAsync(session, "session-stats");
        Assert.Equal("mapped", stats["arguments"]!["portForwarding"]!["state"]!.GetValue<string>());
        Assert.Equal(NatRouter.ExternalAddress, stats["arguments"]!["portForwarding"]!["externalAddress"]!.GetValue<string>());
        var get = await TransmissionOverSocketAsync(session, "session-get");
        Assert.True(get["arguments"]!["port-forwarding-enabled"]!.GetValue<bool>());

        // The outside peer reaches us: the router forwards its TCP connection to the daemon, which answers the handshake
        // for its torrent, and its UDP packet to the daemon's DHT, which answers the ping.
        string peer = await OutsideAsync(net, torrent.InfoHashHex);
        Assert.Contains($"tcp-handshake {torrent.InfoHashHex.ToLowerInvariant()}", peer, StringComparison.Ordinal);
        Assert.Contains("udp-answer pong", peer, StringComparison.Ordinal);

        // Switched off live (the settings dialog's path): the mappings go from the router.
        var settings = await remote.GetSettingsAsync();
        Assert.True(settings.PortForwarding);
        await remote.SaveSettingsAsync(settings with { PortForwarding = false });
        await Poll.UntilAsync(async () => !(await net.RedirectsAsync()).Contains("dnat", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
            "the mappings to be removed when switched off");
        await Poll.UntilAsync(async () => (await remote.GetSessionAsync()).PortMapping is null, TimeSpan.FromSeconds(30),
            "the session to say port mapping is off");
        var (_, offList) = await net.RunInAsync(net.Lan, TimeSpan.FromSeconds(30), "upnpc", "-l");
        Assert.DoesNotContain($"->{NatRouter.LanAddress}:{ListenPort}", offList, StringComparison.Ordinal);

        // On again through Transmission's session-set, then the daemon quits: what it mapped is removed at exit.
        var set = await TransmissionOverSocketAsync(session, "session-set", new JsonObject { ["port-forwarding-enabled"] = true });
        Assert.Equal("success", set["result"]!.GetValue<string>());
        await WaitForMappingAsync(remote, PortMappingState.Mapped);
        Assert.Contains("dnat", await net.RedirectsAsync(), StringComparison.Ordinal);
        daemon.SendSignal(Posix.SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(Limits.Shutdown));
        Assert.DoesNotContain("dnat", await net.RedirectsAsync(), StringComparison.Ordinal);
        var (_, after) = await net.RunInAsync(net.Lan, TimeSpan.FromSeconds(30), "upnpc", "-l");
        Assert.DoesNotContain($"->{NatRouter.LanAddress}:{ListenPort}", after, StringComparison.Ordinal);
        Assert.DoesNotContain("removing the", daemon.StandardError + daemon.StandardOutput, StringComparison.Ordinal); // no removal failed
    }

    private async Task<string> OutsideAsync(NatRouter net, string infoHash)
    {
        var (code, text) = await net.RunInAsync(net.Wan, TimeSpan.FromSeconds(60), Tools.Python, "-c", OutsidePeer, NatRouter.ExternalAddress,
            ListenPort.ToString(System.Globalization.CultureInfo.InvariantCulture), infoHash);
        Assert.True(code == 0, text);
        return text;
    }

    private static async Task<PortMappingStatus> WaitForMappingAsync(RemoteBackend remote, PortMappingState state)
    {
        PortMappingStatus? last = null;
        await Poll.UntilAsync(async () =>
        {
            last = (await remote.GetSessionAsync()).PortMapping;
            return last?.State == state;
        }, TimeSpan.FromSeconds(60), $"the port mapping to be {state}", context: () => $"last: {last}");
        return last!;
    }

    /// <summary>Transmission's RPC through the session's socket (the daemon's TCP port is inside the LAN namespace).</summary>
    private static async Task<JsonObject> TransmissionOverSocketAsync(string session, string method, JsonObject? arguments = null)
    {
        string socketPath = Path.Combine(session, RemoteTarget.SocketFileName);
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        }) { Timeout = TimeSpan.FromSeconds(30) };
        var body = new JsonObject { ["method"] = method };
        if (arguments is not null) body["arguments"] = arguments;
        string? id = null;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "http://localhost/transmission/rpc")
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            if (id is not null) request.Headers.Add("X-Transmission-Session-Id", id);
            using var response = await http.SendAsync(request);
            if ((int)response.StatusCode == 409)
            {
                id = response.Headers.GetValues("X-Transmission-Session-Id").First();
                continue;
            }
            response.EnsureSuccessStatusCode();
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        }
        throw new InvalidOperationException("the daemon kept answering 409");
    }
}
