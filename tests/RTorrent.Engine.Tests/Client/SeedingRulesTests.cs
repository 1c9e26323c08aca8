using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The seeding rules beside the ratio: the idle limit, the seeding time limit, the minimum seeding time that holds every
/// rule back, and the action (stop, remove, remove with data). Time moves only by the manual clock; a seed without
/// peers is not ticked, so these also show that it is woken when its limit comes.
/// </summary>
public class SeedingRulesTests
{
    private const long Size = 50_000;

    private static async Task AdvanceAsync(EngineHarness h, TimeSpan by)
    {
        h.Time.Advance(by);
        await h.Engine.Loop.InvokeAsync(() => { });
        await h.Engine.Loop.InvokeAsync(() => { }); // the stop the tick posted has run too
    }

    private static Task MinutesAsync(EngineHarness h, double minutes) => AdvanceAsync(h, TimeSpan.FromMinutes(minutes));

    private static EngineConfig Rules(SeedingRules rules, double? ratio = null) => new() { SeedingRules = rules, SeedRatioLimit = ratio };

    private static async Task<bool> LogHasAsync(EngineHarness h, Torrent t, string text) =>
        (await h.Engine.GetDetailsAsync(t)).Log.Any(l => l.Message.Contains(text));

    [Fact]
    public async Task A_seed_that_uploaded_nothing_for_the_idle_limit_stops_with_a_note_and_stays_stopped()
    {
        await using var h = await EngineHarness.StartAsync(Rules(new SeedingRules { IdleLimitMinutes = 10 }));
        var t = await h.AddSeedAsync();
        await MinutesAsync(h, 9.9);
        Assert.Equal(TorrentState.Seeding, t.State);
        await MinutesAsync(h, 0.2);
        var s = await h.SnapshotAsync(t);
        Assert.Equal(TorrentState.Stopped, s.State);
        Assert.Equal("seed idle limit reached", s.Error);
        Assert.True(s.IsFinished); // as Transmission's finishedSeedingByIdle
        Assert.True(t.UserPaused); // the queue does not start it again
        Assert.True(await LogHasAsync(h, t, "seed idle limit reached (10 min); stopping"));
        await h.TickAsync(3);
        Assert.Equal(TorrentState.Stopped, t.State);
    }

    [Fact]
    public async Task Upload_moves_the_idle_limit_on()
    {
        await using var h = await EngineHarness.StartAsync(Rules(new SeedingRules { IdleLimitMinutes = 10 }));
        var t = await h.AddSeedAsync();
        await MinutesAsync(h, 6);
        await h.Engine.Loop.InvokeAsync(() =>
        {
            // A peer took bytes now (seen as a change of this run's totals; then back to the torrent's real totals, at the same moment).
            t.Activity.OnTransfer(h.Time.GetUtcNow(), 0, 1000);
            t.Activity.OnTransfer(h.Time.GetUtcNow(), 0, 0);
        });
        await MinutesAsync(h, 6); // 12 minutes seeding, 6 idle
        Assert.Equal(TorrentState.Seeding, t.State);
        await MinutesAsync(h, 4.1);
        Assert.Equal(TorrentState.Stopped, t.State);
    }

    [Fact]
    public async Task Idle_modes_own_limit_and_unlimited_override_the_session_and_change_at_the_next_tick()
    {
        await using var h = await EngineHarness.StartAsync(Rules(new SeedingRules { IdleLimitMinutes = 60 }));
        var own = await h.AddSeedAsync(new TorrentOptions { SavePath = "", SeedIdleMode = SeedRatioMode.Custom, SeedIdleLimit = 5 });
        var none = await h.AddSeedAsync(new TorrentOptions { SavePath = "", SeedIdleMode = SeedRatioMode.Unlimited });
        var global = await h.AddSeedAsync();
        await MinutesAsync(h, 5.1);
        Assert.Equal(TorrentState.Stopped, own.State);
        Assert.Equal(TorrentState.Seeding, global.State);
        await MinutesAsync(h, 55);
        Assert.Equal(TorrentState.Stopped, global.State);
        Assert.Equal(TorrentState.Seeding, none.State);

        await none.SetSeedIdleAsync(SeedRatioMode.Custom, 70);
        Assert.Equal((SeedRatioMode.Custom, (int?)70), (none.SeedIdleMode, none.SeedIdleLimit));
        await MinutesAsync(h, 9.8);
        Assert.Equal(TorrentState.Seeding, none.State);
        await MinutesAsync(h, 0.3);
        Assert.Equal(TorrentState.Stopped, none.State);
    }

    [Fact]
    public async Task The_seeding_time_limit_counts_seeding_across_stops_and_the_sessions_rules_change_live()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        var own = await h.AddSeedAsync(new TorrentOptions { SavePath = "", SeedingTimeMode = SeedRatioMode.Custom, SeedingTimeLimit = 30 });
        await MinutesAsync(h, 20);
        await t.StopAsync();
        await MinutesAsync(h, 100); // stopped: does not count
        await t.StartAsync();
        Assert.Equal(TorrentState.Stopped, own.State);
        Assert.Equal("seeding time limit reached", (await h.SnapshotAsync(own)).Error);

        await h.Engine.SetSeedingRulesAsync(new SeedingRules { SeedingTimeLimitMinutes = 60 });
        await MinutesAsync(h, 39.9);
        Assert.Equal(TorrentState.Seeding, t.State);
        await MinutesAsync(h, 0.2);
        Assert.Equal(TorrentState.Stopped, t.State);
        Assert.True(await LogHasAsync(h, t, "seeding time limit reached (60 min); stopping"));

        // Started by hand it seeds on without a time limit (as a finished torrent does with its ratio).
        Assert.True((await h.SnapshotAsync(t)).IsFinished);
        await t.StartAsync();
        await MinutesAsync(h, 10);
        Assert.Equal(TorrentState.Seeding, t.State);
        Assert.False((await h.SnapshotAsync(t)).IsFinished);
        Assert.Equal(SeedRatioMode.Unlimited, t.SeedingTimeMode);
    }

    [Fact]
    public async Task The_minimum_seeding_time_holds_back_the_ratio_idle_and_time_limits()
    {
        await using var h = await EngineHarness.StartAsync(Rules(new SeedingRules { IdleLimitMinutes = 5, MinSeedingTimeMinutes = 30 }, ratio: 1.0));
        var ratio = await h.AddSeedAsync(new TorrentOptions { SavePath = "", SeedIdleMode = SeedRatioMode.Unlimited });
        var idle = await h.AddSeedAsync();
        var time = await h.AddSeedAsync(new TorrentOptions
        {
            SavePath = "", SeedIdleMode = SeedRatioMode.Unlimited, SeedingTimeMode = SeedRatioMode.Custom, SeedingTimeLimit = 10,
        });
        var ownMinimum = await h.AddSeedAsync(new TorrentOptions { SavePath = "", MinSeedingTime = 8 });
        await h.Engine.Loop.InvokeAsync(() => ratio.UploadedBefore = 2 * Size);
        await h.TickAsync();
        await MinutesAsync(h, 8.1);
        Assert.Equal(TorrentState.Stopped, ownMinimum.State); // idle since 5 min, held until its own 8
        await MinutesAsync(h, 21.5); // 29.6 minutes
        Assert.Equal([TorrentState.Seeding, TorrentState.Seeding, TorrentState.Seeding], new[] { ratio.State, idle.State, time.State });
        await MinutesAsync(h, 0.5);
        var snaps = (await h.Engine.GetSnapshotAsync()).Torrents;
        string? Note(Torrent t) => snaps.Single(s => s.Id == t.InfoHash.ToHex()).Error;
        Assert.Equal("seed ratio limit reached", Note(ratio));
        Assert.Equal("seed idle limit reached", Note(idle));
        Assert.Equal("seeding time limit reached", Note(time));
        Assert.All(new[] { ratio, idle, time }, t => Assert.Equal(TorrentState.Stopped, t.State));
    }

    [Theory]
    [InlineData(SeedingLimitAction.Remove)]
    [InlineData(SeedingLimitAction.RemoveWithData)]
    public async Task A_remove_action_removes_the_torrent_and_deletes_its_data_only_when_asked(SeedingLimitAction action)
    {
        await using var h = await EngineHarness.StartAsync(Rules(new SeedingRules { IdleLimitMinutes = 1, Action = action }));
        var t = await h.AddSeedAsync();
        var keep = await h.AddSeedAsync(new TorrentOptions { SavePath = "", SeedIdleMode = SeedRatioMode.Unlimited });
        string folder = Path.Combine(h.Root, t.Name);
        Assert.Equal(2, Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Length);
        await MinutesAsync(h, 1.1);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (h.Engine.Torrents.Contains(t) && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.DoesNotContain(t, h.Engine.Torrents);
        Assert.Contains(keep, h.Engine.Torrents);
        int left = Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Length : 0;
        Assert.Equal(action == SeedingLimitAction.Remove ? 2 : 0, left);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(h.Root, keep.Name), "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task A_seed_stopped_by_a_rule_frees_its_queue_slot_and_the_queue_does_not_start_it_again()
    {
        var config = Rules(new SeedingRules { IdleLimitMinutes = 5 }) with { Queue = new QueueLimits { MaxSeeds = 1 } };
        await using var h = await EngineHarness.StartAsync(config);
        var first = await h.AddSeedAsync();
        var meta = h.NewTorrent();
        var second = await h.Engine.AddAsync(meta, new TorrentOptions { SavePath = h.Root });
        await h.TickAsync();
        Assert.Equal((TorrentState.Seeding, TorrentState.Queued), (first.State, second.State));
        await MinutesAsync(h, 5.1);
        await h.TickAsync(2);
        Assert.Equal((TorrentState.Stopped, TorrentState.Seeding), (first.State, second.State));
        await MinutesAsync(h, 5.1); // the second one goes idle too: the first one is not started in its place
        await h.TickAsync(2);
        Assert.Equal((TorrentState.Stopped, TorrentState.Stopped), (first.State, second.State));
    }

    [Fact]
    public async Task Bad_limits_are_refused()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => t.SetSeedIdleAsync(SeedRatioMode.Custom, null));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => t.SetSeedIdleAsync(SeedRatioMode.Custom, 0));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => t.SetSeedingTimeLimitAsync((SeedRatioMode)5, 10));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => t.SetMinSeedingTimeAsync(-1));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => h.Engine.SetSeedingRulesAsync(new SeedingRules { IdleLimitMinutes = 0 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => h.Engine.SetSeedingRulesAsync(new SeedingRules { Action = (SeedingLimitAction)9 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            h.Engine.AddAsync(h.NewTorrent(), new TorrentOptions { SavePath = h.Root, SeedingTimeMode = SeedRatioMode.Custom }));
    }

    // ------------------------------------------------------------------ per category (docs/CATEGORIES.md)

    [Fact]
    public async Task A_categorys_limits_stand_between_the_torrents_own_and_the_sessions_and_follow_a_change_of_category()
    {
        await using var h = await EngineHarness.StartAsync(Rules(new SeedingRules { IdleLimitMinutes = 60 }));
        var limits = new CategoryLimits(null, null, 5);
        var inCategory = await h.AddSeedAsync(new TorrentOptions { SavePath = "", Category = "tv", CategoryLimits = limits });
        var ownLimit = await h.AddSeedAsync(new TorrentOptions
        {
            SavePath = "", Category = "tv", CategoryLimits = limits, SeedIdleMode = SeedRatioMode.Custom, SeedIdleLimit = 20,
        });
        var leaves = await h.AddSeedAsync(new TorrentOptions { SavePath = "", Category = "tv", CategoryLimits = limits });
        var plain = await h.AddSeedAsync();
        Assert.Equal("tv", inCategory.Category);

        await leaves.SetCategoryAsync(null, null); // back to the session's 60 minutes
        await MinutesAsync(h, 4.9);
        Assert.Equal(TorrentState.Seeding, inCategory.State);
        await MinutesAsync(h, 0.2);
        Assert.Equal(TorrentState.Stopped, inCategory.State); // the category's 5 minutes
        Assert.True(await LogHasAsync(h, inCategory, "seed idle limit reached (5 min)"));
        Assert.Equal(TorrentState.Seeding, ownLimit.State);
        await MinutesAsync(h, 15);
        Assert.Equal(TorrentState.Stopped, ownLimit.State); // its own 20 minutes win over the category's
        Assert.Equal(TorrentState.Seeding, leaves.State);
        Assert.Equal(TorrentState.Seeding, plain.State);
        await MinutesAsync(h, 40);
        Assert.Equal(TorrentState.Stopped, leaves.State);
        Assert.Equal(TorrentState.Stopped, plain.State);
    }

    [Fact]
    public async Task A_categorys_seeding_time_and_ratio_limits_act_and_a_change_of_its_limits_applies_at_once()
    {
        await using var h = await EngineHarness.StartAsync(Rules(SeedingRules.None));
        var timed = await h.AddSeedAsync(new TorrentOptions { SavePath = "", Category = "movies", CategoryLimits = new CategoryLimits(null, 30, null) });
        var ratio = await h.AddSeedAsync(new TorrentOptions { SavePath = "", Category = "movies", CategoryLimits = new CategoryLimits(null, null, null) });
        await MinutesAsync(h, 29.9);
        Assert.Equal(TorrentState.Seeding, timed.State);
        await MinutesAsync(h, 0.2);
        Assert.Equal(TorrentState.Stopped, timed.State);
        Assert.True(await LogHasAsync(h, timed, "seeding time limit reached (30 min)"));

        // Ratio 0 is reached by any seed: the category's new limit stops it at the next tick.
        Assert.Equal(TorrentState.Seeding, ratio.State);
        await ratio.SetCategoryAsync("movies", new CategoryLimits(0, null, null));
        await h.TickAsync(2);
        Assert.Equal(TorrentState.Stopped, ratio.State);
        Assert.Equal("seed ratio limit reached", (await h.SnapshotAsync(ratio)).Error);
    }
}
