namespace RTorrent.Engine.Peers;

/// <summary>
/// The 16 KiB buffers received blocks are kept in from the socket until their piece is hashed and written, reused
/// process-wide. Not the shared ArrayPool: blocks are rented on the receive threads and given back a whole piece at a
/// time on the loop or a disk thread, so its per-thread and per-core stacks overflowed and it allocated about 170 MB
/// per GiB downloaded; on this VM every page of new memory is a page fault the host serves (44,000 per GiB measured),
/// which cost more than the allocation itself (docs/PERFORMANCE.md). What is kept is bounded, and given back to the
/// GC when no block arrived for a while (<see cref="TrimIfUnused"/>, from the engine's heap trimmer).
/// </summary>
internal static class BlockBuffers
{
    /// <summary>Every buffer's size: the largest block a peer may send.</summary>
    public const int Size = PeerMessageReader.MaxBlockLength;

    /// <summary>Buffers kept at most (32 MiB): more than a fast download holds at once.</summary>
    public const int MaxKept = 2048;

    private static readonly Lock s_lock = new();
    private static readonly byte[]?[] s_kept = new byte[MaxKept][];
    private static int s_count;
    private static bool s_used;

    /// <summary>Buffers kept for reuse now (tests).</summary>
    public static int Kept
    {
        get { lock (s_lock) return s_count; }
    }

    public static byte[] Rent()
    {
        lock (s_lock)
        {
            s_used = true;
            if (s_count > 0)
            {
                var buffer = s_kept[--s_count]!;
                s_kept[s_count] = null;
                return buffer;
            }
        }
        return GC.AllocateUninitializedArray<byte>(Size);
    }

    /// <summary>Keeps a buffer for the next block (one of another size, e.g. a test's, is left to the GC).</summary>
    public static void Return(byte[] buffer)
    {
        if (buffer.Length != Size) return;
        lock (s_lock)
        {
            if (s_count < MaxKept) s_kept[s_count++] = buffer;
        }
    }

    /// <summary>
    /// Lets the kept buffers go if none was rented since the last call (a minute apart from the heap trimmer): an
    /// engine that stopped downloading holds none. Returns how many were let go.
    /// </summary>
    public static int TrimIfUnused()
    {
        lock (s_lock)
        {
            if (s_used)
            {
                s_used = false;
                return 0;
            }
            int n = s_count;
            Array.Clear(s_kept, 0, n);
            s_count = 0;
            return n;
        }
    }
}
