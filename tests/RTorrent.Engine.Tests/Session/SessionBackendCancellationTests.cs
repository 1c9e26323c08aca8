using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// The interface's cancellation tokens end its waits on a local session: a wait for the engine ends with
/// <see cref="OperationCanceledException"/> when the token is cancelled, even while the engine's loop is busy, and a
/// token cancelled before the call hands nothing to the engine.
/// </summary>
public sealed class SessionBackendCancellationTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDir("rt-cancel");
    private ClientSession _session = null!;
    private SessionBackend _backend = null!;
    private string _id = "";
    private string _otherTorrentFile = "";

    public async Task InitializeAsync()
    {
        var data = Path.Combine(_root, "data");
        var meta = TestTorrents.CreateMultiFile(data, "a", 16 * 1024, 20_000, 30_000);
        var other = TestTorrents.CreateMultiFile(data, "b", 16 * 1024, 10_000);
        _otherTorrentFile = Path.Combine(_root, "b.torrent");
        await File.WriteAllBytesAsync(_otherTorrentFile, other.ToTorrentFile().ToArray());
        var settings = new EngineSettings { SessionDirectory = Path.Combine(_root, "session"), DownloadDirectory = data };
        _session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = settings.SessionDirectory,
            Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
            LoadPlugins = false,
            EnableDht = false,
            DisabledPeerSources = ["tracker", "pex", "lsd"],
        });
        _backend = new SessionBackend(_session, new SessionSettings(settings, _session, persist: false));
        _id = (await _session.AddAsync(meta, new TorrentOptions { SavePath = data })).InfoHash.ToHex();
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        Directory.Delete(_root, true);
    }

    /// <summary>Holds the engine's loop until the result is disposed: nothing handed to the engine can finish meanwhile.</summary>
    /// <remarks>Dispose it in every case (a using): the session's close needs the loop.</remarks>
    private async Task<IDisposable> BlockTheLoopAsync()
    {
        var release = new ManualResetEventSlim();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _session.Engine.Loop.Post(() =>
        {
            blocked.SetResult();
            release.Wait();
        });
        await blocked.Task.WaitAsync(TestWait.Limit);
        return new Release(release);
    }

    private sealed class Release(ManualResetEventSlim release) : IDisposable
    {
        public void Dispose() => release.Set();
    }

    [Fact]
    public async Task Every_wait_for_a_busy_engine_ends_when_its_token_is_cancelled()
    {
        var daemon = new SessionBackend(_session, _backend.Settings) { StopDaemon = () => new TaskCompletionSource().Task };
        var limits = (await _backend.GetSettingsAsync()) with { DownloadLimit = 300_000 };
        (string Name, Func<CancellationToken, Task> Call)[] operations =
        [
            ("GetSessionAsync", ct => _backend.GetSessionAsync(ct)),
            ("GetDetailsAsync", ct => _backend.GetDetailsAsync(_id, ct)),
            ("AddTorrentAsync", ct => _backend.AddTorrentAsync(_otherTorrentFile, "", true, null, null, ct)),
            ("StartAsync", ct => _backend.StartAsync(_id, ct)),
            ("StopAsync", ct => _backend.StopAsync(_id, ct)),
            ("RecheckAsync", ct => _backend.RecheckAsync(_id, ct)),
            ("SetFilePriorityAsync", ct => _backend.SetFilePriorityAsync(_id, [0, 1], Priority.High, ct)),
            ("SetTorrentLimitsAsync", ct => _backend.SetTorrentLimitsAsync(_id, 100_000, 100_000, ct)),
            ("SetGlobalLimitsAsync", ct => _backend.SetGlobalLimitsAsync(200_000, 200_000, ct)),
            ("SetSequentialAsync", ct => _backend.SetSequentialAsync(_id, true, ct)),
            ("SaveSettingsAsync", ct => _backend.SaveSettingsAsync(limits, ct)),
            ("StopDaemonAsync", ct => daemon.StopDaemonAsync(ct)),
            ("RemoveAsync", ct => _backend.RemoveAsync(_id, false, ct)),
        ];
        var stillWaiting = new List<string>();
        using (await BlockTheLoopAsync())
        {
            foreach (var (name, call) in operations)
            {
                using var cts = new CancellationTokenSource();
                var wait = call(cts.Token);
                Assert.False(wait.IsCompleted, $"{name} finished with the engine's loop held");
                cts.Cancel();
                try
                {
                    await wait.WaitAsync(TestWait.Limit);
                    Assert.Fail($"{name} finished with the engine's loop held");
                }
                catch (OperationCanceledException)
                {
                    // The wait ended with the token.
                }
                catch (TimeoutException)
                {
                    stillWaiting.Add(name);
                }
            }
        }
        Assert.Empty(stillWaiting);
        // What was handed over is done once the loop is free: the last call removed the torrent.
        await TestWait.UntilAsync(() => _session.Engine.Find(_id) is null, "the removal handed over before the wait was cancelled");
    }

    [Fact]
    public async Task A_token_cancelled_before_the_call_hands_nothing_to_the_engine()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _backend.StopAsync(_id, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _backend.SetSequentialAsync(_id, true, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _backend.AddTorrentAsync(_otherTorrentFile, "", true, null, null, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _backend.GetSessionAsync(cancelled.Token));

        // The loop takes work in order: had the stop been handed over, this snapshot would come after it.
        var snapshot = await _backend.GetSessionAsync();
        var torrent = Assert.Single(snapshot.Torrents);
        Assert.NotEqual(TorrentState.Stopped, torrent.State);
        Assert.False(torrent.Sequential);
    }

    [Fact]
    public async Task Work_that_fails_after_its_wait_was_cancelled_is_reported_in_the_session_log()
    {
        using var cts = new CancellationTokenSource();
        Task wait;
        using (await BlockTheLoopAsync())
        {
            wait = _backend.SetFilePriorityAsync(_id, [7], Priority.High, cts.Token); // the torrent has 2 files
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TestWait.Limit));
        }
        await TestWait.UntilAsync(() => _session.Log.Any(e => e.Message.Contains("setting file priorities of a failed")),
            "the failure in the session log");
    }
}
