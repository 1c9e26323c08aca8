using RTorrent.Engine.Client;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// Where a rule's category goes on the torrents it adds: the one place to change when categories land (issue 18,
/// part 3, done in parallel). Until then the category is the torrent's first label, which the interface and the RPC
/// (<c>labels</c>) already show and filter by.
/// </summary>
public static class FeedCategory
{
    /// <summary>The options with <paramref name="category"/> applied (unchanged when null or blank).</summary>
    public static TorrentOptions Apply(TorrentOptions options, string? category)
    {
        if (string.IsNullOrWhiteSpace(category)) return options;
        return options with { Labels = TorrentLabels.Normalize([category, .. options.Labels]) };
    }
}
