using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

public class PathSafetyTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly FileStorageFactory _factory = new();

    public PathSafetyTests()
    {
        Directory.CreateDirectory(_tmp.Sub("dl"));
        Directory.CreateDirectory(_tmp.Sub("outside"));
    }

    public void Dispose()
    {
        _factory.Dispose();
        _tmp.Dispose();
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("t/../../escape")]
    [InlineData("t/..")]
    [InlineData("/etc/passwd")]
    [InlineData("\\server\\share")]
    [InlineData("t\\..\\..\\escape")]
    [InlineData("")]
    public void Paths_leaving_the_folder_are_refused_when_the_storage_opens(string path)
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("ok", 1, false), (path, 10, false));
        var e = Assert.Throws<StorageIOException>(() => _factory.Open(ctx));
        Assert.Equal(StorageErrorKind.OutsideDownloadFolder, e.Kind);
        Assert.Contains("Refusing", e.Message);
    }

    [Fact]
    public void Two_files_at_the_same_path_are_refused()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/a", 1, false), ("t/./a", 1, false));
        Assert.Equal(StorageErrorKind.PathBlocked, Assert.Throws<StorageIOException>(() => _factory.Open(ctx)).Kind);
    }

    [Fact]
    public async Task A_symlinked_folder_pointing_outside_cannot_redirect_any_operation()
    {
        File.WriteAllText(_tmp.Sub("outside", "f"), "secret");
        File.CreateSymbolicLink(_tmp.Sub("dl", "t"), _tmp.Sub("outside"));
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/f", 6, false), ("t/new", 6, false));
        await using var storage = _factory.Open(ctx);

        await AssertOutside(async () => await storage.WriteAsync(1, 0, "hacked"u8.ToArray(), default));
        await AssertOutside(async () => await storage.WriteAsync(0, 0, "hacked"u8.ToArray(), default));
        await AssertOutside(async () => await storage.ReadAsync(0, 0, new byte[6], default)); // would leak it to peers
        await AssertOutside(async () => await storage.PrepareAsync(1, false, default));
        await AssertOutside(async () => await storage.ProbeAsync(0, default));
        await AssertOutside(async () => await storage.DeleteAsync(default));
        await AssertOutside(async () => await storage.MoveAsync(_tmp.Sub("elsewhere"), default));

        Assert.Equal("secret", File.ReadAllText(_tmp.Sub("outside", "f")));
        Assert.False(File.Exists(_tmp.Sub("outside", "new")));
    }

    [Fact]
    public async Task A_file_that_is_a_symlink_to_outside_is_refused()
    {
        File.WriteAllText(_tmp.Sub("outside", "target"), "secret");
        File.CreateSymbolicLink(_tmp.Sub("dl", "f"), _tmp.Sub("outside", "target"));
        File.CreateSymbolicLink(_tmp.Sub("dl", "dangling"), _tmp.Sub("outside", "not-yet"));
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("f", 6, false), ("dangling", 6, false));
        await using var storage = _factory.Open(ctx);
        await AssertOutside(async () => await storage.WriteAsync(0, 0, "hacked"u8.ToArray(), default));
        await AssertOutside(async () => await storage.WriteAsync(1, 0, "hacked"u8.ToArray(), default));
        Assert.Equal("secret", File.ReadAllText(_tmp.Sub("outside", "target")));
        Assert.False(File.Exists(_tmp.Sub("outside", "not-yet")));

        // Deleting removes the links themselves, never their targets.
        await storage.DeleteAsync(default);
        Assert.False(File.Exists(_tmp.Sub("dl", "f")));
        Assert.Equal("secret", File.ReadAllText(_tmp.Sub("outside", "target")));
    }

    [Fact]
    public async Task A_sibling_folder_sharing_the_name_prefix_is_outside()
    {
        Directory.CreateDirectory(_tmp.Sub("dl2"));
        File.CreateSymbolicLink(_tmp.Sub("dl", "t"), "../dl2"); // relative target
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/f", 1, false));
        await using var storage = _factory.Open(ctx);
        await AssertOutside(async () => await storage.WriteAsync(0, 0, new byte[1], default));
        Assert.Empty(Directory.GetFileSystemEntries(_tmp.Sub("dl2")));
    }

    [Fact]
    public async Task Links_that_stay_inside_and_a_linked_download_folder_are_allowed()
    {
        Directory.CreateDirectory(_tmp.Sub("dl", "real"));
        File.CreateSymbolicLink(_tmp.Sub("dl", "t"), "real");
        File.CreateSymbolicLink(_tmp.Sub("dl-link"), _tmp.Sub("dl"));
        var ctx = StorageTestData.Context(_tmp.Sub("dl-link"), ("t/f", 3, false));
        await using var storage = _factory.Open(ctx);
        await storage.WriteAsync(0, 0, "abc"u8.ToArray(), default);
        Assert.Equal("abc", File.ReadAllText(_tmp.Sub("dl", "real", "f")));
    }

    [Fact]
    public async Task A_symlink_loop_is_an_error_not_a_hang()
    {
        File.CreateSymbolicLink(_tmp.Sub("dl", "loop"), _tmp.Sub("dl", "loop2"));
        File.CreateSymbolicLink(_tmp.Sub("dl", "loop2"), _tmp.Sub("dl", "loop"));
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("loop/f", 1, false));
        await using var storage = _factory.Open(ctx);
        await AssertOutside(async () => await storage.WriteAsync(0, 0, new byte[1], default));
    }

    [Fact]
    public void Containment_respects_the_separator_boundary()
    {
        Assert.True(PathGuard.IsStrictlyInside("/data", "/data/x"));
        Assert.False(PathGuard.IsStrictlyInside("/data", "/database"));
        Assert.False(PathGuard.IsStrictlyInside("/data", "/data"));
        Assert.True(PathGuard.IsStrictlyInside("/", "/x"));
        Assert.True(PathGuard.IsStrictlyInside("/data/", "/data/x"));
    }

    private static async Task AssertOutside(Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<StorageIOException>(action);
        Assert.Equal(StorageErrorKind.OutsideDownloadFolder, e.Kind);
    }
}
