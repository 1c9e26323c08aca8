using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Engine logs into the xunit output (shown for failing tests).</summary>
internal sealed class TestLoggerFactory(ITestOutputHelper output, string prefix = "") : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider) { }
    public ILogger CreateLogger(string categoryName) => new Logger(output, prefix);
    public void Dispose() { }

    private sealed class Logger(ITestOutputHelper output, string prefix) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try { output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {prefix}{logLevel}: {formatter(state, exception)} {exception}"); }
            catch (InvalidOperationException) { /* test already finished */ }
        }
    }
}
