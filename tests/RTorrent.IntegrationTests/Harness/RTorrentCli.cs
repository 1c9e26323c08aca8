using System.Globalization;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Runs the real program, <c>dotnet rtorrent.dll ...</c>, as a separate process. The program is the build output of
/// src/RTorrent for the same configuration as the tests (with its plugins folder); when that is absent, the copy the
/// project reference puts beside the test assembly.
/// </summary>
internal static class RTorrentCli
{
    private static readonly Lazy<string> Dll = new(FindDll);

    /// <summary>rtorrent.dll.</summary>
    public static string DllPath => Dll.Value;

    /// <summary>Everything on 127.0.0.1, a port the OS picks, and no DHT, LSD or PEX (tests name their peers).</summary>
    public static readonly string[] Loopback = ["--bind", "127.0.0.1", "--port", "0", "--no-dht", "--no-lsd", "--no-pex"];

    private static string FindDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        // tests/RTorrent.IntegrationTests/bin/<Configuration>/<tfm>/
        var configuration = here.Parent?.Name ?? "Debug";
        var fromSource = Path.Combine(RTorrent.Testing.TestPaths.RepoRoot, "src", "RTorrent", "bin", configuration, here.Name, "rtorrent.dll");
        if (File.Exists(fromSource)) return fromSource;
        var beside = Path.Combine(AppContext.BaseDirectory, "rtorrent.dll");
        if (File.Exists(beside)) return beside;
        throw new InvalidOperationException($"rtorrent.dll is neither at {fromSource} nor at {beside}; build the solution first.");
    }

    /// <summary>The dotnet host running the tests (so the program runs on the same runtime).</summary>
    public static string DotnetHostPath => DotnetHost;

    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h
        : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
        : "dotnet";

    /// <summary>
    /// Starts <c>rtorrent ARGS</c>. <paramref name="home"/> becomes its XDG data and config folder, so nothing is read
    /// from or written to the user's real folders.
    /// </summary>
    public static RunningProcess Start(string name, string home, ITestOutputHelper? log, params string[] args) =>
        RunningProcess.Start(name, DotnetHost, [DllPath, .. args], log, ProgramEnvironment(home));

    /// <summary>The environment every started <c>rtorrent</c> gets: <paramref name="home"/> as its XDG data and config folder.</summary>
    public static Dictionary<string, string> ProgramEnvironment(string home) => new()
    {
        ["XDG_DATA_HOME"] = Path.Combine(home, "data"),
        ["XDG_CONFIG_HOME"] = Path.Combine(home, "config"),
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    /// <summary><c>rtorrent download TORRENT --save SAVE --session SESSION</c> on loopback, plus <paramref name="extra"/>.</summary>
    public static RunningProcess Download(string name, string home, ITestOutputHelper? log, string torrent, string save, string session,
        params string[] extra) =>
        Start(name, home, log, ["download", torrent, "--save", save, "--session", session, .. Loopback, .. extra]);

    /// <summary><c>rtorrent seed TORRENT --save SAVE --session SESSION</c> on loopback, plus <paramref name="extra"/>.</summary>
    public static RunningProcess Seed(string name, string home, ITestOutputHelper? log, string torrent, string save, string session,
        params string[] extra) =>
        Start(name, home, log, ["seed", torrent, "--save", save, "--session", session, .. Loopback, .. extra]);

    /// <summary>Waits for <c>rtorrent seed</c>'s "Seeding 'NAME' on port N." and returns N.</summary>
    public static async Task<int> WaitSeedingPortAsync(RunningProcess seeder)
    {
        var line = await seeder.WaitForLineAsync(l => l.StartsWith("Seeding '", StringComparison.Ordinal) && l.Contains(" on port ", StringComparison.Ordinal),
            Limits.Startup, "seeding");
        var text = line[(line.LastIndexOf(" on port ", StringComparison.Ordinal) + " on port ".Length)..].TrimEnd('.');
        return int.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>Peer argument for a port on 127.0.0.1.</summary>
    public static string[] Peer(int port) => ["--peer", $"127.0.0.1:{port}"];
}
