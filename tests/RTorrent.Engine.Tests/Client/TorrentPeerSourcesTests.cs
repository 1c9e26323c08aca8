using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// A torrent's peer sources on their own: started, told of the completion once, stopped and asked for peers, with a
/// failing source costing nothing but a line in the torrent's log.
/// </summary>
public sealed class TorrentPeerSourcesTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly Host _host = new();
    private readonly TorrentPeerSources _sources;

    public TorrentPeerSourcesTests() => _sources = new TorrentPeerSources(_host);

    public void Dispose() => _host.Loop.Dispose();

    [Fact]
    public async Task Sources_start_and_a_torrent_complete_at_its_start_announces_completed_only_then()
    {
        _host.Complete = true;
        var a = new Source();
        var b = new Source();
        _sources.Add(a);
        _sources.Add(b);
        await _host.Loop.InvokeAsync(_sources.StartAll);
        await Task.WhenAll(a.Completed.Task, b.Completed.Task).WaitAsync(Bound);
        Assert.Equal(["start", "completed"], a.Calls);

        _sources.Completed(); // already announced at the start
        Assert.Equal(["start", "completed"], a.Calls);
    }

    [Fact]
    public async Task A_completion_during_the_run_is_announced_once()
    {
        var a = new Source();
        _sources.Add(a);
        await _host.Loop.InvokeAsync(_sources.StartAll);
        await a.Started.Task.WaitAsync(Bound);
        _sources.Completed();
        _sources.Completed();
        await a.Completed.Task.WaitAsync(Bound);
        await _host.Loop.InvokeAsync(() => _sources.RequestMorePeers()); // after it, in order
        Assert.Equal(["start", "completed", "more"], a.Calls);
    }

    [Fact]
    public async Task A_source_that_fails_is_logged_and_the_others_still_run()
    {
        var broken = new Source { Throws = new InvalidOperationException("no network") };
        var fine = new Source();
        _sources.Add(broken);
        _sources.Add(fine);
        await _host.Loop.InvokeAsync(_sources.StartAll);
        await fine.Started.Task.WaitAsync(Bound);
        Assert.Equal("peer source failed to start: no network", await _host.FirstWarning.Task.WaitAsync(Bound));

        await _host.Loop.InvokeAsync(_sources.RequestMorePeers);
        await _host.Loop.RunAsync(_sources.StopAllAsync).WaitAsync(Bound);
        Assert.Equal(["start", "more", "stop"], fine.Calls);
        Assert.Contains(_host.Logged, l => l == (PluginLogLevel.Debug, "peer source refused a reannounce: no network"));
        Assert.Contains(_host.Logged, l => l == (PluginLogLevel.Debug, "peer source stop: no network"));
        Assert.Equal([broken, fine], _sources.All);
        Assert.Null(_sources.TrackerProblem);
    }

    private sealed class Source : IPeerSource
    {
        public Exception? Throws;
        public List<string> Calls { get; } = [];
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Completed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private void Call(string what)
        {
            if (Throws is { } e) throw e;
            lock (Calls) Calls.Add(what);
        }

        public ValueTask StartAsync(CancellationToken cancellationToken)
        {
            Call("start");
            Started.TrySetResult();
            return ValueTask.CompletedTask;
        }

        public ValueTask StopAsync(CancellationToken cancellationToken)
        {
            Call("stop");
            return ValueTask.CompletedTask;
        }

        public ValueTask OnEventAsync(TorrentEvent torrentEvent, CancellationToken cancellationToken)
        {
            Call(torrentEvent == TorrentEvent.Completed ? "completed" : torrentEvent.ToString());
            Completed.TrySetResult();
            return ValueTask.CompletedTask;
        }

        public void RequestMorePeers() => Call("more");
        public IReadOnlyList<PeerSourceStatus> GetStatus() => [];
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Host : IPeerSourcesHost
    {
        public EngineLoop Loop { get; } = new("sources-test");
        public bool Complete;
        public List<(PluginLogLevel Level, string Message)> Logged { get; } = [];
        public TaskCompletionSource<string> FirstWarning { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken RunToken => CancellationToken.None;
        public bool IsComplete => Complete;
        SynchronizationContext IPeerSourcesHost.Loop => Loop;

        public void Log(PluginLogLevel level, string message)
        {
            lock (Logged) Logged.Add((level, message));
            if (level == PluginLogLevel.Warning) FirstWarning.TrySetResult(message);
        }
    }
}
