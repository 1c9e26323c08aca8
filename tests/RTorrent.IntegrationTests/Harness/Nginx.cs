using System.Globalization;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Debian's nginx (nginx-light) serving a folder on 127.0.0.1, started by the test with its own prefix and configuration
/// in a temporary folder ('daemon off;', one worker, its own pid and logs), stopped by PID with the test.
/// </summary>
internal sealed class Nginx : IAsyncDisposable
{
    private readonly RunningProcess _process;

    private Nginx(RunningProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's root URL, ending in '/'.</summary>
    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>The process id (the master process; 'master_process off' keeps it the only one).</summary>
    public int Pid => _process.Pid;

    /// <summary>Starts nginx serving <paramref name="root"/>; <paramref name="extraServerConfig"/> goes into its server block.</summary>
    public static async Task<Nginx> StartAsync(string root, string prefix, ITestOutputHelper? log, string extraServerConfig = "")
    {
        var nginx = Tools.Require("nginx", "nginx-light");
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        Directory.CreateDirectory(Path.Combine(prefix, "tmp"));
        int port = FreePorts.Tcp();
        var conf = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(conf, string.Create(CultureInfo.InvariantCulture, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/logs/error.log warn;
            events { worker_connections 256; }
            http {
                access_log {{prefix}}/logs/access.log;
                client_body_temp_path {{prefix}}/tmp/body;
                proxy_temp_path {{prefix}}/tmp/proxy;
                fastcgi_temp_path {{prefix}}/tmp/fastcgi;
                uwsgi_temp_path {{prefix}}/tmp/uwsgi;
                scgi_temp_path {{prefix}}/tmp/scgi;
                sendfile on;
                keepalive_requests 100000;
                default_type application/octet-stream;
                server {
                    listen 127.0.0.1:{{port}};
                    root {{root}};
                    {{extraServerConfig}}
                }
            }
            """));
        var process = RunningProcess.Start("nginx", nginx, ["-p", prefix, "-c", conf, "-e", Path.Combine(prefix, "logs", "error.log")], log);
        try
        {
            await Poll.UntilAsync(async () => process.HasExited || await FreePorts.IsListeningAsync(port), Limits.Startup, "nginx listening");
            if (process.HasExited)
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}:\n{process.Tail()}\n{ReadLog(prefix)}");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        return new Nginx(process, port);
    }

    private static string ReadLog(string prefix)
    {
        var path = Path.Combine(prefix, "logs", "error.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
