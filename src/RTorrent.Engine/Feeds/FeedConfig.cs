using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// The feeds and download rules: <c>feeds.json</c> in the session folder (qBittorrent also keeps its feeds and its
/// rules apart from its settings). Edited by hand (picked up live, at the next poll tick), through the native RPC
/// (<c>feeds-set</c>) or from the interface; written atomically.
/// </summary>
/// <remarks>
/// The properties have setters only so that the JSON reader keeps the defaults of the ones a file leaves out (with
/// init-only properties it writes default values over them); treat instances as immutable and change them with
/// <c>with</c>.
/// </remarks>
public sealed record FeedConfig
{
    /// <summary>The file name in the session folder.</summary>
    public const string FileName = "feeds.json";

    /// <summary>The feeds, by name.</summary>
    public IReadOnlyList<FeedDefinition> Feeds { get; set; } = [];

    /// <summary>The download rules, tried in this order: the first that takes an item wins.</summary>
    public IReadOnlyList<FeedRule> Rules { get; set; } = [];

    /// <summary>Most feeds and rules one configuration may have (qBittorrent users run dozens, not hundreds).</summary>
    public const int MaxFeeds = 500, MaxRules = 2000;

    /// <summary>What is wrong, one line each; empty when the configuration is usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        // Bounds for what feeds-set (an RPC caller) or a hand edit may ask the session to poll and match.
        if (Feeds.Count > MaxFeeds) errors.Add($"feeds: at most {MaxFeeds}, not {Feeds.Count}");
        if (Rules.Count > MaxRules) errors.Add($"rules: at most {MaxRules}, not {Rules.Count}");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in Feeds)
        {
            if (f is null) { errors.Add("feeds: an entry is null"); continue; }
            var who = $"feed '{f.Name}'";
            if (string.IsNullOrWhiteSpace(f.Name)) errors.Add("feeds: a feed has no name");
            else if (f.Name.Length > 100) errors.Add($"{who}: the name is longer than 100 characters");
            else if (!names.Add(f.Name)) errors.Add($"{who}: the name is used twice");
            if (string.IsNullOrWhiteSpace(f.Url)) errors.Add($"{who}: url is empty");
            else if ((f.Source ?? "rss").Equals("rss", StringComparison.OrdinalIgnoreCase)
                && !(Uri.TryCreate(f.Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
                errors.Add($"{who}: url must be an http or https address, not '{f.Url}'");
            if (f.IntervalMinutes is < 1 or > 10080) errors.Add($"{who}: intervalMinutes must be 1 to 10080 (a week), not {f.IntervalMinutes}");
        }
        var rules = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in Rules)
        {
            if (r is null) { errors.Add("rules: an entry is null"); continue; }
            var who = $"rule '{r.Name}'";
            if (string.IsNullOrWhiteSpace(r.Name)) errors.Add("rules: a rule has no name");
            else if (r.Name.Length > 100) errors.Add($"{who}: the name is longer than 100 characters");
            else if (!rules.Add(r.Name)) errors.Add($"{who}: the name is used twice");
            foreach (var feed in r.Feeds ?? [])
                if (!names.Contains(feed)) errors.Add($"{who}: no feed is named '{feed}'");
            try { FeedPattern.Parse(r.MustContain, r.UseRegex); } catch (ArgumentException e) { errors.Add($"{who}: mustContain: {e.Message}"); }
            try { FeedPattern.Parse(r.MustNotContain, r.UseRegex); } catch (ArgumentException e) { errors.Add($"{who}: mustNotContain: {e.Message}"); }
            if (r.SavePath is { Length: > 0 } p && !Path.IsPathFullyQualified(p)) errors.Add($"{who}: savePath must be an absolute path, not '{p}'");
            if (r.Category is { } c && (c.Trim().Length == 0 || c.Contains(','))) errors.Add($"{who}: category must not be blank or contain a comma");
        }
        return errors;
    }

    /// <summary>The JSON text (UTF-8, indented, ending in a newline).</summary>
    public byte[] Serialize() => [.. JsonSerializer.SerializeToUtf8Bytes(this, FeedJsonContext.Default.FeedConfig), (byte)'\n'];

    /// <summary>Parses and validates feeds.json.</summary>
    /// <exception cref="FormatException">Not JSON of the right shape, or an invalid value; the message lists what.</exception>
    public static FeedConfig Parse(ReadOnlySpan<byte> json)
    {
        if (json.StartsWith(Encoding.UTF8.Preamble)) json = json[Encoding.UTF8.Preamble.Length..];
        if (json.Trim(" \t\r\n"u8).IsEmpty) return new FeedConfig();
        FeedConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, FeedJsonContext.Default.FeedConfig);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{FileName}: not valid{(e.LineNumber is { } l ? $" at line {l + 1}" : "")}: {e.Message}", e);
        }
        if (config is null) throw new FormatException($"{FileName}: must hold a JSON object");
        var errors = config.Validate();
        if (errors.Count > 0) throw new FormatException($"{FileName}: " + string.Join("; ", errors));
        return config;
    }

    /// <summary>Reads feeds.json from <paramref name="sessionDirectory"/>; an absent file is an empty configuration.</summary>
    public static FeedConfig Load(string sessionDirectory)
    {
        var path = Path.Combine(sessionDirectory, FileName);
        return File.Exists(path) ? Parse(File.ReadAllBytes(path)) : new FeedConfig();
    }

    /// <summary>Writes feeds.json atomically after validating.</summary>
    public Task SaveAsync(string sessionDirectory, CancellationToken cancellationToken = default)
    {
        var errors = Validate();
        if (errors.Count > 0) throw new FormatException(string.Join("; ", errors));
        return AtomicFile.WriteAllBytesAsync(Path.Combine(sessionDirectory, FileName), Serialize(), cancellationToken);
    }
}

/// <summary>One feed.</summary>
public sealed record FeedDefinition
{
    /// <summary>Unique name (any case), what rules and the interface call it.</summary>
    public required string Name { get; set; }

    /// <summary>The address (http or https for <c>rss</c>).</summary>
    public required string Url { get; set; }

    /// <summary>The torrent source that reads it: <c>rss</c> (built in: RSS, Atom, torznab), or a plugin's.</summary>
    public string Source { get; set; } = "rss";

    /// <summary>Minutes between polls (qBittorrent's default is 30).</summary>
    public int IntervalMinutes { get; set; } = 30;

    /// <summary>Polled at all.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>A download rule: which items of which feeds are added, and how.</summary>
public sealed record FeedRule
{
    /// <summary>Unique name; the smart filter's taken episodes are kept under it.</summary>
    public required string Name { get; set; }

    /// <summary>Used at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The feeds it applies to, by name; empty for all.</summary>
    public IReadOnlyList<string> Feeds { get; set; } = [];

    /// <summary>Include pattern (<see cref="FeedPattern"/>): empty takes every title.</summary>
    public string? MustContain { get; set; }

    /// <summary>Exclude pattern: a title that matches it is not taken.</summary>
    public string? MustNotContain { get; set; }

    /// <summary>The patterns are regular expressions instead of wildcards.</summary>
    public bool UseRegex { get; set; }

    /// <summary>Take each episode once (<see cref="EpisodeId"/>): the first matching item wins.</summary>
    public bool SmartFilter { get; set; }

    /// <summary>The category given to the torrents it adds, or null.</summary>
    public string? Category { get; set; }

    /// <summary>Where their files go; null for the session's download folder.</summary>
    public string? SavePath { get; set; }

    /// <summary>Add them paused; null follows the session's "start added torrents".</summary>
    public bool? AddPaused { get; set; }

    /// <summary>Whether the rule may look at items of <paramref name="feed"/>.</summary>
    public bool AppliesTo(string feed) => Feeds.Count == 0 || Feeds.Contains(feed, StringComparer.OrdinalIgnoreCase);
}

/// <summary>Source-generated JSON metadata for feeds.json and the feeds history (no reflection, trimming-safe).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(FeedConfig))]
[JsonSerializable(typeof(FeedHistoryDocument))]
internal sealed partial class FeedJsonContext : JsonSerializerContext;
