using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The snapshot fields a remote interface reads, and the rule change detection depends on: an idle torrent's
/// snapshots are equal (lists keep their instance, times do not tick), a changed torrent's are not.
/// </summary>
public class TorrentSnapshotFieldsTests
{
    [Fact]
    public async Task An_idle_torrent_gives_equal_snapshots_across_ticks_and_a_label_change_makes_them_differ()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        var first = await h.SnapshotAsync(t);
        await h.TickAsync(3);
        var second = await h.SnapshotAsync(t);

        Assert.Equal(first, second);
        Assert.Same(first.Labels, second.Labels);
        Assert.Same(first.Trackers, second.Trackers);
        Assert.Same(first.WebSeeds, second.WebSeeds);

        await t.SetLabelsAsync(["movies"]);
        var labelled = await h.SnapshotAsync(t);
        Assert.NotEqual(second, labelled);
        Assert.Equal(["movies"], labelled.Labels);

        await h.TickAsync();
        var again = await h.SnapshotAsync(t);
        Assert.Equal(labelled, again);
        Assert.Same(labelled.Labels, again.Labels);

        // Setting the same labels again is no change at all.
        await t.SetLabelsAsync([" movies "]);
        Assert.Equal(again, await h.SnapshotAsync(t));
    }

    [Fact]
    public async Task Seeding_time_is_a_total_before_plus_a_start_so_the_snapshot_does_not_tick()
    {
        await using var h = await EngineHarness.StartAsync();
        var started = h.Time.GetUtcNow();
        var t = await h.AddSeedAsync();
        var s = await h.SnapshotAsync(t);
        Assert.Equal(started, s.StartedAt);
        Assert.Equal(started, s.SeedingSince);
        Assert.Null(s.DownloadingSince);
        Assert.Equal(TimeSpan.Zero, s.SeedingTimeBefore);

        await h.TickAsync(10);
        var later = await h.SnapshotAsync(t);
        Assert.Equal(s, later);
        Assert.Equal(TimeSpan.FromSeconds(10), later.SeedingTime(h.Time.GetUtcNow()));

        await t.StopAsync();
        var stopped = await h.SnapshotAsync(t);
        Assert.Null(stopped.StartedAt);
        Assert.Null(stopped.SeedingSince);
        Assert.Equal(TimeSpan.FromSeconds(10), stopped.SeedingTimeBefore);
        await h.TickAsync(5);
        Assert.Equal(TimeSpan.FromSeconds(10), (await h.SnapshotAsync(t)).SeedingTime(h.Time.GetUtcNow()));

        await t.StartAsync();
        await h.TickAsync(4);
        var resumed = await h.SnapshotAsync(t);
        Assert.Equal(h.Time.GetUtcNow().AddSeconds(-4), resumed.StartedAt);
        Assert.Equal(TimeSpan.FromSeconds(14), resumed.SeedingTime(h.Time.GetUtcNow()));
        Assert.Equal(TimeSpan.Zero, resumed.DownloadingTime(h.Time.GetUtcNow()));
    }

    [Fact]
    public async Task Static_fields_come_from_the_metainfo_and_the_limits_in_force()
    {
        await using var h = await EngineHarness.StartAsync(new EngineConfig { MaxConnectionsPerTorrent = 42 });
        var t = await h.AddSeedAsync();
        var s = await h.SnapshotAsync(t);
        Assert.Equal([["http://127.0.0.1:1/announce"]], s.Trackers);
        Assert.Equal(t.Metainfo!.AnnounceTiers.Select(tier => tier.ToArray()), s.Trackers.Select(tier => tier.ToArray()));
        Assert.Empty(s.WebSeeds);
        Assert.Equal(1.0, s.MetadataProgress);
        Assert.Equal(42, s.MaxConnections);
        Assert.Equal(SeedRatioMode.Global, s.SeedRatioMode);
        Assert.Null(s.SeedRatioLimit);
        Assert.False(s.IsFinished);
        Assert.Equal(0, s.QueuePosition);
        Assert.Equal((0, 0), (s.PeersSendingToUs, s.PeersGettingFromUs));
        Assert.Null(s.ActivityAt);

        await t.SetMaxConnectionsAsync(7);
        Assert.Equal(7, (await h.SnapshotAsync(t)).MaxConnections);
        Assert.Equal(7, t.MaxConnections);
        await t.SetMaxConnectionsAsync(null);
        Assert.Equal(42, (await h.SnapshotAsync(t)).MaxConnections);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => t.SetMaxConnectionsAsync(0));
    }

    [Fact]
    public async Task A_magnet_reports_metadata_progress_zero_until_its_metadata_arrives()
    {
        await using var h = await EngineHarness.StartAsync();
        var meta = h.NewTorrent();
        var magnet = RTorrent.Engine.Metainfo.MagnetLink.Parse($"magnet:?xt=urn:btih:{meta.WireHash.ToHex()}&ws=http%3A%2F%2Fseed.example%2Ff");
        var t = await h.Engine.AddAsync(magnet, new TorrentOptions { SavePath = h.Root });
        var s = await h.SnapshotAsync(t);
        Assert.Equal(TorrentState.FetchingMetadata, s.State);
        Assert.Equal(0.0, s.MetadataProgress);
        Assert.Equal(["http://seed.example/f"], s.WebSeeds);
        Assert.NotNull(s.DownloadingSince); // fetching metadata counts as downloading
    }

    [Fact]
    public async Task Labels_are_trimmed_deduplicated_and_refused_when_empty_or_with_a_comma()
    {
        Assert.Equal(["a", "b c"], TorrentLabels.Normalize([" a", "b c ", "a"]));
        Assert.Same(TorrentLabels.None, TorrentLabels.Normalize([]));
        Assert.Throws<ArgumentException>(() => TorrentLabels.Normalize(["ok", "  "]));
        Assert.Throws<ArgumentException>(() => TorrentLabels.Normalize(["a,b"]));

        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync(new TorrentOptions { SavePath = "", Labels = ["x", "x", " y "] });
        Assert.Equal(["x", "y"], t.Labels);
        await Assert.ThrowsAsync<ArgumentException>(() => t.SetLabelsAsync(["bad,label"]));
        Assert.Equal(["x", "y"], t.Labels);
        await Assert.ThrowsAsync<ArgumentException>(() => h.Engine.AddAsync(h.NewTorrent(), new TorrentOptions { SavePath = h.Root, Labels = [""] }));
        Assert.Single(h.Engine.Torrents);
    }

    [Fact]
    public async Task Reannounce_asks_every_peer_source_of_a_running_torrent_and_none_of_a_stopped_one()
    {
        var counting = new CountingPeerSourceFactory();
        await using var h = await EngineHarness.StartAsync(setup: c => c.Sources.Add(counting));
        var t = await h.AddSeedAsync();
        var source = Assert.Single(counting.Created);
        await t.ReannounceAsync();
        Assert.Equal(1, source.MorePeersAsked);
        await t.StopAsync();
        await t.ReannounceAsync();
        Assert.Equal(1, source.MorePeersAsked);
    }

    [Fact]
    public async Task Trackers_are_validated_and_an_empty_list_is_allowed()
    {
        Assert.Equal([["http://a/announce"], ["udp://b:80"]],
            TrackerList.Normalize([[" http://a/announce ", ""], [], ["udp://b:80", "http://a/announce"]]));
        var e = Assert.Throws<ArgumentException>(() => TrackerList.Normalize([["wss://x/announce"]]));
        Assert.Contains("wss://x/announce", e.Message);
        Assert.Throws<ArgumentException>(() => TrackerList.Normalize([["udp://noport"]]));
        Assert.Throws<ArgumentException>(() => TrackerList.Normalize([["not a url"]]));

        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => t.SetTrackersAsync([["ftp://x/"]]));
        await t.SetTrackersAsync([]);
        Assert.Empty((await h.SnapshotAsync(t)).Trackers);
    }
}
