using System.Collections.Concurrent;
using RTorrent.Abstractions;
using RTorrent.Engine.Feeds;
using RTorrent.Engine.Plugins;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Feeds;

/// <summary>The feed manager against feeds served over loopback HTTP, on a clock that moves only when told.</summary>
public sealed class FeedManagerTests : IAsyncLifetime
{
    private readonly string _dir = TestPaths.NewTempDir("rt-feeds");
    private readonly ManualTimeProvider _time = new();
    private readonly LocalHttpServer _http = new();
    private readonly RecordingTarget _target = new();
    private readonly List<FeedManager> _managers = [];
    private readonly ConcurrentQueue<string> _reports = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var m in _managers) await m.DisposeAsync();
        await _http.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private FeedManager NewManager(string? dir = null, ITorrentSourceFactory? plugin = null, PluginGuardOptions? guard = null)
    {
        var rss = new RssTorrentSourceFactory();
        var m = new FeedManager(new FeedManagerOptions { SessionDirectory = dir, Time = _time, Guard = guard ?? PluginGuardOptions.Default, Report = (_, line) => _reports.Enqueue(line) },
            name => name == "rss" ? rss : plugin is not null && plugin.Name == name ? plugin : null, _target);
        _managers.Add(m);
        return m;
    }

    private static FeedConfig Config(string url, params FeedRule[] rules) => new()
    {
        Feeds = [new FeedDefinition { Name = "tv", Url = url }],
        Rules = rules,
    };

    /// <summary>Starts the manager and waits for the poll it makes at once.</summary>
    private static async Task StartAsync(FeedManager m)
    {
        await m.StartAsync();
        await m.Running;
    }

    [Fact]
    public async Task A_feed_is_polled_at_start_and_then_on_its_interval_not_before()
    {
        var url = _http.ServeAt("/feed.xml", FeedSamples.Torznab(_http.Root));
        var m = NewManager();
        await m.SetConfigAsync(Config(url) with { Feeds = [new FeedDefinition { Name = "tv", Url = url, IntervalMinutes = 30 }] });
        await StartAsync(m);
        Assert.Equal(1, _http.RequestsFor("/feed.xml"));
        var status = Assert.Single(m.GetSnapshot().Feeds);
        Assert.Equal(_time.GetUtcNow(), status.LastPoll);
        Assert.Equal(_time.GetUtcNow().AddMinutes(30), status.NextPoll);
        Assert.Equal("AggregateSearch", status.Title);
        Assert.Equal(2, status.Items.Count);
        Assert.All(status.Items, i => Assert.Equal(FeedItemState.New, i.State)); // no rule
        Assert.Null(status.Error);

        // The manager's timer starts a round synchronously when it fires: the same finished round means none started.
        // (Timers the guard's timeouts left behind may still fire: they do nothing.)
        var round = m.Running;
        _time.Advance(TimeSpan.FromMinutes(29));
        Assert.Same(round, m.Running);
        Assert.Equal(1, _http.RequestsFor("/feed.xml"));

        _time.Advance(TimeSpan.FromMinutes(1));
        await m.Running;
        Assert.Equal(2, _http.RequestsFor("/feed.xml"));
    }

    [Fact]
    public async Task Smart_filter_takes_an_episode_once_in_the_first_matching_item_and_a_repack_once_more()
    {
        var url = _http.ServeAt("/feed.xml", FeedSamples.Titles(_http.Root,
            "Show.Name.S01E02.1080p.WEB", "Show.Name.S01E02.720p.WEB", "Show.Name.1x03.720p", "Other.Show.S01E02.1080p"));
        var m = NewManager(_dir);
        await m.SetConfigAsync(Config(url, new FeedRule { Name = "show", MustContain = "show name", MustNotContain = "480p", SmartFilter = true, Category = "tv", SavePath = "/srv/tv", AddPaused = true }));
        await StartAsync(m);

        var added = _target.Titles();
        Assert.Equal(["Show.Name.S01E02.1080p.WEB", "Show.Name.1x03.720p"], added);
        var request = _target.Requests.First();
        Assert.Equal(("tv", "show", "tv", "/srv/tv", true), (request.Feed, request.Rule, request.Category, request.SavePath, request.Paused));
        Assert.Equal($"{_http.Root}/t/0.torrent", request.Item.TorrentUrl);
        var items = Assert.Single(m.GetSnapshot().Feeds).Items;
        Assert.Equal([FeedItemState.Added, FeedItemState.Skipped, FeedItemState.Added, FeedItemState.New], items.Select(i => i.State));
        Assert.Equal("S01E02 already taken", items[1].Message);
        Assert.Equal(["S01E02", "S01E03"], m.TakenEpisodes("show"));

        // The next poll: a better quality of a taken episode is not taken; a repack is, once.
        _http.ServeAt("/feed.xml", FeedSamples.Titles(_http.Root,
            "Show.Name.S01E02.2160p.WEB", "Show.Name.S01E02.REPACK.720p", "Show.Name.S01E02.PROPER.1080p", "Show.Name.S01E04.480p"));
        await m.RefreshAsync("tv");
        Assert.Equal(["Show.Name.S01E02.1080p.WEB", "Show.Name.1x03.720p", "Show.Name.S01E02.REPACK.720p"], _target.Titles());
        items = Assert.Single(m.GetSnapshot().Feeds).Items;
        Assert.Equal([FeedItemState.Skipped, FeedItemState.Added, FeedItemState.Skipped, FeedItemState.New], items.Select(i => i.State));

        // A poll that finds an item this run added shows it added, by its rule.
        await m.RefreshAsync("tv");
        Assert.Equal(("show", FeedItemState.Added), (Assert.Single(m.GetSnapshot().Feeds).Items[1].Rule, Assert.Single(m.GetSnapshot().Feeds).Items[1].State));
    }

    [Fact]
    public async Task History_survives_a_restart_so_nothing_is_added_twice()
    {
        var url = _http.ServeAt("/feed.xml", FeedSamples.Titles(_http.Root, "Show.Name.S01E02.1080p", "Show.Name.S01E03.1080p"));
        var first = NewManager(_dir);
        await first.SetConfigAsync(Config(url, new FeedRule { Name = "show", MustContain = "show name", SmartFilter = true }));
        await StartAsync(first);
        Assert.Equal(2, _target.Requests.Count);
        await first.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(_dir, FeedHistory.FileName)));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));

        // A new run reads feeds.json and the history: the same items, and a new quality of a taken episode, are not added.
        _http.ServeAt("/feed.xml", FeedSamples.Titles(_http.Root, "Show.Name.S01E02.1080p", "Show.Name.S01E03.1080p", "Show.Name.S01E03.720p", "Show.Name.S01E04.1080p"));
        var second = NewManager(_dir);
        await StartAsync(second);
        Assert.Equal(2, _http.RequestsFor("/feed.xml"));
        Assert.Equal(["Show.Name.S01E02.1080p", "Show.Name.S01E03.1080p", "Show.Name.S01E04.1080p"], _target.Titles());
        Assert.Equal([FeedItemState.Taken, FeedItemState.Taken, FeedItemState.Skipped, FeedItemState.Added],
            Assert.Single(second.GetSnapshot().Feeds).Items.Select(i => i.State));
    }

    [Fact]
    public async Task A_failed_add_is_shown_and_tried_again_at_the_next_poll()
    {
        var url = _http.ServeAt("/feed.xml", FeedSamples.Titles(_http.Root, "Show.Name.S01E02.1080p"));
        var m = NewManager(_dir);
        await m.SetConfigAsync(Config(url, new FeedRule { Name = "all", SmartFilter = true }));
        _target.FailNext = "Couldn't fetch torrent: HTTP 404";
        await StartAsync(m);
        var item = Assert.Single(Assert.Single(m.GetSnapshot().Feeds).Items);
        Assert.Equal(FeedItemState.Failed, item.State);
        Assert.Contains("404", item.Message);
        Assert.Empty(m.TakenEpisodes("all"));

        await m.RefreshAsync();
        Assert.Equal(FeedItemState.Added, Assert.Single(Assert.Single(m.GetSnapshot().Feeds).Items).State);
    }

    [Fact]
    public async Task Only_rules_for_the_feed_apply_and_the_first_rule_that_matches_wins()
    {
        var url = _http.ServeAt("/feed.xml", FeedSamples.Titles(_http.Root, "Show.Name.S01E02.1080p", "Linux.iso"));
        var m = NewManager();
        await m.SetConfigAsync(new FeedConfig
        {
            Feeds = [new FeedDefinition { Name = "tv", Url = url }, new FeedDefinition { Name = "other", Url = url + "?x", Enabled = false }],
            Rules =
            [
                new FeedRule { Name = "for-other", Feeds = ["other"] },
                new FeedRule { Name = "disabled", Enabled = false },
                new FeedRule { Name = "regex", MustContain = @"^Show\.Name\.S\d+E\d+\.1080p$", UseRegex = true, Category = "hd" },
                new FeedRule { Name = "rest", MustNotContain = "iso" },
            ],
        });
        await StartAsync(m);
        var items = m.GetSnapshot().Feeds[0].Items;
        Assert.Equal(("regex", FeedItemState.Added), (items[0].Rule, items[0].State));
        Assert.Equal(FeedItemState.New, items[1].State);
        Assert.Equal(0, _http.RequestsFor("/feed.xml") - 1); // the disabled feed is never polled
    }

    [Fact]
    public async Task A_huge_feed_gets_a_clear_error_and_the_feed_stays_scheduled()
    {
        _http.ServeAt("/huge.xml", new byte[9 * 1024 * 1024]);
        var m = NewManager();
        await m.SetConfigAsync(Config(_http.Root + "/huge.xml"));
        await StartAsync(m);
        var status = Assert.Single(m.GetSnapshot().Feeds);
        Assert.Equal("larger than 8 MiB, the limit", status.Error);
        Assert.NotNull(status.NextPoll);
    }

    [Theory]
    [InlineData("<rss><channel><item><title>x</title></item>", "malformed XML")]
    [InlineData("<!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><rss>&b;</rss>", "DTD")]
    [InlineData("<html><body>login required</body></html>", "not an RSS or Atom feed")]
    public async Task Hostile_or_broken_feeds_get_a_clear_error(string body, string expected)
    {
        var url = _http.ServeAt("/bad.xml", body);
        var m = NewManager();
        await m.SetConfigAsync(Config(url, new FeedRule { Name = "all" }));
        await StartAsync(m);
        var status = Assert.Single(m.GetSnapshot().Feeds);
        Assert.Contains(expected, status.Error);
        Assert.Empty(_target.Requests);
    }

    [Fact]
    public async Task An_http_error_is_the_feeds_error_and_a_later_good_poll_clears_it()
    {
        var url = _http.ServeAt("/feed.xml", "gone", status: 503);
        var m = NewManager();
        await m.SetConfigAsync(Config(url));
        await StartAsync(m);
        Assert.Equal("HTTP 503 Service Unavailable", m.GetSnapshot().Feeds[0].Error);
        _http.ServeAt("/feed.xml", FeedSamples.Atom);
        _time.Advance(TimeSpan.FromMinutes(30));
        await m.Running;
        Assert.Null(m.GetSnapshot().Feeds[0].Error);
        Assert.Equal("Releases", m.GetSnapshot().Feeds[0].Title);
    }

    [Fact]
    public async Task Feeds_json_edited_by_hand_is_picked_up_live_and_a_bad_edit_keeps_the_previous_config()
    {
        var url = _http.ServeAt("/feed.xml", FeedSamples.ShowRss);
        var m = NewManager(_dir);
        await StartAsync(m);
        Assert.Empty(m.GetSnapshot().Feeds);

        await File.WriteAllBytesAsync(Path.Combine(_dir, FeedConfig.FileName), Config(url, new FeedRule { Name = "all" }).Serialize());
        File.SetLastWriteTimeUtc(Path.Combine(_dir, FeedConfig.FileName), DateTime.UtcNow.AddSeconds(5)); // a distinct stamp
        _time.Advance(TimeSpan.FromMinutes(1));
        await m.Running;
        Assert.Equal("showRSS: feed for someone", Assert.Single(m.GetSnapshot().Feeds).Title);
        Assert.Single(_target.Requests);

        await File.WriteAllTextAsync(Path.Combine(_dir, FeedConfig.FileName), "{ \"feeds\": [ { \"name\": \"x\", \"url\": \"ftp://nope\" } ] }");
        File.SetLastWriteTimeUtc(Path.Combine(_dir, FeedConfig.FileName), DateTime.UtcNow.AddSeconds(10));
        _time.Advance(TimeSpan.FromMinutes(1));
        await m.Running;
        var snapshot = m.GetSnapshot();
        Assert.Contains("url must be an http or https address", snapshot.ConfigError);
        Assert.Contains(_reports, r => r.Contains("the previous feeds and rules stay in force"));
        Assert.Equal("tv", Assert.Single(snapshot.Feeds).Definition.Name);
    }

    [Fact]
    public async Task An_invalid_configuration_is_refused_with_every_reason()
    {
        var m = NewManager(_dir);
        var e = await Assert.ThrowsAsync<FormatException>(() => m.SetConfigAsync(new FeedConfig
        {
            Feeds = [new FeedDefinition { Name = "a", Url = "https://x/", IntervalMinutes = 0 }, new FeedDefinition { Name = "A", Url = "https://y/" }],
            Rules = [new FeedRule { Name = "r", Feeds = ["missing"], MustContain = "(", UseRegex = true, SavePath = "relative", Category = "a,b" }],
        }));
        foreach (var part in new[] { "intervalMinutes must be 1 to 10080", "the name is used twice", "no feed is named 'missing'", "not a valid regular expression", "savePath must be an absolute path", "category" })
            Assert.Contains(part, e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, FeedConfig.FileName)));
    }

    [Fact]
    public async Task A_plugin_source_that_throws_is_disabled_for_its_feed_and_one_that_reports_a_failure_is_not()
    {
        var plugin = new ScriptedSource("scripted");
        var m = NewManager(plugin: plugin);
        await m.SetConfigAsync(new FeedConfig
        {
            Feeds = [new FeedDefinition { Name = "p", Url = "anything the plugin reads", Source = "scripted" }],
            Rules = [new FeedRule { Name = "all" }],
        });
        plugin.Next = () => throw new TorrentSourceException("the mailbox is locked");
        await StartAsync(m);
        Assert.Equal("the mailbox is locked", m.GetSnapshot().Feeds[0].Error);

        plugin.Next = () => new TorrentSourceResult
        {
            Items =
            [
                new TorrentSourceItem { Id = "1", Title = "Good", MagnetUri = "magnet:?xt=urn:btih:" + FeedSamples.HashA },
                new TorrentSourceItem { Id = "2", Title = "No link" },
                new TorrentSourceItem { Id = "3", Title = "Bad scheme", TorrentUrl = "file:///etc/passwd" },
                new TorrentSourceItem { Id = "", Title = "No id", InfoHash = FeedSamples.HashB },
            ],
        };
        await m.RefreshAsync("p");
        Assert.Null(m.GetSnapshot().Feeds[0].Error);
        Assert.Equal(["Good"], _target.Titles()); // the malformed items were dropped by the guard

        plugin.Next = () => throw new InvalidOperationException("bug");
        await m.RefreshAsync("p");
        Assert.Contains("ReadAsync threw InvalidOperationException: bug", m.GetSnapshot().Feeds[0].Error);
        int reads = plugin.Reads;
        await m.RefreshAsync("p");
        Assert.Equal(reads, plugin.Reads); // disabled: not called again
        Assert.Contains("ReadAsync threw InvalidOperationException", m.GetSnapshot().Feeds[0].Error);

        // Editing the feed gives it a fresh source.
        plugin.Next = () => new TorrentSourceResult { Items = [] };
        await m.SetConfigAsync(m.Config with { Feeds = [m.Config.Feeds[0] with { Url = "another address" }] });
        await m.RefreshAsync("p");
        Assert.Null(m.GetSnapshot().Feeds[0].Error);
    }

    [Fact]
    public async Task A_source_that_hangs_is_abandoned_after_the_timeout()
    {
        var plugin = new ScriptedSource("hangs") { Hang = true };
        var m = NewManager(plugin: plugin, guard: new PluginGuardOptions { TorrentSourceReadTimeout = TimeSpan.FromMilliseconds(100) });
        await m.SetConfigAsync(new FeedConfig { Feeds = [new FeedDefinition { Name = "p", Url = "x", Source = "hangs" }] });
        await m.StartAsync();
        // The guard waits on the manager's clock: move it until the round gives up.
        var running = m.Running;
        while (!running.IsCompleted)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(running, Task.Delay(10));
        }
        Assert.Contains("did not finish within 100 ms", m.GetSnapshot().Feeds[0].Error);
    }

    [Fact]
    public async Task An_unknown_source_is_the_feeds_error()
    {
        var m = NewManager();
        await m.SetConfigAsync(new FeedConfig { Feeds = [new FeedDefinition { Name = "p", Url = "x", Source = "nobody" }] });
        await StartAsync(m);
        Assert.Contains("no torrent source is named 'nobody'", m.GetSnapshot().Feeds[0].Error);
    }

    private sealed class RecordingTarget : IFeedTarget
    {
        public ConcurrentQueue<FeedAddRequest> Requests { get; } = new();
        public string? FailNext { get; set; }

        public string[] Titles() => [.. Requests.Select(r => r.Item.Title)];

        public Task<string> AddAsync(FeedAddRequest request, CancellationToken cancellationToken)
        {
            if (FailNext is { } fail)
            {
                FailNext = null;
                throw new TorrentSourceException(fail);
            }
            Requests.Enqueue(request);
            return Task.FromResult(request.Item.Title);
        }
    }

    private sealed class ScriptedSource(string name) : ITorrentSourceFactory, ITorrentSource
    {
        public Func<TorrentSourceResult> Next { get; set; } = () => new TorrentSourceResult { Items = [] };
        public bool Hang { get; init; }
        public int Reads;
        public string Name => name;
        public string Version => "1";
        public string Description => "test";
        public ITorrentSource Create(TorrentSourceContext context) => this;

        public async ValueTask<TorrentSourceResult> ReadAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Reads);
            if (Hang) await Task.Delay(Timeout.Infinite, CancellationToken.None);
            return Next();
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
