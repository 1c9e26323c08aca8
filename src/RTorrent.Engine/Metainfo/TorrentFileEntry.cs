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

    /// <summary>
    /// A BEP 47 symlink ('l' with a valid 'symlink path'): it has no data; the link is made on disk when its target
    /// stays inside the torrent's folder (<see cref="SymlinkTarget"/>), and never otherwise (<see cref="SymlinkProblem"/>).
    /// </summary>
    public bool IsSymlink { get; init; }

    /// <summary>
    /// BEP 47 symlink target resolved inside the torrent: a '/'-separated path from the download folder, starting with
    /// the torrent's folder name, like <see cref="Path"/>; null when the file is no symlink or its link is refused.
    /// </summary>
    public string? SymlinkTarget { get; init; }

    /// <summary>Why a symlink is not made (its target leaves the torrent's folder, is absolute, loops...), or null.</summary>
    public string? SymlinkProblem { get; init; }

    /// <summary>The BEP 47 attributes we act on, as the torrent spells them ("x", "h", "l"; pad files "p").</summary>
    public string Attributes =>
        (IsPadding ? "p" : "") + (IsSymlink ? "l" : "") + (IsExecutable ? "x" : "") + (IsHidden ? "h" : "");

    /// <summary>The path exactly as the torrent spelled it (for display of what sanitizing changed), '/'-joined.</summary>
    public string? OriginalPath { get; init; }

    /// <summary>BEP 52 'pieces root' of the file (32 bytes) in a v2 or hybrid torrent; empty otherwise.</summary>
    public ReadOnlyMemory<byte> PiecesRoot { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Path} ({Length} bytes)";
}
