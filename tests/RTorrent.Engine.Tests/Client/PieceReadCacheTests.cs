using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The engine's read cache: one read per slice however many ask, a budget shared by every torrent, slices already sent
/// evicted first, read ahead only into room, buffers reused, failures reported once, an owner's slices given back.
/// Reads are fakes the test completes; callbacks run on a real loop.
/// </summary>
public sealed class PieceReadCacheTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const int Slice = PieceReadCache.SliceBytes;
    private readonly EngineLoop _loop = new("read-cache-test");
    private readonly Dictionary<PieceReadCache.Key, TaskCompletionSource<(Memory<byte> Buffer, TaskCompletionSource Done)>> _reads = [];
    private readonly List<PieceReadCache.Key> _readOrder = [];
    private readonly int _owner = PieceReadCache.NewOwner();

    public void Dispose() => _loop.Dispose();

    private PieceReadCache.Key K(int piece, int slice = 0) => new(_owner, piece, slice);

    /// <summary>Completes with the read of <paramref name="key"/> once the cache has started it (reads run on the pool).</summary>
    private Task<(Memory<byte> Buffer, TaskCompletionSource Done)> ReadStarted(PieceReadCache.Key key)
    {
        lock (_reads)
        {
            if (!_reads.TryGetValue(key, out var started))
                _reads[key] = started = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return started.Task;
        }
    }

    private Func<Memory<byte>, CancellationToken, ValueTask> Reader(PieceReadCache.Key key) => (buffer, ct) =>
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ct.Register(() => done.TrySetCanceled(ct));
        lock (_reads) _readOrder.Add(key);
        _ = ReadStarted(key);
        lock (_reads) _reads[key].TrySetResult((buffer, done));
        return new ValueTask(done.Task);
    };

    /// <summary>Starts loading on the loop; the task completes with what its callback got.</summary>
    private Task<bool> LoadAsync(PieceReadCache cache, PieceReadCache.Key key, int length, List<Exception>? errors = null,
        CancellationToken ct = default)
    {
        var loaded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Post(() => cache.Load(key, length, Reader(key), _loop, ok => loaded.TrySetResult(ok), e => errors?.Add(e), ct));
        return loaded.Task;
    }

    private async Task CompleteReadAsync(PieceReadCache.Key key, byte fill)
    {
        var (buffer, done) = await ReadStarted(key).WaitAsync(Bound);
        buffer.Span.Fill(fill);
        done.SetResult();
    }

    private async Task LoadedAsync(PieceReadCache cache, PieceReadCache.Key key, int length = Slice)
    {
        var load = LoadAsync(cache, key, length);
        await CompleteReadAsync(key, (byte)key.Piece);
        Assert.True(await load.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_slice_asked_for_twice_while_loading_is_read_once_and_both_hear_it()
    {
        var cache = new PieceReadCache(8L * Slice);
        var first = LoadAsync(cache, K(4), 100);
        var second = LoadAsync(cache, K(4), 100);
        Assert.Equal(1, await _loop.InvokeAsync(() => cache.LoadingCount));
        Assert.True(await _loop.InvokeAsync(() => cache.IsLoading(K(4))));
        await CompleteReadAsync(K(4), 7);

        Assert.True(await first.WaitAsync(Bound));
        Assert.True(await second.WaitAsync(Bound));
        Assert.Equal([K(4)], _readOrder);
        var (found, bytes, data) = await _loop.InvokeAsync(() =>
        {
            bool f = cache.TryGet(K(4), out var d);
            return (f, cache.Bytes, d.ToArray());
        });
        Assert.True(found);
        Assert.Equal(100, bytes);
        Assert.Equal(Enumerable.Repeat((byte)7, 100), data);
        Assert.Equal(0, await _loop.InvokeAsync(() => cache.LoadingCount));
    }

    [Fact]
    public async Task The_least_recently_used_slice_makes_room_and_its_buffer_is_reused()
    {
        var cache = new PieceReadCache(4L * Slice);
        for (int p = 1; p <= 4; p++) await LoadedAsync(cache, K(p));
        await _loop.InvokeAsync(() => cache.TryGet(K(1), out _)); // 1 is now the most recently used
        await LoadedAsync(cache, K(5));

        var held = await _loop.InvokeAsync(() => (cache.Contains(K(1)), cache.Contains(K(2)), cache.Contains(K(5)),
            cache.Bytes, cache.AllocatedBytes));
        Assert.Equal((true, false, true, 4L * Slice, 4L * Slice), held);
    }

    [Fact]
    public async Task A_slice_sent_to_its_end_goes_first_even_when_used_last()
    {
        var cache = new PieceReadCache(4L * Slice);
        for (int p = 1; p <= 4; p++) await LoadedAsync(cache, K(p));
        await _loop.InvokeAsync(() =>
        {
            cache.TryGet(K(3), out _);
            cache.SentToEnd(K(3));
        });
        await LoadedAsync(cache, K(5));
        var held = await _loop.InvokeAsync(() => (cache.Contains(K(1)), cache.Contains(K(3))));
        Assert.Equal((true, false), held);
    }

    [Fact]
    public async Task Read_ahead_happens_only_into_room_never_over_a_slice_not_sent_yet()
    {
        var cache = new PieceReadCache(4L * Slice);
        for (int p = 1; p <= 4; p++) await LoadedAsync(cache, K(p));
        bool started = await _loop.InvokeAsync(() =>
            cache.TryLoadAhead(K(9), Slice, Reader(K(9)), _loop, _ => { }, _ => { }, CancellationToken.None));
        Assert.False(started);
        Assert.DoesNotContain(K(9), _readOrder);

        await _loop.InvokeAsync(() => cache.SentToEnd(K(2)));
        var loaded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        started = await _loop.InvokeAsync(() =>
            cache.TryLoadAhead(K(9), Slice, Reader(K(9)), _loop, ok => loaded.TrySetResult(ok), _ => { }, CancellationToken.None));
        Assert.True(started);
        await CompleteReadAsync(K(9), 9);
        Assert.True(await loaded.Task.WaitAsync(Bound));
        var held = await _loop.InvokeAsync(() => (cache.Contains(K(2)), cache.Contains(K(9)), cache.AllocatedBytes));
        Assert.Equal((false, true, 4L * Slice), held);
    }

    [Fact]
    public async Task A_budget_below_the_minimum_still_holds_the_minimum_number_of_slices()
    {
        var cache = new PieceReadCache(0);
        for (int p = 1; p <= PieceReadCache.MinimumSlices; p++) await LoadedAsync(cache, K(p));
        var all = await _loop.InvokeAsync(() => Enumerable.Range(1, PieceReadCache.MinimumSlices).All(p => cache.Contains(K(p))));
        Assert.True(all);
    }

    [Fact]
    public async Task Reads_a_peer_waits_for_happen_over_budget_and_the_cache_is_trimmed_back_as_they_land()
    {
        var cache = new PieceReadCache(4L * Slice);
        var loads = Enumerable.Range(1, 6).Select(p => LoadAsync(cache, K(p), Slice)).ToList();
        Assert.Equal(6, await _loop.InvokeAsync(() => cache.LoadingCount));
        for (int p = 1; p <= 6; p++) await CompleteReadAsync(K(p), (byte)p);
        foreach (var l in loads) Assert.True(await l.WaitAsync(Bound));
        var (allocated, newest) = await _loop.InvokeAsync(() => (cache.AllocatedBytes, cache.Contains(K(6))));
        Assert.Equal(4L * Slice, allocated);
        Assert.True(newest);
    }

    [Fact]
    public async Task A_failed_read_is_reported_once_and_a_cancelled_one_not_at_all()
    {
        var cache = new PieceReadCache(8L * Slice);
        var errors = new List<Exception>();
        var failing = LoadAsync(cache, K(5), 100, errors);
        (await ReadStarted(K(5)).WaitAsync(Bound)).Done.SetException(new IOException("disk gone"));
        Assert.False(await failing.WaitAsync(Bound));
        Assert.Equal("disk gone", Assert.Single(errors).Message);

        using var cts = new CancellationTokenSource();
        var cancelled = LoadAsync(cache, K(6), 100, errors, cts.Token);
        await ReadStarted(K(6)).WaitAsync(Bound);
        cts.Cancel();
        Assert.False(await cancelled.WaitAsync(Bound));
        Assert.Single(errors);
        Assert.False(await _loop.InvokeAsync(() => cache.Contains(K(5)) || cache.Contains(K(6)) || cache.IsLoading(K(6))));
    }

    [Fact]
    public async Task Dropping_an_owner_gives_its_slices_back_and_a_read_landing_later_is_not_kept()
    {
        var cache = new PieceReadCache(8L * Slice);
        int other = PieceReadCache.NewOwner();
        await LoadedAsync(cache, K(1));
        await LoadedAsync(cache, K(2));
        var theirs = new PieceReadCache.Key(other, 1, 0);
        var theirLoad = LoadAsync(cache, theirs, Slice);
        await CompleteReadAsync(theirs, 1);
        await theirLoad.WaitAsync(Bound);
        var late = LoadAsync(cache, K(3), Slice);
        await ReadStarted(K(3)).WaitAsync(Bound);

        await _loop.InvokeAsync(() => cache.Drop(_owner));
        await CompleteReadAsync(K(3), 3);
        Assert.False(await late.WaitAsync(Bound));
        var held = await _loop.InvokeAsync(() => (cache.Contains(K(1)), cache.Contains(K(3)), cache.Contains(theirs), cache.Bytes));
        Assert.Equal((false, false, true, (long)Slice), held);

        await _loop.InvokeAsync(() => cache.Drop(other));
        Assert.Equal(0, await _loop.InvokeAsync(() => cache.AllocatedBytes));
    }
}
