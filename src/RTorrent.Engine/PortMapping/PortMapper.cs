using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.PortMapping;

/// <summary>Timings of <see cref="PortMapper"/> (defaults as libtorrent and Transmission behave; tests shorten nothing, they use a fake clock).</summary>
public sealed record PortMapperOptions
{
    /// <summary>The lease asked for (libtorrent asks UPnP routers for an hour; RFC 6886 suggests two hours for NAT-PMP).</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A lease is renewed when half of what the router granted is left (RFC 6886 §3.3), never sooner than this.</summary>
    public TimeSpan MinimumRenewal { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A permanent mapping (lease 0) is asked for again this often, in case the router restarted and forgot it.</summary>
    public TimeSpan PermanentRecheck { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The wait after a first failure; doubled after each failure in a row.</summary>
    public TimeSpan FirstRetry { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between attempts after failures.</summary>
    public TimeSpan MaximumRetry { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long removing the mappings may take at exit, all protocols together.</summary>
    public TimeSpan RemoveBudget { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// Keeps the listen port forwarded for TCP and UDP by every protocol it is given (UPnP and NAT-PMP/PCP, side by side as
/// Transmission and libtorrent run them): maps at start, renews at half the granted lifetime, retries failures with a
/// doubling wait, and removes what it mapped when stopped. <see cref="Status"/> says what the router(s) gave or why
/// nothing was mapped.
/// </summary>
public sealed class PortMapper : IAsyncDisposable
{
    private static readonly MappingTransport[] Transports = [MappingTransport.Tcp, MappingTransport.Udp];

    private readonly IReadOnlyList<IPortMappingProtocol> _protocols;
    private readonly PortMapperOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly List<Channel> _channels = [];
    private readonly List<Task> _loops = [];
    private CancellationTokenSource? _stop;
    private PortMappingStatus _status = PortMappingStatus.Off;

    /// <summary>A mapper over <paramref name="protocols"/>, in the order their mappings are preferred in the status.</summary>
    public PortMapper(IReadOnlyList<IPortMappingProtocol> protocols, TimeProvider time, ILogger logger, PortMapperOptions? options = null)
    {
        _protocols = protocols;
        _time = time;
        _logger = logger;
        _options = options ?? new PortMapperOptions();
    }

    /// <summary>What is mapped, or why not.</summary>
    public PortMappingStatus Status
    {
        get { lock (_gate) return _status; }
    }

    /// <summary>Raised when <see cref="Status"/> changes (on a pool thread).</summary>
    public event Action<PortMappingStatus>? StatusChanged;

    /// <summary>Whether it is mapping (started and not stopped).</summary>
    public bool Running
    {
        get { lock (_gate) return _stop is not null; }
    }

    /// <summary>Starts keeping <paramref name="port"/> mapped; does nothing when already running.</summary>
    public void Start(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        lock (_gate)
        {
            if (_stop is not null) return;
            _stop = new CancellationTokenSource();
            _channels.Clear();
            foreach (var p in _protocols) _channels.Add(new Channel(p));
            _status = Summarise();
            var token = _stop.Token;
            foreach (var channel in _channels) _loops.Add(Task.Run(() => RunAsync(channel, port, token), CancellationToken.None));
        }
        Publish();
    }

    /// <summary>Stops renewing and removes every mapping made (within <see cref="PortMapperOptions.RemoveBudget"/>).</summary>
    public async Task StopAsync()
    {
        Task[] loops;
        CancellationTokenSource? stop;
        lock (_gate)
        {
            stop = _stop;
            _stop = null;
            loops = [.. _loops];
            _loops.Clear();
        }
        if (stop is null) return;
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false); // the loops end on cancellation and never throw
        stop.Dispose();
        List<(IPortMappingProtocol Protocol, PortMappingLease Lease)> leases;
        lock (_gate)
        {
            leases = [.. _channels.SelectMany(c => c.Leases.Values.Select(l => (c.Protocol, l)))];
            foreach (var c in _channels) c.Leases.Clear();
        }
        using var budget = new CancellationTokenSource(_options.RemoveBudget, _time);
        // One protocol after the other, the last given first (NAT-PMP/PCP before UPnP): when both mapped the same port on
        // the same router, the router holds one rule for both (miniupnpd does), and the UPnP removal that comes second
        // takes "no such entry" as done, where a PCP removal of a rule already gone is refused.
        foreach (var group in leases.GroupBy(x => x.Protocol).Reverse())
        {
            await Task.WhenAll(group.Select(async x =>
            {
                try
                {
                    await x.Protocol.UnmapAsync(x.Lease, budget.Token).ConfigureAwait(false);
                    _logger.LogInformation("removed the {Method} mapping of {Transport} port {Port}", x.Lease.Method, x.Lease.Transport, x.Lease.ExternalPort);
                }
                catch (Exception e) when (e is PortMappingException or OperationCanceledException)
                {
                    _logger.LogWarning("removing the {Method} mapping of {Transport} port {Port}: {Error}", x.Lease.Method, x.Lease.Transport,
                        x.Lease.ExternalPort, e is OperationCanceledException ? "no answer in time" : e.Message);
                }
            })).ConfigureAwait(false);
        }
        lock (_gate)
        {
            _channels.Clear();
            _status = PortMappingStatus.Off;
        }
        Publish();
    }

    private async Task RunAsync(Channel channel, int port, CancellationToken stop)
    {
        int failures = 0;
        try
        {
            while (true)
            {
                var errors = new List<string>();
                foreach (var transport in Transports)
                {
                    PortMappingLease? old;
                    lock (_gate) channel.Leases.TryGetValue(transport, out old);
                    try
                    {
                        // A renewal asks for the port the router gave last time (NAT-PMP/PCP may give another than asked).
                        var lease = await channel.Protocol.MapAsync(transport, port, old?.ExternalPort ?? port, _options.Lifetime, stop).ConfigureAwait(false);
                        lock (_gate) channel.Leases[transport] = lease;
                        if (old is null || old.ExternalPort != lease.ExternalPort || !Equals(old.ExternalAddress, lease.ExternalAddress))
                            _logger.LogInformation("{Method} maps {Address}:{External} {Transport} to port {Port} for {Lifetime}", lease.Method,
                                lease.ExternalAddress, lease.ExternalPort, transport, port, lease.Lifetime == TimeSpan.Zero ? "ever" : lease.Lifetime);
                    }
                    catch (PortMappingException e)
                    {
                        errors.Add(e.Message);
                        if (e.NoGateway) break;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        _logger.LogWarning(e, "{Protocol} mapping failed", channel.Protocol.Name);
                        errors.Add(e.Message);
                    }
                }
                TimeSpan next;
                lock (_gate)
                {
                    channel.Attempted = true;
                    channel.Error = errors.Count == 0 ? null : string.Join("; ", errors.Distinct());
                    _status = Summarise();
                    next = NextAttempt(channel.Leases.Values, errors.Count > 0, failures, _options);
                }
                if (errors.Count > 0)
                {
                    if (failures == 0) _logger.LogInformation("{Protocol}: {Error}", channel.Protocol.Name, channel.Error);
                    failures++;
                }
                else failures = 0;
                Publish();
                await Task.Delay(next, _time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // stopped
        }
    }

    /// <summary>
    /// When to ask again: at half the shortest lifetime granted (no sooner than the minimum), after a failure the retry
    /// wait (1, 2, 4 ... up to 30 minutes, but before a lease still held runs out), and for permanent leases only the
    /// periodic recheck.
    /// </summary>
    public static TimeSpan NextAttempt(IEnumerable<PortMappingLease> leases, bool failed, int failuresBefore, PortMapperOptions options)
    {
        var finite = leases.Where(l => l.Lifetime > TimeSpan.Zero).Select(l => l.Lifetime).DefaultIfEmpty(TimeSpan.Zero).Min();
        TimeSpan renew = finite > TimeSpan.Zero ? Max(finite / 2, options.MinimumRenewal) : options.PermanentRecheck;
        if (!failed) return renew;
        var retry = options.FirstRetry * Math.Pow(2, Math.Min(failuresBefore, 20));
        if (retry > options.MaximumRetry) retry = options.MaximumRetry;
        return retry < renew ? retry : renew;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private PortMappingStatus Summarise()
    {
        if (_channels.Count == 0) return PortMappingStatus.Off;
        var mapped = _channels.Where(c => c.Leases.Count > 0).OrderByDescending(c => c.Leases.Count).FirstOrDefault();
        if (mapped is not null)
        {
            mapped.Leases.TryGetValue(MappingTransport.Tcp, out var tcp);
            mapped.Leases.TryGetValue(MappingTransport.Udp, out var udp);
            var any = tcp ?? udp!;
            return new PortMappingStatus
            {
                State = PortMappingState.Mapped,
                Method = any.Method,
                ExternalAddress = (tcp?.ExternalAddress ?? udp?.ExternalAddress)?.ToString(),
                ExternalTcpPort = tcp?.ExternalPort,
                ExternalUdpPort = udp?.ExternalPort,
                Error = mapped.Error,
            };
        }
        if (_channels.Any(c => !c.Attempted)) return new PortMappingStatus { State = PortMappingState.Mapping };
        return new PortMappingStatus
        {
            State = PortMappingState.Failed,
            Error = string.Join("; ", _channels.Select(c => $"{c.Protocol.Name}: {c.Error}")),
        };
    }

    private void Publish()
    {
        PortMappingStatus status;
        lock (_gate) status = _status;
        StatusChanged?.Invoke(status);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private sealed class Channel(IPortMappingProtocol protocol)
    {
        public IPortMappingProtocol Protocol { get; } = protocol;
        public Dictionary<MappingTransport, PortMappingLease> Leases { get; } = [];
        public bool Attempted { get; set; }
        public string? Error { get; set; }
    }
}
