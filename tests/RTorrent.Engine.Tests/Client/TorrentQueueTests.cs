using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The queue's rules, first as the pure plan (<see cref="QueuePlanner"/>), then acting in an engine whose clock moves
/// only when the test says: limits, order, stalled torrents not counted, forced torrents beside the queue, a lowered
/// limit queueing the last ones, paused torrents never started.
/// </summary>
public class TorrentQueueTests
{
    // ------------------------------------------------------------------ the plan

    private static QueueEntry Auto(bool seeding = false, bool running = false, bool stalled = false) =>
        new(QueueRole.Auto, seeding, running, stalled);

    private static QueueEntry Forced(bool seeding = false, bool running = true, bool stalled = false) =>
        new(QueueRole.Forced, seeding, running, stalled);

    [Fact]
    public void Plan_gives_the_slots_to_the_front_of_the_queue_per_kind()
    {
        var plan = QueuePlanner.Plan([Auto(), Auto(seeding: true), Auto(), Auto(), Auto(seeding: true), Auto(seeding: true)],
            new QueueLimits { MaxDownloads = 2, MaxSeeds = 1 });
        Assert.Equal([true, true, true, false, false, false], plan);
    }

    [Fact]
    public void Plan_total_limit_applies_on_top_of_the_kinds()
    {
        // Downloads 2 and seeds 2 allowed, but only 3 in all: the first three in order run.
        var plan = QueuePlanner.Plan([Auto(seeding: true), Auto(), Auto(), Auto(seeding: true)],
            new QueueLimits { MaxDownloads = 2, MaxSeeds = 2, MaxActive = 3 });
        Assert.Equal([true, true, true, false], plan);
    }

    [Fact]
    public void Plan_stalled_running_torrents_keep_running_without_a_slot()
    {
        var plan = QueuePlanner.Plan([Auto(running: true, stalled: true), Auto(), Auto()], new QueueLimits { MaxDownloads = 1 });
        Assert.Equal([true, true, false], plan);
    }

    [Fact]
    public void Plan_forced_torrents_run_and_count_against_the_limits()
    {
        // libtorrent: "torrents that are not auto managed are also counted against these limits".
        var plan = QueuePlanner.Plan([Auto(running: true), Forced()], new QueueLimits { MaxDownloads = 1 });
        Assert.Equal([false, true], plan);
        // A forced torrent that is stalled runs and does not count.
        plan = QueuePlanner.Plan([Auto(), Forced(stalled: true)], new QueueLimits { MaxDownloads = 1 });
        Assert.Equal([true, true], plan);
        // A limit of 0 lets only forced torrents run.
        plan = QueuePlanner.Plan([Auto(), Forced(running: false)], new QueueLimits { MaxDownloads = 0 });
        Assert.Equal([false, true], plan);
    }

    [Fact]
    public void Plan_without_limits_runs_everything()
    {
        var plan = QueuePlanner.Plan([Auto(), Auto(seeding: true), Auto(running: true)], QueueLimits.None);
        Assert.All(plan, Assert.True);
    }

    [Fact]
    public void Limits_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueueLimits { MaxDownloads = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueueLimits { StalledAfter = TimeSpan.Zero }.Validate());
        new QueueLimits { MaxDownloads = 0, StalledAfter = TimeSpan.FromMinutes(1) }.Validate();
    }

    // ------------------------------------------------------------------ the engine

    private static readonly TimeSpan Stalled = TimeSpan.FromMinutes(30);

    private static Task<EngineHarness> StartAsync(QueueLimits limits) =>
        EngineHarness.StartAsync(new EngineConfig { Queue = limits });

    /// <summary>A torrent with no data verified: it downloads (from nobody, so no payload moves).</summary>
    private static Task<Torrent> AddDownloadAsync(EngineHarness h, bool start = true) =>
        h.Engine.AddAsync(h.NewTorrent(), new TorrentOptions { SavePath = h.Root }, start, check: false);

    /// <summary>A torrent whose data is all there: it seeds.</summary>
    private static Task<Torrent> AddCompleteAsync(EngineHarness h) =>
        h.Engine.AddAsync(h.NewTorrent(), new TorrentOptions { SavePath = h.Root });

    /// <summary>Waits (bounded) until the engine has done what a posted evaluation started.</summary>
    private static async Task WaitForAsync(EngineHarness h, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await h.Engine.Loop.InvokeAsync(condition))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for: {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Evaluates the queue now and waits for the starts and stops it makes (the limits stay as they are).</summary>
    private static Task EvaluateAsync(EngineHarness h) => h.Engine.SetQueueLimitsAsync(h.Engine.Config.Queue);

    private static TorrentState[] States(params Torrent[] torrents) => [.. torrents.Select(t => t.State)];

    [Fact]
    public async Task Started_torrents_beyond_the_download_limit_wait_queued_in_order()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 2 });
        var a = await AddDownloadAsync(h);
        var b = await AddDownloadAsync(h);
        var c = await AddDownloadAsync(h);
        Assert.Equal([TorrentState.Downloading, TorrentState.Downloading, TorrentState.Queued], States(a, b, c));
        var s = await h.SnapshotAsync(c);
        Assert.Equal(TorrentState.Queued, s.State);
        Assert.False(s.IsForced);

        // A slot frees: the first queued one takes it.
        await a.StopAsync();
        await WaitForAsync(h, () => c.State == TorrentState.Downloading, "c starts when a stops");
        Assert.Equal(TorrentState.Stopped, a.State);
    }

    [Fact]
    public async Task Seeds_count_against_the_seed_limit_and_all_against_the_total()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 5, MaxSeeds = 1, MaxActive = 2 });
        var seed1 = await AddCompleteAsync(h);
        var seed2 = await AddCompleteAsync(h);
        var down1 = await AddDownloadAsync(h);
        var down2 = await AddDownloadAsync(h);
        Assert.Equal([TorrentState.Seeding, TorrentState.Queued, TorrentState.Downloading, TorrentState.Queued],
            States(seed1, seed2, down1, down2));
        Assert.True((await h.SnapshotAsync(seed2)).Done >= (await h.SnapshotAsync(seed2)).Size); // queued for seeding (status 5)
    }

    [Fact]
    public async Task Moving_a_queued_torrent_to_the_front_starts_it_in_place_of_the_last_running_one()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 2 });
        var a = await AddDownloadAsync(h);
        var b = await AddDownloadAsync(h);
        var c = await AddDownloadAsync(h);
        await h.Engine.MoveInQueueAsync([c], QueueMove.Top);
        await WaitForAsync(h, () => c.State == TorrentState.Downloading && b.State == TorrentState.Queued, "c runs, b queued");
        Assert.Equal(TorrentState.Downloading, a.State);
        Assert.Equal([c, a, b], await h.Engine.GetQueueAsync());
    }

    [Fact]
    public async Task Lowering_a_limit_queues_the_last_running_torrents_and_raising_it_starts_them_again()
    {
        await using var h = await StartAsync(QueueLimits.None);
        var t = new List<Torrent>();
        for (int i = 0; i < 4; i++) t.Add(await AddDownloadAsync(h));
        Assert.All(t, x => Assert.Equal(TorrentState.Downloading, x.State));

        await h.Engine.SetQueueLimitsAsync(new QueueLimits { MaxDownloads = 2 });
        Assert.Equal([TorrentState.Downloading, TorrentState.Downloading, TorrentState.Queued, TorrentState.Queued], States([.. t]));
        Assert.All(t.Skip(2), x => Assert.False(x.UserPaused)); // queued, not stopped

        await h.Engine.SetQueueLimitsAsync(QueueLimits.None);
        Assert.All(t, x => Assert.Equal(TorrentState.Downloading, x.State));
    }

    [Fact]
    public async Task A_stalled_torrent_does_not_count_so_the_next_one_starts_and_counts_again_once_data_moves()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 1, StalledAfter = Stalled });
        var dead = await AddDownloadAsync(h);
        var next = await AddDownloadAsync(h);
        Assert.Equal([TorrentState.Downloading, TorrentState.Queued], States(dead, next));

        h.Time.Advance(Stalled - TimeSpan.FromSeconds(1));
        await EvaluateAsync(h);
        Assert.Equal(TorrentState.Queued, next.State); // not stalled yet
        Assert.False((await h.SnapshotAsync(dead)).IsStalled);

        // The tick's evaluation (every few seconds) sees it stalled: it keeps running, the next one starts.
        await h.TickAsync(ClientEngine.QueueIntervalSeconds);
        await WaitForAsync(h, () => next.State == TorrentState.Downloading, "next starts beside the stalled one");
        Assert.Equal(TorrentState.Downloading, dead.State);
        Assert.True((await h.SnapshotAsync(dead)).IsStalled);

        // Payload moves for the stalled one: it counts again, and the last in the queue waits again.
        await h.Engine.Loop.InvokeAsync(() => dead.Activity.OnTransfer(h.Time.GetUtcNow(), 1, 0));
        await EvaluateAsync(h);
        Assert.Equal([TorrentState.Downloading, TorrentState.Queued], States(dead, next));
        Assert.False((await h.SnapshotAsync(dead)).IsStalled);

        // Stalled again, then the limits switched off: the flag is not left standing.
        h.Time.Advance(Stalled);
        await EvaluateAsync(h);
        Assert.True((await h.SnapshotAsync(dead)).IsStalled);
        await h.Engine.SetQueueLimitsAsync(QueueLimits.None with { StalledAfter = Stalled });
        Assert.False((await h.SnapshotAsync(dead)).IsStalled);
        Assert.Equal([TorrentState.Downloading, TorrentState.Downloading], States(dead, next));
    }

    [Fact]
    public async Task A_download_that_completes_moves_to_a_seed_slot_and_frees_its_download_slot()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 1, MaxSeeds = 1 });
        var a = await AddDownloadAsync(h);
        var b = await AddDownloadAsync(h);
        Assert.Equal([TorrentState.Downloading, TorrentState.Queued], States(a, b));
        // Nothing wanted is missing once every file is skipped: the download is complete and it seeds.
        await a.SetFilePrioritiesAsync([(0, Abstractions.Priority.Skip), (1, Abstractions.Priority.Skip)]);
        Assert.Equal(TorrentState.Seeding, a.State);
        await WaitForAsync(h, () => b.State == TorrentState.Downloading, "b takes the download slot a left");

        // With no seed slot, the completed one waits to seed instead (and still frees the download slot).
        await h.Engine.SetQueueLimitsAsync(new QueueLimits { MaxDownloads = 1, MaxSeeds = 0 });
        Assert.Equal([TorrentState.Queued, TorrentState.Downloading], States(a, b));
        Assert.Equal(1, (await h.SnapshotAsync(a)).Progress);
    }

    [Fact]
    public async Task Without_the_stalled_rule_a_dead_torrent_keeps_its_slot()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 1 });
        var dead = await AddDownloadAsync(h);
        var next = await AddDownloadAsync(h);
        h.Time.Advance(TimeSpan.FromHours(5));
        await EvaluateAsync(h);
        Assert.Equal([TorrentState.Downloading, TorrentState.Queued], States(dead, next));
    }

    [Fact]
    public async Task A_forced_torrent_runs_beside_the_queue_and_start_puts_it_back_in_the_queue()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 1 });
        var a = await AddDownloadAsync(h);
        var b = await AddDownloadAsync(h);
        Assert.Equal(TorrentState.Queued, b.State);

        await b.StartNowAsync();
        Assert.Equal(TorrentState.Downloading, b.State);
        Assert.True(b.Forced);
        var s = await h.SnapshotAsync(b);
        Assert.True(s.IsForced);
        // It counts: the auto torrent behind the limit is queued (libtorrent's rule), the forced one is never queued.
        await WaitForAsync(h, () => a.State == TorrentState.Queued, "a queued behind the forced b");
        await h.Engine.SetQueueLimitsAsync(new QueueLimits { MaxDownloads = 0 });
        Assert.Equal(TorrentState.Downloading, b.State);

        // A plain start makes it an ordinary queued torrent again.
        await b.StartAsync();
        Assert.False(b.Forced);
        await WaitForAsync(h, () => b.State == TorrentState.Queued, "b back in the queue");
    }

    [Fact]
    public async Task Paused_torrents_never_count_and_are_never_started_by_the_queue()
    {
        await using var h = await StartAsync(new QueueLimits { MaxDownloads = 1 });
        var paused = await AddDownloadAsync(h);
        await paused.StopAsync();
        var added = await AddDownloadAsync(h, start: false);
        var running = await AddDownloadAsync(h);
        Assert.Equal(TorrentState.Downloading, running.State); // the paused one ahead of it takes no slot

        await h.Engine.SetQueueLimitsAsync(new QueueLimits { MaxDownloads = 10 });
        Assert.Equal([TorrentState.Stopped, TorrentState.Stopped, TorrentState.Downloading], States(paused, added, running));

        // A queued torrent stopped by the user stays stopped when a slot frees.
        await h.Engine.SetQueueLimitsAsync(new QueueLimits { MaxDownloads = 1 });
        var queued = await AddDownloadAsync(h);
        Assert.Equal(TorrentState.Queued, queued.State);
        await queued.StopAsync();
        await running.StopAsync();
        await EvaluateAsync(h);
        Assert.Equal([TorrentState.Stopped, TorrentState.Stopped, TorrentState.Stopped, TorrentState.Stopped],
            States(paused, added, running, queued));
    }

    [Fact]
    public async Task Checking_waits_for_the_check_queue_and_a_checked_torrent_then_asks_the_download_queue()
    {
        // Checks are queued on their own (EngineConfig.MaxActiveChecks, CheckQueueTests): here one at a time.
        await using var h = await EngineHarness.StartAsync(new EngineConfig { MaxActiveChecks = 1, Queue = new QueueLimits { MaxSeeds = 1 } });
        var torrents = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => AddCompleteAsync(h)));
        Assert.Equal(1, h.Engine.Checks.MostRunning);
        Assert.Equal(1, torrents.Count(t => t.State == TorrentState.Seeding));
        Assert.Equal(2, torrents.Count(t => t.State == TorrentState.Queued));
    }
}
