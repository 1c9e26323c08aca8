namespace RTorrent.Engine.Peers;

/// <summary>
/// Issue 14: the most a peer may leave queued in our send buffer, per peer and across every connection of the
/// process. A peer that asks for data and does not read it (100,000 ut_metadata requests grew the process by 1 GiB)
/// is dropped when its queue would pass <see cref="LimitFor"/>. The per-peer share is the total divided among the open
/// connections, capped at <see cref="PerPeer"/> and never below <see cref="Floor"/>: block serving stops at
/// <see cref="PeerConnection.SendHighWater"/> plus one block, so a peer that reads is never near the floor.
/// </summary>
internal sealed class SendQueueBudget
{
    /// <summary>Default per-peer cap (4 MiB).</summary>
    public const long DefaultPerPeer = 4L * 1024 * 1024;

    /// <summary>Default cap over all connections (128 MiB).</summary>
    public const long DefaultTotal = 128L * 1024 * 1024;

    /// <summary>Per-peer share never below this: the high-water mark plus room for a burst of small messages.</summary>
    public const long DefaultFloor = PeerConnection.SendHighWater + 256 * 1024;

    /// <summary>The one budget the engine's connections share (one engine per process).</summary>
    public static SendQueueBudget Shared { get; } = new();

    private int _connections;

    public SendQueueBudget(long perPeer = DefaultPerPeer, long total = DefaultTotal, long floor = DefaultFloor)
    {
        PerPeer = perPeer;
        Total = total;
        Floor = Math.Min(floor, perPeer);
    }

    public long PerPeer { get; }
    public long Total { get; }
    public long Floor { get; }

    /// <summary>Connections counted now.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public void Register() => Interlocked.Increment(ref _connections);

    public void Unregister() => Interlocked.Decrement(ref _connections);

    /// <summary>The bytes one connection may hold queued now.</summary>
    public long LimitFor() => Math.Max(Floor, Math.Min(PerPeer, Total / Math.Max(1, Connections)));

    /// <summary>Whether adding <paramref name="adding"/> bytes to <paramref name="queued"/> passes the limit.</summary>
    public bool Exceeds(long queued, int adding) => queued + adding > LimitFor();
}
