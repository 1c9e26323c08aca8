using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>Engine logs of in-process sessions into the test output (shown for failing tests).</summary>
internal sealed class TestLoggerFactory(ITestOutputHelper output, string prefix = "") : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider) { }

    public ILogger CreateLogger(string categoryName) => new Logger(output, prefix);

    public void Dispose() { }

    private sealed class Logger(ITestOutputHelper output, string prefix) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try { output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {prefix}{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}"); }
            catch (InvalidOperationException) { /* the test is over */ }
        }
    }
}
