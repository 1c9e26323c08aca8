using Microsoft.Win32.SafeHandles;

namespace RTorrent.Engine.Storage;

/// <summary>
/// A bounded, least-recently-used cache of open file handles shared by every storage of one factory (so the limit is
/// process-wide, as with libtorrent's file pool). Handles are reference-counted: evicting or closing an entry that a
/// read or write is still using only retires it, and the handle is closed when the last user releases it. The number
/// of open handles can therefore exceed <see cref="Capacity"/> by the number of handles in use at that moment.
/// </summary>
internal sealed class FileHandleCache : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Key, Entry> _entries = [];
    private readonly LinkedList<Entry> _lru = []; // first = most recently used
    private int _retiredInUse;
    private bool _disposed;

    /// <summary>Creates a cache holding at most <paramref name="capacity"/> idle handles.</summary>
    public FileHandleCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Most handles kept open while idle.</summary>
    public int Capacity { get; }

    /// <summary>Handles currently open: cached ones plus evicted ones still in use.</summary>
    public int OpenCount
    {
        get
        {
            lock (_lock) return _entries.Count + _retiredInUse;
        }
    }

    /// <summary>
    /// Gets a handle for (<paramref name="owner"/>, <paramref name="fileIndex"/>) at <paramref name="path"/>, opening
    /// one with <paramref name="open"/> when none is cached or the cached one is read-only and
    /// <paramref name="write"/> is asked (the read-only handle is retired: the upgrade happens once per file).
    /// </summary>
    public Lease Acquire(object owner, int fileIndex, string path, bool write, Func<string, bool, SafeFileHandle> open)
    {
        var key = new Key(owner, fileIndex);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_entries.TryGetValue(key, out var cached) && Fits(cached, path, write))
                return Use(cached);
        }

        // Opening can block (network file systems, spinning disks): never under the lock.
        var handle = open(path, write);
        List<SafeFileHandle>? toClose = null;
        try
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    (toClose ??= []).Add(handle);
                    throw new ObjectDisposedException(nameof(FileHandleCache));
                }
                if (_entries.TryGetValue(key, out var raced))
                {
                    if (Fits(raced, path, write))
                    {
                        // Another caller opened an equal or better handle meanwhile: use theirs.
                        (toClose ??= []).Add(handle);
                        return Use(raced);
                    }
                    Retire(raced, ref toClose);
                }
                var entry = new Entry(key, path, handle, write);
                entry.Node = _lru.AddFirst(entry);
                _entries.Add(key, entry);
                entry.Users = 1;
                while (_entries.Count > Capacity)
                    Retire(_lru.Last!.Value, ref toClose);
                return new Lease(this, entry);
            }
        }
        finally
        {
            if (toClose is not null)
                foreach (var h in toClose) h.Dispose();
        }
    }

    /// <summary>Closes the cached handle of one file (now if idle, else when its last user is done).</summary>
    public void Close(object owner, int fileIndex)
    {
        List<SafeFileHandle>? toClose = null;
        lock (_lock)
        {
            if (_entries.TryGetValue(new Key(owner, fileIndex), out var entry))
                Retire(entry, ref toClose);
        }
        CloseAll(toClose);
    }

    /// <summary>Closes every cached handle of <paramref name="owner"/>.</summary>
    public void CloseOwner(object owner)
    {
        List<SafeFileHandle>? toClose = null;
        lock (_lock)
        {
            for (var node = _lru.First; node is not null;)
            {
                var next = node.Next;
                if (ReferenceEquals(node.Value.Key.Owner, owner)) Retire(node.Value, ref toClose);
                node = next;
            }
        }
        CloseAll(toClose);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        List<SafeFileHandle>? toClose = null;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            while (_lru.First is { } node) Retire(node.Value, ref toClose);
        }
        CloseAll(toClose);
    }

    private static bool Fits(Entry entry, string path, bool write) =>
        (entry.Writable || !write) && string.Equals(entry.Path, path, StringComparison.Ordinal);

    private Lease Use(Entry entry)
    {
        entry.Users++;
        if (entry.Node is { } node && node != _lru.First)
        {
            _lru.Remove(node);
            _lru.AddFirst(node);
        }
        return new Lease(this, entry);
    }

    private void Retire(Entry entry, ref List<SafeFileHandle>? toClose)
    {
        _entries.Remove(entry.Key);
        if (entry.Node is { } node)
        {
            _lru.Remove(node);
            entry.Node = null;
        }
        entry.Retired = true;
        if (entry.Users == 0) (toClose ??= []).Add(entry.Handle);
        else _retiredInUse++;
    }

    private void Release(Entry entry)
    {
        bool close;
        lock (_lock)
        {
            entry.Users--;
            close = entry.Retired && entry.Users == 0;
            if (close) _retiredInUse--;
        }
        if (close) entry.Handle.Dispose();
    }

    private static void CloseAll(List<SafeFileHandle>? handles)
    {
        if (handles is null) return;
        foreach (var h in handles) h.Dispose();
    }

    internal readonly record struct Key(object Owner, int FileIndex)
    {
        public bool Equals(Key other) => ReferenceEquals(Owner, other.Owner) && FileIndex == other.FileIndex;
        public override int GetHashCode() => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Owner), FileIndex);
    }

    internal sealed class Entry(Key key, string path, SafeFileHandle handle, bool writable)
    {
        public readonly Key Key = key;
        public readonly string Path = path;
        public readonly SafeFileHandle Handle = handle;
        public readonly bool Writable = writable;
        public LinkedListNode<Entry>? Node;
        public int Users;
        public bool Retired;
    }

    /// <summary>One use of a cached handle; dispose it when the I/O is done.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly FileHandleCache? _cache;
        private readonly Entry? _entry;

        internal Lease(FileHandleCache cache, Entry entry)
        {
            _cache = cache;
            _entry = entry;
        }

        /// <summary>The open handle.</summary>
        public SafeFileHandle Handle => _entry!.Handle;

        /// <summary>Whether the handle was opened for writing.</summary>
        public bool Writable => _entry!.Writable;

        /// <inheritdoc/>
        public void Dispose() => _cache?.Release(_entry!);
    }
}
