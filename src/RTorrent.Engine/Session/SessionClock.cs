namespace RTorrent.Engine.Session;

/// <summary>
/// Session seconds: how long the session has been open over all its runs (stats.json's <c>seconds-active</c>), the
/// clock in which resume data keeps the start of a torrent's current seeding or downloading period.
/// </summary>
/// <remarks>
/// Kept in wall-clock time, a period going on at a save would have to be closed and rewritten at every quit or lose
/// the time since the last save (an idle torrent is otherwise never saved). In session seconds a torrent that seeds
/// whenever the session runs keeps the same period across restarts, its resume file does not change, and the time the
/// session was closed is not counted. A crash loses at most the time since stats.json was last saved (a minute).
/// </remarks>
public sealed class SessionClock
{
    private readonly long _secondsAtOpen;
    private readonly DateTimeOffset _openedAt;

    /// <param name="secondsAtOpen">Session seconds of the earlier runs (0 for a new session).</param>
    /// <param name="openedAt">When this run opened (wall clock).</param>
    public SessionClock(long secondsAtOpen, DateTimeOffset openedAt)
    {
        _secondsAtOpen = Math.Max(0, secondsAtOpen);
        _openedAt = openedAt;
    }

    /// <summary>When this run opened: where a period that began in an earlier run is taken to have ended, if it did.</summary>
    public DateTimeOffset OpenedAt => _openedAt;

    /// <summary>The session second of a moment of this run (whole seconds, rounded).</summary>
    public long ToSessionSeconds(DateTimeOffset at) =>
        Math.Max(0, _secondsAtOpen + (long)Math.Round((at - _openedAt).TotalSeconds, MidpointRounding.AwayFromZero));

    /// <summary>
    /// The moment of this run's clock that stands for session second <paramref name="seconds"/> of an earlier run: as
    /// long before this run opened as the session was open since then. A second later than the earlier runs' total
    /// (saved after stats.json, before a crash) is taken as the opening.
    /// </summary>
    public DateTimeOffset ToWallClock(long seconds) =>
        _openedAt - TimeSpan.FromSeconds(Math.Max(0, _secondsAtOpen - seconds));
}
