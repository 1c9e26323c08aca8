using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

public class FileStorageSwitchTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly FileStorageFactory _factory = new();

    public void Dispose()
    {
        _factory.Dispose();
        _tmp.Dispose();
    }

    [Fact]
    public async Task Reads_and_writes_issued_during_a_rename_wait_for_it_and_use_the_new_paths()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/a", 1000, false), ("t/b", 10, false));
        await using var storage = _factory.OpenFileStorage(ctx);
        var data = StorageTestData.Random(1000, 1);
        await storage.WriteAsync(0, 0, data, default);
        var renamedOnDisk = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new ManualResetEventSlim();

        var switching = Task.Run(() => storage.ChangeLocationAsync(_tmp.Sub("dl"), ["t/renamed", "t/b"], () =>
        {
            File.Move(_tmp.Sub("dl", "t", "a"), _tmp.Sub("dl", "t", "renamed"));
            renamedOnDisk.SetResult();
            Assert.True(release.Wait(TimeSpan.FromSeconds(30)));
        }, null));
        await renamedOnDisk.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The file is no longer at its old path: a read that did not wait would find nothing there (0 bytes), and a
        // write that did not wait would create a new file at the old path.
        var buffer = new byte[1000];
        var read = storage.ReadAsync(0, 0, buffer, default).AsTask();
        var write = storage.WriteAsync(0, 0, data.AsMemory(0, 10), default).AsTask();
        var probe = storage.ProbeAsync(0, default).AsTask();
        release.Set();

        Assert.True(await switching.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1000, await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(data, buffer);
        await write.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1000, (await probe.WaitAsync(TimeSpan.FromSeconds(30))).Length);
        Assert.False(File.Exists(_tmp.Sub("dl", "t", "a")));
        Assert.Equal(_tmp.Sub("dl", "t", "renamed"), storage.GetFullPath(0));
        Assert.Equal("t/renamed", storage.Files[0].Path);
    }

    [Fact]
    public async Task A_veto_after_the_drain_keeps_the_old_location_and_a_failing_disk_step_too()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/a", 10, false));
        await using var storage = _factory.OpenFileStorage(ctx);
        long before = storage.WriteCount;
        await storage.WriteAsync(0, 0, new byte[10], default);
        Assert.Equal(before + 1, storage.WriteCount);

        Assert.False(await storage.ChangeLocationAsync(_tmp.Sub("new"), null, () => throw new InvalidOperationException("must not run"),
            () => storage.WriteCount == before));
        Assert.Equal(Path.GetFullPath(_tmp.Sub("dl")), storage.SaveDirectory);

        await Assert.ThrowsAsync<IOException>(() => storage.ChangeLocationAsync(_tmp.Sub("new"), null, () => throw new IOException("disk step failed"), null));
        Assert.Equal(Path.GetFullPath(_tmp.Sub("dl")), storage.SaveDirectory);
        Assert.Equal(10, await storage.ReadAsync(0, 0, new byte[10], default)); // and it still works

        Assert.True(await storage.ChangeLocationAsync(_tmp.Sub("new"), null, null, () => true));
        Assert.Equal(Path.GetFullPath(_tmp.Sub("new", "t", "a")), storage.GetFullPath(0));
    }

    [Fact]
    public async Task New_paths_that_leave_the_folder_or_collide_are_refused_before_anything_runs()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/a", 10, false), ("t/b", 10, false));
        await using var storage = _factory.OpenFileStorage(ctx);
        bool ran = false;
        await Assert.ThrowsAsync<StorageIOException>(() => storage.ChangeLocationAsync(_tmp.Sub("dl"), ["../a", "t/b"], () => ran = true, null));
        await Assert.ThrowsAsync<StorageIOException>(() => storage.ChangeLocationAsync(_tmp.Sub("dl"), ["t/b", "t/b"], () => ran = true, null));
        Assert.False(ran);
        Assert.Equal("t/a", storage.Files[0].Path);
    }
}
