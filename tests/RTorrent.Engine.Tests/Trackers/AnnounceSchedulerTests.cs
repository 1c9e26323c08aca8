using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class AnnounceSchedulerTests
{
    [Fact]
    public async Task The_first_requests_to_a_tracker_go_at_once_and_a_backlog_is_spread_over_the_max_spread()
    {
        // Replaces the start stagger (a random delay per torrent): the tracker's gate paces whoever waits for it.
        var time = new ManualTimeProvider();
        using var scheduler = new AnnounceScheduler(new AnnounceSchedulerOptions
        {
            BurstSize = 3, Spacing = TimeSpan.FromSeconds(1), MaxSpread = TimeSpan.FromSeconds(60), MaxInFlightPerTracker = 1000,
        }, time);
        var gate = scheduler.GateFor(new Uri("http://tracker.example/announce"));
        // The tracker answers the first request (the probe: one at a time until it has answered).
        (await gate.EnterAsync(TrackerRequestKind.Announce, false, CancellationToken.None)).Complete(TrackerOutcome.Answered);

        var waits = Enumerable.Range(0, 500).Select(_ => gate.EnterAsync(TrackerRequestKind.Announce, false, CancellationToken.None).AsTask()).ToList();
        Assert.Equal(498, gate.Waiting); // the burst's two other tokens went at once

        // Granting happens in the gate's timer, synchronously as the clock moves: no waiting needed to count.
        var waitingAt = new Dictionary<int, int>();
        for (int step = 1; step <= 70 * 20; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            if (step % 20 == 0) waitingAt[step / 20] = gate.Waiting;
        }
        Assert.InRange(waitingAt[1], 485, 497);   // not a storm: about 8 in the first second (498 over 60 s)
        Assert.InRange(waitingAt[30], 230, 270);  // a steady pace
        Assert.InRange(waitingAt[59], 0, 15);
        Assert.Equal(0, waitingAt[61]);           // all of them within the max spread
        Assert.All(waits, w => Assert.True(w.IsCompletedSuccessfully));
        foreach (var w in waits) (await w).Dispose();
        Assert.Equal(0, gate.InFlight);

        // Idle again: a request goes at once (the bucket refilled).
        var next = gate.EnterAsync(TrackerRequestKind.Announce, false, CancellationToken.None);
        Assert.True(next.IsCompletedSuccessfully);
        (await next).Dispose();
    }

    [Fact]
    public async Task In_flight_announces_are_limited()
    {
        var scheduler = new AnnounceScheduler(new AnnounceSchedulerOptions { MaxConcurrent = 2 });
        var a = await scheduler.EnterAsync(CancellationToken.None);
        var b = await scheduler.EnterAsync(CancellationToken.None);
        Assert.Equal(2, scheduler.InFlight);
        // Only a freed slot completes a wait (no timer is involved): a third entry that is not complete now waits.
        var c = scheduler.EnterAsync(CancellationToken.None).AsTask();
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
