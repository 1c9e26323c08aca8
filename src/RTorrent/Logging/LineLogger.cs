using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace RTorrent.Logging;

/// <summary>How <see cref="LineLoggerProvider"/> writes.</summary>
public sealed record LineLoggerOptions
{
    /// <summary>The least severe level written.</summary>
    public LogLevel MinimumLevel { get; init; } = LogLevel.Information;

    /// <summary>Where lines go besides the file (the daemon's standard error), or null.</summary>
    public TextWriter? Console { get; init; }

    /// <summary>
    /// Prefix console lines with syslog priorities (<c>&lt;3&gt;</c> error, <c>&lt;4&gt;</c> warning, ...) and no
    /// time, for systemd's journal, which adds its own time and reads the level from the prefix. Chosen when
    /// <c>JOURNAL_STREAM</c> says standard error goes to the journal.
    /// </summary>
    public bool JournalFormat { get; init; }

    /// <summary>The log file, or null for none.</summary>
    public string? FilePath { get; init; }

    /// <summary>A log file is rotated once it reaches this size.</summary>
    public long MaxFileBytes { get; init; } = 5L * 1024 * 1024;

    /// <summary>Rotated files kept (<c>NAME.1</c> is the newest).</summary>
    public int KeepFiles { get; init; } = 3;

    /// <summary>The clock for time stamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Writes one line per event with its time, level and source, to standard error and to a size-capped, rotated file.
/// Loggers never wait for the disk or the terminal: lines go through a bounded queue to one writer (when the queue
/// is full under a flood, lines are dropped and the number dropped is written once there is room again). A console
/// that went away (the SSH session of a daemon started in a terminal) stops console output, never the program.
/// </summary>
public sealed class LineLoggerProvider : ILoggerProvider, IAsyncDisposable
{
    private const int QueueLength = 10_000;

    private readonly LineLoggerOptions _options;
    private readonly Channel<Line> _queue;
    private readonly Task _writer;
    private long _dropped;
    private TextWriter? _console;
    private FileStream? _file;

    /// <summary>Starts the writer.</summary>
    public LineLoggerProvider(LineLoggerOptions options)
    {
        _options = options;
        _console = options.Console;
        _queue = Channel.CreateBounded<Line>(new BoundedChannelOptions(QueueLength)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        }, _ => Interlocked.Increment(ref _dropped));
        if (options.FilePath is { } path)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                _file = OpenFile(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _console?.WriteLine($"rtorrent: cannot write the log file {path}: {e.Message}");
            }
        }
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new LineLogger(this, categoryName);

    private void Enqueue(LogLevel level, string category, string message, Exception? exception) =>
        _queue.Writer.TryWrite(new Line(_options.Time.GetUtcNow(), level, category, message, exception));

    private async Task WriteLoopAsync()
    {
        var text = new StringBuilder(256);
        await foreach (Line line in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            long dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0)
                Write(text, new Line(line.Time, LogLevel.Warning, "rtorrent.log", $"{dropped} log lines dropped (too many at once)", null));
            Write(text, line);
        }
        if (_file is not null) await _file.DisposeAsync().ConfigureAwait(false);
    }

    private void Write(StringBuilder text, Line line)
    {
        string level = line.Level switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "error",
            _ => "crit",
        };
        string body = line.Exception is null ? line.Message : $"{line.Message}: {line.Exception}";
        body = body.ReplaceLineEndings(" | ");

        if (_console is { } console)
        {
            text.Clear();
            if (_options.JournalFormat)
            {
                int priority = line.Level switch
                {
                    LogLevel.Critical => 2,
                    LogLevel.Error => 3,
                    LogLevel.Warning => 4,
                    LogLevel.Information => 6,
                    _ => 7,
                };
                text.Append('<').Append(priority.ToString(CultureInfo.InvariantCulture)).Append('>');
            }
            else text.Append(line.Time.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append(' ');
            text.Append(level).Append(' ').Append(line.Category).Append(": ").Append(body);
            try
            {
                console.WriteLine(text.ToString());
                console.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The terminal is gone (a daemon started over SSH, then the link dropped): keep logging to the file.
                _console = null;
            }
        }

        if (_file is { } file)
        {
            text.Clear();
            text.Append(line.Time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(' ')
                .Append(level).Append(' ').Append(line.Category).Append(": ").Append(body).Append('\n');
            byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
            try
            {
                if (file.Length + bytes.Length > _options.MaxFileBytes && file.Length > 0) file = Rotate();
                file.Write(bytes);
                file.Flush();
            }
            catch (IOException)
            {
                // A full disk must not stop the program; lines are lost until there is room again.
            }
        }
    }

    private FileStream Rotate()
    {
        string path = _options.FilePath!;
        _file!.Dispose();
        for (int i = _options.KeepFiles; i >= 1; i--)
        {
            string from = i == 1 ? path : $"{path}.{i - 1}";
            string to = $"{path}.{i}";
            if (File.Exists(from)) File.Move(from, to, overwrite: true);
        }
        if (_options.KeepFiles == 0) File.Delete(path);
        _file = OpenFile(path);
        return _file;
    }

    private static FileStream OpenFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new FileStream(path, options);
    }

    /// <summary>Writes what is queued and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private readonly record struct Line(DateTimeOffset Time, LogLevel Level, string Category, string Message, Exception? Exception);

    private sealed class LineLogger(LineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // ASP.NET Core logs every request at Information: with clients polling twice a second that would bury the
        // daemon's own events, so its categories start at Warning.
        private readonly LogLevel _minimum = category.StartsWith("Microsoft.", StringComparison.Ordinal)
            ? LogLevel.Warning > provider._options.MinimumLevel ? LogLevel.Warning : provider._options.MinimumLevel
            : provider._options.MinimumLevel;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= _minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            provider.Enqueue(logLevel, category, formatter(state, exception), exception);
        }
    }
}
