namespace RTorrent.Engine.Trackers;

/// <summary>
/// Wakes a background loop early. The loop calls <see cref="Reset"/>, then reads its state, then waits; whoever
/// changes the state changes it first and then calls <see cref="Set"/>, so no wake-up is lost.
/// </summary>
internal sealed class WakeSignal
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Volatile.Read(ref _signal).TrySetResult();

    public void Reset()
    {
        var current = Volatile.Read(ref _signal);
        if (current.Task.IsCompleted)
            Interlocked.CompareExchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
    }

    /// <summary>Waits until set, the timeout passes (no exception) or the token is cancelled (exception).</summary>
    /// <remarks>
    /// The timeout is a deadline in the clock's <see cref="Client.SharedDeadlines"/>, which sets the signal when it
    /// passes: no timer per wait and no exception, so thousands of torrents' loops asleep cost nothing (a timed-out
    /// wait reads as a wake-up; the loops read their state again after either).
    /// </remarks>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (timeout < TimeSpan.Zero) timeout = TimeSpan.Zero;
        if (timeout > LongestWait) timeout = LongestWait;
        var signal = Volatile.Read(ref _signal);
        if (signal.Task.IsCompleted) return;
        Client.SharedDeadlines.For(time).Complete(signal, timeout);
        await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
