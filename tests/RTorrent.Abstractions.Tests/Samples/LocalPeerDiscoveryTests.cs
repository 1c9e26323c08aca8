using System.Net;
using System.Net.Sockets;
using RTorrent.Plugins.LocalPeerDiscovery;

namespace RTorrent.Abstractions.Tests.Samples;

/// <summary>
/// Two LSD clients on this machine, multicasting on the loopback interface only (127.0.0.1 joins the group; no
/// route change is needed on Linux), on a free port of their own so parallel runs do not hear each other.
/// </summary>
public sealed class LocalPeerDiscoveryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static LsdOptions LoopbackOptions(int port) => new()
    {
        Port = port,
        Interfaces = ["127.0.0.1"],
        EnableIPv6 = false, // lo has no MULTICAST flag, so IPv6 multicast cannot be looped back here
        MulticastLoopback = true,
    };

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static PeerSourceContext Context(byte[] infoHash, int listenPort, IPeerSink sink, bool isPrivate = false) =>
        new(infoHash, new byte[20], isPrivate, [], listenPort, sink, () => default);

    [Fact]
    public async Task Two_clients_find_each_other_for_the_same_torrent_and_never_report_themselves()
    {
        var port = FreeUdpPort();
        var shared = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        var onlyB = Enumerable.Range(100, 20).Select(i => (byte)i).ToArray();
        var options = LoopbackOptions(port) with { MinAnnounceInterval = TimeSpan.Zero };
        var clientA = new LsdPeerSourceFactory(options);
        var clientB = new LsdPeerSourceFactory(options);
        Assert.NotEqual(clientA.Cookie, clientB.Cookie);
        var sinkA = new WaitingSink();
        var sinkB = new WaitingSink();
        var sinkBOther = new WaitingSink();

        await using var a = clientA.Create(Context(shared, 1111, sinkA));
        await using var b = clientB.Create(Context(shared, 2222, sinkB));
        await using var bOther = clientB.Create(Context(onlyB, 2222, sinkBOther));
        using var timeout = new CancellationTokenSource(Patience);
        await a.StartAsync(timeout.Token);
        await b.StartAsync(timeout.Token);
        await bOther.StartAsync(timeout.Token);

        // Each hears the other's first announce (whichever started first may have announced before the other
        // listened, so ask once more: MinAnnounceInterval is zero here).
        a.RequestMorePeers();
        b.RequestMorePeers();
        await sinkA.WaitForAsync(new IPEndPoint(IPAddress.Loopback, 2222), timeout.Token);
        await sinkB.WaitForAsync(new IPEndPoint(IPAddress.Loopback, 1111), timeout.Token);

        // One more round each; once the other side has heard it, our own copy has come back to us too.
        var heardByB = sinkB.Count;
        var heardByA = sinkA.Count;
        a.RequestMorePeers();
        b.RequestMorePeers();
        await sinkB.WaitForCountAsync(heardByB + 1, timeout.Token);
        await sinkA.WaitForCountAsync(heardByA + 1, timeout.Token);

        Assert.All(sinkA.Peers, p => Assert.Equal(2222, p.Port));
        Assert.All(sinkB.Peers, p => Assert.Equal(1111, p.Port));
        Assert.All(sinkA.Sources, s => Assert.Equal("lsd", s));
        // B's other torrent is not A's business, and A never announced it.
        Assert.Empty(sinkBOther.Peers);

        var status = Assert.Single(a.GetStatus());
        Assert.Equal("working", status.State);
        Assert.Equal($"239.192.152.143:{port}", status.Endpoint);
        Assert.True(status.PeersReported >= 2);
    }

    [Fact]
    public async Task Announces_follow_the_BEP_14_schedule_and_rate_limit()
    {
        var client = new LsdPeerSourceFactory(LoopbackOptions(FreeUdpPort()));
        var hash = Enumerable.Range(7, 20).Select(i => (byte)i).ToArray();
        var source = client.Create(Context(hash, 3333, new WaitingSink()));
        using var timeout = new CancellationTokenSource(Patience);

        await source.StartAsync(timeout.Token);
        var first = await WaitForAnnounceAsync(source, timeout.Token);
        Assert.Equal(first.LastSuccess + TimeSpan.FromMinutes(5), first.NextContact);

        // Asking for peers right after an announce waits for the one-minute limit.
        source.RequestMorePeers();
        Assert.Equal(first.LastSuccess + TimeSpan.FromMinutes(1), Assert.Single(source.GetStatus()).NextContact);

        // So does stopping and starting again.
        await source.StopAsync(timeout.Token);
        Assert.Equal("stopped", Assert.Single(source.GetStatus()).State);
        var again = client.Create(Context(hash, 3333, new WaitingSink()));
        await again.StartAsync(timeout.Token);
        Assert.Equal(first.LastSuccess + TimeSpan.FromMinutes(1), Assert.Single(again.GetStatus()).NextContact);
        await again.DisposeAsync();
    }

    [Fact]
    public void LSD_is_never_used_for_private_torrents()
    {
        var factory = new LsdPeerSourceFactory(LoopbackOptions(FreeUdpPort()));

        Assert.False(factory.AllowedForPrivateTorrents);
        Assert.Throws<InvalidOperationException>(() => factory.Create(Context(new byte[20], 1, new WaitingSink(), isPrivate: true)));
    }

    [Fact]
    public void Options_come_from_the_host_settings_and_bad_values_keep_the_defaults()
    {
        var host = new FakeHost(new()
        {
            ["lsd.port"] = "16771",
            ["lsd.group-v4"] = "10.0.0.1", // not multicast
            ["lsd.ipv6"] = "false",
            ["lsd.interfaces"] = "lo, 127.0.0.1",
        });

        var options = LsdOptions.FromHost(host);

        Assert.Equal(16771, options.Port);
        Assert.Equal(IPAddress.Parse("239.192.152.143"), options.GroupV4);
        Assert.False(options.EnableIPv6);
        Assert.Equal(["lo", "127.0.0.1"], options.Interfaces);
        Assert.Single(host.Lines, l => l.Contains("lsd.group-v4"));
        Assert.Equal("[ff15::efc0:988f]:16771", options.HostV6);
    }

    private static async Task<PeerSourceStatus> WaitForAnnounceAsync(IPeerSource source, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = Assert.Single(source.GetStatus());
            Assert.NotEqual("error", status.State);
            if (status.LastSuccess is not null) return status;
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>
    /// BEP 14 over IPv6: the group ff15::efc0:988f on a real multicast link. <c>lo</c> cannot carry IPv6 multicast, so
    /// the test makes a veth pair whose far end sits in a namespace of its own (that gives our end a carrier), with
    /// only an IPv6 unique-local address (<c>nodad</c>: usable at once) and no IPv4 at all. Both clients use our end;
    /// each hears the other's announce looped back, from our end's IPv6 address.
    /// </summary>
    [Fact]
    public async Task Two_clients_find_each_other_over_ipv6_multicast_on_a_link_with_no_ipv4()
    {
        int id = Environment.ProcessId % 10000 * 10 + Random.Shared.Next(10);
        string ns = $"rtlsd{id}", host = $"rtlsdh{id}", peer = $"rtlsdp{id}";
        var address = IPAddress.Parse($"fd7f:{id & 0xFFFF:x}::1");
        try
        {
            Ip("netns", "add", ns);
            Ip("link", "add", host, "type", "veth", "peer", "name", peer);
            Ip("link", "set", peer, "netns", ns);
            Ip("addr", "add", $"{address}/64", "dev", host, "nodad");
            Ip("link", "set", host, "up");
            Ip("-n", ns, "link", "set", peer, "up");

            var port = FreeUdpPort();
            var shared = Enumerable.Range(7, 20).Select(i => (byte)i).ToArray();
            var options = new LsdOptions
            {
                Port = port,
                Interfaces = [host],
                EnableIPv4 = false,
                EnableIPv6 = true,
                MulticastLoopback = true,
                MinAnnounceInterval = TimeSpan.Zero,
            };
            var sinkA = new WaitingSink();
            var sinkB = new WaitingSink();
            await using var a = new LsdPeerSourceFactory(options).Create(Context(shared, 3333, sinkA));
            await using var b = new LsdPeerSourceFactory(options).Create(Context(shared, 4444, sinkB));
            using var timeout = new CancellationTokenSource(Patience);
            await a.StartAsync(timeout.Token);
            await b.StartAsync(timeout.Token);
            var waitA = sinkA.WaitForAsync(new IPEndPoint(address, 4444), timeout.Token);
            var waitB = sinkB.WaitForAsync(new IPEndPoint(address, 3333), timeout.Token);
            // The first announces may go out before the other listens: ask again until both have heard.
            while (!(waitA.IsCompleted && waitB.IsCompleted))
            {
                a.RequestMorePeers();
                b.RequestMorePeers();
                await Task.WhenAny(Task.WhenAll(waitA, waitB), Task.Delay(500, timeout.Token));
                timeout.Token.ThrowIfCancellationRequested();
            }
            await Task.WhenAll(waitA, waitB);
            var status = Assert.Single(a.GetStatus());
            Assert.Equal("working", status.State);
            Assert.Equal($"[ff15::efc0:988f]:{port}", status.Endpoint);
        }
        finally
        {
            TryIp("netns", "del", ns); // takes the veth pair with it
            TryIp("link", "del", host);
        }
    }

    /// <summary>
    /// BEP 14 over IPv6 against python3-libtorrent 2.0: libtorrent runs in a namespace whose only link to us is an
    /// IPv6-only veth pair, with LSD on and a torrent added by info-hash. We hear its announce on ff15::efc0:988f (the
    /// peer is its IPv6 address with its listen port), and it hears ours: it connects to the port we announced.
    /// libtorrent's LSD port is fixed at 6771, so ours is too (the sockets share it with SO_REUSEADDR).
    /// </summary>
    [Fact]
    public async Task Libtorrent_and_we_find_each_other_over_ipv6_multicast()
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "python3 (and python3-libtorrent) are needed: run ./test.sh");
        int id = Environment.ProcessId % 10000 * 10 + Random.Shared.Next(10);
        string ns = $"rtlsl{id}", host = $"rtlslh{id}", peer = $"rtlslp{id}";
        var ours = IPAddress.Parse($"fd7d:{id & 0xFFFF:x}::1");
        var theirs = IPAddress.Parse($"fd7d:{id & 0xFFFF:x}::2");
        var infoHash = Enumerable.Range(40, 20).Select(i => (byte)i).ToArray();
        string script = Path.Combine(Path.GetTempPath(), $"rt-lt-lsd6-{id}.py");
        System.Diagnostics.Process? lt = null;
        try
        {
            Ip("netns", "add", ns);
            Ip("link", "add", host, "type", "veth", "peer", "name", peer);
            Ip("link", "set", peer, "netns", ns);
            Ip("addr", "add", $"{ours}/64", "dev", host, "nodad");
            Ip("link", "set", host, "up");
            Ip("-n", ns, "addr", "add", $"{theirs}/64", "dev", peer, "nodad");
            Ip("-n", ns, "link", "set", peer, "up");
            Ip("-n", ns, "link", "set", "lo", "up");

            // Where libtorrent will connect once it hears us.
            using var listener = new TcpListener(ours, 0);
            listener.Start();
            int ourPort = ((IPEndPoint)listener.LocalEndpoint).Port;
            var accepted = listener.AcceptTcpClientAsync();

            var options = new LsdOptions
            {
                Interfaces = [host],
                EnableIPv4 = false,
                EnableIPv6 = true,
                MinAnnounceInterval = TimeSpan.Zero,
            };
            Assert.Equal(6771, options.Port);
            var sink = new WaitingSink();
            await using var source = new LsdPeerSourceFactory(options).Create(Context(infoHash, ourPort, sink));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await source.StartAsync(timeout.Token);

            await File.WriteAllTextAsync(script, LibtorrentLsdScript);
            lt = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/sbin/ip",
                ["netns", "exec", ns, python, script, theirs.ToString(), "45678", Convert.ToHexStringLower(infoHash), "60"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            await sink.WaitForAsync(new IPEndPoint(theirs, 45678), timeout.Token);
            while (!accepted.IsCompleted)
            {
                source.RequestMorePeers();
                await Task.WhenAny(accepted, Task.Delay(1000, timeout.Token));
                timeout.Token.ThrowIfCancellationRequested();
            }
            using var connection = await accepted;
            Assert.Equal(theirs, ((IPEndPoint)connection.Client.RemoteEndPoint!).Address);
        }
        finally
        {
            if (lt is { HasExited: false }) lt.Kill(entireProcessTree: true); // by PID
            lt?.Dispose();
            TryIp("netns", "del", ns);
            TryIp("link", "del", host);
            File.Delete(script);
        }
    }

    private const string LibtorrentLsdScript = """
        import sys, select, time, libtorrent as lt
        addr, port, ih, max_time = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
        s = lt.default_settings()
        s.update({'listen_interfaces': f'[{addr}]:{port}', 'enable_dht': False, 'enable_lsd': True,
                  'enable_upnp': False, 'enable_natpmp': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False})
        ses = lt.session(s)
        atp = lt.add_torrent_params()
        atp.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(ih)))
        atp.save_path = '/tmp'
        atp.name = ih
        ses.add_torrent(atp)
        print('READY', flush=True)
        end = time.monotonic() + max_time
        while time.monotonic() < end:
            r, _, _ = select.select([sys.stdin], [], [], 0.2)
            if r and not sys.stdin.readline():
                break
            ses.pop_alerts()
        """;

    private static void Ip(params string[] args)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/sbin/ip", args)
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            throw new TimeoutException($"ip {string.Join(' ', args)} did not finish");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {error.Result.Trim()}");
    }

    private static void TryIp(params string[] args)
    {
        try { Ip(args); } catch (InvalidOperationException) { }
    }

    private sealed class WaitingSink : IPeerSink
    {
        private readonly List<(IPEndPoint Peer, string Source)> _reports = [];
        private readonly SemaphoreSlim _signal = new(0);

        public IReadOnlyList<IPEndPoint> Peers { get { lock (_reports) return _reports.Select(r => r.Peer).ToArray(); } }

        public IReadOnlyList<string> Sources { get { lock (_reports) return _reports.Select(r => r.Source).ToArray(); } }

        public int Count { get { lock (_reports) return _reports.Count; } }

        public void AddPeers(IReadOnlyList<IPEndPoint> peers, string sourceName)
        {
            lock (_reports) _reports.AddRange(peers.Select(p => (p, sourceName)));
            _signal.Release();
        }

        public async Task WaitForAsync(IPEndPoint peer, CancellationToken cancellationToken)
        {
            while (!Peers.Contains(peer)) await _signal.WaitAsync(cancellationToken);
        }

        public async Task WaitForCountAsync(int count, CancellationToken cancellationToken)
        {
            while (Count < count) await _signal.WaitAsync(cancellationToken);
        }
    }
}
