using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Session;
using RTorrent.Engine.Storage;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Resume;

/// <summary>
/// The journal of pieces verified since the last full resume save (issue 14 item 5): appended durably after the
/// storage flush, read back up to the first torn record, folded into the resume file at the next save.
/// </summary>
public sealed class PieceJournalTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("rt-journal");

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string JournalPath => Path.Combine(_dir, "a" + PieceJournal.Extension);

    [Fact]
    public async Task Appended_pieces_are_read_back_sorted_and_only_below_the_piece_count()
    {
        using (var j = new PieceJournal(JournalPath))
        {
            await j.AppendAsync([7, 3]);
            await j.AppendAsync([3, 12, 100]);
        }
        Assert.Equal(new[] { 3, 7, 12 }, await PieceJournal.ReadAsync(JournalPath, 50));
        Assert.Empty(await PieceJournal.ReadAsync(Path.Combine(_dir, "missing.pieces"), 50));
    }

    [Fact]
    public async Task A_torn_append_claims_nothing_beyond_the_last_whole_record_and_the_next_run_appends_after_it()
    {
        using (var j = new PieceJournal(JournalPath)) await j.AppendAsync([1, 2]);
        // What a kill during an append can leave: half a record, or a tail of zeros (the size grew before the data).
        await using (var f = new FileStream(JournalPath, FileMode.Append)) f.Write(new byte[12]);
        Assert.Equal(new[] { 1, 2 }, await PieceJournal.ReadAsync(JournalPath, 10));
        var bytes = await File.ReadAllBytesAsync(JournalPath);
        Assert.Equal(new[] { 1 }, PieceJournal.Read(bytes.AsSpan(0, PieceJournal.HeaderLength + PieceJournal.RecordLength + 5), 10));
        // Not a journal at all: nothing.
        Assert.Empty(PieceJournal.Read("not a journal at all"u8, 10));

        using (var j = new PieceJournal(JournalPath)) await j.AppendAsync([5]);
        Assert.Equal(new[] { 1, 2, 5 }, await PieceJournal.ReadAsync(JournalPath, 10));
        Assert.Equal(PieceJournal.HeaderLength + 3 * PieceJournal.RecordLength, new FileInfo(JournalPath).Length);
    }

    [Fact]
    public async Task Compaction_keeps_what_the_save_did_not_claim_and_removes_a_journal_left_with_nothing()
    {
        using var j = new PieceJournal(JournalPath);
        await j.AppendAsync([1, 2, 3]);
        await j.CompactAsync(saved: p => p is 1 or 2, verified: _ => true);
        Assert.Equal(new[] { 3 }, await PieceJournal.ReadAsync(JournalPath, 10));
        await j.AppendAsync([4]);
        Assert.Equal(new[] { 3, 4 }, await PieceJournal.ReadAsync(JournalPath, 10));
        await j.CompactAsync(saved: _ => true, verified: _ => true);
        Assert.False(File.Exists(JournalPath));
    }

    [Fact]
    public async Task A_journaled_piece_no_longer_verified_is_dropped_for_good_even_when_nothing_else_is_kept()
    {
        using (var j = new PieceJournal(JournalPath))
        {
            await j.AppendAsync([1, 2]);
            // A recheck found piece 2 bad (or a check is pending: nothing verified): the journal must never claim it again.
            await j.CompactAsync(saved: p => p == 1, verified: p => p == 1);
        }
        Assert.True(File.Exists(JournalPath), "a dropped piece is forgotten by a durable rewrite, not by a removal a crash could undo");
        Assert.Empty(await PieceJournal.ReadAsync(JournalPath, 10));
    }

    [Fact]
    public async Task A_journal_left_by_a_crashed_run_is_compacted_by_the_next_runs_first_save()
    {
        using (var crashed = new PieceJournal(JournalPath)) await crashed.AppendAsync([4, 5]);
        using var next = new PieceJournal(JournalPath);
        await next.CompactAsync(saved: p => p == 4, verified: _ => true);
        Assert.Equal(new[] { 5 }, await PieceJournal.ReadAsync(JournalPath, 10));
    }

    [Fact]
    public async Task The_batcher_appends_only_after_the_storage_flush_has_completed()
    {
        // The order is what makes a journaled piece durable: were the append done first, a kill -9 before the flush
        // would leave a journal naming a piece whose data never reached the disk.
        var store = new ResumeStore(_dir);
        var batcher = new PieceJournalBatcher(store, TimeSpan.Zero, TimeProvider.System, (_, step) => step());
        var hash = new InfoHash(new byte[20]);
        var storage = new GatedFlushStorage();
        var journaling = batcher.JournalAsync(hash, storage, [3, 9]);
        await storage.FlushStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Empty(await PieceJournal.ReadAsync(store.GetJournalPath(hash), 10));
        storage.Release.SetResult();
        await journaling.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(new[] { 3, 9 }, await PieceJournal.ReadAsync(store.GetJournalPath(hash), 10));

        // A flush that fails journals nothing.
        var failing = new GatedFlushStorage { Fail = true };
        failing.Release.SetResult();
        await Assert.ThrowsAsync<IOException>(() => batcher.JournalAsync(hash, failing, [5]));
        Assert.Equal(new[] { 3, 9 }, await PieceJournal.ReadAsync(store.GetJournalPath(hash), 10));
    }

    /// <summary>A storage whose flush waits until released (or fails); nothing else is used.</summary>
    private sealed class GatedFlushStorage : ITorrentStorage
    {
        public TaskCompletionSource FlushStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Fail { get; init; }

        public async ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            FlushStarted.TrySetResult();
            await Release.Task;
            if (Fail) throw new IOException("disk gone");
        }

        public ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask DeleteAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask CloseAsync(int fileIndex, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
