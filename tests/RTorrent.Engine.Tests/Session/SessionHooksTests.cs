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
/// The session runs its hooks on add, on completion and on removal, for a torrent whose name is a shell command, and
/// keeps each hook's exit code and output in the torrent's log (the session log once the torrent is gone).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SessionHooksTests : IAsyncLifetime
{
    private const string HostileName = "$(touch pwned)";
    private readonly string _root = TestPaths.NewTempDir("rt-session-hooks");
    private ClientSession _session = null!;
    private SessionBackend _backend = null!;
    private string _events = "";

    public async Task InitializeAsync()
    {
        _events = Path.Combine(_root, "events");
        string hook = Path.Combine(_root, "hook.sh");
        File.WriteAllText(hook, $"#!/bin/sh\nprintf '%s %s %s\\n' \"$RTORRENT_EVENT\" \"$RTORRENT_NAME\" \"$RTORRENT_CATEGORY\" >> '{_events}'\n" +
                                "echo \"hello from the $RTORRENT_EVENT hook\"\n[ \"$RTORRENT_EVENT\" = removed ] && exit 4\nexit 0\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string sessionDir = Directory.CreateDirectory(Path.Combine(_root, "session")).FullName;
        var settings = new EngineSettings
        {
            SessionDirectory = sessionDir,
            DownloadDirectory = _root,
            AddedHook = hook, AddedHookEnabled = true,
            CompletedHook = hook, CompletedHookEnabled = true,
            RemovedHook = hook, RemovedHookEnabled = true,
        };
        _session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = sessionDir,
            Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, ListenPort = 0 },
            LoadPlugins = false,
            EnableDht = false,
            DisabledPeerSources = ["tracker", "pex", "lsd"],
        });
        _backend = new SessionBackend(_session, new SessionSettings(settings, _session, persist: false));
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        Directory.Delete(_root, true);
    }

    private string[] Events() => File.Exists(_events) ? File.ReadAllLines(_events) : [];

    private IReadOnlyList<LogEntry> TorrentLog(string id) => _backend.GetDetailsAsync(id).Result!.Log;

    [Fact]
    public async Task Add_completion_and_removal_run_the_hooks_and_the_log_keeps_their_exit_code_and_output()
    {
        // Two files of two pieces each; the second file's data is missing, so the torrent downloads until it is skipped.
        var meta = TestTorrents.CreateMultiFile(_root, HostileName, 16 * 1024, 32 * 1024, 32 * 1024);
        File.Delete(Path.Combine(_root, HostileName, "file1.bin"));
        var torrent = await _session.AddAsync(meta, new TorrentOptions { SavePath = _root, Category = "movies", UseCategoryFolder = false, Labels = ["hd"] });
        string id = torrent.InfoHash.ToHex();

        await TestWait.UntilAsync(() => TorrentLog(id).Any(e => e.Message.StartsWith("added hook output:", StringComparison.Ordinal)), "the added hook in the log");
        Assert.Equal([$"added {HostileName} movies"], Events());
        var log = TorrentLog(id);
        Assert.Contains(log, e => e.Level == PluginLogLevel.Information && e.Message.StartsWith($"added hook {Path.Combine(_root, "hook.sh")} exited with code 0", StringComparison.Ordinal));
        Assert.Contains(log, e => e.Message == "added hook output: hello from the added hook");
        Assert.Equal(TorrentState.Downloading, torrent.State);

        // Skipping the missing file completes it.
        await _backend.SetFilePriorityAsync(id, [1], Priority.Skip);
        await TestWait.UntilAsync(() => TorrentLog(id).Any(e => e.Message == "completed hook output: hello from the completed hook"), "the completed hook in the log");
        Assert.Equal([$"added {HostileName} movies", $"completed {HostileName} movies"], Events());

        await _backend.RemoveAsync(id, deleteData: false);
        await TestWait.UntilAsync(() => _backend.GetSessionLogAsync().Result.Any(e => e.Message.Contains("removed hook output:", StringComparison.Ordinal)),
            "the removed hook in the session log");
        Assert.Equal($"removed {HostileName} movies", Events()[^1]);
        var line = Assert.Single(await _backend.GetSessionLogAsync(), e => e.Message.Contains("removed hook", StringComparison.Ordinal) &&
            e.Message.Contains("exited", StringComparison.Ordinal));
        Assert.Equal(PluginLogLevel.Warning, line.Level); // exit code 4
        Assert.StartsWith($"{HostileName}: removed hook", line.Message);
        Assert.Contains("exited with code 4", line.Message);

        Assert.Empty(Directory.GetFiles(_root, "pwned*", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "pwned")));
    }

    [Fact]
    public async Task A_hook_switched_off_does_not_run_and_a_missing_program_leaves_a_clear_line()
    {
        var settings = new SessionSettings(new EngineSettings
        {
            SessionDirectory = _session.SessionDirectory!,
            DownloadDirectory = _root,
            AddedHook = Path.Combine(_root, "hook.sh"), // kept, but off
            CompletedHook = Path.Combine(_root, "no-such-hook"), CompletedHookEnabled = true,
        }, _session, persist: false);
        var backend = new SessionBackend(_session, settings);
        var meta = TestTorrents.CreateMultiFile(_root, "quiet", 16 * 1024, 32 * 1024, 32 * 1024);
        File.Delete(Path.Combine(_root, "quiet", "file1.bin"));
        string id = (await _session.AddAsync(meta, new TorrentOptions { SavePath = _root })).InfoHash.ToHex();

        await backend.SetFilePriorityAsync(id, [1], Priority.Skip);
        await TestWait.UntilAsync(() => TorrentLog(id).Any(e => e.Message.StartsWith("completed hook", StringComparison.Ordinal)), "the completed hook's line");
        var line = Assert.Single(TorrentLog(id), e => e.Message.StartsWith("completed hook", StringComparison.Ordinal));
        Assert.Equal($"completed hook {Path.Combine(_root, "no-such-hook")}: cannot run: {Path.Combine(_root, "no-such-hook")} does not exist", line.Message);
        Assert.Equal(PluginLogLevel.Warning, line.Level);
        Assert.Empty(Events()); // the added hook is off
    }

    [Fact]
    public async Task A_hook_still_running_when_the_session_closes_is_killed_with_its_children_and_says_so()
    {
        string dir = Directory.CreateDirectory(Path.Combine(_root, "closing-session")).FullName;
        string childPid = Path.Combine(_root, "child.pid");
        string hook = Path.Combine(_root, "hang.sh");
        File.WriteAllText(hook, $"#!/bin/sh\nsleep 1000 &\necho $! > '{childPid}'\nwait\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var logged = new LineCapture();
        var session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = dir,
            Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, ListenPort = 0 },
            LoadPlugins = false,
            EnableDht = false,
            DisabledPeerSources = ["tracker", "pex", "lsd"],
            LoggerFactory = logged,
        });
        int pid, child;
        try
        {
            _ = new SessionSettings(new EngineSettings { SessionDirectory = dir, DownloadDirectory = _root, AddedHook = hook, AddedHookEnabled = true },
                session, persist: false);
            var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            session.Hooks.Started += (_, p) => started.TrySetResult(p);
            await session.AddAsync(TestTorrents.CreateMultiFile(_root, "closing", 16 * 1024, 32 * 1024), new TorrentOptions { SavePath = _root });
            pid = await started.Task.WaitAsync(TestWait.Limit);
            await TestWait.UntilAsync(() => File.Exists(childPid) && File.ReadAllText(childPid).EndsWith('\n'), "the hook's child started");
            child = int.Parse(File.ReadAllText(childPid).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            await session.DisposeAsync().AsTask().WaitAsync(TestWait.Limit);
        }
        await TestWait.UntilAsync(() => !IsAlive(pid) && !IsAlive(child), "the hook and its child gone");
        Assert.Contains(logged.Lines, l => l.Contains($"added hook {hook}: killed: the session closed", StringComparison.Ordinal));
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            string text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }

    /// <summary>Every line logged, formatted.</summary>
    private sealed class LineCapture : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;
        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
            Exception? exception, Func<TState, Exception?, string> formatter) => Lines.Enqueue(formatter(state, exception));
    }
}
