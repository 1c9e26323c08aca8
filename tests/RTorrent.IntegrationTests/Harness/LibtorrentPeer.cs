using System.Globalization;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// A python3-libtorrent peer (peers/lt_peer.py) on 127.0.0.1: a seeder, or a downloader from a .torrent or a
/// magnet link. It listens on a port the OS picks and reports it.
/// </summary>
internal sealed class LibtorrentPeer : IAsyncDisposable
{
    private LibtorrentPeer(RunningProcess process) => Process = process;

    /// <summary>The python process.</summary>
    public RunningProcess Process { get; }

    /// <summary>The listen port (after <see cref="StartSeederAsync"/> or <see cref="StartDownloader"/>'s <see cref="WaitListeningAsync"/>).</summary>
    public int Port { get; private set; }

    /// <summary>The script, copied beside the test assembly.</summary>
    public static string Script => Path.Combine(AppContext.BaseDirectory, "peers", "lt_peer.py");

    /// <summary>Starts a seeder of <paramref name="torrent"/> whose data is in <paramref name="saveDirectory"/> and waits until it seeds.</summary>
    /// <param name="uploadLimit">Bytes/s for all peers, loopback included; 0 = unlimited.</param>
    /// <param name="encryption">lt_peer.py's --encryption: default (MSE tried first, plaintext taken), rc4-only, disabled.</param>
    /// <param name="peers">Peers it dials itself (ports on 127.0.0.1), e.g. a client that cannot dial loopback.</param>
    /// <param name="transport">lt_peer.py's --transport: tcp (TCP only), utp (uTP only), both.</param>
    public static async Task<LibtorrentPeer> StartSeederAsync(TestTorrent torrent, string saveDirectory, ITestOutputHelper? log,
        string name = "lt-seed", long uploadLimit = 0, string encryption = "default", string transport = "tcp", params int[] peers) =>
        await StartSeederAsync(torrent, saveDirectory, log, name, uploadLimit, encryption, listen: null, netns: null, transport, peers);

    /// <summary>
    /// As above, listening on <paramref name="listen"/> (e.g. <c>::1</c>) and, with <paramref name="netns"/>, run inside
    /// that network namespace (<c>ip netns exec</c>, which execs python: the PID is python's).
    /// </summary>
    public static async Task<LibtorrentPeer> StartSeederAsync(TestTorrent torrent, string saveDirectory, ITestOutputHelper? log,
        string name, long uploadLimit, string encryption, string? listen, string? netns, string transport = "tcp", params int[] peers)
    {
        List<string> args = ["seed", "--torrent", torrent.FilePath, "--save", saveDirectory, "--encryption", encryption, "--transport", transport];
        if (uploadLimit > 0) args.AddRange(["--upload-limit", uploadLimit.ToString(CultureInfo.InvariantCulture)]);
        if (listen is not null) args.AddRange(["--listen", listen]);
        var peer = Start(name, args, peers, log, netns);
        try
        {
            await peer.WaitListeningAsync();
            await peer.Process.WaitForLineAsync(l => l == "SEEDING", Limits.Startup, "SEEDING");
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a downloader of a .torrent file or a magnet link into <paramref name="saveDirectory"/>.</summary>
    /// <param name="torrentOrMagnet">A .torrent path, or a magnet link.</param>
    /// <param name="encryption">lt_peer.py's --encryption: default, rc4-only, disabled.</param>
    /// <param name="peers">Ports on 127.0.0.1 it dials (again while not connected).</param>
    /// <param name="transport">lt_peer.py's --transport: tcp (TCP only), utp (uTP only), both.</param>
    public static LibtorrentPeer StartDownloader(string torrentOrMagnet, string saveDirectory, ITestOutputHelper? log,
        string name = "lt-get", string encryption = "default", string transport = "tcp", params int[] peers)
    {
        bool magnet = torrentOrMagnet.StartsWith("magnet:", StringComparison.Ordinal);
        return Start(name, ["get", magnet ? "--magnet" : "--torrent", torrentOrMagnet, "--save", saveDirectory, "--encryption", encryption,
            "--transport", transport], peers, log);
    }

    private static LibtorrentPeer Start(string name, List<string> args, int[] peers, ITestOutputHelper? log, string? netns = null)
    {
        var python = Tools.RequireLibtorrent();
        foreach (var p in peers) args.AddRange(["--peer", $"127.0.0.1:{p}"]);
        args.AddRange(["--max-time", "600"]);
        return new LibtorrentPeer(netns is null
            ? RunningProcess.Start(name, python, [Script, .. args], log)
            : RunningProcess.Start(name, "/usr/sbin/ip", ["netns", "exec", netns, python, Script, .. args], log));
    }

    /// <summary>Waits for the LISTENING line and reads the port.</summary>
    public async Task<int> WaitListeningAsync()
    {
        if (Port != 0) return Port;
        var line = await Process.WaitForLineAsync(l => l.StartsWith("LISTENING ", StringComparison.Ordinal), Limits.Startup, "its listen port");
        Port = int.Parse(line.AsSpan("LISTENING ".Length), CultureInfo.InvariantCulture);
        return Port;
    }

    /// <summary>Waits until the downloader reports every byte verified (it exits 0 right after).</summary>
    public async Task WaitFinishedAsync(TimeSpan timeout)
    {
        await Process.WaitForLineAsync(l => l.StartsWith("FINISHED", StringComparison.Ordinal), timeout, "FINISHED");
        int code = await Process.WaitForExitAsync(Limits.Shutdown);
        Assert.True(code == 0, $"{Process.Name} exited with {code}.\n{Process.Tail()}");
        Assert.DoesNotContain("ERROR", Process.StandardOutput, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
