using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// The built-in <c>tracker</c> peer source: creates a <see cref="TrackerPeerSource"/> per torrent, all sharing one
/// <see cref="TrackerClientPool"/> (HTTP connections, UDP sockets and connection ids) and one
/// <see cref="AnnounceScheduler"/> (per-tracker pacing, backoff, scrape batches and the quit budget). Allowed for
/// private torrents: it only talks to the torrent's own trackers.
/// </summary>
public sealed class TrackerPeerSourceFactory : IPeerSourceFactory, IDisposable
{
    private readonly TrackerPeerSourceOptions _options;
    private readonly TrackerClientPool _clients;
    private readonly bool _ownsClients;
    private readonly AnnounceScheduler _scheduler;
    private readonly bool _ownsScheduler;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;

    /// <summary>Creates the factory.</summary>
    /// <param name="options">Settings for every torrent's source.</param>
    /// <param name="clients">The client pool to share; a new one (disposed with the factory) when null.</param>
    /// <param name="scheduler">The scheduler to share; a new one when null.</param>
    /// <param name="timeProvider">Time; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    public TrackerPeerSourceFactory(TrackerPeerSourceOptions? options = null, TrackerClientPool? clients = null,
        AnnounceScheduler? scheduler = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options ?? TrackerPeerSourceOptions.Default;
        _time = timeProvider ?? TimeProvider.System;
        _ownsClients = clients is null;
        _clients = clients ?? new TrackerClientPool(timeProvider: _time);
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _ownsScheduler = scheduler is null;
        _scheduler = scheduler ?? new AnnounceScheduler(timeProvider: _time, logger: _loggers.CreateLogger<AnnounceScheduler>());
    }

    /// <inheritdoc/>
    public string Name => TrackerPeerSource.SourceName;

    /// <inheritdoc/>
    public string Version => "1.0.0";

    /// <inheritdoc/>
    public string Description => "Announces to the torrent's HTTP and UDP trackers (BEP 3, 12, 15, 23) and scrapes them.";

    /// <inheritdoc/>
    public bool AllowedForPrivateTorrents => true;

    /// <summary>The clients shared by the sources (the CLI and magnet code may use them too).</summary>
    public TrackerClientPool Clients => _clients;

    /// <inheritdoc/>
    public IPeerSource Create(PeerSourceContext context) =>
        new TrackerPeerSource(context, _options, _clients, _scheduler, _time, _loggers.CreateLogger<TrackerPeerSource>());

    /// <summary>The coordinator of every source's tracker traffic.</summary>
    public AnnounceScheduler Scheduler => _scheduler;

    /// <summary>
    /// The session is quitting: the stopped announces of the sources stopped from now on share the scheduler's quit
    /// budget (see <see cref="AnnounceScheduler.BeginQuit"/>). Call it before stopping the torrents.
    /// </summary>
    public void BeginQuit() => _scheduler.BeginQuit();

    /// <summary>
    /// Logs how the stopped announces went if quitting, and closes the shared UDP sockets if this factory created the
    /// pool. Dispose the sources first.
    /// </summary>
    public void Dispose()
    {
        _scheduler.LogQuitSummary();
        if (_ownsScheduler) _scheduler.Dispose();
        if (_ownsClients) _clients.Dispose();
    }
}
