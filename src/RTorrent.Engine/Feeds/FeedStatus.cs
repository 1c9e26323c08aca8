using RTorrent.Abstractions;

namespace RTorrent.Engine.Feeds;

/// <summary>What happened to a feed item at the last poll.</summary>
public enum FeedItemState
{
    /// <summary>No rule takes it.</summary>
    New,
    /// <summary>A rule took it at this poll or an earlier one in this run; the torrent was added.</summary>
    Added,
    /// <summary>Taken before (it is in the history): nothing is done.</summary>
    Taken,
    /// <summary>A smart-filter rule matched, but its episode was already taken from another item.</summary>
    Skipped,
    /// <summary>A rule took it but adding failed (the message says why); tried again at the next poll.</summary>
    Failed,
}

/// <summary>One item of a feed as the interface shows it.</summary>
public sealed record FeedItemStatus
{
    /// <summary>The item's title.</summary>
    public required string Title { get; init; }

    /// <summary>Its id in the feed.</summary>
    public required string Id { get; init; }

    /// <summary>What happened to it.</summary>
    public FeedItemState State { get; init; }

    /// <summary>The rule that matched it, if any.</summary>
    public string? Rule { get; init; }

    /// <summary>The episode the smart filter read in its title (<c>S01E02</c>, <c>2024-01-15</c>), if any.</summary>
    public string? Episode { get; init; }

    /// <summary>Why it failed or was skipped, or the added torrent's name.</summary>
    public string? Message { get; init; }

    /// <summary>When it was published, if the feed says.</summary>
    public DateTimeOffset? Published { get; init; }

    /// <summary>Its size in bytes, if the feed says.</summary>
    public long? Size { get; init; }

    /// <summary>Seeders, if the feed says.</summary>
    public int? Seeders { get; init; }
}

/// <summary>One feed as the interface shows it.</summary>
public sealed record FeedStatus
{
    /// <summary>Its definition.</summary>
    public required FeedDefinition Definition { get; init; }

    /// <summary>The feed's own title, after a successful poll.</summary>
    public string? Title { get; init; }

    /// <summary>When it was last polled, successfully or not.</summary>
    public DateTimeOffset? LastPoll { get; init; }

    /// <summary>When it is polled next (null when disabled).</summary>
    public DateTimeOffset? NextPoll { get; init; }

    /// <summary>Why the last poll failed, or null.</summary>
    public string? Error { get; init; }

    /// <summary>The items of the last successful poll, in the feed's order.</summary>
    public IReadOnlyList<FeedItemStatus> Items { get; init; } = [];
}

/// <summary>All feeds and rules.</summary>
/// <param name="Feeds">The feeds in configuration order.</param>
/// <param name="Config">The configuration in force.</param>
/// <param name="ConfigError">Why feeds.json was not taken when it last changed (the previous configuration stays), or null.</param>
public sealed record FeedsSnapshot(IReadOnlyList<FeedStatus> Feeds, FeedConfig Config, string? ConfigError)
{
    /// <summary>No feeds.</summary>
    public static FeedsSnapshot Empty { get; } = new([], new FeedConfig(), null);
}

/// <summary>What a rule asks to add.</summary>
/// <param name="Feed">The feed's name.</param>
/// <param name="Rule">The rule's name.</param>
/// <param name="Item">The item.</param>
/// <param name="SavePath">The rule's save folder, or null for the session's.</param>
/// <param name="Category">The rule's category, or null.</param>
/// <param name="Paused">Add paused; null follows the session's setting.</param>
public sealed record FeedAddRequest(string Feed, string Rule, TorrentSourceItem Item, string? SavePath, string? Category, bool? Paused);

/// <summary>Where the feed manager adds what rules take (the session; a fake in tests).</summary>
public interface IFeedTarget
{
    /// <summary>
    /// Adds the item's torrent (its .torrent link, else its magnet link or info-hash) and returns the torrent's name.
    /// A torrent already in the session counts as added. Throws with a message for people when it cannot be added.
    /// </summary>
    Task<string> AddAsync(FeedAddRequest request, CancellationToken cancellationToken);
}
