using System.Collections.Concurrent;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// Hands out one tracker client per announce URL, shared by every torrent that uses it: HTTP clients share one
/// connection pool, UDP clients share one socket per address family and one connection id per tracker.
/// </summary>
public sealed class TrackerClientPool : IDisposable
{
    private readonly ConcurrentDictionary<string, ITrackerClient> _clients = new(StringComparer.Ordinal);
    private readonly HttpTrackerClientOptions _httpOptions;
    private readonly UdpTrackerClientOptions _udpOptions;
    private readonly HttpClient _httpClient;
    private readonly TimeProvider _time;
    private readonly Lazy<UdpTrackerTransport> _udp;
    private readonly string? _udpRefusal;
    private volatile bool _disposed;

    /// <summary>Creates a pool.</summary>
    /// <param name="httpOptions">Settings for HTTP trackers.</param>
    /// <param name="udpOptions">Settings for UDP trackers.</param>
    /// <param name="httpClient">The HttpClient for HTTP trackers (not disposed here); the shared one when null.</param>
    /// <param name="timeProvider">Time for UDP timeouts and connection ids.</param>
    /// <param name="udpRefusal">
    /// Why UDP trackers are not asked (a proxy that cannot carry them, docs/PROXIES.md), or null to ask them.
    /// </param>
    public TrackerClientPool(HttpTrackerClientOptions? httpOptions = null, UdpTrackerClientOptions? udpOptions = null,
        HttpClient? httpClient = null, TimeProvider? timeProvider = null, string? udpRefusal = null)
        : this(httpOptions, udpOptions, httpClient, timeProvider, udpRefusal, null, null)
    {
    }

    /// <summary>
    /// A pool whose every request goes through <paramref name="proxy"/>: HTTP trackers through it (with a client of
    /// their own for trackers that close connections silently), UDP trackers through its relay when it is SOCKS5 and
    /// refused with the reason otherwise.
    /// </summary>
    public static TrackerClientPool Through(Proxies.ProxyServer proxy, TimeProvider? timeProvider = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var pool = proxy.CarriesUdp
            ? new TrackerClientPool(null, null, HttpTrackerClient.CreateHttpClient(proxy), timeProvider, null, proxy, logger)
            : new TrackerClientPool(null, null, HttpTrackerClient.CreateHttpClient(proxy), timeProvider,
                $"UDP trackers are not asked while trackers go through the {proxy}: only a SOCKS5 proxy carries datagrams", null, logger);
        pool._closingClient = HttpTrackerClient.CreateHttpClient(proxy, reuseConnections: false);
        return pool;
    }

    private HttpClient? _closingClient;

    private TrackerClientPool(HttpTrackerClientOptions? httpOptions, UdpTrackerClientOptions? udpOptions, HttpClient? httpClient,
        TimeProvider? timeProvider, string? udpRefusal, Proxies.ProxyServer? udpProxy, Microsoft.Extensions.Logging.ILogger? logger)
    {
        _udpRefusal = udpRefusal;
        _udp = new(() => udpProxy is null
            ? new UdpTrackerTransport()
            : new UdpTrackerTransport(new Proxies.RelayedDatagrams(udpProxy, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, timeProvider)));
        _httpOptions = httpOptions ?? HttpTrackerClientOptions.Default;
        _udpOptions = udpOptions ?? UdpTrackerClientOptions.Default;
        _httpClient = httpClient ?? HttpTrackerClient.SharedHttpClient;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Checks a tracker URL: an absolute http, https or udp URL (udp with a port). On failure
    /// <paramref name="error"/> says why in words for the user.
    /// </summary>
    public static bool TryParseUrl(string url, out Uri? uri, out string? error)
    {
        uri = null;
        error = null;
        string trimmed = url?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            error = "Empty tracker URL.";
            return false;
        }
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var parsed) || parsed.Host.Length == 0)
        {
            error = "Not a valid URL.";
            return false;
        }
        switch (parsed.Scheme.ToLowerInvariant())
        {
            case "http":
            case "https":
                break;
            case "udp":
                if (parsed.Port <= 0)
                {
                    error = "A udp tracker URL needs a port.";
                    return false;
                }
                break;
            default:
                error = $"Tracker scheme '{parsed.Scheme}' is not supported (only http, https and udp).";
                return false;
        }
        uri = parsed;
        return true;
    }

    /// <summary>The client for a URL, created on first use.</summary>
    /// <exception cref="ArgumentException">The URL is not a usable tracker URL (see <see cref="TryParseUrl"/>).</exception>
    public ITrackerClient GetClient(string url)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_clients.TryGetValue(url, out var existing)) return existing;
        if (!TryParseUrl(url, out var uri, out var error)) throw new ArgumentException($"{error} ({url})", nameof(url));
        return _clients.GetOrAdd(url, _ => uri!.Scheme.Equals("udp", StringComparison.OrdinalIgnoreCase)
            ? _udpRefusal is { } refusal ? new RefusedTrackerClient(uri, refusal) : new UdpTrackerClient(uri, _udp.Value, ownsTransport: false, _udpOptions, _time)
            : new HttpTrackerClient(uri, _httpOptions, _httpClient, _closingClient));
    }

    /// <summary>Closes the UDP sockets. Clients handed out stop working.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_udp.IsValueCreated) _udp.Value.Dispose();
        _clients.Clear();
    }
}

/// <summary>A tracker we do not ask, and say why each time we would have (it shows as the tracker's error).</summary>
internal sealed class RefusedTrackerClient(Uri announceUri, string reason) : ITrackerClient
{
    public Uri AnnounceUri { get; } = announceUri;

    public bool CanScrape => false;

    public Task<TrackerAnnounceResponse> AnnounceAsync(TrackerAnnounceRequest request, CancellationToken cancellationToken) =>
        Task.FromException<TrackerAnnounceResponse>(new TrackerException(TrackerErrorKind.Unsupported, reason));

    public Task<TrackerScrapeResponse> ScrapeAsync(IReadOnlyList<Metainfo.InfoHash> infoHashes, CancellationToken cancellationToken) =>
        Task.FromException<TrackerScrapeResponse>(new TrackerException(TrackerErrorKind.Unsupported, reason));
}
