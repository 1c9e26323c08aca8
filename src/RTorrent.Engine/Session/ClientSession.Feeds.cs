using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Feeds;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Session;

/// <summary>Feeds (issue 18, part 5): the session runs a <see cref="FeedManager"/> that adds through its own add paths.</summary>
public sealed partial class ClientSession
{
    /// <summary>Largest .torrent a feed item may link to (as torrent-add's URL downloads).</summary>
    internal const int MaxFeedTorrentBytes = 10 * 1024 * 1024;

    private int _feedsStarted;

    /// <summary>
    /// The feeds and their download rules (docs/FEEDS.md). Created with the session; it polls only once
    /// <see cref="SessionOptions.RunFeeds"/> is set and the saved torrents were restored (<see cref="RestoreAsync"/>),
    /// so a feed never adds a torrent the restore is about to bring back.
    /// </summary>
    public FeedManager Feeds { get; private set; } = null!;

    /// <summary>
    /// What a feed's torrent gets unless its rule says otherwise: the options (save folder, picker, limits) and whether
    /// it starts. The session backend sets it from the settings in force; without it, the engine's download folder
    /// and started.
    /// </summary>
    internal Func<(TorrentOptions Options, bool Start)>? FeedAddDefaults { get; set; }

    private void CreateFeeds() =>
        Feeds = new FeedManager(new FeedManagerOptions
        {
            SessionDirectory = _options.SessionDirectory,
            Time = _options.Time,
            Logger = _loggers.CreateLogger("rtorrent.feeds"),
            Guard = _options.FeedGuard ?? RTorrent.Engine.Plugins.PluginGuardOptions.Default,
        }, name => Components.GetTorrentSource(name)?.Factory, new SessionFeedTarget(this));

    private async Task StartFeedsOnceAsync()
    {
        if (!_options.RunFeeds || _closing.IsCancellationRequested || Interlocked.Exchange(ref _feedsStarted, 1) != 0) return;
        await Feeds.StartAsync();
    }

    /// <summary>Adds what a feed rule took through the session's add paths (the .torrent link, else the magnet link).</summary>
    private sealed class SessionFeedTarget(ClientSession session) : IFeedTarget, IDisposable
    {
        private readonly Lazy<FeedHttp> _http = new(() => new FeedHttp(proxy: session._options.Engine.Proxy.ForWebSeeds));

        public async Task<string> AddAsync(FeedAddRequest request, CancellationToken cancellationToken)
        {
            var (defaults, startByDefault) = session.FeedAddDefaults?.Invoke()
                ?? (new TorrentOptions { SavePath = session._options.Engine.DefaultSavePath }, true);
            var options = FeedCategory.Apply(defaults with { SavePath = request.SavePath ?? defaults.SavePath }, request.Category, request.SavePath is not null);
            bool start = request.Paused is { } paused ? !paused : startByDefault;
            var item = request.Item;
            string? magnet = item.MagnetUri ?? (item.InfoHash is { Length: > 0 } h ? "magnet:?xt=urn:btih:" + h : null);
            Directory.CreateDirectory(options.SavePath);

            if (item.TorrentUrl is { } url)
            {
                try
                {
                    var download = await _http.Value.GetAsync(url, MaxFeedTorrentBytes, cancellationToken).ConfigureAwait(false);
                    if (download.Body is { } body)
                    {
                        TorrentMetainfo meta;
                        try
                        {
                            meta = TorrentMetainfo.Parse(body);
                        }
                        catch (TorrentFormatException e)
                        {
                            throw new TorrentSourceException($"the link is not a .torrent: {e.Message}", e);
                        }
                        if (session.Engine.Find(meta.WireHash.ToHex()) is { } known) return known.Name;
                        var added = await session.AddAsync(meta, options, start).ConfigureAwait(false);
                        return added.Name;
                    }
                    magnet = download.Magnet; // an indexer's download link redirected to a magnet link
                }
                catch (TorrentSourceException) when (magnet is not null)
                {
                    // The .torrent could not be fetched, but the item has a magnet link too: use it.
                }
            }
            if (magnet is null) throw new TorrentSourceException("the item has neither a .torrent link nor a magnet link");
            MagnetLink link;
            try
            {
                link = MagnetLink.Parse(magnet);
            }
            catch (MagnetFormatException e)
            {
                throw new TorrentSourceException($"not a usable magnet link: {e.Message}", e);
            }
            if (session.Engine.Find(link.WireHash.ToHex()) is { } existing) return existing.Name;
            var torrent = await session.AddAsync(link, options, start).ConfigureAwait(false);
            return torrent.Name;
        }

        public void Dispose()
        {
            if (_http.IsValueCreated) _http.Value.Dispose();
        }
    }
}
