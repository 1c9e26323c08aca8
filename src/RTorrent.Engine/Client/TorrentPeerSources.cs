using RTorrent.Abstractions;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Client;

/// <summary>What a torrent's peer sources need of it (on the loop).</summary>
internal interface IPeerSourcesHost
{
    /// <summary>Cancelled when the torrent stops: starts in flight end.</summary>
    CancellationToken RunToken { get; }

    /// <summary>Complete torrents tell their sources so when they start (trackers announce <c>completed</c>).</summary>
    bool IsComplete { get; }

    /// <summary>Where failures reported off the loop are logged from.</summary>
    SynchronizationContext Loop { get; }

    void Log(PluginLogLevel level, string message);
}

/// <summary>
/// A torrent's peer sources (trackers, DHT, PEX, LSD, plugins): started when the torrent starts, stopped (and awaited,
/// briefly) when it stops, told once that it completed, asked for more peers, and given an edited tracker list. A
/// source that fails or hangs costs its own row in the status, never the torrent.
/// </summary>
internal sealed class TorrentPeerSources(IPeerSourcesHost host)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    // Each torrent holds a few for its whole life: an array the size of the list.
    private IPeerSource[] _sources = [];
    private bool _completedSent;

    public IReadOnlyList<IPeerSource> All => _sources;

    /// <summary>The problem of the torrent's trackers, if any (see <see cref="TrackerPeerSource.ProblemOf"/>).</summary>
    public TrackerProblem? TrackerProblem => TrackerPeerSource.ProblemOf(_sources);

    public void Add(IPeerSource source) => _sources = [.. _sources, source];

    /// <summary>
    /// Starts every source (on the loop; each in the background, given 30 s). A torrent that starts complete has no
    /// completion left to announce later: its sources hear <c>completed</c> right after they start.
    /// </summary>
    public void StartAll()
    {
        if (host.IsComplete) _completedSent = true;
        foreach (var source in _sources) _ = StartAsync(source);
    }

    private async Task StartAsync(IPeerSource source)
    {
        var run = host.RunToken;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(run);
            cts.CancelAfter(StartTimeout);
            await source.StartAsync(cts.Token);
            if (host.IsComplete) await source.OnEventAsync(TorrentEvent.Completed, cts.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !run.IsCancellationRequested)
        {
            host.Log(PluginLogLevel.Warning, $"peer source failed to start: {e.Message}");
        }
    }

    /// <summary>The download completed: every source hears it once per torrent's life (in the background, given 30 s each).</summary>
    public void Completed()
    {
        if (_completedSent) return;
        _completedSent = true;
        foreach (var s in _sources)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    using var cts = new CancellationTokenSource(EventTimeout);
                    await s.OnEventAsync(TorrentEvent.Completed, cts.Token);
                }
                catch (Exception) { /* trackers report their own errors in their status */ }
            });
        }
    }

    /// <summary>Stops every source and waits for them, 5 s at most each (trackers send <c>stopped</c>).</summary>
    public Task StopAllAsync() => Task.WhenAll(_sources.Select(async s =>
    {
        try
        {
            using var cts = new CancellationTokenSource(StopTimeout);
            await s.StopAsync(cts.Token);
        }
        catch (Exception e) { host.Log(PluginLogLevel.Debug, $"peer source stop: {e.Message}"); }
    }));

    /// <summary>Asks every source for peers as soon as it may (<see cref="IPeerSource.RequestMorePeers"/>).</summary>
    public void RequestMorePeers()
    {
        foreach (var s in _sources)
        {
            try { s.RequestMorePeers(); }
            catch (Exception e) { host.Log(PluginLogLevel.Debug, $"peer source refused a reannounce: {e.Message}"); }
        }
    }

    /// <summary>Gives the tracker sources an edited tier list (removed trackers hear <c>stopped</c> in the background).</summary>
    public void ReplaceTrackers(IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        var loop = host.Loop;
        foreach (var source in _sources.OfType<TrackerPeerSource>())
        {
            _ = source.ReplaceTrackersAsync(tiers).ContinueWith(
                t => loop.Post(_ => host.Log(PluginLogLevel.Warning, $"switching trackers failed: {t.Exception?.InnerException?.Message}"), null),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }
}
