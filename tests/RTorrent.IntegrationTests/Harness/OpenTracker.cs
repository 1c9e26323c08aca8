using System.Net.Http;
using RTorrent.Engine.Bencode;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// opentracker on 127.0.0.1, HTTP and UDP on one port. The Debian build only tracks whitelisted info-hashes, so the
/// torrents are made first (their announce URL holds the port, see <see cref="ReservePort"/>) and their hashes are
/// written to the whitelist before the tracker starts. It chroots into its folder and drops to 'nobody', so the
/// folder and the whitelist are world-readable and the whitelist path is relative to the folder.
/// </summary>
internal sealed class OpenTracker : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly RunningProcess _process;

    private OpenTracker(int port, RunningProcess process)
    {
        Port = port;
        _process = process;
    }

    /// <summary>The port (TCP for HTTP, UDP for BEP 15).</summary>
    public int Port { get; }

    /// <summary>http://127.0.0.1:PORT/announce</summary>
    public string HttpAnnounce => HttpAnnounceFor(Port);

    /// <summary>udp://127.0.0.1:PORT/announce</summary>
    public string UdpAnnounce => UdpAnnounceFor(Port);

    /// <summary>The HTTP announce URL for a tracker on <paramref name="port"/>.</summary>
    public static string HttpAnnounceFor(int port) => $"http://127.0.0.1:{port}/announce";

    /// <summary>The UDP announce URL for a tracker on <paramref name="port"/>.</summary>
    public static string UdpAnnounceFor(int port) => $"udp://127.0.0.1:{port}/announce";

    /// <summary>A port free for the tracker's TCP and UDP sockets.</summary>
    public static int ReservePort() => FreePorts.TcpAndUdp();

    /// <summary>Starts opentracker on <paramref name="port"/> tracking <paramref name="infoHashes"/> and waits until it answers.</summary>
    public static async Task<OpenTracker> StartAsync(string folder, int port, IEnumerable<string> infoHashes, ITestOutputHelper? log)
    {
        var exe = Tools.Require("opentracker", "opentracker");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        var whitelist = Path.Combine(folder, "whitelist");
        await File.WriteAllLinesAsync(whitelist, infoHashes.Select(h => h.ToLowerInvariant()));
        File.SetUnixFileMode(whitelist, (UnixFileMode)0b110_100_100);
        var process = RunningProcess.Start("opentracker", exe,
            ["-i", "127.0.0.1", "-p", Port(port), "-P", Port(port), "-d", folder, "-w", "whitelist"], log);
        var tracker = new OpenTracker(port, process);
        try
        {
            await Poll.UntilAsync(async () => process.HasExited
                    ? throw new InvalidOperationException($"opentracker exited with {process.ExitCode}.\n{process.Tail()}")
                    : await tracker.AnswersAsync(),
                Limits.Startup, "opentracker answering scrapes", TimeSpan.FromMilliseconds(200));
            return tracker;
        }
        catch
        {
            await tracker.DisposeAsync();
            throw;
        }

        static string Port(int p) => p.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var response = await Http.GetAsync($"http://127.0.0.1:{Port}/scrape");
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Seeds and leechers the tracker knows for a torrent (an HTTP scrape), or (0, 0) when it knows none.</summary>
    public async Task<(long Seeders, long Leechers)> ScrapeAsync(string infoHashHex)
    {
        var hash = Convert.FromHexString(infoHashHex);
        var query = string.Concat(hash.Select(b => $"%{b:X2}"));
        var bytes = await Http.GetByteArrayAsync($"http://127.0.0.1:{Port}/scrape?info_hash={query}");
        var top = BencodeReader.DecodeDictionary(bytes, BencodeReaderOptions.Lenient);
        if (top.Get<BDictionary>("files") is not { } files || !files.TryGetValue(hash, out var entry) || entry is not BDictionary d)
            return (0, 0); // opentracker leaves out torrents without peers
        return (d.GetInteger("complete") ?? 0, d.GetInteger("incomplete") ?? 0);
    }

    /// <summary>Waits until the tracker lists at least <paramref name="count"/> seeders (they announced with left=0).</summary>
    public async Task WaitForSeedersAsync(string infoHashHex, int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        long seen = 0;
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"opentracker exited.\n{_process.Tail()}");
            try
            {
                seen = (await ScrapeAsync(infoHashHex)).Seeders;
                if (seen >= count) return;
            }
            catch (HttpRequestException) { /* busy: try again */ }
            try
            {
                await Task.Delay(200, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The tracker lists {seen} seeders of {infoHashHex}, not {count}, after {timeout.TotalSeconds:0} s.");
            }
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
