using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// Failures are never silent: what the engine logs reaches the logger factory the session was opened with (the log
/// file of the interface and the daemon), and its warnings and errors reach what the interface shows (the session log
/// and the torrent's Log tab), each once.
/// </summary>
public sealed class SessionLoggingTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDir("rt-logging");
    private readonly CapturingLoggerFactory _logged = new();
    private readonly ProbeFailingStorage _storage = new();
    private ClientSession _session = null!;
    private SessionBackend _backend = null!;
    private string _id = "";

    public async Task InitializeAsync()
    {
        var data = Path.Combine(_root, "data");
        var meta = TestTorrents.CreateMultiFile(data, "a", 16 * 1024, 20_000, 30_000);
        var sessionDir = Path.Combine(_root, "session");
        Directory.CreateDirectory(sessionDir);
        await File.WriteAllTextAsync(Path.Combine(sessionDir, "stats.json"), "{ not json");
        var settings = new EngineSettings { SessionDirectory = sessionDir, DownloadDirectory = data };
        _session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = sessionDir,
            Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
            LoadPlugins = false,
            EnableDht = false,
            DisabledPeerSources = ["tracker", "pex", "lsd"],
            LoggerFactory = _logged,
        });
        _session.Components.RegisterBuiltIns(_storage);
        _backend = new SessionBackend(_session, new SessionSettings(settings, _session, persist: false));
        _id = (await _session.AddAsync(meta, new TorrentOptions { SavePath = data, Storage = ProbeFailingStorage.StorageName })).InfoHash.ToHex();
    }

    public async Task DisposeAsync()
    {
        _storage.ProbeFailure = null;
        await _session.DisposeAsync();
        Directory.Delete(_root, true);
    }

    /// <summary>What the torrent's Log tab shows (the backend does not need the caller's context to answer).</summary>
    private IReadOnlyList<LogEntry> TorrentLog() => _backend.GetDetailsAsync(_id).Result!.Log;

    [Fact]
    public async Task An_error_on_the_engine_loop_reaches_the_session_logger_and_the_session_log()
    {
        _session.Engine.Loop.Post(() => throw new InvalidOperationException("a bug on the loop"));

        await TestWait.UntilAsync(() => _backend.GetSessionLogAsync().Result.Any(e => e.Message.Contains("a bug on the loop")), "the session log");
        var entry = Assert.Single(await _backend.GetSessionLogAsync(), e => e.Message.Contains("a bug on the loop"));
        Assert.Equal(PluginLogLevel.Error, entry.Level);
        Assert.Equal("unhandled error on the engine loop: a bug on the loop", entry.Message);
        var line = Assert.Single(_logged.Lines, l => l.Exception?.Message == "a bug on the loop");
        Assert.Equal(("rtorrent.engine", LogLevel.Error), (line.Category, line.Level));
        Assert.DoesNotContain(TorrentLog(), e => e.Message.Contains("a bug on the loop")); // it names no torrent
    }

    [Fact]
    public async Task A_warning_that_names_a_torrent_shows_in_its_log_and_the_session_log_until_it_is_removed()
    {
        // The resume save a setting change asks for fails in a way nothing but the save queue's logger hears of.
        _storage.ProbeFailure = () => new NotSupportedException("the probe refused");
        await _backend.SetFilePriorityAsync(_id, [0], Priority.High);

        const string Expected = "saving the settings of a failed: the probe refused";
        await TestWait.UntilAsync(() => TorrentLog().Any(e => e.Message == Expected), "the torrent's log");
        Assert.Equal(PluginLogLevel.Warning, TorrentLog().Single(e => e.Message == Expected).Level);
        Assert.Single(await _backend.GetSessionLogAsync(), e => e.Message == Expected);
        Assert.Single(_logged.Lines, l => l.Message == Expected && l.Category == "rtorrent.engine");
        var times = TorrentLog().Select(e => e.Time).ToList();
        Assert.Equal(times.Order(), times); // merged with the torrent's own lines in time order

        _storage.ProbeFailure = null;
        await _backend.RemoveAsync(_id, deleteData: false);
        Assert.Empty(_session.EngineLinesOf(InfoHash.FromHex(_id)));
    }

    [Fact]
    public async Task Lines_a_log_already_holds_are_not_kept_twice()
    {
        // A torrent's own warning (a failed resume save at stop) is in its log once, and not in the session log.
        _storage.ProbeFailure = () => new IOException("the disk is gone");
        await _backend.StopAsync(_id);
        _storage.ProbeFailure = null;
        Assert.Single(TorrentLog(), e => e.Message.Contains("the disk is gone"));
        Assert.DoesNotContain(await _backend.GetSessionLogAsync(), e => e.Message.Contains("the disk is gone"));
        Assert.Single(_logged.Lines, l => l.Message.Contains("the disk is gone")); // the session logger has it once too

        // The session's own report of an unreadable stats.json is in the session log once, though its logger warned too.
        Assert.Single(await _backend.GetSessionLogAsync(), e => e.Message.Contains("stats.json") && e.Message.Contains("not valid"));
        Assert.Equal(2, _logged.Lines.Count(l => l.Message.Contains("stats.json") && l.Message.Contains("not valid")));
    }

    /// <summary>Remembers every line written to its loggers.</summary>
    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message, Exception? Exception)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }

        private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue((category, logLevel, formatter(state, exception), exception));
        }
    }

    /// <summary>Files on disk whose probe can be made to fail (registered as a built-in: no plugin guard in between).</summary>
    private sealed class ProbeFailingStorage : IStorageFactory, IRTorrentPlugin
    {
        public const string StorageName = "probe-fails";

        public volatile Func<Exception>? ProbeFailure;

        public string Name => StorageName;
        public string Version => "test";
        public string Description => "files whose probe fails when told";

        public void Register(IPluginRegistry registry) => registry.AddStorage(this);

        public ITorrentStorage Open(StorageContext context) => new Storage(new PlainFileStorage(context), this);

        private sealed class Storage(ITorrentStorage inner, ProbeFailingStorage owner) : ITorrentStorage
        {
            public ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
                inner.ReadAsync(fileIndex, offset, buffer, cancellationToken);
            public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
                inner.WriteAsync(fileIndex, offset, data, cancellationToken);
            public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
            public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken) =>
                owner.ProbeFailure is { } fail ? throw fail() : inner.ProbeAsync(fileIndex, cancellationToken);
            public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken) =>
                inner.PrepareAsync(fileIndex, preallocate, cancellationToken);
            public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken) => inner.MoveAsync(newSaveDirectory, cancellationToken);
            public ValueTask DeleteAsync(CancellationToken cancellationToken) => inner.DeleteAsync(cancellationToken);
            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
