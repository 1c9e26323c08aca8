using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;

namespace RTorrent.Remote.Tests.Infrastructure;

/// <summary>
/// A session made of a list the test edits. Counts snapshot requests, can hold them at a gate, and records what the
/// operations were given.
/// </summary>
internal sealed class FakeBackend : ITorrentBackend
{
    private readonly Lock _lock = new();
    private readonly List<TorrentSnapshot> _torrents = [];
    private int _snapshots;

    public static TorrentSnapshot Torrent(string id, string? name = null, TorrentState state = TorrentState.Stopped, long downloaded = 0) => new()
    {
        Id = id,
        Name = name ?? "torrent " + id,
        State = state,
        SavePath = "/downloads",
        Size = 1000,
        TotalSize = 1000,
        Downloaded = downloaded,
        PieceCount = 4,
        PieceLength = 256,
        AddedAt = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero),
        Picker = "rarest-first",
        Storage = "file",
    };

    public int Snapshots => Volatile.Read(ref _snapshots);

    /// <summary>When set, snapshot requests wait for it.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Signalled when a snapshot request arrives.</summary>
    public TaskCompletionSource SnapshotAsked { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long DownloadLimit { get; set; }

    /// <summary>The arguments of the last AddTorrentAsync, and the .torrent contents when a file path was given.</summary>
    public (string PathOrMagnet, string SaveDirectory, bool Start, string? Picker, string? Storage, byte[]? FileBytes)? LastAdd { get; private set; }

    /// <summary>The permissions of the file AddTorrentAsync was given.</summary>
    public UnixFileMode? LastAddFileMode { get; private set; }

    public List<string> Calls { get; } = [];

    public void Set(params TorrentSnapshot[] torrents)
    {
        lock (_lock)
        {
            _torrents.Clear();
            _torrents.AddRange(torrents);
        }
    }

    public void Replace(TorrentSnapshot torrent)
    {
        lock (_lock) _torrents[_torrents.FindIndex(t => t.Id == torrent.Id)] = torrent;
    }

    public void Remove(string id)
    {
        lock (_lock) _torrents.RemoveAll(t => t.Id == id);
    }

    public async Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _snapshots);
        var asked = SnapshotAsked;
        SnapshotAsked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        asked.TrySetResult();
        if (Gate is { } gate) await gate.Task.WaitAsync(cancellationToken);
        lock (_lock) return new SessionSnapshot { Torrents = _torrents.ToArray(), DownloadLimit = DownloadLimit, ListenPort = 6890 };
    }

    public Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default)
    {
        Record("details " + id);
        TorrentSnapshot? t;
        lock (_lock) t = _torrents.FirstOrDefault(x => x.Id == id);
        return Task.FromResult(t is null ? null : new TorrentDetails
        {
            Summary = t,
            Files = [new FileSnapshot { Index = 0, Path = "a.bin", Length = 1000, Priority = Priority.High }],
            Peers = [],
            Sources = [],
            Pieces = [PieceDisplayState.Have, PieceDisplayState.Missing, PieceDisplayState.Downloading, PieceDisplayState.Skipped],
            Log = [],
        });
    }

    public Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<LogEntry>>([new LogEntry(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), PluginLogLevel.Warning, "fake log")]);

    public Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default)
    {
        Record("add");
        byte[]? bytes = File.Exists(pathOrMagnet) ? File.ReadAllBytes(pathOrMagnet) : null;
        if (bytes is not null && !OperatingSystem.IsWindows()) LastAddFileMode = File.GetUnixFileMode(pathOrMagnet);
        LastAdd = (pathOrMagnet, saveDirectory, start, picker, storage, bytes);
        return Task.FromResult("00112233445566778899aabbccddeeff00112233");
    }

    public Task StartAsync(string id, CancellationToken cancellationToken = default) => Refuse("start " + id);
    public Task StopAsync(string id, CancellationToken cancellationToken = default) => Refuse("stop " + id);
    public Task RecheckAsync(string id, CancellationToken cancellationToken = default) => Refuse("recheck " + id);
    public Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default) => Refuse($"remove {id} {deleteData}");

    public Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default) =>
        Refuse($"priority {id} {string.Join(",", fileIndexes)} {priority}");

    public Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Refuse($"limits {id} {downloadLimit} {uploadLimit}");

    public Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Refuse($"global {downloadLimit} {uploadLimit}");

    public Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) => Refuse($"sequential {id} {sequential}");

    public IReadOnlyList<string> PickerNames => ["rarest-first"];
    public IReadOnlyList<string> StorageNames => ["file"];
    public IReadOnlyList<PluginInfo> Plugins => [];

    public Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) => Task.FromResult(new EditableSettings());

    public Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default) => Refuse("settings");

    public BackendInfo Info { get; set; } = new(BackendKind.Daemon, "fake", false);

    /// <summary>"crash" fails the way a bug would (not one of the refusals the handler expects).</summary>
    public Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default) =>
        folder == "crash" ? throw new NullReferenceException("a bug") : Task.FromResult<long?>(12345);

    public Task StopDaemonAsync(CancellationToken cancellationToken = default) => Refuse("stop-daemon");

    /// <summary>Torrent ids starting with "bad" are refused the way the session refuses an unknown id.</summary>
    private Task Refuse(string call)
    {
        Record(call);
        return call.Split(' ').Skip(1).FirstOrDefault() is { } id && id.StartsWith("bad", StringComparison.Ordinal)
            ? Task.FromException(new InvalidOperationException("That torrent is no longer in the session."))
            : Task.CompletedTask;
    }

    private void Record(string call)
    {
        lock (_lock) Calls.Add(call);
    }
}
