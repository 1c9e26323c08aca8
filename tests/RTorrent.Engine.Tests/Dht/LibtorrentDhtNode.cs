using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RTorrent.Engine.Tests.Dht;

/// <summary>
/// A python3-libtorrent session with the DHT on, run by <c>lt_dht_node.py</c> on 127.0.0.1. Its stdout lines are
/// collected; disposing closes its stdin, then kills it by PID if it has not exited.
/// </summary>
internal sealed class LibtorrentDhtNode : IAsyncDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task _reader;

    private LibtorrentDhtNode(Process process, int port, IPAddress host)
    {
        Host = host;
        _process = process;
        Port = port;
        _reader = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
                lock (_lines) _lines.Add(line);
        });
    }

    public int Port { get; }

    /// <summary>The address it listens on: 127.0.0.1, or ::1 for an IPv6 DHT node.</summary>
    public IPAddress Host { get; }

    public IPEndPoint EndPoint => new(Host, Port);

    public int ProcessId => _process.Id;

    /// <summary>Fails the test with a clear message when python3-libtorrent is not installed.</summary>
    public static void EnsureAvailable()
    {
        string? problem = null;
        if (!File.Exists(Python)) problem = $"{Python} is missing";
        else
        {
            using var p = Process.Start(new ProcessStartInfo(Python, ["-c", "import libtorrent"])
            {
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            if (!p.WaitForExit(30_000))
            {
                p.Kill();
                problem = "python3 did not start within 30 s";
            }
            else if (p.ExitCode != 0)
            {
                problem = "python3 cannot import libtorrent: " + p.StandardError.ReadToEnd().Trim();
            }
        }
        if (problem is not null)
            Assert.Fail($"The DHT interop test needs python3-libtorrent ({problem}). Run ./test.sh, which installs it.");
    }

    public static LibtorrentDhtNode Start(int port, IEnumerable<IPEndPoint> nodes, string? announceHex = null, string? lookupHex = null,
        TimeSpan? maxTime = null, IEnumerable<IPEndPoint>? routers = null, string? seedTorrent = null, string? seedDirectory = null,
        IPAddress? host = null)
    {
        host ??= IPAddress.Loopback;
        var script = Path.Combine(RTorrent.Testing.TestPaths.RepoRoot, "tests", "RTorrent.Engine.Tests", "Dht", "lt_dht_node.py");
        var args = new List<string> { "-u", script, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--max-time", ((int)(maxTime ?? TimeSpan.FromMinutes(4)).TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        args.AddRange(["--host", host.ToString()]);
        foreach (var n in nodes) args.AddRange(["--node", n.ToString()]);
        foreach (var r in routers ?? []) args.AddRange(["--router", r.ToString()]);
        if (announceHex is not null) args.AddRange(["--announce", announceHex]);
        if (lookupHex is not null) args.AddRange(["--lookup", lookupHex]);
        if (seedTorrent is not null) args.AddRange(["--seed", seedTorrent, "--save", seedDirectory!]);
        var psi = new ProcessStartInfo(Python, args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start");
        return new LibtorrentDhtNode(process, port, host);
    }

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    public bool HasLine(Func<string, bool> match)
    {
        lock (_lines) return _lines.Exists(l => match(l));
    }

    /// <summary>The last NODES count libtorrent reported.</summary>
    public int RoutingTableSize
    {
        get
        {
            lock (_lines)
            {
                var last = _lines.LastOrDefault(l => l.StartsWith("NODES ", StringComparison.Ordinal));
                return last is null ? 0 : int.Parse(last.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
    }

    public async Task WaitForAsync(Func<string, bool> match, string what, CancellationToken cancellationToken)
    {
        while (!HasLine(match))
        {
            if (_process.HasExited) throw new InvalidOperationException($"libtorrent node on port {Port} exited before {what}:\n{string.Join('\n', Lines)}");
            await Task.Delay(100, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    _process.StandardInput.Close(); // the script exits when stdin closes
                }
                catch (IOException)
                {
                }
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        finally
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true); // by PID, never by name
            await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
            _process.Dispose();
        }
    }

    /// <summary>A port free for both TCP and UDP on 127.0.0.1 (libtorrent listens on both with one number).</summary>
    public static int FreePort(IPAddress? host = null)
    {
        host ??= IPAddress.Loopback;
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var tcp = new Socket(host.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(host, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(host.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(host, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("No port free for both TCP and UDP on 127.0.0.1");
    }
}
