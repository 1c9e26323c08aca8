using Microsoft.Extensions.Logging;

namespace RTorrent.Logging;

/// <summary>
/// The log of a session folder, <c>rtorrent.log</c>: one line per event, size-capped and rotated
/// (<see cref="LineLoggerProvider"/>), written by whichever of the daemon and the interface has the session open (the
/// session's lock lets one at a time).
/// </summary>
public static class SessionLogFile
{
    /// <summary>The log file's name in the session folder.</summary>
    public const string FileName = "rtorrent.log";

    /// <summary>Where the log of <paramref name="sessionDirectory"/> is.</summary>
    public static string PathIn(string sessionDirectory) => Path.Combine(sessionDirectory, FileName);

    /// <summary>Starts writing the log of <paramref name="sessionDirectory"/> (dispose the result to flush and close it).</summary>
    /// <param name="sessionDirectory">The session folder.</param>
    /// <param name="minimumLevel">The least severe level written.</param>
    /// <param name="console">Where lines go besides the file (a daemon's standard error); null for the file alone, as
    /// the interface wants (its terminal is the screen).</param>
    /// <param name="journalFormat">Console lines for systemd's journal (see <see cref="LineLoggerOptions.JournalFormat"/>).</param>
    public static LineLoggerProvider Open(string sessionDirectory, LogLevel minimumLevel = LogLevel.Information, TextWriter? console = null,
        bool journalFormat = false) =>
        new(new LineLoggerOptions
        {
            MinimumLevel = minimumLevel,
            Console = console,
            JournalFormat = journalFormat,
            FilePath = PathIn(sessionDirectory),
        });
}
