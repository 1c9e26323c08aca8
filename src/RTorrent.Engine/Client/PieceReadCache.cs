using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace RTorrent.Engine.Client;

/// <summary>
/// Data read from disk to serve requests, for every torrent of an engine under one byte budget (settings.json
/// <c>diskReadCacheSize</c>), least recently used out first. A peer asks for a piece block by block; reading a slice
/// of at most <see cref="SliceBytes"/> once turns dozens of small reads into one, and reading the next slices while
/// the current one is sent keeps the peer's pipe full. The kernel's page cache does the real caching; this cache only
/// needs to hold what is being sent and read ahead, so it is small (docs/PERFORMANCE.md: 8 MiB serves a libtorrent
/// downloader at full speed, 64 MiB only held more memory).
/// <para>
/// The buffers are the cache's own, in native memory: an evicted slice's buffer is reused for the next read of the
/// same size, and a buffer let go is given back to the system at once. Renting from the shared ArrayPool instead
/// (reads rent on pool threads, the loop gave back) left about ten extra 1 MiB arrays alive in the pool's per-thread
/// and per-core stacks while seeding, and arrays of the GC's large-object heap stay in the process until a full
/// collection, so each idle period's cache was still there when the next peer came. Slices, not whole pieces, so a
/// torrent of 16 MiB pieces costs what one of 1 MiB pieces does.
/// </para>
/// Used on the loop only; the reads themselves run on the thread pool and post back.
/// </summary>
internal sealed class PieceReadCache
{
    /// <summary>The most read at once; pieces larger than this are read and cached in slices.</summary>
    public const int SliceBytes = 1 << 20;

    /// <summary>A slice of a piece of one torrent (<see cref="NewOwner"/>).</summary>
    public readonly record struct Key(int Owner, int Piece, int Slice);

    /// <summary>
    /// A buffer in native memory. Only the cache frees it, on the loop, and never while a read fills it; what it lends
    /// out (<see cref="TryGet"/>) is copied before the loop turn ends.
    /// </summary>
    private sealed unsafe class Buffer : MemoryManager<byte>
    {
        private byte* _data;

        public Buffer(int length)
        {
            Length = length;
            _data = (byte*)NativeMemory.Alloc((nuint)length);
        }

        public int Length { get; }

        public void Free()
        {
            NativeMemory.Free(_data);
            _data = null;
        }

        public override Span<byte> GetSpan() =>
            _data is null ? throw new ObjectDisposedException(nameof(Buffer)) : new Span<byte>(_data, Length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_data + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }

    private sealed class Entry
    {
        public required Buffer Data;
        public required int Length;
        public LinkedListNode<Key>? Node;

        /// <summary>Its last block was sent (<see cref="SentToEnd"/>): read ahead may take its place.</summary>
        public bool Sent;
    }

    /// <summary>
    /// Slices held whatever the budget says: the one being sent, and the next ones, or a peer waits on a read for
    /// every slice (settings.json documents values below this as acting like it).
    /// </summary>
    public const int MinimumSlices = 4;

    private static int s_nextOwner;

    private readonly Dictionary<Key, Entry> _entries = [];
    private readonly LinkedList<Key> _lru = new();
    private readonly Dictionary<Key, List<Action<bool>>> _loading = [];
    private readonly Dictionary<int, Stack<Buffer>> _free = [];
    private readonly HashSet<int> _droppedWhileLoading = [];
    private long _cached;
    private long _allocated;

    public PieceReadCache(long capacity) => Capacity = capacity;

    /// <summary>A new owner id: each torrent's uploads take one, and a fresh one after they drop their slices.</summary>
    public static int NewOwner() => Interlocked.Increment(ref s_nextOwner);

    /// <summary>
    /// The budget in bytes (at least <see cref="MinimumSlices"/> slices). A read for a block a peer waits on happens
    /// even when it is all in use; the cache is trimmed back as it lands. Reads ahead happen only into room.
    /// </summary>
    public long Capacity { get; set; }

    private long Budget => Math.Max(Capacity, (long)MinimumSlices * SliceBytes);

    /// <summary>Bytes of data held for serving.</summary>
    public long Bytes => _cached;

    /// <summary>Bytes of every buffer the cache owns: held, being read into, and free for the next read.</summary>
    public long AllocatedBytes => _allocated;

    /// <summary>Reads in flight, for all owners.</summary>
    public int LoadingCount => _loading.Count;

    /// <summary>The slice of a piece that holds the byte at <paramref name="offset"/> in it.</summary>
    public static int SliceOf(int offset) => offset / SliceBytes;

    /// <summary>Length of a slice of a piece of <paramref name="pieceSize"/> bytes.</summary>
    public static int SliceLength(int pieceSize, int slice) => Math.Min(SliceBytes, pieceSize - slice * SliceBytes);

    public bool TryGet(Key key, out ReadOnlyMemory<byte> data)
    {
        if (_entries.TryGetValue(key, out var e))
        {
            _lru.Remove(e.Node!);
            _lru.AddFirst(e.Node!);
            data = e.Data.Memory[..e.Length];
            return true;
        }
        data = default;
        return false;
    }

    /// <summary>
    /// A slice's last block was sent: it goes to the end of the line, first out. Otherwise slices read ahead but not
    /// yet sent would be older than the ones just finished, and be evicted (and read again) first.
    /// </summary>
    public void SentToEnd(Key key)
    {
        if (!_entries.TryGetValue(key, out var e)) return;
        e.Sent = true;
        _lru.Remove(e.Node!);
        _lru.AddLast(e.Node!);
    }

    public bool IsLoading(Key key) => _loading.ContainsKey(key);

    /// <summary>Whether the slice is held (without touching its recency).</summary>
    public bool Contains(Key key) => _entries.ContainsKey(key);

    /// <summary>
    /// Loads a slice unless it is loading already: <paramref name="read"/> fills the buffer given to it (on the thread
    /// pool); <paramref name="whenLoaded"/> runs on the loop with true when the slice is held, false when the read
    /// failed or was cancelled (only a failure reaches <paramref name="onError"/>).
    /// </summary>
    public void Load(Key key, int length, Func<Memory<byte>, CancellationToken, ValueTask> read,
        SynchronizationContext loop, Action<bool> whenLoaded, Action<Exception> onError, CancellationToken ct)
    {
        if (_loading.TryGetValue(key, out var waiters))
        {
            waiters.Add(whenLoaded);
            return;
        }
        Start(key, Rent(length), length, read, loop, whenLoaded, onError, ct);
    }

    /// <summary>
    /// Loads a slice a peer will want soon, only if there is room for it without evicting a slice not sent yet (a free
    /// buffer, budget left, or a slice already sent). False when there is none: read ahead stops there.
    /// </summary>
    public bool TryLoadAhead(Key key, int length, Func<Memory<byte>, CancellationToken, ValueTask> read,
        SynchronizationContext loop, Action<bool> whenLoaded, Action<Exception> onError, CancellationToken ct)
    {
        if (_entries.ContainsKey(key) || _loading.ContainsKey(key)) return true;
        int size = BufferSize(length);
        bool room = _free.TryGetValue(size, out var stack) && stack.Count > 0
            || _allocated + size <= Budget
            || _lru.Last is { } last && _entries[last.Value].Sent;
        if (!room) return false;
        Start(key, Rent(length), length, read, loop, whenLoaded, onError, ct);
        return true;
    }

    private void Start(Key key, Buffer buffer, int length, Func<Memory<byte>, CancellationToken, ValueTask> read,
        SynchronizationContext loop, Action<bool> whenLoaded, Action<Exception> onError, CancellationToken ct)
    {
        _loading[key] = [whenLoaded];
        _ = Task.Run(async () =>
        {
            Exception? error = null;
            try { await read(buffer.Memory[..length], ct).ConfigureAwait(false); }
            catch (Exception e) { error = e; }
            loop.Post(_ => Landed(key, buffer, length, error, onError), null);
        }, CancellationToken.None);
    }

    private void Landed(Key key, Buffer buffer, int length, Exception? error, Action<Exception> onError)
    {
        var waiters = _loading[key];
        _loading.Remove(key);
        bool dropped = _droppedWhileLoading.Contains(key.Owner);
        if (dropped && !_loading.Keys.Any(k => k.Owner == key.Owner)) _droppedWhileLoading.Remove(key.Owner);
        bool ok = error is null && !dropped;
        if (ok) Insert(key, buffer, length);
        else Release(buffer);
        if (error is not null and not OperationCanceledException && !dropped) onError(error);
        foreach (var w in waiters) w(ok);
    }

    private void Insert(Key key, Buffer buffer, int length)
    {
        var e = new Entry { Data = buffer, Length = length };
        e.Node = _lru.AddFirst(key);
        _entries[key] = e;
        _cached += length;
        // Over budget only when reads were asked for with everything in use: trim back, keeping the newest slice.
        while (_allocated > Budget && (FreeSomeBuffer() || (_lru.Count > 1 && DropLeastRecent())))
        {
        }
    }

    /// <summary>A buffer for <paramref name="length"/> bytes: a free one of its size, or room made for a new one.</summary>
    private Buffer Rent(int length)
    {
        int size = BufferSize(length);
        if (_free.TryGetValue(size, out var stack) && stack.Count > 0) return stack.Pop();
        while (_allocated + size > Budget)
        {
            if (FreeSomeBuffer()) continue;
            if (_lru.Count == 0) break;
            var victim = _lru.Last!.Value;
            var e = _entries[victim];
            if (e.Data.Length == size)
            {
                Forget(victim, e);
                return e.Data;
            }
            DropLeastRecent();
        }
        _allocated += size;
        return new Buffer(size);
    }

    /// <summary>Buffers come in powers of two (at least 16 KiB), so pieces of one torrent, the last one too, share them.</summary>
    private static int BufferSize(int length) => (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 16 * 1024));

    /// <summary>A buffer no longer used: kept for the next read while within budget, else freed.</summary>
    private void Release(Buffer buffer)
    {
        if (_allocated > Budget || _entries.Count == 0 && _loading.Count == 0)
        {
            FreeBuffer(buffer);
            return;
        }
        if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<Buffer>();
        stack.Push(buffer);
    }

    private bool FreeSomeBuffer()
    {
        foreach (var stack in _free.Values)
        {
            if (stack.Count == 0) continue;
            FreeBuffer(stack.Pop());
            return true;
        }
        return false;
    }

    private bool DropLeastRecent()
    {
        if (_lru.Last is not { } last) return false;
        var e = _entries[last.Value];
        Forget(last.Value, e);
        FreeBuffer(e.Data);
        return true;
    }

    private void FreeBuffer(Buffer buffer)
    {
        _allocated -= buffer.Length;
        buffer.Free();
    }

    private void Forget(Key key, Entry e)
    {
        _lru.Remove(e.Node!);
        _entries.Remove(key);
        _cached -= e.Length;
    }

    /// <summary>
    /// Gives back everything of one owner (its torrent went idle or stopped): its slices now, its reads in flight as
    /// they land (they are not kept). When nothing is left, the free buffers go too: an idle engine holds nothing.
    /// </summary>
    public void Drop(int owner)
    {
        var node = _lru.First;
        while (node is not null)
        {
            var next = node.Next;
            if (node.Value.Owner == owner)
            {
                var e = _entries[node.Value];
                Forget(node.Value, e);
                FreeBuffer(e.Data);
            }
            node = next;
        }
        if (_loading.Keys.Any(k => k.Owner == owner)) _droppedWhileLoading.Add(owner);
        if (_entries.Count == 0 && _loading.Count == 0) while (FreeSomeBuffer()) { }
    }
}
