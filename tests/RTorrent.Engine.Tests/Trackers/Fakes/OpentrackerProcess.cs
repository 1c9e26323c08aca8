using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Metainfo;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Trackers.Fakes;

/// <summary>
/// A real opentracker (the Debian package) on 127.0.0.1, HTTP and UDP on one free port, in its own temporary folder.
/// The Debian build only serves whitelisted torrents, so the info-hashes are given up front. Killed by PID on dispose.
/// </summary>
internal sealed class OpentrackerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private OpentrackerProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string HttpAnnounceUrl => $"http://127.0.0.1:{Port}/announce";

    public string UdpAnnounceUrl => $"udp://127.0.0.1:{Port}/announce";

    public static async Task<OpentrackerProcess> StartAsync(IEnumerable<InfoHash> whitelist)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("The opentracker tests run on Linux (Debian package).");
        string executable = FindExecutable("opentracker")
            ?? throw new InvalidOperationException("opentracker is not installed; run ./test.sh, which installs the test peers.");
        string directory = TestPaths.NewTempDir("rt-opentracker");
        // opentracker chroots into the folder and drops to 'nobody', which must be able to read the whitelist.
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        string list = Path.Combine(directory, "whitelist");
        await File.WriteAllLinesAsync(list, whitelist.Select(h => h.ToHex()));
        File.SetUnixFileMode(list, (UnixFileMode)0b110_100_100);

        string? lastError = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int port = FreePortForTcpAndUdp();
            var info = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-i", "127.0.0.1", "-p", port.ToString(), "-P", port.ToString(), "-d", directory, "-w", "whitelist" })
                info.ArgumentList.Add(arg);
            var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start opentracker.");
            var output = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            var tracker = new OpentrackerProcess(process, directory, port);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                // opentracker exits at once when it cannot bind; make sure the listener we reached is really it.
                if (await CanConnectAsync(port))
                {
                    await Task.Delay(100);
                    if (!process.HasExited) return tracker;
                }
                await Task.Delay(20);
            }
            lastError = process.HasExited ? await output : "it did not open its port within 10 s";
            await tracker.KillAsync();
        }
        Directory.Delete(directory, recursive: true);
        throw new InvalidOperationException($"opentracker did not start: {lastError}");
    }

    private static string? FindExecutable(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/usr/sbin")
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    /// <summary>
    /// A port free for TCP and UDP, chosen below the ephemeral range: a port taken from that range and released
    /// could be handed to any test binding port 0 before opentracker binds it, and we would then talk to that test.
    /// </summary>
    private static int FreePortForTcpAndUdp()
    {
        int ephemeralLow = 32768;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
        }
        int low = 10000, high = Math.Max(low + 1000, ephemeralLow);
        for (int i = 0; i < 200; i++)
        {
            int port = Random.Shared.Next(low, high);
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("No port free for both TCP and UDP.");
    }

    private static async Task<bool> CanConnectAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }
        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }
}
