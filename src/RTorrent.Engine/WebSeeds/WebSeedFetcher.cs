using System.Net;
using System.Net.Http.Headers;
using RTorrent.Engine.Client.RateLimiting;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.WebSeeds;

/// <summary>A web seed request that failed, with how (which decides the seed's backoff) and the server's Retry-After.</summary>
internal sealed class WebSeedException(WebSeedFailure kind, string message, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public WebSeedFailure Kind { get; } = kind;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// Receives a run of whole pieces into pooled 16 KiB blocks as the bytes arrive, and hands each piece on as soon as its
/// last byte is in (<see cref="PieceReady"/>), so a run holds at most one piece's blocks. Not thread-safe: one request
/// writes at a time.
/// </summary>
internal sealed class RunAssembler(IReadOnlyList<int> pieces, Func<int, int> pieceSize, Action<int, byte[]?[]> pieceReady) : IDisposable
{
    private int _index;          // which piece of the run is being filled
    private byte[]?[]? _blocks;  // its blocks
    private int _size;           // its size
    private int _filled;         // bytes of it received

    /// <summary>Pieces handed on so far.</summary>
    public int Delivered => _index;

    /// <summary>Bytes still to come for the whole run (tests).</summary>
    public bool Complete => _index >= pieces.Count;

    private void Open()
    {
        if (_blocks is not null) return;
        if (_index >= pieces.Count) throw new InvalidOperationException("the run is complete");
        _size = pieceSize(pieces[_index]);
        _blocks = new byte[]?[(_size + PieceManager.BlockSize - 1) / PieceManager.BlockSize];
        _filled = 0;
    }

    /// <summary>Room for up to <paramref name="max"/> bytes in the current block (never across a block or piece).</summary>
    public Memory<byte> Space(int max)
    {
        Open();
        int block = _filled / PieceManager.BlockSize;
        int inBlock = _filled % PieceManager.BlockSize;
        var buffer = _blocks![block] ??= BlockBuffers.Rent();
        int blockLength = Math.Min(PieceManager.BlockSize, _size - block * PieceManager.BlockSize);
        return buffer.AsMemory(inBlock, Math.Min(max, blockLength - inBlock));
    }

    /// <summary>The last <paramref name="n"/> bytes of <see cref="Space"/> are filled.</summary>
    public void Advance(int n)
    {
        _filled += n;
        if (_filled < _size) return;
        var blocks = _blocks!;
        _blocks = null;
        pieceReady(pieces[_index++], blocks);
    }

    /// <summary>Zeros (a pad file) that are not fetched.</summary>
    public void Zeros(long n)
    {
        while (n > 0)
        {
            var space = Space((int)Math.Min(n, PieceManager.BlockSize));
            space.Span.Clear();
            Advance(space.Length);
            n -= space.Length;
        }
    }

    /// <summary>Returns the blocks of a piece left half-filled (a failure) to the pool.</summary>
    public void Dispose()
    {
        if (_blocks is null) return;
        foreach (var b in _blocks) if (b is not null) BlockBuffers.Return(b);
        _blocks = null;
    }
}

/// <summary>
/// One HTTP request of a web seed, with everything a hostile or broken server could do bounded: redirects are followed
/// by hand (at most <see cref="WebSeedPolicy.MaxRedirects"/>, http and https only, a loop named as such); the answer
/// must be the range asked for (status, Content-Range and Content-Length checked before a byte is read); exactly the
/// bytes asked for are read, so an endless body costs nothing (and one without a length that goes on is an error);
/// a read that brings nothing for <see cref="WebSeedPolicy.StallTimeout"/> fails. Bytes go straight into the run's
/// pooled blocks.
/// </summary>
internal static class WebSeedFetcher
{
    /// <summary>Largest BEP 17 busy answer read (its body is the seconds to wait).</summary>
    private const int MaxBusyBody = 64;

    /// <summary>
    /// Fetches <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="url"/> (a ranged GET), or,
    /// when <paramref name="ranged"/> is false (BEP 17), the whole answer, which must be <paramref name="length"/> bytes.
    /// </summary>
    /// <param name="fileLength">The file's length by the torrent (checked against a Content-Range's total), or -1.</param>
    /// <param name="received">Called with each read's byte count (off the loop).</param>
    /// <exception cref="WebSeedException">The request failed; how is in its kind.</exception>
    public static async Task FetchAsync(HttpClient http, Uri url, long offset, long length, long fileLength, bool ranged,
        RunAssembler sink, RateLimiter? limiter, WebSeedPolicy policy, Action<int> received, CancellationToken ct)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = stall.Token;
        try
        {
            stall.CancelAfter(policy.StallTimeout);
            using var response = await SendAsync(http, url, offset, length, ranged, policy, token).ConfigureAwait(false);
            await CheckAnswerAsync(response, offset, length, fileLength, ranged, token).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            long left = length;
            while (left > 0)
            {
                var space = sink.Space((int)Math.Min(left, PieceManager.BlockSize));
                stall.CancelAfter(policy.StallTimeout);
                int n = await body.ReadAsync(space, token).ConfigureAwait(false);
                if (n == 0)
                    throw new WebSeedException(WebSeedFailure.Transient, $"the answer ended after {length - left} of {length} bytes");
                if (limiter is { IsUnlimited: false })
                {
                    // Waiting for our own rate limit is not the server stalling.
                    stall.CancelAfter(Timeout.InfiniteTimeSpan);
                    await limiter.WaitAsync(n, ct).ConfigureAwait(false);
                }
                left -= n;
                received(n);
                // Without a length the body's end is the server's word: one that goes on past the range is refused (and
                // not read further: the connection is dropped with the response), before its last piece is handed on.
                if (left == 0 && response.Content.Headers.ContentLength is null)
                {
                    var probe = new byte[1];
                    stall.CancelAfter(policy.StallTimeout);
                    if (await body.ReadAsync(probe, token).ConfigureAwait(false) > 0)
                        throw new WebSeedException(WebSeedFailure.Protocol, $"the answer goes on past the {length} bytes asked for");
                }
                sink.Advance(n);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new WebSeedException(WebSeedFailure.Transient, $"stalled: nothing for {policy.StallTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            throw new WebSeedException(WebSeedFailure.Transient, Describe(e), null, e);
        }
        catch (IOException e)
        {
            throw new WebSeedException(WebSeedFailure.Transient, e.Message, null, e);
        }
    }

    private static string Describe(HttpRequestException e) =>
        e.InnerException is { } inner && inner.Message.Length > 0 ? $"{e.Message} ({inner.Message})" : e.Message;

    /// <summary>Sends the GET and follows redirects by hand; returns the first answer that is not a redirect.</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, Uri url, long offset, long length, bool ranged,
        WebSeedPolicy policy, CancellationToken ct)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal) { url.AbsoluteUri };
        for (int redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (ranged) request.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308)) return response;
            var location = response.Headers.Location;
            response.Dispose();
            if (location is null) throw new WebSeedException(WebSeedFailure.Protocol, $"HTTP {status} redirect without a Location");
            var next = location.IsAbsoluteUri ? location : new Uri(url, location);
            if (next.Scheme is not ("http" or "https"))
                throw new WebSeedException(WebSeedFailure.Protocol, $"redirected to a {next.Scheme} URL");
            if (!visited.Add(next.AbsoluteUri)) throw new WebSeedException(WebSeedFailure.Protocol, $"redirect loop at {next}");
            if (redirects + 1 > policy.MaxRedirects)
                throw new WebSeedException(WebSeedFailure.Protocol, $"more than {policy.MaxRedirects} redirects");
            url = next;
        }
    }

    /// <summary>Checks that the answer is the bytes asked for, before reading any.</summary>
    private static async Task CheckAnswerAsync(HttpResponseMessage response, long offset, long length, long fileLength, bool ranged, CancellationToken ct)
    {
        int status = (int)response.StatusCode;
        if (status is 503 or 429 || status >= 500)
        {
            var wait = RetryAfter(response);
            if (!ranged && status == 503 && wait is null) wait = await BusySecondsAsync(response, ct).ConfigureAwait(false);
            throw new WebSeedException(WebSeedFailure.Transient, $"HTTP {status} {response.ReasonPhrase}".TrimEnd(), wait);
        }
        if (status is < 200 or >= 300)
            throw new WebSeedException(WebSeedFailure.Protocol, $"HTTP {status} {response.ReasonPhrase}".TrimEnd());
        var headers = response.Content.Headers;
        if (headers.ContentEncoding.Count > 0 && !headers.ContentEncoding.All(e => e.Equals("identity", StringComparison.OrdinalIgnoreCase)))
            throw new WebSeedException(WebSeedFailure.Protocol, $"the answer is {string.Join(", ", headers.ContentEncoding)}-encoded");
        if (ranged && status == 206)
        {
            if (headers.ContentRange is { } cr)
            {
                if (cr.From != offset || cr.To != offset + length - 1)
                    throw new WebSeedException(WebSeedFailure.Protocol, $"sent bytes {cr.From}-{cr.To}, asked for {offset}-{offset + length - 1}");
                if (fileLength >= 0 && cr.Length is long total && total != fileLength)
                    throw new WebSeedException(WebSeedFailure.Protocol, $"the file is {total} bytes on the server, {fileLength} in the torrent");
            }
        }
        else if (ranged)
        {
            // A 200 to a range request: the server ignored the range. The start of the file is still the start.
            if (status != 200 || offset != 0)
                throw new WebSeedException(WebSeedFailure.Protocol, $"the server ignores range requests (HTTP {status})");
            if (fileLength >= 0 && headers.ContentLength is long whole && whole != fileLength)
                throw new WebSeedException(WebSeedFailure.Protocol, $"the file is {whole} bytes on the server, {fileLength} in the torrent");
            return;
        }
        if (headers.ContentLength is long cl && cl != length)
            throw new WebSeedException(WebSeedFailure.Protocol, $"answered {cl} bytes for {length} asked");
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var ra = response.Headers.RetryAfter;
        if (ra?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (ra?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    /// <summary>BEP 17: a busy server's 503 body is the number of seconds to wait (read only when it says it is short).</summary>
    private static async Task<TimeSpan?> BusySecondsAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength is not (> 0 and <= MaxBusyBody)) return null;
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        return int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s)
            ? TimeSpan.FromSeconds(s) : null;
    }

    /// <summary>
    /// The engine's one HTTP client for web seeds: keep-alive, a cap on connections per server, bounded answers; through
    /// <paramref name="proxy"/> when given (docs/PROXIES.md: never falling back to a direct connection).
    /// </summary>
    public static HttpClient CreateClient(string userAgent, Proxies.ProxyServer? proxy = null) => new(Proxies.ProxyHttp.Through(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,         // followed by hand, within limits (SendAsync)
        AutomaticDecompression = DecompressionMethods.None, // ranges are of the file's bytes
        UseCookies = false,
        MaxConnectionsPerServer = 16,
        MaxResponseHeadersLength = 64,     // KiB
        MaxResponseDrainSize = 64 * 1024,  // what is left of an answer we stop reading: drained this far, else closed
        ResponseDrainTimeout = TimeSpan.FromSeconds(2),
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
    }, proxy), disposeHandler: true)
    {
        Timeout = Timeout.InfiniteTimeSpan, // each request has its own stall timeout
        DefaultRequestHeaders = { { "User-Agent", userAgent } },
        MaxResponseContentBufferSize = 1024 * 1024,
    };
}
