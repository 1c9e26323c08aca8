using System.Text.Json;
using Microsoft.Extensions.Logging;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Session;

/// <summary>One set of session statistics (Transmission's <c>tr_session_stats</c>).</summary>
/// <param name="UploadedBytes">Payload uploaded.</param>
/// <param name="DownloadedBytes">Payload downloaded.</param>
/// <param name="FilesAdded">Torrents added to the session (restoring saved ones does not count).</param>
/// <param name="SessionCount">Runs of the session.</param>
/// <param name="SecondsActive">Seconds the session has been open.</param>
public sealed record SessionStatisticsTotals(long UploadedBytes, long DownloadedBytes, long FilesAdded, long SessionCount, long SecondsActive)
{
    /// <summary>All zeros.</summary>
    public static SessionStatisticsTotals Zero { get; } = new(0, 0, 0, 0, 0);

    /// <summary>The sum of two sets.</summary>
    public static SessionStatisticsTotals operator +(SessionStatisticsTotals a, SessionStatisticsTotals b) =>
        new(a.UploadedBytes + b.UploadedBytes, a.DownloadedBytes + b.DownloadedBytes, a.FilesAdded + b.FilesAdded,
            a.SessionCount + b.SessionCount, a.SecondsActive + b.SecondsActive);
}

/// <summary>The statistics of this run and of every run together (Transmission's <c>session-stats</c>).</summary>
/// <param name="Current">This run (its session count is 1).</param>
/// <param name="Cumulative">Every run, this one included.</param>
public sealed record SessionStatisticsSnapshot(SessionStatisticsTotals Current, SessionStatisticsTotals Cumulative);

/// <summary>
/// Counts what a session did in this run and over all runs: bytes up and down, torrents added, runs, seconds open.
/// The totals of earlier runs live in <c>stats.json</c> in the session folder (Transmission's file name and keys),
/// written atomically (<see cref="AtomicFile"/>) every <see cref="SaveInterval"/> and when the session closes, so a
/// crash loses at most that much. A stats.json that cannot be read is logged and replaced; it never stops a session.
/// </summary>
public sealed class SessionStatistics : IAsyncDisposable
{
    /// <summary>The file's name in the session folder.</summary>
    public const string FileName = "stats.json";

    /// <summary>How often the totals are saved while the session runs.</summary>
    public static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(60);

    private readonly string? _path;
    private readonly Func<(long Uploaded, long Downloaded)> _transferred;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<string>? _report;
    private readonly SemaphoreSlim _saving = new(1, 1);
    private readonly DateTimeOffset _openedAt;
    private SessionStatisticsTotals _earlier = SessionStatisticsTotals.Zero;
    private long _added;
    private ITimer? _timer;
    private volatile bool _started;
    private bool _disposed;

    /// <param name="sessionDirectory">Where stats.json lives; null keeps the statistics in memory only.</param>
    /// <param name="transferred">Payload uploaded and downloaded in this run so far (thread-safe).</param>
    /// <param name="time">The clock (seconds active, the save timer).</param>
    /// <param name="logger">Where problems go.</param>
    /// <param name="report">Also told of problems the user should see (the session log), or null.</param>
    internal SessionStatistics(string? sessionDirectory, Func<(long Uploaded, long Downloaded)> transferred, TimeProvider time,
        ILogger logger, Action<string>? report = null)
    {
        _path = sessionDirectory is null ? null : Path.Combine(Path.GetFullPath(sessionDirectory), FileName);
        _transferred = transferred;
        _time = time;
        _logger = logger;
        _report = report;
        _openedAt = time.GetUtcNow();
        Clock = new SessionClock(0, _openedAt);
    }

    /// <summary>Session seconds (the earlier runs' open time is known once <see cref="StartAsync"/> has read it).</summary>
    public SessionClock Clock { get; private set; }

    /// <summary>The file, or null for a session without a folder.</summary>
    public string? FilePath => _path;

    /// <summary>
    /// Reads the earlier runs' totals (a missing file is a first run; a corrupt one is logged and counted as nothing)
    /// and starts the periodic save.
    /// </summary>
    internal async Task StartAsync()
    {
        _earlier = await LoadAsync().ConfigureAwait(false);
        Clock = new SessionClock(_earlier.SecondsActive, _openedAt);
        _started = true;
        _timer = _time.CreateTimer(_ => _ = SaveQuietlyAsync(), null, SaveInterval, SaveInterval);
    }

    /// <summary>A torrent was added to the session (not restored from it).</summary>
    public void TorrentAdded() => Interlocked.Increment(ref _added);

    /// <summary>This run's and all runs' totals now.</summary>
    public SessionStatisticsSnapshot GetSnapshot()
    {
        var (up, down) = _transferred();
        long seconds = Math.Max(0, (long)(_time.GetUtcNow() - _openedAt).TotalSeconds);
        var current = new SessionStatisticsTotals(up, down, Interlocked.Read(ref _added), 1, seconds);
        return new SessionStatisticsSnapshot(current, _earlier + current);
    }

    /// <summary>
    /// Writes the cumulative totals to stats.json (atomically). Saves never overlap. Nothing is written before the
    /// earlier totals were read (a session that failed to open must not overwrite another's file).
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public async Task SaveAsync(CancellationToken cancellationToken = default)
    {
        if (_path is null || !_started) return;
        await _saving.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await AtomicFile.WriteAllBytesAsync(_path, Encode(GetSnapshot().Cumulative), cancellationToken).ConfigureAwait(false);
        }
        finally { _saving.Release(); }
    }

    /// <summary>Stops the periodic save and saves one last time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        await SaveQuietlyAsync().ConfigureAwait(false);
    }

    private async Task SaveQuietlyAsync()
    {
        try { await SaveAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("saving {Path} failed: {Error}", _path, e.Message);
        }
    }

    private async Task<SessionStatisticsTotals> LoadAsync()
    {
        if (_path is null) return SessionStatisticsTotals.Zero;
        AtomicFile.DeleteStaleTemporaryFiles(_path);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(_path).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return SessionStatisticsTotals.Zero;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Problem($"{_path} cannot be read ({e.Message}); statistics start again from zero");
            return SessionStatisticsTotals.Zero;
        }
        try
        {
            return Decode(bytes);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            Problem($"{_path} is not valid ({e.Message}); statistics start again from zero and the file will be replaced");
            return SessionStatisticsTotals.Zero;
        }
    }

    private void Problem(string message)
    {
        // Reported (into the session log) and logged: the log line says it is kept already.
        _logger.Log(LogLevel.Warning, _report is null ? default : EngineLogEvents.AlreadyKept, "{Message}", message);
        _report?.Invoke(message);
    }

    // Transmission's keys, so its stats.json reads here and ours there.
    private const string Uploaded = "uploaded-bytes";
    private const string Downloaded = "downloaded-bytes";
    private const string FilesAdded = "files-added";
    private const string SessionCount = "session-count";
    private const string SecondsActive = "seconds-active";

    internal static byte[] Encode(SessionStatisticsTotals t)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber(Downloaded, t.DownloadedBytes);
            w.WriteNumber(FilesAdded, t.FilesAdded);
            w.WriteNumber(SecondsActive, t.SecondsActive);
            w.WriteNumber(SessionCount, t.SessionCount);
            w.WriteNumber(Uploaded, t.UploadedBytes);
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    /// <exception cref="JsonException">Not JSON, or not an object.</exception>
    /// <exception cref="FormatException">A count is missing a number of 0 or more.</exception>
    internal static SessionStatisticsTotals Decode(ReadOnlyMemory<byte> json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("it is not a JSON object");
        long Count(string key)
        {
            if (!doc.RootElement.TryGetProperty(key, out var v)) return 0;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long n) || n < 0)
                throw new FormatException($"'{key}' is not a count");
            return n;
        }
        return new SessionStatisticsTotals(Count(Uploaded), Count(Downloaded), Count(FilesAdded), Count(SessionCount), Count(SecondsActive));
    }
}
