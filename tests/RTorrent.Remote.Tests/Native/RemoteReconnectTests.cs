using RTorrent.Engine.Session;
using RTorrent.Remote.Native;
using RTorrent.Remote.Security;
using RTorrent.Remote.Tests.Infrastructure;
using RTorrent.Testing;

namespace RTorrent.Remote.Tests.Native;

/// <summary>
/// A daemon that goes away and comes back: calls fail with <see cref="BackendUnavailableException"/> and a retry
/// time, nothing touches the network before it, the delays double up to <see cref="RemoteBackend.MaxRetryDelay"/>,
/// and a restarted daemon's list replaces the old one whole.
/// </summary>
public class RemoteReconnectTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private string _folder = null!;
    private string _socket = null!;

    public Task InitializeAsync()
    {
        _folder = TestPaths.NewTempDir("rt-reconnect");
        _socket = Path.Combine(_folder, "rpc.sock");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Calls_fail_until_the_retry_time_without_touching_the_network_and_the_delays_double_up_to_the_cap()
    {
        var clock = new ManualClock();
        var wire = new WireRecorder(_socket);
        using var client = new RemoteBackend(new RemoteTarget { SocketPath = _socket }, clock, wire);

        var old = new FakeBackend();
        old.Set(FakeBackend.Torrent("x"), FakeBackend.Torrent("y"));
        var daemon = await NativeDaemon.StartAsync(old, _socket);
        string oldInstance;
        try
        {
            var first = await client.GetSessionAsync().WaitAsync(Limit);
            Assert.Equal(["x", "y"], first.Torrents.Select(t => t.Id));
            oldInstance = daemon.Journal.Instance;
        }
        finally
        {
            await daemon.DisposeAsync();
        }

        // Gone: the next call tries, fails, and says when it will try again.
        var down = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync().WaitAsync(Limit));
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(1), down.RetryAt);
        Assert.Equal($"{_socket}: not running (no socket)", down.Message);
        int connects = wire.Connects, requests = wire.Requests;

        // Before then every call fails at once, with the same time, and nothing is sent.
        var again = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync());
        Assert.Equal(down.RetryAt, again.RetryAt);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetDetailsAsync("x"));
        await Assert.ThrowsAsync<BackendUnavailableException>(() => client.StartAsync("x"));
        clock.AdvanceTo(down.RetryAt!.Value - TimeSpan.FromTicks(1));
        var almost = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionLogAsync());
        Assert.Equal(down.RetryAt, almost.RetryAt);
        Assert.Equal(connects, wire.Connects);
        Assert.Equal(requests, wire.Requests);

        // Each failed attempt doubles the wait, up to the cap.
        DateTimeOffset retryAt = down.RetryAt!.Value;
        var waits = new List<TimeSpan>();
        for (int i = 0; i < 8; i++)
        {
            clock.AdvanceTo(retryAt);
            var failed = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync().WaitAsync(Limit));
            Assert.True(wire.Connects > connects, "the attempt at the retry time must try the network");
            connects = wire.Connects;
            waits.Add(failed.RetryAt!.Value - clock.GetUtcNow());
            retryAt = failed.RetryAt.Value;
        }
        Assert.Equal([2, 4, 8, 16, 30, 30, 30, 30], waits.Select(w => w.TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(30), RemoteBackend.MaxRetryDelay);

        // Back, as a new run with other torrents: after the retry time the whole new list replaces the old one.
        var restarted = new FakeBackend();
        restarted.Set(FakeBackend.Torrent("y"), FakeBackend.Torrent("z"));
        await using var daemon2 = await NativeDaemon.StartAsync(restarted, _socket);
        Assert.NotEqual(oldInstance, daemon2.Journal.Instance);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync()); // not yet due
        clock.AdvanceTo(retryAt);
        var back = await client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(["y", "z"], back.Torrents.Select(t => t.Id));
        Assert.True(wire.LastSession.GetProperty("full").GetBoolean());
        Assert.Equal(daemon2.Journal.Instance, wire.LastSession.GetProperty("instance").GetString());

        // And from then on, changes as usual.
        restarted.Remove("y");
        var next = await client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(["z"], next.Torrents.Select(t => t.Id));
        Assert.False(wire.LastSession.GetProperty("full").GetBoolean());
        Assert.Same(back.Torrents[1], next.Torrents[0]);
    }

    [Fact]
    public async Task A_restarted_daemon_whose_versions_overlap_the_old_ones_still_sends_its_whole_list()
    {
        var clock = new ManualClock();
        var wire = new WireRecorder(_socket);
        using var client = new RemoteBackend(new RemoteTarget { SocketPath = _socket }, clock, wire);

        var old = new FakeBackend();
        old.Set(FakeBackend.Torrent("x"), FakeBackend.Torrent("y"));
        await using (var daemon = await NativeDaemon.StartAsync(old, _socket))
        {
            await client.GetSessionAsync().WaitAsync(Limit);    // version 1
            old.Remove("x");
            await client.GetSessionAsync().WaitAsync(Limit);    // version 2, x removed
            Assert.Equal(2, wire.LastSession.GetProperty("version").GetInt64());
        }
        var down = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync().WaitAsync(Limit));

        // The new run has taken more snapshots than the client has seen, so version numbers alone would be plausible.
        var restarted = new FakeBackend();
        restarted.Set(FakeBackend.Torrent("x"), FakeBackend.Torrent("w"));
        await using var daemon2 = await NativeDaemon.StartAsync(restarted, _socket);
        for (int i = 0; i < 3; i++) await daemon2.Journal.GetAsync();
        clock.AdvanceTo(down.RetryAt!.Value);
        var back = await client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(["w", "x"], back.Torrents.Select(t => t.Id).Order());
    }

    [Fact]
    public async Task ConnectAsync_does_not_wait_for_the_backoff()
    {
        var clock = new ManualClock();
        var wire = new WireRecorder(_socket);
        using var client = new RemoteBackend(new RemoteTarget { SocketPath = _socket }, clock, wire);
        var down = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.ConnectAsync().WaitAsync(Limit));
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(1), down.RetryAt);
        var fake = new FakeBackend();
        await using var daemon = await NativeDaemon.StartAsync(fake, _socket);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync());
        var hello = await client.ConnectAsync().WaitAsync(Limit);
        Assert.Equal(NativeProtocol.Version, hello.Protocol);
        Assert.Empty((await client.GetSessionAsync().WaitAsync(Limit)).Torrents);
    }

    [Fact]
    public async Task A_client_that_never_reached_the_daemon_polls_within_the_backoff_too()
    {
        var clock = new ManualClock();
        var wire = new WireRecorder(_socket);
        using var client = new RemoteBackend(new RemoteTarget { SocketPath = _socket }, clock, wire);
        // The interface polls a daemon that is not there yet (the first call says hello first).
        var down = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync().WaitAsync(Limit));
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(1), down.RetryAt);
        int connects = wire.Connects;
        for (int i = 0; i < 5; i++)
        {
            var again = await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync().WaitAsync(Limit));
            Assert.Equal(down.RetryAt, again.RetryAt);
        }
        Assert.Equal(connects, wire.Connects);

        var fake = new FakeBackend();
        fake.Set(FakeBackend.Torrent("a"));
        await using var daemon = await NativeDaemon.StartAsync(fake, _socket);
        clock.AdvanceTo(down.RetryAt!.Value);
        Assert.Equal(["a"], (await client.GetSessionAsync().WaitAsync(Limit)).Torrents.Select(t => t.Id));
        Assert.Single(wire.Answers(NativeProtocol.Methods.Hello));
    }

    [Fact]
    public async Task A_refused_password_while_polling_backs_off_instead_of_hammering_the_daemon()
    {
        var serverClock = new ManualClock();
        await using var server = await TestServer.StartAsync(o => o with
        {
            Security = o.Security with { Username = "admin", PasswordHash = RpcPassword.Hash("secret", 1000) },
            Time = serverClock,
        });
        var clock = new ManualClock();
        var counting = new CountingHandler();
        using var client = new RemoteBackend(RemoteTarget.Parse($"http://admin:changed@127.0.0.1:{server.Tcp.Port}"), clock, counting);

        // Asked explicitly (at start-up), a refusal is an authentication error the command line can prompt about.
        var connect = client.ConnectAsync();
        serverClock.Advance(await serverClock.WaitForTimerAsync());
        var refused = await Assert.ThrowsAsync<RemoteAuthenticationException>(() => connect.WaitAsync(Limit));
        Assert.Contains("refused the user and password", refused.Message, StringComparison.Ordinal);

        // While polling, it is a disconnection with a retry time, and polls before then send nothing.
        var poll = client.GetSessionAsync();
        serverClock.Advance(await serverClock.WaitForTimerAsync());
        var down = await Assert.ThrowsAsync<BackendUnavailableException>(() => poll.WaitAsync(Limit));
        Assert.Contains("refused the user and password", down.Message, StringComparison.Ordinal);
        Assert.NotNull(down.RetryAt);
        int requests = counting.Requests;
        await Assert.ThrowsAsync<BackendUnavailableException>(() => client.GetSessionAsync().WaitAsync(Limit));
        Assert.Equal(requests, counting.Requests);
    }
}

/// <summary>A plain client handler that counts the requests it sends.</summary>
internal sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler { UseProxy = false })
{
    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        return base.SendAsync(request, cancellationToken);
    }
}
