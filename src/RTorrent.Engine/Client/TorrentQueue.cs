namespace RTorrent.Engine.Client;

/// <summary>
/// The session's queue limits (Transmission's <c>download-queue-size</c>, <c>seed-queue-size</c>,
/// <c>queue-stalled-minutes</c>; qBittorrent's <c>max_active_downloads</c>, <c>max_active_uploads</c>,
/// <c>max_active_torrents</c>). Null means no limit of that kind.
/// </summary>
/// <remarks>
/// How the three limits interact (qBittorrent's and libtorrent's rule): a downloading torrent counts against
/// <see cref="MaxDownloads"/>, a seeding one against <see cref="MaxSeeds"/>, and both against <see cref="MaxActive"/>;
/// a torrent runs only when it fits under both limits that concern it. Torrents started with "start now" (forced) are
/// never queued but do count (their bandwidth is used all the same; libtorrent counts torrents that are not
/// auto-managed too), so forcing torrents can fill the slots. A running torrent that moved no payload for
/// <see cref="StalledAfter"/> is stalled: it keeps running but does not count, so a dead torrent does not block the
/// queue (Transmission's <c>queue-stalled-enabled</c>).
/// </remarks>
public sealed record QueueLimits
{
    /// <summary>No limits: every started torrent runs (the default; nothing is ever queued).</summary>
    public static QueueLimits None { get; } = new();

    /// <summary>Torrents downloading at once (metadata fetches included), or null.</summary>
    public int? MaxDownloads { get; init; }

    /// <summary>Torrents seeding at once, or null.</summary>
    public int? MaxSeeds { get; init; }

    /// <summary>Torrents downloading or seeding at once, or null.</summary>
    public int? MaxActive { get; init; }

    /// <summary>A running torrent that moved no payload for this long does not count as active; null: never.</summary>
    public TimeSpan? StalledAfter { get; init; }

    /// <summary>Whether any limit holds torrents back.</summary>
    public bool Any => MaxDownloads is not null || MaxSeeds is not null || MaxActive is not null;

    /// <summary>Throws when a limit is negative or the stalled time is not positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (MaxDownloads is < 0) throw new ArgumentOutOfRangeException(nameof(MaxDownloads), MaxDownloads, "must be 0 or more");
        if (MaxSeeds is < 0) throw new ArgumentOutOfRangeException(nameof(MaxSeeds), MaxSeeds, "must be 0 or more");
        if (MaxActive is < 0) throw new ArgumentOutOfRangeException(nameof(MaxActive), MaxActive, "must be 0 or more");
        if (StalledAfter is { } s && s <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(StalledAfter), s, "must be positive");
    }
}

/// <summary>How a torrent takes part in the queue.</summary>
internal enum QueueRole
{
    /// <summary>Wants to run and waits for a slot (auto-managed), running or queued now.</summary>
    Auto,
    /// <summary>Started with "start now": runs beside the queue, never queued, but counts.</summary>
    Forced,
}

/// <summary>One torrent as the planner sees it.</summary>
/// <param name="Role">Auto or forced.</param>
/// <param name="Seeding">Counts against the seed limit (complete), else against the download limit.</param>
/// <param name="Running">Downloading, seeding, fetching metadata, or being started.</param>
/// <param name="Stalled">Running and moved no payload for the stalled time.</param>
internal readonly record struct QueueEntry(QueueRole Role, bool Seeding, bool Running, bool Stalled);

/// <summary>
/// Decides which torrents run: a pure function of the torrents in queue order and the limits, so it is tested without
/// an engine. Forced torrents that run and are not stalled take their slots first; then auto torrents, front to back,
/// take the slots left (a stalled running one keeps running without taking one). The rest wait, queued.
/// </summary>
internal static class QueuePlanner
{
    /// <summary>For each entry (in queue order), whether it should run.</summary>
    public static bool[] Plan(IReadOnlyList<QueueEntry> entries, QueueLimits limits)
    {
        var run = new bool[entries.Count];
        int downloads = 0, seeds = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Role != QueueRole.Forced) continue;
            run[i] = true;
            if (e.Running && !e.Stalled) Count(e, ref downloads, ref seeds);
        }
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Role != QueueRole.Auto) continue;
            if (e.Running && e.Stalled)
            {
                run[i] = true;
                continue;
            }
            bool fits = (e.Seeding ? Below(seeds, limits.MaxSeeds) : Below(downloads, limits.MaxDownloads))
                        && Below(downloads + seeds, limits.MaxActive);
            if (!fits) continue;
            run[i] = true;
            Count(e, ref downloads, ref seeds);
        }
        return run;
    }

    private static bool Below(int count, int? limit) => limit is not { } l || count < l;

    private static void Count(QueueEntry e, ref int downloads, ref int seeds)
    {
        if (e.Seeding) seeds++;
        else downloads++;
    }
}
