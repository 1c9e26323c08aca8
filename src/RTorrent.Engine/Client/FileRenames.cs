using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Client;

/// <summary>
/// What renaming a file or folder of a torrent changes (see <see cref="FileRenames.Plan"/>).
/// </summary>
/// <param name="OldPath">The torrent-relative path renamed ('/'-separated).</param>
/// <param name="NewPath">The same entry's new path.</param>
/// <param name="IsFolder">Whether a folder is renamed (else one file).</param>
/// <param name="Renamed">Every file's path that differs from the metainfo's, after the rename (index to path).</param>
/// <param name="Paths">Every file's relative path after the rename, pad files included (as in the metainfo).</param>
internal sealed record RenamePlan(string OldPath, string NewPath, bool IsFolder, IReadOnlyDictionary<int, string> Renamed, IReadOnlyList<string> Paths)
{
    /// <summary>The new name is the old one: nothing to do.</summary>
    public bool IsNoOp => string.Equals(OldPath, NewPath, StringComparison.Ordinal);
}

/// <summary>
/// The paths a torrent's files have once the user renamed some of them (Transmission's <c>torrent-rename-path</c>).
/// The metainfo never changes: renames are kept beside it, as index to relative path for the files whose path differs
/// from the metainfo's, and persisted in the resume data. The torrent's display name follows its top folder (multi-file)
/// or its file (single-file).
/// </summary>
internal static class FileRenames
{
    /// <summary>The relative path file <paramref name="index"/> has now.</summary>
    public static string PathOf(TorrentMetainfo meta, IReadOnlyDictionary<int, string>? renamed, int index) =>
        renamed is not null && renamed.TryGetValue(index, out var path) ? path : meta.Files[index].Path;

    /// <summary>The torrent's files as storage sees them, with their current paths.</summary>
    public static StorageFile[] StorageFiles(TorrentMetainfo meta, IReadOnlyDictionary<int, string>? renamed)
    {
        var files = new StorageFile[meta.Files.Count];
        for (int i = 0; i < files.Length; i++)
        {
            var f = meta.Files[i];
            files[i] = new StorageFile(f.Index, PathOf(meta, renamed, i), f.Length, f.IsPadding);
        }
        return files;
    }

    /// <summary>The torrent's name as the user sees it: its top folder (multi-file) or its file (single-file), renamed or not.</summary>
    public static string DisplayName(TorrentMetainfo meta, IReadOnlyDictionary<int, string>? renamed)
    {
        if (renamed is null || renamed.Count == 0) return meta.Name;
        var first = meta.Files.FirstOrDefault(f => !f.IsPadding);
        if (first is null) return meta.Name;
        var path = PathOf(meta, renamed, first.Index);
        if (!meta.IsMultiFile) return path;
        int slash = path.IndexOf('/');
        return slash > 0 ? path[..slash] : meta.Name;
    }

    /// <summary>
    /// Why <paramref name="name"/> cannot be a file or folder name, or null when it can. The rules are the ones torrent
    /// paths are held to (<see cref="PathSanitizer"/>): one path element, not empty, not "." or "..", no '/', '\' or
    /// NUL, no control characters or direction overrides, not too long, and on Windows no reserved device name or
    /// character.
    /// </summary>
    public static string? CheckName(string name)
    {
        if (string.IsNullOrEmpty(name)) return "the new name is empty";
        if (name.Contains('\0')) return "the new name contains a NUL character";
        if (name.Contains('/') || name.Contains('\\')) return $"the new name '{name}' contains a path separator; give only the new last part of the path";
        if (name is "." or "..") return $"the new name '{name}' is not allowed";
        if (PathSanitizerOptions.Default.WindowsRules && PathSanitizer.IsReservedOnWindows(name)) return $"the new name '{name}' is reserved on Windows";
        var safe = PathSanitizer.SanitizeElement(name);
        if (!string.Equals(safe, name, StringComparison.Ordinal))
            return $"the new name '{Printable(name)}' is not a safe file name (control characters, direction overrides, characters the system forbids, or too long); it would be stored as '{safe}'";
        return null;
    }

    /// <summary>
    /// Works out what renaming <paramref name="path"/> to <paramref name="newName"/> does, as Transmission's
    /// <c>tr_torrentRenamePath</c>: <paramref name="path"/> is the torrent-relative path of a file or folder (for a
    /// multi-file torrent its first part is the torrent's name; a single-file torrent's file is its name) and
    /// <paramref name="newName"/> its new last part. Nothing on disk is looked at.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not valid, no file or folder has that path, or another file or
    /// folder of the torrent already has the new name (compared ignoring case, so the torrent stays valid on every file
    /// system, as <see cref="PathSanitizer"/> keeps it).</exception>
    public static RenamePlan Plan(TorrentMetainfo meta, IReadOnlyDictionary<int, string>? renamed, string path, string newName)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(newName);
        if (CheckName(newName) is { } problem) throw new ArgumentException($"Cannot rename '{path}': {problem}.", nameof(newName));
        var oldPath = path.Trim('/');
        if (oldPath.Length == 0) throw new ArgumentException("The path to rename is empty.", nameof(path));

        var paths = new string[meta.Files.Count];
        var affected = new List<int>();
        bool isFolder = false;
        for (int i = 0; i < paths.Length; i++)
        {
            paths[i] = PathOf(meta, renamed, i);
            if (meta.Files[i].IsPadding) continue; // never on disk, never renamed
            if (string.Equals(paths[i], oldPath, StringComparison.Ordinal)) affected.Add(i);
            else if (paths[i].Length > oldPath.Length && paths[i][oldPath.Length] == '/' && paths[i].StartsWith(oldPath, StringComparison.Ordinal))
            {
                affected.Add(i);
                isFolder = true;
            }
        }
        if (affected.Count == 0) throw new ArgumentException($"The torrent has no file or folder '{path}'.", nameof(path));

        int slash = oldPath.LastIndexOf('/');
        var newPath = slash < 0 ? newName : oldPath[..(slash + 1)] + newName;
        if (string.Equals(newPath, oldPath, StringComparison.Ordinal))
            return new RenamePlan(oldPath, newPath, isFolder, renamed ?? new Dictionary<int, string>(), paths);

        var moving = new HashSet<int>(affected);
        for (int i = 0; i < paths.Length; i++)
        {
            if (moving.Contains(i) || meta.Files[i].IsPadding) continue;
            var p = paths[i];
            bool sameFile = string.Equals(p, newPath, StringComparison.OrdinalIgnoreCase);
            bool inFolder = p.Length > newPath.Length && p[newPath.Length] == '/' && p.StartsWith(newPath, StringComparison.OrdinalIgnoreCase);
            if (sameFile || inFolder)
                throw new ArgumentException(
                    $"Cannot rename '{oldPath}' to '{newName}': the torrent already has a {(sameFile ? "file" : "folder")} named '{p[..newPath.Length]}'.",
                    nameof(newName));
        }

        var next = renamed is null ? new Dictionary<int, string>() : new Dictionary<int, string>(renamed);
        foreach (int i in affected)
        {
            paths[i] = newPath + paths[i][oldPath.Length..];
            if (string.Equals(paths[i], meta.Files[i].Path, StringComparison.Ordinal)) next.Remove(i);
            else next[i] = paths[i];
        }
        return new RenamePlan(oldPath, newPath, isFolder, next, paths);
    }

    private static string Printable(string s) => string.Concat(s.Select(c => char.IsControl(c) ? '?' : c));
}
