using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RTorrent.Tests.Tui;

/// <summary>
/// Measures the real interface in a real terminal: the test assembly runs itself (<c>tui-fake</c>) inside tmux over a
/// <see cref="FakeBackend"/> of many torrents, and this harness reads CPU time from /proc/PID/stat and times key
/// presses through a tmux control-mode client, which reports every byte the program writes as it happens.
/// </summary>
/// <remarks>
/// Keypress-to-redraw is the time from handing the key to tmux until the first output the program writes after it
/// (and, separately, until that output has gone quiet for 100 ms). It includes tmux's own delivery, so it is an upper
/// bound of what the interface adds. Run with:
/// <c>dotnet tests/RTorrent.Tests/bin/Release/net10.0/RTorrent.Tests.dll tui-measure [TORRENTS] [SECONDS]</c>.
/// </remarks>
internal static class TuiMeasurement
{
    private const int Width = 80;
    private const int Height = 24;

    public static async Task<int> RunAsync(string[] args)
    {
        int torrents = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        int seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        if (!await CommandWorksAsync("tmux", "-V"))
        {
            await Console.Error.WriteLineAsync("tmux is needed for the measurement; ./test.sh installs it.");
            return 2;
        }
        string self = typeof(TuiMeasurement).Assembly.Location;
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{torrents} torrents, {Width}x{Height}, {Environment.ProcessorCount} cores, load {LoadAverage()}");

        foreach ((string name, int active) in new[] { ("idle, nothing changing", 0), ("idle, 50 torrents active", 50) })
        {
            await using var run = await TmuxRun.StartAsync(self, torrents, active);
            await run.WarmUpAsync();
            (double cpu, long rssKb) = await run.MeasureCpuAsync(TimeSpan.FromSeconds(seconds));
            report.AppendLine(CultureInfo.InvariantCulture, $"{name}: CPU {cpu:0.00}% of one core over {seconds} s, RSS {rssKb / 1024} MiB");
            if (active != 0) continue;

            foreach ((string label, string[] keys) in new[]
            {
                ("Down/Up (move the cursor)", new[] { "Down", "Up" }),
                ("> and < (re-sort 1000 rows)", new[] { ">", "<" }),
                ("f and F (state filter)", new[] { "f", "F" }),
                ("Enter and Escape (open and close details)", new[] { "Enter", "Escape" }),
            })
            {
                List<(double First, double Settled)> samples = await run.MeasureKeysAsync(keys, 40);
                double[] first = [.. samples.Select(s => s.First).Order()];
                double[] settled = [.. samples.Select(s => s.Settled).Order()];
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"  {label}: first output median {Percentile(first, 50):0.0} ms, p95 {Percentile(first, 95):0.0} ms, max {first[^1]:0.0} ms; " +
                    $"complete median {Percentile(settled, 50):0.0} ms, p95 {Percentile(settled, 95):0.0} ms ({samples.Count} presses)");
            }
        }
        Console.WriteLine(report.ToString());
        return 0;
    }

    private static double Percentile(double[] sorted, int p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static async Task<bool> CommandWorksAsync(string file, string arguments)
    {
        try
        {
            (int code, _) = await RunAsync(file, arguments);
            return code == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    internal static async Task<(int Code, string Output)> RunAsync(string file, string arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, output);
    }

    /// <summary>One run of the interface in a detached tmux session, killed (session and process) on dispose.</summary>
    private sealed class TmuxRun : IAsyncDisposable
    {
        private readonly string _session;
        private readonly int _pid;

        private TmuxRun(string session, int pid)
        {
            _session = session;
            _pid = pid;
        }

        public static async Task<TmuxRun> StartAsync(string assembly, int torrents, int active)
        {
            string session = $"rtorrent-measure-{Environment.ProcessId}-{active}";
            string command = $"exec dotnet {assembly} tui-fake {torrents} {active}";
            (int code, _) = await TuiMeasurement.RunAsync("tmux",
                $"new-session -d -s {session} -x {Width} -y {Height} \"{command}\" ; set-option -t {session} window-size manual");
            if (code != 0) throw new InvalidOperationException("tmux could not start the interface.");
            (_, string pidText) = await TuiMeasurement.RunAsync("tmux", $"display-message -p -t {session} \"#{{pane_pid}}\"");
            var run = new TmuxRun(session, int.Parse(pidText.Trim(), CultureInfo.InvariantCulture));
            await run.WaitForScreenAsync($"{torrents} torrents", TimeSpan.FromSeconds(60));
            return run;
        }

        /// <summary>Lets the JIT settle (tiered compilation recompiles hot code during the first seconds).</summary>
        public async Task WarmUpAsync()
        {
            for (int i = 0; i < 30; i++) await SendAsync(i % 2 == 0 ? "Down" : "Up");
            await SendAsync(">");
            await SendAsync("<");
            await SendAsync("Enter");
            await SendAsync("Escape");
            await Task.Delay(TimeSpan.FromSeconds(30));
        }

        public async Task<(double CpuPercent, long RssKb)> MeasureCpuAsync(TimeSpan span)
        {
            long before = CpuTicks();
            var clock = Stopwatch.StartNew();
            await Task.Delay(span);
            long after = CpuTicks();
            double hz = 100; // USER_HZ: the unit of utime and stime in /proc/PID/stat on Linux
            return ((after - before) / hz / clock.Elapsed.TotalSeconds * 100, RssKb());
        }

        /// <summary>Presses <paramref name="keys"/> in turn, <paramref name="count"/> times, timing the output each causes.</summary>
        public async Task<List<(double First, double Settled)>> MeasureKeysAsync(string[] keys, int count)
        {
            var samples = new List<(double, double)>();
            var info = new ProcessStartInfo("tmux", $"-C attach-session -t {_session}")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process control = Process.Start(info)!;
            var outputs = new System.Collections.Concurrent.BlockingCollection<long>();
            var reader = Task.Run(async () =>
            {
                while (await control.StandardOutput.ReadLineAsync() is { } line)
                {
                    if (line.StartsWith("%output", StringComparison.Ordinal)) outputs.Add(Stopwatch.GetTimestamp());
                }
                outputs.CompleteAdding();
            });
            try
            {
                await control.StandardInput.WriteLineAsync($"refresh-client -C {Width}x{Height}");
                await control.StandardInput.FlushAsync();
                await Task.Delay(500);
                while (outputs.TryTake(out _)) { }
                for (int i = 0; i < count; i++)
                {
                    string key = keys[i % keys.Length];
                    long sent = Stopwatch.GetTimestamp();
                    await control.StandardInput.WriteLineAsync($"send-keys -t {_session} {key}");
                    await control.StandardInput.FlushAsync();
                    if (!outputs.TryTake(out long first, TimeSpan.FromSeconds(5))) throw new TimeoutException($"No output after {key}.");
                    long last = first;
                    while (outputs.TryTake(out long more, TimeSpan.FromMilliseconds(100))) last = more;
                    samples.Add((Stopwatch.GetElapsedTime(sent, first).TotalMilliseconds, Stopwatch.GetElapsedTime(sent, last).TotalMilliseconds));
                }
            }
            finally
            {
                await control.StandardInput.WriteLineAsync("detach-client");
                await control.StandardInput.FlushAsync();
                if (!control.WaitForExit(5000)) control.Kill();
                await reader.WaitAsync(TimeSpan.FromSeconds(5));
            }
            return samples;
        }

        public async ValueTask DisposeAsync()
        {
            await TuiMeasurement.RunAsync("tmux", $"kill-session -t {_session}");
            try
            {
                using Process process = Process.GetProcessById(_pid);
                if (!process.HasExited) process.Kill();
            }
            catch (ArgumentException)
            {
                // Already gone with its session.
            }
        }

        private async Task SendAsync(string key)
        {
            await TuiMeasurement.RunAsync("tmux", $"send-keys -t {_session} {key}");
            await Task.Delay(100);
        }

        private async Task WaitForScreenAsync(string text, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                (_, string screen) = await TuiMeasurement.RunAsync("tmux", $"capture-pane -p -t {_session}");
                if (screen.Contains(text, StringComparison.Ordinal)) return;
                await Task.Delay(200);
            }
            throw new TimeoutException($"The interface did not show \"{text}\" within {timeout.TotalSeconds} s.");
        }

        private long CpuTicks()
        {
            string stat = File.ReadAllText($"/proc/{_pid}/stat");
            // Fields after the command name (which may hold spaces) start after the last ')'.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        private long RssKb()
        {
            foreach (string line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
            }
            return 0;
        }
    }
}
