using System.Collections.Concurrent;
using RTorrent.Abstractions;

namespace RTorrent.Plugins.MemoryStorage;

/// <summary>
/// Creates <see cref="MemoryTorrentStorage"/>s. Data is kept per torrent (by info-hash) for the life of the process:
/// closing a torrent's storage (pause, or removing the torrent while keeping its data) keeps the bytes, so it can be
/// reopened; only <see cref="ITorrentStorage.DeleteAsync"/> frees them. Everything is lost when the program exits, so a
/// torrent's resume data then rechecks to nothing and the torrent downloads again.
/// </summary>
public sealed class MemoryStorageFactory : IStorageFactory
{
    private readonly ConcurrentDictionary<string, TorrentData> _torrents = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the factory.</summary>
    public MemoryStorageFactory(MemoryStorageOptions? options = null)
    {
        Options = options ?? new MemoryStorageOptions();
        if (Options.CapBytes < 0) throw new ArgumentOutOfRangeException(nameof(options), "The cap cannot be negative.");
        if (Options.ChunkSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), "The chunk size must be positive.");
        Budget = new MemoryBudget(Options.CapBytes);
    }

    /// <summary>The options in use.</summary>
    public MemoryStorageOptions Options { get; }

    /// <summary>Bytes allocated now, across all torrents.</summary>
    public long AllocatedBytes => Budget.Allocated;

    internal MemoryBudget Budget { get; }

    /// <inheritdoc />
    public string Name => "memory";

    /// <inheritdoc />
    public string Version => typeof(MemoryStorageFactory).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

    /// <inheritdoc />
    public string Description => $"Keeps torrent data in RAM (cap {Options.CapBytes / (1024 * 1024)} MiB for all torrents); lost on exit. For benchmarks and seeding from memory.";

    /// <inheritdoc />
    public ITorrentStorage Open(StorageContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = _torrents.GetOrAdd(context.InfoHashHex, _ => new TorrentData());
        return new MemoryTorrentStorage(this, context, data);
    }
}

/// <summary>The bytes of one torrent: one <see cref="MemoryFile"/> per file index, created on first use.</summary>
internal sealed class TorrentData
{
    private readonly ConcurrentDictionary<int, MemoryFile> _files = new();

    public MemoryFile? Get(int index) => _files.GetValueOrDefault(index);

    public MemoryFile GetOrCreate(int index, long length, int chunkSize, MemoryBudget budget) =>
        _files.GetOrAdd(index, _ => new MemoryFile(length, chunkSize, budget));

    public bool TryRemove(int index, out MemoryFile? file) => _files.TryRemove(index, out file);

    public ICollection<int> Indexes => _files.Keys;
}

/// <summary>Counts allocated bytes against the cap; thread-safe.</summary>
internal sealed class MemoryBudget(long cap)
{
    private long _allocated;

    public long Cap { get; } = cap;

    public long Allocated => Interlocked.Read(ref _allocated);

    public bool TryReserve(long bytes)
    {
        var now = Interlocked.Add(ref _allocated, bytes);
        if (now <= Cap) return true;
        Interlocked.Add(ref _allocated, -bytes);
        return false;
    }

    public void Release(long bytes) => Interlocked.Add(ref _allocated, -bytes);
}
