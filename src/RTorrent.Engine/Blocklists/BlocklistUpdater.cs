using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RTorrent.Engine.Blocklists;

/// <summary>Where the blocklist comes from and how often it is refreshed (from settings.json).</summary>
public sealed record BlocklistSources
{
    /// <summary>Whether the rules apply.</summary>
    public bool Enabled { get; init; }

    /// <summary>An http(s) address to download the list from, or null.</summary>
    public string? Url { get; init; }

    /// <summary>A local file, or null.</summary>
    public string? File { get; init; }

    /// <summary>Between downloads of <see cref="Url"/> (and rereads of <see cref="File"/>); zero for never on its own.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromHours(24);

    /// <summary>From the persisted settings.</summary>
    public static BlocklistSources From(Settings.EngineSettings s) => new()
    {
        Enabled = s.BlocklistEnabled,
        Url = s.BlocklistUrl,
        File = s.BlocklistFile,
        RefreshInterval = TimeSpan.FromHours(s.BlocklistRefreshHours),
    };
}

/// <summary>A blocklist could not be downloaded or read; the list in force stays.</summary>
public sealed class BlocklistUpdateException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Keeps <see cref="Blocklist"/> filled from its sources: reads the file and the last download of the URL (kept in the
/// session folder, so a restart needs no download), downloads the URL when there is no copy yet, on request
/// (<see cref="UpdateAsync"/>, the RPC's blocklist-update) and every refresh interval on the session's clock. A failed
/// download or read keeps the list in force and says why (log, <see cref="LastError"/>); a malformed line is skipped
/// and reported with its number.
/// </summary>
public sealed class BlocklistUpdater : IAsyncDisposable
{
    /// <summary>Largest download taken (the largest public lists are about 10 MB gzipped, 60 MB plain).</summary>
    public const long MaxDownloadBytes = 256L * 1024 * 1024;

    /// <summary>Longest a download may take.</summary>
    public static readonly TimeSpan DownloadTimeout = TimeSpan.FromMinutes(5);

    private readonly Blocklist _blocklist;
    private readonly string _cacheDirectory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<string>? _warn;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private BlocklistSources _sources = new();
    private ITimer? _timer;
    private bool _disposed;

    /// <param name="blocklist">The list the engine and the DHT obey; its rules are replaced on each load.</param>
    /// <param name="cacheDirectory">Where the downloaded list is kept (the session folder's <c>blocklists</c>).</param>
    /// <param name="time">The clock the refresh schedule runs on.</param>
    /// <param name="logger">Where loads, malformed lines and failures are logged.</param>
    /// <param name="warn">Failures and malformed lines for the session log the interface shows; null for none.</param>
    /// <param name="handler">The HTTP handler (tests); null for the system's.</param>
    public BlocklistUpdater(Blocklist blocklist, string cacheDirectory, TimeProvider? time = null, ILogger? logger = null,
        Action<string>? warn = null, HttpMessageHandler? handler = null)
    {
        _blocklist = blocklist;
        _cacheDirectory = cacheDirectory;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _warn = warn;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = DownloadTimeout;
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("RTorrent");
    }

    /// <summary>The sources in force.</summary>
    public BlocklistSources Sources => Volatile.Read(ref _sources);

    /// <summary>When the rules in force were loaded (on the session's clock), or null before the first load.</summary>
    public DateTimeOffset? LastLoaded { get; private set; }

    /// <summary>Why the last download or read failed, or null when it worked.</summary>
    public string? LastError { get; private set; }

    /// <summary>The last load's malformed lines (the first ones, with their numbers), by source.</summary>
    public IReadOnlyList<string> LastMalformed { get; private set; } = [];

    /// <summary>Downloads made (tests and the status).</summary>
    public int Downloads { get; private set; }

    /// <summary>Where the download of <paramref name="url"/> is kept: one file per address, so changing it never loads another's list.</summary>
    public string CachePathFor(string url)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url)))[..16];
        return Path.Combine(_cacheDirectory, $"url-{hash}.list");
    }

    /// <summary>
    /// Takes new sources (at start and when settings change): switches the list on or off at once, reloads when a source
    /// changed (reading local copies now; a URL without a copy yet is downloaded in the background) and restarts the
    /// refresh schedule. Failures are logged, never thrown: the list in force stays.
    /// </summary>
    public async Task ApplyAsync(BlocklistSources sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var before = Interlocked.Exchange(ref _sources, sources);
        bool first = LastLoaded is null && LastError is null;
        _blocklist.Enabled = sources.Enabled;
        if (!sources.Enabled && first) return; // nothing read or downloaded until it is switched on
        bool changed = first || before.Url != sources.Url || before.File != sources.File || (sources.Enabled && !before.Enabled && LastLoaded is null);
        if (changed)
        {
            await _gate.WaitAsync(_stop.Token).ConfigureAwait(false);
            try { await ReloadLockedAsync().ConfigureAwait(false); }
            catch (BlocklistUpdateException e) { Fail(e.Message); }
            finally { _gate.Release(); }
            if (sources.Enabled && sources.Url is { } url && !File.Exists(CachePathFor(url)))
                _ = Task.Run(() => RefreshAsync("first download"));
        }
        if (changed || before.RefreshInterval != sources.RefreshInterval || before.Enabled != sources.Enabled) Schedule();
    }

    private void Schedule()
    {
        _timer?.Dispose();
        _timer = null;
        var s = Sources;
        if (_disposed || !s.Enabled || s.RefreshInterval <= TimeSpan.Zero || (s.Url is null && s.File is null)) return;
        _timer = _time.CreateTimer(_ => _ = RefreshAsync("scheduled refresh"), null, s.RefreshInterval, s.RefreshInterval);
    }

    private async Task RefreshAsync(string why)
    {
        try
        {
            int count = await UpdateAsync(_stop.Token).ConfigureAwait(false);
            _logger.LogInformation("blocklist {Why}: {Count} ranges", why, count);
        }
        catch (BlocklistUpdateException) { /* logged by Fail; the list in force stays */ }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Downloads the URL (when one is set) and reloads every source; returns the ranges now in force (Transmission's
    /// blocklist-update answers this as blocklist-size).
    /// </summary>
    /// <exception cref="BlocklistUpdateException">The download or a read failed (why in the message); the list in force stays.</exception>
    public async Task<int> UpdateAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        await _gate.WaitAsync(linked.Token).ConfigureAwait(false);
        try
        {
            var s = Sources;
            if (s.Url is null && s.File is null)
                throw Fail("no blocklist is set (blocklistUrl or blocklistFile)");
            if (s.Url is { } url) await DownloadLockedAsync(url, linked.Token).ConfigureAwait(false);
            await ReloadLockedAsync(linked.Token).ConfigureAwait(false);
            return _blocklist.RuleCount;
        }
        catch (BlocklistUpdateException e)
        {
            Fail(e.Message);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private BlocklistUpdateException Fail(string reason)
    {
        LastError = reason;
        _logger.LogWarning("blocklist: {Reason}; the list in force stays ({Count} ranges)", reason, _blocklist.RuleCount);
        _warn?.Invoke($"blocklist: {reason}; the list in force stays ({_blocklist.RuleCount} ranges)");
        return new BlocklistUpdateException(reason);
    }

    private async Task DownloadLockedAsync(string url, CancellationToken ct)
    {
        Directory.CreateDirectory(_cacheDirectory);
        var target = CachePathFor(url);
        var temp = target + ".part";
        try
        {
            using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new BlocklistUpdateException($"downloading {url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            if (response.Content.Headers.ContentLength > MaxDownloadBytes)
                throw new BlocklistUpdateException($"downloading {url} failed: larger than {MaxDownloadBytes / (1024 * 1024)} MiB");
            await using (var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false))
            await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                var buffer = new byte[64 * 1024];
                long total = 0;
                int n;
                while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    total += n;
                    if (total > MaxDownloadBytes)
                        throw new BlocklistUpdateException($"downloading {url} failed: larger than {MaxDownloadBytes / (1024 * 1024)} MiB");
                    await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                }
                if (total == 0) throw new BlocklistUpdateException($"downloading {url} failed: the answer was empty");
            }
            // Check it reads as a blocklist before it replaces the copy in force: an HTML error page must not empty the list.
            var check = new IpRangeSetBuilder();
            BlocklistParseResult result;
            await using (var read = File.OpenRead(temp)) result = BlocklistParser.Parse(read, check, ct);
            if (result.Rules == 0)
                throw new BlocklistUpdateException($"{url} holds no blocklist rules" +
                    (result.Errors.Count > 0 ? $" ({result.Errors[0]})" : ""));
            File.Move(temp, target, overwrite: true);
            Downloads++;
        }
        catch (HttpRequestException e)
        {
            throw new BlocklistUpdateException($"downloading {url} failed: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new BlocklistUpdateException($"downloading {url} failed: no answer within {DownloadTimeout.TotalMinutes:0} minutes", e);
        }
        catch (IOException e)
        {
            throw new BlocklistUpdateException($"downloading {url} failed: {e.Message}", e);
        }
        catch (System.IO.InvalidDataException e)
        {
            throw new BlocklistUpdateException($"{url} is not a valid gzip file: {e.Message}", e);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Reads every source into one new list and puts it in force; on any failure the old one stays.</summary>
    private async Task ReloadLockedAsync(CancellationToken ct = default)
    {
        var s = Sources;
        var paths = new List<(string Name, string Path)>();
        if (s.File is { } file) paths.Add((file, file));
        if (s.Url is { } url && File.Exists(CachePathFor(url))) paths.Add((url, CachePathFor(url)));
        var (rules, malformed) = await Task.Run(() =>
        {
            var builder = new IpRangeSetBuilder();
            var report = new List<string>();
            foreach (var (name, path) in paths)
            {
                BlocklistParseResult r;
                try
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
                    r = BlocklistParser.Parse(stream, builder, ct);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.IO.InvalidDataException)
                {
                    throw new BlocklistUpdateException($"reading {name} failed: {e.Message}", e);
                }
                if (r.Malformed > 0)
                {
                    var first = string.Join("; ", r.Errors.Take(5));
                    var line = $"{name}: {r.Malformed} malformed lines skipped ({first}{(r.Malformed > 5 ? "; ..." : "")})";
                    report.Add(line);
                    foreach (var e in r.Errors) _logger.LogDebug("blocklist {Name}: {Error}", name, e);
                }
                if (r.StoppedEarly is { } stopped) report.Add($"{name}: {stopped}");
            }
            return (builder.Build(), report);
        }, ct).ConfigureAwait(false);
        _blocklist.Replace(rules);
        LastLoaded = _time.GetUtcNow();
        LastError = null;
        LastMalformed = malformed;
        foreach (var m in malformed)
        {
            _logger.LogWarning("blocklist {Report}", m);
            _warn?.Invoke($"blocklist {m}");
        }
        _logger.LogInformation("blocklist loaded: {Count} ranges from {Sources}", rules.Count, paths.Count == 0 ? "nothing yet" : string.Join(", ", paths.Select(p => p.Name)));
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        if (_disposed) return ValueTask.CompletedTask;
        _disposed = true;
        _timer?.Dispose();
        _stop.Cancel();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
