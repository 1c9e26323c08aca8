using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>When a running torrent saves its resume data by itself: only after payload moved, at most once per interval.</summary>
public class ResumeSaveScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    [Fact]
    public void Nothing_is_due_while_no_payload_moves()
    {
        var s = new ResumeSaveSchedule();
        s.Saved(T0, (100, 200));
        Assert.False(s.IsDue(T0 + TimeSpan.FromHours(5), (100, 200), Interval, out var wakeAt));
        Assert.Null(wakeAt);
    }

    [Fact]
    public void Moved_payload_is_saved_once_the_interval_since_the_last_save_has_passed_and_says_when_before()
    {
        var s = new ResumeSaveSchedule();
        s.Saved(T0, (0, 0));
        Assert.False(s.IsDue(T0 + TimeSpan.FromSeconds(10), (0, 16384), Interval, out var wakeAt));
        Assert.Equal(T0 + Interval, wakeAt);

        Assert.True(s.IsDue(T0 + Interval, (0, 16384), Interval, out wakeAt));
        Assert.Null(wakeAt);
        Assert.False(s.IsDue(T0 + Interval + TimeSpan.FromSeconds(1), (0, 16384), Interval, out _)); // saved as it is
        Assert.False(s.IsDue(T0 + Interval + TimeSpan.FromSeconds(2), (1, 16384), Interval, out wakeAt));
        Assert.Equal(T0 + Interval + Interval, wakeAt);
    }

    [Fact]
    public void A_torrent_never_saved_is_due_at_its_first_look()
    {
        var s = new ResumeSaveSchedule();
        Assert.True(s.IsDue(T0, (0, 0), Interval, out _));
        Assert.False(s.IsDue(T0 + TimeSpan.FromSeconds(1), (0, 0), Interval, out _));
    }
}
