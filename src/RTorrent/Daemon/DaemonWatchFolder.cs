using Microsoft.Extensions.Logging;
using RTorrent.Engine.Session;

namespace RTorrent.Daemon;

/// <summary>
/// The daemon's watch folder: the one in settings.json (<c>watchDirectory</c>), followed when a client changes it,
/// adding what appears there with the session's defaults (save folder, <c>startAddedTorrents</c>). What it adds or
/// refuses goes to the log. While a daemon runs, it alone watches the folder (an attached interface does not).
/// </summary>
internal sealed class DaemonWatchFolder : IAsyncDisposable
{
    private readonly SessionBackend _backend;
    private readonly SessionSettings _settings;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private WatchFolder? _watch;
    private string? _folder;
    private bool _disposed;

    public DaemonWatchFolder(SessionBackend backend, SessionSettings settings, ILogger log)
    {
        _backend = backend;
        _settings = settings;
        _log = log;
    }

    public void Start()
    {
        _settings.Changed += OnSettingsChanged;
        _ = FollowAsync(_settings.Current.WatchDirectory);
    }

    private void OnSettingsChanged(Engine.Settings.EngineSettings settings) => _ = FollowAsync(settings.WatchDirectory);

    private async Task FollowAsync(string? folder)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed || folder == _folder) return;
            if (_watch is { } old) await old.DisposeAsync().ConfigureAwait(false);
            _watch = null;
            _folder = folder;
            if (string.IsNullOrWhiteSpace(folder)) return;
            var watch = new WatchFolder(folder, AddAsync);
            watch.Reported += r =>
            {
                if (r.IsError) _log.LogWarning("{Message}", r.Message);
                else _log.LogInformation("{Message}", r.Message);
            };
            watch.Start();
            _watch = watch;
            _log.LogInformation("watching {Folder} for .torrent files", watch.Folder);
        }
        catch (Exception e)
        {
            _log.LogError("cannot watch {Folder}: {Error}", folder, e.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task AddAsync(string source, CancellationToken cancellationToken) =>
        _backend.AddTorrentAsync(source, "", _settings.Current.StartAddedTorrents, null, null, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _settings.Changed -= OnSettingsChanged;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_watch is { } watch) await watch.DisposeAsync().ConfigureAwait(false);
            _watch = null;
        }
        finally
        {
            _gate.Release();
        }
    }
}
