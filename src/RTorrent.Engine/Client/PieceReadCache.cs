using System.Buffers;

namespace RTorrent.Engine.Client;

/// <summary>
/// Whole pieces read from disk to serve requests, least recently used first out. A peer asks for a piece block by
/// block; reading the whole piece once turns dozens of small reads into one. Used on the loop only; the reads
/// themselves run on the thread pool and post back.
/// </summary>
internal sealed class PieceReadCache
{
    private sealed class Entry
    {
        public required byte[] Data;
        public required int Length;
        public LinkedListNode<int>? Node;
    }

    private readonly Dictionary<int, Entry> _entries = [];
    private readonly LinkedList<int> _lru = new();
    private readonly Dictionary<int, List<Action<bool>>> _loading = [];
    private long _bytes;

    public PieceReadCache(long capacity) => Capacity = capacity;

    public long Capacity { get; set; }
    public long Bytes => _bytes;

    public bool TryGet(int piece, out ReadOnlyMemory<byte> data)
    {
        if (_entries.TryGetValue(piece, out var e))
        {
            _lru.Remove(e.Node!);
            _lru.AddFirst(e.Node!);
            data = e.Data.AsMemory(0, e.Length);
            return true;
        }
        data = default;
        return false;
    }

    public bool IsLoading(int piece) => _loading.ContainsKey(piece);

    /// <summary>Whether the piece is cached (without touching its recency).</summary>
    public bool Contains(int piece) => _entries.ContainsKey(piece);

    /// <summary>Reads in flight.</summary>
    public int LoadingCount => _loading.Count;

    /// <summary>
    /// Loads a piece unless it is loading already; <paramref name="whenLoaded"/> runs on the loop with true when it
    /// is in the cache, false when the read failed.
    /// </summary>
    public void Load(int piece, Func<int, CancellationToken, ValueTask<byte[]>> read, int length,
        SynchronizationContext loop, Action<bool> whenLoaded, Action<Exception> onError, CancellationToken ct)
    {
        if (_loading.TryGetValue(piece, out var waiters))
        {
            waiters.Add(whenLoaded);
            return;
        }
        _loading[piece] = [whenLoaded];
        _ = Task.Run(async () =>
        {
            byte[]? data = null;
            Exception? error = null;
            try { data = await read(piece, ct).ConfigureAwait(false); }
            catch (Exception e) { error = e; }
            loop.Post(_ =>
            {
                var list = _loading[piece];
                _loading.Remove(piece);
                if (data is not null) Insert(piece, data, length);
                else if (error is not OperationCanceledException) onError(error!);
                foreach (var w in list) w(data is not null);
            }, null);
        }, CancellationToken.None);
    }

    private void Insert(int piece, byte[] data, int length)
    {
        if (_entries.Remove(piece, out var old))
        {
            _lru.Remove(old.Node!);
            _bytes -= old.Length;
            ArrayPool<byte>.Shared.Return(old.Data);
        }
        var e = new Entry { Data = data, Length = length };
        e.Node = _lru.AddFirst(piece);
        _entries[piece] = e;
        _bytes += length;
        while (_bytes > Capacity && _lru.Count > 1)
        {
            int victim = _lru.Last!.Value;
            _lru.RemoveLast();
            var v = _entries[victim];
            _entries.Remove(victim);
            _bytes -= v.Length;
            ArrayPool<byte>.Shared.Return(v.Data);
        }
    }

    /// <summary>Drops a piece (its data changed, e.g. a recheck).</summary>
    public void Invalidate(int piece)
    {
        if (_entries.Remove(piece, out var e))
        {
            _lru.Remove(e.Node!);
            _bytes -= e.Length;
            ArrayPool<byte>.Shared.Return(e.Data);
        }
    }

    public void Clear()
    {
        foreach (var e in _entries.Values) ArrayPool<byte>.Shared.Return(e.Data);
        _entries.Clear();
        _lru.Clear();
        _bytes = 0;
    }
}
