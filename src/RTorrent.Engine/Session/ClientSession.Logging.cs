using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Session;

/// <summary>Event ids of the engine's log lines.</summary>
internal static class EngineLogEvents
{
    /// <summary>
    /// The line says what a log shown to users already holds (its owner keeps it in the session log): a session does
    /// not keep it a second time.
    /// </summary>
    public static readonly EventId AlreadyKept = new(9001, "AlreadyKept");

    /// <summary>Whether <paramref name="eventId"/> is <see cref="AlreadyKept"/>.</summary>
    public static bool IsAlreadyKept(EventId eventId) => eventId.Id == AlreadyKept.Id && eventId.Name == AlreadyKept.Name;
}

/// <summary>
/// Failures are never silent: what the engine, the trackers, the DHT, plugins and the statistics write to their loggers
/// goes to the session's logger factory (the log file of the interface and the daemon), and the warnings and errors
/// among it are also kept where users look without reading that file, the session log and the torrent's log.
/// </summary>
public sealed partial class ClientSession
{
    /// <summary>Engine lines kept per torrent.</summary>
    private const int EngineLinesPerTorrent = 100;

    /// <summary>Warnings and errors written to loggers about a torrent, by torrent; guarded by itself.</summary>
    private readonly Dictionary<InfoHash, List<LogEntry>> _engineLines = [];

    /// <summary>
    /// Warnings and errors the engine, the trackers, the DHT or plugins wrote to their loggers naming the torrent
    /// <paramref name="infoHash"/> (a <see cref="Torrent"/> or its <see cref="InfoHash"/> among the line's values),
    /// oldest first. They are not in the torrent's own log (<see cref="TorrentDetails.Log"/>); the interface shows both.
    /// </summary>
    public IReadOnlyList<LogEntry> EngineLinesOf(InfoHash infoHash)
    {
        lock (_engineLines) return _engineLines.TryGetValue(infoHash, out var lines) ? lines.ToArray() : [];
    }

    /// <summary>Keeps a warning or error from a logger in the session log and, when it names one, the torrent's lines.</summary>
    private void KeepLoggedLine(LogLevel level, string message, InfoHash? torrent)
    {
        var entry = new LogEntry(_options.Time.GetUtcNow(), level >= LogLevel.Error ? PluginLogLevel.Error : PluginLogLevel.Warning, message);
        Keep(entry);
        // Only for a torrent in the session: a line about one removed (a tracker's last words) is not kept for ever.
        if (torrent is not { } hash || Engine?.Find(hash.ToHex()) is null) return;
        lock (_engineLines)
        {
            if (!_engineLines.TryGetValue(hash, out var lines)) _engineLines[hash] = lines = [];
            lines.Add(entry);
            if (lines.Count > EngineLinesPerTorrent) lines.RemoveRange(0, lines.Count - EngineLinesPerTorrent);
        }
    }

    private void ForgetEngineLines(InfoHash infoHash)
    {
        lock (_engineLines) _engineLines.Remove(infoHash);
    }

    /// <summary>The logger factory the session gives what it runs; see <see cref="ClientSession"/>'s logging.</summary>
    private sealed class KeepingLoggerFactory(ILoggerFactory inner, ClientSession session) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new KeepingLogger(inner.CreateLogger(categoryName), session);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The factory belongs to whoever opened the session.
        }
    }

    /// <summary>
    /// Writes each line on, and keeps warnings and errors (<see cref="KeepLoggedLine"/>) except those some log already
    /// holds: lines marked <see cref="EngineLogEvents.AlreadyKept"/>, and the engine's copies of a torrent's own log
    /// lines (<see cref="TorrentLogFormat"/>).
    /// </summary>
    private sealed class KeepingLogger(ILogger inner, ClientSession session) : ILogger
    {
        /// <summary>How a torrent writes each line of its own log (which its log tab shows) to the engine's logger.</summary>
        private const string TorrentLogFormat = "[{Name}] {Message}";

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None || inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (inner.IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
            if (logLevel is < LogLevel.Warning or LogLevel.None || EngineLogEvents.IsAlreadyKept(eventId)) return;
            InfoHash? torrent = null;
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    switch (value)
                    {
                        case string format when key == "{OriginalFormat}" && format == TorrentLogFormat:
                            return;
                        case Torrent t:
                            torrent ??= t.InfoHash;
                            break;
                        case InfoHash hash:
                            torrent ??= hash;
                            break;
                    }
                }
            }
            string message = formatter(state, exception);
            if (exception is not null && !message.Contains(exception.Message, StringComparison.Ordinal)) message = $"{message}: {exception.Message}";
            session.KeepLoggedLine(logLevel, message, torrent);
        }
    }
}
