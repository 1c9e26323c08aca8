namespace RTorrent.Engine.Client;

/// <summary>What a seeding rule does when a torrent reaches its limit (qBittorrent's <c>max_ratio_act</c>).</summary>
public enum SeedingLimitAction
{
    /// <summary>Stop (pause) the torrent with a note naming the limit; the queue does not start it again.</summary>
    Stop = 0,
    /// <summary>Remove the torrent from the session, keeping its data.</summary>
    Remove = 1,
    /// <summary>Remove the torrent and delete its data.</summary>
    RemoveWithData = 2,
}

/// <summary>
/// The session's seeding rules beside the seed ratio limit (<see cref="EngineConfig.SeedRatioLimit"/>): the idle
/// limit (Transmission's <c>idle-seeding-limit</c>), the seeding time limit (qBittorrent's <c>max_seeding_time</c>),
/// the minimum seeding time no rule cuts short (private trackers' "seed at least N hours"), and what a rule does.
/// All times are minutes, as both clients count them. docs/SEEDING-RULES.md.
/// </summary>
public sealed record SeedingRules
{
    /// <summary>No rule (the default).</summary>
    public static readonly SeedingRules None = new();

    /// <summary>The longest a limit may be: 100 years of minutes, so deadlines stay far inside DateTimeOffset.</summary>
    public const int MaxMinutes = 52_560_000;

    /// <summary>A seeding torrent that uploaded nothing for this many minutes stops; null: no idle limit.</summary>
    public int? IdleLimitMinutes { get; init; }

    /// <summary>A torrent that seeded this many minutes in all (across runs) stops; null: no seeding time limit.</summary>
    public int? SeedingTimeLimitMinutes { get; init; }

    /// <summary>No rule acts before a torrent seeded this many minutes in all; 0: none.</summary>
    public int MinSeedingTimeMinutes { get; init; }

    /// <summary>What a rule does when a limit is reached (ratio, idle, seeding time alike).</summary>
    public SeedingLimitAction Action { get; init; } = SeedingLimitAction.Stop;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A time outside 0..<see cref="MaxMinutes"/>, a limit of 0, or an unknown action.</exception>
    public void Validate()
    {
        ValidateLimit(IdleLimitMinutes, nameof(IdleLimitMinutes));
        ValidateLimit(SeedingTimeLimitMinutes, nameof(SeedingTimeLimitMinutes));
        ValidateMinimum(MinSeedingTimeMinutes, nameof(MinSeedingTimeMinutes));
        if (!Enum.IsDefined(Action)) throw new ArgumentOutOfRangeException(nameof(Action), Action, "Unknown seeding limit action.");
    }

    /// <summary>A limit: null or 1..<see cref="MaxMinutes"/> minutes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is not.</exception>
    public static void ValidateLimit(int? minutes, string paramName)
    {
        if (minutes is { } m && (m < 1 || m > MaxMinutes))
            throw new ArgumentOutOfRangeException(paramName, minutes, $"A seeding limit is 1 to {MaxMinutes} minutes.");
    }

    /// <summary>A minimum seeding time: 0..<see cref="MaxMinutes"/> minutes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is not.</exception>
    public static void ValidateMinimum(int minutes, string paramName)
    {
        if (minutes < 0 || minutes > MaxMinutes)
            throw new ArgumentOutOfRangeException(paramName, minutes, $"A minimum seeding time is 0 to {MaxMinutes} minutes.");
    }

    /// <summary>A torrent's own (mode, limit) pair, as the seed ratio's: a known mode and, for Custom, a limit.</summary>
    /// <exception cref="ArgumentException">The mode is unknown, the limit out of range, or Custom has none.</exception>
    public static void ValidateTorrentLimit(SeedRatioMode mode, int? minutes, string paramName)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(paramName, mode, "Unknown limit mode.");
        ValidateLimit(minutes, paramName);
        if (mode == SeedRatioMode.Custom && minutes is null)
            throw new ArgumentException("A custom limit mode needs a limit.", paramName);
    }

    /// <summary>The limit in force for a torrent's mode and own limit given the session's, or null for none.</summary>
    public static int? Effective(SeedRatioMode mode, int? own, int? session) => mode switch
    {
        SeedRatioMode.Global => session,
        SeedRatioMode.Custom => own,
        _ => null,
    };
}
