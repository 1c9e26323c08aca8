using RTorrent.Engine.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Rate meters are never ticked: a read moves the window to the clock's current second, so the rate of an idle meter
/// decays to 0 by itself and a meter nobody reads costs nothing.
/// </summary>
public class RateMeterTests
{
    [Fact]
    public void The_rate_averages_the_last_whole_seconds_and_decays_to_zero_when_read_later()
    {
        var time = new ManualTimeProvider();
        var meter = new RateMeter(time, windowSeconds: 5);
        Assert.Equal(0, meter.Rate);

        meter.Add(4000);
        meter.Add(1000);
        Assert.Equal(0, meter.Rate); // the second in progress is not counted
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(5000, meter.Rate); // one second seen so far: its bytes
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2500, meter.Rate);

        // Nothing ticks the meter in between: reads after long gaps still see only the window.
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(1000, meter.Rate); // 5,000 bytes over the 5-second window
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, meter.Rate);
        time.Advance(TimeSpan.FromHours(5));
        Assert.Equal(0, meter.Rate);
        Assert.Equal(5000, meter.Total);
    }

    [Fact]
    public void Bytes_added_across_seconds_and_after_a_long_gap_are_counted_in_their_own_seconds()
    {
        var time = new ManualTimeProvider();
        var meter = new RateMeter(time, windowSeconds: 5);
        for (int s = 0; s < 10; s++)
        {
            meter.Add(1000 * (s + 1));
            time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal((6000 + 7000 + 8000 + 9000 + 10000) / 5, meter.Rate);

        // A gap longer than the window: the old seconds are gone, not mixed into the new ones.
        time.Advance(TimeSpan.FromSeconds(7));
        meter.Add(500);
        Assert.Equal(0, meter.Rate);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100, meter.Rate);
        Assert.Equal(55_500, meter.Total);
    }
}
