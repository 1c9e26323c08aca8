using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RTorrent.Engine.Session;

/// <summary>When a hook runs.</summary>
public enum HookEvent
{
    /// <summary>A torrent was added (not restored at start).</summary>
    Added,
    /// <summary>A torrent finished downloading.</summary>
    Completed,
    /// <summary>A torrent was removed from the session.</summary>
    Removed,
    /// <summary>A seeding rule (ratio, seeding time or idle limit) ended a torrent's seeding, before it acts.</summary>
    SeedingDone,
}

/// <summary>One run of a hook: the program and the torrent it is about.</summary>
/// <param name="Event">Why it runs.</param>
/// <param name="Program">The program, an absolute path; run directly, never through a shell.</param>
/// <param name="Name">The torrent's name (hostile input: only ever an environment variable's value).</param>
/// <param name="Hash">The info-hash, hex.</param>
/// <param name="SavePath">The torrent's download folder.</param>
/// <param name="Labels">The torrent's labels (its tags).</param>
/// <param name="Timeout">How long it may run before it and its children are killed.</param>
/// <param name="Category">The torrent's category, or "" for none.</param>
public sealed record HookRequest(HookEvent Event, string Program, string Name, string Hash, string SavePath, IReadOnlyList<string> Labels,
    TimeSpan Timeout, string Category = "");

/// <summary>How a hook ended.</summary>
/// <param name="ExitCode">Its exit code; null when it could not start or was killed.</param>
/// <param name="TimedOut">Killed (with every process it started) after its timeout.</param>
/// <param name="Output">The end of what it wrote to stdout and stderr (at most <see cref="HookRunner.OutputLimit"/> characters).</param>
/// <param name="Problem">Why it could not start, or null.</param>
/// <param name="Duration">How long it ran.</param>
public sealed record HookResult(int? ExitCode, bool TimedOut, string Output, string? Problem, TimeSpan Duration);

/// <summary>
/// Runs hook programs (issue 18, part 6): without a shell (<see cref="ProcessStartInfo.ArgumentList"/> empty, the torrent
/// only in environment variables, so a torrent named <c>$(rm -rf ~)</c> is just a string), stdin closed, stdout and
/// stderr captured (the last <see cref="OutputLimit"/> characters), killed with its whole process tree after its
/// timeout, a few at a time (<see cref="MaxRunning"/>; more wait, and beyond <see cref="MaxWaiting"/> are refused).
/// Never on the engine's loop.
/// </summary>
public sealed class HookRunner : IAsyncDisposable
{
    /// <summary>Characters of output kept (the end of it).</summary>
    public const int OutputLimit = 64 * 1024;

    /// <summary>Hooks running at once.</summary>
    public const int MaxRunning = 4;

    /// <summary>Hooks waiting for a turn; more are refused (a bulk add of thousands of torrents does not queue thousands).</summary>
    public const int MaxWaiting = 1000;

    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _slots = new(MaxRunning, MaxRunning);
    private readonly CancellationTokenSource _closing = new();
    private readonly List<Task> _running = [];
    private int _waiting;
    private bool _closed;

    /// <param name="time">The clock of the timeouts.</param>
    public HookRunner(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised when a hook's process started (tests wait on it), with its process id.</summary>
    internal event Action<HookRequest, int>? Started;

    /// <summary>
    /// Queues <paramref name="request"/>; <paramref name="done"/> gets the result on a pool thread. False when too many
    /// hooks wait already or the runner is closing (nothing runs).
    /// </summary>
    public bool TryQueue(HookRequest request, Action<HookResult> done)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(done);
        lock (_running)
        {
            if (_closed || _waiting >= MaxWaiting) return false;
            _waiting++;
            Task run = Task.Run(async () =>
            {
                HookResult result;
                try
                {
                    await _slots.WaitAsync(_closing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    lock (_running) _waiting--;
                    done(new HookResult(null, false, "", "not run: the session closed", TimeSpan.Zero));
                    return;
                }
                lock (_running) _waiting--;
                try
                {
                    result = await RunAsync(request, _closing.Token).ConfigureAwait(false);
                }
                finally
                {
                    _slots.Release();
                }
                done(result);
            });
            _running.Add(run);
            _ = run.ContinueWith(t => { lock (_running) _running.Remove(t); }, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return true;
    }

    /// <summary>Runs one hook now and waits for it (or its timeout, or <paramref name="cancellationToken"/>, which kills it).</summary>
    public async Task<HookResult> RunAsync(HookRequest request, CancellationToken cancellationToken = default)
    {
        if (CannotRun(request.Program) is { } problem) return new HookResult(null, false, "", problem, TimeSpan.Zero);
        var info = new ProcessStartInfo(request.Program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Directory.Exists(request.SavePath) ? request.SavePath : Path.GetTempPath(),
        };
        foreach (var (name, value) in Environment(request)) info.Environment[name] = value;

        using var process = new Process { StartInfo = info };
        long started = _time.GetTimestamp();
        try
        {
            if (!process.Start()) return new HookResult(null, false, "", "cannot run: the program did not start", TimeSpan.Zero);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
        {
            return new HookResult(null, false, "", $"cannot run: {e.Message}", TimeSpan.Zero);
        }
        Started?.Invoke(request, process.Id);
        try { process.StandardInput.Close(); } catch (IOException) { /* it exited already */ }
        var output = new TailBuffer(OutputLimit);
        Task readers = Task.WhenAll(ReadAsync(process.StandardOutput, output), ReadAsync(process.StandardError, output));

        bool timedOut = false, cancelled = false;
        using (var timeout = new CancellationTokenSource(request.Timeout, _time))
        using (var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken))
        {
            try
            {
                await process.WaitForExitAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = timeout.IsCancellationRequested;
                cancelled = !timedOut;
                Kill(process);
            }
        }
        if (timedOut || cancelled)
        {
            // Killed: its end is a moment away (a bound in real time, never asserted on).
            try { await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
        var duration = _time.GetElapsedTime(started);
        // A process it left behind may hold the pipes open: the output is what arrived by then (a bound in real time,
        // never asserted on).
        try { await readers.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false); }
        catch (TimeoutException) { }
        string text = output.ToString();
        if (timedOut || cancelled)
            return new HookResult(null, timedOut, text, cancelled ? "killed: the session closed" : null, duration);
        return new HookResult(process.ExitCode, false, text, null, duration);
    }

    /// <summary>Why <paramref name="program"/> cannot be run, or null.</summary>
    internal static string? CannotRun(string program)
    {
        if (!Path.IsPathFullyQualified(program)) return $"cannot run: '{program}' is not an absolute path";
        if (Directory.Exists(program)) return $"cannot run: {program} is a folder";
        if (!File.Exists(program)) return $"cannot run: {program} does not exist";
        if (!OperatingSystem.IsWindows() &&
            (File.GetUnixFileMode(program) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            return $"cannot run: {program} is not executable (chmod +x)";
        return null;
    }

    /// <summary>
    /// The variables a hook gets: RTORRENT_* and, for scripts written for Transmission, its TR_* names. Values are the
    /// torrent's as they are (NUL, which an environment cannot hold, removed).
    /// </summary>
    internal static IEnumerable<(string Name, string Value)> Environment(HookRequest r)
    {
        static string Clean(string s) => s.Contains('\0') ? s.Replace("\0", "", StringComparison.Ordinal) : s;
        string category = r.Category;
        string labels = string.Join(",", r.Labels);
        string hookEvent = r.Event switch
        {
            HookEvent.Added => "added", HookEvent.Completed => "completed", HookEvent.SeedingDone => "seeding-done", _ => "removed",
        };
        yield return ("RTORRENT_EVENT", hookEvent);
        yield return ("RTORRENT_NAME", Clean(r.Name));
        yield return ("RTORRENT_HASH", r.Hash);
        yield return ("RTORRENT_SAVE_PATH", Clean(r.SavePath));
        yield return ("RTORRENT_CATEGORY", Clean(category));
        yield return ("RTORRENT_LABELS", Clean(labels));
        yield return ("TR_TORRENT_NAME", Clean(r.Name));
        yield return ("TR_TORRENT_HASH", r.Hash);
        yield return ("TR_TORRENT_DIR", Clean(r.SavePath));
        yield return ("TR_TORRENT_LABELS", Clean(labels));
        yield return ("TR_TIME_LOCALTIME", DateTime.Now.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture));
    }

    private static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { /* gone */ }
    }

    private static async Task ReadAsync(StreamReader reader, TailBuffer output)
    {
        var buffer = new char[4096];
        try
        {
            int n;
            while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0) output.Append(buffer.AsSpan(0, n));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    /// <summary>Kills the hooks running (each logs that the session closed) and refuses new ones.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] running;
        lock (_running)
        {
            _closed = true;
            running = [.. _running];
        }
        // Outside the lock: the cancellation kills the running hooks, whose ends take it to leave the list.
        _closing.Cancel();
        try { await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); }
        catch (Exception) { /* each reported its own end */ }
    }

    /// <summary>The last <c>limit</c> characters appended.</summary>
    private sealed class TailBuffer(int limit)
    {
        private readonly StringBuilder _text = new();

        public void Append(ReadOnlySpan<char> chars)
        {
            lock (_text)
            {
                if (chars.Length >= limit)
                {
                    _text.Clear();
                    _text.Append(chars[^limit..]);
                    return;
                }
                _text.Append(chars);
                if (_text.Length > limit) _text.Remove(0, _text.Length - limit);
            }
        }

        public override string ToString()
        {
            lock (_text) return _text.ToString();
        }
    }
}
