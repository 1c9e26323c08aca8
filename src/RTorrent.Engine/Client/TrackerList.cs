using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Client;

/// <summary>
/// A torrent's announce URLs in tiers (BEP 12), as the user edits them (Transmission's <c>trackerList</c>). An edited
/// list lives in the resume data; the saved .torrent is never rewritten.
/// </summary>
public static class TrackerList
{
    /// <summary>The empty list.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> None { get; } = [];

    /// <summary>
    /// Checks and tidies tiers given by the user: URLs are trimmed, must be absolute http, https or udp URLs (udp with
    /// a port); a URL given twice is kept only where it first appears; empty tiers are dropped. An empty list is allowed
    /// (the torrent then has no trackers). The result is a new immutable list.
    /// </summary>
    /// <exception cref="ArgumentException">A URL is unusable; the message names it and says why.</exception>
    public static IReadOnlyList<IReadOnlyList<string>> Normalize(IEnumerable<IEnumerable<string?>?> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<IReadOnlyList<string>>();
        foreach (var tier in tiers)
        {
            if (tier is null) continue;
            var urls = new List<string>();
            foreach (var raw in tier)
            {
                var url = raw?.Trim() ?? "";
                if (url.Length == 0) continue;
                if (!TrackerClientPool.TryParseUrl(url, out _, out var error))
                    throw new ArgumentException($"'{url}' is not a usable tracker URL: {error}", nameof(tiers));
                if (seen.Add(url)) urls.Add(url);
            }
            if (urls.Count > 0) result.Add(urls.AsReadOnly());
        }
        return result.Count == 0 ? None : result.AsReadOnly();
    }

    /// <summary>Whether two tier lists are the same URLs in the same tiers and order.</summary>
    internal static bool Same(IReadOnlyList<IReadOnlyList<string>> a, IReadOnlyList<IReadOnlyList<string>> b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!a[i].SequenceEqual(b[i], StringComparer.Ordinal)) return false;
        return true;
    }
}
