using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

/// <summary>The per-tracker gate alone, on a manual clock: no network, so every count is exact.</summary>
public class TrackerGateTests
{
    private static readonly Uri Tracker = new("http://tracker.example:6969/announce");

    private static readonly Func<int, TimeSpan> Backoff = n => TimeSpan.FromSeconds(15 * Math.Pow(2, n - 1));

    private static TrackerException Unreachable() => new(TrackerErrorKind.Network, "Could not reach the tracker: connection refused.");

    private static (AnnounceScheduler Scheduler, TrackerGate Gate) Create(ManualTimeProvider time, AnnounceSchedulerOptions? options = null)
    {
        var scheduler = new AnnounceScheduler(options ?? new AnnounceSchedulerOptions { BurstSize = 1000 }, time);
        return (scheduler, scheduler.GateFor(Tracker));
    }

    private static Task<TrackerPermit> Enter(TrackerGate gate, TrackerRequestKind kind = TrackerRequestKind.Announce, bool force = false,
        CancellationToken cancellationToken = default) => gate.EnterAsync(kind, force, cancellationToken).AsTask();

    [Fact]
    public async Task A_tracker_not_heard_from_is_probed_by_one_request_before_the_others_go()
    {
        var (scheduler, gate) = Create(new ManualTimeProvider());
        using var _ = scheduler;
        var probe = await Enter(gate);
        Assert.True(probe.Probe);
        var others = Enumerable.Range(0, 5).Select(_ => Enter(gate)).ToList();
        Assert.Equal(5, gate.Waiting);
        probe.Complete(TrackerOutcome.Answered);
        probe.Dispose();
        var permits = await Task.WhenAll(others);
        Assert.All(permits, p => Assert.False(p.Probe));
        foreach (var p in permits) p.Dispose();
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task A_refusal_of_one_torrent_says_the_tracker_is_up()
    {
        var (scheduler, gate) = Create(new ManualTimeProvider());
        using var _ = scheduler;
        var probe = await Enter(gate);
        var other = Enter(gate);
        Assert.Null(probe.Complete(TrackerPermit.OutcomeOf(new TrackerException(TrackerErrorKind.TrackerFailure, "not authorized"))));
        probe.Dispose();
        (await other).Dispose();
        Assert.Null(gate.DownUntil);
    }

    [Fact]
    public async Task A_tracker_failing_for_everyone_backs_off_once_and_is_probed_by_one_request()
    {
        var time = new ManualTimeProvider();
        var (scheduler, gate) = Create(time);
        using var _ = scheduler;
        var probe = await Enter(gate);
        var queued = Enumerable.Range(0, 99).Select(_ => Enter(gate)).ToList();
        var start = time.GetUtcNow();
        Assert.Equal(start.AddSeconds(15), probe.Complete(TrackerOutcome.TrackerFailed, Unreachable(), Backoff));
        probe.Dispose();

        // Everyone queued behind the probe is told at once, without a request: wait until the tracker's retry time.
        foreach (var q in queued)
        {
            var deferred = await Assert.ThrowsAsync<TrackerDeferredException>(() => q);
            Assert.Equal(start.AddSeconds(15), deferred.RetryAt);
            Assert.Equal("Could not reach the tracker: connection refused.", deferred.Message);
        }
        await Assert.ThrowsAsync<TrackerDeferredException>(() => Enter(gate));

        // When the backoff ends, one request probes; the rest wait for it, and fail with it.
        time.Advance(TimeSpan.FromSeconds(15));
        var second = await Enter(gate);
        Assert.True(second.Probe);
        var behind = Enumerable.Range(0, 99).Select(_ => Enter(gate)).ToList();
        Assert.Equal(99, gate.Waiting);
        Assert.Equal(time.GetUtcNow().AddSeconds(30), second.Complete(TrackerOutcome.TrackerFailed, Unreachable(), Backoff));
        second.Dispose();
        foreach (var b in behind) await Assert.ThrowsAsync<TrackerDeferredException>(() => b);

        // The next probe is answered: everybody goes.
        time.Advance(TimeSpan.FromSeconds(30));
        var third = await Enter(gate);
        var released = Enumerable.Range(0, 99).Select(_ => Enter(gate)).ToList();
        Assert.Null(third.Complete(TrackerOutcome.Answered));
        third.Dispose();
        foreach (var r in released) (await r).Dispose(); // eight at a time, the in-flight limit
        Assert.Null(gate.DownUntil);
    }

    [Fact]
    public async Task A_tracker_that_was_answering_and_fails_is_probed_before_anyone_backs_off_and_failures_in_flight_count_once()
    {
        var time = new ManualTimeProvider();
        var (scheduler, gate) = Create(time);
        using var _ = scheduler;
        var probe = await Enter(gate);
        probe.Complete(TrackerOutcome.Answered);
        probe.Dispose();
        var inFlight = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Enter(gate)));
        Assert.Equal(8, gate.InFlight);
        foreach (var p in inFlight)
        {
            // A hiccup or the start of an outage: each of these torrents backs off on its own, nobody else yet.
            Assert.Null(p.Complete(TrackerOutcome.TrackerFailed, Unreachable(), Backoff));
            p.Dispose();
        }
        Assert.Null(gate.DownUntil);

        var next = await Enter(gate);
        Assert.True(next.Probe);
        var behind = Enumerable.Range(0, 20).Select(_ => Enter(gate)).ToList();
        Assert.Equal(20, gate.Waiting);
        var retry = time.GetUtcNow().AddSeconds(15);
        Assert.Equal(retry, next.Complete(TrackerOutcome.TrackerFailed, Unreachable(), Backoff));
        next.Dispose();
        Assert.Equal(retry, gate.DownUntil); // one failure's backoff (15 s), not nine
        foreach (var b in behind) await Assert.ThrowsAsync<TrackerDeferredException>(() => b);
    }

    [Fact]
    public async Task A_tracker_that_fails_once_among_answers_is_not_backed_off()
    {
        var (scheduler, gate) = Create(new ManualTimeProvider());
        using var _ = scheduler;
        var probe = await Enter(gate);
        probe.Complete(TrackerOutcome.Answered);
        probe.Dispose();
        var failed = await Enter(gate);
        Assert.Null(failed.Complete(TrackerOutcome.TrackerFailed, Unreachable(), Backoff));
        failed.Dispose();
        var next = await Enter(gate);
        var others = Enumerable.Range(0, 20).Select(_ => Enter(gate)).ToList();
        next.Complete(TrackerOutcome.Answered);
        next.Dispose();
        foreach (var o in others) (await o).Dispose();
        Assert.Null(gate.DownUntil);
    }

    [Fact]
    public async Task The_user_may_force_a_probe_during_the_backoff()
    {
        var time = new ManualTimeProvider();
        var (scheduler, gate) = Create(time);
        using var _ = scheduler;
        var probe = await Enter(gate);
        probe.Complete(TrackerOutcome.TrackerFailed, Unreachable(), Backoff);
        probe.Dispose();
        await Assert.ThrowsAsync<TrackerDeferredException>(() => Enter(gate, TrackerRequestKind.Urgent));
        var forced = await Enter(gate, TrackerRequestKind.Urgent, force: true);
        Assert.True(forced.Probe);
        forced.Complete(TrackerOutcome.Answered);
        forced.Dispose();
        Assert.Null(gate.DownUntil);
    }

    [Fact]
    public async Task In_flight_requests_to_one_tracker_are_limited_and_stopped_announces_go_first_unpaced()
    {
        var time = new ManualTimeProvider();
        var (scheduler, gate) = Create(time, new AnnounceSchedulerOptions { BurstSize = 2, Spacing = TimeSpan.FromSeconds(10), MaxInFlightPerTracker = 3 });
        using var _ = scheduler;
        var probe = await Enter(gate);
        probe.Complete(TrackerOutcome.Answered);
        probe.Dispose();
        var first = await Enter(gate); // the burst's last token
        var announces = Enumerable.Range(0, 5).Select(_ => Enter(gate)).ToList();
        var stopped = Enumerable.Range(0, 5).Select(_ => Enter(gate, TrackerRequestKind.Stopped)).ToList();
        // No token left for announces, but stopped announces are not paced: two more in flight, the limit (3).
        Assert.Equal(3, gate.InFlight);
        Assert.Equal(2, stopped.Count(s => s.IsCompletedSuccessfully));
        Assert.DoesNotContain(announces, a => a.IsCompleted);

        first.Dispose();
        Assert.Equal(3, stopped.Count(s => s.IsCompletedSuccessfully)); // the freed place goes to a stopped announce
        foreach (var s in stopped.Where(s => s.IsCompletedSuccessfully).ToList()) (await s).Dispose();
        Assert.True(stopped.All(s => s.IsCompletedSuccessfully));
        foreach (var s in stopped) (await s).Dispose();
        Assert.DoesNotContain(announces, a => a.IsCompleted); // still paced
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, announces.Count(a => a.IsCompletedSuccessfully));
    }

    [Fact]
    public async Task At_quit_stopped_announces_still_waiting_when_the_budget_runs_out_are_given_up_and_counted()
    {
        var time = new ManualTimeProvider();
        var (scheduler, gate) = Create(time, new AnnounceSchedulerOptions { MaxInFlightPerTracker = 2, QuitInFlightPerTracker = 2 });
        using var _ = scheduler;
        var probe = await Enter(gate);
        probe.Complete(TrackerOutcome.Answered);
        probe.Dispose();

        scheduler.BeginQuit(TimeSpan.FromSeconds(2));
        var stopped = Enumerable.Range(0, 10).Select(_ => Enter(gate, TrackerRequestKind.Stopped, cancellationToken: scheduler.QuitToken)).ToList();
        var sent = await stopped[0];
        sent.Complete(TrackerOutcome.Answered);
        sent.Dispose();
        Assert.Equal(2, gate.InFlight); // one answered, the next two in flight (the limit), seven waiting
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(scheduler.QuitToken.IsCancellationRequested);
        foreach (var s in stopped.Skip(3)) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => s);
        foreach (var s in stopped.Skip(1).Take(2)) (await s).Dispose(); // cut short in flight
        Assert.Equal((1, 0, 9), gate.QuitCounts);
        Assert.Equal(0, gate.InFlight);
    }
}
