using Microsoft.Extensions.Logging;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Logging;

namespace RTorrent.Cli;

/// <summary>
/// A session the interface runs in its own process (<c>rtorrent</c> without a daemon, <c>rtorrent demo</c>), with the
/// backend the interface drives and the session's log: what the engine, trackers, DHT and plugins log goes to
/// <c>rtorrent.log</c> in the session folder as a daemon's does, and their warnings and errors also show in the
/// interface's Log tab and session log (the session keeps them, <see cref="ClientSession.EngineLinesOf"/>).
/// </summary>
internal sealed class LocalSession : IAsyncDisposable
{
    private readonly LineLoggerProvider? _logs;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly Lock _lock = new();
    private Task? _closing;

    private LocalSession(ClientSession session, SessionBackend backend, LineLoggerProvider? logs, ILoggerFactory? loggerFactory)
    {
        Session = session;
        Backend = backend;
        _logs = logs;
        _loggerFactory = loggerFactory;
    }

    /// <summary>The session.</summary>
    public ClientSession Session { get; }

    /// <summary>What the interface drives.</summary>
    public SessionBackend Backend { get; }

    /// <summary>
    /// Opens the session of <paramref name="options"/> with its log (none for a session without a folder), its settings
    /// <paramref name="settings"/> with this run's <paramref name="overrides"/>.
    /// </summary>
    /// <exception cref="IOException">Another rtorrent uses the session folder, or it cannot be written.</exception>
    public static async Task<LocalSession> OpenAsync(SessionOptions options, EngineSettings settings, RunOverrides overrides)
    {
        LineLoggerProvider? logs = options.SessionDirectory is { } dir ? SessionLogFile.Open(dir) : null;
        ILoggerFactory? loggerFactory = logs is null ? null : new LoggerFactory([logs]);
        try
        {
            var session = await ClientSession.OpenAsync(loggerFactory is null ? options : options with { LoggerFactory = loggerFactory });
            var backend = new SessionBackend(session, new SessionSettings(settings, session, overrides, persist: options.SessionDirectory is not null));
            return new LocalSession(session, backend, logs, loggerFactory);
        }
        catch
        {
            loggerFactory?.Dispose();
            if (logs is not null) await logs.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the session (resume data saved), then its log; once, however often it is called.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_lock) _closing ??= CloseAsync();
        return new ValueTask(_closing);
    }

    private async Task CloseAsync()
    {
        try
        {
            await Session.DisposeAsync();
        }
        finally
        {
            // What the session logged while closing is written before the file closes.
            _loggerFactory?.Dispose();
            if (_logs is not null) await _logs.DisposeAsync();
        }
    }
}
