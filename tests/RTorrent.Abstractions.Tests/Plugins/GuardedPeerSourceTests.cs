using System.Net;
using RTorrent.Engine.Plugins;

namespace RTorrent.Abstractions.Tests.Plugins;

public sealed class GuardedPeerSourceTests(LoadedFaultyComponents plugins) : IClassFixture<LoadedFaultyComponents>
{
    private static readonly PluginGuardOptions Short = new() { PeerSourceCallTimeout = TimeSpan.FromMilliseconds(200) };

    private static PeerSourceContext Context(IPeerSink sink, bool isPrivate = false) =>
        new(new byte[20], new byte[20], isPrivate, [], 6881, sink, () => new TransferTotals(0, 0, 0));

    [Fact]
    public async Task A_source_that_hangs_is_disabled_after_the_timeout_and_the_caller_goes_on()
    {
        var sink = new RecordingSink();
        await using var guard = GuardedPeerSource.Create(plugins.Source("hanging-source"), "hanging-source", Context(sink), Short);
        ComponentFault? raised = null;
        guard.Disabled += (_, f) => raised = f;

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a safety net, not the thing tested
        await guard.StartAsync(bound.Token);

        Assert.True(guard.IsDisabled);
        Assert.Contains("StartAsync did not finish within 200 ms", raised!.Reason);
        Assert.Equal(ComponentKind.PeerSource, raised.Kind);
        var status = Assert.Single(guard.GetStatus());
        Assert.Equal("disabled", status.State);
        Assert.Equal(raised.Reason, status.Message);
        // Later calls do nothing and return at once.
        await guard.StopAsync(bound.Token);
        guard.RequestMorePeers();
    }

    [Fact]
    public async Task A_source_that_throws_is_disabled()
    {
        await using var guard = GuardedPeerSource.Create(plugins.Source("throwing-source"), "throwing-source", Context(new RecordingSink()), Short);

        await guard.StartAsync(CancellationToken.None);

        Assert.Contains("StartAsync threw SocketException", guard.Fault!.Reason);
    }

    [Fact]
    public async Task Peers_are_filtered_labelled_with_the_registered_name_and_dropped_once_disabled()
    {
        var sink = new RecordingSink();
        var guard = GuardedPeerSource.Create(plugins.Source("chatty-source"), "chatty-source", Context(sink), Short);

        await guard.StartAsync(CancellationToken.None);

        var (peers, source) = Assert.Single(sink.Reports);
        Assert.Equal("chatty-source", source); // the plugin said "tracker"
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 6881), new IPEndPoint(IPAddress.IPv6Loopback, 51413)], peers);

        guard.RequestMorePeers(); // throws inside: disabled
        Assert.Contains("RequestMorePeers threw InvalidOperationException: more peers bug", guard.Fault!.Reason);
        await guard.DisposeAsync(); // the source reports once more while disposing
        Assert.Single(sink.Reports);
    }

    [Fact]
    public void A_source_not_allowed_for_private_torrents_is_refused_for_one()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            GuardedPeerSource.Create(plugins.Source("chatty-source"), "chatty-source", Context(new RecordingSink(), isPrivate: true)));
        Assert.Contains("BEP 27", e.Message);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_a_fault()
    {
        await using var guard = GuardedPeerSource.Create(plugins.Source("hanging-source"), "hanging-source", Context(new RecordingSink()),
            new PluginGuardOptions { PeerSourceCallTimeout = TimeSpan.FromMinutes(5) });
        using var cancel = new CancellationTokenSource();

        var start = guard.StartAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
        Assert.False(guard.IsDisabled);
    }

    private sealed class RecordingSink : IPeerSink
    {
        public List<(IReadOnlyList<IPEndPoint> Peers, string Source)> Reports { get; } = [];

        public void AddPeers(IReadOnlyList<IPEndPoint> peers, string sourceName)
        {
            lock (Reports) Reports.Add((peers.ToArray(), sourceName));
        }
    }
}
