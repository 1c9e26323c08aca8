using RTorrent.Engine.Proxies;
using System.Net;
using System.Net.Http.Headers;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>What a URL given to torrent-add turned out to be.</summary>
/// <param name="TorrentFile">The .torrent's bytes, or null.</param>
/// <param name="Magnet">A magnet link the URL redirected to (indexers do this), or null.</param>
internal sealed record DownloadedTorrent(byte[]? TorrentFile, string? Magnet);

/// <summary>
/// Fetches a .torrent for <c>torrent-add</c>'s <c>filename</c> URL (http or https), as Transmission does with curl:
/// the request's <c>cookies</c> sent, a few redirects followed (one to a magnet link is taken as that magnet link),
/// the body bounded in size and the whole fetch in time. Failures are Transmission's "Couldn't fetch torrent: ..."
/// refusals.
/// </summary>
internal sealed class TorrentDownloader : IDisposable
{
    /// <summary>Largest .torrent accepted (Transmission has no limit; a .torrent of 10 MiB describes a 100 TB torrent with 16 MiB pieces).</summary>
    public const int MaxBytes = 10 * 1024 * 1024;

    /// <summary>Redirects followed.</summary>
    public const int MaxRedirects = 5;

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    /// <param name="timeout">The bound on one download.</param>
    /// <param name="handler">For tests.</param>
    /// <param name="proxy">The proxy the session's HTTP goes through (docs/PROXIES.md), or null.</param>
    public TorrentDownloader(TimeSpan? timeout = null, HttpMessageHandler? handler = null, Engine.Proxies.ProxyServer? proxy = null)
    {
        _timeout = timeout ?? TimeSpan.FromSeconds(60);
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(20),
        }.Through(proxy), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("RTorrent", "1"));
    }

    /// <summary>Whether torrent-add should fetch <paramref name="filename"/> (an http or https URL).</summary>
    public static bool IsUrl(string filename) =>
        Uri.TryCreate(filename, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    /// <exception cref="RpcException">The fetch failed; the message says why.</exception>
    public async Task<DownloadedTorrent> FetchAsync(string url, string? cookies, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var uri = new Uri(url);
        try
        {
            for (int redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                if (!string.IsNullOrWhiteSpace(cookies)) request.Headers.TryAddWithoutValidation("Cookie", cookies);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (redirects >= MaxRedirects) throw Failure($"more than {MaxRedirects} redirects");
                    var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (next.Scheme == "magnet") return new DownloadedTorrent(null, next.OriginalString);
                    if (next.Scheme is not ("http" or "https")) throw Failure($"redirected to an unsupported address ({next.Scheme}:)");
                    uri = next;
                    continue;
                }
                if (status != 200) throw Failure($"{response.ReasonPhrase ?? "HTTP error"} ({status})");
                if (response.Content.Headers.ContentLength is > MaxBytes) throw Failure($"the file is larger than {MaxBytes / (1024 * 1024)} MiB");
                await using var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
                var buffer = new MemoryStream();
                var chunk = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(chunk, deadline.Token).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > MaxBytes) throw Failure($"the file is larger than {MaxBytes / (1024 * 1024)} MiB");
                    buffer.Write(chunk, 0, read);
                }
                return new DownloadedTorrent(buffer.ToArray(), null);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failure($"no answer within {_timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            throw Failure(e.InnerException?.Message ?? e.Message);
        }
        catch (IOException e)
        {
            throw Failure(e.Message);
        }
    }

    private static RpcException Failure(string why) => new($"Couldn't fetch torrent: {why}");

    public void Dispose() => _http.Dispose();
}
