using RTorrent.Engine.Session;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

/// <summary>
/// An in-memory session for the interface's tests and the measurement host: torrents with files, peers, trackers,
/// pieces and logs; operations change them and are recorded in <see cref="Calls"/>. Every call completes
/// synchronously, so a test sees the effect of a key at once.
/// </summary>
public sealed class FakeBackend : ITorrentBackend
{
    private static readonly string[] Words =
    [
        "ubuntu", "debian", "fedora", "arch", "mint", "gentoo", "alpine", "kali", "tails", "qubes", "void", "nixos",
        "blender", "gimp", "krita", "inkscape", "libreoffice", "openshot", "audacity", "kdenlive", "sintel", "bigbuckbunny",
        "tearsofsteel", "cosmos", "elephants", "dream", "archive", "dataset", "wikipedia", "openstreetmap",
    ];

    private readonly object _gate = new();
    private readonly List<TorrentSnapshot> _torrents = [];
    private readonly Dictionary<string, List<FileSnapshot>> _files = [];
    private readonly Dictionary<string, List<LogEntry>> _logs = [];
    private readonly List<LogEntry> _sessionLog = [];
    private readonly Random _random;
    private readonly DateTimeOffset _epoch = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);
    private int _tick;

    /// <summary>Creates a session with <paramref name="torrents"/> generated torrents.</summary>
    /// <param name="torrents">How many torrents.</param>
    /// <param name="active">How many of them move data (and change on every snapshot when <see cref="Animate"/>).</param>
    /// <param name="seed">Random seed, so runs repeat.</param>
    public FakeBackend(int torrents = 0, int active = 0, int seed = 1)
    {
        _random = new Random(seed);
        for (int i = 0; i < torrents; i++)
        {
            string name = $"{Words[i % Words.Length]}-{i:0000}-{Words[(i * 7 + 3) % Words.Length]}.{(i % 3 == 0 ? "iso" : "tar")}";
            TorrentState state = i < active ? (i % 2 == 0 ? TorrentState.Downloading : TorrentState.Seeding)
                : (i % 5) switch { 0 => TorrentState.Stopped, 1 => TorrentState.Queued, _ => TorrentState.Seeding };
            AddGenerated(name, 1L << (20 + i % 14), state, i < active);
        }
    }

    /// <summary>Change active torrents' rates and progress on every snapshot (for the measurement host).</summary>
    public bool Animate { get; set; }

    /// <summary>Every operation called, as text ("start ID", "remove ID data=True", ...), oldest first.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>How many session snapshots were asked for.</summary>
    public int SessionRequests { get; private set; }

    /// <summary>Added torrents, in order, as the interface asked for them.</summary>
    public List<(string Source, string SaveDirectory, bool Start, string? Picker, string? Storage)> Added { get; } = [];

    /// <summary>When set, the next operation fails with this message.</summary>
    public string? FailNext { get; set; }

    public long DownloadLimit { get; private set; }

    public long UploadLimit { get; private set; }

    public int ListenPort { get; set; } = 6881;

    public int? DhtNodes { get; set; } = 312;

    public EditableSettings Settings { get; private set; } = new()
    {
        ListenPort = 6881,
        DownloadFolder = Path.GetTempPath(),
        WatchFolder = "",
        UploadSlots = 8,
        MaxConnections = 500,
    };

    public IReadOnlyList<string> PickerNames { get; set; } = ["rarest-first", "sequential", "random"];

    public IReadOnlyList<string> StorageNames { get; set; } = ["file", "memory"];

    public IReadOnlyList<PluginInfo> Plugins { get; set; } =
    [
        new("RTorrent.Sample.Pickers", PluginKinds.Picker, "1.2.0", "/opt/rtorrent/plugins/pickers", "loaded"),
        new("Broken.Plugin", PluginKinds.None, "0.1", "/opt/rtorrent/plugins/broken", "failed: contracts 2.0 needed"),
    ];

    /// <summary>The torrents now.</summary>
    public IReadOnlyList<TorrentSnapshot> Torrents
    {
        get
        {
            lock (_gate) return [.. _torrents];
        }
    }

    /// <summary>Adds a torrent with explicit fields (tests build exact rows with this).</summary>
    public TorrentSnapshot AddTorrent(TorrentSnapshot torrent, IReadOnlyList<FileSnapshot>? files = null)
    {
        lock (_gate)
        {
            _torrents.Add(torrent);
            _files[torrent.Id] = files?.ToList() ?? [new FileSnapshot { Index = 0, Path = torrent.Name, Length = torrent.Size, Done = torrent.Done, Priority = Priority.Normal }];
            _logs[torrent.Id] = [new LogEntry(_epoch, PluginLogLevel.Information, $"Added {torrent.Name}")];
            return torrent;
        }
    }

    /// <summary>Replaces a torrent's snapshot (a test moving it to another state).</summary>
    public void Update(string id, Func<TorrentSnapshot, TorrentSnapshot> change)
    {
        lock (_gate)
        {
            int i = _torrents.FindIndex(t => t.Id == id);
            _torrents[i] = change(_torrents[i]);
        }
    }

    /// <summary>Adds a line to a torrent's log.</summary>
    public void Log(string id, PluginLogLevel level, string message)
    {
        lock (_gate) _logs[id].Add(new LogEntry(_epoch.AddSeconds(_logs[id].Count), level, message));
    }

    /// <summary>Adds a line to the session log.</summary>
    public void SessionLog(PluginLogLevel level, string message)
    {
        lock (_gate) _sessionLog.Add(new LogEntry(_epoch.AddSeconds(_sessionLog.Count), level, message));
    }

    public static string IdFor(string name) => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(name))).ToLowerInvariant();

    public static TorrentSnapshot Snapshot(string name, long size, double progress, TorrentState state, long down = 0, long up = 0,
        int peers = 0, int known = 0, double ratio = 0, TimeSpan? eta = null, string? error = null) => new()
    {
        Id = IdFor(name),
        Name = name,
        State = state,
        Error = error,
        InfoHashV1 = IdFor(name),
        SavePath = "/downloads",
        Size = size,
        TotalSize = size,
        Done = (long)(size * progress),
        Progress = progress,
        DownloadRate = down,
        UploadRate = up,
        Downloaded = (long)(size * progress),
        Uploaded = (long)(size * ratio),
        Ratio = ratio,
        PeersConnected = peers,
        PeersKnown = known,
        Eta = eta,
        PieceCount = (int)Math.Max(1, size / (256 * 1024)),
        PieceLength = 256 * 1024,
        PiecesHave = (int)(Math.Max(1, size / (256 * 1024)) * progress),
        AddedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        Picker = "rarest-first",
        Storage = "file",
    };

    public Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            SessionRequests++;
            if (Animate) Step();
            TorrentSnapshot[] torrents = [.. _torrents];
            return Task.FromResult(new SessionSnapshot
            {
                Torrents = torrents,
                DownloadRate = torrents.Sum(t => t.DownloadRate),
                UploadRate = torrents.Sum(t => t.UploadRate),
                DownloadLimit = DownloadLimit,
                UploadLimit = UploadLimit,
                ListenPort = ListenPort,
                Connections = torrents.Sum(t => t.PeersConnected),
                DhtNodes = DhtNodes,
                AltSpeedEnabled = Settings.AltSpeedEnabled,
            });
        }
    }

    /// <summary>The web seeds a torrent's details show, by id (none unless a test sets them).</summary>
    public Dictionary<string, IReadOnlyList<WebSeedSnapshot>> WebSeedRows { get; } = [];

    public Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            TorrentSnapshot? t = _torrents.FirstOrDefault(x => x.Id == id);
            if (t is null) return Task.FromResult<TorrentDetails?>(null);
            return Task.FromResult<TorrentDetails?>(new TorrentDetails
            {
                Summary = t,
                Files = [.. _files[id]],
                Peers = Peers(t),
                Sources = Sources(t),
                WebSeeds = WebSeedRows.GetValueOrDefault(id) ?? [],
                Pieces = Pieces(t),
                Log = [.. _logs[id]],
            });
        }
    }

    public Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<LogEntry>>([.. _sessionLog]);
    }

    public Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (Fail(out Task? failed)) return (Task<string>)failed!;
            Calls.Add($"add {pathOrMagnet}");
            Added.Add((pathOrMagnet, saveDirectory, start, picker, storage));
            string name = pathOrMagnet.StartsWith("magnet:", StringComparison.Ordinal) ? "magnet-" + _torrents.Count : Path.GetFileNameWithoutExtension(pathOrMagnet);
            TorrentSnapshot t = Snapshot(name, 5L << 20, 0, start ? TorrentState.Downloading : TorrentState.Stopped) with
            {
                SavePath = saveDirectory,
                Picker = picker ?? PickerNames[0],
                Storage = storage ?? StorageNames[0],
            };
            AddTorrent(t);
            return Task.FromResult(t.Id);
        }
    }

    public Task StartAsync(string id, CancellationToken cancellationToken = default) =>
        Change("start " + id, id, t => t with { State = t.Progress >= 1 ? TorrentState.Seeding : TorrentState.Downloading });

    public Task StartNowAsync(string id, CancellationToken cancellationToken = default) =>
        Change("start-now " + id, id, t => t with { State = t.Progress >= 1 ? TorrentState.Seeding : TorrentState.Downloading, IsForced = true });

    public Task MoveInQueueAsync(string id, RTorrent.Engine.Client.QueueMove move, CancellationToken cancellationToken = default) =>
        Change($"queue {move.ToString().ToLowerInvariant()} {id}", id, t => t);

    public Task StopAsync(string id, CancellationToken cancellationToken = default) =>
        Change("stop " + id, id, t => t with { State = TorrentState.Stopped, DownloadRate = 0, UploadRate = 0 });

    public Task RecheckAsync(string id, CancellationToken cancellationToken = default) =>
        Change("recheck " + id, id, t => t with { State = TorrentState.Checking, Progress = 0.25 });

    public Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (Fail(out Task? failed)) return failed!;
            Calls.Add($"remove {id} data={deleteData}");
            _torrents.RemoveAll(t => t.Id == id);
            return Task.CompletedTask;
        }
    }

    public Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (Fail(out Task? failed)) return failed!;
            Calls.Add($"priority {id} [{string.Join(",", fileIndexes)}] {priority}");
            List<FileSnapshot> files = _files[id];
            for (int i = 0; i < files.Count; i++)
            {
                if (fileIndexes.Contains(files[i].Index)) files[i] = files[i] with { Priority = priority };
            }
            return Task.CompletedTask;
        }
    }

    public Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Change($"limits {id} {downloadLimit} {uploadLimit}", id, t => t with { DownloadLimit = downloadLimit, UploadLimit = uploadLimit });

    public Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (Fail(out Task? failed)) return failed!;
            Calls.Add($"global {downloadLimit} {uploadLimit}");
            DownloadLimit = downloadLimit;
            UploadLimit = uploadLimit;
            return Task.CompletedTask;
        }
    }

    public Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) =>
        Change($"sequential {id} {sequential}", id, t => t with { Sequential = sequential });

    public Task SetSuperSeedingAsync(string id, bool on, CancellationToken cancellationToken = default) =>
        Change($"super-seeding {id} {on}", id, t => t with { SuperSeeding = on });

    /// <summary>The categories <see cref="GetCategoriesAsync"/> lists.</summary>
    public List<RTorrent.Engine.Client.Category> Categories { get; } = [];

    public Task<IReadOnlyList<RTorrent.Engine.Client.Category>> GetCategoriesAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<RTorrent.Engine.Client.Category>>([.. Categories]);
    }

    public Task SaveCategoryAsync(RTorrent.Engine.Client.Category category, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Calls.Add($"category-save {category.Name} {category.SavePath} {category.IncompletePath}");
            Categories.RemoveAll(c => c.Name == category.Name);
            Categories.Add(category);
            return Task.CompletedTask;
        }
    }

    public Task RemoveCategoryAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Calls.Add($"category-remove {name}");
            Categories.RemoveAll(c => c.Name == name);
            return Task.CompletedTask;
        }
    }

    public Task SetCategoryAsync(string id, string? category, CancellationToken cancellationToken = default) =>
        Change($"category {id} {category}", id, t => t with { Category = category ?? "" });

    public Task SetTagsAsync(string id, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        Change($"tags {id} {string.Join(",", tags)}", id, t => t with { Labels = RTorrent.Engine.Client.EquatableList.Of(tags) });

    public Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(Settings with { DownloadLimit = DownloadLimit, UploadLimit = UploadLimit });
    }

    public Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (Fail(out Task? failed)) return failed!;
            Calls.Add($"settings port={settings.ListenPort} watch={settings.WatchFolder}");
            Settings = settings;
            DownloadLimit = settings.DownloadLimit;
            UploadLimit = settings.UploadLimit;
            ListenPort = settings.ListenPort;
            return Task.CompletedTask;
        }
    }

    /// <summary>What the fake claims to be connected to (a test sets a daemon to see the stop-daemon key work).</summary>
    public BackendInfo Info { get; set; } = BackendInfo.Local;

    /// <summary>Bytes free that <see cref="GetFreeSpaceAsync"/> reports.</summary>
    public long? FreeBytes { get; set; } = 100L * 1024 * 1024 * 1024;

    /// <summary>The folders <see cref="GetFreeSpaceAsync"/> was asked about (kept apart from <see cref="Calls"/>: it is polled).</summary>
    public List<string> FreeSpaceQueries { get; } = [];

    public Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            FreeSpaceQueries.Add(folder);
            return Task.FromResult(FreeBytes);
        }
    }

    /// <summary>What <see cref="GetFeedsAsync"/> answers.</summary>
    public RTorrent.Engine.Feeds.FeedsSnapshot Feeds { get; set; } = RTorrent.Engine.Feeds.FeedsSnapshot.Empty;

    public Task<RTorrent.Engine.Feeds.FeedsSnapshot> GetFeedsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(Feeds);
    }

    public Task RefreshFeedAsync(string? feed, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Calls.Add("feeds-refresh " + (feed ?? "all"));
            return Task.CompletedTask;
        }
    }

    public Task StopDaemonAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!Info.CanStopDaemon) throw new NotSupportedException("no daemon");
            if (Fail(out Task? failed)) return failed!;
            Calls.Add("stop-daemon");
            return Task.CompletedTask;
        }
    }

    /// <summary>Gives a torrent a folder tree of files (for the Files tab).</summary>
    public void SetFiles(string id, params (string Path, long Length, double Progress, Priority Priority)[] files)
    {
        lock (_gate)
        {
            _files[id] = [.. files.Select((f, i) => new FileSnapshot
            {
                Index = i,
                Path = f.Path,
                Length = f.Length,
                Done = (long)(f.Length * f.Progress),
                Priority = f.Priority,
            })];
        }
    }

    /// <summary>The files of a torrent now.</summary>
    public IReadOnlyList<FileSnapshot> FilesOf(string id)
    {
        lock (_gate) return [.. _files[id]];
    }

    private bool Fail(out Task? failed)
    {
        failed = null;
        if (FailNext is not { } message) return false;
        FailNext = null;
        failed = Task.FromException<string>(new InvalidOperationException(message));
        return true;
    }

    private Task Change(string call, string id, Func<TorrentSnapshot, TorrentSnapshot> change)
    {
        lock (_gate)
        {
            if (Fail(out Task? failed)) return failed!;
            Calls.Add(call);
            int i = _torrents.FindIndex(t => t.Id == id);
            if (i < 0) return Task.FromException(new KeyNotFoundException("No torrent has that id."));
            _torrents[i] = change(_torrents[i]);
            return Task.CompletedTask;
        }
    }

    private void AddGenerated(string name, long size, TorrentState state, bool active)
    {
        double progress = state == TorrentState.Seeding ? 1 : _random.NextDouble() * 0.95;
        long down = active && state == TorrentState.Downloading ? _random.Next(10_000, 5_000_000) : 0;
        long up = active ? _random.Next(1_000, 500_000) : 0;
        TorrentSnapshot t = Snapshot(name, size, progress, state, down, up, active ? _random.Next(1, 50) : 0, _random.Next(0, 300),
            _random.NextDouble() * 3, down > 0 ? TimeSpan.FromSeconds(size * (1 - progress) / down) : null);
        var files = new List<FileSnapshot>();
        int count = 1 + _random.Next(0, 6);
        for (int f = 0; f < count; f++)
        {
            files.Add(new FileSnapshot
            {
                Index = f,
                Path = count == 1 ? name : $"{(f % 2 == 0 ? "disc" : "extras")}/{name}-part{f}.bin",
                Length = size / count,
                Done = (long)(size / count * progress),
                Priority = Priority.Normal,
            });
        }
        AddTorrent(t, files);
    }

    private void Step()
    {
        _tick++;
        for (int i = 0; i < _torrents.Count; i++)
        {
            TorrentSnapshot t = _torrents[i];
            if (t.DownloadRate == 0 && t.UploadRate == 0) continue;
            long down = t.State == TorrentState.Downloading ? Math.Max(1, t.DownloadRate + _random.Next(-50_000, 50_000)) : 0;
            long up = Math.Max(1, t.UploadRate + _random.Next(-5_000, 5_000));
            double progress = Math.Min(0.999, t.Progress + (double)down / Math.Max(1, t.Size));
            _torrents[i] = t with
            {
                DownloadRate = down,
                UploadRate = up,
                Progress = progress,
                Done = (long)(t.Size * progress),
                Uploaded = t.Uploaded + up,
                Ratio = (double)(t.Uploaded + up) / Math.Max(1, t.Size),
                Eta = down > 0 ? TimeSpan.FromSeconds(t.Size * (1 - progress) / down) : null,
            };
        }
    }

    private static List<PeerSnapshot> Peers(TorrentSnapshot t)
    {
        var peers = new List<PeerSnapshot>();
        for (int i = 0; i < Math.Max(t.PeersConnected, 3); i++)
        {
            peers.Add(new PeerSnapshot
            {
                Address = $"127.0.0.{i + 1}:{50000 + i}",
                Client = i % 2 == 0 ? "libtorrent 2.0.9" : "Transmission 4.0",
                Flags = i % 2 == 0 ? "DUI" : "dT",
                DownloadRate = 1000 * (i + 1),
                UploadRate = 500 * (3 - i % 3),
                Downloaded = 1_000_000L * i,
                Uploaded = 500_000L * i,
                Progress = Math.Min(1, 0.3 * (i + 1)),
                Source = "tracker",
            });
        }
        return peers;
    }

    private IReadOnlyList<PeerSourceStatus> Sources(TorrentSnapshot t) =>
    [
        new PeerSourceStatus
        {
            Source = "tracker",
            Endpoint = "http://tracker.example.org:6969/announce",
            Tier = 0,
            State = "working",
            LastSuccess = _epoch,
            NextContact = DateTimeOffset.UtcNow.AddMinutes(25),
            Seeders = 12,
            Leechers = 3,
            PeersReported = 15,
        },
        new PeerSourceStatus
        {
            Source = "tracker",
            Endpoint = "udp://backup.example.net:1337/announce",
            Tier = 1,
            State = "error",
            Message = "connection refused",
        },
        new PeerSourceStatus { Source = "dht", Endpoint = "dht", State = t.IsPrivate ? "off" : "working", PeersReported = 40 },
    ];

    private static PieceDisplayState[] Pieces(TorrentSnapshot t)
    {
        int count = Math.Clamp(t.PieceCount, 1, 5000);
        var pieces = new PieceDisplayState[count];
        int have = (int)(count * t.Progress);
        for (int i = 0; i < count; i++)
        {
            pieces[i] = i < have ? PieceDisplayState.Have
                : i < have + 3 ? PieceDisplayState.Downloading
                : i >= count - count / 10 ? PieceDisplayState.Skipped
                : PieceDisplayState.Missing;
        }
        return pieces;
    }
}
