using System.Diagnostics;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Network namespaces a test makes for itself (as root) and removes when disposed, also after a failure: names carry
/// the process id and a counter so parallel runs never share one. Commands run with <c>ip netns exec</c>, which execs
/// the program itself, so a <see cref="RunningProcess"/>'s PID is the program's and it is killed by that PID.
/// </summary>
internal sealed class NetworkLab : IAsyncDisposable
{
    private static int _counter;
    private readonly List<string> _namespaces = [];
    private readonly ITestOutputHelper? _log;

    private NetworkLab(ITestOutputHelper? log) => _log = log;

    /// <summary>Why a lab cannot be made here (not root, no ip or nft), or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!Environment.IsPrivilegedProcess) return "network namespaces need root";
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip")) return "iproute2 (ip) is not installed";
        return null;
    }

    public static NetworkLab Create(ITestOutputHelper? log)
    {
        if (Unavailable() is { } why) throw new InvalidOperationException(why);
        return new NetworkLab(log);
    }

    /// <summary>Makes a namespace with its loopback up; returns its name.</summary>
    public async Task<string> AddNamespaceAsync(string role)
    {
        string name = $"rt{Environment.ProcessId % 100000}{role}{Interlocked.Increment(ref _counter)}";
        await RunAsync("ip", "netns", "add", name);
        _namespaces.Add(name);
        await InAsync(name, "ip", "link", "set", "lo", "up");
        return name;
    }

    /// <summary>Joins two namespaces with a veth pair and gives each end an IPv4 address (a /24).</summary>
    public async Task LinkAsync(string a, string aAddress, string b, string bAddress)
    {
        string id = $"{Interlocked.Increment(ref _counter)}x{Environment.ProcessId % 10000}";
        string ifA = $"va{id}", ifB = $"vb{id}";
        await RunAsync("ip", "link", "add", ifA, "netns", a, "type", "veth", "peer", "name", ifB, "netns", b);
        await InAsync(a, "ip", "addr", "add", aAddress + "/24", "dev", ifA);
        await InAsync(b, "ip", "addr", "add", bAddress + "/24", "dev", ifB);
        await InAsync(a, "ip", "link", "set", ifA, "up");
        await InAsync(b, "ip", "link", "set", ifB, "up");
    }

    /// <summary>Runs a command inside a namespace and waits for it; fails with its output when it fails.</summary>
    public Task<string> InAsync(string ns, string program, params string[] args) => RunAsync("ip", ["netns", "exec", ns, program, .. args]);

    /// <summary>Starts a long-running program inside a namespace.</summary>
    public RunningProcess Start(string ns, string name, string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        RunningProcess.Start(name, "ip", ["netns", "exec", ns, program, .. args], _log, environment);

    /// <summary>Runs a program and waits (bounded); returns its standard output.</summary>
    public static async Task<string> RunAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill();
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 30 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        return await stdout;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            try { await RunAsync("ip", "netns", "del", ns); }
            catch (Exception e) { _log?.WriteLine($"removing namespace {ns}: {e.Message}"); }
        }
    }
}
