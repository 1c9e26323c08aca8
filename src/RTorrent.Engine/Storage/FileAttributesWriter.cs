namespace RTorrent.Engine.Storage;

/// <summary>
/// BEP 47 attributes on disk, for the built-in file storage: symbolic links (made only when the link and where it
/// leads both stay inside the download folder, on disk too) and the executable bit. Hidden ('h') needs nothing here:
/// on Linux and macOS a file is hidden by its name; the attribute is kept in the metainfo and shown.
/// </summary>
internal static class FileAttributesWriter
{
    /// <summary>
    /// Makes <paramref name="linkPath"/> a symbolic link to <paramref name="targetPath"/> (both full paths), stored
    /// relative to the link's folder so the download folder can move. An existing link is replaced if it points
    /// elsewhere; a real file or folder in its place is never touched.
    /// </summary>
    /// <exception cref="StorageIOException">A path leaves the download folder, or something else is in the link's place.</exception>
    public static void CreateSymlink(string root, string linkPath, string targetPath)
    {
        if (!PathGuard.IsStrictlyInside(root, linkPath) || (!PathGuard.IsStrictlyInside(root, targetPath) && targetPath != root))
            throw new StorageIOException(StorageErrorKind.OutsideDownloadFolder, linkPath,
                $"Refusing to make the link {linkPath} -> {targetPath}: it leaves the download folder {root}");
        // On disk: no existing link in the folders above either path (nor in the target itself) may lead out.
        PathGuard.EnsurePhysicallyInside(root, Path.GetDirectoryName(linkPath)!);
        PathGuard.EnsurePhysicallyInside(root, targetPath);
        var relative = Path.GetRelativePath(Path.GetDirectoryName(linkPath)!, targetPath);
        try
        {
            var existing = new FileInfo(linkPath);
            if (existing.LinkTarget is { } current)
            {
                if (current == relative) return;
                existing.Delete(); // only the link: what it pointed to is not ours to judge
            }
            else if (existing.Exists || Directory.Exists(linkPath))
            {
                throw new StorageIOException(StorageErrorKind.PathBlocked, linkPath,
                    $"Not making the link {linkPath}: a file or folder is already there");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(linkPath)!);
            File.CreateSymbolicLink(linkPath, relative);
        }
        catch (Exception e) when (e is IOException and not StorageIOException or UnauthorizedAccessException)
        {
            throw StorageErrors.Map(e, linkPath, "linking");
        }
    }

    /// <summary>
    /// Sets the executable bit wherever the file is readable (so 0644 becomes 0755, 0600 becomes 0700), like
    /// <c>chmod +x</c> under the usual umask. Nothing on Windows, nothing for a missing file or a link.
    /// </summary>
    /// <returns>Whether the mode changed.</returns>
    /// <exception cref="StorageIOException">The path leads outside the folder, or the mode cannot be set.</exception>
    public static bool MakeExecutable(string root, string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        PathGuard.EnsurePhysicallyInside(root, path);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.LinkTarget is not null) return false;
            var mode = info.UnixFileMode;
            var withX = mode
                | (mode.HasFlag(UnixFileMode.UserRead) ? UnixFileMode.UserExecute : 0)
                | (mode.HasFlag(UnixFileMode.GroupRead) ? UnixFileMode.GroupExecute : 0)
                | (mode.HasFlag(UnixFileMode.OtherRead) ? UnixFileMode.OtherExecute : 0);
            if (withX == mode) return false;
            File.SetUnixFileMode(path, withX);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageErrors.Map(e, path, "setting the mode of");
        }
    }
}
