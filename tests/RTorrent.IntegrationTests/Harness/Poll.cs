namespace RTorrent.IntegrationTests.Harness;

/// <summary>Bounded polling for conditions nobody announces (a port opening, a file appearing).</summary>
internal static class Poll
{
    /// <summary>Checks <paramref name="condition"/> every <paramref name="interval"/> until it holds; fails after <paramref name="timeout"/>.</summary>
    /// <param name="condition">The check; may throw to give up early (e.g. when the program it waits for died).</param>
    /// <param name="timeout">Upper bound.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="interval">Time between checks (default 100 ms).</param>
    /// <param name="context">Extra text for the failure message (e.g. a program's output), computed only on failure.</param>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, TimeSpan? interval = null,
        Func<string>? context = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!await condition())
        {
            try
            {
                await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds:0} s: {what}.{(context is null ? "" : "\n" + context())}");
            }
        }
    }

    /// <summary>The synchronous-condition form of <see cref="UntilAsync(Func{Task{bool}}, TimeSpan, string, TimeSpan?, Func{string}?)"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, TimeSpan? interval = null, Func<string>? context = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, interval, context);
}
