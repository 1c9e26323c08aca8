using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Dht;

/// <summary>When a torrent's DHT source searches.</summary>
public sealed record DhtPeerSourceOptions
{
    /// <summary>Time between announces while things work (libtorrent's <c>dht_announce_interval</c>: 15 minutes).</summary>
    public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Shortest time between two lookups of one torrent, however often more peers are asked for.</summary>
    public TimeSpan MinimumInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>First retry after a lookup no node answered (doubling up to <see cref="AnnounceInterval"/>).</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Creates <see cref="DhtPeerSource"/>s over the session's DHT nodes (one per address family, BEP 32). Never for
/// private torrents (BEP 27): <see cref="AllowedForPrivateTorrents"/> is false, and a source created for one anyway
/// stays idle.
/// </summary>
public sealed class DhtPeerSourceFactory : IPeerSourceFactory
{
    private readonly IReadOnlyList<DhtEngine> _engines;
    private readonly DhtPeerSourceOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the factory for the session's DHT node.</summary>
    public DhtPeerSourceFactory(DhtEngine engine, DhtPeerSourceOptions? options = null, TimeProvider? timeProvider = null)
        : this([engine ?? throw new ArgumentNullException(nameof(engine))], options, timeProvider)
    {
    }

    /// <summary>Creates the factory for the session's DHT nodes (IPv4 and IPv6): each torrent looks up and announces on every one.</summary>
    public DhtPeerSourceFactory(IReadOnlyList<DhtEngine> engines, DhtPeerSourceOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(engines);
        if (engines.Count == 0) throw new ArgumentException("At least one DHT node is needed.", nameof(engines));
        _engines = engines;
        _options = options ?? new DhtPeerSourceOptions();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public string Name => "dht";

    /// <inheritdoc/>
    public string Version => "1.0.0";

    /// <inheritdoc/>
    public string Description => "Finds peers through the BitTorrent DHT (BEP 5) and announces us there";

    /// <inheritdoc/>
    public bool AllowedForPrivateTorrents => false;

    /// <inheritdoc/>
    public IPeerSource Create(PeerSourceContext context) => new DhtPeerSource(_engines, context, _options, _time);
}

/// <summary>
/// One torrent's use of the DHT: a get_peers lookup and announce every <see cref="DhtPeerSourceOptions.AnnounceInterval"/>,
/// sooner when more peers are asked for (at most every <see cref="DhtPeerSourceOptions.MinimumInterval"/>), and
/// retries with back-off while no node answers (the DHT may still be bootstrapping). Found peers go to the sink as
/// they arrive. Without a listen port it only looks (an announce would advertise a port nobody listens on). With an
/// IPv4 and an IPv6 node (BEP 32) each lookup and announce runs on both at once; the counts shown are their sums.
/// </summary>
public sealed class DhtPeerSource : IPeerSource
{
    /// <summary>The source name peers are reported under.</summary>
    public const string SourceName = "dht";

    private readonly IReadOnlyList<DhtEngine> _engines;
    private readonly PeerSourceContext _context;
    private readonly DhtPeerSourceOptions _options;
    private readonly TimeProvider _time;
    private readonly InfoHash _infoHash;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly object _gate = new();

    private CancellationTokenSource? _cts;
    private Task? _loop;
    private volatile bool _wantMore;
    private string _state = "not contacted";
    private string? _message;
    private DateTimeOffset? _lastSuccess, _lastStart;
    private DateTimeOffset _nextDue;
    private int _peersReported;
    private TimeSpan _retry;

    /// <summary>Creates the source; it does nothing until started.</summary>
    public DhtPeerSource(DhtEngine engine, PeerSourceContext context, DhtPeerSourceOptions? options = null, TimeProvider? timeProvider = null)
        : this([engine ?? throw new ArgumentNullException(nameof(engine))], context, options, timeProvider)
    {
    }

    /// <summary>Creates the source over several nodes (one per address family); it does nothing until started.</summary>
    public DhtPeerSource(IReadOnlyList<DhtEngine> engines, PeerSourceContext context, DhtPeerSourceOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(engines);
        if (engines.Count == 0) throw new ArgumentException("At least one DHT node is needed.", nameof(engines));
        _engines = engines;
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _options = options ?? new DhtPeerSourceOptions();
        _time = timeProvider ?? TimeProvider.System;
        _infoHash = new InfoHash(context.InfoHash.Span);
        _retry = _options.RetryInterval;
        if (context.IsPrivate)
        {
            _state = "disabled";
            _message = "private torrent: the DHT is never used";
        }
    }

    /// <inheritdoc/>
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_context.IsPrivate || _loop is not null) return ValueTask.CompletedTask;
            _cts = new CancellationTokenSource();
            _nextDue = _time.GetUtcNow();
            var token = _cts.Token;
            _loop = Task.Run(() => RunAsync(token), CancellationToken.None);
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
            _loop = null;
            _cts?.Cancel();
        }
        if (loop is null) return;
        try
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        lock (_gate)
        {
            _state = "stopped";
            _cts?.Dispose();
            _cts = null;
        }
    }

    /// <inheritdoc/>
    public void RequestMorePeers()
    {
        if (_context.IsPrivate) return;
        _wantMore = true;
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already woken
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<PeerSourceStatus> GetStatus()
    {
        string nodes = _engines.Count == 1 ? $"{_engines[0].NodeCount} DHT nodes"
            : $"{_engines.Sum(e => e.NodeCount)} DHT nodes ({string.Join(", ", _engines.Select(e => $"{FamilyName(e)} {e.NodeCount}"))})";
        lock (_gate)
        {
            return
            [
                new PeerSourceStatus
                {
                    Source = SourceName,
                    Endpoint = SourceName,
                    State = _state,
                    Message = _message is null ? nodes : $"{nodes}; {_message}",
                    LastSuccess = _lastSuccess,
                    NextContact = _loop is null ? null : _nextDue,
                    PeersReported = _peersReported,
                },
            ];
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _wake.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await WaitUntilDueAsync(cancellationToken).ConfigureAwait(false);
                if (!_engines.Any(e => e.IsRunning))
                {
                    Set("waiting", "the DHT node is not running", _time.GetUtcNow() + _options.RetryInterval);
                    continue;
                }
                await LookupOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The DHT node stopped under us, or something unexpected: report it and try again later.
                Set("error", ex.Message, _time.GetUtcNow() + NextRetry());
            }
        }
    }

    private async Task LookupOnceAsync(CancellationToken cancellationToken)
    {
        var start = _time.GetUtcNow();
        lock (_gate)
        {
            _lastStart = start;
            _state = "updating";
        }
        int found = 0;
        void OnPeers(IReadOnlyList<IPEndPoint> peers)
        {
            Interlocked.Add(ref found, peers.Count);
            lock (_gate) _peersReported += peers.Count;
            _context.Sink.AddPeers(peers, SourceName);
        }

        int port = _context.ListenPort;
        bool announce = port is > 0 and <= 65535;
        // Every running node (IPv4 and IPv6) at once; a node that fails counts as one no node answered.
        var results = await Task.WhenAll(_engines.Where(e => e.IsRunning).Select(async e =>
        {
            try
            {
                return announce
                    ? await e.AnnounceAsync(_infoHash, port, impliedPort: false, OnPeers, cancellationToken).ConfigureAwait(false)
                    : new DhtAnnounceResult { Lookup = await e.FindPeersAsync(_infoHash, OnPeers, cancellationToken).ConfigureAwait(false) };
            }
            catch (InvalidOperationException) when (!e.IsRunning)
            {
                return new DhtAnnounceResult { Lookup = new DhtLookupResult() };
            }
        })).ConfigureAwait(false);
        var lookup = new DhtLookupResult
        {
            NodesQueried = results.Sum(r => r.Lookup.NodesQueried),
            NodesResponded = results.Sum(r => r.Lookup.NodesResponded),
            PeersFound = results.Sum(r => r.Lookup.PeersFound),
        };
        string announced = announce
            ? $"announced to {results.Sum(r => r.AnnouncesAccepted)} of {results.Sum(r => r.AnnouncesSent)}"
            : "not announced (no listen port)";

        var now = _time.GetUtcNow();
        string summary = $"last lookup: {found} peers from {lookup.NodesResponded} of {lookup.NodesQueried} nodes, {announced}";
        if (lookup.NodesResponded > 0)
        {
            _retry = _options.RetryInterval;
            lock (_gate) _lastSuccess = now;
            // A little jitter keeps torrents added together from announcing together forever after.
            var jitter = TimeSpan.FromTicks((long)(_options.AnnounceInterval.Ticks * 0.1 * Random.Shared.NextDouble()));
            Set("working", summary, now + _options.AnnounceInterval - jitter);
        }
        else
        {
            Set("no nodes", summary, now + NextRetry());
        }
    }

    private static string FamilyName(DhtEngine engine) =>
        engine.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private TimeSpan NextRetry()
    {
        var retry = _retry;
        _retry = TimeSpan.FromTicks(Math.Min(_retry.Ticks * 2, _options.AnnounceInterval.Ticks));
        return retry;
    }

    private void Set(string state, string? message, DateTimeOffset next)
    {
        lock (_gate)
        {
            _state = state;
            _message = message;
            _nextDue = next;
        }
    }

    private async Task WaitUntilDueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = _time.GetUtcNow();
            DateTimeOffset due;
            lock (_gate)
            {
                due = _nextDue;
                if (_wantMore)
                {
                    var earliest = _lastStart is { } s ? s + _options.MinimumInterval : now;
                    if (earliest < due) due = earliest;
                    _nextDue = due;
                }
            }
            if (due <= now)
            {
                _wantMore = false;
                return;
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // The deadline is one entry in the clock's shared deadlines, not a timer per torrent (a cancelled wait
            // leaves its entry to complete unobserved at its time).
            var delay = Client.SharedDeadlines.For(_time).Delay(due - now);
            var woken = _wake.WaitAsync(wait.Token);
            await Task.WhenAny(delay, woken).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            // A pending wake that lost the race must not leave the semaphore signalled for nothing: that is fine,
            // the next round simply re-reads _wantMore.
            await woken.ContinueWith(static _ => { }, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }
    }
}
