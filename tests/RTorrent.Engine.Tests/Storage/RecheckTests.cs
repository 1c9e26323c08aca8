using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

public class RecheckTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly FileStorageFactory _factory = new();

    public void Dispose()
    {
        _factory.Dispose();
        _tmp.Dispose();
    }

    private const int PieceLength = 1024;

    // Three files; the pad sits between a and b so b starts on a piece boundary.
    private static readonly (string, long, bool)[] Files =
        [("t/a", 5000, false), ("t/.pad/120", 120, true), ("t/b", 4000, false), ("t/c", 3000, false)];

    private async Task<(PieceIO Io, byte[] Data, byte[] Hashes, ITorrentStorage Storage)> SeedAsync()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), Files);
        var storage = _factory.Open(ctx);
        var io = new PieceIO(storage, new FileLayout(ctx.Files, PieceLength));
        var data = StorageTestData.Random((int)io.Layout.TotalLength, 11);
        Array.Clear(data, 5000, 120);
        var hashes = new byte[io.Layout.PieceCount * 20];
        for (int p = 0; p < io.Layout.PieceCount; p++)
            SHA1.HashData(data.AsSpan((int)io.Layout.GetPieceOffset(p), io.Layout.GetPieceSize(p)), hashes.AsSpan(p * 20));
        await io.PrepareFilesAsync(false);
        await io.WriteAsync(0, data);
        await storage.FlushAsync(default);
        return (io, data, hashes, storage);
    }

    [Fact]
    public async Task Finds_every_good_piece_and_only_those()
    {
        var (io, _, hashes, storage) = await SeedAsync();
        await using var _ = storage;
        int pieces = io.Layout.PieceCount; // 12120 bytes -> 12 pieces

        // Corrupt one byte of piece 2 (in a), cut c short (its last pieces), keep the rest.
        await storage.WriteAsync(0, 2 * PieceLength + 7, new byte[] { 0xEE }, default);
        using (var h = File.OpenHandle(_tmp.Sub("dl", "t", "c"), FileMode.Open, FileAccess.ReadWrite)) RandomAccess.SetLength(h, 1000);

        var reports = new List<RecheckProgress>();
        var result = await PieceRecheck.RunAsync(io, hashes, new RecheckOptions { MaxDegreeOfParallelism = 4 }, new SyncProgress(reports));

        var expected = Enumerable.Range(0, pieces).Select(p => p != 2 && io.Layout.GetPieceOffset(p) + io.Layout.GetPieceSize(p) <= 9120 + 1000).ToArray();
        Assert.Equal(expected, Enumerable.Range(0, pieces).Select(result.IsVerified));
        Assert.Equal(expected.Count(v => v), result.VerifiedCount);
        Assert.Equal(pieces, result.CheckedCount);
        Assert.Equal(expected.Count(v => !v) - 1, result.SkippedCount); // all failures but the corrupt one were skipped unread
        Assert.Equal(pieces, reports[^1].PiecesChecked);
        Assert.Equal(result.VerifiedCount, reports[^1].PiecesVerified);
    }

    [Fact]
    public async Task Missing_files_are_skipped_without_reading()
    {
        var (io, _, hashes, storage) = await SeedAsync();
        await using var _ = storage;
        File.Delete(_tmp.Sub("dl", "t", "b"));
        var counting = new CountingStorage(storage);
        var result = await PieceRecheck.RunAsync(new PieceIO(counting, io.Layout), hashes);
        // b covers bytes 5120..9119: pieces 5..8 (piece 8 also holds c's first bytes).
        Assert.Equal([5, 6, 7, 8], Enumerable.Range(0, io.Layout.PieceCount).Where(p => !result.IsVerified(p)));
        Assert.Equal(0, counting.ReadsOf(2));
        Assert.Equal(4, result.SkippedCount);
    }

    [Fact]
    public async Task A_subset_can_be_rechecked_and_cancellation_stops_it()
    {
        var (io, _, hashes, storage) = await SeedAsync();
        await using var _ = storage;
        var subset = await PieceRecheck.RunAsync(io, hashes, new RecheckOptions { Pieces = [1, 3] });
        Assert.Equal(2, subset.VerifiedCount);
        Assert.True(subset.IsVerified(3));
        Assert.False(subset.IsVerified(0));

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PieceRecheck.RunAsync(io, hashes, null, null, cts.Token));
        await Assert.ThrowsAsync<ArgumentException>(() => PieceRecheck.RunAsync(io, hashes.AsMemory(1)));
    }

    [Fact]
    public async Task Pieces_larger_than_the_hash_chunk_are_hashed_in_parts()
    {
        const int big = 5 * 1024 * 1024;
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("big", big + 10, false));
        await using var storage = _factory.Open(ctx);
        var io = new PieceIO(storage, new FileLayout(ctx.Files, big));
        var data = StorageTestData.Random(big + 10, 1);
        await io.WriteAsync(0, data);
        var hash = new byte[20];
        Assert.True(await io.HashPieceFromDiskAsync(0, hash));
        Assert.Equal(SHA1.HashData(data.AsSpan(0, big)), hash);
        Assert.True(await io.HashPieceFromDiskAsync(1, hash));
        Assert.Equal(SHA1.HashData(data.AsSpan(big)), hash); // the last, short piece in one read
    }

    private sealed class SyncProgress(List<RecheckProgress> list) : IProgress<RecheckProgress>
    {
        public void Report(RecheckProgress value)
        {
            lock (list) list.Add(value);
        }
    }

    private sealed class CountingStorage(ITorrentStorage inner) : ITorrentStorage
    {
        private readonly int[] _reads = new int[16];
        public int ReadsOf(int file) => Volatile.Read(ref _reads[file]);
        public ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken ct)
        {
            Interlocked.Increment(ref _reads[fileIndex]);
            return inner.ReadAsync(fileIndex, offset, buffer, ct);
        }
        public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken ct) => inner.WriteAsync(fileIndex, offset, data, ct);
        public ValueTask FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken ct) => inner.ProbeAsync(fileIndex, ct);
        public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken ct) => inner.PrepareAsync(fileIndex, preallocate, ct);
        public ValueTask MoveAsync(string dir, CancellationToken ct) => inner.MoveAsync(dir, ct);
        public ValueTask DeleteAsync(CancellationToken ct) => inner.DeleteAsync(ct);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
