using RTorrent.Abstractions;

namespace RTorrent.Engine.Storage;

/// <summary>Options of the default file storage.</summary>
public sealed record FileStorageOptions
{
    /// <summary>The defaults (128 open files).</summary>
    public static FileStorageOptions Default { get; } = new();

    /// <summary>
    /// Most file handles kept open while idle, across every torrent of the factory. Handles in use are never closed
    /// by eviction, so the open count can briefly exceed this by the number of reads and writes in flight.
    /// </summary>
    public int MaxOpenFiles { get; init; } = 128;
}

/// <summary>
/// The built-in storage backend, named <c>file</c>: each torrent file at <c>SaveDirectory/Path</c>, written in
/// place with positional I/O. One factory shares one bounded cache of open handles among all its torrents.
/// </summary>
public sealed class FileStorageFactory : IStorageFactory, IDisposable
{
    /// <summary>The name users choose it by and resume data records.</summary>
    public const string StorageName = "file";

    private readonly FileHandleCache _cache;

    /// <summary>Creates the factory and its handle cache.</summary>
    public FileStorageFactory(FileStorageOptions? options = null)
    {
        options ??= FileStorageOptions.Default;
        if (options.MaxOpenFiles < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxOpenFiles, "MaxOpenFiles must be at least 1.");
        Options = options;
        _cache = new FileHandleCache(options.MaxOpenFiles);
    }

    /// <summary>The options the factory was created with.</summary>
    public FileStorageOptions Options { get; }

    /// <inheritdoc/>
    public string Name => StorageName;

    /// <inheritdoc/>
    public string Version => "1.0.0";

    /// <inheritdoc/>
    public string Description => "Files in the download folder: sparse, written in place, handles cached";

    /// <summary>Handles open right now across every storage of this factory (for diagnostics and tests).</summary>
    public int OpenHandleCount => _cache.OpenCount;

    /// <inheritdoc/>
    /// <exception cref="StorageIOException">A file path would leave the download folder, or two files share a path.</exception>
    public ITorrentStorage Open(StorageContext context) => OpenFileStorage(context);

    /// <summary>Like <see cref="Open"/>, typed.</summary>
    public FileStorage OpenFileStorage(StorageContext context) => new(context, _cache);

    /// <summary>Closes every cached handle; storages opened from this factory can no longer open files.</summary>
    public void Dispose() => _cache.Dispose();
}
