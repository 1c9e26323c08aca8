using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.Session;
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
}

/// <summary>
/// Transmission's RPC (rpc-version 17, as Transmission 4.0 documents it) over an RTorrent session, so that
/// transmission-remote, Transmission's web client, Sonarr, Radarr, Prowlarr and phone remotes drive RTorrent.
/// docs/RPC.md lists every method and field and how it maps onto the engine.
/// </summary>
public sealed class TransmissionRpcHandler : IRpcHandler
{
    /// <summary>The RPC version implemented.</summary>
    public const int RpcVersion = 17;

    /// <summary>The oldest RPC version whose clients still work.</summary>
    public const int RpcVersionMinimum = 14;

    /// <summary>The semver form of <see cref="RpcVersion"/>.</summary>
    public const string RpcVersionSemver = "5.3.0";

    private readonly TransmissionContext _context;

    /// <summary>Serves <paramref name="context"/>.</summary>
    public TransmissionRpcHandler(TransmissionContext context)
    {
        _context = context;
    }

    /// <inheritdoc/>
    public ValueTask<string> HandleAsync(RpcCall call, Utf8JsonWriter arguments, CancellationToken cancellationToken)
    {
        switch (call.Method)
        {
            case "session-get":
                arguments.WriteStartObject();
                arguments.WriteNumber("rpc-version", RpcVersion);
                arguments.WriteNumber("rpc-version-minimum", RpcVersionMinimum);
                arguments.WriteString("rpc-version-semver", RpcVersionSemver);
                arguments.WriteString("version", $"4.0.0 (RTorrent {_context.ProgramVersion})");
                arguments.WriteEndObject();
                return ValueTask.FromResult("success");
            default:
                return ValueTask.FromResult("method name not recognized");
        }
    }
}
