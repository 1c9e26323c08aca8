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
/// Every wait takes the caller's cancellation token: a cancelled token ends the wait with
/// <see cref="OperationCanceledException"/>. A token cancelled before the call means nothing is handed to the engine;
/// an operation the engine was already handed carries on (the engine's loop does not abandon half a change), and if
/// it fails after its caller stopped waiting, the failure goes to the session log instead of being lost.
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
        // A feed's torrents get what one added from the interface gets (folder, picker, limits, start or not).
        session.FeedAddDefaults = () =>
        {
            var s = _settings.Current;
            return (new TorrentOptions
            {
                SavePath = s.DownloadDirectory,
                Picker = s.DefaultPicker,
                Storage = s.DefaultStorage,
                DownloadLimit = s.DefaultTorrentDownloadRateLimit,
                UploadLimit = s.DefaultTorrentUploadRateLimit,
            }, s.StartAddedTorrents);
        };
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
    public async Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var snapshot = await _session.Engine.GetSnapshotAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var mapping = _session.PortMapping;
        return _settings.Current.AltSpeedEnabled || mapping.State != PortMapping.PortMappingState.Off
            ? snapshot with
            {
                AltSpeedEnabled = _settings.Current.AltSpeedEnabled,
                PortMapping = mapping.State == PortMapping.PortMappingState.Off ? null : mapping,
            }
            : snapshot;
    }

    /// <inheritdoc/>
    /// <remarks>The log holds the torrent's own lines and the warnings and errors logged about it (<see cref="ClientSession.EngineLinesOf"/>).</remarks>
    public async Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_session.Engine.Find(id) is not { } t) return null;
        var details = await _session.Engine.GetDetailsAsync(t).WaitAsync(cancellationToken).ConfigureAwait(false);
        var logged = _session.EngineLinesOf(t.InfoHash);
        return logged.Count == 0 ? details : details with { Log = [.. details.Log.Concat(logged).OrderBy(e => e.Time)] };
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled<IReadOnlyList<LogEntry>>(cancellationToken) : Task.FromResult(_session.Log);

    /// <summary>
    /// Waits for <paramref name="work"/>, which the engine (or the settings) was handed, until
    /// <paramref name="cancellationToken"/> is cancelled: the wait then ends with <see cref="OperationCanceledException"/>
    /// and the work carries on. Should it fail afterwards, nobody is waiting to be told: the session log says so.
    /// </summary>
    private async Task<T> WaitAsync<T>(Task<T> work, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await work.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !work.IsCompletedSuccessfully)
        {
            LogIfItFailsLater(work, what);
            throw;
        }
    }

    private async Task WaitAsync(Task work, string what, CancellationToken cancellationToken)
    {
        try
        {
            await work.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !work.IsCompletedSuccessfully)
        {
            LogIfItFailsLater(work, what);
            throw;
        }
    }

    private void LogIfItFailsLater(Task work, string what) =>
        _ = work.ContinueWith(static (t, state) =>
            {
                var (session, what) = ((ClientSession, string))state!;
                session.AddLog(PluginLogLevel.Warning, $"{what} failed after the wait for it was cancelled: {t.Exception!.GetBaseException().Message}");
            }, (_session, what), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    /// <inheritdoc/>
    public async Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
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
            Task<Torrent> adding;
            if (MagnetLink.LooksLikeMagnet(pathOrMagnet.Trim()))
                adding = _session.AddAsync(MagnetLink.Parse(pathOrMagnet.Trim()), options, start);
            else
                adding = _session.AddAsync(TorrentMetainfo.Load(ExpandHome(pathOrMagnet.Trim())), options, start);
            var t = await WaitAsync(adding, $"adding {pathOrMagnet.Trim()}", cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Hands <paramref name="operation"/> on the torrent <paramref name="id"/> to the engine, unless the token is
    /// already cancelled, and waits for it until the token is cancelled.
    /// </summary>
    private async Task OnTorrentAsync(string id, string what, Func<Torrent, Task> operation, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var t = Get(id);
        await WaitAsync(operation(t), $"{what} {t.Name}", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task StartAsync(string id, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "starting", t => t.StartAsync(), cancellationToken);

    /// <inheritdoc/>
    public Task StartNowAsync(string id, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "force-starting", t => t.StartNowAsync(), cancellationToken);

    /// <inheritdoc/>
    public Task MoveInQueueAsync(string id, QueueMove move, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "moving in the queue", t => _session.Engine.MoveInQueueAsync([t], move), cancellationToken);

    /// <inheritdoc/>
    public Task StopAsync(string id, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "stopping", t => t.StopAsync(), cancellationToken);

    /// <inheritdoc/>
    public Task RecheckAsync(string id, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "checking", t => t.RecheckAsync(), cancellationToken);

    /// <inheritdoc/>
    public Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "removing", t => _session.RemoveAsync(t, deleteData), cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The files change together, in one turn of the engine's loop (none when an index is out of range).</remarks>
    public Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "setting file priorities of", t => t.SetFilePrioritiesAsync([.. fileIndexes.Select(i => (i, priority))]), cancellationToken);

    /// <inheritdoc/>
    public Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "setting the rate limits of", t => t.SetRateLimitsAsync(downloadLimit, uploadLimit), cancellationToken);

    /// <inheritdoc/>
    public async Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The settings wait for their turn with the token; once saved, the change is applied whether or not anyone waits.
        // The limits in force change: the turtle ones while turtle mode is on (what the status line shows and the throttle keys step from).
        await WaitAsync(_settings.UpdateAsync(s => s.AltSpeedEnabled
                ? s with { AltDownloadRateLimit = Math.Max(0, downloadLimit), AltUploadRateLimit = Math.Max(0, uploadLimit) }
                : s with { DownloadRateLimit = Math.Max(0, downloadLimit), UploadRateLimit = Math.Max(0, uploadLimit) },
            cancellationToken), "setting the session's rate limits", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "setting sequential download of", t => t.SetSequentialAsync(sequential), cancellationToken);

    /// <inheritdoc/>
    public Task SetSuperSeedingAsync(string id, bool on, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "setting super-seeding of", t => t.SetSuperSeedingAsync(on), cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Category>> GetCategoriesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_session.Categories.All);

    /// <inheritdoc/>
    public Task SaveCategoryAsync(Category category, CancellationToken cancellationToken = default) =>
        WaitBoundedAsync(_session.SaveCategoryAsync(category), $"changing category {category.Name}", cancellationToken);

    /// <inheritdoc/>
    public Task RemoveCategoryAsync(string name, CancellationToken cancellationToken = default) =>
        WaitAsync(_session.RemoveCategoryAsync(name), $"removing category {name}", cancellationToken);

    /// <inheritdoc/>
    public Task SetCategoryAsync(string id, string? category, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var t = Get(id);
        return WaitBoundedAsync(_session.SetCategoryAsync(t, string.IsNullOrWhiteSpace(category) ? null : category),
            $"setting the category of {t.Name}", cancellationToken);
    }

    /// <inheritdoc/>
    public Task SetTagsAsync(string id, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        OnTorrentAsync(id, "setting the tags of", t => t.SetLabelsAsync(TorrentLabels.Normalize(tags)), cancellationToken);

    /// <summary>How long a category change is waited for before its move goes on in the background.</summary>
    internal static TimeSpan CategoryMoveWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Waits for <paramref name="work"/> at most <see cref="CategoryMoveWait"/>: a long move goes on (a failure is logged).</summary>
    private async Task WaitBoundedAsync(Task work, string what, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(CategoryMoveWait);
        try
        {
            await WaitAsync(work, what, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Still moving: WaitAsync logs it if it fails later; the torrent's log says how it ends.
        }
    }

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
                ComponentKind.TorrentSource => PluginKinds.TorrentSource,
                _ => PluginKinds.None,
            }),
            p.Version ?? "",
            p.Folder,
            p.IsLoaded ? "loaded" : "failed: " + p.Error)).ToArray();

    /// <inheritdoc/>
    public Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled<EditableSettings>(cancellationToken) : Task.FromResult(ToEditable(_settings.Current));

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
        IPv4 = s.ListenOnIPv4,
        IPv6 = s.ListenOnIPv6,
        PortForwarding = s.PortForwardingEnabled,
        Utp = s.EnableIncomingUtp || s.EnableOutgoingUtp,
        Encryption = s.Encryption,
        StartAddedTorrents = s.StartAddedTorrents,
        AltSpeedEnabled = s.AltSpeedEnabled,
        AltDownloadLimit = s.AltDownloadRateLimit,
        AltUploadLimit = s.AltUploadRateLimit,
        AltSpeedScheduleEnabled = s.AltSpeedScheduleEnabled,
        AltSpeedScheduleBegin = s.AltSpeedScheduleBegin,
        AltSpeedScheduleEnd = s.AltSpeedScheduleEnd,
        AltSpeedScheduleDays = s.AltSpeedScheduleDays,
        // A hook switched off shows as none; its program is kept in settings.json for when it is switched on again.
        AddedHook = s.AddedHookEnabled ? s.AddedHook ?? "" : "",
        CompletedHook = s.CompletedHookEnabled ? s.CompletedHook ?? "" : "",
        RemovedHook = s.RemovedHookEnabled ? s.RemovedHook ?? "" : "",
        BlocklistEnabled = s.BlocklistEnabled,
        BlocklistUrl = s.BlocklistUrl ?? "",
        BlocklistFile = s.BlocklistFile ?? "",
        BlocklistRefreshHours = s.BlocklistRefreshHours,
        MaxActiveDownloads = s.DownloadQueueEnabled ? s.DownloadQueueSize : null,
        MaxActiveSeeds = s.SeedQueueEnabled ? s.SeedQueueSize : null,
        MaxActiveTorrents = s.ActiveQueueEnabled ? s.ActiveQueueSize : null,
        QueueStalledMinutes = s.QueueStalledEnabled ? s.QueueStalledMinutes : null,
    };

    /// <summary>A hook from the interface: a program switches it on, empty switches it off and keeps the program.</summary>
    private static (string? Program, bool Enabled) Hook(string given, string? program) =>
        string.IsNullOrWhiteSpace(given) ? (program, false) : (given.Trim(), true);

    /// <inheritdoc/>
    /// <remarks>
    /// Rate, connection and queue limits and the blocklist apply at once; the port, peer sources and encryption apply at
    /// the next start.
    /// </remarks>
    public async Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await WaitAsync(_settings.UpdateAsync(s => FromEditable(s, settings), cancellationToken), "saving the settings", cancellationToken)
                .ConfigureAwait(false);
        }
        catch (SettingsException e)
        {
            throw new InvalidOperationException(string.Join("; ", e.Errors), e);
        }
    }

    /// <summary><paramref name="s"/> with what the interface edits taken from <paramref name="settings"/>.</summary>
    public static EngineSettings FromEditable(EngineSettings s, EditableSettings settings)
    {
        var (added, addedOn) = Hook(settings.AddedHook, s.AddedHook);
        var (completed, completedOn) = Hook(settings.CompletedHook, s.CompletedHook);
        var (removed, removedOn) = Hook(settings.RemovedHook, s.RemovedHook);
        return s with
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
            ListenOnIPv4 = settings.IPv4,
            ListenOnIPv6 = settings.IPv6,
            PortForwardingEnabled = settings.PortForwarding,
            // Unchanged, the two uTP switches stay as settings.json has them (one may be off alone).
            EnableIncomingUtp = settings.Utp == (s.EnableIncomingUtp || s.EnableOutgoingUtp) ? s.EnableIncomingUtp : settings.Utp,
            EnableOutgoingUtp = settings.Utp == (s.EnableIncomingUtp || s.EnableOutgoingUtp) ? s.EnableOutgoingUtp : settings.Utp,
            Encryption = settings.Encryption,
            StartAddedTorrents = settings.StartAddedTorrents,
            AltSpeedEnabled = settings.AltSpeedEnabled,
            AltDownloadRateLimit = settings.AltDownloadLimit,
            AltUploadRateLimit = settings.AltUploadLimit,
            AltSpeedScheduleEnabled = settings.AltSpeedScheduleEnabled,
            AltSpeedScheduleBegin = settings.AltSpeedScheduleBegin,
            AltSpeedScheduleEnd = settings.AltSpeedScheduleEnd,
            AltSpeedScheduleDays = settings.AltSpeedScheduleDays,
            AddedHook = added,
            AddedHookEnabled = addedOn,
            CompletedHook = completed,
            CompletedHookEnabled = completedOn,
            RemovedHook = removed,
            RemovedHookEnabled = removedOn,
            BlocklistEnabled = settings.BlocklistEnabled,
            BlocklistUrl = string.IsNullOrWhiteSpace(settings.BlocklistUrl) ? null : settings.BlocklistUrl.Trim(),
            BlocklistFile = string.IsNullOrWhiteSpace(settings.BlocklistFile) ? null : settings.BlocklistFile.Trim(),
            BlocklistRefreshHours = settings.BlocklistRefreshHours,
            // Off keeps the size in settings.json (as Transmission keeps download-queue-size while disabled).
            DownloadQueueEnabled = settings.MaxActiveDownloads is not null,
            DownloadQueueSize = settings.MaxActiveDownloads ?? s.DownloadQueueSize,
            SeedQueueEnabled = settings.MaxActiveSeeds is not null,
            SeedQueueSize = settings.MaxActiveSeeds ?? s.SeedQueueSize,
            ActiveQueueEnabled = settings.MaxActiveTorrents is not null,
            ActiveQueueSize = settings.MaxActiveTorrents ?? s.ActiveQueueSize,
            QueueStalledEnabled = settings.QueueStalledMinutes is not null,
            QueueStalledMinutes = settings.QueueStalledMinutes ?? s.QueueStalledMinutes,
        };
    }

    /// <inheritdoc/>
    public async Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default) =>
        // statvfs may block on a dead network share: never on the caller's thread.
        await Task.Run(() => DiskSpace.FreeBytes(folder), cancellationToken).WaitAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<Feeds.FeedsSnapshot> GetFeedsAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled<Feeds.FeedsSnapshot>(cancellationToken) : Task.FromResult(_session.Feeds.GetSnapshot());

    /// <inheritdoc/>
    public Task SetFeedsAsync(Feeds.FeedConfig config, CancellationToken cancellationToken = default) =>
        _session.Feeds.SetConfigAsync(config, cancellationToken);

    /// <inheritdoc/>
    public async Task RefreshFeedAsync(string? feed, CancellationToken cancellationToken = default)
    {
        // An unknown name fails at once; the poll itself (a download of up to a minute) goes on in the background.
        var refresh = _session.Feeds.RefreshAsync(feed, CancellationToken.None);
        if (refresh.IsFaulted) await refresh.ConfigureAwait(false);
        _ = refresh.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <inheritdoc/>
    public async Task StopDaemonAsync(CancellationToken cancellationToken = default)
    {
        if (StopDaemon is not { } stop) throw new NotSupportedException("This interface runs the session itself; quit to stop it.");
        cancellationToken.ThrowIfCancellationRequested();
        await WaitAsync(stop(), "stopping the daemon", cancellationToken).ConfigureAwait(false);
    }
}
