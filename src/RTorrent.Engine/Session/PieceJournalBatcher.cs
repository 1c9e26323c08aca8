using System.Collections.Concurrent;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Session;

/// <summary>
/// Journals the pieces each torrent verifies between two full resume saves (<see cref="PieceJournal"/>), in batches:
/// the first piece verified schedules a flush one <c>interval</c> later, which takes every piece verified by then,
/// flushes the torrent's storage, and only then appends them (fsynced). Every journaled piece is therefore durable
/// (its write completed before the engine reported it, the flush came after), and a kill -9 loses at most the pieces
/// of the last interval. A torrent downloading at full speed costs two fsyncs per interval; an idle one nothing.
/// </summary>
/// <remarks>
/// Flushes and full saves of one torrent take turns on the session's save gate, so a full save's compaction
/// (<see cref="CompactAfterSaveAsync"/>) never interleaves with an append.
/// </remarks>
internal sealed class PieceJournalBatcher
{
    private readonly ResumeStore _store;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly Func<Torrent, Func<Task>, Task> _whileNoSave;
    private readonly Dictionary<Torrent, List<int>> _pending = [];
    private readonly ConcurrentDictionary<InfoHash, PieceJournal> _journals = new();
    private readonly ConcurrentDictionary<Torrent, bool> _removed = new();
    private volatile bool _closed;

    /// <param name="store">Where the journals live.</param>
    /// <param name="interval">How long pieces wait to be journaled (at most what a kill -9 loses); zero journals each at once.</param>
    /// <param name="time">The clock.</param>
    /// <param name="whileNoSave">Runs a step while no resume save of the torrent runs.</param>
    public PieceJournalBatcher(ResumeStore store, TimeSpan interval, TimeProvider time, Func<Torrent, Func<Task>, Task> whileNoSave)
    {
        _store = store;
        _interval = interval;
        _time = time;
        _whileNoSave = whileNoSave;
    }

    /// <summary>Appends and compactions done (for tests and measurements).</summary>
    internal int Appends;

    /// <summary>A piece verified and written (on the engine loop; cheap).</summary>
    public void Verified(Torrent torrent, int piece)
    {
        if (_closed) return;
        bool first;
        lock (_pending)
        {
            first = !_pending.TryGetValue(torrent, out var list);
            if (first) _pending[torrent] = list = [];
            list!.Add(piece);
        }
        if (!first) return;
        if (_interval <= TimeSpan.Zero) _ = Task.Run(() => FlushAsync(torrent));
        else _ = Task.Delay(_interval, _time).ContinueWith(_ => FlushAsync(torrent), CancellationToken.None,
            TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Journals the torrent's pending pieces now: storage flush first, then the append.</summary>
    public Task FlushAsync(Torrent torrent) => _whileNoSave(torrent, async () =>
    {
        List<int>? pieces;
        lock (_pending) _pending.Remove(torrent, out pieces);
        if (pieces is null || _closed || _removed.ContainsKey(torrent) || torrent.Storage is not { } storage) return;
        try
        {
            await JournalAsync(torrent.InfoHash, storage, pieces);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
        {
            // Not journaled: the pieces are claimed at the next full save instead.
            torrent.Log(PluginLogLevel.Warning, $"journaling verified pieces failed: {e.Message}");
        }
    });

    /// <summary>
    /// The order that makes a journaled piece durable: the storage is flushed (every write completed before the call
    /// is durable, and the pieces' writes completed before the engine reported them), and only then are the pieces
    /// appended. Appending first would let a kill -9 between the two leave a journal naming pieces whose data was lost.
    /// </summary>
    internal async Task JournalAsync(InfoHash infoHash, ITorrentStorage storage, IReadOnlyCollection<int> pieces)
    {
        await storage.FlushAsync(CancellationToken.None);
        var journal = _journals.GetOrAdd(infoHash, h => new PieceJournal(_store.GetJournalPath(h)));
        await journal.AppendAsync(pieces);
        Interlocked.Increment(ref Appends);
    }

    /// <summary>Journals every torrent's pending pieces now.</summary>
    public Task FlushAllAsync()
    {
        Torrent[] torrents;
        lock (_pending) torrents = [.. _pending.Keys];
        return Task.WhenAll(torrents.Select(FlushAsync));
    }

    /// <summary>
    /// After a full save (inside the save gate): drops from the journal what the resume file now claims, and what is
    /// no longer verified. <paramref name="verifiedNow"/> is asked only when there is a journal.
    /// </summary>
    public async Task CompactAfterSaveAsync(Torrent torrent, Bitfield saved, Func<Task<Bitfield?>> verifiedNow)
    {
        if (!_journals.TryGetValue(torrent.InfoHash, out var journal))
        {
            string path = _store.GetJournalPath(torrent.InfoHash);
            if (!File.Exists(path)) return; // the common case: one stat per save
            journal = _journals.GetOrAdd(torrent.InfoHash, _ => new PieceJournal(path));
        }
        var now = await verifiedNow();
        await journal.CompactAsync(p => p < saved.Length && saved[p], p => now is not null && p < now.Length && now[p]);
    }

    /// <summary>The torrent was removed: its journal is closed and never written again (the store deletes the file).</summary>
    public void Forget(Torrent torrent)
    {
        _removed[torrent] = true;
        lock (_pending) _pending.Remove(torrent);
        if (_journals.TryRemove(torrent.InfoHash, out var journal)) journal.Dispose();
    }

    /// <summary>The session is closing (its final saves compact the journals): nothing is appended any more.</summary>
    public void Close()
    {
        _closed = true;
        foreach (var journal in _journals.Values) journal.Dispose();
    }
}
