using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// An external program started by a test. Its stdout and stderr are captured line by line; every wait is bounded
/// and fails with the program's output in the message; <see cref="DisposeAsync"/> kills it by PID (SIGKILL, its own
/// process tree only) if it is still running, also when the test failed, and copies its output to the test log.
/// </summary>
internal sealed class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ITestOutputHelper? _log;
    private readonly List<(bool Error, double Seconds, string Text)> _lines = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TaskCompletionSource _changed = NewSignal();
    private int _openStreams = 2;
    private bool _disposed;

    private RunningProcess(string name, Process process, ITestOutputHelper? log)
    {
        Name = name;
        _process = process;
        _log = log;
    }

    /// <summary>A short name for messages ("seeder", "rtorrent-1").</summary>
    public string Name { get; }

    /// <summary>The process id.</summary>
    public int Pid { get; private set; }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code (valid once exited).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Everything printed on stdout so far.</summary>
    public string StandardOutput => Join(error: false);

    /// <summary>Everything printed on stderr so far.</summary>
    public string StandardError => Join(error: true);

    /// <summary>Starts <paramref name="fileName"/> with stdin at end of file (no terminal, nothing to read).</summary>
    /// <param name="name">A short name for messages.</param>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments, passed as they are (no shell).</param>
    /// <param name="log">Where the output goes when the process is disposed.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="workingDirectory">The working folder (default: the test's).</param>
    public static RunningProcess Start(string name, string fileName, IEnumerable<string> arguments, ITestOutputHelper? log,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var running = new RunningProcess(name, process, log);
        process.OutputDataReceived += (_, e) => running.OnLine(false, e.Data);
        process.ErrorDataReceived += (_, e) => running.OnLine(true, e.Data);
        process.Exited += (_, _) => running.Signal();
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"Cannot start {fileName}: {e.Message}. Run ./test.sh, which installs the test peers.", e);
        }
        running.Pid = process.Id;
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log?.WriteLine($"[{name}] started pid {running.Pid}: {fileName} {string.Join(' ', psi.ArgumentList)}");
        return running;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void OnLine(bool error, string? text)
    {
        lock (_lines)
        {
            if (text is null) _openStreams--;
            else _lines.Add((error, _clock.Elapsed.TotalSeconds, text));
        }
        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource old;
        lock (_lines)
        {
            old = _changed;
            _changed = NewSignal();
        }
        old.TrySetResult();
    }

    /// <summary>Exited and both streams read to the end: no more lines will come.</summary>
    private bool Finished
    {
        get
        {
            lock (_lines) return _openStreams == 0 && _process.HasExited;
        }
    }

    private string Join(bool error)
    {
        lock (_lines) return string.Join('\n', _lines.Where(l => l.Error == error).Select(l => l.Text));
    }

    /// <summary>The last lines of both streams, for failure messages.</summary>
    public string Tail(int count = 60)
    {
        lock (_lines)
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)).Select(l => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{l.Seconds,7:0.00} {(l.Error ? "err" : "out")}| {l.Text}")));
    }

    /// <summary>
    /// Waits for a line (stdout or stderr) that matches and returns it. Fails when the process ends without printing
    /// one, or when <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        int seen = 0;
        while (true)
        {
            Task changed;
            lock (_lines)
            {
                for (; seen < _lines.Count; seen++)
                    if (match(_lines[seen].Text)) return _lines[seen].Text;
                changed = _changed.Task;
            }
            if (Finished)
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before {what}.\n{Tail()}");
            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name} did not report {what} within {timeout.TotalSeconds:0} s.\n{Tail()}");
            }
        }
    }

    /// <summary>Waits until a condition on the process holds (checked at every line and every <paramref name="poll"/>).</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, TimeSpan? poll = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition())
        {
            if (Finished)
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before {what}.\n{Tail()}");
            Task changed;
            lock (_lines) changed = _changed.Task;
            try
            {
                await Task.WhenAny(changed, Task.Delay(poll ?? TimeSpan.FromMilliseconds(100), cts.Token)).WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:0} s while {Name} ran.\n{Tail()}");
            }
        }
    }

    /// <summary>Waits for the process to exit and its output to be read; kills it and fails after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0} s (killed).\n{Tail()}");
        }
        return _process.ExitCode;
    }

    /// <summary>Sends a signal to the process (by its PID).</summary>
    public void SendSignal(int signal) => Posix.Kill(Pid, signal);

    /// <summary>Kills the process and its children at once (SIGKILL), if still running.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { /* exited meanwhile */ }
    }

    /// <summary>Kills the process if still running, waits for it, and copies its output to the test log.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        bool wasRunning = !_process.HasExited;
        Kill();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            try { await _process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _log?.WriteLine($"[{Name}] pid {Pid} did not die within 15 s of SIGKILL"); }
        }
        if (_log is not null)
        {
            try
            {
                _log.WriteLine($"[{Name}] pid {Pid} {(wasRunning ? "killed" : $"exited with {_process.ExitCode}")}; output:");
                _log.WriteLine(Tail(400));
            }
            catch (InvalidOperationException) { /* the test is over */ }
        }
        _process.Dispose();
    }
}
