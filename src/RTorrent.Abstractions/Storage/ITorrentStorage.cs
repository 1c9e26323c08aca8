namespace RTorrent.Abstractions;

/// <summary>Creates storage for torrents; registered by a plugin (or built into the engine: file storage).</summary>
public interface IStorageFactory : IPluginComponent
{
    /// <summary>Opens storage for one torrent. Must not touch the disk yet (that is <see cref="ITorrentStorage.PrepareAsync"/>).</summary>
    ITorrentStorage Open(StorageContext context);
}

/// <summary>Where and what a torrent stores.</summary>
/// <param name="SaveDirectory">The download folder; storage must never write outside it.</param>
/// <param name="Files">
/// The torrent's files in order. <see cref="StorageFile.Path"/> is already sanitized: relative, '/'-separated, no
/// '..', and (for multi-file torrents) starting with the torrent's folder name.
/// </param>
/// <param name="InfoHashHex">The torrent's info-hash in lower-case hex, for storages that key by torrent.</param>
public sealed record StorageContext(string SaveDirectory, IReadOnlyList<StorageFile> Files, string InfoHashHex);

/// <summary>One file of a torrent.</summary>
/// <param name="Index">Index in the torrent's file list (pad files included, so indexes match the metainfo).</param>
/// <param name="Path">Sanitized relative path, '/'-separated.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="IsPadding">A BEP 47 pad file: the engine never reads or writes it and storage need not create it.</param>
public sealed record StorageFile(int Index, string Path, long Length, bool IsPadding);

/// <summary>What storage knows of a file on its medium, used to decide whether resume data still holds.</summary>
/// <param name="Exists">Whether the file exists.</param>
/// <param name="Length">Its current length, or 0.</param>
/// <param name="LastWriteUtc">Its last modification time, if the medium keeps one.</param>
public readonly record struct StorageFileState(bool Exists, long Length, DateTimeOffset? LastWriteUtc);

/// <summary>
/// Reads and writes one torrent's data, per file and offset. The engine maps pieces and blocks onto files, splits
/// requests at file boundaries and never asks for pad files; storage only moves bytes.
/// </summary>
/// <remarks>
/// Calls may come concurrently from several threads for different ranges. Every call is bounded by a timeout in
/// the engine; a storage that throws is reported on the torrent and the torrent stops (data is never silently
/// redirected elsewhere). Errors should be <see cref="IOException"/> with a message a user understands
/// ("No space left on device", "Permission denied: PATH").
/// </remarks>
public interface ITorrentStorage : IAsyncDisposable
{
    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/> of file <paramref name="fileIndex"/>; returns the count read (short only at end of file).</summary>
    ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> of file <paramref name="fileIndex"/>, creating the file if needed.</summary>
    ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// Writes several buffers back to back starting at <paramref name="offset"/> (a gather write). The engine hands a
    /// verified piece over as its blocks, so storage that can write vectors (pwritev) avoids copying them together.
    /// The default writes them one by one.
    /// </summary>
    async ValueTask WriteAsync(int fileIndex, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken)
    {
        foreach (var b in buffers)
        {
            await WriteAsync(fileIndex, offset, b, cancellationToken).ConfigureAwait(false);
            offset += b.Length;
        }
    }

    /// <summary>Makes every completed write durable (fsync or equivalent). Called before resume data claims pieces are done.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>Tells whether a file exists, its length and its modification time.</summary>
    ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a file ready for writing: creates it (sparse where possible) with its final length, or allocates it
    /// fully when <paramref name="preallocate"/> is set. Existing data is kept.
    /// </summary>
    ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken);

    /// <summary>Moves all of the torrent's files under a new download folder.</summary>
    ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken);

    /// <summary>Deletes the torrent's files (and the folders it created, when empty).</summary>
    ValueTask DeleteAsync(CancellationToken cancellationToken);

    /// <summary>Closes open handles of a file (for example after it completes, or before a move). Optional.</summary>
    ValueTask CloseAsync(int fileIndex, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
