using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

/// <summary>
/// Disk full and read-only file systems are real: a small (or read-only) tmpfs is mounted for the test (tests run as
/// root on Linux). Where mounting is impossible the same error path is proven with the errno .NET would report.
/// Permission checks do not bind root, so "permission denied" is proven through the mapping of the framework's
/// exception, and the real "something in the way" cases are tested on disk.
/// </summary>
public class StorageErrorTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly FileStorageFactory _factory = new();

    public void Dispose()
    {
        _factory.Dispose();
        _tmp.Dispose();
    }

    [Fact]
    public async Task Disk_full_while_writing_is_a_clear_error()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("small"), "size=256k");
        if (mount is null)
        {
            AssertDiskFull(StorageErrors.Map(new IOException("No space left on device : '/x'", 28), "/x", "writing"), "/x");
            return;
        }
        var ctx = StorageTestData.Context(mount.Path, ("t/big", 4 * 1024 * 1024, false), ("t/other", 10, false));
        await using var storage = _factory.Open(ctx);
        var chunk = new byte[64 * 1024];
        Exception? error = null;
        for (long offset = 0; offset < 4 * 1024 * 1024 && error is null; offset += chunk.Length)
        {
            try { await storage.WriteAsync(0, offset, chunk, default); }
            catch (Exception e) { error = e; }
        }
        var path = Path.Combine(mount.Path, "t", "big");
        AssertDiskFull(error, path);

        // The storage still works for what fits: the rest of the torrent keeps running.
        await using var again = _factory.Open(ctx);
        Assert.Equal(1024, await again.ReadAsync(0, 0, new byte[1024], default));
    }

    [Fact]
    public async Task Disk_full_while_preallocating_is_a_clear_error()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("small"), "size=256k");
        if (mount is null)
        {
            AssertDiskFull(StorageErrors.Map(new IOException("Failed to create '/x' with allocation size '1' because the disk was full."), "/x", "allocating"), "/x");
            return;
        }
        var ctx = StorageTestData.Context(mount.Path, ("big", 4 * 1024 * 1024, false));
        await using var storage = _factory.Open(ctx);
        AssertDiskFull(await Record(async () => await storage.PrepareAsync(0, preallocate: true, default)), Path.Combine(mount.Path, "big"));
    }

    [Fact]
    public async Task Writing_to_a_read_only_file_system_is_a_clear_error()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("ro"), "ro,size=64k");
        if (mount is null)
        {
            var mapped = Assert.IsType<StorageIOException>(StorageErrors.Map(new IOException("Read-only file system", 30), "/x", "creating"));
            Assert.Equal(StorageErrorKind.ReadOnlyFileSystem, mapped.Kind);
            return;
        }
        var ctx = StorageTestData.Context(mount.Path, ("f", 10, false));
        await using var storage = _factory.Open(ctx);
        var e = Assert.IsType<StorageIOException>(await Record(async () => await storage.WriteAsync(0, 0, new byte[10], default)));
        Assert.Equal(StorageErrorKind.ReadOnlyFileSystem, e.Kind);
        Assert.Equal($"Read-only file system: cannot write {Path.Combine(mount.Path, "f")}", e.Message);
        Assert.Equal(0, await storage.ReadAsync(0, 0, new byte[10], default)); // reading a missing file is still fine
    }

    [Fact]
    public void Permission_denied_is_named_with_the_path()
    {
        var e = Assert.IsType<StorageIOException>(
            StorageErrors.Map(new UnauthorizedAccessException("Access to the path '/x/f' is denied."), "/x/f", "writing"));
        Assert.Equal(StorageErrorKind.PermissionDenied, e.Kind);
        Assert.Equal("Permission denied while writing /x/f", e.Message);
        Assert.IsType<UnauthorizedAccessException>(e.InnerException);
    }

    [Fact]
    public async Task A_folder_where_a_file_should_be_is_a_clear_error()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/f", 10, false));
        Directory.CreateDirectory(_tmp.Sub("dl", "t", "f"));
        await using var storage = _factory.Open(ctx);
        var e = Assert.IsType<StorageIOException>(await Record(async () => await storage.WriteAsync(0, 0, new byte[10], default)));
        Assert.Equal(StorageErrorKind.PathBlocked, e.Kind);
        Assert.Contains("a folder with that name is in the way", e.Message);
        Assert.False((await storage.ProbeAsync(0, default)).Exists);
        Assert.Equal(StorageErrorKind.PathBlocked,
            Assert.IsType<StorageIOException>(await Record(async () => await storage.PrepareAsync(0, false, default))).Kind);
    }

    [Fact]
    public async Task A_file_where_a_folder_should_be_is_a_clear_error()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/sub/f", 10, false));
        Directory.CreateDirectory(_tmp.Sub("dl", "t"));
        File.WriteAllText(_tmp.Sub("dl", "t", "sub"), "a file");
        await using var storage = _factory.Open(ctx);
        var e = Assert.IsType<StorageIOException>(await Record(async () => await storage.WriteAsync(0, 0, new byte[10], default)));
        Assert.Equal(StorageErrorKind.PathBlocked, e.Kind);
        Assert.Contains($"{_tmp.Sub("dl", "t", "sub")} is a file, not a folder", e.Message);
        Assert.Equal(0, await storage.ReadAsync(0, 0, new byte[10], default));
    }

    private static void AssertDiskFull(Exception? error, string path)
    {
        var e = Assert.IsType<StorageIOException>(error);
        Assert.Equal(StorageErrorKind.DiskFull, e.Kind);
        Assert.StartsWith("No space left on device while ", e.Message);
        Assert.EndsWith(path, e.Message);
    }

    private static async Task<Exception?> Record(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
