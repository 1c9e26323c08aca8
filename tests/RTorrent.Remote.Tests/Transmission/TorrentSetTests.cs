using RTorrent.Engine.Client;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>torrent-set: limits, peer limit, seed ratio, labels, trackers, queue position, and what it refuses.</summary>
public sealed class TorrentSetTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;
    private long _id;
    private Torrent _torrent = null!;

    public async Task InitializeAsync()
    {
        _h = await TransmissionHarness.StartAsync();
        var (path, meta, _) = await _h.MakeTorrentAsync("set.bin", tracker: "http://t1.example.com/announce");
        _id = await _h.AddAsync(path);
        _torrent = _h.Engine.Find(meta.WireHash.ToHex())!;
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private Task<Reply> SetAsync(params (string Key, object? Value)[] args) =>
        _h.CallAsync("torrent-set", Args([("ids", new[] { _id }), .. args]));

    [Fact]
    public async Task Speed_limits_are_kilobytes_of_1000_and_a_limit_switched_off_is_none()
    {
        Assert.True((await SetAsync(("downloadLimit", 50), ("downloadLimited", true), ("uploadLimit", 20), ("uploadLimited", true))).Ok);
        Assert.Equal((50_000, 20_000), (_torrent.DownloadLimit, _torrent.UploadLimit));
        var t = await _h.GetAsync(_id, "downloadLimit", "downloadLimited", "uploadLimit", "uploadLimited");
        Assert.Equal((50, true, 20, true), (t.GetProperty("downloadLimit").GetInt32(), t.GetProperty("downloadLimited").GetBoolean(),
            t.GetProperty("uploadLimit").GetInt32(), t.GetProperty("uploadLimited").GetBoolean()));
        Assert.True((await SetAsync(("downloadLimit", 80))).Ok); // changing a limit that is on
        Assert.Equal(80_000, _torrent.DownloadLimit);
        Assert.True((await SetAsync(("downloadLimited", false))).Ok);
        Assert.Equal(0, _torrent.DownloadLimit);
        t = await _h.GetAsync(_id, "downloadLimit", "downloadLimited");
        Assert.Equal((0, false), (t.GetProperty("downloadLimit").GetInt32(), t.GetProperty("downloadLimited").GetBoolean()));

        // What the engine cannot keep is refused, not dropped.
        Assert.StartsWith("downloadLimit 30: the torrent's download limit is off and RTorrent keeps no limit while it is off",
            (await SetAsync(("downloadLimit", 30))).Result);
        Assert.StartsWith("downloadLimited: the torrent has no download limit to switch on", (await SetAsync(("downloadLimited", true))).Result);
        Assert.StartsWith("uploadLimit 0: a limit of 0 kB/s would stop the upload entirely", (await SetAsync(("uploadLimit", 0), ("uploadLimited", true))).Result);
        Assert.Equal((0, 20_000), (_torrent.DownloadLimit, _torrent.UploadLimit));
        Assert.True((await SetAsync(("downloadLimit", 0), ("downloadLimited", false))).Ok); // what a client shows, sent back
    }

    [Fact]
    public async Task Super_seeding_is_set_and_shown_as_RTorrents_own_field()
    {
        Assert.False((await _h.GetAsync(_id, "superSeeding")).GetProperty("superSeeding").GetBoolean());
        Assert.True((await SetAsync(("superSeeding", true))).Ok);
        Assert.True(_torrent.SuperSeeding);
        Assert.True((await _h.GetAsync(_id, "superSeeding")).GetProperty("superSeeding").GetBoolean());
        Assert.True((await SetAsync(("superSeeding", false))).Ok);
        Assert.False(_torrent.SuperSeeding);
        Assert.False((await SetAsync(("superSeeding", "yes"))).Ok); // a wrong type refuses the call
    }

    [Fact]
    public async Task Peer_limit_seed_ratio_labels_and_queue_position_reach_the_engine()
    {
        var (other, _, _) = await _h.MakeTorrentAsync("second.bin");
        long second = await _h.AddAsync(other);
        Assert.True((await SetAsync(("peer-limit", 9), ("seedRatioLimit", 1.25), ("seedRatioMode", 1), ("labels", new[] { "b", "a", "b" }),
            ("queuePosition", 1))).Ok);
        Assert.Equal(9, _torrent.MaxConnections);
        Assert.Equal((SeedRatioMode.Custom, 1.25), (_torrent.SeedRatioMode, _torrent.SeedRatioLimit));
        Assert.Equal(["b", "a"], _torrent.Labels);
        Assert.Equal(1, _torrent.QueuePosition);
        var t = await _h.GetAsync(_id, "peer-limit", "maxConnectedPeers", "seedRatioLimit", "seedRatioMode", "labels", "queuePosition");
        Assert.Equal((9, 9, 1.25, 1, 1), (t.GetProperty("peer-limit").GetInt32(), t.GetProperty("maxConnectedPeers").GetInt32(),
            t.GetProperty("seedRatioLimit").GetDouble(), t.GetProperty("seedRatioMode").GetInt32(), t.GetProperty("queuePosition").GetInt32()));
        Assert.Equal(0, (await _h.GetAsync(second, "queuePosition")).GetProperty("queuePosition").GetInt32());

        Assert.True((await SetAsync(("seedRatioMode", 2))).Ok);
        Assert.Equal(SeedRatioMode.Unlimited, _torrent.SeedRatioMode);
        Assert.Equal("labels cannot contain comma (,) character", (await SetAsync(("labels", new[] { "x,y" }))).Result);
        Assert.Equal(["b", "a"], _torrent.Labels);
        Assert.True((await SetAsync(("labels", Array.Empty<string>()))).Ok);
        Assert.Empty(_torrent.Labels);
    }

    [Fact]
    public async Task Tracker_list_edits_and_the_deprecated_add_remove_replace_work_on_tracker_ids()
    {
        Assert.True((await SetAsync(("trackerList", "http://a.example.com/announce\nudp://b.example.com:80\n\n\nhttp://c.example.com/announce\n"))).Ok);
        Assert.Equal([["http://a.example.com/announce", "udp://b.example.com:80"], ["http://c.example.com/announce"]], _torrent.Trackers);
        var t = await _h.GetAsync(_id, "trackerList", "trackers");
        Assert.Equal("http://a.example.com/announce\nudp://b.example.com:80\n\nhttp://c.example.com/announce\n", t.GetProperty("trackerList").GetString());
        Assert.Equal([0, 0, 1], t.GetProperty("trackers").EnumerateArray().Select(x => x.GetProperty("tier").GetInt32()));
        Assert.Equal("udp://b.example.com:80", t.GetProperty("trackers")[1].GetProperty("scrape").GetString());

        Assert.True((await SetAsync(("trackerAdd", new[] { "http://d.example.com/announce" }))).Ok);
        Assert.Equal(["http://c.example.com/announce"], _torrent.Trackers[1]);
        Assert.Equal(["http://d.example.com/announce"], _torrent.Trackers[2]);
        Assert.True((await SetAsync(("trackerRemove", new[] { 1 }), ("trackerReplace", new object[] { 0, "http://z.example.com/announce" }))).Ok);
        Assert.Equal([["http://z.example.com/announce"], ["http://c.example.com/announce"], ["http://d.example.com/announce"]], _torrent.Trackers);
        Assert.StartsWith("trackerRemove: error setting announce list", (await SetAsync(("trackerRemove", new[] { 42 }))).Result);
        Assert.StartsWith("Invalid tracker list: 'ftp://x/announce' is not a usable tracker URL", (await SetAsync(("trackerList", "ftp://x/announce"))).Result);
        Assert.Equal(3, _torrent.Trackers.Count);
        Assert.True((await SetAsync(("trackerList", ""))).Ok);
        Assert.Empty(_torrent.Trackers);
    }

    [Fact]
    public async Task What_rtorrent_does_not_have_is_named_and_the_rest_applied()
    {
        var reply = await SetAsync(("bandwidthPriority", 1), ("honorsSessionLimits", false), ("peer-limit", 7));
        Assert.Contains("bandwidthPriority 1: RTorrent has no bandwidth priorities", reply.Result);
        Assert.Contains("honorsSessionLimits: a torrent always honours the session's limits", reply.Result);
        Assert.Equal(7, _torrent.MaxConnections);
        // The values RTorrent shows, sent back, are fine.
        Assert.True((await SetAsync(("bandwidthPriority", 0), ("group", ""), ("honorsSessionLimits", true), ("seedIdleMode", 0), ("seedIdleLimit", 30))).Ok);
    }

    [Fact]
    public async Task Idle_and_seeding_time_limits_and_the_minimum_are_set_and_shown()
    {
        var t = await _h.GetAsync(_id, "seedIdleLimit", "seedIdleMode", "seedingTimeLimit", "seedingTimeMode", "minSeedingTime");
        Assert.Equal((30, 0, 1440, 0, -1), (t.GetProperty("seedIdleLimit").GetInt32(), t.GetProperty("seedIdleMode").GetInt32(),
            t.GetProperty("seedingTimeLimit").GetInt32(), t.GetProperty("seedingTimeMode").GetInt32(), t.GetProperty("minSeedingTime").GetInt32()));

        Assert.True((await SetAsync(("seedIdleMode", 1))).Ok); // own limit starts from the session's, as in Transmission
        Assert.Equal((SeedRatioMode.Custom, (int?)30), (_torrent.SeedIdleMode, _torrent.SeedIdleLimit));
        Assert.True((await SetAsync(("seedIdleLimit", 60), ("seedingTimeMode", 1), ("seedingTimeLimit", 720), ("minSeedingTime", 90))).Ok);
        Assert.Equal((SeedRatioMode.Custom, (int?)60), (_torrent.SeedIdleMode, _torrent.SeedIdleLimit));
        Assert.Equal((SeedRatioMode.Custom, (int?)720, (int?)90), (_torrent.SeedingTimeMode, _torrent.SeedingTimeLimit, _torrent.MinSeedingTime));
        t = await _h.GetAsync(_id, "seedIdleLimit", "seedIdleMode", "seedingTimeLimit", "seedingTimeMode", "minSeedingTime");
        Assert.Equal((60, 1, 720, 1, 90), (t.GetProperty("seedIdleLimit").GetInt32(), t.GetProperty("seedIdleMode").GetInt32(),
            t.GetProperty("seedingTimeLimit").GetInt32(), t.GetProperty("seedingTimeMode").GetInt32(), t.GetProperty("minSeedingTime").GetInt32()));

        Assert.True((await SetAsync(("seedIdleMode", 2), ("minSeedingTime", -1))).Ok);
        Assert.Equal((SeedRatioMode.Unlimited, (int?)60, (int?)null), (_torrent.SeedIdleMode, _torrent.SeedIdleLimit, _torrent.MinSeedingTime));
        var reply = await SetAsync(("seedIdleMode", 3), ("seedingTimeLimit", 0), ("minSeedingTime", -2));
        Assert.Contains("seedIdleMode must be 0 (the session's), 1 (the torrent's own) or 2 (unlimited), not 3", reply.Result);
        Assert.Contains("seedingTimeLimit must be 1-", reply.Result);
        Assert.Contains("minSeedingTime must be -1 (the session's) or 0-", reply.Result);
        Assert.Equal(SeedRatioMode.Unlimited, _torrent.SeedIdleMode);
    }

    [Fact]
    public async Task Unknown_ids_are_named_after_the_known_ones_are_set_and_wrong_types_change_nothing()
    {
        var reply = await _h.CallAsync("torrent-set", Args(("ids", new object[] { _id, 404, "ffffffffffffffffffffffffffffffffffffffff" }), ("peer-limit", 5)));
        Assert.Equal("no torrents with id 404, 'ffffffffffffffffffffffffffffffffffffffff'", reply.Result);
        Assert.Equal(5, _torrent.MaxConnections);
        var wrong = await SetAsync(("peer-limit", 6), ("seedRatioLimit", true));
        Assert.Equal("'seedRatioLimit' must be a number; true is a boolean", wrong.Result);
        Assert.Equal(5, _torrent.MaxConnections);
        Assert.StartsWith("'ids' must list torrent ids", (await _h.CallAsync("torrent-set", Args(("ids", new object[] { true }), ("peer-limit", 6)))).Result);
    }

    [Fact]
    public async Task Priorities_of_wanted_files_round_trip_and_a_priority_for_an_unwanted_file_is_refused()
    {
        var (path, meta) = await _h.MakePaddedTorrentAsync("prio");
        long id = await _h.AddAsync(path);
        async Task<string> ReadAsync()
        {
            var t = await _h.GetAsync(id, "wanted", "priorities");
            return $"wanted {t.GetProperty("wanted").GetRawText()} priorities {t.GetProperty("priorities").GetRawText()}";
        }
        var set = (params (string, object?)[] a) => _h.CallAsync("torrent-set", Args([("ids", new[] { id }), .. a]));
        Assert.True((await set(("priority-high", Array.Empty<int>()))).Ok); // empty: every file
        Assert.Equal("wanted [1,1,1] priorities [1,1,1]", await ReadAsync());
        Assert.True((await set(("files-unwanted", new[] { 1 }), ("priority-low", new[] { 2 }))).Ok);
        Assert.Equal("wanted [1,0,1] priorities [1,0,-1]", await ReadAsync());
        // Wanted again: a file gets the normal priority (the engine kept none while it was not wanted).
        Assert.True((await set(("files-wanted", new[] { 1 }))).Ok);
        Assert.Equal("wanted [1,1,1] priorities [1,0,-1]", await ReadAsync());
        Assert.True((await set(("files-unwanted", new[] { 0 }), ("priority-normal", new[] { 0 }))).Ok); // normal is what it will get back
        var refused = await set(("priority-high", new[] { 0, 2 }));
        Assert.StartsWith("file 0 is not wanted: RTorrent keeps no priority", refused.Result);
        Assert.Equal("wanted [0,1,1] priorities [0,0,1]", await ReadAsync());
        Assert.True((await set(("files-wanted", new[] { 0 }), ("priority-high", new[] { 0 }))).Ok); // wanted in the same request
        Assert.Equal("wanted [1,1,1] priorities [1,0,1]", await ReadAsync());
        _ = meta;
    }
}
