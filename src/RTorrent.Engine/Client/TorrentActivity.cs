namespace RTorrent.Engine.Client;

/// <summary>
/// When a torrent was started, when payload last moved, and how long it has downloaded and seeded. Times in a state
/// are kept as a total before the current period plus when the current period began, so a snapshot stays equal to
/// the previous one while nothing happens; readers add <c>now - since</c> themselves.
/// </summary>
/// <remarks>
/// Used on the engine loop only. Fetching a magnet's metadata counts as downloading (Transmission shows it as
/// downloading too). Periods are observed when the torrent's state changes, so they are exact; the last activity is
/// taken at the ticks of a torrent with peers, so it is exact to the tick.
/// </remarks>
internal sealed class TorrentActivity
{
    /// <summary>Grows with every change of what this holds (a torrent's cached snapshot is rebuilt when it moved).</summary>
    public int Version { get; private set; }

    private TorrentState _observed = TorrentState.Stopped;
    private long _lastDownloaded;
    private long _lastUploaded;

    /// <summary>When the torrent last started running (downloading, seeding or fetching metadata); null while it is not.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>When payload last moved either way (to the tick), including earlier runs; null if never.</summary>
    public DateTimeOffset? ActivityAt { get; private set; }

    /// <summary>Time spent downloading before the current downloading period.</summary>
    public TimeSpan DownloadingBefore { get; private set; }

    /// <summary>When the current downloading period began, or null.</summary>
    public DateTimeOffset? DownloadingSince { get; private set; }

    /// <summary>Time spent seeding before the current seeding period.</summary>
    public TimeSpan SeedingBefore { get; private set; }

    /// <summary>When the current seeding period began, or null.</summary>
    public DateTimeOffset? SeedingSince { get; private set; }

    /// <summary>Total downloading time at <paramref name="now"/>.</summary>
    public TimeSpan DownloadingTotal(DateTimeOffset now) => Total(DownloadingBefore, DownloadingSince, now);

    /// <summary>Total seeding time at <paramref name="now"/>.</summary>
    public TimeSpan SeedingTotal(DateTimeOffset now) => Total(SeedingBefore, SeedingSince, now);

    /// <summary>
    /// Takes what earlier runs saved (call before the torrent starts). A period that was going on when they saved
    /// (<paramref name="downloadingSince"/>, <paramref name="seedingSince"/>: its start on this run's clock) goes on
    /// if the torrent's first state is that state again, and is closed at <paramref name="endedBy"/> (when the earlier
    /// run ended, on this run's clock) if it is anything else.
    /// </summary>
    public void Restore(TimeSpan downloading, TimeSpan seeding, DateTimeOffset? activity,
        DateTimeOffset? downloadingSince = null, DateTimeOffset? seedingSince = null, DateTimeOffset endedBy = default)
    {
        DownloadingBefore = downloading < TimeSpan.Zero ? TimeSpan.Zero : downloading;
        SeedingBefore = seeding < TimeSpan.Zero ? TimeSpan.Zero : seeding;
        if (activity is not null && (ActivityAt is null || activity > ActivityAt)) ActivityAt = activity;
        _resumedDownloadingSince = downloadingSince;
        _resumedSeedingSince = seedingSince;
        _resumedEnd = endedBy;
        Version++;
    }

    private bool _frozen;

    /// <summary>
    /// The session is closing: the torrent stops only because the session does, so its periods stay open as they
    /// were and its resume data says it was still seeding (or downloading) since then, which the next run continues.
    /// </summary>
    public void Freeze() => _frozen = true;

    private DateTimeOffset? _resumedDownloadingSince;
    private DateTimeOffset? _resumedSeedingSince;
    private DateTimeOffset _resumedEnd;

    /// <summary>Continues or closes the periods earlier runs left open, at the first state seen after a restore.</summary>
    private void TakeResumedPeriods(bool downloading, bool seeding)
    {
        if (_resumedDownloadingSince is { } d)
        {
            if (downloading) DownloadingSince ??= d;
            else DownloadingBefore += Elapsed(d, _resumedEnd);
        }
        if (_resumedSeedingSince is { } s)
        {
            if (seeding) SeedingSince ??= s;
            else SeedingBefore += Elapsed(s, _resumedEnd);
        }
        _resumedDownloadingSince = _resumedSeedingSince = null;
    }

    /// <summary>Opens or closes periods for the torrent's state. Returns whether the state differs from the last one seen.</summary>
    public bool Observe(TorrentState state, DateTimeOffset now)
    {
        if (state == _observed || _frozen) return false;
        _observed = state;
        Version++;
        bool running = state is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;
        bool downloading = state is TorrentState.Downloading or TorrentState.FetchingMetadata;
        bool seeding = state == TorrentState.Seeding;
        if (_resumedDownloadingSince is not null || _resumedSeedingSince is not null) TakeResumedPeriods(downloading, seeding);
        if (!running) StartedAt = null;
        else StartedAt ??= now;
        if (downloading) DownloadingSince ??= now;
        else if (DownloadingSince is { } d)
        {
            DownloadingBefore += Elapsed(d, now);
            DownloadingSince = null;
        }
        if (seeding) SeedingSince ??= now;
        else if (SeedingSince is { } s)
        {
            SeedingBefore += Elapsed(s, now);
            SeedingSince = null;
        }
        return true;
    }

    /// <summary>At a tick: payload moved since the last one (the totals of this run grew) makes now the last activity.</summary>
    public void OnTransfer(DateTimeOffset now, long downloadedThisRun, long uploadedThisRun)
    {
        if (downloadedThisRun == _lastDownloaded && uploadedThisRun == _lastUploaded) return;
        _lastDownloaded = downloadedThisRun;
        _lastUploaded = uploadedThisRun;
        ActivityAt = now;
        Version++;
    }

    private static TimeSpan Total(TimeSpan before, DateTimeOffset? since, DateTimeOffset now) =>
        since is { } s ? before + Elapsed(s, now) : before;

    private static TimeSpan Elapsed(DateTimeOffset since, DateTimeOffset now) => now > since ? now - since : TimeSpan.Zero;
}
