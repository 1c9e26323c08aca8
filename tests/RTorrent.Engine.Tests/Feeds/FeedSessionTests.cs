using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Feeds;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Feeds;

/// <summary>
/// A session with feeds: a rule's .torrent link and magnet link go through the session's add paths, with the rule's
/// category, folder and paused state; reopening the session adds nothing again.
/// </summary>
public sealed class FeedSessionTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDir("rt-feed-session");
    private readonly LocalHttpServer _http = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _http.DisposeAsync();
        Directory.Delete(_root, true);
    }

    private Task<ClientSession> OpenAsync(string sessionDir) => ClientSession.OpenAsync(new SessionOptions
    {
        SessionDirectory = sessionDir,
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, ListenPort = 0, DefaultSavePath = Path.Combine(_root, "downloads") },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex", "lsd"],
        RunFeeds = true,
    });

    /// <summary>Restores (which starts the feeds) and waits for the first poll of every feed.</summary>
    private static async Task RestoreAndPollAsync(ClientSession session, int feeds)
    {
        int polled = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Feeds.Polled += _ => { if (Interlocked.Increment(ref polled) == feeds) done.TrySetResult(); };
        await session.RestoreAsync();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Rules_add_torrent_links_and_magnets_through_the_session_once_across_restarts()
    {
        var meta = TestTorrents.CreateMultiFile(Path.Combine(_root, "made"), "Show.Name.S01E05.1080p", 16 * 1024, 20_000);
        _http.ServeAt("/dl/5.torrent", meta.ToTorrentFile().ToArray());
        var feedUrl = _http.ServeAt("/feed.xml", FeedSamples.Titles(_http.Root, "Show.Name.S01E05.1080p") .Replace("/t/0.torrent", "/dl/5.torrent"));
        var magnetFeed = _http.ServeAt("/showrss.xml", FeedSamples.ShowRss);
        string sessionDir = Path.Combine(_root, "session");
        Directory.CreateDirectory(sessionDir);
        var tvFolder = Path.Combine(_root, "tv");
        await new FeedConfig
        {
            Feeds = [new FeedDefinition { Name = "indexer", Url = feedUrl }, new FeedDefinition { Name = "showrss", Url = magnetFeed }],
            Rules = [new FeedRule { Name = "show", MustContain = "show name", SmartFilter = true, Category = "tv", SavePath = tvFolder, AddPaused = true }],
        }.SaveAsync(sessionDir);

        await using (var session = await OpenAsync(sessionDir))
        {
            await RestoreAndPollAsync(session, feeds: 2);
            Assert.Equal(2, session.Engine.Torrents.Count);
            var fromLink = session.Engine.Find(meta.WireHash.ToHex())!;
            Assert.Equal(tvFolder, fromLink.SavePath); // the rule's own folder wins over the category's
            Assert.Equal("tv", fromLink.Category);
            Assert.Equal(TorrentState.Stopped, fromLink.State);
            var fromMagnet = session.Engine.Find(FeedSamples.HashA)!;
            Assert.Equal("tv", fromMagnet.Category);
            var items = session.Feeds.GetSnapshot().Feeds.SelectMany(f => f.Items).ToList();
            Assert.All(items, i => Assert.Equal(FeedItemState.Added, i.State));
        }

        await using (var again = await OpenAsync(sessionDir))
        {
            await RestoreAndPollAsync(again, feeds: 2);
            // The .torrent's torrent is restored, not added again. (A magnet whose metadata never came is not kept in the
            // session at all today, feeds or not; the history still keeps the feed from adding it again.)
            Assert.NotNull(again.Engine.Find(meta.WireHash.ToHex()));
            Assert.Null(again.Engine.Find(FeedSamples.HashA));
            var items = again.Feeds.GetSnapshot().Feeds.SelectMany(f => f.Items).ToList();
            Assert.All(items, i => Assert.Equal(FeedItemState.Taken, i.State));
        }
        Assert.Equal(1, _http.RequestsFor("/dl/5.torrent"));
    }

    [Fact]
    public async Task A_link_that_is_not_a_torrent_fails_visibly_and_a_magnet_beside_it_is_used()
    {
        _http.ServeAt("/dl/page", "<html>login</html>");
        var feed = "<rss><channel><title>t</title>" +
                   $"<item><title>Broken</title><guid>1</guid><enclosure url=\"{_http.Root}/dl/page\" type=\"application/x-bittorrent\"/></item>" +
                   $"<item><title>Fallback</title><guid>2</guid><link>{_http.Root}/dl/missing.torrent</link><torznab:attr xmlns:torznab=\"{FeedParser.TorznabNamespace}\" name=\"infohash\" value=\"{FeedSamples.HashB}\"/></item>" +
                   "</channel></rss>";
        var url = _http.ServeAt("/feed.xml", feed);
        _http.ServeAt("/dl/missing.torrent", "no", status: 404);
        string sessionDir = Path.Combine(_root, "session2");
        Directory.CreateDirectory(sessionDir);
        await new FeedConfig { Feeds = [new FeedDefinition { Name = "f", Url = url }], Rules = [new FeedRule { Name = "all" }] }.SaveAsync(sessionDir);

        await using var session = await OpenAsync(sessionDir);
        await RestoreAndPollAsync(session, feeds: 1);
        var items = session.Feeds.GetSnapshot().Feeds[0].Items;
        Assert.Equal(FeedItemState.Failed, items[0].State);
        Assert.Contains("not a .torrent", items[0].Message);
        Assert.Equal(FeedItemState.Added, items[1].State);
        Assert.NotNull(session.Engine.Find(FeedSamples.HashB));
        Assert.Contains(session.Log, l => l.Message.Contains("could not add Broken"));
    }
}
