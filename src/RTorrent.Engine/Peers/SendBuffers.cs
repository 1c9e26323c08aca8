using System.Collections.Concurrent;

namespace RTorrent.Engine.Peers;

/// <summary>
/// The buffers connections queue outgoing bytes in. Every connection starts with a small one; a connection being
/// served blocks fills a large one (the high-water mark plus the largest message) while the previous one is sent,
/// and the send pump gives it back here afterwards. A few large ones are kept for the next connection, process-wide.
/// <para>
/// Not the shared ArrayPool: its buffers were rented on the loop and returned on the pump's pool threads, so every
/// thread's private slot and every core's stack came to hold a 512 KiB and a 1 MiB array, and a seeder's memory grew
/// by about 11 MiB for each peer it served (docs/PERFORMANCE.md); the queue also grew by doubling, 64 KiB to 1 MiB,
/// copying what was queued at each step, after every swap.
/// </para>
/// </summary>
internal static class SendBuffers
{
    /// <summary>What a connection that sends only small messages holds.</summary>
    public const int SmallSize = 64 * 1024;

    /// <summary>Room for the high-water mark plus one more message of the largest kind usually queued (a block).</summary>
    public const int LargeSize = PeerConnection.SendHighWater + SmallSize;

    /// <summary>Large buffers kept for reuse (4.5 MiB); more go to the GC.</summary>
    private const int MaxKept = 8;

    private static readonly ConcurrentStack<byte[]> s_large = new();
    private static int s_kept;

    public static byte[] NewSmall() => GC.AllocateUninitializedArray<byte>(SmallSize);

    public static byte[] RentLarge()
    {
        if (s_large.TryPop(out var buffer))
        {
            Interlocked.Decrement(ref s_kept);
            return buffer;
        }
        return GC.AllocateUninitializedArray<byte>(LargeSize);
    }

    public static void ReturnLarge(byte[] buffer)
    {
        if (buffer.Length != LargeSize) return;
        if (Interlocked.Increment(ref s_kept) <= MaxKept) s_large.Push(buffer);
        else Interlocked.Decrement(ref s_kept);
    }
}
