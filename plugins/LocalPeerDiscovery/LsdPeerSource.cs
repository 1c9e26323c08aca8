using RTorrent.Abstractions;

namespace RTorrent.Plugins.LocalPeerDiscovery;

/// <summary>Local Service Discovery for one torrent: registers it with the client's shared <see cref="LsdService"/>.</summary>
public sealed class LsdPeerSource : IPeerSource
{
    private readonly LsdService _service;
    private readonly LsdTorrent _torrent;
    private readonly Lock _gate = new();
    private bool _started;

    internal LsdPeerSource(LsdService service, PeerSourceContext context)
    {
        _service = service;
        _torrent = new LsdTorrent(Convert.ToHexStringLower(context.InfoHash.Span), context.ListenPort, context.Sink);
    }

    /// <summary>The torrent's info-hash in lower-case hex.</summary>
    public string InfoHashHex => _torrent.InfoHashHex;

    /// <inheritdoc />
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_started) return ValueTask.CompletedTask;
            _started = true;
        }
        _service.Add(_torrent);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_started) return;
            _started = false;
        }
        await _service.RemoveAsync(_torrent).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Announces now, unless this torrent was announced less than a minute ago (BEP 14's rate limit).</remarks>
    public void RequestMorePeers()
    {
        lock (_gate)
            if (!_started) return;
        _service.AnnounceSoon(_torrent);
    }

    /// <inheritdoc />
    public IReadOnlyList<PeerSourceStatus> GetStatus()
    {
        bool started;
        lock (_gate) started = _started;
        var options = _service.Options;
        var endpoint = string.Join(", ", new[] { options.EnableIPv4 ? options.HostV4 : null, options.EnableIPv6 ? options.HostV6 : null }.OfType<string>());
        var (nextDue, lastAnnounce, lastError) = _service.Schedule(_torrent);
        var problem = lastError ?? _service.Problem;
        var state = !started ? "stopped"
            : problem is not null ? "error"
            : lastAnnounce is null ? "not contacted"
            : "working";
        return
        [
            new PeerSourceStatus
            {
                Source = "lsd",
                Endpoint = endpoint,
                State = state,
                Message = started ? problem : null,
                LastSuccess = problem is null ? lastAnnounce : null,
                NextContact = started ? nextDue : null,
                PeersReported = _torrent.PeersReported,
            },
        ];
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => StopAsync(CancellationToken.None);
}
