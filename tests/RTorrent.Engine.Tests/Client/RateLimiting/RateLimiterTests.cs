using RTorrent.Engine.Client.RateLimiting;

namespace RTorrent.Engine.Tests.Client.RateLimiting;

public class RateLimiterTests
{
    private readonly ManualTimeProvider _time = new();

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Unlimited_passes_everything_at_once()
    {
        using var limiter = new RateLimiter(0, timeProvider: _time);
        Assert.True(limiter.WaitAsync(1_000_000_000).IsCompletedSuccessfully);
        Assert.Equal(int.MaxValue, limiter.TryTake(int.MaxValue));
        Assert.Equal(long.MaxValue, limiter.Available);
        Assert.True(limiter.IsUnlimited);
    }

    [Fact]
    public void Burst_first_then_the_rate()
    {
        using var limiter = new RateLimiter(1000, 1000, timeProvider: _time);
        Assert.Equal(1000, limiter.TryTake(5000));
        Assert.Equal(0, limiter.TryTake(5000));
        _time.Advance(Ms(500));
        Assert.Equal(500, limiter.TryTake(5000));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1000, limiter.Available); // capped at the burst
        limiter.Return(300);
        Assert.Equal(1000, limiter.Available);
        Assert.Equal(600, limiter.TryTake(600));
        limiter.Return(100);
        Assert.Equal(500, limiter.Available);
    }

    [Fact]
    public void Default_burst_is_a_second_but_at_least_a_block()
    {
        Assert.Equal(100_000, new RateLimiter(100_000, timeProvider: _time).BurstBytes);
        Assert.Equal(RateLimiter.MinimumDefaultBurst, new RateLimiter(10, timeProvider: _time).BurstBytes);
    }

    [Fact]
    public void WaitAsync_waits_exactly_until_the_tokens_are_there()
    {
        using var limiter = new RateLimiter(1000, 1000, timeProvider: _time);
        Assert.True(limiter.WaitAsync(1000).IsCompletedSuccessfully);
        var wait = limiter.WaitAsync(500).AsTask();
        _time.Advance(Ms(499));
        Assert.False(wait.IsCompleted);
        _time.Advance(Ms(1));
        Assert.True(wait.IsCompletedSuccessfully);
        Assert.Equal(0, limiter.Available);
    }

    [Fact]
    public void Waiters_are_served_in_order_without_spinning()
    {
        using var limiter = new RateLimiter(1000, 1000, timeProvider: _time);
        limiter.TryTake(1000);
        var big = limiter.WaitAsync(800).AsTask();
        var small = limiter.WaitAsync(100).AsTask();
        _time.Advance(Ms(150)); // 150 tokens: enough for the small one, but the big one is first
        Assert.False(small.IsCompleted);
        Assert.Equal(0, limiter.TryTake(10)); // nor can a TryTake caller overtake the queue
        _time.Advance(Ms(650));
        Assert.True(big.IsCompletedSuccessfully);
        Assert.False(small.IsCompleted);
        _time.Advance(Ms(100));
        Assert.True(small.IsCompletedSuccessfully);
        Assert.Equal(2, _time.Firings); // one timer firing per waiter, no polling
    }

    [Fact]
    public void A_request_larger_than_the_burst_passes_and_leaves_debt()
    {
        using var limiter = new RateLimiter(1000, 1000, timeProvider: _time);
        Assert.True(limiter.WaitAsync(3000).IsCompletedSuccessfully);
        var next = limiter.WaitAsync(1).AsTask();
        _time.Advance(Ms(2000));
        Assert.False(next.IsCompleted); // 2000 bytes of debt repaid, not yet the 1 byte
        _time.Advance(Ms(2));
        Assert.True(next.IsCompletedSuccessfully);

        var huge = limiter.WaitAsync(5000).AsTask(); // waits for a full bucket, not for 5000 tokens
        _time.Advance(Ms(998));
        Assert.False(huge.IsCompleted);
        _time.Advance(Ms(2));
        Assert.True(huge.IsCompletedSuccessfully);
    }

    [Fact]
    public void Changing_the_rate_reschedules_and_unlimited_releases_everyone()
    {
        using var limiter = new RateLimiter(100, 100, timeProvider: _time);
        limiter.TryTake(100);
        var a = limiter.WaitAsync(100).AsTask();
        _time.Advance(Ms(500)); // 50 tokens
        limiter.SetRate(1000, 1000);
        _time.Advance(Ms(49));
        Assert.False(a.IsCompleted);
        _time.Advance(Ms(1)); // 50 + 50 at the new rate
        Assert.True(a.IsCompletedSuccessfully);

        var b = limiter.WaitAsync(1000).AsTask();
        var c = limiter.WaitAsync(1000).AsTask();
        Assert.False(b.IsCompleted);
        limiter.SetRate(0);
        Assert.True(b.IsCompletedSuccessfully);
        Assert.True(c.IsCompletedSuccessfully);
        Assert.Equal(0, limiter.QueuedWaiters);

        limiter.SetRate(10, 10); // limited again: starts from an empty bucket, not a free burst
        Assert.Equal(0, limiter.TryTake(10));
    }

    [Fact]
    public async Task Cancelling_a_waiter_takes_nothing_and_lets_the_next_one_go()
    {
        using var limiter = new RateLimiter(1000, 1000, timeProvider: _time);
        limiter.TryTake(1000);
        using var cts = new CancellationTokenSource();
        var first = limiter.WaitAsync(900, cts.Token).AsTask();
        var second = limiter.WaitAsync(100).AsTask();
        _time.Advance(Ms(100));
        Assert.False(second.IsCompleted);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.True(second.IsCompletedSuccessfully); // the 100 tokens were there already
        Assert.Equal(0, limiter.QueuedWaiters);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await limiter.WaitAsync(5000, cts.Token));
    }

    [Fact]
    public void A_child_is_limited_by_itself_and_its_parent()
    {
        using var global = new RateLimiter(1000, 1000, timeProvider: _time);
        using var slow = global.CreateChild(300, 300);
        using var free = global.CreateChild();

        Assert.Equal(300, slow.TryTake(5000));
        Assert.Equal(700, free.TryTake(5000)); // the global bucket had 1000, 300 went to the slow torrent
        Assert.Equal(0, free.TryTake(1));
        _time.Advance(Ms(100));
        Assert.Equal(30, slow.Available);
        Assert.Equal(100, free.Available);
        Assert.Equal(30, slow.TryTake(5000));
        Assert.Equal(70, free.TryTake(5000));
    }

    [Fact]
    public async Task Torrents_waiting_on_the_global_limit_are_served_first_come_first_served()
    {
        using var global = new RateLimiter(1000, 1000, timeProvider: _time);
        using var a = global.CreateChild();
        using var b = global.CreateChild();
        global.TryTake(1000);
        var order = new List<string>();
        var waits = new[] { ("a1", a), ("b1", b), ("a2", a), ("b2", b) }
            .Select(x => x.Item2.WaitAsync(250).AsTask().ContinueWith(_ => { lock (order) order.Add(x.Item1); }, TaskContinuationOptions.ExecuteSynchronously))
            .ToArray();
        for (int i = 0; i < 4; i++)
        {
            _time.Advance(Ms(250)); // tokens for exactly one more request
            Assert.True(SpinWait.SpinUntil(() => { lock (order) return order.Count == i + 1; }, TimeSpan.FromSeconds(10)));
        }
        await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["a1", "b1", "a2", "b2"], order);
    }

    [Fact]
    public async Task A_waiter_needs_both_its_own_and_the_parents_tokens()
    {
        using var global = new RateLimiter(1000, 1000, timeProvider: _time);
        using var torrent = global.CreateChild(100, 100);
        torrent.TryTake(100); // also takes 100 from the global bucket
        var wait = torrent.WaitAsync(100).AsTask();
        _time.Advance(Ms(1000)); // the torrent bucket refills; then the request goes on to the global one
        Assert.True(SpinWait.SpinUntil(() => wait.IsCompleted, TimeSpan.FromSeconds(10)));
        await wait;

        _time.Advance(Ms(1000)); // both buckets full again
        Assert.Equal(1000, global.TryTake(1000));
        var blocked = torrent.WaitAsync(50).AsTask(); // the torrent has tokens, the global bucket does not
        Assert.True(SpinWait.SpinUntil(() => global.QueuedWaiters == 1, TimeSpan.FromSeconds(10)));
        Assert.False(blocked.IsCompleted);
        _time.Advance(Ms(50));
        Assert.True(SpinWait.SpinUntil(() => blocked.IsCompleted, TimeSpan.FromSeconds(10)));
        await blocked;
    }

    [Fact]
    public async Task Cancelling_at_the_parent_refunds_the_child()
    {
        using var global = new RateLimiter(1000, 1000, timeProvider: _time);
        using var torrent = global.CreateChild(100, 100);
        global.TryTake(1000);
        using var cts = new CancellationTokenSource();
        var wait = torrent.WaitAsync(60, cts.Token).AsTask(); // passes the torrent bucket (100), queues at the global one
        Assert.Equal(1, global.QueuedWaiters);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        _time.Advance(Ms(1000));
        Assert.Equal(100, torrent.TryTake(1000)); // the 60 came back: the torrent bucket is full again
    }

    [Fact]
    public async Task Disposing_fails_the_waiters()
    {
        var limiter = new RateLimiter(10, 10, timeProvider: _time);
        limiter.TryTake(10);
        var wait = limiter.WaitAsync(10).AsTask();
        limiter.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => wait);
        Assert.Throws<ObjectDisposedException>(() => limiter.TryTake(1));
    }

    [Fact]
    public async Task Real_clock_smoke_test_limits_throughput()
    {
        // Not timing-sensitive: only checks that waits on the system clock complete and that a limited bucket
        // cannot hand out more than burst + rate * elapsed.
        var start = TimeProvider.System.GetTimestamp(); // before the bucket exists, so the bound below is safe
        using var limiter = new RateLimiter(1_000_000, 16 * 1024);
        long passed = 0;
        for (int i = 0; i < 20; i++)
        {
            await limiter.WaitAsync(16 * 1024);
            passed += 16 * 1024;
        }
        var elapsed = TimeProvider.System.GetElapsedTime(start);
        Assert.True(passed <= 16 * 1024 + 1_000_000 * elapsed.TotalSeconds + 1);
    }
}
