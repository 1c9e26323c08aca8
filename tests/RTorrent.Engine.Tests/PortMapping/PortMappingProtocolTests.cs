using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.PortMapping;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.PortMapping;

/// <summary>
/// The protocol clients against fake routers on loopback: a NAT-PMP-only gateway (the PCP fallback), a PCP gateway
/// (nonce kept for renewal and removal), and a UPnP router over SSDP and HTTP that takes only permanent leases.
/// </summary>
public sealed class PortMappingProtocolTests
{
    /// <summary>A gateway on 127.0.0.1 answering each datagram with what <c>answer</c> returns (null: silence).</summary>
    private sealed class FakeGateway : IDisposable
    {
        private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly CancellationTokenSource _stop = new();
        private readonly List<byte[]> _received = [];

        public FakeGateway(Func<byte[], byte[]?> answer)
        {
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    UdpReceiveResult r;
                    try { r = await _udp.ReceiveAsync(_stop.Token); }
                    catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
                    lock (_received) _received.Add(r.Buffer);
                    if (answer(r.Buffer) is { } reply) await _udp.SendAsync(reply, r.RemoteEndPoint);
                }
            });
        }

        public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;
        public IReadOnlyList<byte[]> Received { get { lock (_received) return [.. _received]; } }

        public void Dispose()
        {
            _stop.Cancel();
            _udp.Dispose();
        }
    }

    /// <summary>A client of the fake gateway; the long first wait means nothing is sent twice unless a test moves the clock.</summary>
    private static PmpPortMapping Client(FakeGateway gateway, TimeProvider? time = null) =>
        new(() => IPAddress.Loopback, new GatewayExchange(time ?? TimeProvider.System) { ServerPort = gateway.Port, FirstWait = TimeSpan.FromSeconds(10) },
            NullLogger.Instance);

    private static byte[] NatPmpAnswer(byte[] request)
    {
        if (request[0] != 0) return [0, (byte)(128 + (request[1] & 0x7f)), 0, 1, 0, 0, 0, 1]; // unsupported version
        if (request[1] == 0) return [0, 128, 0, 0, 0, 0, 0, 1, 198, 51, 100, 20];
        var b = new byte[16];
        b[1] = (byte)(128 + request[1]);
        request.AsSpan(4, 2).CopyTo(b.AsSpan(8)); // internal port
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8)) == 0 ? (ushort)0 : (ushort)41000);
        request.AsSpan(8, 4).CopyTo(b.AsSpan(12)); // the lifetime asked for
        return b;
    }

    [Fact]
    public async Task A_natpmp_only_gateway_is_asked_with_natpmp_after_its_answer_to_pcp()
    {
        using var gateway = new FakeGateway(NatPmpAnswer);
        var client = Client(gateway);
        var tcp = await client.MapAsync(MappingTransport.Tcp, 6890, 6890, TimeSpan.FromHours(1), CancellationToken.None);
        Assert.Equal(new PortMappingLease(MappingTransport.Tcp, 6890, 41000, IPAddress.Parse("198.51.100.20"), TimeSpan.FromHours(1), "NAT-PMP"), tcp);
        await client.MapAsync(MappingTransport.Udp, 6890, 6890, TimeSpan.FromHours(1), CancellationToken.None);
        // PCP was tried once; since then the gateway is known to speak only NAT-PMP.
        Assert.Single(gateway.Received, d => d[0] == 2);
        await client.UnmapAsync(tcp, CancellationToken.None);
        byte[] removal = gateway.Received[^1];
        Assert.Equal(NatPmpCodec.MapRequest(MappingTransport.Tcp, 6890, 0, 0), removal);
    }

    [Fact]
    public async Task A_pcp_gateway_gets_the_same_nonce_to_renew_and_to_remove()
    {
        using var gateway = new FakeGateway(r => PortMappingCodecTests.PcpAnswer(r, 0, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(4)) / 2,
            6890, IPAddress.Parse("203.0.113.50")));
        var client = Client(gateway);
        var first = await client.MapAsync(MappingTransport.Udp, 6890, 6890, TimeSpan.FromHours(2), CancellationToken.None);
        Assert.Equal(new PortMappingLease(MappingTransport.Udp, 6890, 6890, IPAddress.Parse("203.0.113.50"), TimeSpan.FromHours(1), "PCP"), first);
        await client.MapAsync(MappingTransport.Udp, 6890, 6890, TimeSpan.FromHours(2), CancellationToken.None);
        await client.UnmapAsync(first, CancellationToken.None);
        var sent = gateway.Received;
        Assert.Equal(3, sent.Count);
        Assert.All(sent, d => Assert.Equal(sent[0][24..36], d[24..36]));
        Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1"), new IPAddress(sent[0].AsSpan(8, 16))); // our address as the gateway sees it
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(sent[2].AsSpan(4))); // lifetime 0 removes
    }

    [Fact]
    public async Task A_lost_answer_is_asked_again_and_a_silent_gateway_is_reported()
    {
        int seen = 0;
        using var gateway = new FakeGateway(r => Interlocked.Increment(ref seen) == 1 ? null : PortMappingCodecTests.PcpAnswer(r, 0, 60, 6890, IPAddress.Loopback));
        var clock = new ManualTimeProvider();
        var asking = Client(gateway, clock).MapAsync(MappingTransport.Tcp, 6890, 6890, TimeSpan.FromMinutes(2), CancellationToken.None);
        await TestWait.UntilAsync(() => gateway.Received.Count == 1 && clock.PendingTimers == 1, "the first request and its wait");
        clock.Advance(TimeSpan.FromSeconds(10));
        var lease = await asking;
        Assert.Equal("PCP", lease.Method);
        Assert.Equal(2, gateway.Received.Count);

        // A silent gateway, on a manual clock: each wait ends when the test moves the clock past it, after the send.
        using var silent = new FakeGateway(_ => null);
        var time = new ManualTimeProvider();
        var client = new PmpPortMapping(() => IPAddress.Loopback, new GatewayExchange(time) { ServerPort = silent.Port, Attempts = 2, FirstWait = TimeSpan.FromMilliseconds(250) }, NullLogger.Instance);
        var mapping = client.MapAsync(MappingTransport.Tcp, 6890, 6890, TimeSpan.FromMinutes(2), CancellationToken.None);
        foreach (var (sent, wait) in new[] { (1, 250), (2, 500), (3, 250), (4, 500) })
        {
            await TestWait.UntilAsync(() => silent.Received.Count == sent && time.PendingTimers == 1, $"send {sent} and its wait");
            time.Advance(TimeSpan.FromMilliseconds(wait));
        }
        var e = await Assert.ThrowsAsync<PortMappingException>(() => mapping);
        Assert.True(e.NoGateway);
        Assert.Contains("no answer from 127.0.0.1", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, silent.Received.Count); // PCP twice, then NAT-PMP twice
    }

    [Fact]
    public async Task A_refusal_is_reported_with_its_reason()
    {
        using var gateway = new FakeGateway(r => PortMappingCodecTests.PcpAnswer(r, 2, 0, 0, IPAddress.Any));
        var e = await Assert.ThrowsAsync<PortMappingException>(() => Client(gateway).MapAsync(MappingTransport.Tcp, 6890, 6890, TimeSpan.FromMinutes(2), CancellationToken.None));
        Assert.Equal("the gateway refused (PCP result 2: not authorized)", e.Message);
        Assert.False(e.NoGateway);
    }

    // ------------------------------------------------------------------ UPnP

    /// <summary>An SSDP responder and a UPnP router's HTTP server on loopback.</summary>
    private sealed class FakeUpnpRouter : IAsyncDisposable
    {
        private readonly UdpClient _ssdp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly HttpListener _http = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly List<(string Action, string Body)> _calls = [];
        private readonly Task _ssdpLoop, _httpLoop;

        public FakeUpnpRouter(Func<string, string, (int Status, string Body)> control)
        {
            for (int attempt = 0; ; attempt++)
            {
                var probe = new TcpListener(IPAddress.Loopback, 0);
                probe.Start();
                HttpPort = ((IPEndPoint)probe.LocalEndpoint).Port;
                probe.Stop();
                _http.Prefixes.Clear();
                _http.Prefixes.Add($"http://127.0.0.1:{HttpPort}/");
                try { _http.Start(); break; }
                catch (HttpListenerException) when (attempt < 5) { }
            }
            _ssdpLoop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    UdpReceiveResult r;
                    try { r = await _ssdp.ReceiveAsync(_stop.Token); }
                    catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
                    if (!Encoding.ASCII.GetString(r.Buffer).StartsWith("M-SEARCH", StringComparison.Ordinal)) continue;
                    await _ssdp.SendAsync(Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: http://127.0.0.1:{HttpPort}/rootDesc.xml\r\n\r\n"), r.RemoteEndPoint);
                }
            });
            _httpLoop = Task.Run(async () =>
            {
                while (_http.IsListening)
                {
                    HttpListenerContext c;
                    try { c = await _http.GetContextAsync(); }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
                    (int status, string body) = (404, "");
                    if (c.Request.HttpMethod == "GET" && c.Request.Url!.AbsolutePath == "/rootDesc.xml")
                        (status, body) = (200, PortMappingCodecTests.MiniupnpdDescription);
                    else if (c.Request.HttpMethod == "POST" && c.Request.Url!.AbsolutePath == "/ctl/IPConn")
                    {
                        string action = (c.Request.Headers["SOAPAction"] ?? "").Trim('"').Split('#')[^1];
                        string request = await new StreamReader(c.Request.InputStream).ReadToEndAsync();
                        lock (_calls) _calls.Add((action, request));
                        (status, body) = control(action, request);
                    }
                    var bytes = Encoding.UTF8.GetBytes(body);
                    c.Response.StatusCode = status;
                    c.Response.ContentLength64 = bytes.Length;
                    await c.Response.OutputStream.WriteAsync(bytes);
                    c.Response.Close();
                }
            });
        }

        public int HttpPort { get; private set; }
        public IPEndPoint Ssdp => (IPEndPoint)_ssdp.Client.LocalEndPoint!;
        public IReadOnlyList<(string Action, string Body)> Calls { get { lock (_calls) return [.. _calls]; } }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _ssdp.Dispose();
            _http.Stop();
            _http.Close();
            await Task.WhenAll(_ssdpLoop, _httpLoop);
        }
    }

    private const string ExternalAnswer = """
        <?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse
        xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2"><NewExternalIPAddress>198.51.100.77</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>
        """;

    private static UpnpPortMapping Client(FakeUpnpRouter router) =>
        new(new SsdpDiscovery(TimeProvider.System) { Target = router.Ssdp, Wait = TimeSpan.FromSeconds(5) }, () => null, NullLogger.Instance);

    [Fact]
    public async Task A_router_that_takes_only_permanent_leases_gets_lease_0_from_then_on()
    {
        await using var router = new FakeUpnpRouter((action, body) => action switch
        {
            "AddPortMapping" when !body.Contains("<NewLeaseDuration>0<", StringComparison.Ordinal) =>
                (500, PortMappingCodecTests.FaultBody(725, "OnlyPermanentLeasesSupported")),
            "AddPortMapping" => (200, "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>"),
            "GetExternalIPAddress" => (200, ExternalAnswer),
            "DeletePortMapping" => (500, PortMappingCodecTests.FaultBody(714, "NoSuchEntryInArray")),
            _ => (500, PortMappingCodecTests.FaultBody(401, "Invalid Action")),
        });
        using var client = Client(router);
        var tcp = await client.MapAsync(MappingTransport.Tcp, 6890, 6890, TimeSpan.FromHours(1), CancellationToken.None);
        Assert.Equal(new PortMappingLease(MappingTransport.Tcp, 6890, 6890, IPAddress.Parse("198.51.100.77"), TimeSpan.Zero, "UPnP"), tcp);
        Assert.Equal(new Uri($"http://127.0.0.1:{router.HttpPort}/ctl/IPConn"), client.Service!.ControlUrl);
        await client.MapAsync(MappingTransport.Udp, 6890, 6890, TimeSpan.FromHours(1), CancellationToken.None);
        var adds = router.Calls.Where(c => c.Action == "AddPortMapping").Select(c => c.Body).ToList();
        Assert.Equal(3, adds.Count); // 3600 refused, 0 taken; UDP asked with 0 at once
        Assert.Contains("<NewLeaseDuration>3600</NewLeaseDuration>", adds[0], StringComparison.Ordinal);
        Assert.All(adds.Skip(1), a => Assert.Contains("<NewLeaseDuration>0</NewLeaseDuration>", a, StringComparison.Ordinal));
        Assert.Contains("<NewInternalClient>127.0.0.1</NewInternalClient>", adds[0], StringComparison.Ordinal);
        Assert.Contains("<NewPortMappingDescription>RTorrent</NewPortMappingDescription>", adds[0], StringComparison.Ordinal);
        // Removing a mapping the router no longer has (714) is done, not a failure.
        await client.UnmapAsync(tcp, CancellationToken.None);
        Assert.Contains("<NewProtocol>TCP</NewProtocol>", router.Calls[^1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_mapped_to_another_device_is_reported_as_such()
    {
        await using var router = new FakeUpnpRouter((action, _) => action == "AddPortMapping"
            ? (500, PortMappingCodecTests.FaultBody(718, "ConflictInMappingEntry"))
            : (500, PortMappingCodecTests.FaultBody(401, "Invalid Action")));
        using var client = Client(router);
        var e = await Assert.ThrowsAsync<PortMappingException>(() => client.MapAsync(MappingTransport.Tcp, 6890, 6890, TimeSpan.FromHours(1), CancellationToken.None));
        Assert.Equal("the gateway maps TCP port 6890 to another device (UPnP error 718 (ConflictInMappingEntry))", e.Message);
        Assert.False(e.NoGateway);
    }

    [Fact]
    public async Task No_answer_to_ssdp_is_reported()
    {
        using var silent = new FakeGateway(_ => null);
        var time = new ManualTimeProvider();
        using var client = new UpnpPortMapping(new SsdpDiscovery(time) { Target = new IPEndPoint(IPAddress.Loopback, silent.Port) },
            () => null, NullLogger.Instance);
        var mapping = client.MapAsync(MappingTransport.Tcp, 6890, 6890, TimeSpan.FromHours(1), CancellationToken.None);
        // The three searches went out and the wait for answers is running: end it.
        await TestWait.UntilAsync(() => silent.Received.Count == SsdpDiscovery.SearchTargets.Count && time.PendingTimers == 1, "the searches");
        time.Advance(TimeSpan.FromSeconds(3));
        var e = await Assert.ThrowsAsync<PortMappingException>(() => mapping);
        Assert.Equal("no UPnP gateway answered SSDP discovery", e.Message);
        Assert.True(e.NoGateway);
    }
}
