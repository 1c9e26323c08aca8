using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>Settings of <see cref="UdpTrackerClient"/>.</summary>
public sealed record UdpTrackerClientOptions
{
    /// <summary>The defaults (BEP 15's numbers).</summary>
    public static UdpTrackerClientOptions Default { get; } = new();

    /// <summary>
    /// The first wait for an answer; BEP 15 says 15 s. Each retransmission doubles it (15 × 2^n s). Tests shorten it.
    /// </summary>
    public TimeSpan BaseTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The largest n of the 15 × 2^n schedule (BEP 15: 8, so up to 9 sends spanning about two hours). Callers that
    /// cannot wait that long cancel earlier; the peer source bounds each announce this way.
    /// </summary>
    public int MaxRetransmissions { get; init; } = 8;

    /// <summary>How long a connection id is used after it was received (BEP 15: one minute).</summary>
    public TimeSpan ConnectionIdLifetime { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a resolved tracker address is reused before resolving the host again.</summary>
    public TimeSpan AddressCacheTime { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// A UDP tracker (BEP 15): connect, announce, scrape, error; retransmission by the spec's backoff; connection ids
/// cached for their lifetime. Thread-safe; one instance per tracker URL can serve every torrent (they then share the
/// connection id).
/// </summary>
/// <remarks>
/// The tracker's host is resolved and the first usable address is taken (the resolver's order, RFC 6724). An IPv4
/// tracker address gives IPv4 peers, an IPv6 one IPv6 peers. The <c>&amp;</c> URL extension (BEP 41) is not sent.
/// </remarks>
public sealed class UdpTrackerClient : ITrackerClient, IDisposable
{
    private readonly UdpTrackerTransport _transport;
    private readonly bool _ownsTransport;
    private readonly UdpTrackerClientOptions _options;
    private readonly TimeProvider _time;
    private readonly string _host;
    private readonly int _port;
    private readonly Lock _lock = new();
    private EndPoint? _address;
    private DateTimeOffset _addressExpires;
    private EndPoint? _connectedTo;
    private long _connectionId;
    private DateTimeOffset _connectionExpires;
    private SharedConnect? _connecting;

    /// <summary>Creates a client with its own sockets (closed by <see cref="Dispose"/>).</summary>
    /// <exception cref="ArgumentException">Not a <c>udp://host:port</c> URL.</exception>
    public UdpTrackerClient(Uri announceUri, UdpTrackerClientOptions? options = null, TimeProvider? timeProvider = null)
        : this(announceUri, new UdpTrackerTransport(), ownsTransport: true, options, timeProvider)
    {
    }

    internal UdpTrackerClient(Uri announceUri, UdpTrackerTransport transport, bool ownsTransport,
        UdpTrackerClientOptions? options, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(announceUri);
        if (!announceUri.IsAbsoluteUri || !announceUri.Scheme.Equals("udp", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Not a udp tracker URL: {announceUri.OriginalString}", nameof(announceUri));
        if (announceUri.Port is <= 0 or > ushort.MaxValue || announceUri.IsDefaultPort)
            throw new ArgumentException($"A udp tracker URL needs a port: {announceUri.OriginalString}", nameof(announceUri));
        if (announceUri.Host.Length == 0)
            throw new ArgumentException($"A udp tracker URL needs a host: {announceUri.OriginalString}", nameof(announceUri));
        AnnounceUri = announceUri;
        _host = announceUri.HostNameType == UriHostNameType.IPv6 ? announceUri.Host.Trim('[', ']') : announceUri.IdnHost;
        _port = announceUri.Port;
        _transport = transport;
        _ownsTransport = ownsTransport;
        _options = options ?? UdpTrackerClientOptions.Default;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public Uri AnnounceUri { get; }

    /// <inheritdoc/>
    public bool CanScrape => true;

    /// <inheritdoc/>
    public async Task<TrackerAnnounceResponse> AnnounceAsync(TrackerAnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var remote = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        // A name sent to a proxy's relay: the proxy's own lookup decides; IPv4 is what proxies use unless told otherwise.
        var family = remote is IPEndPoint ip ? ip.AddressFamily : AddressFamily.InterNetwork;
        var answer = await TransactAsync(remote,
            (connectionId, tx) => UdpTrackerProtocol.Announce(connectionId, tx, request),
            packet => UdpTrackerProtocol.IsAnnounceAnswer(packet.Span, family),
            cancellationToken).ConfigureAwait(false);
        if (UdpTrackerProtocol.IsBareRefusal(answer))
            throw new TrackerException(TrackerErrorKind.TrackerFailure,
                "The tracker refused the announce without a reason (an empty answer: the torrent is not on its list).");
        return UdpTrackerProtocol.ParseAnnounce(answer, family);
    }

    /// <inheritdoc/>
    public async Task<TrackerScrapeResponse> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        var remote = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var files = new Dictionary<InfoHash, ScrapeCounts>();
        var all = infoHashes.ToArray();
        for (int start = 0; start < all.Length; start += UdpTrackerProtocol.MaxScrapeHashes)
        {
            var chunk = all.AsMemory(start, Math.Min(UdpTrackerProtocol.MaxScrapeHashes, all.Length - start));
            var answer = await TransactAsync(remote,
                (connectionId, tx) => UdpTrackerProtocol.Scrape(connectionId, tx, chunk.Span),
                packet => UdpTrackerProtocol.IsScrapeAnswer(packet.Span, chunk.Length),
                cancellationToken).ConfigureAwait(false);
            UdpTrackerProtocol.ParseScrape(answer, chunk.Span, files);
        }
        return new TrackerScrapeResponse { Files = files };
    }

    /// <summary>Closes the client's own sockets (a shared transport is left open).</summary>
    public void Dispose()
    {
        if (_ownsTransport) _transport.Dispose();
    }

    /// <summary>
    /// One request: connect first unless a live connection id is cached, then the request itself, which follows the
    /// 15 × 2^n schedule; a connection id that expires while the request is being retransmitted sends us back to
    /// connect. Requests that need a connection id at the same time share one connect (see <see cref="ConnectAsync"/>).
    /// </summary>
    private async Task<byte[]> TransactAsync(EndPoint remote, Func<long, uint, byte[]> build,
        Func<ReadOnlyMemory<byte>, bool> accept, CancellationToken cancellationToken)
    {
        var attempts = new Attempts();
        while (true)
        {
            if (!TryGetConnectionId(remote, out long connectionId, out var expires))
                (connectionId, expires) = await ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
            var answer = await ExchangeAsync(remote, tx => build(connectionId, tx), accept, attempts, expires, cancellationToken)
                .ConfigureAwait(false);
            if (answer is null) continue; // the connection id expired during retransmissions
            ThrowIfError(answer);
            return answer;
        }
    }

    /// <summary>
    /// A new connection id, from one connect shared by every request that needs one meanwhile: when the id expires
    /// with many torrents announcing, the tracker sees one connect, not one per torrent. The connect follows the
    /// 15 × 2^n schedule on its own and is abandoned when every request waiting for it has given up.
    /// </summary>
    private async Task<(long Id, DateTimeOffset Expires)> ConnectAsync(EndPoint remote, CancellationToken cancellationToken)
    {
        SharedConnect shared;
        lock (_lock)
        {
            if (_connecting is null || !_connecting.Remote.Equals(remote))
            {
                _connecting = new SharedConnect(remote);
                _connecting.Task = RunConnectAsync(_connecting);
            }
            shared = _connecting;
            shared.Waiters++;
        }
        try
        {
            return await shared.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (--shared.Waiters == 0 && !shared.Task.IsCompleted)
                {
                    shared.Stop.Cancel();
                    if (_connecting == shared) _connecting = null;
                }
            }
        }
    }

    private async Task<(long Id, DateTimeOffset Expires)> RunConnectAsync(SharedConnect shared)
    {
        await Task.Yield(); // off the caller's lock before anything is sent
        try
        {
            var connectAnswer = await ExchangeAsync(shared.Remote, UdpTrackerProtocol.Connect,
                packet => UdpTrackerProtocol.IsConnectAnswer(packet.Span), new Attempts(), null, shared.Stop.Token).ConfigureAwait(false);
            ThrowIfError(connectAnswer!);
            long connectionId = UdpTrackerProtocol.ConnectionIdOf(connectAnswer!);
            var expires = _time.GetUtcNow() + _options.ConnectionIdLifetime;
            lock (_lock)
            {
                _connectedTo = shared.Remote;
                _connectionId = connectionId;
                _connectionExpires = expires;
            }
            return (connectionId, expires);
        }
        finally
        {
            lock (_lock)
            {
                if (_connecting == shared) _connecting = null;
            }
        }
    }

    /// <summary>
    /// Sends a packet and waits, retransmitting with a doubled wait each time. Returns the answer, or null if
    /// <paramref name="validUntil"/> passes first; throws when the schedule runs out.
    /// </summary>
    private async Task<byte[]?> ExchangeAsync(EndPoint remote, Func<uint, byte[]> build, Func<ReadOnlyMemory<byte>, bool> accept,
        Attempts attempts, DateTimeOffset? validUntil, CancellationToken cancellationToken)
    {
        using var exchange = _transport.Begin(remote, accept);
        // The same transaction id for every retransmission: a late answer to an earlier send is still welcome.
        var packet = build(exchange.TransactionId);
        while (true)
        {
            if (validUntil is { } until && _time.GetUtcNow() >= until) return null;
            await _transport.SendAsync(remote, packet, cancellationToken).ConfigureAwait(false);
            var wait = _options.BaseTimeout * Math.Pow(2, attempts.N);
            try
            {
                return await exchange.Answer.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                if (attempts.N >= _options.MaxRetransmissions)
                    throw new TrackerException(TrackerErrorKind.Timeout,
                        $"The UDP tracker did not answer ({attempts.N + 1} attempts over {TotalWait(attempts.N)}).");
                attempts.N++;
            }
            catch (ObjectDisposedException e)
            {
                throw new TrackerException(TrackerErrorKind.Network, "The UDP tracker client was closed.", e);
            }
        }
    }

    private string TotalWait(int n)
    {
        var total = _options.BaseTimeout * (Math.Pow(2, n + 1) - 1);
        return total.TotalSeconds >= 120 ? $"{total.TotalMinutes:0} min" : $"{total.TotalSeconds:0.#} s";
    }

    private void ThrowIfError(byte[] answer)
    {
        if (!UdpTrackerProtocol.IsError(answer)) return;
        // Drop the connection id: some trackers answer an unknown or stale id with an error, and reconnecting is cheap.
        lock (_lock) _connectedTo = null;
        throw new TrackerException(TrackerErrorKind.TrackerFailure, UdpTrackerProtocol.ErrorMessageOf(answer));
    }

    private bool TryGetConnectionId(EndPoint remote, out long connectionId, out DateTimeOffset expires)
    {
        lock (_lock)
        {
            connectionId = _connectionId;
            expires = _connectionExpires;
            return _connectedTo is not null && _connectedTo.Equals(remote) && _time.GetUtcNow() < _connectionExpires;
        }
    }

    private async ValueTask<EndPoint> ResolveAsync(CancellationToken cancellationToken)
    {
        // Through a proxy the name goes to the proxy to look up: looking it up here would be a DNS leak.
        if (_transport.IsRelayed && !IPAddress.TryParse(_host, out _)) return new DnsEndPoint(_host, _port);
        lock (_lock)
        {
            if (_address is not null && (_addressExpires == DateTimeOffset.MaxValue || _time.GetUtcNow() < _addressExpires)) return _address;
        }
        if (IPAddress.TryParse(_host, out var literal))
        {
            lock (_lock)
            {
                _address = new IPEndPoint(literal.IsIPv4MappedToIPv6 ? literal.MapToIPv4() : literal, _port);
                _addressExpires = DateTimeOffset.MaxValue;
                return _address;
            }
        }
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(_host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new TrackerException(TrackerErrorKind.Network, $"Could not resolve the tracker's host {_host}: {e.Message}.", e);
        }
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork ||
            (a.AddressFamily == AddressFamily.InterNetworkV6 && Socket.OSSupportsIPv6))
            ?? throw new TrackerException(TrackerErrorKind.Network, $"The tracker's host {_host} has no usable address.");
        lock (_lock)
        {
            _address = new IPEndPoint(chosen.IsIPv4MappedToIPv6 ? chosen.MapToIPv4() : chosen, _port);
            _addressExpires = _time.GetUtcNow() + _options.AddressCacheTime;
            return _address;
        }
    }

    private sealed class Attempts
    {
        public int N;
    }

    /// <summary>A connect in progress and the requests waiting for it.</summary>
    private sealed class SharedConnect(EndPoint remote)
    {
        public EndPoint Remote { get; } = remote;
        /// <summary>Cancelled when nobody waits any more (no timer: needs no disposing).</summary>
        public CancellationTokenSource Stop { get; } = new();
        public Task<(long Id, DateTimeOffset Expires)> Task { get; set; } = null!;
        public int Waiters;
    }
}
