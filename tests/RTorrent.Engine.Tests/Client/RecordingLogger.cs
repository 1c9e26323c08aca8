using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Keeps what is logged so a test can look at it, or wait for an entry without sleeping.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message, Exception? Exception)> _entries = [];
    private readonly List<(Func<LogLevel, string, Exception?, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries
    {
        get { lock (_entries) return [.. _entries]; }
    }

    /// <summary>Completes with the first entry (logged before or after the call) that matches.</summary>
    public Task<string> WaitForAsync(Func<LogLevel, string, Exception?, bool> match)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_entries)
        {
            foreach (var e in _entries)
            {
                if (!match(e.Level, e.Message, e.Exception)) continue;
                seen.SetResult(e.Message);
                return seen.Task;
            }
            _waiters.Add((match, seen));
        }
        return seen.Task;
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string message = formatter(state, exception);
        lock (_entries)
        {
            _entries.Add((logLevel, message, exception));
            foreach (var w in _waiters.ToArray())
            {
                if (!w.Match(logLevel, message, exception)) continue;
                _waiters.Remove(w);
                w.Seen.TrySetResult(message);
            }
        }
    }
}
