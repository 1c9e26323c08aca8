using System.CommandLine;
using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Demo;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Native;
using RTorrent.Tui;
using RTorrent.Tui.Hosts;

namespace RTorrent.Cli;

/// <summary>
/// <c>rtorrent</c> with no subcommand opens the terminal interface over the user's session; <c>rtorrent demo</c>
/// opens it over a throw-away session that downloads from a swarm running in the same process.
/// </summary>
public static class InterfaceCommand
{
    /// <summary>Adds the interface's options and action to the root command.</summary>
    public static void Attach(RootCommand root)
    {
        var session = new Option<string?>("--session") { Description = "Session folder (settings, torrents, resume data). Default: $XDG_DATA_HOME/rtorrent." };
        var plugins = new Option<string[]>("--plugins") { Description = "Extra plugin folder; repeatable." };
        var port = new Option<int?>("--port") { Description = "Listen port for this run (overrides the settings) when the interface opens the session itself." };
        var connect = new Option<string[]>("--connect", "-c")
        {
            Description = "Attach to the daemon at this URL (http://[USER[:PASSWORD]@]HOST:PORT, https://...); repeat it to show several daemons in one list.",
        };
        var passwordFile = new Option<string?>("--password-file") { Description = "Read the --connect password from the first line of this file (mode 600)." };
        var caCert = new Option<string?>("--ca-cert") { Description = "Trust this PEM certificate (a daemon's self-signed one, or its CA) for https:// --connect URLs." };
        root.Options.Add(session);
        root.Options.Add(plugins);
        root.Options.Add(port);
        root.Options.Add(connect);
        root.Options.Add(passwordFile);
        root.Options.Add(caCert);
        root.SetAction(async (parseResult, ct) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            if (!HasTerminal(out var why))
            {
                await error.WriteLineAsync($"rtorrent: the interface needs a terminal ({why}). Run it in a terminal (or over ssh -t), or use a subcommand (rtorrent --help).");
                return ExitCodes.UnusableInput;
            }
            string[] urls = parseResult.GetValue(connect) ?? [];
            if (urls.Length > 0)
            {
                IReadOnlyList<RemoteBackend> remotes;
                try
                {
                    remotes = await DaemonConnector.ConnectAsync(urls, parseResult.GetValue(passwordFile), parseResult.GetValue(caCert), error, ct);
                    if (remotes.Select(r => r.Target.Name).Distinct().Count() != remotes.Count)
                    {
                        foreach (var r in remotes) r.Dispose();
                        throw new InvalidOperationException("the same daemon is named twice in --connect");
                    }
                }
                catch (InvalidOperationException e)
                {
                    await error.WriteLineAsync($"rtorrent: {e.Message}");
                    return ExitCodes.UnusableInput;
                }
                return await RunAttachedAsync(remotes, ct);
            }

            var dir = parseResult.GetValue(session) ?? DefaultPaths.SessionDirectory;
            // A daemon running on this session: attach to it instead of opening the session (its lock would refuse us).
            if (await DaemonConnector.TryLocalAsync(dir, ct) is { } local) return await RunAttachedAsync([local], ct);

            EngineSettings settings;
            try
            {
                settings = await SettingsStore.LoadAsync(dir, ct);
            }
            catch (SettingsException e)
            {
                await error.WriteLineAsync($"rtorrent: {SettingsStore.GetPath(dir)}: {string.Join("; ", e.Errors)}");
                return ExitCodes.UnusableInput;
            }
            var overrides = new RunOverrides { ListenPort = parseResult.GetValue(port) };
            var options = SessionOptions.FromSettings(overrides.Apply(settings)) with { PluginDirectories = parseResult.GetValue(plugins) ?? [] };
            return await RunAsync(options, settings, overrides, restore: true, demo: null, error, ct);
        });
    }

    /// <summary>The interface over daemons: quitting it leaves them running.</summary>
    private static async Task<int> RunAttachedAsync(IReadOnlyList<RemoteBackend> remotes, CancellationToken ct)
    {
        try
        {
            ITorrentBackend backend = remotes.Count == 1
                ? remotes[0]
                : new MultiHostBackend([.. remotes.Select(r => (r.Target.Name, (ITorrentBackend)r))]);
            return await TuiApp.RunAsync(backend, new TuiOptions
            {
                Title = "RTorrent",
                // The daemon watches its own folder.
                RunWatchFolder = false,
            }, ct);
        }
        finally
        {
            foreach (var r in remotes) r.Dispose();
        }
    }

    /// <summary>Builds <c>rtorrent demo</c>.</summary>
    public static Command CreateDemo()
    {
        var command = new Command("demo", "Open the interface on a built-in swarm: a tracker and seeders in this process, generated data, a throw-away session.");
        var keep = new Option<bool>("--keep") { Description = "Keep the downloaded demo data and session (the path is printed at exit)." };
        command.Options.Add(keep);
        command.SetAction(async (parseResult, ct) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            if (!HasTerminal(out var why))
            {
                await error.WriteLineAsync($"rtorrent demo: the interface needs a terminal ({why}).");
                return ExitCodes.UnusableInput;
            }
            var root = Path.Combine(Path.GetTempPath(), $"rtorrent-demo-{Environment.ProcessId}");
            Directory.CreateDirectory(root);
            try
            {
                await error.WriteLineAsync("Starting the demo swarm (a tracker and 3 seeders on 127.0.0.1)...");
                await using var swarm = await DemoSwarm.StartAsync(cancellationToken: ct);
                var settings = new EngineSettings
                {
                    SessionDirectory = Path.Combine(root, "session"),
                    DownloadDirectory = Path.Combine(root, "downloads"),
                    ListenPort = 0,
                    DhtEnabled = false,
                    LsdEnabled = false,
                };
                var options = SessionOptions.FromSettings(settings) with
                {
                    Engine = SessionOptions.EngineConfigFrom(settings) with { ListenAddress = IPAddress.Loopback },
                    EnableDht = false,
                };
                return await RunAsync(options, settings, RunOverrides.None, restore: false, demo: swarm, error, ct);
            }
            finally
            {
                if (parseResult.GetValue(keep)) await error.WriteLineAsync($"Demo data kept in {root}");
                else
                {
                    try { Directory.Delete(root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                }
            }
        });
        return command;
    }

    private static bool HasTerminal(out string why)
    {
        why = Console.IsInputRedirected && Console.IsOutputRedirected ? "standard input and output are not a terminal"
            : Console.IsInputRedirected ? "standard input is not a terminal"
            : Console.IsOutputRedirected ? "standard output is not a terminal" : "";
        return why.Length == 0;
    }

    private static async Task<int> RunAsync(SessionOptions options, EngineSettings settings, RunOverrides overrides, bool restore, DemoSwarm? demo,
        TextWriter error, CancellationToken ct)
    {
        LocalSession local;
        try
        {
            local = await LocalSession.OpenAsync(options, settings, overrides);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"rtorrent: {e.Message}");
            return ExitCodes.UnusableInput;
        }
        await using (local)
        {
            var session = local.Session;
            // The interface draws at once; torrents come in behind it. Quitting stops a restore still running (what it
            // restored is saved as the session closes; the rest stays saved for the next start).
            using var quit = new CancellationTokenSource();
            Task background = demo is not null
                ? session.AddAsync(demo.Torrent, new TorrentOptions { SavePath = settings.DownloadDirectory })
                : restore ? session.RestoreAsync(quit.Token) : Task.CompletedTask;
            int code = await TuiApp.RunAsync(local.Backend, new TuiOptions
            {
                Title = demo is null ? "RTorrent" : "RTorrent demo",
                // The terminal went away under us (SSH dropped): save resume data and the DHT table, and write the log
                // out, then exit.
                TerminalLost = async () => await local.DisposeAsync(),
            }, ct);
            await quit.CancelAsync();
            try { await background; }
            catch (Exception e) { await error.WriteLineAsync($"rtorrent: {e.Message}"); }
            return code;
        }
    }
}
