namespace RTorrent.Engine.Storage;

/// <summary>What kind of storage failure happened, so the engine can show the torrent's error state precisely.</summary>
public enum StorageErrorKind
{
    /// <summary>Any other I/O failure; the message carries the system's text.</summary>
    Other,
    /// <summary>The disk (or the user's quota) is full.</summary>
    DiskFull,
    /// <summary>The operating system refused access to the path.</summary>
    PermissionDenied,
    /// <summary>The file system is mounted read-only.</summary>
    ReadOnlyFileSystem,
    /// <summary>Something of the wrong type is in the way: a folder where a file should be, or a file where a folder should be.</summary>
    PathBlocked,
    /// <summary>The path would lead outside the download folder (a "..", an absolute path, or a symbolic link pointing out).</summary>
    OutsideDownloadFolder,
    /// <summary>A move would overwrite an existing file at the destination.</summary>
    DestinationExists,
}

/// <summary>
/// A storage failure with a message a user understands ("No space left on device while writing PATH") and the
/// <see cref="Kind"/> of failure. It is an <see cref="IOException"/>, as the storage contract asks.
/// </summary>
public sealed class StorageIOException : IOException
{
    /// <summary>Creates the exception.</summary>
    public StorageIOException(StorageErrorKind kind, string path, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Path = path;
    }

    /// <summary>What went wrong.</summary>
    public StorageErrorKind Kind { get; }

    /// <summary>The path the operation was about.</summary>
    public string Path { get; }
}
