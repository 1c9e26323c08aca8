using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Plugins;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Session;

/// <summary>
/// The backend over a <see cref="ClientSession"/> in this process: every call goes to the engine, which does its work
/// on its own loop; nothing here blocks the caller's thread. The interface uses it when it opens the session itself,
/// and a daemon serves it to attached interfaces (RTorrent.Remote).
/// </summary>
/// <remarks>
/// A cancellation token cancels the caller's wait; an operation the engine already started carries on (the engine's
/// loop does not abandon half a change).
/// </remarks>
public sealed class SessionBackend : ITorrentBackend
{
    private readonly ClientSession _session;
    private readonly SessionSettings _settings;

    /// <summary>Wraps a session and its settings (changes are saved to its folder through <paramref name="settings"/>).</summary>
    public SessionBackend(ClientSession session, SessionSettings settings, BackendInfo? info = null)
    {
        _session = session;
        _settings = settings;
        Info = info ?? BackendInfo.Local;
    }

    /// <summary>The settings of the session.</summary>
    public SessionSettings Settings => _settings;

    /// <inheritdoc/>
    public BackendInfo Info { get; }

    /// <summary>
    /// Called by <see cref="StopDaemonAsync"/>: a daemon sets it to begin its shutdown. Null (the default) means there
    /// is no daemon to stop.
    /// </summary>
    public Func<Task>? StopDaemon { get; init; }

    /// <summary>The session behind the interface.</summary>
    public ClientSession Session => _session;

    /// <inheritdoc/>
    public Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default) =>
        _session.Engine.GetSnapshotAsync().WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public async Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default) =>
        _session.Engine.Find(id) is { } t ? await _session.Engine.GetDetailsAsync(t).WaitAsync(cancellationToken) : null;

    /// <inheritdoc/>
    public Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_session.Log);

    /// <inheritdoc/>
    public async Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default)
    {
        var settings = _settings.Current;
        var options = new TorrentOptions
        {
            SavePath = string.IsNullOrWhiteSpace(saveDirectory) ? settings.DownloadDirectory : saveDirectory,
            Picker = picker ?? settings.DefaultPicker,
            Storage = storage ?? settings.DefaultStorage,
            DownloadLimit = settings.DefaultTorrentDownloadRateLimit,
            UploadLimit = settings.DefaultTorrentUploadRateLimit,
        };
        try
        {
            Directory.CreateDirectory(options.SavePath);
            Torrent t;
            if (MagnetLink.LooksLikeMagnet(pathOrMagnet.Trim()))
                t = await _session.AddAsync(MagnetLink.Parse(pathOrMagnet.Trim()), options, start);
            else
                t = await _session.AddAsync(TorrentMetainfo.Load(ExpandHome(pathOrMagnet.Trim())), options, start);
            return t.InfoHash.ToHex();
        }
        catch (FileNotFoundException)
        {
            throw new InvalidOperationException($"No such file: {pathOrMagnet}");
        }
        catch (Exception e) when (e is TorrentFormatException or MagnetFormatException)
        {
            throw new InvalidOperationException($"Not a usable torrent: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(e.Message, e);
        }
    }

    private static string ExpandHome(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path;

    private Torrent Get(string id) => _session.Engine.Find(id) ?? throw new InvalidOperationException("That torrent is no longer in the session.");

    /// <inheritdoc/>
    public Task StartAsync(string id, CancellationToken cancellationToken = default) => Get(id).StartAsync().WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task StopAsync(string id, CancellationToken cancellationToken = default) => Get(id).StopAsync().WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task RecheckAsync(string id, CancellationToken cancellationToken = default) => Get(id).RecheckAsync().WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default) =>
        _session.RemoveAsync(Get(id), deleteData).WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public async Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default)
    {
        var t = Get(id);
        foreach (int i in fileIndexes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await t.SetFilePriorityAsync(i, priority);
        }
    }

    /// <inheritdoc/>
    public Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Get(id).SetRateLimitsAsync(downloadLimit, uploadLimit).WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        _settings.UpdateAsync(s => s with { DownloadRateLimit = Math.Max(0, downloadLimit), UploadRateLimit = Math.Max(0, uploadLimit) },
            cancellationToken);

    /// <inheritdoc/>
    public Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) =>
        Get(id).SetSequentialAsync(sequential).WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public IReadOnlyList<string> PickerNames =>
        [.. _session.Components.Pickers.Select(p => p.Name).OrderBy(n => n == _settings.Current.DefaultPicker ? 0 : 1)];

    /// <inheritdoc/>
    public IReadOnlyList<string> StorageNames =>
        [.. _session.Components.Storages.Select(p => p.Name).OrderBy(n => n == _settings.Current.DefaultStorage ? 0 : 1)];

    /// <inheritdoc/>
    public IReadOnlyList<PluginInfo> Plugins =>
        _session.Plugins.Plugins.Select(p => new PluginInfo(
            p.Name,
            p.Kinds.Aggregate(PluginKinds.None, (k, kind) => k | kind switch
            {
                ComponentKind.Picker => PluginKinds.Picker,
                ComponentKind.PeerSource => PluginKinds.PeerSource,
                ComponentKind.Storage => PluginKinds.Storage,
                _ => PluginKinds.None,
            }),
            p.Version ?? "",
            p.Folder,
            p.IsLoaded ? "loaded" : "failed: " + p.Error)).ToArray();

    /// <inheritdoc/>
    public Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) => Task.FromResult(ToEditable(_settings.Current));

    /// <summary>The part of <paramref name="s"/> the interface edits.</summary>
    public static EditableSettings ToEditable(EngineSettings s) => new()
    {
        ListenPort = s.ListenPort,
        DownloadFolder = s.DownloadDirectory,
        WatchFolder = s.WatchDirectory ?? "",
        DownloadLimit = s.DownloadRateLimit,
        UploadLimit = s.UploadRateLimit,
        UploadSlots = s.UploadSlots,
        MaxConnections = s.MaxConnections,
        Dht = s.DhtEnabled,
        Pex = s.PexEnabled,
        Lsd = s.LsdEnabled,
        Encryption = s.Encryption,
        StartAddedTorrents = s.StartAddedTorrents,
    };

    /// <inheritdoc/>
    /// <remarks>Rate and connection limits apply at once; the port, peer sources and encryption apply at the next start.</remarks>
    public async Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default)
    {
        try
        {
            await _settings.UpdateAsync(s => s with
            {
                ListenPort = settings.ListenPort,
                DownloadDirectory = settings.DownloadFolder,
                WatchDirectory = string.IsNullOrWhiteSpace(settings.WatchFolder) ? null : settings.WatchFolder,
                DownloadRateLimit = settings.DownloadLimit,
                UploadRateLimit = settings.UploadLimit,
                UploadSlots = settings.UploadSlots,
                MaxConnections = settings.MaxConnections,
                DhtEnabled = settings.Dht,
                PexEnabled = settings.Pex,
                LsdEnabled = settings.Lsd,
                Encryption = settings.Encryption,
                StartAddedTorrents = settings.StartAddedTorrents,
            }, cancellationToken);
        }
        catch (SettingsException e)
        {
            throw new InvalidOperationException(string.Join("; ", e.Errors), e);
        }
    }

    /// <inheritdoc/>
    public async Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default) =>
        // statvfs may block on a dead network share: never on the caller's thread.
        await Task.Run(() => DiskSpace.FreeBytes(folder), cancellationToken).WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task StopDaemonAsync(CancellationToken cancellationToken = default) =>
        StopDaemon is { } stop ? stop() : throw new NotSupportedException("This interface runs the session itself; quit to stop it.");
}
