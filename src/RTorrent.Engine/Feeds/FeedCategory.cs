using RTorrent.Engine.Client;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// Where a rule's category goes on the torrents it adds: the torrent's category (docs/CATEGORIES.md), created with its
/// default folder when the session has none of that name. A rule with a save folder of its own keeps that folder;
/// otherwise the category's folders decide (its incomplete folder first), as qBittorrent's RSS rules do.
/// </summary>
public static class FeedCategory
{
    /// <summary>The options with <paramref name="category"/> applied (unchanged when null or blank).</summary>
    /// <param name="options">The add options, their save folder already chosen.</param>
    /// <param name="category">The rule's category.</param>
    /// <param name="ruleHasSavePath">The rule names its own save folder, which the category must not replace.</param>
    public static TorrentOptions Apply(TorrentOptions options, string? category, bool ruleHasSavePath = false)
    {
        if (string.IsNullOrWhiteSpace(category)) return options;
        return options with { Category = category.Trim(), UseCategoryFolder = !ruleHasSavePath };
    }
}
