using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using RTorrent.Abstractions;

namespace RTorrent.Plugins.LocalPeerDiscovery;

/// <summary>
/// The machine-wide part of LSD for one client: the multicast sockets, the receive loops and the announce
/// schedule, shared by every torrent's <see cref="LsdPeerSource"/>. Sockets open when the first torrent starts and
/// close when the last one stops.
/// </summary>
/// <remarks>
/// Each torrent is announced when it starts, then every <see cref="LsdOptions.AnnounceInterval"/>, never more often
/// than <see cref="LsdOptions.MinAnnounceInterval"/> (BEP 14's storm protection, kept across a stop and restart).
/// Torrents due together are batched into one message per listen port, several Infohash headers each, under
/// 1400 bytes. Announces from others name a port; we report the sender's address with that port to each matching
/// torrent. Announces carrying our cookie are our own, looped back, and are ignored.
/// </remarks>
internal sealed class LsdService
{
    private readonly LsdOptions _options;
    private readonly IPluginHost? _host;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<LsdTorrent>> _torrents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastAnnounced = new(StringComparer.Ordinal);
    private Running? _running;

    public LsdService(LsdOptions options, IPluginHost? host, TimeProvider time)
    {
        _options = options;
        _host = host;
        _time = time;
        Cookie = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    /// <summary>Our cookie: announces carrying it are ours.</summary>
    public string Cookie { get; }

    public LsdOptions Options => _options;

    /// <summary>A problem that stops LSD from working right now (shown in the status), or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>Whether any socket is open.</summary>
    public bool IsListening => _running is { Receivers.Count: > 0 };

    public void Add(LsdTorrent torrent)
    {
        lock (_gate)
        {
            if (!_torrents.TryGetValue(torrent.InfoHashHex, out var list)) _torrents[torrent.InfoHashHex] = list = [];
            list.Add(torrent);
            var now = _time.GetUtcNow();
            torrent.NextDue = EarliestAllowed(torrent.InfoHashHex, now);
            _running ??= Open();
            _running.Wake();
        }
    }

    public Task RemoveAsync(LsdTorrent torrent)
    {
        Running? stopping = null;
        lock (_gate)
        {
            if (_torrents.TryGetValue(torrent.InfoHashHex, out var list) && list.Remove(torrent) && list.Count == 0)
                _torrents.Remove(torrent.InfoHashHex);
            if (_torrents.Count == 0 && _running is not null)
            {
                stopping = _running;
                _running = null;
            }
        }
        return stopping is null ? Task.CompletedTask : stopping.StopAsync();
    }

    /// <summary>Asks for an announce of the torrent as soon as the rate limit allows.</summary>
    public void AnnounceSoon(LsdTorrent torrent)
    {
        lock (_gate)
        {
            var allowed = EarliestAllowed(torrent.InfoHashHex, _time.GetUtcNow());
            if (allowed < torrent.NextDue) torrent.NextDue = allowed;
            _running?.Wake();
        }
    }

    /// <summary>A consistent view of a torrent's schedule (its fields change under the lock on the announce thread).</summary>
    public (DateTimeOffset NextDue, DateTimeOffset? LastAnnounce, string? LastError) Schedule(LsdTorrent torrent)
    {
        lock (_gate) return (torrent.NextDue, torrent.LastAnnounce, torrent.LastError);
    }

    private DateTimeOffset EarliestAllowed(string infoHashHex, DateTimeOffset now) =>
        _lastAnnounced.TryGetValue(infoHashHex, out var last) && last + _options.MinAnnounceInterval > now
            ? last + _options.MinAnnounceInterval
            : now;

    private Running Open()
    {
        var interfaces = LsdInterfaces.Resolve(_options, out var problems);
        var running = new Running(this);
        var issues = new List<string>(problems);
        if (_options.EnableIPv4 && interfaces.Any(i => i.IPv4Address is not null))
            running.OpenIPv4(interfaces.Where(i => i.IPv4Address is not null).ToArray(), issues);
        if (_options.EnableIPv6 && interfaces.Any(i => i.IPv6Index is not null))
            running.OpenIPv6(interfaces.Where(i => i.IPv6Index is not null).ToArray(), issues);
        Problem = running.Receivers.Count == 0 && running.Senders.Count == 0
            ? (issues.Count > 0 ? string.Join("; ", issues) : "no interface to announce on")
            : null;
        foreach (var issue in issues) _host?.Log(PluginLogLevel.Warning, "lsd: " + issue);
        running.Start();
        return running;
    }

    /// <summary>Takes the torrents due now and moves their next announce on; called by the announce loop.</summary>
    private (List<LsdTorrent> Due, DateTimeOffset? Next) TakeDue()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var due = new List<LsdTorrent>();
            DateTimeOffset? next = null;
            foreach (var torrent in _torrents.Values.SelectMany(l => l))
            {
                if (torrent.NextDue <= now && !due.Any(d => d.InfoHashHex == torrent.InfoHashHex && d.ListenPort == torrent.ListenPort))
                {
                    due.Add(torrent);
                    _lastAnnounced[torrent.InfoHashHex] = now;
                }
                if (torrent.NextDue <= now)
                {
                    torrent.LastAnnounce = now;
                    torrent.NextDue = now + _options.AnnounceInterval;
                }
                if (next is null || torrent.NextDue < next) next = torrent.NextDue;
            }
            return (due, next);
        }
    }

    private void OnAnnounce(LsdAnnounce announce, IPAddress from)
    {
        if (announce.Cookie == Cookie) return; // our own, looped back
        List<LsdTorrent> matching = [];
        lock (_gate)
        {
            foreach (var hash in announce.InfoHashes)
                if (_torrents.TryGetValue(hash, out var list)) matching.AddRange(list);
        }
        if (matching.Count == 0) return;
        var peer = new IPEndPoint(from, announce.Port);
        foreach (var torrent in matching) torrent.Report(peer);
    }

    /// <summary>The sockets and loops of one open period (first start to last stop).</summary>
    private sealed class Running(LsdService service)
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops = [];
        private CancellationTokenSource _wake = new();

        public List<(Socket Socket, AddressFamily Family)> Receivers { get; } = [];

        public List<(Socket Socket, string Interface, AddressFamily Family)> Senders { get; } = [];

        private LsdOptions Options => service._options;

        public void OpenIPv4(IReadOnlyList<LsdInterface> interfaces, List<string> issues)
        {
            var receiver = TryCreate(AddressFamily.InterNetwork, issues);
            if (receiver is not null)
            {
                try
                {
                    receiver.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    receiver.Bind(new IPEndPoint(IPAddress.Any, Options.Port));
                    var joined = 0;
                    foreach (var nic in interfaces)
                    {
                        try
                        {
                            receiver.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(Options.GroupV4, nic.IPv4Address!));
                            joined++;
                        }
                        catch (SocketException e)
                        {
                            issues.Add($"cannot join {Options.GroupV4} on {nic.Name}: {e.Message}");
                        }
                    }
                    if (joined > 0) Receivers.Add((receiver, AddressFamily.InterNetwork));
                    else receiver.Dispose();
                }
                catch (SocketException e)
                {
                    issues.Add($"cannot listen on UDP port {Options.Port} (IPv4): {e.Message}");
                    receiver.Dispose();
                }
            }
            foreach (var nic in interfaces)
            {
                var sender = TryCreate(AddressFamily.InterNetwork, issues);
                if (sender is null) continue;
                try
                {
                    sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, nic.IPv4Address!.GetAddressBytes());
                    sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, Options.TimeToLive);
                    sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, Options.MulticastLoopback);
                    sender.Bind(new IPEndPoint(IPAddress.Any, 0));
                    Senders.Add((sender, nic.Name, AddressFamily.InterNetwork));
                }
                catch (SocketException e)
                {
                    issues.Add($"cannot send on {nic.Name} (IPv4): {e.Message}");
                    sender.Dispose();
                }
            }
        }

        public void OpenIPv6(IReadOnlyList<LsdInterface> interfaces, List<string> issues)
        {
            var receiver = TryCreate(AddressFamily.InterNetworkV6, issues);
            if (receiver is not null)
            {
                try
                {
                    receiver.DualMode = false;
                    receiver.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    receiver.Bind(new IPEndPoint(IPAddress.IPv6Any, Options.Port));
                    var joined = 0;
                    foreach (var nic in interfaces)
                    {
                        try
                        {
                            receiver.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(Options.GroupV6, nic.IPv6Index!.Value));
                            joined++;
                        }
                        catch (SocketException e)
                        {
                            issues.Add($"cannot join {Options.GroupV6} on {nic.Name}: {e.Message}");
                        }
                    }
                    if (joined > 0) Receivers.Add((receiver, AddressFamily.InterNetworkV6));
                    else receiver.Dispose();
                }
                catch (SocketException e)
                {
                    issues.Add($"cannot listen on UDP port {Options.Port} (IPv6): {e.Message}");
                    receiver.Dispose();
                }
            }
            foreach (var nic in interfaces)
            {
                var sender = TryCreate(AddressFamily.InterNetworkV6, issues);
                if (sender is null) continue;
                try
                {
                    sender.DualMode = false;
                    sender.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, nic.IPv6Index!.Value);
                    sender.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, Options.TimeToLive);
                    sender.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, Options.MulticastLoopback);
                    sender.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
                    Senders.Add((sender, nic.Name, AddressFamily.InterNetworkV6));
                }
                catch (SocketException e)
                {
                    issues.Add($"cannot send on {nic.Name} (IPv6): {e.Message}");
                    sender.Dispose();
                }
            }
        }

        public void Start()
        {
            foreach (var (socket, _) in Receivers) _loops.Add(Task.Run(() => ReceiveLoopAsync(socket)));
            _loops.Add(Task.Run(AnnounceLoopAsync));
        }

        public void Wake()
        {
            try
            {
                _wake.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Stopping.
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            foreach (var (socket, _) in Receivers) socket.Dispose();
            foreach (var (socket, _, _) in Senders) socket.Dispose();
            try
            {
                await Task.WhenAll(_loops).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The loops end by cancellation or a closed socket; either is expected here.
            }
            _stop.Dispose();
        }

        private static Socket? TryCreate(AddressFamily family, List<string> issues)
        {
            try
            {
                return new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            }
            catch (SocketException e)
            {
                issues.Add($"cannot create a {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} UDP socket: {e.Message}");
                return null;
            }
        }

        private async Task ReceiveLoopAsync(Socket socket)
        {
            var buffer = new byte[LsdMessage.MaxReceiveBytes + 1];
            EndPoint any = socket.AddressFamily == AddressFamily.InterNetwork
                ? new IPEndPoint(IPAddress.Any, 0)
                : new IPEndPoint(IPAddress.IPv6Any, 0);
            var token = _stop.Token;
            while (!token.IsCancellationRequested)
            {
                SocketReceiveFromResult result;
                try
                {
                    result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || token.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                    // ICMP errors and the like surface on UDP receives; they say nothing about the next datagram.
                    continue;
                }
                if (result.RemoteEndPoint is not IPEndPoint from) continue;
                if (LsdMessage.TryParse(buffer.AsSpan(0, result.ReceivedBytes)) is { } announce)
                    service.OnAnnounce(announce, from.Address.IsIPv4MappedToIPv6 ? from.Address.MapToIPv4() : from.Address);
            }
        }

        private async Task AnnounceLoopAsync()
        {
            var token = _stop.Token;
            while (!token.IsCancellationRequested)
            {
                CancellationTokenSource wake;
                lock (service._gate)
                {
                    if (_wake.IsCancellationRequested)
                    {
                        _wake.Dispose();
                        _wake = new CancellationTokenSource();
                    }
                    wake = _wake;
                }
                var (due, next) = service.TakeDue();
                if (due.Count > 0) await SendAsync(due, token).ConfigureAwait(false);

                var delay = next is null ? Timeout.InfiniteTimeSpan : next.Value - service._time.GetUtcNow();
                if (delay <= TimeSpan.Zero) continue;
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, wake.Token);
                try
                {
                    await Task.Delay(delay, service._time, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Woken (a torrent started or wants peers) or stopping: the loop condition tells which.
                }
            }
        }

        private async Task SendAsync(List<LsdTorrent> due, CancellationToken token)
        {
            string? error = null;
            var sent = 0;
            foreach (var group in due.GroupBy(t => t.ListenPort))
            {
                var hashes = group.Select(t => t.InfoHashHex).Distinct().ToArray();
                foreach (var (socket, nic, family) in Senders)
                {
                    var v4 = family == AddressFamily.InterNetwork;
                    var target = new IPEndPoint(v4 ? Options.GroupV4 : Options.GroupV6, Options.Port);
                    foreach (var message in LsdMessage.Format(v4 ? Options.HostV4 : Options.HostV6, group.Key, hashes, service.Cookie))
                    {
                        try
                        {
                            await socket.SendToAsync(message, SocketFlags.None, target, token).ConfigureAwait(false);
                            sent++;
                        }
                        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                        {
                            return;
                        }
                        catch (SocketException e)
                        {
                            error = $"cannot announce on {nic}: {e.Message}";
                        }
                    }
                }
            }
            var problem = sent == 0 ? error ?? service.Problem ?? "no interface to announce on" : null;
            if (problem != service.Problem && problem is not null) service._host?.Log(PluginLogLevel.Warning, "lsd: " + problem);
            service.Problem = problem;
            lock (service._gate)
                foreach (var torrent in due) torrent.LastError = problem;
        }
    }
}

/// <summary>One torrent's registration with the LSD service.</summary>
internal sealed class LsdTorrent(string infoHashHex, int listenPort, IPeerSink sink)
{
    private int _peersReported;

    public string InfoHashHex { get; } = infoHashHex;

    public int ListenPort { get; } = listenPort;

    public DateTimeOffset NextDue { get; set; }

    public DateTimeOffset? LastAnnounce { get; set; }

    public string? LastError { get; set; }

    public int PeersReported => Volatile.Read(ref _peersReported);

    public void Report(IPEndPoint peer)
    {
        Interlocked.Increment(ref _peersReported);
        sink.AddPeers([peer], "lsd");
    }
}
