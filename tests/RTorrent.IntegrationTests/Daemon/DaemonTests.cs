using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Client;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Daemon;

/// <summary>
/// <c>rtorrent daemon</c> as a service manager and a user see it (issue 12, item 1): it serves the RPC, survives what
/// a service must survive, stops cleanly with everything saved, and refuses with one clear line and exit code 2 what
/// it cannot do.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class DaemonTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Serves_both_protocols_on_tcp_and_the_owner_only_socket_then_stops_on_sigterm_with_exit_0()
    {
        using var tmp = new TempFolder("rt-daemon");
        await using var daemon = await DaemonProcess.StartAsync(tmp, output);

        // Transmission's RPC over TCP, after the session-id handshake.
        var get = await daemon.TransmissionAsync("session-get");
        Assert.Equal("success", get["result"]!.GetValue<string>());
        Assert.Equal(17, get["arguments"]!["rpc-version"]!.GetValue<int>());

        // The interface's protocol through the socket, which only the owner may open.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(daemon.SocketPath));
        using (var remote = daemon.Attach())
        {
            var hello = await remote.ConnectAsync();
            Assert.Equal(Path.GetFullPath(daemon.Session), hello.SessionDirectory);
            Assert.Contains("rarest-first", hello.Pickers);
            Assert.Empty((await remote.GetSessionAsync()).Torrents);
        }

        Assert.Equal(0, await daemon.StopAsync());
        Assert.False(File.Exists(daemon.SocketPath), "the socket is removed at exit");
        string log = await File.ReadAllTextAsync(Path.Combine(daemon.Session, "rtorrent.log"));
        Assert.Contains("daemon ready", log, StringComparison.Ordinal);
        Assert.Contains("SIGTERM received", log, StringComparison.Ordinal);
        Assert.Contains("stopping: saving resume data", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_daemon_on_the_same_session_says_so_in_one_line_and_exits_2()
    {
        using var tmp = new TempFolder("rt-daemon");
        await using var first = await DaemonProcess.StartAsync(tmp, output);
        await using var second = RunningProcess.Start("daemon-2", RTorrentCli.DotnetHostPath,
            [RTorrentCli.DllPath, "daemon", "--session", first.Session, "--rpc", $"127.0.0.1:{FreePorts.Tcp()}"], output,
            RTorrentCli.ProgramEnvironment(first.Home));
        Assert.Equal(2, await second.WaitForExitAsync(Limits.Startup));
        var lines = second.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("Another rtorrent is using the session folder", lines[0], StringComparison.Ordinal);
        // The first one never noticed.
        Assert.Equal("success", (await first.TransmissionAsync("session-get"))["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sighup_from_a_closed_terminal_does_not_stop_it()
    {
        using var tmp = new TempFolder("rt-daemon");
        await using var daemon = await DaemonProcess.StartAsync(tmp, output);
        daemon.Process.SendSignal(1); // SIGHUP
        await daemon.Process.WaitForLineAsync(l => l.Contains("SIGHUP ignored", StringComparison.Ordinal), Limits.Startup, "SIGHUP to be logged");
        Assert.False(daemon.Process.HasExited);
        Assert.Equal("success", (await daemon.TransmissionAsync("session-get"))["result"]!.GetValue<string>());
        Assert.Equal(0, await daemon.StopAsync());
    }

    [Fact]
    public async Task Systemd_hears_ready_once_the_rpc_answers_and_stopping_when_it_stops()
    {
        using var tmp = new TempFolder("rt-daemon");
        string notifyPath = tmp.PathOf("notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        await using var daemon = await DaemonProcess.StartAsync(tmp, output,
            environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath });

        string ready = await ReceiveAsync(notify);
        Assert.Contains("READY=1", ready, StringComparison.Ordinal);
        Assert.Contains($"MAINPID={daemon.Process.Pid}", ready, StringComparison.Ordinal);
        // READY is sent once the RPC listens: it answers now.
        Assert.Equal("success", (await daemon.TransmissionAsync("session-get"))["result"]!.GetValue<string>());

        daemon.Process.SendSignal(Posix.SIGTERM);
        Assert.Contains("STOPPING=1", await ReceiveAsync(notify), StringComparison.Ordinal);
        Assert.Equal(0, await daemon.Process.WaitForExitAsync(Limits.Shutdown));
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Limits.Startup);
        int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public async Task After_kill_9_the_next_daemon_takes_over_the_session_and_its_socket()
    {
        using var tmp = new TempFolder("rt-daemon");
        string session;
        await using (var first = await DaemonProcess.StartAsync(tmp, output, "daemon-1"))
        {
            session = first.Session;
            first.Process.SendSignal(Posix.SIGKILL);
            await first.Process.WaitForExitAsync(Limits.Shutdown);
            Assert.True(File.Exists(first.SocketPath), "kill -9 leaves the socket file behind");
        }
        await using var second = await DaemonProcess.StartAsync(tmp, output, "daemon-2", session, writeSettings: false);
        using var remote = second.Attach();
        await remote.ConnectAsync();
        Assert.Empty((await remote.GetSessionAsync()).Torrents);
    }

    [Fact]
    public async Task A_torrent_added_through_the_socket_is_seeding_again_after_a_restart_without_a_recheck()
    {
        using var tmp = new TempFolder("rt-daemon");
        string session = tmp.Sub("session");
        string downloads = tmp.Sub("downloads");
        Payload.WriteFile(Path.Combine(downloads, "kept.bin"), 2 * 1024 * 1024 + 77, seed: 5);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(downloads, "kept.bin"), tmp.PathOf("kept.torrent"), 64 * 1024);

        await using (var daemon = await DaemonProcess.StartAsync(tmp, output, "daemon-1", session))
        {
            using var remote = daemon.Attach();
            await remote.ConnectAsync();
            string id = await remote.AddTorrentAsync(torrent.FilePath, downloads, start: true, picker: null, storage: null);
            Assert.Equal(torrent.InfoHashHex, id);
            await WaitForStateAsync(remote, id, TorrentState.Seeding);
            Assert.Equal(0, await daemon.StopAsync());
        }

        await using (var again = await DaemonProcess.StartAsync(tmp, output, "daemon-2", session, writeSettings: false))
        {
            using var remote = again.Attach();
            await remote.ConnectAsync();
            var t = await WaitForStateAsync(remote, torrent.InfoHashHex, TorrentState.Seeding);
            Assert.Equal(1.0, t.Progress);
            var details = await remote.GetDetailsAsync(t.Id);
            Assert.NotNull(details);
            // Resume data was trusted: the torrent never went through a check in this run.
            Assert.DoesNotContain(details.Log, e => e.Message.StartsWith("checked:", StringComparison.Ordinal));
        }
    }

    private static async Task<TorrentSnapshot> WaitForStateAsync(RTorrent.Remote.Native.RemoteBackend remote, string id, TorrentState state)
    {
        using var cts = new CancellationTokenSource(Limits.Startup);
        TorrentSnapshot? last = null;
        while (!cts.IsCancellationRequested)
        {
            var session = await remote.GetSessionAsync(cts.Token);
            last = session.Torrents.FirstOrDefault(t => t.Id == id);
            if (last?.State == state) return last;
            await Task.Delay(100, CancellationToken.None);
        }
        throw new TimeoutException($"{id} did not reach {state}; last seen {last?.State} {last?.Error}");
    }

    [Theory]
    [InlineData("0.0.0.0:{0}", "without a user and password")]
    [InlineData("127.0.0.1", "expected ADDRESS:PORT")]
    public async Task Refuses_an_unsafe_or_unreadable_rpc_address_with_one_line_and_exit_2(string rpc, string expected)
    {
        using var tmp = new TempFolder("rt-daemon");
        string session = tmp.Sub("session");
        DaemonProcess.WriteSettings(session, tmp.Sub("downloads"));
        await using var daemon = RunningProcess.Start("daemon", RTorrentCli.DotnetHostPath,
            [RTorrentCli.DllPath, "daemon", "--session", session, "--rpc", string.Format(System.Globalization.CultureInfo.InvariantCulture, rpc, FreePorts.Tcp())],
            output, RTorrentCli.ProgramEnvironment(tmp.Sub("home")));
        Assert.Equal(2, await daemon.WaitForExitAsync(Limits.Startup));
        Assert.Contains(expected, daemon.StandardError, StringComparison.Ordinal);
        Assert.Single(daemon.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task An_rpc_port_already_taken_is_one_line_and_exit_2()
    {
        using var tmp = new TempFolder("rt-daemon");
        string session = tmp.Sub("session");
        DaemonProcess.WriteSettings(session, tmp.Sub("downloads"));
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        await using var daemon = RunningProcess.Start("daemon", RTorrentCli.DotnetHostPath,
            [RTorrentCli.DllPath, "daemon", "--session", session, "--rpc", $"127.0.0.1:{port}"], output,
            RTorrentCli.ProgramEnvironment(tmp.Sub("home")));
        Assert.Equal(2, await daemon.WaitForExitAsync(Limits.Startup));
        Assert.Contains($"cannot serve the RPC on 127.0.0.1:{port}", daemon.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(session, "rpc.sock")), "a daemon that could not start leaves no socket");
    }
}
