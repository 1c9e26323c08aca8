namespace RTorrent.Engine.Storage;

/// <summary>
/// Turns the framework's I/O exceptions into <see cref="StorageIOException"/>s whose message says what happened and
/// where. .NET on Unix puts the raw errno in <see cref="Exception.HResult"/> of the <see cref="IOException"/>s it
/// builds from a failed system call; on Windows the HRESULT wraps the Win32 error code.
/// </summary>
internal static class StorageErrors
{
    // errno values shared by Linux and macOS unless noted.
    private const int ENOSPC = 28;
    private const int EROFS = 30;
    private const int EDQUOT_Linux = 122;
    private const int EDQUOT_Mac = 69;
    private const int EISDIR = 21;

    // Win32 errors as HRESULTs.
    private const int HR_ERROR_DISK_FULL = unchecked((int)0x80070070);
    private const int HR_ERROR_HANDLE_DISK_FULL = unchecked((int)0x80070027);
    private const int HR_ERROR_WRITE_PROTECT = unchecked((int)0x80070013);

    /// <summary>Maps <paramref name="exception"/> raised while <paramref name="operation"/> (a verb in -ing form) <paramref name="path"/>.</summary>
    public static Exception Map(Exception exception, string path, string operation)
    {
        switch (exception)
        {
            case StorageIOException or OperationCanceledException:
                return exception;
            case UnauthorizedAccessException:
                // .NET refuses to open a directory as a file with UnauthorizedAccessException (EISDIR is folded in).
                if (Directory.Exists(path))
                    return new StorageIOException(StorageErrorKind.PathBlocked, path,
                        $"Cannot use {path}: a folder with that name is in the way of the file", exception);
                return new StorageIOException(StorageErrorKind.PermissionDenied, path,
                    $"Permission denied while {operation} {path}", exception);
            case DirectoryNotFoundException when FindFileInTheWay(path) is { } blocker:
                return new StorageIOException(StorageErrorKind.PathBlocked, path,
                    $"Cannot use {path}: {blocker} is a file, not a folder", exception);
            case IOException io:
                if (IsDiskFull(io))
                    return new StorageIOException(StorageErrorKind.DiskFull, path,
                        $"No space left on device while {operation} {path}", exception);
                if (IsReadOnly(io))
                    return new StorageIOException(StorageErrorKind.ReadOnlyFileSystem, path,
                        $"Read-only file system: cannot write {path}", exception);
                if (!OperatingSystem.IsWindows() && io.HResult is EISDIR)
                    return new StorageIOException(StorageErrorKind.PathBlocked, path,
                        $"Cannot use {path}: a folder with that name is in the way of the file", exception);
                // ENOTDIR, or CreateDirectory's "file already exists" when a file sits where a folder must go.
                if (FindFileInTheWay(path) is { } b)
                    return new StorageIOException(StorageErrorKind.PathBlocked, path,
                        $"Cannot use {path}: {b} is a file, not a folder", exception);
                return new StorageIOException(StorageErrorKind.Other, path,
                    $"I/O error while {operation} {path}: {io.Message}", exception);
            default:
                return exception;
        }
    }

    /// <summary>Whether a framework exception means the disk or quota is full.</summary>
    public static bool IsDiskFull(IOException io)
    {
        if (OperatingSystem.IsWindows())
            return io.HResult is HR_ERROR_DISK_FULL or HR_ERROR_HANDLE_DISK_FULL;
        if (io.HResult is ENOSPC) return true;
        if (OperatingSystem.IsLinux() && io.HResult is EDQUOT_Linux) return true;
        if (OperatingSystem.IsMacOS() && io.HResult is EDQUOT_Mac) return true;
        // File.OpenHandle with a preallocation size reports a failed fallocate with a generic HRESULT; only the
        // message tells ("... because the disk was full.").
        return io.Message.Contains("disk was full", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsReadOnly(IOException io) =>
        OperatingSystem.IsWindows() ? io.HResult == HR_ERROR_WRITE_PROTECT : io.HResult == EROFS;

    /// <summary>The nearest ancestor of <paramref name="path"/> that exists as a regular file, if any.</summary>
    private static string? FindFileInTheWay(string path)
    {
        for (var dir = Path.GetDirectoryName(path); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(dir)) return dir;
            if (Directory.Exists(dir)) return null;
        }
        return null;
    }
}
