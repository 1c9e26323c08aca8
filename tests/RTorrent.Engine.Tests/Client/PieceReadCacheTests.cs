using System.Buffers;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The pieces read for serving: one read per piece however many ask, least recently used out first, failures reported
/// once. Reads are fakes the test completes; callbacks run on a real loop.
/// </summary>
public sealed class PieceReadCacheTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly EngineLoop _loop = new("read-cache-test");
    private readonly Dictionary<int, TaskCompletionSource<TaskCompletionSource<byte[]>>> _reads = [];
    private readonly List<int> _readOrder = [];

    /// <summary>Completes with the read of <paramref name="piece"/> once the cache has started it (reads run on the pool).</summary>
    private Task<TaskCompletionSource<byte[]>> ReadStarted(int piece)
    {
        lock (_reads)
        {
            if (!_reads.TryGetValue(piece, out var started))
                _reads[piece] = started = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return started.Task;
        }
    }

    public void Dispose() => _loop.Dispose();

    private ValueTask<byte[]> Read(int piece, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        ct.Register(() => tcs.TrySetCanceled(ct));
        lock (_reads) _readOrder.Add(piece);
        _ = ReadStarted(piece);
        lock (_reads) _reads[piece].TrySetResult(tcs);
        return new ValueTask<byte[]>(tcs.Task);
    }

    private static byte[] Filled(int length, byte value)
    {
        var b = ArrayPool<byte>.Shared.Rent(length);
        b.AsSpan(0, length).Fill(value);
        return b;
    }

    /// <summary>Starts loading <paramref name="piece"/> on the loop; the task completes with what its callback got.</summary>
    private Task<bool> LoadAsync(PieceReadCache cache, int piece, int length, List<Exception>? errors = null, CancellationToken ct = default)
    {
        var loaded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Post(() => cache.Load(piece, Read, length, _loop, ok => loaded.TrySetResult(ok), e => errors?.Add(e), ct));
        return loaded.Task;
    }

    private async Task CompleteReadAsync(int piece, byte[] data) => (await ReadStarted(piece).WaitAsync(Bound)).SetResult(data);

    [Fact]
    public async Task A_piece_asked_for_twice_while_loading_is_read_once_and_both_hear_it()
    {
        var cache = new PieceReadCache(1 << 20);
        var first = LoadAsync(cache, 4, 100);
        var second = LoadAsync(cache, 4, 100);
        Assert.Equal(1, await _loop.InvokeAsync(() => cache.LoadingCount));
        Assert.True(await _loop.InvokeAsync(() => cache.IsLoading(4)));
        await CompleteReadAsync(4, Filled(100, 7));

        Assert.True(await first.WaitAsync(Bound));
        Assert.True(await second.WaitAsync(Bound));
        Assert.Equal([4], _readOrder);
        var (found, bytes, data) = await _loop.InvokeAsync(() =>
        {
            bool f = cache.TryGet(4, out var d);
            return (f, cache.Bytes, d.ToArray());
        });
        Assert.True(found);
        Assert.Equal(100, bytes);
        Assert.Equal(Enumerable.Repeat((byte)7, 100), data);
        Assert.Equal(0, await _loop.InvokeAsync(() => cache.LoadingCount));
    }

    [Fact]
    public async Task The_least_recently_used_piece_makes_room()
    {
        var cache = new PieceReadCache(250);
        foreach (int piece in new[] { 1, 2 })
        {
            var load = LoadAsync(cache, piece, 100);
            await CompleteReadAsync(piece, Filled(100, (byte)piece));
            Assert.True(await load.WaitAsync(Bound));
        }
        await _loop.InvokeAsync(() => cache.TryGet(1, out _)); // 1 is now the most recently used
        var third = LoadAsync(cache, 3, 100);
        await CompleteReadAsync(3, Filled(100, 3));
        Assert.True(await third.WaitAsync(Bound));

        var held = await _loop.InvokeAsync(() => (cache.Contains(1), cache.Contains(2), cache.Contains(3), cache.Bytes));
        Assert.Equal((true, false, true, 200L), held);
    }

    [Fact]
    public async Task A_piece_larger_than_the_cache_is_still_kept_until_the_next_one()
    {
        var cache = new PieceReadCache(50);
        var load = LoadAsync(cache, 0, 100);
        await CompleteReadAsync(0, Filled(100, 1));
        Assert.True(await load.WaitAsync(Bound));
        Assert.True(await _loop.InvokeAsync(() => cache.Contains(0)));
    }

    [Fact]
    public async Task A_failed_read_is_reported_once_and_a_cancelled_one_not_at_all()
    {
        var cache = new PieceReadCache(1 << 20);
        var errors = new List<Exception>();
        var failing = LoadAsync(cache, 5, 100, errors);
        (await ReadStarted(5).WaitAsync(Bound)).SetException(new IOException("disk gone"));
        Assert.False(await failing.WaitAsync(Bound));
        Assert.Equal("disk gone", Assert.Single(errors).Message);

        using var cts = new CancellationTokenSource();
        var cancelled = LoadAsync(cache, 6, 100, errors, cts.Token);
        await ReadStarted(6).WaitAsync(Bound);
        cts.Cancel();
        Assert.False(await cancelled.WaitAsync(Bound));
        Assert.Single(errors);
        Assert.False(await _loop.InvokeAsync(() => cache.Contains(5) || cache.Contains(6) || cache.IsLoading(6)));
    }

    [Fact]
    public async Task Invalidate_and_Clear_give_the_memory_back()
    {
        var cache = new PieceReadCache(1 << 20);
        foreach (int piece in new[] { 1, 2, 3 })
        {
            var load = LoadAsync(cache, piece, 100);
            await CompleteReadAsync(piece, Filled(100, (byte)piece));
            await load.WaitAsync(Bound);
        }
        await _loop.InvokeAsync(() =>
        {
            cache.Invalidate(2);
            Assert.False(cache.Contains(2));
            Assert.Equal(200, cache.Bytes);
            cache.Clear();
            Assert.Equal(0, cache.Bytes);
            Assert.False(cache.TryGet(1, out _));
        });
    }
}
