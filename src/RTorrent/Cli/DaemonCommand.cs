using System.CommandLine;
using RTorrent.Daemon;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;

namespace RTorrent.Cli;

/// <summary><c>rtorrent daemon</c>: the session as a service (see <see cref="DaemonHost"/> and the README's "Running it as a service").</summary>
public static class DaemonCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("daemon",
            "Run the session without an interface until SIGTERM or SIGINT, serving Transmission's RPC (and the interface's own " +
            "protocol) so that 'rtorrent' attaches to it and other programs drive it.");
        var session = new Option<string?>("--session") { Description = "Session folder (settings, torrents, resume data). Default: $XDG_DATA_HOME/rtorrent." };
        var rpc = new Option<string[]>("--rpc")
        {
            Description = "Serve the RPC on ADDRESS:PORT (IPv6 as [ADDRESS]:PORT); repeatable; replaces rpcBind from settings.json for this run. " +
                          "Default: 127.0.0.1:9091. The Unix socket rpc.sock in the session folder is always served.",
        };
        var port = new Option<int?>("--port") { Description = "Peer listen port for this run (listenPort in settings.json)." };
        var download = new Option<string?>("--download") { Description = "Default download folder for this run (downloadDirectory in settings.json)." };
        var webHome = new Option<string?>("--web-home")
        {
            Description = "Serve a web client from this folder at /transmission/web/ (e.g. /usr/share/transmission/web), as TRANSMISSION_WEB_HOME does.",
        };
        var plugins = new Option<string[]>("--plugins") { Description = "Extra plugin folder; repeatable." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log debug lines too." };
        command.Options.Add(session);
        command.Options.Add(rpc);
        command.Options.Add(port);
        command.Options.Add(download);
        command.Options.Add(webHome);
        command.Options.Add(plugins);
        command.Options.Add(verbose);
        command.SetAction(async (parseResult, ct) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            string[] binds = parseResult.GetValue(rpc) ?? [];
            foreach (string bind in binds)
            {
                if (!EngineSettings.TryParseAddressPort(bind, out _))
                {
                    await error.WriteLineAsync($"rtorrent daemon: --rpc {bind}: expected ADDRESS:PORT, e.g. 127.0.0.1:9091 or [::1]:9091");
                    return ExitCodes.UnusableInput;
                }
            }
            string? downloadDir = parseResult.GetValue(download) is { } d ? Path.GetFullPath(d) : null;
            string? web = parseResult.GetValue(webHome) is { } w ? Path.GetFullPath(w) : null;
            if (web is not null && !Directory.Exists(web))
            {
                await error.WriteLineAsync($"rtorrent daemon: --web-home {web}: no such folder");
                return ExitCodes.UnusableInput;
            }
            var host = new DaemonHost(new DaemonOptions
            {
                SessionDirectory = parseResult.GetValue(session) ?? DefaultPaths.SessionDirectory,
                Overrides = new RunOverrides
                {
                    ListenPort = parseResult.GetValue(port),
                    DownloadDirectory = downloadDir,
                    RpcBind = binds.Length > 0 ? binds : null,
                    RpcWebHome = web,
                },
                PluginDirectories = parseResult.GetValue(plugins) ?? [],
                Verbose = parseResult.GetValue(verbose),
                Console = error,
            });
            // SIGTERM and SIGINT are the daemon's own to handle (it saves first), not the command line's.
            return await host.RunAsync(CancellationToken.None);
        });
        return command;
    }
}
