using System.Globalization;
using System.Text;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Settings;

namespace RTorrent.Engine.Session;

/// <summary>
/// Completion hooks and the turtle-mode schedule (issue 18, parts 4 and 6). Both follow the session's settings once a
/// <see cref="SessionSettings"/> is attached (<see cref="Attach"/>); a session without one runs no hooks and no schedule.
/// See docs/SCHEDULES-AND-HOOKS.md.
/// </summary>
public sealed partial class ClientSession
{
    /// <summary>Lines of a hook's output written into the torrent's log (its end; the log keeps 500 lines in all).</summary>
    internal const int HookOutputLines = 40;

    /// <summary>Characters of one output line in the log.</summary>
    private const int HookOutputLineLength = 400;

    private HookRunner? _hookRunner;
    private EngineSettings? _hookSettings;
    private AltSpeedScheduler? _altSpeed;

    /// <summary>The hooks' runner (tests watch it start processes).</summary>
    internal HookRunner Hooks => LazyInitializer.EnsureInitialized(ref _hookRunner, () => new HookRunner(_options.Time));

    /// <summary>The schedule, once settings are attached (tests wait on it).</summary>
    internal AltSpeedScheduler? AltSpeed => _altSpeed;

    /// <summary>
    /// Makes <paramref name="settings"/> the session's: its hooks run from now on and its schedule switches turtle mode.
    /// Called by <see cref="SessionSettings"/>'s constructor.
    /// </summary>
    internal void Attach(SessionSettings settings)
    {
        Volatile.Write(ref _hookSettings, settings.Current);
        settings.Changed += s => Volatile.Write(ref _hookSettings, s);
        // Turtle mode saved on: its limits are the engine's from the start, whatever the engine was opened with.
        var current = settings.Current;
        if (current.AltSpeedEnabled &&
            (Engine.Config.DownloadLimit != current.EffectiveDownloadRateLimit || Engine.Config.UploadLimit != current.EffectiveUploadRateLimit))
            _ = Engine.SetGlobalLimitsAsync(current.EffectiveDownloadRateLimit, current.EffectiveUploadRateLimit);
        _altSpeed?.Dispose();
        _altSpeed = new AltSpeedScheduler(settings, _options.Time, AddLog);
        _altSpeed.Start();
    }

    /// <summary>Runs the hook of <paramref name="hookEvent"/> for <paramref name="torrent"/>, if one is set; returns at once.</summary>
    private void RunHook(HookEvent hookEvent, Torrent torrent)
    {
        if (Volatile.Read(ref _hookSettings) is not { } s) return;
        var (program, enabled) = hookEvent switch
        {
            HookEvent.Added => (s.AddedHook, s.AddedHookEnabled),
            HookEvent.Completed => (s.CompletedHook, s.CompletedHookEnabled),
            HookEvent.SeedingDone => (s.SeedingDoneHook, s.SeedingDoneHookEnabled),
            _ => (s.RemovedHook, s.RemovedHookEnabled),
        };
        if (!enabled || string.IsNullOrEmpty(program) || IsClosing) return;
        string what = hookEvent switch
        {
            HookEvent.Added => "added", HookEvent.Completed => "completed", HookEvent.SeedingDone => "seeding done", _ => "removed",
        };
        var request = new HookRequest(hookEvent, program, torrent.Name, torrent.InfoHash.ToHex(), torrent.SavePath, torrent.Labels,
            TimeSpan.FromSeconds(s.HookTimeoutSeconds), torrent.Category ?? "");
        if (!Hooks.TryQueue(request, result => ReportHook(torrent, hookEvent, what, program, result)))
            LogHook(torrent, hookEvent, PluginLogLevel.Warning, $"{what} hook {program} not run: {HookRunner.MaxWaiting} hooks are waiting already");
    }

    private void ReportHook(Torrent torrent, HookEvent hookEvent, string what, string program, HookResult result)
    {
        string seconds = result.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        var lines = new List<(PluginLogLevel, string)>();
        if (result.TimedOut)
            lines.Add((PluginLogLevel.Warning, $"{what} hook {program} killed after {seconds} s (hookTimeoutSeconds), with the processes it started"));
        else if (result.Problem is { } problem)
            lines.Add((PluginLogLevel.Warning, $"{what} hook {program}: {problem}"));
        else
            lines.Add((result.ExitCode == 0 ? PluginLogLevel.Information : PluginLogLevel.Warning,
                $"{what} hook {program} exited with code {result.ExitCode} after {seconds} s"));
        foreach (string line in OutputLines(result.Output))
            lines.Add((PluginLogLevel.Information, $"{what} hook output: {line}"));
        foreach (var (level, line) in lines) LogHook(torrent, hookEvent, level, line);
    }

    /// <summary>
    /// Into the torrent's log (its Log tab, the RPC's errorString stays the engine's); a removed torrent has none, so
    /// the session log, naming it.
    /// </summary>
    private void LogHook(Torrent torrent, HookEvent hookEvent, PluginLogLevel level, string message)
    {
        if (hookEvent == HookEvent.Removed || Engine.Find(torrent.InfoHash.ToHex()) is null)
        {
            AddLog(level, $"{torrent.Name}: {message}");
            return;
        }
        _ = Engine.Loop.InvokeAsync(() => torrent.Log(level, message)).ContinueWith(
            _ => AddLog(level, $"{torrent.Name}: {message}"), CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion, TaskScheduler.Default);
    }

    /// <summary>The last <see cref="HookOutputLines"/> non-empty lines, control characters taken out, each cut to fit.</summary>
    internal static IReadOnlyList<string> OutputLines(string output)
    {
        var lines = new List<string>();
        foreach (var raw in output.Split('\n'))
        {
            var sb = new StringBuilder(Math.Min(raw.Length, HookOutputLineLength));
            foreach (char c in raw)
            {
                if (sb.Length >= HookOutputLineLength) break;
                if (c == '\t') sb.Append(' ');
                else if (!char.IsControl(c)) sb.Append(c);
            }
            string line = sb.ToString().TrimEnd();
            if (line.Length > 0) lines.Add(line);
        }
        return lines.Count > HookOutputLines ? lines[^HookOutputLines..] : lines;
    }
}
