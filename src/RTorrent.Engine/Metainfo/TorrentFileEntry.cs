namespace RTorrent.Engine.Metainfo;

/// <summary>One file of a torrent, as the engine uses it.</summary>
public sealed class TorrentFileEntry
{
    /// <summary>Index in the torrent's file list (pad files included).</summary>
    public required int Index { get; init; }

    /// <summary>
    /// Sanitized relative path, '/'-separated. For multi-file torrents it starts with the torrent's (sanitized) name,
    /// so a file is stored at <c>SaveDirectory/Path</c>, and no path can leave the download folder.
    /// </summary>
    public required string Path { get; init; }

    /// <summary>Length in bytes (0 for symlinks).</summary>
    public required long Length { get; init; }

    /// <summary>Offset of the file's first byte in the torrent's byte stream.</summary>
    public required long Offset { get; init; }

    /// <summary>A BEP 47 pad file: not a user file, never written.</summary>
    public bool IsPadding { get; init; }

    /// <summary>BEP 47 'x' attribute.</summary>
    public bool IsExecutable { get; init; }

    /// <summary>BEP 47 'h' attribute.</summary>
    public bool IsHidden { get; init; }

    /// <summary>BEP 47 symlink target (sanitized, relative), or null.</summary>
    public string? SymlinkTarget { get; init; }

    /// <summary>The path exactly as the torrent spelled it (for display of what sanitizing changed), '/'-joined.</summary>
    public string? OriginalPath { get; init; }

    /// <summary>BEP 52 'pieces root' of the file (32 bytes) in a v2 or hybrid torrent; empty otherwise.</summary>
    public ReadOnlyMemory<byte> PiecesRoot { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Path} ({Length} bytes)";
}
