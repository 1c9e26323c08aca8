using System.Globalization;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>aria2 (aria2c) as a peer on 127.0.0.1.</summary>
internal static class Aria2
{
    /// <summary>
    /// Options every aria2 run gets: no DHT, LSD or PEX (tests name their peers), no preallocation (aria2 would write
    /// the whole file with zeros first), no session or metadata files, no user configuration, quiet console.
    /// </summary>
    private static readonly string[] Common =
    [
        "--no-conf", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
        "--file-allocation=none", "--summary-interval=0", "--console-log-level=warn", "--enable-color=false",
        "--bt-save-metadata=false", "--auto-save-interval=0", "--save-session-interval=0", "--interface=127.0.0.1",
        "--disable-ipv6=true",
    ];

    /// <summary>
    /// Seeds <paramref name="torrent"/> from <paramref name="dataDirectory"/> on <paramref name="port"/> forever
    /// (--seed-ratio=0.0) after checking the data, and waits until a probe sees every piece.
    /// </summary>
    public static async Task<RunningProcess> StartSeederAsync(TestTorrent torrent, string dataDirectory, int port, ITestOutputHelper? log)
    {
        var exe = Tools.Require("aria2c", "aria2");
        var process = RunningProcess.Start("aria2-seed", exe,
        [
            .. Common, "--dir", dataDirectory, $"--listen-port={port}", "--check-integrity=true", "--bt-seed-unverified=false",
            "--seed-ratio=0.0", torrent.FilePath,
        ], log);
        try
        {
            await PeerProbe.WaitSeedingAsync(port, torrent, process);
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }
}

/// <summary>
/// transmission-cli 3.00 as a peer on 127.0.0.1. It silently refuses to dial peers in 127.0.0.0/8 (tracker or not),
/// but accepts incoming connections from them: so on loopback it only works when the other side dials it.
/// </summary>
internal static class Transmission
{
    /// <summary>Writes a settings.json that keeps it on 127.0.0.1 with no DHT, LPD, PEX, uTP, port mapping or limits.</summary>
    private static string Configure(string configDirectory, int port, string downloadDirectory)
    {
        Directory.CreateDirectory(configDirectory);
        var p = port.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(configDirectory, "settings.json"), $$"""
            {
              "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
              "port-forwarding-enabled": false, "blocklist-enabled": false, "rpc-enabled": false,
              "encryption": 0,
              "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
              "peer-port": {{p}}, "peer-port-random-on-start": false,
              "download-dir": "{{downloadDirectory}}", "incomplete-dir-enabled": false, "rename-partial-files": false,
              "speed-limit-down-enabled": false, "speed-limit-up-enabled": false, "alt-speed-enabled": false,
              "ratio-limit-enabled": false, "idle-seeding-limit-enabled": false,
              "start-added-torrents": true, "message-level": 2
            }
            """);
        return configDirectory;
    }

    /// <summary>Starts transmission-cli on <paramref name="port"/> for <paramref name="torrent"/> with data in <paramref name="directory"/>.</summary>
    public static RunningProcess Start(string name, TestTorrent torrent, string directory, string configDirectory, int port, ITestOutputHelper? log)
    {
        var exe = Tools.Require("transmission-cli", "transmission-cli");
        Configure(configDirectory, port, directory);
        return RunningProcess.Start(name, exe,
            ["-g", configDirectory, "-w", directory, "-p", port.ToString(CultureInfo.InvariantCulture), "-et", "-M", "-D", "-U", torrent.FilePath],
            log, new Dictionary<string, string> { ["HOME"] = configDirectory });
    }

    /// <summary>Starts a seeder and waits until a probe sees every piece (its data check is done).</summary>
    public static async Task<RunningProcess> StartSeederAsync(TestTorrent torrent, string dataDirectory, string configDirectory, int port,
        ITestOutputHelper? log)
    {
        var process = Start("transmission-seed", torrent, dataDirectory, configDirectory, port, log);
        try
        {
            await PeerProbe.WaitSeedingAsync(port, torrent, process);
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }
}
