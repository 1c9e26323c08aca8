using System.Net;
using RTorrent.Abstractions;
using RTorrent.Cli;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Logging;
using RTorrent.Testing;

namespace RTorrent.Tests.Cli;

/// <summary>The session the interface opens itself logs like a daemon's: engine errors are neither lost nor hidden.</summary>
public sealed class LocalSessionTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("rt-local-session");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task An_engine_error_reaches_the_session_folders_log_file_and_the_interfaces_session_log()
    {
        var settings = new EngineSettings { SessionDirectory = Path.Combine(_dir, "session"), DownloadDirectory = Path.Combine(_dir, "data") };
        var options = SessionOptions.FromSettings(settings) with
        {
            Engine = SessionOptions.EngineConfigFrom(settings) with { ListenAddress = IPAddress.Loopback, ListenPort = 0 },
            LoadPlugins = false,
            EnableDht = false,
        };
        await using (var local = await LocalSession.OpenAsync(options, settings, RunOverrides.None))
        {
            local.Session.Engine.Loop.Post(() => throw new InvalidOperationException("a bug on the engine loop"));

            // The global log view's source: the backend's session log.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            IReadOnlyList<LogEntry> log;
            while (!(log = await local.Backend.GetSessionLogAsync()).Any(e => e.Message.Contains("a bug on the engine loop")))
            {
                if (DateTime.UtcNow > deadline) Assert.Fail("the engine's error never reached the session log");
                await Task.Delay(10);
            }
            Assert.Equal(PluginLogLevel.Error, Assert.Single(log, e => e.Message.Contains("a bug on the engine loop")).Level);
        }

        // Closing the session writes its log out.
        string file = await File.ReadAllTextAsync(SessionLogFile.PathIn(settings.SessionDirectory));
        Assert.Contains(file.Split('\n'), l => l.Contains(" error rtorrent.engine: unhandled error on the engine loop: System.InvalidOperationException: a bug on the engine loop"));
        Assert.Contains("info rtorrent.engine: listening on port", file);
    }
}
