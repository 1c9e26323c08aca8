namespace RTorrent.Engine.Storage;

/// <summary>
/// Keeps every path a storage touches inside its download folder. Two checks: a lexical one when the storage is
/// opened (no absolute paths, no "..", the combined full path below the folder with a separator boundary) and a
/// physical one before a file is opened, created, moved or deleted (every existing component of the path, symbolic
/// links followed, must still lead below the folder's real location). The physical check is what stops a hostile
/// pre-existing symbolic link (<c>Downloads/Movie -> /etc</c>) from redirecting writes.
/// </summary>
/// <remarks>
/// Links that stay inside the folder are allowed (a user may link a subfolder to another place inside it). The
/// check runs when a handle is opened, not on every read or write of an open handle; a link swapped in between
/// the check and the open by another local user is outside what a download folder can defend against.
/// </remarks>
internal static class PathGuard
{
    private const int MaxLinks = 40; // as Linux's MAXSYMLINKS

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>The full path of a download folder, without a trailing separator (unless it is a root).</summary>
    public static string NormalizeRoot(string saveDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(saveDirectory);
        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(saveDirectory));
    }

    /// <summary>
    /// Combines the folder and a torrent's relative path, refusing anything that is not a plain relative path that
    /// stays inside the folder.
    /// </summary>
    /// <exception cref="StorageIOException">The path would leave the folder (<see cref="StorageErrorKind.OutsideDownloadFolder"/>).</exception>
    public static string Combine(string root, string relativePath)
    {
        if (string.IsNullOrEmpty(relativePath))
            throw Outside(root, relativePath, "the path is empty");
        if (relativePath.Contains('\0'))
            throw Outside(root, relativePath, "the path contains a NUL character");
        if (Path.IsPathRooted(relativePath) || relativePath.StartsWith('/') || relativePath.StartsWith('\\'))
            throw Outside(root, relativePath, "the path is absolute");
        foreach (var segment in relativePath.Split('/', '\\'))
        {
            if (segment is "..")
                throw Outside(root, relativePath, "the path contains '..'");
        }
        var native = relativePath.Replace('/', Path.DirectorySeparatorChar);
        var full = Path.GetFullPath(Path.Combine(root, native));
        if (!IsStrictlyInside(root, full))
            throw Outside(root, relativePath, "the path leads outside the download folder");
        return full;
    }

    /// <summary>Whether <paramref name="path"/> is below <paramref name="root"/> (both full paths), separator boundary respected.</summary>
    public static bool IsStrictlyInside(string root, string path)
    {
        var r = Path.TrimEndingDirectorySeparator(root);
        if (path.Length <= r.Length || !path.StartsWith(r, PathComparison)) return false;
        // "/data" must not contain "/database"; a root like "/" already ends with a separator.
        return Path.EndsInDirectorySeparator(r) || path[r.Length] == Path.DirectorySeparatorChar ||
               path[r.Length] == Path.AltDirectorySeparatorChar;
    }

    /// <summary>
    /// Checks, on disk, that <paramref name="fullPath"/> (already lexically inside <paramref name="root"/>) does not
    /// leave the folder through a symbolic link in any existing component, the file itself included.
    /// </summary>
    /// <exception cref="StorageIOException">A link leads outside (<see cref="StorageErrorKind.OutsideDownloadFolder"/>) or loops.</exception>
    public static void EnsurePhysicallyInside(string root, string fullPath)
    {
        var realRoot = Resolve(root);
        var realPath = Resolve(fullPath);
        if (!IsStrictlyInside(realRoot, realPath))
            throw new StorageIOException(StorageErrorKind.OutsideDownloadFolder, fullPath,
                $"Refusing to use {fullPath}: a symbolic link leads it outside the download folder (to {realPath})");
    }

    /// <summary>
    /// The path with every symbolic link in its existing components replaced by its target, like realpath(3) but
    /// accepting paths whose tail does not exist yet.
    /// </summary>
    public static string Resolve(string fullPath)
    {
        int links = 0;
        return Resolve(Path.GetFullPath(fullPath), ref links);
    }

    private static string Resolve(string fullPath, ref int links)
    {
        var root = Path.GetPathRoot(fullPath);
        if (string.IsNullOrEmpty(root)) return fullPath;
        var current = root;
        bool missing = false;
        foreach (var segment in fullPath[root.Length..].Split(
                     [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Join(current, segment);
            if (missing)
            {
                current = candidate;
                continue;
            }
            var info = new FileInfo(candidate);
            string? target = info.LinkTarget;
            if (target is null)
            {
                // A component that does not exist: nothing below it can exist either, skip the lookups.
                missing = (int)info.Attributes == -1;
                current = candidate;
                continue;
            }
            if (++links > MaxLinks)
                throw new StorageIOException(StorageErrorKind.OutsideDownloadFolder, fullPath,
                    $"Refusing to use {fullPath}: too many levels of symbolic links");
            // current is already free of links, so a ".." in a relative target resolves lexically to the real parent.
            current = Resolve(Path.GetFullPath(target, current), ref links);
        }
        return current;
    }

    private static StorageIOException Outside(string root, string relativePath, string why) =>
        new(StorageErrorKind.OutsideDownloadFolder, relativePath,
            $"Refusing to store '{relativePath}' in {root}: {why}");

    /// <summary>How paths compare on this platform (case-insensitive where the usual file systems are).</summary>
    public static readonly StringComparer PathComparer =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>
    /// Removes the folders that held <paramref name="files"/> (full paths) and are empty now, deepest first, but only
    /// strictly inside <paramref name="root"/>: never the root itself, its parents, a symbolic link, or anything that
    /// resolves outside the root. A folder that cannot be removed is left, and reported through <paramref name="problem"/>.
    /// </summary>
    public static void RemoveEmptyFolders(string root, IEnumerable<string> files, Action<string, Exception>? problem = null)
    {
        var folders = new HashSet<string>(PathComparer);
        foreach (string file in files)
        {
            for (var dir = Path.GetDirectoryName(file); dir is not null && IsStrictlyInside(root, dir); dir = Path.GetDirectoryName(dir))
            {
                if (!folders.Add(dir)) break;
            }
        }
        foreach (var dir in folders.OrderByDescending(d => d.Length))
        {
            try
            {
                var info = new DirectoryInfo(dir);
                if (!info.Exists || info.LinkTarget is not null) continue;
                EnsurePhysicallyInside(root, dir);
                if (info.EnumerateFileSystemInfos().Any()) continue;
                info.Delete(recursive: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem?.Invoke(dir, e);
            }
        }
    }
}
