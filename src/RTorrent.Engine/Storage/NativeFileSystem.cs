using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RTorrent.Engine.Storage;

/// <summary>
/// The POSIX calls .NET does not expose: fsync of a directory (to make a rename durable), posix_fallocate of an
/// existing file, and link(2) (a second name for a file, never replacing an existing one). Only on Linux (glibc's
/// <c>libc.so.6</c>) and macOS; elsewhere the calls report "not supported" and callers fall back (Windows makes
/// renames durable through NTFS's journal and has no directory fsync).
/// </summary>
internal static partial class NativeFileSystem
{
    private const int O_RDONLY = 0;
    private const int O_CLOEXEC_Linux = 0x80000;
    private const int O_CLOEXEC_Mac = 0x1000000;
    private const int EINTR = 4;

    /// <summary>
    /// Flushes a directory's entries to disk (after a rename inside it). Returns false when the platform has no way to
    /// do it; throws <see cref="IOException"/> when the system call fails.
    /// </summary>
    public static bool FsyncDirectory(string path)
    {
        int fd;
        try
        {
            if (OperatingSystem.IsLinux()) fd = Linux.open(path, O_RDONLY | O_CLOEXEC_Linux);
            else if (OperatingSystem.IsMacOS()) fd = Mac.open(path, O_RDONLY | O_CLOEXEC_Mac);
            else return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // a libc we do not know (musl): the rename is still atomic, only its durability is the OS's.
        }
        if (fd < 0) throw new IOException($"Cannot open folder {path} to flush it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            int rc;
            do rc = OperatingSystem.IsLinux() ? Linux.fsync(fd) : Mac.fsync(fd);
            while (rc < 0 && Marshal.GetLastPInvokeError() == EINTR);
            if (rc < 0) throw new IOException($"Cannot flush folder {path} to disk (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = OperatingSystem.IsLinux() ? Linux.close(fd) : Mac.close(fd);
        }
        return true;
    }

    /// <summary>
    /// Allocates disk blocks for <paramref name="length"/> bytes of an open file without changing existing data.
    /// Returns 0 on success, an errno on failure, or -1 when the platform has no posix_fallocate.
    /// </summary>
    public static int Allocate(SafeFileHandle handle, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return -1;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int rc;
            // posix_fallocate returns the error number instead of setting errno.
            do rc = Linux.posix_fallocate64(fd, 0, length);
            while (rc == EINTR);
            return rc;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Gives the file at <paramref name="existingPath"/> a second name, <paramref name="newPath"/> (link(2)): atomic,
    /// never replaces an existing entry, and needs both names on one file system. Returns 0 on success, the errno on
    /// failure (<see cref="EEXIST"/>: the new name is taken; EXDEV: another file system; others: the file system cannot),
    /// or -1 where the platform has no link(2) here.
    /// </summary>
    public static int Link(string existingPath, string newPath)
    {
        try
        {
            int rc;
            if (OperatingSystem.IsLinux()) rc = Linux.link(existingPath, newPath);
            else if (OperatingSystem.IsMacOS()) rc = Mac.link(existingPath, newPath);
            else return -1;
            return rc == 0 ? 0 : Math.Max(1, Marshal.GetLastPInvokeError());
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    private const int SEEK_DATA = 3, SEEK_HOLE = 4, ENXIO = 6;

    /// <summary>
    /// The regions of an open file that hold data (lseek SEEK_DATA/SEEK_HOLE), as (start, end) pairs, in order;
    /// null where the platform cannot tell (not Linux). A file system without hole support reports one region covering
    /// the whole file, so the answer is never smaller than the truth.
    /// </summary>
    public static List<(long Start, long End)>? DataRegions(SafeFileHandle handle, long length)
    {
        if (!OperatingSystem.IsLinux()) return null;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            var regions = new List<(long, long)>();
            long at = 0;
            while (at < length)
            {
                long data = Linux.lseek(fd, at, SEEK_DATA);
                if (data < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == ENXIO) break; // no data from here to the end
                    return null;
                }
                if (data >= length) break;
                long hole = Linux.lseek(fd, data, SEEK_HOLE);
                if (hole < 0) return null;
                regions.Add((data, Math.Min(hole, length)));
                at = hole;
            }
            return regions;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>errno of link(2) when the new name exists (the same on Linux and macOS).</summary>
    public const int EEXIST = 17;

    private static partial class Linux
    {
        [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int open(string path, int flags);

        [LibraryImport("libc.so.6", EntryPoint = "fsync", SetLastError = true)]
        internal static partial int fsync(int fd);

        [LibraryImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
        internal static partial int close(int fd);

        [LibraryImport("libc.so.6", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int link(string existing, string created);

        [LibraryImport("libc.so.6", EntryPoint = "lseek64", SetLastError = true)]
        internal static partial long lseek(int fd, long offset, int whence);

        [LibraryImport("libc.so.6", EntryPoint = "posix_fallocate64")]
        internal static partial int posix_fallocate64(int fd, long offset, long length);
    }

    private static partial class Mac
    {
        [LibraryImport("/usr/lib/libSystem.dylib", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int open(string path, int flags);

        [LibraryImport("/usr/lib/libSystem.dylib", EntryPoint = "fsync", SetLastError = true)]
        internal static partial int fsync(int fd);

        [LibraryImport("/usr/lib/libSystem.dylib", EntryPoint = "close", SetLastError = true)]
        internal static partial int close(int fd);

        [LibraryImport("/usr/lib/libSystem.dylib", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int link(string existing, string created);
    }
}
