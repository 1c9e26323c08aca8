using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Native;

namespace RTorrent.Remote.Transmission;

/// <summary>What the Transmission RPC works on.</summary>
public sealed record TransmissionContext
{
    /// <summary>The running session.</summary>
    public required ClientSession Session { get; init; }

    /// <summary>Its settings (session-get and session-set).</summary>
    public required SessionSettings Settings { get; init; }

    /// <summary>The backend over the session (adding by path or magnet, as the interface does).</summary>
    public required SessionBackend Backend { get; init; }

    /// <summary>Change tracking shared with the native protocol (recently-active).</summary>
    public required SnapshotJournal Journal { get; init; }

    /// <summary>Asks the daemon to stop (session-close).</summary>
    public Func<Task>? StopDaemon { get; init; }

    /// <summary>The program's version, for session-get's <c>version</c>.</summary>
    public string ProgramVersion { get; init; } = "0";

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// How long torrent-set-location waits for a move before answering; a longer move carries on in the background
    /// (see <see cref="Relocations"/>).
    /// </summary>
    public TimeSpan RelocationAnswerWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long torrent-add may take to fetch a .torrent from a URL.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Transmission's RPC (rpc-version 17, as Transmission 4.0 documents it) over an RTorrent session, so that
/// transmission-remote, Transmission's web client, Sonarr, Radarr, Prowlarr and phone remotes drive RTorrent.
/// This type only dispatches: each method lives in a type of its own (<see cref="TorrentGet"/>, <see cref="TorrentAdd"/>,
/// <see cref="TorrentSet"/>, <see cref="TorrentActions"/>, <see cref="SessionMethods"/>, <see cref="SessionSet"/>), and
/// the engine's refusals become error results with their messages. docs/RPC.md lists every method and field and how it
/// maps onto the engine.
/// </summary>
public sealed class TransmissionRpcHandler : IRpcHandler, IDisposable
{
    /// <summary>The RPC version implemented.</summary>
    public const int RpcVersion = 17;

    /// <summary>The oldest RPC version whose clients still work.</summary>
    public const int RpcVersionMinimum = 14;

    /// <summary>The semver form of <see cref="RpcVersion"/>.</summary>
    public const string RpcVersionSemver = "5.3.0";

    /// <summary>The Transmission release whose RPC this is, first in session-get's <c>version</c>.</summary>
    public const string TransmissionVersion = "4.0.6";

    private readonly TransmissionContext _context;
    private readonly TorrentIds _ids;
    private readonly TorrentDownloader _downloader;
    private readonly TorrentGet _get;
    private readonly TorrentAdd _add;
    private readonly TorrentSet _set;
    private readonly TorrentActions _actions;
    private readonly SessionMethods _session;
    private readonly SessionSet _sessionSet;
    private readonly Groups _groups;

    /// <summary>Serves <paramref name="context"/>.</summary>
    public TransmissionRpcHandler(TransmissionContext context)
    {
        _context = context;
        _ids = new TorrentIds(context.Session.Engine, context.Time);
        // torrent-add's URLs are HTTP the session makes: through the proxy like web seeds (docs/PROXIES.md).
        _downloader = new TorrentDownloader(context.FetchTimeout, proxy: context.Session.Engine.Config.Proxy.ForWebSeeds);
        var relocations = new Relocations(context);
        _get = new TorrentGet(context, _ids);
        _add = new TorrentAdd(context, _ids, _downloader);
        _set = new TorrentSet(context, _ids, relocations);
        _actions = new TorrentActions(context, _ids, relocations);
        _session = new SessionMethods(context);
        _sessionSet = new SessionSet(context);
        _groups = new Groups(context);
    }

    /// <summary>The torrent ids of this daemon run.</summary>
    public TorrentIds Ids => _ids;

    /// <summary>
    /// session-get's <c>version</c>: Transmission's release first, so that clients that parse it (Sonarr and Radarr
    /// take the first number that is not in parentheses and need 2.40 or later) see Transmission 4, then ours.
    /// </summary>
    public static string VersionString(string programVersion) => $"{TransmissionVersion} (RTorrent {programVersion})";

    /// <inheritdoc/>
    public async ValueTask<string> HandleAsync(RpcCall call, Utf8JsonWriter arguments, CancellationToken cancellationToken)
    {
        var args = new Arguments(call.Arguments);
        try
        {
            switch (call.Method)
            {
                case "session-get":
                    _session.Get(args, call.SessionId, arguments);
                    return "success";
                case "session-set":
                    return await _sessionSet.RunAsync(args).ConfigureAwait(false);
                case "session-stats":
                    await _session.StatsAsync(arguments, cancellationToken).ConfigureAwait(false);
                    return "success";
                case "session-close":
                    return await _session.CloseAsync().ConfigureAwait(false);
                case "free-space":
                    return await _session.FreeSpaceAsync(args, arguments, cancellationToken).ConfigureAwait(false);
                case "port-test":
                    return _session.PortTest();
                case "blocklist-update":
                    return await _session.BlocklistUpdateAsync(arguments, cancellationToken).ConfigureAwait(false);
                case "torrent-get":
                    await _get.RunAsync(args, arguments, cancellationToken).ConfigureAwait(false);
                    return "success";
                case "torrent-add":
                    await _add.RunAsync(args, arguments, cancellationToken).ConfigureAwait(false);
                    return "success";
                case "torrent-set":
                    return await _set.RunAsync(args).ConfigureAwait(false);
                case "torrent-start":
                    return await _actions.StartAsync(args).ConfigureAwait(false);
                case "torrent-start-now":
                    return await _actions.StartAsync(args, now: true).ConfigureAwait(false);
                case "torrent-stop":
                    return await _actions.StopAsync(args).ConfigureAwait(false);
                case "torrent-verify":
                    return await _actions.VerifyAsync(args).ConfigureAwait(false);
                case "torrent-reannounce":
                    return await _actions.ReannounceAsync(args).ConfigureAwait(false);
                case "torrent-remove":
                    return await _actions.RemoveAsync(args).ConfigureAwait(false);
                case "torrent-set-location":
                    return await _actions.SetLocationAsync(args).ConfigureAwait(false);
                case "torrent-rename-path":
                    return await _actions.RenamePathAsync(args, arguments).ConfigureAwait(false);
                case "queue-move-top":
                    return await _actions.QueueMoveAsync(args, QueueMove.Top).ConfigureAwait(false);
                case "queue-move-up":
                    return await _actions.QueueMoveAsync(args, QueueMove.Up).ConfigureAwait(false);
                case "queue-move-down":
                    return await _actions.QueueMoveAsync(args, QueueMove.Down).ConfigureAwait(false);
                case "queue-move-bottom":
                    return await _actions.QueueMoveAsync(args, QueueMove.Bottom).ConfigureAwait(false);
                case "group-get":
                    // Transmission's bandwidth groups are RTorrent's categories.
                    _groups.Get(args, arguments);
                    return "success";
                case "group-set":
                    return await _groups.SetAsync(args).ConfigureAwait(false);
                default:
                    return "method name not recognized";
            }
        }
        catch (Exception e) when (IsRefusal(e))
        {
            // The engine's refusals carry messages meant for people.
            throw new RpcException(e.Message);
        }
    }

    /// <summary>Whether <paramref name="e"/> is the engine refusing (a message for the user), not a bug of ours.</summary>
    internal static bool IsRefusal(Exception e) =>
        e is not ObjectDisposedException &&
        e is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException or FormatException
            or NotSupportedException or SettingsException;

    /// <inheritdoc/>
    public void Dispose()
    {
        _ids.Dispose();
        _downloader.Dispose();
    }
}
