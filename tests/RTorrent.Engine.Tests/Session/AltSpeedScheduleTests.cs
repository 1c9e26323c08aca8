using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// Turtle mode's weekly schedule (issue 18, part 4): the window as Transmission draws it, and the scheduler on a manual
/// clock moved through a week: it switches at the edges only, so a switch by hand holds until the next edge.
/// </summary>
public sealed class AltSpeedScheduleTests
{
    /// <summary>Monday 7 December 2026, 08:00 UTC.</summary>
    private static readonly DateTimeOffset Monday0800 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private const int Weekdays = 0b0111110, Sunday = 1, Saturday = 64;

    [Theory]
    // 09:00-17:00 on weekdays.
    [InlineData("2026-12-07 08:59", 540, 1020, Weekdays, false)]
    [InlineData("2026-12-07 09:00", 540, 1020, Weekdays, true)]
    [InlineData("2026-12-07 16:59", 540, 1020, Weekdays, true)]
    [InlineData("2026-12-07 17:00", 540, 1020, Weekdays, false)]
    [InlineData("2026-12-12 10:00", 540, 1020, Weekdays, false)] // Saturday
    // 22:00-06:00 starting on Saturday only: runs into Sunday morning, not into Saturday morning.
    [InlineData("2026-12-12 21:59", 1320, 360, Saturday, false)]
    [InlineData("2026-12-12 22:00", 1320, 360, Saturday, true)]
    [InlineData("2026-12-13 05:59", 1320, 360, Saturday, true)]
    [InlineData("2026-12-13 06:00", 1320, 360, Saturday, false)]
    [InlineData("2026-12-12 05:00", 1320, 360, Saturday, false)]
    [InlineData("2026-12-13 23:00", 1320, 360, Saturday, false)] // Sunday night: not a day of the mask
    // Begin equal to end: the whole day.
    [InlineData("2026-12-13 00:00", 600, 600, Sunday, false)] // Sunday before 10:00: Saturday's window is not on
    [InlineData("2026-12-13 10:00", 600, 600, Sunday, true)]
    [InlineData("2026-12-14 09:59", 600, 600, Sunday, true)]
    [InlineData("2026-12-14 10:00", 600, 600, Sunday, false)]
    [InlineData("2026-12-09 12:00", 540, 1020, 0, false)] // no days
    public void The_window_is_Transmissions(string local, int begin, int end, int days, bool inside)
    {
        var time = DateTime.ParseExact(local, "yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(inside, AltSpeedSchedule.IsInWindow(time, begin, end, days));
    }

    [Fact]
    public void The_window_is_read_in_the_clocks_local_time_zone()
    {
        // 08:30 UTC is 09:30 in UTC+1: inside a 09:00-17:00 window there, outside it in UTC.
        var s = new EngineSettings { AltSpeedScheduleBegin = 540, AltSpeedScheduleEnd = 1020, AltSpeedScheduleDays = 127 };
        var at = Monday0800.AddMinutes(30);
        Assert.False(AltSpeedSchedule.IsInWindow(s, at, TimeZoneInfo.Utc));
        Assert.True(AltSpeedSchedule.IsInWindow(s, at, TimeZoneInfo.CreateCustomTimeZone("UTC+1", TimeSpan.FromHours(1), "UTC+1", "UTC+1")));
    }

    [Fact]
    public async Task The_schedule_switches_at_its_edges_through_a_week_and_a_switch_by_hand_holds_until_the_next_edge()
    {
        var clock = new ManualTimeProvider();
        clock.Advance(Monday0800 - clock.GetUtcNow());
        var time = new ZonedTime(clock, TimeZoneInfo.Utc);
        var settings = new SessionSettings(new EngineSettings
        {
            AltSpeedScheduleEnabled = true,
            AltSpeedScheduleBegin = 9 * 60,
            AltSpeedScheduleEnd = 17 * 60,
            AltSpeedScheduleDays = Weekdays,
        }, session: null, persist: false);
        var log = new List<string>();
        using var scheduler = new AltSpeedScheduler(settings, time, (_, m) => { lock (log) log.Add(m); });
        scheduler.Start();

        async Task At(DateTimeOffset when)
        {
            clock.Advance(when - clock.GetUtcNow());
            await scheduler.Idle.WaitAsync(TestWait.Limit);
        }

        await scheduler.Idle.WaitAsync(TestWait.Limit);
        Assert.False(settings.Current.AltSpeedEnabled); // Monday 08:00: before the window

        await At(Monday0800.AddHours(1)); // 09:00: the edge
        Assert.True(settings.Current.AltSpeedEnabled);
        Assert.Contains("turtle mode on (schedule)", log);

        // Off by hand inside the window: it stays off through the window's minutes...
        await settings.UpdateAsync(s => s with { AltSpeedEnabled = false });
        await scheduler.Idle.WaitAsync(TestWait.Limit);
        foreach (int minutes in new[] { 1, 2, 60, 7 * 60 + 59 })
        {
            await At(Monday0800.AddHours(1).AddMinutes(minutes));
            Assert.False(settings.Current.AltSpeedEnabled);
        }
        // ... and on by hand after the window: it stays on until the next edge, Tuesday 09:00, where it is on anyway,
        // and goes off at Tuesday's end.
        await At(Monday0800.AddHours(10)); // Monday 18:00
        await settings.UpdateAsync(s => s with { AltSpeedEnabled = true });
        await At(Monday0800.AddHours(23)); // Tuesday 07:00
        Assert.True(settings.Current.AltSpeedEnabled);
        await At(Monday0800.AddDays(1).AddHours(1).AddMinutes(5)); // Tuesday 09:05
        Assert.True(settings.Current.AltSpeedEnabled);
        await At(Monday0800.AddDays(1).AddHours(9)); // Tuesday 17:00
        Assert.False(settings.Current.AltSpeedEnabled);

        // The weekend is not in the mask: Saturday stays off, Monday 09:00 is on again.
        await At(Monday0800.AddDays(5).AddHours(4)); // Saturday 12:00
        Assert.False(settings.Current.AltSpeedEnabled);
        await At(Monday0800.AddDays(7).AddHours(1)); // Monday 09:00
        Assert.True(settings.Current.AltSpeedEnabled);

        // Changing the schedule applies it at once: the window is now 18:00-20:00, so 09:00 is outside.
        await settings.UpdateAsync(s => s with { AltSpeedScheduleBegin = 18 * 60, AltSpeedScheduleEnd = 20 * 60 });
        await scheduler.Idle.WaitAsync(TestWait.Limit);
        await TestWait.UntilAsync(() => !settings.Current.AltSpeedEnabled, "the new schedule applied");

        // Switched off, the schedule changes nothing.
        await settings.UpdateAsync(s => s with { AltSpeedScheduleEnabled = false });
        await At(Monday0800.AddDays(7).AddHours(11)); // Monday 19:00, inside the window
        Assert.False(settings.Current.AltSpeedEnabled);
    }

    [Fact]
    public async Task Turtle_mode_puts_its_limits_on_the_engine_and_takes_the_normal_ones_back_and_survives_a_restart()
    {
        string root = TestPaths.NewTempDir("rt-turtle");
        try
        {
            var saved = new EngineSettings
            {
                SessionDirectory = root,
                DownloadDirectory = root,
                DownloadRateLimit = 1_000_000,
                UploadRateLimit = 500_000,
                AltDownloadRateLimit = 40_000,
                AltUploadRateLimit = 0,
            };
            await using (var session = await OpenAsync(saved))
            {
                var settings = new SessionSettings(saved, session);
                Assert.Equal((1_000_000L, 500_000L), (session.Engine.Config.DownloadLimit, session.Engine.Config.UploadLimit));

                await settings.UpdateAsync(s => s with { AltSpeedEnabled = true });
                Assert.Equal((40_000L, 0L), (session.Engine.Config.DownloadLimit, session.Engine.Config.UploadLimit));
                var backend = new SessionBackend(session, settings);
                var snapshot = await backend.GetSessionAsync();
                Assert.True(snapshot.AltSpeedEnabled);
                Assert.Equal(40_000, snapshot.DownloadLimit);

                // While it is on, the session's limits from the interface (T, the throttle keys) are the turtle ones.
                await backend.SetGlobalLimitsAsync(30_000, 10_000);
                Assert.Equal((30_000L, 10_000L, 1_000_000L), (settings.Current.AltDownloadRateLimit, settings.Current.AltUploadRateLimit,
                    settings.Current.DownloadRateLimit));
                Assert.Equal(30_000, session.Engine.Config.DownloadLimit);
            }

            // settings.json keeps turtle mode on: the next run starts with the turtle limits.
            var reloaded = await SettingsStore.LoadAsync(root);
            Assert.True(reloaded.AltSpeedEnabled);
            await using (var session = await OpenAsync(reloaded))
            {
                var settings = new SessionSettings(reloaded, session);
                Assert.Equal((30_000L, 10_000L), (session.Engine.Config.DownloadLimit, session.Engine.Config.UploadLimit));
                await settings.UpdateAsync(s => s with { AltSpeedEnabled = false });
                Assert.Equal((1_000_000L, 500_000L), (session.Engine.Config.DownloadLimit, session.Engine.Config.UploadLimit));
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static Task<ClientSession> OpenAsync(EngineSettings s) =>
        ClientSession.OpenAsync(SessionOptions.FromSettings(s) with
        {
            Engine = SessionOptions.EngineConfigFrom(s) with { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            LoadPlugins = false,
            EnableDht = false,
        });

    /// <summary>A manual clock in a chosen time zone.</summary>
    private sealed class ZonedTime(ManualTimeProvider clock, TimeZoneInfo zone) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();
        public override long GetTimestamp() => clock.GetTimestamp();
        public override long TimestampFrequency => clock.TimestampFrequency;
        public override TimeZoneInfo LocalTimeZone => zone;
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            clock.CreateTimer(callback, state, dueTime, period);
    }
}
