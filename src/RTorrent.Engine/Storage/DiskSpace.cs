namespace RTorrent.Engine.Storage;

/// <summary>Free space where downloads go.</summary>
public static class DiskSpace
{
    /// <summary>
    /// Bytes available to this user on the file system holding <paramref name="folder"/> (or its nearest existing
    /// parent, for a download folder not created yet); null when it cannot be told. May block on a dead network
    /// share, so callers run it off the interface thread.
    /// </summary>
    public static long? FreeBytes(string? folder) => Ask(folder, d => d.AvailableFreeSpace);

    /// <summary>
    /// The size of the file system holding <paramref name="folder"/> (or its nearest existing parent), in bytes; null
    /// when it cannot be told. Transmission's <c>free-space</c> answers it as <c>total_size</c>.
    /// </summary>
    public static long? TotalBytes(string? folder) => Ask(folder, d => d.TotalSize);

    private static long? Ask(string? folder, Func<DriveInfo, long> what)
    {
        if (string.IsNullOrWhiteSpace(folder)) return null;
        try
        {
            string? dir = Path.GetFullPath(folder);
            while (dir is not null && !Directory.Exists(dir)) dir = Path.GetDirectoryName(dir);
            if (dir is null) return null;
            // On Unix, DriveInfo asks statvfs about the path itself, so any folder of the file system will do.
            return what(new DriveInfo(dir));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
