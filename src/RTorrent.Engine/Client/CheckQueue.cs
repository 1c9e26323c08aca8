namespace RTorrent.Engine.Client;

/// <summary>
/// Hash checks take turns: at most <see cref="Slots"/> torrents are checked at once, the others wait in the order they
/// asked (a restart with thousands of torrents to check, or a folder of them added at once, reads one or a few at a
/// time instead of all of them together; each torrent's own pieces are still hashed on all cores). Thread-safe.
/// </summary>
internal sealed class CheckQueue
{
    private readonly SemaphoreSlim _slots;
    private int _waiting;
    private int _running;
    private int _mostRunning;

    /// <summary>A queue letting <paramref name="slots"/> checks run at once.</summary>
    public CheckQueue(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Slots = slots;
        // SemaphoreSlim hands its slots to asynchronous waiters first come, first served.
        _slots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>Checks that may run at once.</summary>
    public int Slots { get; }

    /// <summary>Checks waiting for their turn.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Checks running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>The most checks that ran at once so far.</summary>
    public int MostRunning => Volatile.Read(ref _mostRunning);

    /// <summary>Waits for a turn; the check runs until the slot is disposed.</summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting (the torrent was stopped).</exception>
    public async Task<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        int now = Interlocked.Increment(ref _running);
        int most;
        while (now > (most = Volatile.Read(ref _mostRunning)) && Interlocked.CompareExchange(ref _mostRunning, now, most) != most) { }
        return new Slot(this);
    }

    private void Leave()
    {
        Interlocked.Decrement(ref _running);
        _slots.Release();
    }

    /// <summary>A turn to check; disposing it lets the next check run.</summary>
    public sealed class Slot : IDisposable
    {
        private CheckQueue? _queue;

        internal Slot(CheckQueue queue) => _queue = queue;

        /// <summary>Ends the turn (once).</summary>
        public void Dispose() => Interlocked.Exchange(ref _queue, null)?.Leave();
    }
}
