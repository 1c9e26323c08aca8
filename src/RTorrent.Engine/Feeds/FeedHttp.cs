using RTorrent.Engine.Proxies;
using System.Net;
using System.Net.Http.Headers;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Feeds;

/// <summary>What a download of a feed or a .torrent link gave: the body, or a magnet link an indexer redirected to.</summary>
/// <param name="Body">The bytes, or null when the address redirected to a magnet link.</param>
/// <param name="Magnet">The magnet link, or null.</param>
public sealed record FeedDownload(byte[]? Body, string? Magnet);

/// <summary>
/// Downloads feeds and the .torrent files they link to: http and https only, at most <see cref="MaxRedirects"/>
/// redirects (one to a <c>magnet:</c> link is taken as that link, as indexers like Jackett and Prowlarr do), the body
/// bounded in size (checked while reading, whatever Content-Length says) and the whole download in time. Every
/// failure is a <see cref="TorrentSourceException"/> with a message for people.
/// </summary>
public sealed class FeedHttp : IDisposable
{
    /// <summary>Redirects followed.</summary>
    public const int MaxRedirects = 5;

    private readonly HttpClient _http;

    /// <summary>Creates a downloader; <paramref name="handler"/> is for tests.</summary>
    /// <param name="timeout">The bound on one whole download.</param>
    /// <param name="handler">For tests.</param>
    /// <param name="proxy">The proxy feeds and the torrents they link go through (docs/PROXIES.md), or null.</param>
    public FeedHttp(TimeSpan? timeout = null, HttpMessageHandler? handler = null, Proxies.ProxyServer? proxy = null)
    {
        Timeout = timeout ?? TimeSpan.FromSeconds(60);
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(20),
        }.Through(proxy), disposeHandler: true)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("RTorrent", "1"));
    }

    /// <summary>The bound on one whole download.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Downloads <paramref name="url"/>, refusing a body over <paramref name="maxBytes"/>.</summary>
    /// <exception cref="TorrentSourceException">The download failed; the message says why.</exception>
    public async Task<FeedDownload> GetAsync(string url, long maxBytes, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new TorrentSourceException($"not an http or https address: {url}");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            for (int redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (redirects >= MaxRedirects) throw new TorrentSourceException($"more than {MaxRedirects} redirects");
                    var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (next.Scheme == "magnet") return new FeedDownload(null, next.OriginalString);
                    if (next.Scheme is not ("http" or "https")) throw new TorrentSourceException($"redirected to an unsupported address ({next.Scheme}:)");
                    uri = next;
                    continue;
                }
                if (status != 200) throw new TorrentSourceException($"HTTP {status} {response.ReasonPhrase}".TrimEnd());
                if (response.Content.Headers.ContentLength is { } length && length > maxBytes) throw TooLarge(maxBytes);
                await using var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
                var buffer = new MemoryStream();
                var chunk = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(chunk, deadline.Token).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > maxBytes) throw TooLarge(maxBytes);
                    buffer.Write(chunk, 0, read);
                }
                return new FeedDownload(buffer.ToArray(), null);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TorrentSourceException($"no answer within {Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            throw new TorrentSourceException(e.InnerException?.Message ?? e.Message, e);
        }
        catch (IOException e)
        {
            throw new TorrentSourceException(e.Message, e);
        }
    }

    private static TorrentSourceException TooLarge(long max) =>
        new($"larger than {(max >= 1024 * 1024 ? $"{max / (1024 * 1024)} MiB" : $"{max} bytes")}, the limit");

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
