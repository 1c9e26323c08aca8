using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.PortMapping;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.PortMapping;

/// <summary>The renewal and retry schedule of <see cref="PortMapper"/> on a manual clock, with fake routers.</summary>
public sealed class PortMapperTests
{
    /// <summary>A router that answers as the test says and records what it was asked.</summary>
    private sealed class FakeProtocol(string name) : IPortMappingProtocol
    {
        private readonly Lock _lock = new();
        private readonly List<(MappingTransport Transport, int External)> _maps = [];
        private readonly List<PortMappingLease> _unmaps = [];

        public string Name => name;
        public Func<MappingTransport, int, PortMappingLease>? Grant { get; set; }
        public List<string>? UnmapOrder { get; init; }

        public int MapCalls { get { lock (_lock) return _maps.Count; } }
        public IReadOnlyList<(MappingTransport Transport, int External)> Maps { get { lock (_lock) return [.. _maps]; } }
        public IReadOnlyList<PortMappingLease> Unmaps { get { lock (_lock) return [.. _unmaps]; } }

        public Task<PortMappingLease> MapAsync(MappingTransport transport, int internalPort, int externalPort, TimeSpan lifetime, CancellationToken cancellationToken)
        {
            lock (_lock) _maps.Add((transport, externalPort));
            return Task.FromResult(Grant!(transport, internalPort));
        }

        public Task UnmapAsync(PortMappingLease lease, CancellationToken cancellationToken)
        {
            lock (_lock) _unmaps.Add(lease);
            if (UnmapOrder is { } order) lock (order) order.Add(name + " " + lease.Transport);
            return Task.CompletedTask;
        }
    }

    private static PortMappingLease Lease(MappingTransport t, int port, int seconds, string method = "PCP") =>
        new(t, 6890, port, IPAddress.Parse("198.51.100.4"), TimeSpan.FromSeconds(seconds), method);

    private static Task Asleep(ManualTimeProvider time, Func<bool> done, string what) =>
        TestWait.UntilAsync(() => done() && time.PendingTimers == 1, what);

    [Fact]
    public async Task A_lease_is_renewed_at_half_its_lifetime_asking_for_the_port_the_router_gave()
    {
        var time = new ManualTimeProvider();
        var router = new FakeProtocol("NAT-PMP/PCP") { Grant = (t, _) => Lease(t, 40000, 600) };
        await using var mapper = new PortMapper([router], time, NullLogger.Instance);
        mapper.Start(6890);
        await Asleep(time, () => router.MapCalls == 2, "the first mapping of TCP and UDP");
        Assert.Equal([(MappingTransport.Tcp, 6890), (MappingTransport.Udp, 6890)], router.Maps);
        Assert.Equal(new PortMappingStatus
        {
            State = PortMappingState.Mapped, Method = "PCP", ExternalAddress = "198.51.100.4", ExternalTcpPort = 40000, ExternalUdpPort = 40000,
        }, mapper.Status);

        int fired = time.Fired;
        time.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(fired, time.Fired); // nothing came due before half the lifetime
        time.Advance(TimeSpan.FromSeconds(1));
        await Asleep(time, () => router.MapCalls == 4, "the renewal");
        Assert.Equal([(MappingTransport.Tcp, 40000), (MappingTransport.Udp, 40000)], router.Maps.Skip(2));
    }

    [Fact]
    public async Task Failures_are_retried_after_one_two_four_minutes_and_the_status_says_why()
    {
        var time = new ManualTimeProvider();
        bool up = false;
        var router = new FakeProtocol("UPnP")
        {
            Grant = (t, _) => up ? Lease(t, 6890, 3600, "UPnP") : throw new PortMappingException("no UPnP gateway answered SSDP discovery", noGateway: true),
        };
        var statuses = new List<PortMappingState>();
        await using var mapper = new PortMapper([router], time, NullLogger.Instance);
        mapper.StatusChanged += s => { lock (statuses) statuses.Add(s.State); };
        mapper.Start(6890);
        // No router found: UDP is not asked for in the same round (it would only wait again).
        await Asleep(time, () => router.MapCalls == 1, "the first attempt");
        Assert.Equal(new PortMappingStatus { State = PortMappingState.Failed, Error = "UPnP: no UPnP gateway answered SSDP discovery" }, mapper.Status);
        lock (statuses) Assert.Equal([PortMappingState.Mapping, PortMappingState.Failed], statuses);

        foreach (int minutes in new[] { 1, 2, 4 })
        {
            int fired = time.Fired, calls = router.MapCalls;
            time.Advance(TimeSpan.FromMinutes(minutes) - TimeSpan.FromSeconds(1));
            Assert.Equal(fired, time.Fired);
            time.Advance(TimeSpan.FromSeconds(1));
            await Asleep(time, () => router.MapCalls == calls + 1, $"the retry after {minutes} min");
        }
        up = true;
        int before = router.MapCalls;
        time.Advance(TimeSpan.FromMinutes(8));
        await Asleep(time, () => router.MapCalls == before + 2, "the retry that works");
        Assert.Equal(PortMappingState.Mapped, mapper.Status.State);
        Assert.Null(mapper.Status.Error);
    }

    [Fact]
    public async Task A_permanent_mapping_is_only_checked_again_and_stopping_removes_every_mapping()
    {
        var time = new ManualTimeProvider();
        var router = new FakeProtocol("UPnP") { Grant = (t, _) => Lease(t, 6890, 0, "UPnP") };
        var mapper = new PortMapper([router], time, NullLogger.Instance);
        mapper.Start(6890);
        await Asleep(time, () => router.MapCalls == 2, "the mapping");
        int fired = time.Fired;
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(fired, time.Fired);
        time.Advance(TimeSpan.FromMinutes(1));
        await Asleep(time, () => router.MapCalls == 4, "the periodic check");

        await mapper.StopAsync();
        Assert.Equal([MappingTransport.Tcp, MappingTransport.Udp], router.Unmaps.Select(l => l.Transport).Order());
        Assert.Equal(PortMappingStatus.Off, mapper.Status);
        Assert.False(mapper.Running);
        Assert.Equal(0, time.PendingTimers);
    }

    [Fact]
    public async Task With_two_protocols_the_one_that_mapped_is_shown_and_removal_goes_last_given_first()
    {
        var time = new ManualTimeProvider();
        var order = new List<string>();
        var upnp = new FakeProtocol("UPnP") { Grant = (_, _) => throw new PortMappingException("the gateway refused to map TCP port 6890: UPnP error 718"), UnmapOrder = order };
        var pmp = new FakeProtocol("NAT-PMP/PCP") { Grant = (t, _) => Lease(t, t == MappingTransport.Tcp ? 6890 : 6999, 7200, "NAT-PMP"), UnmapOrder = order };
        var mapper = new PortMapper([upnp, pmp], time, NullLogger.Instance);
        mapper.Start(6890);
        await TestWait.UntilAsync(() => upnp.MapCalls == 2 && pmp.MapCalls == 2 && time.PendingTimers == 2, "both protocols to try");
        var status = mapper.Status;
        Assert.Equal(PortMappingState.Mapped, status.State);
        Assert.Equal("NAT-PMP", status.Method);
        Assert.Equal((6890, 6999), (status.ExternalTcpPort, status.ExternalUdpPort));

        upnp.Grant = (t, _) => Lease(t, 6890, 3600, "UPnP");
        time.Advance(TimeSpan.FromMinutes(1));
        await TestWait.UntilAsync(() => upnp.MapCalls == 4 && time.PendingTimers == 2, "UPnP's retry");
        await mapper.StopAsync();
        Assert.Equal(["NAT-PMP/PCP", "NAT-PMP/PCP", "UPnP", "UPnP"], order.Select(o => o.Split(' ')[0]));
    }

    [Fact]
    public async Task When_every_protocol_fails_each_reason_is_given()
    {
        var time = new ManualTimeProvider();
        var upnp = new FakeProtocol("UPnP") { Grant = (_, _) => throw new PortMappingException("no UPnP gateway answered SSDP discovery", noGateway: true) };
        var pmp = new FakeProtocol("NAT-PMP/PCP") { Grant = (_, _) => throw new PortMappingException("no answer from 192.168.1.1:5351 (NAT-PMP/PCP)", noGateway: true) };
        await using var mapper = new PortMapper([upnp, pmp], time, NullLogger.Instance);
        mapper.Start(6890);
        await TestWait.UntilAsync(() => mapper.Status.State == PortMappingState.Failed, "both to fail");
        Assert.Equal("UPnP: no UPnP gateway answered SSDP discovery; NAT-PMP/PCP: no answer from 192.168.1.1:5351 (NAT-PMP/PCP)", mapper.Status.Error);
    }

    [Fact]
    public void The_next_attempt_follows_the_shortest_lease_and_the_retry_never_outlives_a_lease()
    {
        var o = new PortMapperOptions();
        PortMappingLease[] leases = [Lease(MappingTransport.Tcp, 1, 7200), Lease(MappingTransport.Udp, 1, 3600)];
        Assert.Equal(TimeSpan.FromMinutes(30), PortMapper.NextAttempt(leases, failed: false, 0, o));
        Assert.Equal(TimeSpan.FromSeconds(30), PortMapper.NextAttempt([Lease(MappingTransport.Tcp, 1, 20)], false, 0, o)); // not sooner than 30 s
        Assert.Equal(o.PermanentRecheck, PortMapper.NextAttempt([Lease(MappingTransport.Tcp, 1, 0)], false, 0, o));
        Assert.Equal(o.PermanentRecheck, PortMapper.NextAttempt([], false, 0, o));
        Assert.Equal(TimeSpan.FromMinutes(1), PortMapper.NextAttempt([], failed: true, 0, o));
        Assert.Equal(TimeSpan.FromMinutes(16), PortMapper.NextAttempt([], true, 4, o));
        Assert.Equal(TimeSpan.FromMinutes(30), PortMapper.NextAttempt([], true, 40, o)); // capped
        // A failed renewal while a 10-minute lease is held: try again before it runs out.
        Assert.Equal(TimeSpan.FromMinutes(5), PortMapper.NextAttempt([Lease(MappingTransport.Tcp, 1, 600)], true, 5, o));
    }
}
