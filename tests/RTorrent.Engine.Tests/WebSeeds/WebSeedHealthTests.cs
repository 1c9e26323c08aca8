using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.WebSeeds;

namespace RTorrent.Engine.Tests.WebSeeds;

public sealed class WebSeedHealthTests
{
    private static readonly WebSeedPolicy Policy = new()
    {
        BaseBackoff = TimeSpan.FromSeconds(5), MaxBackoff = TimeSpan.FromSeconds(60), MaxTransientFailures = 6, MaxProtocolFailures = 3, MaxBadPieces = 2,
    };

    [Fact]
    public void Transient_failures_double_the_wait_up_to_the_cap_and_a_success_starts_again()
    {
        var clock = new ManualTimeProvider();
        var h = new WebSeedHealth(Policy);
        Assert.True(h.IsReady(clock.GetUtcNow()));
        TimeSpan[] expected = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(60)];
        foreach (var wait in expected)
        {
            h.Failed(clock.GetUtcNow(), WebSeedFailure.Transient, "HTTP 502 Bad Gateway");
            Assert.Equal(clock.GetUtcNow() + wait, h.RetryAt);
            clock.Advance(wait - TimeSpan.FromMilliseconds(1));
            Assert.False(h.IsReady(clock.GetUtcNow()));
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(h.IsReady(clock.GetUtcNow()));
        }
        h.Succeeded();
        h.Failed(clock.GetUtcNow(), WebSeedFailure.Transient, "reset");
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(5), h.RetryAt);
        Assert.False(h.IsDropped);
        Assert.Equal("reset", h.LastError);
    }

    [Fact]
    public void A_server_that_keeps_failing_is_dropped_and_stays_dropped()
    {
        var now = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var h = new WebSeedHealth(Policy);
        for (int i = 0; i < 5; i++) h.Failed(now, WebSeedFailure.Transient, "connection refused");
        Assert.False(h.IsDropped);
        h.Failed(now, WebSeedFailure.Transient, "connection refused");
        Assert.True(h.IsDropped);
        Assert.Contains("connection refused", h.DroppedBecause);
        h.Succeeded();
        Assert.False(h.IsReady(now + TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Protocol_failures_drop_sooner_than_transient_ones()
    {
        var now = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var h = new WebSeedHealth(Policy);
        h.Failed(now, WebSeedFailure.Protocol, "HTTP 404 Not Found");
        h.Failed(now, WebSeedFailure.Protocol, "HTTP 404 Not Found");
        Assert.False(h.IsDropped);
        h.Failed(now, WebSeedFailure.Protocol, "HTTP 404 Not Found");
        Assert.Equal("HTTP 404 Not Found (3 times in a row)", h.DroppedBecause);
    }

    [Fact]
    public void A_retry_after_longer_than_the_backoff_is_honoured_within_its_cap()
    {
        var now = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var h = new WebSeedHealth(Policy);
        h.Failed(now, WebSeedFailure.Transient, "HTTP 503", TimeSpan.FromSeconds(120));
        Assert.Equal(now + TimeSpan.FromSeconds(120), h.RetryAt);
        h.Failed(now, WebSeedFailure.Transient, "HTTP 503", TimeSpan.FromDays(3));
        Assert.Equal(now + Policy.MaxRetryAfter, h.RetryAt);
        h.Failed(now, WebSeedFailure.Transient, "HTTP 503", TimeSpan.FromSeconds(1)); // shorter than the backoff: the backoff wins
        Assert.Equal(now + TimeSpan.FromSeconds(20), h.RetryAt);
    }

    [Fact]
    public void A_bad_piece_demotes_and_the_second_drops()
    {
        var now = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var h = new WebSeedHealth(Policy);
        h.BadPiece(now, 3);
        Assert.False(h.IsDropped);
        Assert.False(h.IsReady(now));
        Assert.True(h.IsReady(now + TimeSpan.FromSeconds(5)));
        Assert.Equal("piece 3 failed its hash check", h.LastError);
        h.Succeeded(); // good pieces do not wash a bad one away
        h.BadPiece(now, 9);
        Assert.Equal("sent 2 pieces with wrong data", h.DroppedBecause);
    }
}
