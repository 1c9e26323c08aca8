using RTorrent.Abstractions;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// The built-in torrent source <c>rss</c>: downloads the feed over http or https (bounded by
/// <see cref="TorrentSourceContext.MaxBytes"/> and the downloader's timeout) and reads it with <see cref="FeedParser"/>.
/// It implements the same contract as a plugin's source and runs behind the same guard.
/// </summary>
public sealed class RssTorrentSourceFactory(FeedHttp? http = null) : ITorrentSourceFactory
{
    /// <summary>The registered name.</summary>
    public const string SourceName = "rss";

    private readonly Lazy<FeedHttp> _http = new(() => http ?? new FeedHttp());

    /// <inheritdoc />
    public string Name => SourceName;

    /// <inheritdoc />
    public string Version => "1.0";

    /// <inheritdoc />
    public string Description => "RSS 2.0, Atom and torznab feeds over HTTP (Jackett, Prowlarr, showRSS, EZTV...).";

    /// <inheritdoc />
    public ITorrentSource Create(TorrentSourceContext context) => new RssTorrentSource(_http.Value, context);

    private sealed class RssTorrentSource(FeedHttp http, TorrentSourceContext context) : ITorrentSource
    {
        public async ValueTask<TorrentSourceResult> ReadAsync(CancellationToken cancellationToken)
        {
            var download = await http.GetAsync(context.Address, context.MaxBytes, cancellationToken).ConfigureAwait(false);
            if (download.Body is null) throw new TorrentSourceException("the feed's address redirected to a magnet link, not a feed");
            return FeedParser.Parse(download.Body, new Uri(context.Address), context.MaxItems);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
