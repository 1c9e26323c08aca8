using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Session;

/// <summary>
/// Adding and restoring torrents (issue 13): what can be done off the engine loop is (reading the .torrent and the
/// resume data once, probing the files, validating), and the loop takes torrents many in one turn.
/// </summary>
public sealed partial class ClientSession
{
    // ------------------------------------------------------------------ adding

    /// <summary>
    /// Adds a torrent. Resume data in the session is used when it matches the files on disk; otherwise existing data
    /// is checked (in the engine's check queue). The .torrent is copied into the session so a restart finds it.
    /// Returns once the torrent is checked and started (or left paused).
    /// </summary>
    public async Task<Torrent> AddAsync(TorrentMetainfo metainfo, TorrentOptions options, bool start = true)
    {
        // Refused before anything is written: the session's copy of a torrent it runs stays as it is.
        if (Engine.Find(metainfo.WireHash.ToHex()) is not null) throw new InvalidOperationException($"{metainfo.Name} is already added.");
        options = await WithCategoryAsync(options);
        bool inSessionFolder = _resume is not null && File.Exists(_resume.GetTorrentPath(metainfo.WireHash));
        if (_resume is not null) await _resume.SaveTorrentAsync(metainfo.WireHash, FullTorrentBytes(metainfo));
        var loaded = _resume is null ? null : await _resume.LoadAsync(metainfo.WireHash, metainfo.PieceCount, metainfo.Files.Count);
        var prepared = await PrepareAsync(metainfo, options, loaded, start, unavailable: null);
        Task finishing = Task.CompletedTask;
        var torrent = await Engine.Loop.InvokeAsync(() =>
        {
            var t = AddPreparedOnLoop(prepared);
            finishing = FinishOnLoopAsync(t, prepared, save: true);
            return t;
        });
        await finishing;
        MoveCompletedLater([torrent]); // complete already (its data was there) in its category's incomplete folder
        if (!inSessionFolder) Statistics.TorrentAdded(); // a restore, or adding a torrent the session has, is not an addition
        RunHook(HookEvent.Added, torrent);
        return torrent;
    }

    /// <summary>Adds a magnet link.</summary>
    public async Task<Torrent> AddAsync(MagnetLink magnet, TorrentOptions options, bool start = true)
    {
        if (_resume is not null && File.Exists(_resume.GetTorrentPath(magnet.WireHash)))
        {
            // Fetched before: no need to ask peers again.
            var known = TorrentMetainfo.Load(_resume.GetTorrentPath(magnet.WireHash));
            return await AddAsync(known, options, start);
        }
        options = await WithCategoryAsync(options);
        var added = await Engine.AddAsync(magnet, options, start);
        Statistics.TorrentAdded();
        RunHook(HookEvent.Added, added);
        return added;
    }

    /// <summary>Torrents put into the engine in one turn of its loop during a restore.</summary>
    internal const int RestoreBatchSize = 200;

    private readonly CancellationTokenSource _closing = new();
    private readonly List<Task> _restores = [];

    /// <summary>Whether the session is closing (a restore still running stops at its next torrent).</summary>
    internal bool IsClosing => _closing.IsCancellationRequested;

    /// <summary>
    /// Restores every torrent saved in the session folder, in its saved state (started or paused), and returns them
    /// once each is started, checked or left paused.
    /// </summary>
    /// <remarks>
    /// Each torrent's .torrent and resume data are read once and its files probed, many at a time off the engine loop;
    /// the loop takes the torrents in batches (<see cref="RestoreBatchSize"/> a turn), so an interface or the RPC
    /// sees them arrive and is answered between batches. Resume data that matches the files is trusted: nothing is
    /// hashed and nothing is written. Torrents whose files changed wait in the engine's check queue; the restore
    /// goes on meanwhile. Cancelling (or closing the session) stops it between batches: the torrents already
    /// restored stay (closing saves them), the others stay in the session folder as they were for the next start,
    /// and the list restored so far is returned.
    /// </remarks>
    public async Task<IReadOnlyList<Torrent>> RestoreAsync(CancellationToken cancellationToken = default)
    {
        Task<IReadOnlyList<Torrent>> restore;
        lock (_restores)
        {
            if (_closing.IsCancellationRequested) return [];
            restore = RestoreCoreAsync(cancellationToken);
            _restores.Add(restore);
        }
        try
        {
            return await restore;
        }
        finally
        {
            lock (_restores) _restores.Remove(restore);
            // Feeds start after the restore, so they never add a torrent the restore was about to bring back.
            await StartFeedsOnceAsync();
        }
    }

    private async Task<IReadOnlyList<Torrent>> RestoreCoreAsync(CancellationToken cancellationToken)
    {
        await Task.Yield(); // the caller goes on (an interface draws) while the saved torrents are read
        var restored = new List<Torrent>();
        if (_resume is null) return restored;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        var token = cancel.Token;
        var hashes = _resume.ListTorrents();
        await Engine.HoldQueueAsync();
        bool released = false;
        var queue = new List<(Torrent, int?)>(hashes.Count);
        var finishing = new List<Task>();
        var ready = System.Threading.Channels.Channel.CreateBounded<PreparedTorrent>(
            new System.Threading.Channels.BoundedChannelOptions(2 * RestoreBatchSize) { SingleReader = true });
        // Reading and probing wait on the disk more than they compute: a few more readers than cores.
        var reading = Task.Run(async () =>
        {
            try
            {
                await Parallel.ForEachAsync(hashes, new ParallelOptions { MaxDegreeOfParallelism = 2 * Environment.ProcessorCount, CancellationToken = token },
                    async (hash, ct) =>
                    {
                        if (await PrepareSavedAsync(hash, ct) is { } prepared) await ready.Writer.WriteAsync(prepared, ct);
                    });
            }
            finally
            {
                ready.Writer.Complete();
            }
        }, CancellationToken.None);
        var batch = new List<PreparedTorrent>(RestoreBatchSize);
        try
        {
            while (await ready.Reader.WaitToReadAsync(token))
            {
                batch.Clear();
                while (batch.Count < RestoreBatchSize && ready.Reader.TryRead(out var item)) batch.Add(item);
                await Engine.Loop.InvokeAsync(() =>
                {
                    foreach (var p in batch)
                    {
                        if (token.IsCancellationRequested) break; // the rest stays saved for the next start
                        try
                        {
                            var t = AddPreparedOnLoop(p);
                            if (p.Unavailable is null) finishing.Add(FinishOnLoopAsync(t, p, save: p.Recheck || p.Saved is null));
                            else AddLog(PluginLogLevel.Warning, $"{p.Meta.Name}: {p.Unavailable}; the torrent is paused");
                            restored.Add(t);
                            queue.Add((t, p.Saved?.Settings.QueuePosition));
                        }
                        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
                        {
                            AddLog(PluginLogLevel.Error, $"could not restore {p.Meta.WireHash.ToHex()}: {e.Message}");
                        }
                    }
                });
            }
            await reading; // its failures: a torrent that cannot be read is logged and skipped, so only cancellation
            token.ThrowIfCancellationRequested();
            // Restored as they were read, each at the back: put them back in their saved order. Until then their
            // resume data keeps the saved position, so a crash or a quit during the restore loses no order.
            await Engine.RestoreQueueOrderAsync(queue);
            _restoringPositions.Clear();
            // The queue was held while torrents came in as they were read: now the first in the saved order start.
            released = true;
            await Engine.ReleaseQueueAsync();
            await Task.WhenAll(finishing).WaitAsync(token);
            // A category that categories.json lost is made again with its default folders; torrents complete in their
            // category's incomplete folder (a crash or a failed move) move on.
            foreach (var name in restored.Select(t => t.Category).OfType<string>().Distinct().Where(n => Categories.Find(n) is null).ToArray())
            {
                var c = await EnsureCategoryAsync(name);
                foreach (var t in restored.Where(t => t.Category == name)) await t.SetCategoryAsync(c.Name, c.Limits);
            }
            MoveCompletedLater(restored);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            if (restored.Count < hashes.Count)
                AddLog(PluginLogLevel.Information, $"restoring stopped after {restored.Count} of {hashes.Count} torrents; the others are restored at the next start");
        }
        finally
        {
            // Never leave the readers behind (blocked on a full channel) whatever ended the restore.
            if (!reading.IsCompleted) await cancel.CancelAsync();
            try { await reading; } catch (OperationCanceledException) { }
            if (!released) await Engine.ReleaseQueueAsync();
        }
        return restored;
    }

    /// <summary>What is known of a torrent before it enters the engine, read and probed off the loop.</summary>
    /// <param name="Meta">Its metainfo.</param>
    /// <param name="Options">How it runs.</param>
    /// <param name="Saved">Its resume data, when there was usable data.</param>
    /// <param name="Trusted">The pieces its resume data may be trusted with (null: none known).</param>
    /// <param name="Recheck">Data on disk must be hashed (all of it, or the pieces not trusted).</param>
    /// <param name="Start">Start it (else it stays paused).</param>
    /// <param name="Unavailable">Why it cannot run (a missing plugin), or null.</param>
    /// <param name="Absent">Pieces the check need not read: no byte of them is written (holes of sparse files), or null.</param>
    private sealed record PreparedTorrent(TorrentMetainfo Meta, TorrentOptions Options, ResumeData? Saved, Bitfield? Trusted, bool Recheck,
        bool Start, string? Unavailable, Bitfield? Absent = null);

    /// <summary>Reads a saved torrent, its resume data (once) and its files' state; null when it cannot be restored (logged).</summary>
    private async Task<PreparedTorrent?> PrepareSavedAsync(InfoHash hash, CancellationToken cancellationToken)
    {
        try
        {
            var meta = TorrentMetainfo.Load(_resume!.GetTorrentPath(hash));
            var saved = await _resume.LoadAsync(hash, meta.PieceCount, meta.Files.Count, cancellationToken);
            var data = saved.Data;
            var options = new TorrentOptions
            {
                SavePath = data?.SavePath ?? _options.Engine.DefaultSavePath,
                Picker = string.IsNullOrEmpty(data?.PickerName) ? RarestFirstPickerFactory.PickerName : data.PickerName,
                Storage = string.IsNullOrEmpty(data?.StorageName) ? FileStorageFactory.StorageName : data.StorageName,
                RenamedFiles = data?.RenamedFiles is { Count: > 0 } renamed ? renamed : null,
                FilePriorities = data?.Settings.FilePriorities is { Count: > 0 } fp ? fp : null,
                DownloadLimit = data?.Settings.DownloadRateLimit ?? 0,
                UploadLimit = data?.Settings.UploadRateLimit ?? 0,
                Sequential = data?.Settings.Sequential ?? false,
                SuperSeeding = data?.Settings.SuperSeeding ?? false,
                Labels = data?.Settings.Labels ?? [],
                Category = data?.Settings.Category,
                CategoryLimits = Categories.Find(data?.Settings.Category)?.Limits,
                Trackers = data?.Settings.Trackers,
                MaxConnections = data?.Settings.MaxConnections,
                SeedRatioMode = data?.Settings.SeedRatioMode ?? SeedRatioMode.Global,
                SeedRatioLimit = data?.Settings.SeedRatioLimit,
                SeedIdleMode = data?.Settings.SeedIdleMode ?? SeedRatioMode.Global,
                SeedIdleLimit = data?.Settings.SeedIdleLimit,
                SeedingTimeMode = data?.Settings.SeedingTimeMode ?? SeedRatioMode.Global,
                SeedingTimeLimit = data?.Settings.SeedingTimeLimit,
                MinSeedingTime = data?.Settings.MinSeedingTime,
            };
            if (data?.Settings.QueuePosition is { } position) _restoringPositions[hash] = position;
            // Never moved silently to another storage: the data may live there and nowhere else.
            string? missing = Components.GetStorage(options.Storage) is null ? $"storage plugin '{options.Storage}' is not available"
                : Components.GetPicker(options.Picker) is null ? $"piece picker plugin '{options.Picker}' is not available"
                : null;
            return await PrepareAsync(meta, options, saved, start: !(data?.Settings.Paused ?? false), missing);
        }
        catch (FileNotFoundException)
        {
            return null; // removed meanwhile
        }
        catch (Exception e) when (e is TorrentFormatException or IOException or InvalidOperationException or UnauthorizedAccessException or ArgumentException)
        {
            AddLog(PluginLogLevel.Error, $"could not restore {hash.ToHex()}: {e.Message}");
            return null;
        }
    }

    /// <summary>What to do with a torrent: the pieces its resume data is trusted with, and whether anything must be hashed.</summary>
    private async Task<PreparedTorrent> PrepareAsync(TorrentMetainfo meta, TorrentOptions options, ResumeLoadResult? loaded, bool start, string? unavailable)
    {
        if (unavailable is not null) return new PreparedTorrent(meta, options, loaded?.Data, null, false, false, unavailable);
        var (trusted, recheck, absent) = await LoadTrustedPiecesAsync(meta, options, loaded);
        return new PreparedTorrent(meta, options, loaded?.Data, trusted, recheck, start, null, absent);
    }

    /// <summary>Puts a prepared torrent into the engine in the loop's current turn, with its saved totals and trusted pieces.</summary>
    private Torrent AddPreparedOnLoop(PreparedTorrent p) =>
        Engine.AddOnLoop(p.Meta, p.Options, p.Unavailable, torrent =>
        {
            if (p.Unavailable is not null) return;
            if (!p.Recheck && p.Trusted is not null) torrent.SetHave(p.Trusted);
            if (p.Saved is { } data) ApplySavedState(torrent, data);
            if (!p.Start) torrent.UserPaused = true; // added or restored paused: stays paused
            else if (p.Saved?.Settings.Forced == true) torrent.Forced = true; // started with "start now": beside the queue again
        });

    /// <summary>
    /// Started in the turn that added the torrent: checks it when its data must be hashed (waiting for its turn in the
    /// check queue), then starts it unless it is paused, then saves its resume data when asked.
    /// </summary>
    private async Task FinishOnLoopAsync(Torrent torrent, PreparedTorrent p, bool save)
    {
        try
        {
            if (p.Recheck)
            {
                await torrent.CheckOnLoopAsync(full: p.Trusted is null, p.Trusted, p.Absent);
                if (torrent.CheckPending) return; // stopped before its check ended: the session is closing or it was removed
            }
            if (p.Start && torrent.State != TorrentState.Error) await torrent.StartOnLoopAsync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            torrent.Log(PluginLogLevel.Warning, $"starting failed: {e.Message}");
        }
        if (save) await Task.Run(() => SaveResumeAsync(torrent));
    }

    /// <summary>
    /// What resume data (and the piece journal beside it) says is verified, checked against the files: (trusted
    /// pieces, whether anything must be hashed, the pieces a check need not read). No resume data: everything is hashed
    /// when files exist, nothing when none do. Either way the pieces lying wholly in holes are not read
    /// (<see cref="SparseRegions"/>), so a check after a crash reads what was written, not the torrent's size.
    /// </summary>
    private async Task<(Bitfield? Trusted, bool Recheck, Bitfield? Absent)> LoadTrustedPiecesAsync(TorrentMetainfo meta, TorrentOptions options, ResumeLoadResult? loaded)
    {
        var files = FileRenames.StorageFiles(meta, options.RenamedFiles);
        var probe = _fileStorage.OpenFileStorage(new StorageContext(Path.GetFullPath(options.SavePath), files, meta.WireHash.ToHex()));
        var states = new StorageFileState[meta.Files.Count];
        var paths = new string?[meta.Files.Count];
        bool anyFile = false;
        await using (probe)
        {
            for (int i = 0; i < states.Length; i++)
            {
                if (meta.Files[i].IsPadding) { states[i] = new StorageFileState(true, meta.Files[i].Length, null); continue; }
                states[i] = await probe.ProbeAsync(i, CancellationToken.None);
                paths[i] = probe.GetFullPath(i);
                anyFile |= states[i].Exists && states[i].Length > 0;
            }
        }
        var layout = new FileLayout(files, meta.PieceLength, meta.PieceCount);
        Bitfield? Absent() => SparseRegions.FindAbsentPieces(layout, i => paths[i], meta.PieceHashes);
        if (loaded is null) return (null, anyFile, anyFile ? Absent() : null);
        if (loaded.Status == ResumeLoadStatus.Failed)
            AddLog(PluginLogLevel.Warning, $"{meta.Name}: resume data unusable ({loaded.Error?.Message}); checking the data");
        if (loaded.Data is not { } data || !PathsEqual(data.SavePath, options.SavePath)) return (null, anyFile, anyFile ? Absent() : null);
        // Pieces verified after the last full save, journaled before a crash (PieceJournal): as trusted as claimed ones.
        var journaled = _resume is null ? [] : await PieceJournal.ReadAsync(_resume.GetJournalPath(meta.WireHash), meta.PieceCount);
        var validation = ResumeValidator.Validate(data, layout, states, journaled);
        var trusted = Bitfield.FromBytes(validation.TrustedPieces, meta.PieceCount);
        foreach (var reason in validation.Reasons) AddLog(PluginLogLevel.Information, $"{meta.Name}: {reason}; rechecking its pieces");
        // Pieces never claimed may have been written after the last save (a kill -9 between saves): when a file
        // changed since the save, hash the unclaimed pieces too, or they would be downloaded again.
        bool written = WrittenSinceSave(data, states);
        if (written && validation.IsIntact)
            AddLog(PluginLogLevel.Information, journaled.Length > 0
                ? $"{meta.Name}: files changed since the resume data was saved; {journaled.Length} pieces journaled since, checking the written pieces neither lists"
                : $"{meta.Name}: files changed since the resume data was saved; checking the written pieces it does not list");
        bool recheck = !validation.IsIntact || written;
        var absent = recheck || journaled.Length > 0 ? Absent() : null;
        // A journaled piece lying in a hole was never written: its data is not on disk (a power cut between the
        // storage flush and the append cannot do this, but the journal is not believed over the disk).
        if (absent is not null)
            foreach (int p in journaled)
                if (absent[p] && trusted.Clear(p)) recheck = true;
        return (trusted, recheck, recheck ? absent : null);
    }

    /// <summary>Whether any file differs in existence, size or modification time from what the resume data recorded.</summary>
    private static bool WrittenSinceSave(ResumeData data, StorageFileState[] states)
    {
        for (int i = 0; i < states.Length; i++)
        {
            StorageFileState saved = data.Files[i], now = states[i];
            if (now.Exists != saved.Exists || now.Length != saved.Length) return true;
            if (saved.LastWriteUtc is { } t && now.LastWriteUtc is { } n && n != t) return true;
        }
        return false;
    }

    private static bool PathsEqual(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd('/'), Path.GetFullPath(b).TrimEnd('/'), StringComparison.Ordinal);

    /// <summary>The dates, totals and times the resume data kept (on the loop, as the torrent is added).</summary>
    private void ApplySavedState(Torrent torrent, ResumeData data)
    {
        torrent.AddedAt = data.AddedAt == default ? torrent.AddedAt : data.AddedAt;
        torrent.CompletedAt = data.CompletedAt;
        torrent.DownloadedBefore = data.Downloaded;
        torrent.UploadedBefore = data.Uploaded;
        var clock = Statistics.Clock;
        DateTimeOffset? downloadingSince = data.DownloadingSince is { } d ? clock.ToWallClock(d) : null;
        DateTimeOffset? seedingSince = data.SeedingSince is { } s ? clock.ToWallClock(s) : null;
        var downloading = TimeSpan.FromSeconds(data.SecondsDownloading);
        var seeding = TimeSpan.FromSeconds(data.SecondsSeeding);
        if (data.Settings.Paused)
        {
            // Not starting: a period left open ended with the earlier run.
            if (downloadingSince is { } ds && clock.OpenedAt > ds) downloading += clock.OpenedAt - ds;
            if (seedingSince is { } ss && clock.OpenedAt > ss) seeding += clock.OpenedAt - ss;
            downloadingSince = seedingSince = null;
        }
        torrent.Activity.Restore(downloading, seeding, data.ActivityAt, downloadingSince, seedingSince, clock.OpenedAt);
    }
}
