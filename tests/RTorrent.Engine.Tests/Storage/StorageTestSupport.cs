using System.Diagnostics;
using RTorrent.Abstractions;
using RTorrent.Engine.Storage;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Storage;

/// <summary>A temporary folder deleted on dispose (mounts inside it are unmounted first by their owners).</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "rt-storage") => Path = TestPaths.NewTempDir(prefix);

    public string Path { get; }

    public string Sub(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Deletes a folder created outside the temp folder on dispose.</summary>
internal sealed class TempDirAt(string path) : IDisposable
{
    public void Dispose()
    {
        try { Directory.Delete(path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>
/// A size-limited tmpfs mounted for one test (the tests run as root on Linux). <see cref="TryMount"/> returns null
/// where mounting is impossible, and the caller then proves the error path with a synthetic error instead.
/// </summary>
internal sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static TmpfsMount? TryMount(string path, string options)
    {
        if (!OperatingSystem.IsLinux()) return null;
        Directory.CreateDirectory(path);
        return Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path) == 0 ? new TmpfsMount(path) : null;
    }

    public void Dispose()
    {
        if (Run("umount", Path) != 0) Run("umount", "-l", Path);
    }

    internal static int Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            if (!p.WaitForExit(10_000))
            {
                p.Kill();
                p.WaitForExit();
                return -1;
            }
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // the program is not installed
        }
    }
}

internal static class StorageTestData
{
    public static StorageContext Context(string root, params (string Path, long Length, bool Pad)[] files) =>
        new(root, [.. files.Select((f, i) => new StorageFile(i, f.Path, f.Length, f.Pad))], new string('a', 40));

    public static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Blocks actually allocated to a file, in bytes (stat's st_blocks * 512), or -1 where unknown.</summary>
    public static long AllocatedBytes(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%b", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(10_000)) { p.Kill(); return -1; }
        return long.TryParse(output.Trim(), out var blocks) ? blocks * 512 : -1;
    }
}
