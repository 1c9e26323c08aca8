using System.Globalization;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Real proxy servers from Debian, each started with a configuration of the test's own and stopped by PID: dante
/// (SOCKS5 with UDP ASSOCIATE, and SOCKS4), microsocks (SOCKS5 with a user name and password) and tinyproxy
/// (HTTP CONNECT and forwarding, with Basic login).
/// </summary>
internal static class ProxyServers
{
    /// <summary>
    /// dante's sockd: SOCKS on <paramref name="internalAddress"/>:<paramref name="port"/>, leaving from
    /// <paramref name="externalAddress"/>, no login, CONNECT and UDP allowed everywhere; inside <paramref name="ns"/> when given.
    /// </summary>
    public static async Task<RunningProcess> StartDanteAsync(string folder, string internalAddress, int port, string externalAddress,
        ITestOutputHelper? log, NetworkLab? lab = null, string? ns = null)
    {
        var exe = Tools.Require("danted", "dante-server");
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "danted.conf");
        await File.WriteAllTextAsync(config, $$"""
            logoutput: stderr
            internal: {{internalAddress}} port = {{port}}
            external: {{externalAddress}}
            clientmethod: none
            socksmethod: none
            user.privileged: root
            user.unprivileged: nobody
            client pass {
              from: 0.0.0.0/0 to: 0.0.0.0/0
            }
            socks pass {
              from: 0.0.0.0/0 to: 0.0.0.0/0
              command: connect udpassociate bindreply udpreply
              log: connect disconnect error
            }
            """);
        // -N 1: one process tree; -f: our configuration. It stays in the foreground.
        string[] args = ["-f", config, "-N", "1"];
        var process = lab is null ? RunningProcess.Start("danted", exe, args, log) : lab.Start(ns!, "danted", exe, args);
        await WaitListeningAsync(process, internalAddress, port, lab, ns);
        return process;
    }

    /// <summary>microsocks on 127.0.0.1:<paramref name="port"/> with a user name and password.</summary>
    public static async Task<RunningProcess> StartMicrosocksAsync(int port, string user, string password, ITestOutputHelper? log)
    {
        var exe = Tools.Require("microsocks", "microsocks");
        var process = RunningProcess.Start("microsocks", exe, ["-i", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-u", user, "-P", password], log);
        await WaitListeningAsync(process, "127.0.0.1", port, null, null);
        return process;
    }

    /// <summary>tinyproxy on 127.0.0.1:<paramref name="port"/> with Basic login, logging every request to its output.</summary>
    public static async Task<RunningProcess> StartTinyproxyAsync(string folder, int port, string user, string password, ITestOutputHelper? log)
    {
        var exe = Tools.Require("tinyproxy", "tinyproxy");
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "tinyproxy.conf");
        // No ConnectPort line: CONNECT is allowed to any port (peers listen anywhere). No LogFile: it logs to stderr.
        await File.WriteAllTextAsync(config, $"""
            Port {port}
            Listen 127.0.0.1
            Timeout 60
            MaxClients 50
            Allow 127.0.0.1
            BasicAuth {user} {password}
            LogLevel Info
            DisableViaHeader Yes
            """);
        var process = RunningProcess.Start("tinyproxy", exe, ["-d", "-c", config], log);
        await WaitListeningAsync(process, "127.0.0.1", port, null, null);
        return process;
    }

    private static async Task WaitListeningAsync(RunningProcess process, string address, int port, NetworkLab? lab, string? ns)
    {
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.Name} exited with {process.ExitCode}.\n{process.Tail()}");
            if (lab is not null)
            {
                // The namespace's sockets are not ours to connect to: ask ss inside it.
                var listening = await lab.InAsync(ns!, "ss", "-ltnH", $"sport = :{port}");
                return listening.Contains(':' + port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            }
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(address, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, Limits.Startup, $"{process.Name} listening on {address}:{port}", TimeSpan.FromMilliseconds(100));
    }
}
