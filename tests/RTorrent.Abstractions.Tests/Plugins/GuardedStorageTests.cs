using RTorrent.Engine.Plugins;

namespace RTorrent.Abstractions.Tests.Plugins;

public sealed class GuardedStorageTests(LoadedFaultyComponents plugins) : IClassFixture<LoadedFaultyComponents>
{
    private static readonly StorageContext Context = new("/tmp/unused", [new(0, "t/a.bin", 1000, false), new(1, "t/.pad/1", 24, true)], new string('a', 40));

    private GuardedStorage Open(string name, PluginGuardOptions? options = null) =>
        GuardedStorage.Open(plugins.Storage(name), name, Context, options);

    [Fact]
    public async Task A_storage_error_faults_the_storage_for_good_and_is_never_redirected()
    {
        await using var storage = Open("throwing-storage");
        var raised = new List<ComponentFault>();
        storage.Faulted += (_, f) => raised.Add(f);

        var first = await Assert.ThrowsAsync<StorageFaultedException>(() => storage.WriteAsync(0, 0, new byte[10], CancellationToken.None).AsTask());
        Assert.Equal("storage 'throwing-storage' failed writing t/a.bin: No space left on device", first.Message);
        Assert.IsType<IOException>(first.InnerException);
        Assert.True(storage.IsFaulted);

        // Every later call fails with the same reason, reads included, without reaching the plugin.
        var later = await Assert.ThrowsAsync<StorageFaultedException>(() => storage.ReadAsync(0, 0, new byte[10], CancellationToken.None).AsTask());
        Assert.Equal(first.Message, later.Message);
        Assert.Equal("throwing-storage", later.ComponentName);
        Assert.Single(raised);
    }

    [Fact]
    public async Task A_storage_that_hangs_times_out_and_faults()
    {
        await using var storage = Open("hanging-storage", new PluginGuardOptions { StorageCallTimeout = TimeSpan.FromMilliseconds(200) });

        var e = await Assert.ThrowsAsync<StorageFaultedException>(() => storage.ReadAsync(0, 0, new byte[10], CancellationToken.None).AsTask());

        Assert.Contains("did not finish reading t/a.bin within 200 ms", e.Message);
        Assert.Equal(ComponentKind.Storage, storage.Fault!.Kind);
    }

    [Fact]
    public async Task A_storage_that_claims_more_bytes_than_asked_faults()
    {
        await using var storage = Open("nonsense-storage");

        var e = await Assert.ThrowsAsync<StorageFaultedException>(() => storage.ReadAsync(0, 0, new byte[10], CancellationToken.None).AsTask());

        Assert.Contains("returned 20 bytes for a read of 10", e.Message);
    }

    [Fact]
    public async Task Bad_arguments_are_engine_bugs_and_do_not_fault_the_storage()
    {
        await using var storage = Open("nonsense-storage");

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.WriteAsync(2, 0, new byte[1], CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => storage.WriteAsync(1, 0, new byte[1], CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.WriteAsync(0, 995, new byte[10], CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.ReadAsync(0, -1, new byte[10], CancellationToken.None).AsTask());

        Assert.False(storage.IsFaulted);
        await storage.WriteAsync(0, 990, new byte[10], CancellationToken.None);
    }

    [Fact]
    public void A_factory_that_cannot_open_fails_with_a_storage_fault()
    {
        var e = Assert.Throws<StorageFaultedException>(() => GuardedStorage.Open(new ThrowingFactory(), "broken", Context));
        Assert.Equal("storage 'broken' could not be opened: Permission denied: /downloads", e.Message);
    }

    private sealed class ThrowingFactory : IStorageFactory
    {
        public string Name => "broken";
        public string Version => "1";
        public string Description => "";
        public ITorrentStorage Open(StorageContext context) => throw new UnauthorizedAccessException("Permission denied: /downloads");
    }
}
