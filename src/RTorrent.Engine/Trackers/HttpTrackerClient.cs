using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>Settings of <see cref="HttpTrackerClient"/>.</summary>
public sealed record HttpTrackerClientOptions
{
    /// <summary>The defaults.</summary>
    public static HttpTrackerClientOptions Default { get; } = new();

    /// <summary>
    /// Longest time a request may take, from sending to the last byte of the answer (default 30 s, as libtorrent's
    /// tracker completion timeout).
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Larger answers are refused (default 2 MiB: about 350,000 compact peers).</summary>
    public int MaxResponseBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>The User-Agent header.</summary>
    public string UserAgent { get; init; } = "RTorrent/0.1";
}

/// <summary>
/// An HTTP or HTTPS tracker (BEP 3, BEP 23 compact peers, BEP 7 <c>peers6</c>, BEP 48 scrape). Thread-safe, holds no
/// per-torrent state: one instance can serve every torrent that uses the URL.
/// </summary>
/// <remarks>
/// All instances share one <see cref="HttpClient"/> (one connection pool) unless given another. Redirects are
/// followed by this client (at most <see cref="MaxRedirects"/>), only to http and https locations and never from
/// https to http.
/// </remarks>
public sealed class HttpTrackerClient : ITrackerClient
{
    /// <summary>Most redirects followed for one request.</summary>
    public const int MaxRedirects = 5;

    /// <summary>
    /// Most connections the shared HttpClient opens to one tracker (host and port) at once: the session's gate lets 8
    /// requests be in flight, and the stopped announces of a quit 32 (AnnounceSchedulerOptions).
    /// </summary>
    public const int MaxConnectionsPerTracker = 32;

    private static readonly Lazy<HttpClient> Shared = new(() => CreateHttpClient((HttpMessageHandler?)null, reuseConnections: true));

    /// <summary>For trackers that close connections after each answer: every request on a connection of its own.</summary>
    private static readonly Lazy<HttpClient> NotPooled = new(() => CreateHttpClient((HttpMessageHandler?)null, reuseConnections: false));

    private readonly HttpClient _http;
    private readonly HttpTrackerClientOptions _options;

    /// <summary>The tracker closed a kept-alive connection under a request: ask it to close each one (see <see cref="SendAsync"/>).</summary>
    private volatile bool _closesConnections;

    /// <summary>Creates a client for an announce URL.</summary>
    /// <param name="announceUri">An absolute http or https URL.</param>
    /// <param name="options">Timeouts and limits; <see cref="HttpTrackerClientOptions.Default"/> when null.</param>
    /// <param name="httpClient">
    /// The HttpClient to use (not disposed by this client); <see cref="SharedHttpClient"/> when null. Its own
    /// <see cref="HttpClient.Timeout"/> should be infinite: this client applies <see cref="HttpTrackerClientOptions.RequestTimeout"/>.
    /// </param>
    /// <exception cref="ArgumentException">The URL is not an absolute http or https URL.</exception>
    /// <param name="closingClient">
    /// For a tracker found to close connections silently: a client that never reuses connections. The shared direct
    /// one when both clients are null; <paramref name="httpClient"/> itself (with <c>Connection: close</c>) when only it is given.
    /// </param>
    public HttpTrackerClient(Uri announceUri, HttpTrackerClientOptions? options = null, HttpClient? httpClient = null, HttpClient? closingClient = null)
    {
        ArgumentNullException.ThrowIfNull(announceUri);
        if (!announceUri.IsAbsoluteUri || (announceUri.Scheme != Uri.UriSchemeHttp && announceUri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"Not an http or https tracker URL: {announceUri.OriginalString}", nameof(announceUri));
        AnnounceUri = announceUri;
        ScrapeUri = HttpTrackerUrl.GetScrapeUri(announceUri);
        _options = options ?? HttpTrackerClientOptions.Default;
        _http = httpClient ?? Shared.Value;
        // A client of our own (a proxied one) is also used for requests that close their connection: the shared
        // direct one must never carry a request meant for a proxy.
        _notPooled = closingClient is not null ? new Lazy<HttpClient>(closingClient)
            : httpClient is null || (Shared.IsValueCreated && ReferenceEquals(httpClient, Shared.Value)) ? NotPooled
            : new Lazy<HttpClient>(httpClient);
    }

    private readonly Lazy<HttpClient> _notPooled;

    /// <summary>The HttpClient all tracker clients share by default.</summary>
    public static HttpClient SharedHttpClient => Shared.Value;

    /// <inheritdoc/>
    public Uri AnnounceUri { get; }

    /// <summary>The scrape URL by convention, or null when the tracker has none.</summary>
    public Uri? ScrapeUri { get; }

    /// <inheritdoc/>
    public bool CanScrape => ScrapeUri is not null;

    /// <summary>
    /// Creates an HttpClient set up for trackers: pooled keep-alive connections (at most
    /// <see cref="MaxConnectionsPerTracker"/> per tracker), no automatic redirects, no cookies, gzip.
    /// </summary>
    public static HttpClient CreateHttpClient(HttpMessageHandler? handler = null) => CreateHttpClient(handler, reuseConnections: true);

    /// <summary>The same, with every request through <paramref name="proxy"/> (docs/PROXIES.md).</summary>
    /// <param name="proxy">The proxy.</param>
    /// <param name="reuseConnections">False for the client of trackers that close connections silently.</param>
    public static HttpClient CreateHttpClient(Proxies.ProxyServer proxy, bool reuseConnections = true) => CreateHttpClient(null, reuseConnections, proxy);

    private static HttpClient CreateHttpClient(HttpMessageHandler? handler, bool reuseConnections, Proxies.ProxyServer? proxy = null) =>
        new(handler ?? Proxies.ProxyHttp.Through(new SocketsHttpHandler
        {
            // Redirects are followed by GetAsync, under our rules.
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.All,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            // DNS changes are picked up when pooled connections are recycled. Zero: never reused.
            PooledConnectionLifetime = reuseConnections ? TimeSpan.FromMinutes(5) : TimeSpan.Zero,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            // Keep-alive connections to one tracker are shared by all its torrents, a few at most: the session's
            // AnnounceScheduler lets 8 requests to a tracker be in flight (32 stopped ones at quit), and this bounds
            // the pool if it is not used.
            MaxConnectionsPerServer = MaxConnectionsPerTracker,
        }, proxy))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

    /// <inheritdoc/>
    public async Task<TrackerAnnounceResponse> AnnounceAsync(TrackerAnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = HttpTrackerUrl.BuildAnnounce(AnnounceUri, request);
        return await GetAsync(uri, HttpTrackerResponseParser.ParseAnnounce, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<TrackerScrapeResponse> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        if (ScrapeUri is null)
            throw new TrackerException(TrackerErrorKind.Unsupported, "This tracker does not support scrape (its URL does not end in /announce).");
        var uri = HttpTrackerUrl.BuildScrape(ScrapeUri, infoHashes);
        return await GetAsync(uri, HttpTrackerResponseParser.ParseScrape, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> GetAsync<T>(Uri uri, Func<ReadOnlyMemory<byte>, T> parse, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        byte[]? buffer = null;
        try
        {
            var current = uri;
            for (int redirects = 0; ; redirects++)
            {
                using var response = await SendAsync(current, timeout.Token).ConfigureAwait(false);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    current = FollowRedirect(current, location, redirects);
                    continue;
                }
                if (response.Content.Headers.ContentLength is long declared && declared > _options.MaxResponseBytes)
                    throw TooLarge();
                int length;
                (buffer, length) = await ReadBodyAsync(response.Content, (int)(response.Content.Headers.ContentLength ?? 0), timeout.Token).ConfigureAwait(false);
                var body = new ReadOnlyMemory<byte>(buffer, 0, length);
                if (!response.IsSuccessStatusCode)
                {
                    // Some trackers refuse with a 4xx status and a bencoded failure reason; that reason is the useful part.
                    throw HttpTrackerResponseParser.TryReadFailure(body) ?? new TrackerException(TrackerErrorKind.HttpStatus,
                        $"The tracker answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd() + ".")
                    {
                        StatusCode = (int)response.StatusCode,
                    };
                }
                return parse(body);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TrackerException(TrackerErrorKind.Timeout,
                $"The tracker did not answer within {_options.RequestTimeout.TotalSeconds:0.#} s.", e);
        }
        catch (HttpRequestException e)
        {
            throw new TrackerException(TrackerErrorKind.Network, DescribeNetworkError(e), e);
        }
        catch (IOException e)
        {
            throw new TrackerException(TrackerErrorKind.InvalidResponse,
                $"The connection to the tracker broke while reading its answer: {e.Message}", e);
        }
        catch (Exception e) when (e is not TrackerException and not OperationCanceledException)
        {
            // HttpClient has other ways to fail on odd input (bad URIs in headers, protocol violations); none may escape.
            throw new TrackerException(TrackerErrorKind.Network, $"Could not talk to the tracker: {e.Message}", e);
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// <summary>
    /// Redirects are followed here rather than by the handler so the rules are ours: at most
    /// <see cref="MaxRedirects"/>, only to http or https, never from https down to http.
    /// </summary>
    private static Uri FollowRedirect(Uri from, Uri location, int redirectsSoFar)
    {
        if (redirectsSoFar >= MaxRedirects)
            throw new TrackerException(TrackerErrorKind.InvalidResponse, $"The tracker redirected more than {MaxRedirects} times.");
        var next = location.IsAbsoluteUri ? location : new Uri(from, location);
        if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
            throw new TrackerException(TrackerErrorKind.InvalidResponse,
                $"The tracker redirected to a {next.Scheme}: URL, which is not followed.");
        if (from.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
            throw new TrackerException(TrackerErrorKind.InvalidResponse, "The tracker redirected from https to plain http, which is not followed.");
        return next;
    }

    private async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContent content, int declared, CancellationToken cancellationToken)
    {
        int max = _options.MaxResponseBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(declared + 1, 4096, max + 1));
        int length = 0;
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length > max) throw TooLarge();
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    int n = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (n == 0) break;
                    length += n;
                    if (length > max) throw TooLarge();
                }
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private TrackerException TooLarge() =>
        new(TrackerErrorKind.InvalidResponse, $"The tracker's answer is larger than {_options.MaxResponseBytes / 1024} KiB.");

    /// <summary>
    /// Sends one GET, again if the connection was closed or reset before the answer began.
    /// </summary>
    /// <remarks>
    /// Connections are kept alive and shared by the torrents of a tracker, but some trackers (opentracker) close each
    /// connection after answering without saying so (no <c>Connection: close</c>): a request sent on a pooled
    /// connection as the tracker closes it finds the answer ended before it began, or the connection reset. That lost
    /// a few announces in a hundred against the Debian build (a lost "stopped" leaves us listed), more as torrents
    /// share connections. The first time it happens the request is sent again (announces and scrapes may be repeated),
    /// and from then on this tracker's requests each go on a connection of their own that is never pooled, asking for
    /// <c>Connection: close</c>; a second failure is a network error like any other. A tracker that keeps connections
    /// alive and resets one loses keep-alive for the session: a connection per request, as before sharing.
    /// </remarks>
    private async Task<HttpResponseMessage> SendAsync(Uri uri, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
            bool closes = _closesConnections;
            if (closes) request.Headers.ConnectionClose = true;
            try
            {
                return await (closes ? _notPooled.Value : _http).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (attempt == 0 && IsDroppedConnection(e))
            {
                _closesConnections = true;
                request.Dispose();
            }
        }
    }

    /// <summary>The connection closed or reset before an answer began: a pooled connection the tracker had closed.</summary>
    private static bool IsDroppedConnection(HttpRequestException e) =>
        e.HttpRequestError == HttpRequestError.ResponseEnded
        || e.GetBaseException() is SocketException { SocketErrorCode: SocketError.ConnectionReset };

    private static string DescribeNetworkError(HttpRequestException e)
    {
        Exception inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        string detail = inner switch
        {
            SocketException s => s.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData => "host not found",
                SocketError.TimedOut => "connection timed out",
                SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                _ => s.Message,
            },
            AuthenticationException a => "TLS failed: " + a.Message,
            _ => inner.Message,
        };
        return $"Could not reach the tracker: {detail}.";
    }
}
