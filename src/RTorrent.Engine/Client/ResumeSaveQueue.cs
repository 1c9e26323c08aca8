using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.Client;

/// <summary>
/// Torrents whose settings changed (labels, trackers, queue position, limits) and must reach their resume data even
/// when they are stopped, which the periodic save skips. Requests are collected on the loop and saved one torrent
/// after another off the loop at the next tick, so a queue move that shifts ten thousand torrents writes each file
/// once, in the background; whatever is left is saved when the engine stops.
/// </summary>
internal sealed class ResumeSaveQueue(Func<Torrent, Task> save, ILogger logger)
{
    private readonly HashSet<Torrent> _pending = [];
    private Task _running = Task.CompletedTask;

    /// <summary>Torrents waiting to be saved.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Asks for a save of <paramref name="torrent"/> (on the loop).</summary>
    public void Request(Torrent torrent) => _pending.Add(torrent);

    /// <summary>Drops a removed torrent (on the loop), so its files are not written again after they were deleted.</summary>
    public void Forget(Torrent torrent) => _pending.Remove(torrent);

    /// <summary>Starts saving what is pending unless a batch is still being saved (on the loop, once a tick).</summary>
    public void Pump()
    {
        if (_pending.Count == 0 || !_running.IsCompleted) return;
        var batch = _pending.ToArray();
        _pending.Clear();
        _running = Task.Run(() => SaveAllAsync(batch));
    }

    /// <summary>Waits for the batch being saved, then saves everything still pending (when the engine stops).</summary>
    public async Task DrainAsync()
    {
        await _running.ConfigureAwait(true);
        var batch = _pending.ToArray();
        _pending.Clear();
        await SaveAllAsync(batch).ConfigureAwait(true);
    }

    private async Task SaveAllAsync(Torrent[] batch)
    {
        foreach (var t in batch)
        {
            try { await save(t).ConfigureAwait(false); }
            catch (Exception e) { logger.LogWarning("saving the settings of {Torrent} failed: {Error}", t, e.Message); }
        }
    }
}
