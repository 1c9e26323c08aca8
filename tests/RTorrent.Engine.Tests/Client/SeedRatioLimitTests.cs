using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The seed ratio limit acts: a seeding torrent at its limit stops at the next tick with a note and is finished;
/// modes Global, Custom and Unlimited; the session's limit changes live; a finished torrent started by hand seeds on
/// with its limit off, as Transmission does. Time moves only by the manual clock.
/// </summary>
public class SeedRatioLimitTests
{
    private const long Size = 50_000; // EngineHarness's default torrent: 40,000 + 10,000 bytes

    private static Task SetUploadedAsync(EngineHarness h, Torrent t, long bytes) =>
        h.Engine.Loop.InvokeAsync(() => t.UploadedBefore = bytes);

    [Fact]
    public async Task A_seeding_torrent_stops_at_the_sessions_limit_with_a_note_and_is_finished()
    {
        await using var h = await EngineHarness.StartAsync(new EngineConfig { SeedRatioLimit = 2.0 });
        var t = await h.AddSeedAsync();
        await SetUploadedAsync(h, t, 2 * Size - 1);
        await h.TickAsync(3);
        Assert.Equal(TorrentState.Seeding, t.State);

        await SetUploadedAsync(h, t, 2 * Size);
        await h.TickAsync();
        var s = await h.SnapshotAsync(t);
        Assert.Equal(TorrentState.Stopped, s.State);
        Assert.Equal("seed ratio limit reached", s.Error);
        Assert.True(s.IsFinished);
        Assert.Null(s.SeedingSince);
    }

    [Fact]
    public async Task Ratio_counts_the_wanted_data_only()
    {
        await using var h = await EngineHarness.StartAsync(new EngineConfig { SeedRatioLimit = 1.0 });
        var t = await h.AddSeedAsync(new TorrentOptions { SavePath = "", FilePriorities = [Priority.Normal, Priority.Skip] });
        await SetUploadedAsync(h, t, 40_000); // the wanted file once: ratio 1 against 40,000 bytes, 0.8 against all
        await h.TickAsync();
        Assert.Equal(TorrentState.Stopped, t.State);
    }

    [Fact]
    public async Task Custom_and_unlimited_modes_override_the_session_and_are_applied_at_the_next_tick()
    {
        await using var h = await EngineHarness.StartAsync(new EngineConfig { SeedRatioLimit = 1.0 });
        var unlimited = await h.AddSeedAsync(new TorrentOptions { SavePath = "", SeedRatioMode = SeedRatioMode.Unlimited });
        var custom = await h.AddSeedAsync(new TorrentOptions { SavePath = "", SeedRatioMode = SeedRatioMode.Custom, SeedRatioLimit = 3 });
        await SetUploadedAsync(h, unlimited, 10 * Size);
        await SetUploadedAsync(h, custom, 2 * Size);
        await h.TickAsync(2);
        Assert.Equal(TorrentState.Seeding, unlimited.State);
        Assert.Equal(TorrentState.Seeding, custom.State);

        await custom.SetSeedRatioAsync(SeedRatioMode.Custom, 1.5);
        Assert.Equal(TorrentState.Seeding, custom.State); // not before the tick
        await h.TickAsync();
        Assert.Equal(TorrentState.Stopped, custom.State);
        Assert.Equal((SeedRatioMode.Custom, 1.5), (custom.SeedRatioMode, custom.SeedRatioLimit));

        await unlimited.SetSeedRatioAsync(SeedRatioMode.Global, null);
        await h.TickAsync();
        Assert.Equal(TorrentState.Stopped, unlimited.State);
    }

    [Fact]
    public async Task The_sessions_limit_changes_live()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        await SetUploadedAsync(h, t, Size);
        await h.TickAsync(2);
        Assert.Equal(TorrentState.Seeding, t.State);

        await h.Engine.SetSeedRatioLimitAsync(1.0);
        Assert.Equal(1.0, h.Engine.Config.SeedRatioLimit);
        await h.TickAsync();
        Assert.Equal(TorrentState.Stopped, t.State);
        Assert.True((await h.SnapshotAsync(t)).IsFinished);

        // Raising the limit makes it unfinished (Transmission's isFinished is a state, not a flag) but does not start it.
        await h.Engine.SetSeedRatioLimitAsync(5);
        var s = await h.SnapshotAsync(t);
        Assert.False(s.IsFinished);
        Assert.Equal(TorrentState.Stopped, s.State);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => h.Engine.SetSeedRatioLimitAsync(-1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => h.Engine.SetSeedRatioLimitAsync(double.NaN));
    }

    [Fact]
    public async Task A_finished_torrent_started_by_hand_seeds_on_with_its_limit_off_as_transmission_does()
    {
        await using var h = await EngineHarness.StartAsync(new EngineConfig { SeedRatioLimit = 1.0 });
        var t = await h.AddSeedAsync();
        await SetUploadedAsync(h, t, 3 * Size);
        await h.TickAsync();
        Assert.True((await h.SnapshotAsync(t)).IsFinished);

        await t.StartAsync();
        await h.TickAsync(3);
        var s = await h.SnapshotAsync(t);
        Assert.Equal(TorrentState.Seeding, s.State);
        Assert.False(s.IsFinished);
        Assert.Null(s.Error);
        Assert.Equal(SeedRatioMode.Unlimited, s.SeedRatioMode);
        Assert.Contains((await h.Engine.GetDetailsAsync(t)).Log, l => l.Message.Contains("started by hand after reaching its seed ratio limit"));

        // Setting a limit again applies it.
        await t.SetSeedRatioAsync(SeedRatioMode.Global, null);
        await h.TickAsync();
        Assert.Equal(TorrentState.Stopped, t.State);
    }

    [Fact]
    public async Task A_torrent_paused_by_hand_below_its_limit_is_not_finished_and_starts_with_its_limit()
    {
        await using var h = await EngineHarness.StartAsync(new EngineConfig { SeedRatioLimit = 1.0 });
        var t = await h.AddSeedAsync();
        await SetUploadedAsync(h, t, Size / 2);
        await t.StopAsync();
        Assert.False((await h.SnapshotAsync(t)).IsFinished);
        await t.StartAsync();
        Assert.Equal(SeedRatioMode.Global, t.SeedRatioMode);
        await SetUploadedAsync(h, t, Size);
        await h.TickAsync();
        Assert.Equal(TorrentState.Stopped, t.State);
    }

    [Fact]
    public async Task Bad_modes_and_limits_are_refused()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => t.SetSeedRatioAsync(SeedRatioMode.Custom, null));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => t.SetSeedRatioAsync(SeedRatioMode.Custom, -0.5));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => t.SetSeedRatioAsync((SeedRatioMode)7, 1));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            h.Engine.AddAsync(h.NewTorrent(), new TorrentOptions { SavePath = h.Root, SeedRatioMode = SeedRatioMode.Custom }));
        await t.SetSeedRatioAsync(SeedRatioMode.Custom, 2);
        await t.SetSeedRatioAsync(SeedRatioMode.Global, null);
        Assert.Equal((SeedRatioMode.Global, 2.0), (t.SeedRatioMode, t.SeedRatioLimit)); // the own limit is remembered
        await t.SetSeedRatioAsync(SeedRatioMode.Custom, null);
        Assert.Equal((SeedRatioMode.Custom, 2.0), (t.SeedRatioMode, t.SeedRatioLimit));
    }
}
