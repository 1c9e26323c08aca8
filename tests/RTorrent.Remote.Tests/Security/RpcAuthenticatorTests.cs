using System.Net;
using RTorrent.Remote.Security;
using RTorrent.Remote.Tests.Infrastructure;

namespace RTorrent.Remote.Tests.Security;

/// <summary>Basic authentication with failed logins slowed down, serialised and finally blocked, per client address.</summary>
public class RpcAuthenticatorTests
{
    private static readonly string Hash = RpcPassword.Hash("secret", 1000);
    private static readonly string Right = TestServer.Basic("admin", "secret");
    private static readonly string Wrong = TestServer.Basic("admin", "guess");
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Other = IPAddress.Parse("203.0.113.8");

    /// <summary>Runs one failing check to its end: waits for its delay on the clock, checks it, lets it pass.</summary>
    private static async Task<AuthResult> FailAsync(RpcAuthenticator auth, ManualClock clock, IPAddress from, TimeSpan expectedDelay,
        string? header = null)
    {
        var check = auth.CheckAsync(header ?? Wrong, from, CancellationToken.None);
        TimeSpan delay = await clock.WaitForTimerAsync();
        Assert.Equal(expectedDelay, delay);
        Assert.False(check.IsCompleted);
        clock.Advance(delay);
        return await check.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Without_a_user_everything_is_allowed_at_once()
    {
        var auth = new RpcAuthenticator(null, null, new ManualClock());
        Assert.False(auth.IsRequired);
        Assert.Equal(AuthResult.Allowed, await auth.CheckAsync(null, Attacker, CancellationToken.None));
        Assert.Equal(AuthResult.Allowed, await auth.CheckAsync(Wrong, Attacker, CancellationToken.None));
    }

    [Fact]
    public async Task The_right_credentials_pass_without_delay_and_any_wrong_part_fails()
    {
        var clock = new ManualClock();
        var auth = new RpcAuthenticator("admin", Hash, clock);
        Assert.True(auth.IsRequired);
        Assert.Equal(AuthResult.Allowed, await auth.CheckAsync(Right, Attacker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(AuthResult.Allowed, await auth.CheckAsync("basic " + Right[6..], Attacker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, clock.PendingTimers);

        // Each of these is a failure, answered after the (growing) delay.
        string?[] wrong =
        [
            null, Wrong, TestServer.Basic("Admin", "secret"), TestServer.Basic("admin", "Secret"), TestServer.Basic("", "secret"),
            "Basic !!!not-base64!!!", "Basic " + Convert.ToBase64String("adminsecret"u8.ToArray()), "Bearer " + Right[6..], "",
        ];
        int failures = 0;
        foreach (string? header in wrong)
        {
            failures++;
            var check = auth.CheckAsync(header, Other, CancellationToken.None);
            Assert.Equal(RpcAuthenticator.DelayFor(failures), await clock.WaitForTimerAsync());
            clock.Advance(RpcAuthenticator.DelayFor(failures));
            Assert.Equal(AuthResult.Unauthorized, await check.WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public void The_delay_doubles_from_half_a_second_up_to_the_cap()
    {
        Assert.Equal(TimeSpan.Zero, RpcAuthenticator.DelayFor(0));
        Assert.Equal(TimeSpan.FromMilliseconds(500), RpcAuthenticator.DelayFor(1));
        for (int n = 2; n <= 6; n++) Assert.Equal(RpcAuthenticator.DelayFor(n - 1) * 2, RpcAuthenticator.DelayFor(n));
        Assert.Equal(RpcAuthenticator.MaxDelay, RpcAuthenticator.DelayFor(6));
        Assert.Equal(RpcAuthenticator.MaxDelay, RpcAuthenticator.DelayFor(100));
        Assert.Equal(RpcAuthenticator.MaxDelay, RpcAuthenticator.DelayFor(int.MaxValue));
    }

    [Fact]
    public async Task Failures_wait_longer_each_time_and_a_success_resets_the_count()
    {
        var clock = new ManualClock();
        var auth = new RpcAuthenticator("admin", Hash, clock);
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Attacker, TimeSpan.FromMilliseconds(500)));
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Attacker, TimeSpan.FromSeconds(1)));
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Attacker, TimeSpan.FromSeconds(2)));
        // Another address has its own count.
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Other, TimeSpan.FromMilliseconds(500)));
        Assert.Equal(AuthResult.Allowed, await auth.CheckAsync(Right, Attacker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Attacker, TimeSpan.FromMilliseconds(500)));
        // The other address did not get reset by the first one's success.
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Other, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task An_IPv4_client_counts_the_same_through_a_dual_stack_socket()
    {
        var clock = new ManualClock();
        var auth = new RpcAuthenticator("admin", Hash, clock);
        await FailAsync(auth, clock, IPAddress.Parse("203.0.113.7"), TimeSpan.FromMilliseconds(500));
        await FailAsync(auth, clock, IPAddress.Parse("::ffff:203.0.113.7"), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Parallel_guesses_from_one_address_wait_for_each_other()
    {
        var clock = new ManualClock();
        var auth = new RpcAuthenticator("admin", Hash, clock);
        var first = auth.CheckAsync(Wrong, Attacker, CancellationToken.None);
        Assert.Equal(TimeSpan.FromMilliseconds(500), await clock.WaitForTimerAsync());
        var second = auth.CheckAsync(TestServer.Basic("admin", "guess2"), Attacker, CancellationToken.None);
        // The second guess is not even checked while the first one waits: still one timer.
        Assert.Equal(1, clock.PendingTimers);
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(AuthResult.Unauthorized, await first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(1), await clock.WaitForTimerAsync());
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(AuthResult.Unauthorized, await second.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_client_that_goes_away_stops_waiting()
    {
        var clock = new ManualClock();
        var auth = new RpcAuthenticator("admin", Hash, clock);
        using var gone = new CancellationTokenSource();
        var check = auth.CheckAsync(Wrong, Attacker, gone.Token);
        await clock.WaitForTimerAsync();
        gone.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check.WaitAsync(TimeSpan.FromSeconds(10)));
        // The address is not stuck: the next attempt is checked (and slowed down further).
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Attacker, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_hundred_failures_block_the_address_for_an_hour_and_only_that_address()
    {
        var clock = new ManualClock();
        var auth = new RpcAuthenticator("admin", Hash, clock);
        DateTimeOffset lastFailure = default;
        for (int i = 1; i <= RpcAuthenticator.BlockAfter; i++)
        {
            lastFailure = clock.GetUtcNow();
            Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Attacker, RpcAuthenticator.DelayFor(i)));
        }

        // Blocked: answered at once, even with the right password.
        Assert.Equal(AuthResult.Blocked, await auth.CheckAsync(Wrong, Attacker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(AuthResult.Blocked, await auth.CheckAsync(Right, Attacker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, clock.PendingTimers);

        // Everyone else carries on as usual.
        Assert.Equal(AuthResult.Allowed, await auth.CheckAsync(Right, Other, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, IPAddress.Parse("2001:db8::7"), TimeSpan.FromMilliseconds(500)));

        // The block runs from the hundredth failure (which was then answered after its delay).
        DateTimeOffset blockedAt = lastFailure;
        clock.AdvanceTo(blockedAt + RpcAuthenticator.BlockFor - TimeSpan.FromSeconds(1));
        Assert.Equal(AuthResult.Blocked, await auth.CheckAsync(Right, Attacker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        clock.AdvanceTo(blockedAt + RpcAuthenticator.BlockFor);
        Assert.Equal(AuthResult.Allowed, await auth.CheckAsync(Right, Attacker, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        // The success cleared the count: the next failure is slowed down from the start again.
        Assert.Equal(AuthResult.Unauthorized, await FailAsync(auth, clock, Attacker, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Failures_older_than_an_hour_are_forgotten()
    {
        var clock = new ManualClock();
        var auth = new RpcAuthenticator("admin", Hash, clock);
        for (int i = 1; i <= 5; i++) await FailAsync(auth, clock, Attacker, RpcAuthenticator.DelayFor(i));
        clock.Advance(RpcAuthenticator.ForgetAfter + TimeSpan.FromSeconds(1));
        await FailAsync(auth, clock, Attacker, TimeSpan.FromMilliseconds(500));
    }
}
