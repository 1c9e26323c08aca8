using RTorrent.Plugins.Conformance;
using RTorrent.Plugins.MemoryStorage;

namespace RTorrent.Abstractions.Tests.Samples;

public sealed class MemoryStorageTests
{
    private static StorageContext Context(long length, string hash = "0123456789012345678901234567890123456789") =>
        new("/downloads", [new(0, "t/a.bin", length, false), new(1, "t/b.bin", 10, false)], hash);

    [Fact]
    public Task It_passes_the_storage_round_trip() => StorageConformance.RoundTripAsync(new MemoryStorageFactory());

    [Fact]
    public Task It_passes_the_round_trip_with_tiny_chunks() =>
        StorageConformance.RoundTripAsync(new MemoryStorageFactory(new MemoryStorageOptions { ChunkSize = 1000 }));

    [Fact]
    public async Task Writes_past_the_cap_fail_with_a_clear_IOException_and_the_cap_is_shared_by_all_torrents()
    {
        var factory = new MemoryStorageFactory(new MemoryStorageOptions { CapBytes = 3 * 1024, ChunkSize = 1024 });
        await using var first = factory.Open(Context(10_000, new string('1', 40)));
        await using var second = factory.Open(Context(10_000, new string('2', 40)));

        await first.WriteAsync(0, 0, new byte[2048], CancellationToken.None);
        await second.WriteAsync(0, 0, new byte[1024], CancellationToken.None);
        var e = await Assert.ThrowsAsync<IOException>(() => second.WriteAsync(0, 5000, new byte[10], CancellationToken.None).AsTask());

        Assert.StartsWith("memory storage cap of 3072 bytes reached", e.Message);
        Assert.Equal(3072, factory.AllocatedBytes);
        // Deleting a torrent gives its memory back.
        await first.DeleteAsync(CancellationToken.None);
        Assert.Equal(1024, factory.AllocatedBytes);
        await second.WriteAsync(0, 5000, new byte[10], CancellationToken.None);
    }

    [Fact]
    public async Task Memory_is_allocated_in_chunks_as_data_arrives_not_up_front()
    {
        var factory = new MemoryStorageFactory(new MemoryStorageOptions { ChunkSize = 64 * 1024 });
        await using var storage = factory.Open(Context(100L * 1024 * 1024 * 1024)); // 100 GiB torrent

        await storage.PrepareAsync(0, preallocate: false, CancellationToken.None);
        Assert.Equal(0, factory.AllocatedBytes);
        await storage.WriteAsync(0, 50L * 1024 * 1024 * 1024, new byte[16384], CancellationToken.None);

        Assert.Equal(64 * 1024, factory.AllocatedBytes);
        var state = await storage.ProbeAsync(0, CancellationToken.None);
        Assert.Equal(100L * 1024 * 1024 * 1024, state.Length);
    }

    [Fact]
    public async Task A_file_exists_once_written_with_the_length_written_so_far_and_unwritten_bytes_read_as_zero()
    {
        var factory = new MemoryStorageFactory();
        await using var storage = factory.Open(Context(1000));

        Assert.False((await storage.ProbeAsync(0, CancellationToken.None)).Exists);
        await Assert.ThrowsAsync<FileNotFoundException>(() => storage.ReadAsync(0, 0, new byte[1], CancellationToken.None).AsTask());
        await storage.WriteAsync(0, 500, new byte[] { 1, 2, 3 }, CancellationToken.None);

        var state = await storage.ProbeAsync(0, CancellationToken.None);
        Assert.True(state.Exists);
        Assert.Equal(503, state.Length);
        Assert.NotNull(state.LastWriteUtc);
        var buffer = new byte[10];
        Assert.Equal(5, await storage.ReadAsync(0, 498, buffer, CancellationToken.None));
        Assert.Equal(new byte[] { 0, 0, 1, 2, 3 }, buffer[..5]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.WriteAsync(0, 999, new byte[2], CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Preallocating_reserves_the_whole_file_against_the_cap_at_once()
    {
        var factory = new MemoryStorageFactory(new MemoryStorageOptions { CapBytes = 5000, ChunkSize = 1024 });
        await using var storage = factory.Open(Context(4000));

        await storage.PrepareAsync(0, preallocate: true, CancellationToken.None);
        Assert.Equal(4000, factory.AllocatedBytes); // the last chunk is only as long as the file needs
        await Assert.ThrowsAsync<IOException>(() => factory.Open(Context(4000, new string('9', 40))).PrepareAsync(0, true, CancellationToken.None).AsTask());
    }

    [Fact]
    public void The_cap_setting_comes_from_the_host()
    {
        Assert.Equal(MemoryStorageOptions.DefaultCapBytes, MemoryStorageOptions.FromHost(new FakeHost()).CapBytes);
        Assert.Equal(123, MemoryStorageOptions.FromHost(new FakeHost(new() { ["memory.cap-bytes"] = "123" })).CapBytes);
        var host = new FakeHost(new() { ["memory.cap-bytes"] = "-5" });
        Assert.Equal(MemoryStorageOptions.DefaultCapBytes, MemoryStorageOptions.FromHost(host).CapBytes);
        Assert.Single(host.Lines);
    }
}
