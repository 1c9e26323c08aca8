namespace RTorrent.Engine.Client;

/// <summary>
/// When a running torrent saves its resume data by itself: only after payload moved since the last save, and at most
/// once per interval. Pieces and files change only through downloads, the totals only through transfers, and settings
/// changes ask for a save themselves (<see cref="ResumeSaveQueue"/>). Saving every idle torrent every minute cost
/// 1,000 fsyncs a minute with 1,000 seeding torrents (most of an idle daemon's CPU); what an idle torrent's file misses
/// is the seeding time since its last save, written at the next stop. A value inside the torrent: no object of its own.
/// </summary>
internal struct ResumeSaveSchedule
{
    private DateTimeOffset _lastSave;
    private (long Downloaded, long Uploaded) _saved;

    /// <summary>Never saved: the first look finds a save due (a magnet whose metadata just came).</summary>
    public ResumeSaveSchedule() => _saved = (-1, -1);

    /// <summary>The file on disk matches the torrent now (it was just loaded and checked, or saved on adding).</summary>
    public void Saved(DateTimeOffset now, (long Downloaded, long Uploaded) totals)
    {
        _lastSave = now;
        _saved = totals;
    }

    /// <summary>
    /// Whether to save now (then it counts as saved). When payload moved but the interval has not passed,
    /// <paramref name="wakeAt"/> is when it will be due: the torrent must be looked at then, even if idle by then.
    /// </summary>
    public bool IsDue(DateTimeOffset now, (long Downloaded, long Uploaded) totals, TimeSpan interval, out DateTimeOffset? wakeAt)
    {
        wakeAt = null;
        if (totals == _saved) return false;
        var due = _lastSave + interval;
        if (now < due)
        {
            wakeAt = due;
            return false;
        }
        Saved(now, totals);
        return true;
    }
}
