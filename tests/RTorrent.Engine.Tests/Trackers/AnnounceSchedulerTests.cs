using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class AnnounceSchedulerTests
{
    [Fact]
    public void The_first_torrents_start_at_once_and_later_ones_are_spread_ever_wider()
    {
        var time = new ManualTimeProvider();
        var scheduler = new AnnounceScheduler(new AnnounceSchedulerOptions
        {
            BurstSize = 3, StartSpacing = TimeSpan.FromSeconds(1), MaxStartDelay = TimeSpan.FromSeconds(60), StartWindow = TimeSpan.FromSeconds(30),
        }, time, new Random(5));
        var delays = Enumerable.Range(0, 500).Select(_ => scheduler.NextStartDelay()).ToList();
        Assert.All(delays.Take(3), d => Assert.Equal(TimeSpan.Zero, d));
        for (int k = 1; k < delays.Count - 3; k++)
            Assert.InRange(delays[3 + k - 1], TimeSpan.Zero, TimeSpan.FromSeconds(Math.Min(k, 60)));
        // Spread out, not fired at once: the last 400 cover most of the window.
        var late = delays.Skip(100).ToList();
        Assert.True(late.Max() - late.Min() > TimeSpan.FromSeconds(45));
        Assert.True(late.Count(d => d < TimeSpan.FromSeconds(5)) < 60);

        // After the window passes, a torrent added by hand starts at once again.
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(TimeSpan.Zero, scheduler.NextStartDelay());
    }

    [Fact]
    public async Task In_flight_announces_are_limited()
    {
        var scheduler = new AnnounceScheduler(new AnnounceSchedulerOptions { MaxConcurrent = 2 });
        var a = await scheduler.EnterAsync(CancellationToken.None);
        var b = await scheduler.EnterAsync(CancellationToken.None);
        Assert.Equal(2, scheduler.InFlight);
        var c = scheduler.EnterAsync(CancellationToken.None).AsTask();
        await TestWait.SettleAsync();
        Assert.False(c.IsCompleted);
        a.Dispose();
        a.Dispose(); // twice frees once
        (await c).Dispose();
        b.Dispose();
        Assert.Equal(0, scheduler.InFlight);

        using var cts = new CancellationTokenSource();
        var held = new[] { await scheduler.EnterAsync(CancellationToken.None), await scheduler.EnterAsync(CancellationToken.None) };
        var waiting = scheduler.EnterAsync(cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        foreach (var h in held) h.Dispose();
        Assert.Equal(0, scheduler.InFlight);
    }
}
