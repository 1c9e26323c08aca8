using Microsoft.Win32.SafeHandles;
using RTorrent.Abstractions;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

public class HandleCacheTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private SafeFileHandle Open(string path, bool write) =>
        File.OpenHandle(path, write ? FileMode.OpenOrCreate : FileMode.Open, write ? FileAccess.ReadWrite : FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete);

    [Fact]
    public void Evicting_a_handle_in_use_keeps_it_open_until_released()
    {
        using var cache = new FileHandleCache(2);
        var owner = new object();
        var a = cache.Acquire(owner, 0, _tmp.Sub("a"), true, Open);
        var handleA = a.Handle;
        using (cache.Acquire(owner, 1, _tmp.Sub("b"), true, Open)) { }
        using (cache.Acquire(owner, 2, _tmp.Sub("c"), true, Open)) { } // evicts a (least recently used) while in use

        Assert.False(handleA.IsClosed);
        RandomAccess.Write(handleA, "still works"u8, 0);
        Assert.Equal(3, cache.OpenCount); // two cached + one retired in use
        a.Dispose();
        Assert.True(handleA.IsClosed);
        Assert.Equal(2, cache.OpenCount);
        Assert.Equal("still works", File.ReadAllText(_tmp.Sub("a")));
    }

    [Fact]
    public void Least_recently_used_is_evicted_first_and_idle_handles_close_at_once()
    {
        using var cache = new FileHandleCache(2);
        var owner = new object();
        SafeFileHandle a, b;
        using (var l = cache.Acquire(owner, 0, _tmp.Sub("a"), true, Open)) a = l.Handle;
        using (var l = cache.Acquire(owner, 1, _tmp.Sub("b"), true, Open)) b = l.Handle;
        using (var l = cache.Acquire(owner, 0, _tmp.Sub("a"), false, Open)) Assert.Same(a, l.Handle); // touch a; a writable handle serves reads
        using (cache.Acquire(owner, 2, _tmp.Sub("c"), true, Open)) { }
        Assert.True(b.IsClosed);
        Assert.False(a.IsClosed);
        cache.CloseOwner(owner);
        Assert.True(a.IsClosed);
        Assert.Equal(0, cache.OpenCount);
    }

    [Fact]
    public void A_read_only_handle_is_upgraded_once_on_the_first_write()
    {
        File.WriteAllText(_tmp.Sub("f"), "x");
        using var cache = new FileHandleCache(4);
        var owner = new object();
        int opens = 0;
        SafeFileHandle Counting(string p, bool w) { opens++; return Open(p, w); }
        SafeFileHandle readOnly;
        using (var l = cache.Acquire(owner, 0, _tmp.Sub("f"), false, Counting)) { readOnly = l.Handle; Assert.False(l.Writable); }
        using (var l = cache.Acquire(owner, 0, _tmp.Sub("f"), true, Counting)) Assert.True(l.Writable);
        using (cache.Acquire(owner, 0, _tmp.Sub("f"), true, Counting)) { }
        using (cache.Acquire(owner, 0, _tmp.Sub("f"), false, Counting)) { }
        Assert.Equal(2, opens);
        Assert.True(readOnly.IsClosed);
    }

    [Fact]
    public async Task Many_files_through_a_tiny_cache_under_concurrent_reads_and_writes_stay_correct()
    {
        const int files = 24, fileLength = 64 * 1024, block = 4096;
        using var factory = new FileStorageFactory(new FileStorageOptions { MaxOpenFiles = 3 });
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), [.. Enumerable.Range(0, files).Select(i => ($"t/f{i}", (long)fileLength, false))]);
        await using var storage = factory.Open(ctx);
        var io = new PieceIO(storage, new FileLayout(ctx.Files, block));
        var data = StorageTestData.Random(files * fileLength, 5);

        // Every block written by one of 8 workers in a shuffled order, each write verified by an immediate read-back
        // that may hit a handle another worker is evicting.
        var order = Enumerable.Range(0, io.Layout.PieceCount).OrderBy(_ => Random.Shared.Next()).ToArray();
        int next = -1;
        var maxOpen = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var back = new byte[block];
            int i;
            while ((i = Interlocked.Increment(ref next)) < order.Length)
            {
                int p = order[i];
                await io.WritePieceAsync(p, data.AsMemory(p * block, block));
                Assert.Equal(block, await io.ReadAsync((long)p * block, back));
                Assert.True(back.AsSpan().SequenceEqual(data.AsSpan(p * block, block)));
                int open = factory.OpenHandleCount;
                int seen;
                while (open > (seen = Volatile.Read(ref maxOpen)) && Interlocked.CompareExchange(ref maxOpen, open, seen) != seen) { }
            }
        })));

        await storage.FlushAsync(default);
        Assert.True(factory.OpenHandleCount <= 3);
        Assert.True(maxOpen <= 3 + 8, $"at most capacity + handles in use, saw {maxOpen}");
        var all = new byte[data.Length];
        Assert.Equal(data.Length, await io.ReadAsync(0, all));
        Assert.Equal(data, all);
    }

    [Fact]
    public async Task Storages_of_one_factory_share_the_handle_limit_and_close_their_own_handles()
    {
        using var factory = new FileStorageFactory(new FileStorageOptions { MaxOpenFiles = 2 });
        var one = factory.Open(StorageTestData.Context(_tmp.Sub("one"), ("a", 1, false), ("b", 1, false)));
        var two = factory.Open(StorageTestData.Context(_tmp.Sub("two"), ("a", 1, false)));
        await one.WriteAsync(0, 0, new byte[1], default);
        await one.WriteAsync(1, 0, new byte[1], default);
        await two.WriteAsync(0, 0, new byte[1], default);
        Assert.Equal(2, factory.OpenHandleCount);
        await two.DisposeAsync();
        Assert.Equal(1, factory.OpenHandleCount);
        await one.DisposeAsync();
        Assert.Equal(0, factory.OpenHandleCount);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await one.WriteAsync(0, 0, new byte[1], default));
    }
}
