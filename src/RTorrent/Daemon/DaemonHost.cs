using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Native;
using RTorrent.Remote.Security;
using RTorrent.Remote.Transmission;

namespace RTorrent.Daemon;

/// <summary>What <c>rtorrent daemon</c> was asked to do.</summary>
public sealed record DaemonOptions
{
    /// <summary>The session folder.</summary>
    public required string SessionDirectory { get; init; }

    /// <summary>Command-line values for this run (port, download folder, RPC endpoints, web client).</summary>
    public RunOverrides Overrides { get; init; } = RunOverrides.None;

    /// <summary>Extra plugin folders.</summary>
    public IReadOnlyList<string> PluginDirectories { get; init; } = [];

    /// <summary>Log debug lines too.</summary>
    public bool Verbose { get; init; }

    /// <summary>Where log lines go besides the log file (standard error).</summary>
    public TextWriter Console { get; init; } = System.Console.Error;
}

/// <summary>
/// <c>rtorrent daemon</c>: the session without an interface, until SIGTERM or SIGINT (or an RPC asks it to stop),
/// serving Transmission's RPC and RTorrent's own protocol on TCP and on <c>rpc.sock</c> in the session folder,
/// running the watch folder, logging to standard error and to <c>rtorrent.log</c> in the session folder.
/// </summary>
/// <remarks>
/// Start-up order: settings, log, the session (its lock says whether another rtorrent has the folder), the RPC (so it
/// answers within a second, before any torrent is loaded), then the saved torrents in the background. Shutdown:
/// stop serving, stop the watch folder, then the session saves every torrent's resume data.
/// </remarks>
public sealed class DaemonHost
{
    /// <summary>The log file's name in the session folder.</summary>
    public const string LogFileName = Logging.SessionLogFile.FileName;

    /// <summary>Exit code: the daemon ran and stopped cleanly.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code: it could not start (the session is in use, settings are invalid, the RPC port is taken).</summary>
    public const int ExitCannotStart = 2;

    private readonly DaemonOptions _options;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Prepares a daemon; <see cref="RunAsync"/> runs it.</summary>
    public DaemonHost(DaemonOptions options)
    {
        _options = options;
    }

    /// <summary>The program's version.</summary>
    public static string ProgramVersion =>
        typeof(DaemonHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    /// <summary>Asks a running daemon to stop (as SIGTERM does).</summary>
    public void RequestStop() => _stop.Cancel();

    /// <summary>Runs until stopped; returns the exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        using var linked = cancellationToken.Register(_stop.Cancel);
        TextWriter console = _options.Console;
        string sessionDir = Path.GetFullPath(_options.SessionDirectory);

        EngineSettings saved;
        try
        {
            saved = await SettingsStore.LoadAsync(sessionDir, cancellationToken);
        }
        catch (SettingsException e)
        {
            await console.WriteLineAsync($"rtorrent daemon: {SettingsStore.GetPath(sessionDir)}: {string.Join("; ", e.Errors)}");
            return ExitCannotStart;
        }
        catch (IOException e)
        {
            await console.WriteLineAsync($"rtorrent daemon: {e.Message}");
            return ExitCannotStart;
        }
        EngineSettings settings = _options.Overrides.Apply(saved);
        var problems = settings.Validate();
        if (problems.Count > 0)
        {
            await console.WriteLineAsync($"rtorrent daemon: {string.Join("; ", problems)}");
            return ExitCannotStart;
        }

        var rpcEndPoints = new List<IPEndPoint>();
        foreach (string bind in settings.RpcBind)
            rpcEndPoints.Add(EngineSettings.TryParseAddressPort(bind, out var ep) ? ep : throw new InvalidOperationException(bind));
        var security = RpcSecurityOptions.FromSettings(settings);
        if (security.RefuseBinding(rpcEndPoints) is { } refusal)
        {
            await console.WriteLineAsync($"rtorrent daemon: {refusal}");
            return ExitCannotStart;
        }
        if (security.PasswordHash is { } hash && !RpcPassword.IsValidHash(hash))
        {
            await console.WriteLineAsync("rtorrent daemon: rpcPasswordHash in settings.json is not a hash rtorrent wrote; set it again with 'rtorrent rpc-password'.");
            return ExitCannotStart;
        }
        X509Certificate2? certificate;
        try
        {
            certificate = LoadCertificate(settings);
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException or ArgumentException)
        {
            await console.WriteLineAsync($"rtorrent daemon: cannot load the RPC certificate {settings.RpcTlsCertificate}: {e.Message}");
            return ExitCannotStart;
        }

        Directory.CreateDirectory(sessionDir);
        var systemd = new SystemdNotifier();
        await using var logs = Logging.SessionLogFile.Open(sessionDir, _options.Verbose ? LogLevel.Debug : LogLevel.Information, console,
            journalFormat: !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM")));
        using var loggerFactory = new LoggerFactory([logs]);
        ILogger log = loggerFactory.CreateLogger("rtorrent.daemon");
        // Before anything that takes time: a SIGHUP (or SIGTERM) during start-up must meet our handlers, not the
        // runtime's default, which ends the process (a SIGTERM then stops the daemon right after it started).
        using var signals = RegisterSignals(log);

        ClientSession session;
        try
        {
            session = await ClientSession.OpenAsync(SessionOptions.FromSettings(settings, loggerFactory) with
            {
                PluginDirectories = _options.PluginDirectories,
            });
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            // One clear line, no stack: the usual cause is another rtorrent (a daemon or an interface) on this session.
            log.LogError("{Problem}", e.Message);
            await logs.DisposeAsync();
            return ExitCannotStart;
        }

        await using (session)
        {
            var sessionSettings = new SessionSettings(saved, session, _options.Overrides);
            var backend = new SessionBackend(session, sessionSettings, new BackendInfo(BackendKind.Daemon, sessionDir, CanStopDaemon: true))
            {
                StopDaemon = () =>
                {
                    log.LogInformation("stop requested through the RPC");
                    // Answer the request first; the shutdown starts right after.
                    _ = Task.Delay(100).ContinueWith(_ => _stop.Cancel(), TaskScheduler.Default);
                    return Task.CompletedTask;
                },
            };
            var journal = new SnapshotJournal(backend);
            var native = new NativeRpcHandler(backend, journal, () => new HelloResult
            {
                ProgramVersion = ProgramVersion,
                HostName = Environment.MachineName,
                SessionDirectory = sessionDir,
                Pickers = backend.PickerNames,
                Storages = backend.StorageNames,
                Plugins = backend.Plugins,
                CanStopDaemon = true,
            });
            using var transmission = new TransmissionRpcHandler(new TransmissionContext
            {
                Session = session,
                Settings = sessionSettings,
                Backend = backend,
                Journal = journal,
                StopDaemon = backend.StopDaemon,
                ProgramVersion = ProgramVersion,
                LoggerFactory = loggerFactory,
            });

            string socketPath = RemoteTarget.ForSession(sessionDir).SocketPath!;
            RpcServer server;
            try
            {
                server = await RpcServer.StartAsync(new RpcServerOptions
                {
                    TcpEndPoints = rpcEndPoints,
                    UnixSocketPath = socketPath,
                    Certificate = certificate,
                    WebHome = settings.RpcWebHome,
                    Security = security,
                    LoggerFactory = loggerFactory,
                }, transmission, native, cancellationToken);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                log.LogError("{Problem}", e.Message);
                return ExitCannotStart;
            }

            await using (server)
            {
                string where = string.Join(", ", server.TcpEndPoints.Select(ep => (certificate is null ? "http://" : "https://") + ep + RpcServer.TransmissionPath)
                    .Append(socketPath));
                log.LogInformation("rtorrent {Version} daemon ready: session {Session}, peers on port {Port}, RPC on {Where}",
                    ProgramVersion, sessionDir, session.Engine.ListenPort, where);
                systemd.Ready($"RPC on {where}");

                var watch = new DaemonWatchFolder(backend, sessionSettings, loggerFactory.CreateLogger("rtorrent.watch"));
                watch.Start();
                Task restore = RestoreAsync(session, log, _stop.Token);
                try
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // SIGTERM, SIGINT or a stop request.
                }
                log.LogInformation("stopping: saving resume data");
                systemd.Stopping();
                await watch.DisposeAsync();
                await server.DisposeAsync();
                try { await restore; }
                catch (Exception e) { log.LogWarning("restoring torrents did not finish: {Error}", e.Message); }
            }
        }
        return ExitOk;
    }

    private static async Task RestoreAsync(ClientSession session, ILogger log, CancellationToken stopping)
    {
        await Task.Yield();
        try
        {
            // A SIGTERM while torrents load stops the restore between batches; those loaded are saved at exit.
            var restored = await session.RestoreAsync(stopping);
            log.LogInformation("{Count} torrents loaded", restored.Count);
        }
        catch (Exception e)
        {
            log.LogError(e, "restoring the saved torrents failed");
        }
    }

    private SignalRegistrations RegisterSignals(ILogger log)
    {
        var registrations = new List<PosixSignalRegistration>();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            log.LogInformation("{Signal} received", context.Signal);
            _stop.Cancel();
        }
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop));
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop));
        try
        {
            // A daemon started from a terminal outlives it: a dropped SSH link must never stop its torrents.
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                log.LogInformation("SIGHUP ignored: the daemon keeps running (stop it with SIGTERM)");
            }));
        }
        catch (PlatformNotSupportedException)
        {
            // No SIGHUP on Windows.
        }
        return new SignalRegistrations(registrations);
    }

    private static X509Certificate2? LoadCertificate(EngineSettings settings)
    {
        if (settings.RpcTlsCertificate is not { } path) return null;
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".pfx" or ".p12") return X509CertificateLoader.LoadPkcs12FromFile(path, null);
        var certificate = X509Certificate2.CreateFromPemFile(path, settings.RpcTlsKey);
        // Kestrel on Linux wants a certificate whose key it can use on its own: re-import it as PKCS#12.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}

/// <summary>Signal handlers that are removed together.</summary>
internal sealed class SignalRegistrations(List<PosixSignalRegistration> registrations) : IDisposable
{
    public void Dispose()
    {
        foreach (var r in registrations) r.Dispose();
    }
}
