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
        var torrent = await _session.AddAsync(meta, new TorrentOptions { SavePath = _root, Labels = ["movies"] });
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
}
