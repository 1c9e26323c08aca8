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
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (timeout < TimeSpan.Zero) timeout = TimeSpan.Zero;
        if (timeout > LongestWait) timeout = LongestWait;
        try
        {
            await Volatile.Read(ref _signal).Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }
}
