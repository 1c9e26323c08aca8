using System.Globalization;
using System.Text.Json;
using RTorrent.Abstractions;

namespace RTorrent.Plugins.JsonFeed;

/// <summary>
/// Creates one <see cref="JsonFeedSource"/> per feed. The HTTP client is shared by all feeds and made on first use
/// (never in <see cref="IRTorrentPlugin.Register"/>: the host may create and drop a plugin without using it).
/// </summary>
public sealed class JsonFeedSourceFactory(JsonFeedOptions options) : ITorrentSourceFactory
{
    private readonly Lazy<HttpClient> _http = new(() => new HttpClient(new SocketsHttpHandler
    {
        MaxAutomaticRedirections = 5,
        AutomaticDecompression = System.Net.DecompressionMethods.All,
    }) { Timeout = options.Timeout });

    /// <inheritdoc />
    public string Name => "jsonfeed";

    /// <inheritdoc />
    public string Version => "1.0.0";

    /// <inheritdoc />
    public string Description => "JSON Feed (jsonfeed.org) feeds whose items attach a .torrent or a magnet link.";

    /// <inheritdoc />
    public ITorrentSource Create(TorrentSourceContext context) => new JsonFeedSource(_http.Value, context);
}

/// <summary>Reads one JSON Feed.</summary>
/// <remarks>
/// What a source must do, shown here: honour the token, stay within <see cref="TorrentSourceContext.MaxBytes"/> and
/// <see cref="TorrentSourceContext.MaxItems"/>, and throw <see cref="TorrentSourceException"/> with a message for
/// people when the feed cannot be read (any other exception disables the source for the feed).
/// </remarks>
public sealed class JsonFeedSource(HttpClient http, TorrentSourceContext context) : ITorrentSource
{
    /// <inheritdoc />
    public async ValueTask<TorrentSourceResult> ReadAsync(CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            using var response = await http.GetAsync(context.Address, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw new TorrentSourceException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd());
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > context.MaxBytes) throw new TorrentSourceException($"the feed is larger than {context.MaxBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            body = buffer.ToArray();
        }
        catch (HttpRequestException e)
        {
            throw new TorrentSourceException(e.InnerException?.Message ?? e.Message, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TorrentSourceException("the server did not answer in time", e);
        }
        catch (InvalidOperationException e)
        {
            throw new TorrentSourceException($"not an address this source can read: {context.Address}", e); // relative or odd URLs
        }
        return Parse(body, context.MaxItems);
    }

    /// <summary>Reads a JSON Feed document.</summary>
    /// <exception cref="TorrentSourceException">Not JSON, or not a JSON Feed.</exception>
    public static TorrentSourceResult Parse(ReadOnlyMemory<byte> body, int maxItems)
    {
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out var version)
                || version.ValueKind != JsonValueKind.String || !version.GetString()!.StartsWith("https://jsonfeed.org/version/", StringComparison.Ordinal))
                throw new TorrentSourceException("not a JSON Feed: no \"version\": \"https://jsonfeed.org/version/1.1\"");
            var items = new List<TorrentSourceItem>();
            if (root.TryGetProperty("items", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in list.EnumerateArray())
                {
                    if (items.Count >= maxItems) break;
                    if (Item(item) is { } parsed) items.Add(parsed);
                }
            }
            return new TorrentSourceResult { Title = String(root, "title"), Items = items };
        }
        catch (JsonException e)
        {
            throw new TorrentSourceException($"not a JSON Feed: {e.Message}", e);
        }
    }

    private static TorrentSourceItem? Item(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object) return null;
        string? title = String(item, "title");
        string? id = String(item, "id");
        string? torrent = null, magnet = null;
        long? size = null;
        if (item.TryGetProperty("attachments", out var attachments) && attachments.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in attachments.EnumerateArray())
            {
                if (a.ValueKind != JsonValueKind.Object || String(a, "url") is not { } url) continue;
                if (url.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)) magnet ??= url;
                else if (String(a, "mime_type") == "application/x-bittorrent")
                {
                    torrent ??= url;
                    if (a.TryGetProperty("size_in_bytes", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var n)) size ??= n;
                }
            }
        }
        if (String(item, "url") is { } link && link.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)) magnet ??= link;
        if (title is null || id is null || (torrent is null && magnet is null)) return null;
        return new TorrentSourceItem
        {
            Id = id,
            Title = title,
            TorrentUrl = torrent,
            MagnetUri = magnet,
            Size = size,
            Published = String(item, "date_published") is { } d
                && DateTimeOffset.TryParse(d, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when : null,
        };
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString()) ? v.GetString() : null;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
