using System.Diagnostics;
using System.Globalization;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// A real terminal for the real program: a tmux server of its own (a private socket, so nothing is shared with the
/// user's tmux or another test) with one pane running a shell command. Keys go in with send-keys, the screen comes
/// out with capture-pane, as a person would see it. Disposing kills the server and whatever the pane still runs, by PID.
/// </summary>
internal sealed class TmuxTerminal : IAsyncDisposable
{
    private readonly string _tmux;
    private readonly string _socket;
    private int _serverPid;
    private int _panePid;
    private string? _socketPath;

    private TmuxTerminal(string tmux, string socket)
    {
        _tmux = tmux;
        _socket = socket;
    }

    /// <summary>The PID of the pane's first process (the shell running the command).</summary>
    public int PanePid => _panePid;

    /// <summary>Starts a <paramref name="width"/> x <paramref name="height"/> terminal running <c>sh -c COMMAND</c>.</summary>
    public static async Task<TmuxTerminal> StartAsync(string command, int width, int height, IReadOnlyDictionary<string, string> environment)
    {
        string tmux = Tools.Require("tmux", "tmux");
        var terminal = new TmuxTerminal(tmux, $"rtorrent-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            List<string> args = ["new-session", "-d", "-s", "t", "-x", width.ToString(CultureInfo.InvariantCulture),
                "-y", height.ToString(CultureInfo.InvariantCulture)];
            foreach (var (key, value) in environment) args.AddRange(["-e", $"{key}={value}"]);
            args.AddRange(["sh", "-c", command]);
            await terminal.RunAsync(args);
            string[] facts = (await terminal.FormatAsync("#{pid} #{pane_pid} #{socket_path}")).Split(' ', 3);
            terminal._serverPid = int.Parse(facts[0], CultureInfo.InvariantCulture);
            terminal._panePid = int.Parse(facts[1], CultureInfo.InvariantCulture);
            terminal._socketPath = facts[2];
            return terminal;
        }
        catch
        {
            await terminal.DisposeAsync();
            throw;
        }
    }

    /// <summary>The screen as text, one line per row.</summary>
    public Task<string> CaptureAsync() => RunAsync(["capture-pane", "-p", "-t", "t"]);

    /// <summary>A tmux format of the pane, e.g. <c>#{alternate_on}</c>.</summary>
    public async Task<string> FormatAsync(string format) => (await RunAsync(["display-message", "-p", "-t", "t", format])).Trim();

    /// <summary>Keys by tmux name (<c>BSpace</c>, <c>Enter</c>, <c>C-q</c>).</summary>
    public Task SendKeysAsync(params string[] keys) => RunAsync(["send-keys", "-t", "t", .. keys]);

    /// <summary>Text typed literally.</summary>
    public Task TypeAsync(string text) => RunAsync(["send-keys", "-t", "t", "-l", text]);

    /// <summary>Closes the terminal under the program (the tmux server goes, its ptys with it), as a dropped SSH link does.</summary>
    public Task CloseAsync() => RunAsync(["kill-server"]);

    /// <summary>The PIDs of the children of <paramref name="pid"/> (from /proc).</summary>
    private static int[] ChildrenOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/task/{pid}/children")
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Waits until the screen satisfies <paramref name="condition"/>; fails with the last screen.</summary>
    public async Task<string> WaitForScreenAsync(Func<string, bool> condition, TimeSpan timeout, string what)
    {
        string screen = "";
        await Poll.UntilAsync(async () =>
        {
            screen = await CaptureAsync();
            return condition(screen);
        }, timeout, what, TimeSpan.FromMilliseconds(200), () => "The screen:\n" + screen);
        return screen;
    }

    private async Task<string> RunAsync(IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(_tmux) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-L");
        psi.ArgumentList.Add(_socket);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"tmux {string.Join(' ', args)} did not answer within 20 s.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        return await stdout;
    }

    public async ValueTask DisposeAsync()
    {
        // Note the pane's processes (the program under test is a child of the shell) before the server goes.
        var victims = new List<int>();
        if (_panePid > 0)
        {
            victims.AddRange(ChildrenOf(_panePid).SelectMany(c => ChildrenOf(c).Append(c)));
            victims.Add(_panePid);
        }
        try
        {
            await RunAsync(["kill-server"]);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // Already gone with its last pane.
        }
        // SIGKILL for whatever did not go with the server's SIGHUP.
        foreach (int pid in victims) TryKill(pid);
        if (_serverPid > 0) TryKill(_serverPid);
        if (_socketPath is { Length: > 0 } socket && Path.GetFileName(socket) == _socket) File.Delete(socket);
    }

    private static void TryKill(int pid)
    {
        try
        {
            Posix.Kill(pid, Posix.SIGKILL);
        }
        catch (IOException)
        {
            // Already exited.
        }
    }
}
