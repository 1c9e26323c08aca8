using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Resume;

/// <summary>
/// Replaces a file so that a crash (kill -9, power loss) at any moment leaves either the complete old content or the
/// complete new content, never a mix: write a temporary file in the same folder, fsync it, rename it over the
/// target (atomic within a file system), then fsync the folder so the rename itself is durable.
/// </summary>
/// <remarks>
/// A crash before the rename leaves a stray <c>NAME.XXXXXXXX.tmp</c> beside the target;
/// <see cref="DeleteStaleTemporaryFiles"/> removes them (the target is unaffected). The folder fsync is done through
/// libc on Linux and macOS; on Windows NTFS journals the rename and there is no folder fsync.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Suffix of temporary files.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Characters of the random tag between the target's name and <see cref="TemporarySuffix"/>.</summary>
    public const int TemporaryTagLength = 8;

    /// <summary>Atomically replaces (or creates) <paramref name="path"/> with <paramref name="content"/>.</summary>
    /// <exception cref="IOException">The file or its folder cannot be written; the old content is intact.</exception>
    public static async Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"{path} has no folder.", nameof(path));
        Directory.CreateDirectory(folder);
        var temp = $"{full}.{Guid.NewGuid().ToString("N")[..TemporaryTagLength]}{TemporarySuffix}";
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous))
            {
                await RandomAccess.WriteAsync(handle, content, 0, cancellationToken).ConfigureAwait(false);
                await Task.Run(() => RandomAccess.FlushToDisk(handle), CancellationToken.None).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: true); // rename(2): atomic replace
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        // After the rename the new content is in place; a failing folder fsync only means the rename may not survive
        // a power loss, which the caller should still hear about.
        await Task.Run(() => NativeFileSystem.FsyncDirectory(folder), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Temporary files that a crashed <see cref="WriteAllBytesAsync"/> of <paramref name="path"/> left behind.</summary>
    public static IEnumerable<string> FindStaleTemporaryFiles(string path)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) return [];
        var prefix = Path.GetFileName(full) + ".";
        return Directory.EnumerateFiles(folder, prefix + "*" + TemporarySuffix)
            .Where(f => Path.GetFileName(f).Length == prefix.Length + TemporaryTagLength + TemporarySuffix.Length);
    }

    /// <summary>
    /// Deletes the temporary files a crash left beside <paramref name="path"/>. Only call it when no write of that
    /// path is running (at load time).
    /// </summary>
    public static void DeleteStaleTemporaryFiles(string path)
    {
        foreach (var f in FindStaleTemporaryFiles(path)) TryDelete(f);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
