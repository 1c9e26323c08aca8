using RTorrent.Abstractions;

namespace RTorrent.Plugins.MemoryStorage;

/// <summary>
/// One torrent's data in RAM. Files behave like sparse files on a disk: a file exists once it is prepared or
/// written; its length is the prepared length or the end of the furthest write; unwritten bytes read as zero.
/// Writes that would take memory past the cap fail with an <see cref="IOException"/>
/// ("memory storage cap of N bytes reached"). Thread-safe.
/// </summary>
public sealed class MemoryTorrentStorage : ITorrentStorage
{
    private readonly MemoryStorageFactory _factory;
    private readonly StorageContext _context;
    private readonly TorrentData _data;

    internal MemoryTorrentStorage(MemoryStorageFactory factory, StorageContext context, TorrentData data)
    {
        _factory = factory;
        _context = context;
        _data = data;
        SaveDirectory = context.SaveDirectory;
    }

    /// <summary>The download folder the torrent would have on disk (only recorded: nothing is written there).</summary>
    public string SaveDirectory { get; private set; }

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = CheckFile(fileIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var data = _data.Get(fileIndex)
            ?? throw new FileNotFoundException($"{file.Path} does not exist in memory storage (never written or prepared)", file.Path);
        return ValueTask.FromResult(data.Read(offset, buffer.Span));
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = CheckFile(fileIndex);
        if (offset < 0 || offset > file.Length - data.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"{data.Length} bytes at offset {offset} do not fit in {file.Path} ({file.Length} bytes).");
        GetOrCreate(fileIndex, file).Write(offset, data.Span);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Nothing to do: memory is as durable as it gets, which is not at all across a restart.</remarks>
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        CheckFile(fileIndex);
        var data = _data.Get(fileIndex);
        return ValueTask.FromResult(data is null
            ? new StorageFileState(false, 0, null)
            : new StorageFileState(true, data.Length, data.LastWriteUtc));
    }

    /// <inheritdoc />
    /// <remarks>Without <paramref name="preallocate"/> this only sets the length (like a sparse file); with it, every chunk is reserved now, so the cap is hit here rather than mid-download.</remarks>
    public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = CheckFile(fileIndex);
        GetOrCreate(fileIndex, file).Prepare(preallocate);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>The data stays where it is (in memory); only the recorded folder changes.</remarks>
    public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(newSaveDirectory);
        cancellationToken.ThrowIfCancellationRequested();
        SaveDirectory = newSaveDirectory;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Frees the torrent's memory; its files then probe as missing.</remarks>
    public ValueTask DeleteAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var index in _data.Indexes.ToArray())
            if (_data.TryRemove(index, out var file)) file?.Release();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Keeps the data: the torrent can be reopened in this process (see <see cref="MemoryStorageFactory"/>).</remarks>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private StorageFile CheckFile(int fileIndex)
    {
        if ((uint)fileIndex >= (uint)_context.Files.Count)
            throw new ArgumentOutOfRangeException(nameof(fileIndex), fileIndex, $"The torrent has {_context.Files.Count} files.");
        return _context.Files[fileIndex];
    }

    private MemoryFile GetOrCreate(int fileIndex, StorageFile file) =>
        _data.GetOrCreate(fileIndex, file.Length, _factory.Options.ChunkSize, _factory.Budget);
}
