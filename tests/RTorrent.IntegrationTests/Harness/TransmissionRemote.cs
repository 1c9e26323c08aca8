using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Debian's <c>transmission-remote</c> (transmission-cli 3.00) pointed at a daemon's RPC, run as a user types it:
/// <c>transmission-remote 127.0.0.1:PORT -l</c>. Each call is one process, bounded in time, killed by PID if it hangs.
/// </summary>
internal sealed class TransmissionRemote(int rpcPort, string home, ITestOutputHelper? log)
{
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(60);

    private readonly string _exe = Tools.Require("transmission-remote", "transmission-cli");
    private int _calls;

    /// <summary>Runs it with <paramref name="args"/>; returns the exit code and what it printed (stdout and stderr).</summary>
    public async Task<(int Code, string Output)> TryAsync(params string[] args)
    {
        var env = new Dictionary<string, string> { ["HOME"] = home, ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config") };
        await using var p = RunningProcess.Start($"transmission-remote-{++_calls}", _exe, [$"127.0.0.1:{rpcPort}", .. args], log, env);
        int code = await p.WaitForExitAsync(CallLimit);
        string output = p.StandardOutput + (p.StandardError.Length > 0 ? "\n" + p.StandardError : "");
        return (code, output);
    }

    /// <summary>Runs it and asserts exit code 0; returns its output.</summary>
    public async Task<string> RunAsync(params string[] args)
    {
        var (code, output) = await TryAsync(args);
        Assert.True(code == 0, $"transmission-remote {string.Join(' ', args)} exited with {code}:\n{output}");
        return output;
    }

    /// <summary>Runs a command whose answer is the usual one-line "... responded: "success"".</summary>
    public async Task SucceedsAsync(params string[] args)
    {
        string output = await RunAsync(args);
        Assert.Contains("responded: \"success\"", output, StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="args"/> until <paramref name="condition"/> holds for its output (bounded); returns that output.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> condition, TimeSpan timeout, string what, params string[] args)
    {
        string last = "";
        await Poll.UntilAsync(async () =>
        {
            last = (await TryAsync(args)).Output;
            return condition(last);
        }, timeout, what, TimeSpan.FromMilliseconds(300), () => $"transmission-remote {string.Join(' ', args)} last printed:\n{last}");
        return last;
    }
}
