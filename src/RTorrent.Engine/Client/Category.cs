namespace RTorrent.Engine.Client;

/// <summary>
/// A category (qBittorrent's; Transmission 4's <c>group</c> in the RPC): a name, the folder its torrents' data goes to,
/// an optional folder they download into first, and seeding limits that stand between a torrent's own and the
/// session's. A torrent has one category or none (docs/CATEGORIES.md).
/// </summary>
public sealed record Category
{
    /// <summary>The name (<see cref="CategoryNames.Normalize"/>): also the default folder's name.</summary>
    public required string Name { get; init; }

    /// <summary>Where complete data goes; null: <c>&lt;download folder&gt;/&lt;name&gt;</c>. A relative path is under the download folder.</summary>
    public string? SavePath { get; init; }

    /// <summary>Where downloads go until complete; null: none (they download in <see cref="SavePath"/>). Relative as above.</summary>
    public string? IncompletePath { get; init; }

    /// <summary>The category's seed ratio limit for its torrents that follow the session's (mode 0); null: the session's.</summary>
    public double? SeedRatioLimit { get; init; }

    /// <summary>The category's seeding time limit in minutes, as <see cref="SeedRatioLimit"/>; null: the session's.</summary>
    public int? SeedingTimeLimit { get; init; }

    /// <summary>The category's idle seeding limit in minutes, as <see cref="SeedRatioLimit"/>; null: the session's.</summary>
    public int? IdleSeedingLimit { get; init; }

    /// <summary>The folder complete data of this category goes to, given the session's download folder.</summary>
    public string ResolveSavePath(string downloadFolder) =>
        Path.GetFullPath(SavePath is { Length: > 0 } p ? Path.Combine(downloadFolder, p) : Path.Combine(downloadFolder, Name));

    /// <summary>The folder downloads of this category go to until complete, or null when it has none.</summary>
    public string? ResolveIncompletePath(string downloadFolder) =>
        IncompletePath is { Length: > 0 } p ? Path.GetFullPath(Path.Combine(downloadFolder, p)) : null;

    /// <summary>The limits a torrent in this category follows in its "session" modes.</summary>
    internal CategoryLimits Limits => new(SeedRatioLimit, SeedingTimeLimit, IdleSeedingLimit);

    /// <summary>Checks the name and the limits; returns the category with its name tidied.</summary>
    /// <exception cref="ArgumentException">A bad name, folder or limit; the message names it.</exception>
    public Category Validated()
    {
        var name = CategoryNames.Normalize(Name);
        if (SavePath is { } s && s.Contains('\0')) throw new ArgumentException("A category's folder cannot contain a NUL character.", nameof(SavePath));
        if (IncompletePath is { } i && i.Contains('\0')) throw new ArgumentException("A category's folder cannot contain a NUL character.", nameof(IncompletePath));
        SeedingLimit.ValidateLimit(SeedRatioLimit, "seedRatioLimit");
        SeedingRules.ValidateLimit(SeedingTimeLimit, "seedingTimeLimit");
        SeedingRules.ValidateLimit(IdleSeedingLimit, "idleSeedingLimit");
        return this with
        {
            Name = name,
            SavePath = string.IsNullOrWhiteSpace(SavePath) ? null : SavePath.Trim(),
            IncompletePath = string.IsNullOrWhiteSpace(IncompletePath) ? null : IncompletePath.Trim(),
        };
    }
}

/// <summary>A category's seeding limits (null: the session's).</summary>
internal sealed record CategoryLimits(double? SeedRatioLimit, int? SeedingTimeLimit, int? IdleSeedingLimit);

/// <summary>Rules for category names: they name a folder, so they are one safe path segment.</summary>
public static class CategoryNames
{
    /// <summary>Longest name, in characters.</summary>
    public const int MaxLength = 100;

    /// <summary>
    /// Trims a name and checks it: not empty, at most <see cref="MaxLength"/> characters, no control character, no
    /// <c>/</c> or <c>\</c>, not <c>.</c> or <c>..</c>, no comma (Transmission joins names with commas).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not allowed; the message says why.</exception>
    public static string Normalize(string? name)
    {
        var n = name?.Trim() ?? "";
        if (n.Length == 0) throw new ArgumentException("A category needs a name.", nameof(name));
        if (n.Length > MaxLength) throw new ArgumentException($"A category name has at most {MaxLength} characters.", nameof(name));
        if (n is "." or "..") throw new ArgumentException($"'{n}' cannot be a category name.", nameof(name));
        foreach (char c in n)
        {
            if (char.IsControl(c)) throw new ArgumentException("A category name cannot contain control characters.", nameof(name));
            if (c is '/' or '\\' or ',') throw new ArgumentException($"A category name cannot contain '{c}': '{n}'.", nameof(name));
        }
        return n;
    }
}
