namespace RTorrent.Engine.Client;

/// <summary>Which seed ratio limit a torrent follows; the values are Transmission's <c>tr_ratiolimit</c> (<c>seedRatioMode</c>).</summary>
public enum SeedRatioMode
{
    /// <summary>The session's limit (settings.json <c>seedRatioLimit</c>; none when it is null).</summary>
    Global = 0,
    /// <summary>The torrent's own limit.</summary>
    Custom = 1,
    /// <summary>Seed without a limit, whatever the session says.</summary>
    Unlimited = 2,
}

/// <summary>
/// A torrent's seed ratio limit: its mode and its own limit, and when it is reached. The ratio is what Transmission
/// checks: bytes uploaded over the torrent's life divided by the size of the wanted data. A seeding torrent that
/// reaches its limit is stopped with <see cref="ReachedNote"/>; a torrent stopped by hand (or by the limit) that is
/// complete and at its limit is finished (Transmission's <c>isFinished</c>).
/// </summary>
/// <remarks>Used on the engine loop only.</remarks>
internal sealed class SeedingLimit
{
    /// <summary>The note a torrent stopped by its limit shows.</summary>
    public const string ReachedNote = "seed ratio limit reached";

    private long _checkedUploaded = -1;
    private bool _checkDue = true;

    /// <exception cref="ArgumentException">See <see cref="Validate"/>.</exception>
    public SeedingLimit(SeedRatioMode mode, double? limit)
    {
        Validate(mode, limit);
        if (mode == SeedRatioMode.Custom && limit is null)
            throw new ArgumentException("A custom seed ratio mode needs a limit.", nameof(limit));
        Mode = mode;
        Limit = limit;
    }

    /// <summary>Which limit applies.</summary>
    public SeedRatioMode Mode { get; private set; }

    /// <summary>The torrent's own limit (used in <see cref="SeedRatioMode.Custom"/>, remembered in the other modes), or null.</summary>
    public double? Limit { get; private set; }

    /// <summary>Checks a mode and a limit: a known mode; a limit that is a finite number of 0 or more.</summary>
    /// <exception cref="ArgumentException">The mode is unknown or the limit is negative, infinite or NaN.</exception>
    public static void Validate(SeedRatioMode mode, double? limit)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown seed ratio mode.");
        ValidateLimit(limit, nameof(limit));
    }

    /// <summary>Checks a limit: null, or a finite number of 0 or more.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is negative, infinite or NaN.</exception>
    public static void ValidateLimit(double? limit, string paramName)
    {
        if (limit is { } l && (!double.IsFinite(l) || l < 0))
            throw new ArgumentOutOfRangeException(paramName, limit, "A seed ratio limit is a number of 0 or more.");
    }

    /// <summary>Changes the mode, and the own limit when <paramref name="limit"/> is given.</summary>
    /// <exception cref="ArgumentException">Custom without any limit, or see <see cref="Validate"/>.</exception>
    public void Set(SeedRatioMode mode, double? limit)
    {
        Validate(mode, limit);
        var newLimit = limit ?? Limit;
        if (mode == SeedRatioMode.Custom && newLimit is null)
            throw new ArgumentException("A custom seed ratio mode needs a limit.", nameof(limit));
        Mode = mode;
        Limit = newLimit;
        _checkDue = true;
    }

    /// <summary>The limit in force given the session's, or null for none.</summary>
    public double? Effective(double? sessionLimit) => Mode switch
    {
        SeedRatioMode.Global => sessionLimit,
        SeedRatioMode.Custom => Limit,
        _ => null,
    };

    /// <summary>Whether <paramref name="uploaded"/> bytes reach <paramref name="limit"/> times <paramref name="wantedSize"/>.</summary>
    public static bool Reached(long uploaded, long wantedSize, double? limit) =>
        limit is { } l && wantedSize > 0 && uploaded >= l * wantedSize;

    /// <summary>Something may have moved the ratio or the limit (state, priorities, the session's limit): check again.</summary>
    public void Invalidate() => _checkDue = true;

    /// <summary>
    /// Whether a seeding torrent's limit needs checking now: only when its upload total moved or something was
    /// invalidated, so ten thousand idle seeds cost a comparison each per tick.
    /// </summary>
    public bool CheckDue(long uploaded)
    {
        if (!_checkDue && uploaded == _checkedUploaded) return false;
        _checkDue = false;
        _checkedUploaded = uploaded;
        return true;
    }
}
