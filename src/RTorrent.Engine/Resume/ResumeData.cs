using System.Security.Cryptography;
using System.Text;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Resume;

/// <summary>A torrent's own settings, saved with its resume data.</summary>
public sealed record TorrentResumeSettings
{
    /// <summary>Download limit in bytes per second; 0 = no per-torrent limit (the global one still applies).</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Upload limit in bytes per second; 0 = no per-torrent limit.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>Connection limit for this torrent, or null for the settings' default.</summary>
    public int? MaxConnections { get; init; }

    /// <summary>Unchoke slots for this torrent, or null for the settings' default.</summary>
    public int? UploadSlots { get; init; }

    /// <summary>One priority per file (pad files included, ignored); empty means every file is <see cref="Priority.Normal"/>.</summary>
    public IReadOnlyList<Priority> FilePriorities { get; init; } = [];

    /// <summary>Download in order (streaming).</summary>
    public bool Sequential { get; init; }

    /// <summary>Stopped by the user: stays stopped after a restart.</summary>
    public bool Paused { get; init; }

    /// <summary>BEP 16 super-seeding on (until every piece is seen in the swarm).</summary>
    public bool SuperSeeding { get; init; }

    /// <summary>
    /// Started with "start now" (runs beside the queue): forced again after a restart. Neither this nor
    /// <see cref="Paused"/>: the torrent waits for its turn in the queue (queued or running as the limits say).
    /// </summary>
    public bool Forced { get; init; }

    /// <summary>
    /// The torrent's own seed ratio limit (uploaded / wanted size), used when <see cref="SeedRatioMode"/> is Custom and
    /// remembered otherwise; null when it never had one.
    /// </summary>
    public double? SeedRatioLimit { get; init; }

    /// <summary>
    /// Which seed ratio limit applies. Files without the key read as Custom when they have a
    /// <see cref="SeedRatioLimit"/> (what one meant before the mode existed) and Global otherwise.
    /// </summary>
    public Client.SeedRatioMode SeedRatioMode { get; init; }

    /// <summary>Which idle limit applies (Global when the key is missing).</summary>
    public Client.SeedRatioMode SeedIdleMode { get; init; }

    /// <summary>The torrent's own idle limit in minutes, or null.</summary>
    public int? SeedIdleLimit { get; init; }

    /// <summary>Which seeding time limit applies (Global when the key is missing).</summary>
    public Client.SeedRatioMode SeedingTimeMode { get; init; }

    /// <summary>The torrent's own seeding time limit in minutes, or null.</summary>
    public int? SeedingTimeLimit { get; init; }

    /// <summary>The torrent's own minimum seeding time in minutes, or null (the session's).</summary>
    public int? MinSeedingTime { get; init; }

    /// <summary>The torrent's labels.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>The torrent's category, or null (optional key <c>category</c>).</summary>
    public string? Category { get; init; }

    /// <summary>The tracker list by tier when the user edited it; null: the .torrent's.</summary>
    public IReadOnlyList<IReadOnlyList<string>>? Trackers { get; init; }

    /// <summary>The torrent's place in the session's queue, or null (files written before queues existed).</summary>
    public int? QueuePosition { get; init; }
}

/// <summary>
/// Everything needed to resume a torrent without rehashing: which pieces are verified, what the files looked like
/// when that was saved, transfer totals and the torrent's settings and plugins. Stored as bencode in
/// <c>&lt;infohash&gt;.resume</c> in the session folder (see <see cref="ResumeStore"/>).
/// </summary>
/// <remarks>
/// <para><b>The rule that keeps resume data honest after a crash.</b> <see cref="VerifiedPieces"/> may only claim pieces
/// whose data is durable on disk. The engine must save in this order:</para>
/// <list type="number">
/// <item>take a snapshot of the verified pieces whose writes have completed;</item>
/// <item><see cref="ITorrentStorage.FlushAsync"/> (it makes durable every write completed before it was called);</item>
/// <item>probe the files (<see cref="ITorrentStorage.ProbeAsync"/>) for <see cref="Files"/>;</item>
/// <item>save with <see cref="ResumeStore.SaveAsync"/> (atomic: temporary file, fsync, rename, folder fsync).</item>
/// </list>
/// <para>A piece verified after step 1 waits for the next save. Then a kill -9 at any moment leaves either the previous
/// resume file or the new one, and each claims only data that reached the disk before it was written: no verified
/// piece is lost beyond the last save and no unverified piece is ever marked done.</para>
/// </remarks>
public sealed record ResumeData
{
    /// <summary>The format version this code writes. Files of a newer version are refused.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The format version the data was read with (or will be written with).</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>The torrent's info-hash (v1, or v2 truncated: the wire hash).</summary>
    public required InfoHash InfoHash { get; init; }

    /// <summary>The download folder the files are in.</summary>
    public required string SavePath { get; init; }

    /// <summary>Number of pieces (checked against the torrent on load).</summary>
    public required int PieceCount { get; init; }

    /// <summary>The verified pieces as a BEP 3 bitfield: <c>ceil(PieceCount / 8)</c> bytes, piece 0 in the high bit of byte 0.</summary>
    public required byte[] VerifiedPieces { get; init; }

    /// <summary>Each file's state when the bitfield was saved, one per file, pad files included (as missing).</summary>
    public required IReadOnlyList<StorageFileState> Files { get; init; }

    /// <summary>Bytes uploaded over the torrent's life.</summary>
    public long Uploaded { get; init; }

    /// <summary>Bytes downloaded over the torrent's life.</summary>
    public long Downloaded { get; init; }

    /// <summary>When the torrent was added.</summary>
    public DateTimeOffset AddedAt { get; init; }

    /// <summary>When the download completed, if it has.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Name of the piece picker chosen for the torrent.</summary>
    public string PickerName { get; init; } = "";

    /// <summary>Name of the storage backend holding the torrent's data.</summary>
    public string StorageName { get; init; } = "";

    /// <summary>
    /// Files the user renamed: file index to the relative path ('/'-separated) the file has instead of the metainfo's;
    /// empty when none is renamed. Optional in the format: files written before it existed load with none, and older
    /// readers ignore it.
    /// </summary>
    public IReadOnlyDictionary<int, string> RenamedFiles { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<int, string>.Empty;

    /// <summary>The torrent's own settings.</summary>
    public TorrentResumeSettings Settings { get; init; } = new();

    /// <summary>
    /// Seconds spent downloading over the torrent's life; with <see cref="DownloadingSince"/>, before the period that
    /// was going on when the data was saved.
    /// </summary>
    public long SecondsDownloading { get; init; }

    /// <summary>Seconds spent seeding over the torrent's life; with <see cref="SeedingSince"/>, before the current period.</summary>
    public long SecondsSeeding { get; init; }

    /// <summary>
    /// When the downloading period going on at the save began, in session seconds (the session's open time over all
    /// its runs, stats.json's seconds-active: <see cref="Session.SessionClock"/>); null when the torrent was not
    /// downloading. A period kept in session seconds goes on across a clean restart without the file changing, so an
    /// idle torrent's resume data stays the same and is not rewritten at every quit.
    /// </summary>
    public long? DownloadingSince { get; init; }

    /// <summary>When the seeding period going on at the save began, in session seconds (see <see cref="DownloadingSince"/>).</summary>
    public long? SeedingSince { get; init; }

    /// <summary>When payload last moved, if ever.</summary>
    public DateTimeOffset? ActivityAt { get; init; }

    /// <summary>Whether piece <paramref name="piece"/> is claimed verified.</summary>
    public bool IsPieceVerified(int piece)
    {
        if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece));
        return (VerifiedPieces[piece >> 3] & (0x80 >> (piece & 7))) != 0;
    }

    /// <summary>Number of pieces claimed verified.</summary>
    public int VerifiedCount
    {
        get
        {
            int n = 0;
            foreach (var b in VerifiedPieces) n += System.Numerics.BitOperations.PopCount(b);
            return n;
        }
    }

    /// <summary>Encodes the data as canonical bencode with a SHA-1 checksum over the rest.</summary>
    /// <exception cref="ArgumentException">The bitfield's length does not match <see cref="PieceCount"/>.</exception>
    public byte[] Encode()
    {
        if (VerifiedPieces.Length != (PieceCount + 7) / 8)
            throw new ArgumentException($"{PieceCount} pieces need a bitfield of {(PieceCount + 7) / 8} bytes, not {VerifiedPieces.Length}.");
        var d = new BDictionary
        {
            [Keys.Version] = new BInteger(FormatVersion),
            [Keys.InfoHash] = new BString(InfoHash.ToArray()),
            [Keys.SavePath] = new BString(SavePath),
            [Keys.PieceCount] = new BInteger(PieceCount),
            [Keys.Pieces] = new BString(VerifiedPieces.ToArray()),
            [Keys.Uploaded] = new BInteger(Uploaded),
            [Keys.Downloaded] = new BInteger(Downloaded),
            [Keys.Added] = new BInteger(AddedAt.ToUnixTimeSeconds()),
            [Keys.Picker] = new BString(PickerName),
            [Keys.Storage] = new BString(StorageName),
        };
        if (CompletedAt is { } completed) d[Keys.Completed] = new BInteger(completed.ToUnixTimeSeconds());
        if (RenamedFiles.Count > 0) d[Keys.RenamedFiles] = EncodeRenamedFiles(RenamedFiles, Files.Count);
        if (SecondsDownloading > 0) d[Keys.SecondsDownloading] = new BInteger(SecondsDownloading);
        if (SecondsSeeding > 0) d[Keys.SecondsSeeding] = new BInteger(SecondsSeeding);
        if (DownloadingSince is { } ds) d[Keys.DownloadingSince] = new BInteger(ds);
        if (SeedingSince is { } ss) d[Keys.SeedingSince] = new BInteger(ss);
        if (ActivityAt is { } activity) d[Keys.Activity] = new BInteger(activity.ToUnixTimeSeconds());
        var files = new BList();
        foreach (var f in Files)
        {
            var fd = new BDictionary { [Keys.Exists] = new BInteger(f.Exists ? 1 : 0), [Keys.Size] = new BInteger(f.Length) };
            if (f.LastWriteUtc is { } t) fd[Keys.MTime] = new BInteger(t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks);
            files.Add(fd);
        }
        d[Keys.Files] = files;
        d[Keys.Settings] = EncodeSettings(Settings);

        var body = BencodeWriter.Encode(d);
        d[Keys.Checksum] = new BString(SHA1.HashData(body));
        return BencodeWriter.Encode(d);
    }

    /// <summary>Decodes resume data, checking its structure and checksum (not whether it fits a torrent: see <see cref="ResumeStore.LoadAsync"/>).</summary>
    /// <exception cref="ResumeException">The data is truncated, corrupt, or of a newer format; the message says which.</exception>
    public static ResumeData Decode(ReadOnlyMemory<byte> data)
    {
        BDictionary d;
        try
        {
            var value = BencodeReader.Decode(data, out int consumed);
            d = value as BDictionary ?? throw new ResumeException(ResumeProblem.Corrupt, "it is not a bencode dictionary");
            if (consumed != data.Length)
                throw new ResumeException(ResumeProblem.Corrupt, $"{data.Length - consumed} stray bytes follow the data");
        }
        catch (BencodeException e)
        {
            var problem = e.Error == BencodeError.UnexpectedEnd ? ResumeProblem.Truncated : ResumeProblem.Corrupt;
            throw new ResumeException(problem, problem == ResumeProblem.Truncated
                ? $"it is truncated ({e.Message})" : $"it is not valid bencode ({e.Message})", e);
        }

        int version = (int)RequireInteger(d, Keys.Version, 1, int.MaxValue);
        if (version > CurrentFormatVersion)
            throw new ResumeException(ResumeProblem.UnsupportedVersion,
                $"it was written in format {version} by a newer RTorrent; this one reads up to {CurrentFormatVersion}");

        // The checksum covers the canonical encoding of every other entry (we always write canonically).
        var checksum = d.Get<BString>(Keys.Checksum) ?? throw Missing(Keys.Checksum);
        // The entries as read, less the checksum: no re-keying through text, no lookups (the keys are unique once the
        // order is checked canonical below).
        var checksumKey = Encoding.UTF8.GetBytes(Keys.Checksum);
        var rest = new BDictionary([.. d.Entries.Where(e => !e.Key.Bytes.Span.SequenceEqual(checksumKey))], d.KeysCanonical);
        if (!d.KeysCanonical || !SHA1.HashData(BencodeWriter.Encode(rest)).AsSpan().SequenceEqual(checksum.Bytes.Span))
            throw new ResumeException(ResumeProblem.Corrupt, "its checksum does not match its content");

        var hash = RequireString(d, Keys.InfoHash);
        if (hash.Bytes.Length != InfoHash.Length) throw Invalid(Keys.InfoHash, $"has {hash.Bytes.Length} bytes, not 20");
        int pieceCount = (int)RequireInteger(d, Keys.PieceCount, 0, int.MaxValue);
        var pieces = RequireString(d, Keys.Pieces).Bytes.ToArray();
        if (pieces.Length != (pieceCount + 7) / 8)
            throw Invalid(Keys.Pieces, $"has {pieces.Length} bytes for {pieceCount} pieces");
        if (pieceCount % 8 != 0 && (pieces[^1] & (0xFF >> (pieceCount % 8))) != 0)
            throw Invalid(Keys.Pieces, "has bits set past the last piece");

        var fileList = d.Get<BList>(Keys.Files) ?? throw Missing(Keys.Files);
        var files = new StorageFileState[fileList.Count];
        for (int i = 0; i < files.Length; i++)
        {
            if (fileList[i] is not BDictionary fd) throw Invalid(Keys.Files, $"entry {i} is not a dictionary");
            bool exists = RequireInteger(fd, Keys.Exists, 0, 1) == 1;
            long size = RequireInteger(fd, Keys.Size, 0, long.MaxValue);
            DateTimeOffset? mtime = null;
            if (fd.GetInteger(Keys.MTime) is { } ticks)
            {
                long utcTicks = ticks + DateTimeOffset.UnixEpoch.UtcTicks;
                if (utcTicks < DateTimeOffset.MinValue.UtcTicks || utcTicks > DateTimeOffset.MaxValue.UtcTicks)
                    throw Invalid(Keys.Files, $"entry {i} has an impossible modification time");
                mtime = new DateTimeOffset(utcTicks, TimeSpan.Zero);
            }
            files[i] = new StorageFileState(exists, size, mtime);
        }

        return new ResumeData
        {
            FormatVersion = version,
            InfoHash = new InfoHash(hash.Bytes.Span),
            SavePath = RequireString(d, Keys.SavePath).Text,
            PieceCount = pieceCount,
            VerifiedPieces = pieces,
            Files = files,
            Uploaded = RequireInteger(d, Keys.Uploaded, 0, long.MaxValue),
            Downloaded = RequireInteger(d, Keys.Downloaded, 0, long.MaxValue),
            AddedAt = UnixSeconds(d, Keys.Added) ?? throw Missing(Keys.Added),
            CompletedAt = UnixSeconds(d, Keys.Completed),
            PickerName = d.GetText(Keys.Picker) ?? "",
            StorageName = d.GetText(Keys.Storage) ?? "",
            RenamedFiles = DecodeRenamedFiles(d, files.Length),
            Settings = d.Get<BDictionary>(Keys.Settings) is { } s ? DecodeSettings(s, files.Length) : new TorrentResumeSettings(),
            SecondsDownloading = OptionalInteger(d, Keys.SecondsDownloading, 0, long.MaxValue) ?? 0,
            SecondsSeeding = OptionalInteger(d, Keys.SecondsSeeding, 0, long.MaxValue) ?? 0,
            DownloadingSince = OptionalInteger(d, Keys.DownloadingSince, 0, long.MaxValue),
            SeedingSince = OptionalInteger(d, Keys.SeedingSince, 0, long.MaxValue),
            ActivityAt = UnixSeconds(d, Keys.Activity),
        };
    }

    /// <summary>A list of [index, path] pairs in index order.</summary>
    private static BList EncodeRenamedFiles(IReadOnlyDictionary<int, string> renamed, int fileCount)
    {
        var list = new BList();
        foreach (var (index, path) in renamed.OrderBy(r => r.Key))
        {
            if ((uint)index >= (uint)fileCount) throw new ArgumentException($"Renamed file {index} does not exist: the torrent has {fileCount} files.");
            if (BadRelativePath(path) is { } why) throw new ArgumentException($"Renamed file {index}: '{path}' {why}.");
            list.Add(new BList { new BInteger(index), new BString(path) });
        }
        return list;
    }

    private static IReadOnlyDictionary<int, string> DecodeRenamedFiles(BDictionary d, int fileCount)
    {
        if (!d.ContainsKey(Keys.RenamedFiles)) return System.Collections.ObjectModel.ReadOnlyDictionary<int, string>.Empty;
        if (d[Keys.RenamedFiles] is not BList list) throw Invalid(Keys.RenamedFiles, "is not a list");
        var renamed = new Dictionary<int, string>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not BList { Count: 2 } pair || pair[0] is not BInteger index || pair[1] is not BString path || !path.IsValidUtf8)
                throw Invalid(Keys.RenamedFiles, $"entry {i} is not an [index, path] pair");
            if (index.Value < 0 || index.Value >= fileCount) throw Invalid(Keys.RenamedFiles, $"entry {i} names file {index.Value} of {fileCount}");
            if (BadRelativePath(path.Text) is { } why) throw Invalid(Keys.RenamedFiles, $"entry {i}: the path {why}");
            if (!renamed.TryAdd((int)index.Value, path.Text)) throw Invalid(Keys.RenamedFiles, $"renames file {index.Value} twice");
        }
        return renamed;
    }

    /// <summary>Why a renamed path is not a plain relative path inside the download folder, or null.</summary>
    private static string? BadRelativePath(string path)
    {
        if (path.Length == 0) return "is empty";
        if (path.Contains('\0') || path.Contains('\\')) return "contains a NUL or a backslash";
        if (path.StartsWith('/') || Path.IsPathRooted(path)) return "is absolute";
        foreach (var part in path.Split('/'))
            if (part is "" or "." or "..") return "has an empty, '.' or '..' part";
        return null;
    }

    private static BDictionary EncodeSettings(TorrentResumeSettings s)
    {
        var d = new BDictionary
        {
            [Keys.DownloadLimit] = new BInteger(s.DownloadRateLimit),
            [Keys.UploadLimit] = new BInteger(s.UploadRateLimit),
            [Keys.Sequential] = new BInteger(s.Sequential ? 1 : 0),
            [Keys.Paused] = new BInteger(s.Paused ? 1 : 0),
        };
        if (s.SuperSeeding) d[Keys.SuperSeeding] = new BInteger(1);
        if (s.Forced) d[Keys.Forced] = new BInteger(1);
        if (s.MaxConnections is { } c) d[Keys.MaxConnections] = new BInteger(c);
        if (s.UploadSlots is { } u) d[Keys.UploadSlots] = new BInteger(u);
        if (s.SeedRatioLimit is { } r) d[Keys.SeedRatioMilli] = new BInteger((long)Math.Round(r * 1000));
        d[Keys.SeedRatioMode] = new BInteger((int)s.SeedRatioMode);
        // Optional keys: written only when not the default, so older files and older readers agree.
        if (s.SeedIdleMode != Client.SeedRatioMode.Global) d[Keys.SeedIdleMode] = new BInteger((int)s.SeedIdleMode);
        if (s.SeedIdleLimit is { } idle) d[Keys.SeedIdleMinutes] = new BInteger(idle);
        if (s.SeedingTimeMode != Client.SeedRatioMode.Global) d[Keys.SeedingTimeMode] = new BInteger((int)s.SeedingTimeMode);
        if (s.SeedingTimeLimit is { } time) d[Keys.SeedingTimeMinutes] = new BInteger(time);
        if (s.MinSeedingTime is { } min) d[Keys.MinSeedingMinutes] = new BInteger(min);
        if (s.Labels.Count > 0) d[Keys.Labels] = ResumeLists.EncodeStrings(s.Labels);
        if (s.Category is { } category) d[Keys.Category] = new BString(category);
        if (s.Trackers is { } trackers) d[Keys.Trackers] = ResumeLists.EncodeTiers(trackers);
        if (s.QueuePosition is { } q) d[Keys.QueuePosition] = new BInteger(q);
        if (s.FilePriorities.Count > 0)
        {
            // One byte per file: compact for torrents with tens of thousands of files.
            var bytes = new byte[s.FilePriorities.Count];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)s.FilePriorities[i];
            d[Keys.Priorities] = new BString(bytes);
        }
        return d;
    }

    private static TorrentResumeSettings DecodeSettings(BDictionary d, int fileCount)
    {
        Priority[] priorities = [];
        if (d.Get<BString>(Keys.Priorities) is { } p)
        {
            if (p.Bytes.Length != fileCount) throw Invalid(Keys.Priorities, $"has {p.Bytes.Length} entries for {fileCount} files");
            priorities = new Priority[fileCount];
            for (int i = 0; i < fileCount; i++)
            {
                byte b = p.Bytes.Span[i];
                if (b > (byte)Priority.High) throw Invalid(Keys.Priorities, $"entry {i} is {b}, above the highest priority");
                priorities[i] = (Priority)b;
            }
        }
        return new TorrentResumeSettings
        {
            DownloadRateLimit = OptionalInteger(d, Keys.DownloadLimit, 0, long.MaxValue) ?? 0,
            UploadRateLimit = OptionalInteger(d, Keys.UploadLimit, 0, long.MaxValue) ?? 0,
            MaxConnections = (int?)OptionalInteger(d, Keys.MaxConnections, 0, int.MaxValue),
            UploadSlots = (int?)OptionalInteger(d, Keys.UploadSlots, 0, int.MaxValue),
            Sequential = OptionalInteger(d, Keys.Sequential, 0, 1) == 1,
            Paused = OptionalInteger(d, Keys.Paused, 0, 1) == 1,
            SuperSeeding = OptionalInteger(d, Keys.SuperSeeding, 0, 1) == 1,
            Forced = OptionalInteger(d, Keys.Forced, 0, 1) == 1,
            SeedRatioLimit = OptionalInteger(d, Keys.SeedRatioMilli, 0, long.MaxValue) is { } milli ? milli / 1000.0 : null,
            FilePriorities = priorities,
            SeedRatioMode = OptionalInteger(d, Keys.SeedRatioMode, 0, 2) is { } mode ? (Client.SeedRatioMode)mode
                : d.ContainsKey(Keys.SeedRatioMilli) ? Client.SeedRatioMode.Custom : Client.SeedRatioMode.Global,
            Labels = d[Keys.Labels] is { } labels ? ResumeLists.DecodeStrings(labels, Keys.Labels) : [],
            Category = d[Keys.Category] is { } category ? DecodeCategory(category) : null,
            Trackers = d[Keys.Trackers] is { } trackers ? ResumeLists.DecodeTiers(trackers, Keys.Trackers) : null,
            QueuePosition = (int?)OptionalInteger(d, Keys.QueuePosition, 0, int.MaxValue),
            SeedIdleMode = (Client.SeedRatioMode)(OptionalInteger(d, Keys.SeedIdleMode, 0, 2) ?? 0),
            SeedIdleLimit = (int?)OptionalInteger(d, Keys.SeedIdleMinutes, 1, Client.SeedingRules.MaxMinutes),
            SeedingTimeMode = (Client.SeedRatioMode)(OptionalInteger(d, Keys.SeedingTimeMode, 0, 2) ?? 0),
            SeedingTimeLimit = (int?)OptionalInteger(d, Keys.SeedingTimeMinutes, 1, Client.SeedingRules.MaxMinutes),
            MinSeedingTime = (int?)OptionalInteger(d, Keys.MinSeedingMinutes, 0, Client.SeedingRules.MaxMinutes),
        } is var r && (r.SeedIdleMode == Client.SeedRatioMode.Custom && r.SeedIdleLimit is null
            || r.SeedingTimeMode == Client.SeedRatioMode.Custom && r.SeedingTimeLimit is null)
            ? throw Invalid(Keys.SeedIdleMode, "is custom without a limit") : r;
    }

    private static DateTimeOffset? UnixSeconds(BDictionary d, string key)
    {
        return OptionalInteger(d, key, DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()) is { } seconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
    }

    private static BString RequireString(BDictionary d, string key) => d.Get<BString>(key) ?? throw Missing(key);

    private static long RequireInteger(BDictionary d, string key, long min, long max) =>
        OptionalInteger(d, key, min, max) ?? throw Missing(key);

    private static long? OptionalInteger(BDictionary d, string key, long min, long max)
    {
        if (!d.ContainsKey(key)) return null;
        var v = d.GetInteger(key) ?? throw Invalid(key, "is not an integer");
        if (v < min || v > max) throw Invalid(key, $"is {v}, outside {min}..{max}");
        return v;
    }

    private static ResumeException Missing(string key) => new(ResumeProblem.Corrupt, $"'{key}' is missing");

    private static string DecodeCategory(BValue value)
    {
        var text = (value as BString)?.Text ?? throw Invalid(Keys.Category, "is not a string");
        try { return Client.CategoryNames.Normalize(text); }
        catch (ArgumentException e) { throw Invalid(Keys.Category, $"is not a category name: {e.Message}"); }
    }

    private static ResumeException Invalid(string key, string what) => new(ResumeProblem.Corrupt, $"'{key}' {what}");

    private static class Keys
    {
        public const string Version = "rtorrent-resume";
        public const string Checksum = "checksum";
        public const string InfoHash = "info-hash";
        public const string SavePath = "save-path";
        public const string PieceCount = "piece-count";
        public const string Pieces = "pieces";
        public const string Files = "files";
        public const string Exists = "exists";
        public const string Size = "size";
        public const string MTime = "mtime-100ns";
        public const string Uploaded = "uploaded";
        public const string Downloaded = "downloaded";
        public const string Added = "added";
        public const string Completed = "completed";
        public const string Picker = "picker";
        public const string Storage = "storage";
        public const string RenamedFiles = "renamed-files";
        public const string Settings = "settings";
        public const string DownloadLimit = "download-limit";
        public const string UploadLimit = "upload-limit";
        public const string MaxConnections = "max-connections";
        public const string UploadSlots = "upload-slots";
        public const string Sequential = "sequential";
        public const string SuperSeeding = "super-seeding";
        public const string Paused = "paused";
        public const string Forced = "forced";
        public const string SeedRatioMilli = "seed-ratio-milli";
        public const string Priorities = "priorities";
        public const string SeedRatioMode = "seed-ratio-mode";
        public const string SeedIdleMode = "seed-idle-mode";
        public const string SeedIdleMinutes = "seed-idle-minutes";
        public const string SeedingTimeMode = "seeding-time-mode";
        public const string SeedingTimeMinutes = "seeding-time-minutes";
        public const string MinSeedingMinutes = "min-seeding-minutes";
        public const string Labels = "labels";
        public const string Category = "category";
        public const string Trackers = "trackers";
        public const string QueuePosition = "queue-position";
        public const string SecondsDownloading = "seconds-downloading";
        public const string SecondsSeeding = "seconds-seeding";
        public const string DownloadingSince = "downloading-since";
        public const string SeedingSince = "seeding-since";
        public const string Activity = "activity";
    }
}
