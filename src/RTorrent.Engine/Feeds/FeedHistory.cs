using System.Text.Json;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// What the feeds already took, so that a restart adds nothing twice: the ids of items taken from each feed (keyed by
/// the feed's address, so renaming a feed keeps its history) and the episodes each smart-filter rule took (keyed by
/// the rule's name). Kept in <c>feeds-history.json</c> in the session folder, written atomically after each poll that
/// took something. At most <see cref="MaxItemsPerFeed"/> ids per feed and <see cref="MaxEpisodesPerRule"/> episodes
/// per rule are kept, oldest forgotten first (a feed lists its latest items: an id that old is out of it).
/// Not thread-safe: the feed manager uses it under its own lock.
/// </summary>
public sealed class FeedHistory
{
    /// <summary>The file name in the session folder.</summary>
    public const string FileName = "feeds-history.json";

    /// <summary>Item ids kept per feed.</summary>
    public const int MaxItemsPerFeed = 5000;

    /// <summary>Episodes kept per rule.</summary>
    public const int MaxEpisodesPerRule = 10000;

    private readonly Dictionary<string, Remembered> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Remembered> _episodes = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether something changed since the last save.</summary>
    public bool IsDirty { get; private set; }

    /// <summary>Whether the item was taken from the feed at <paramref name="feedUrl"/>.</summary>
    public bool HasItem(string feedUrl, string itemId) => _items.TryGetValue(feedUrl, out var r) && r.Contains(itemId);

    /// <summary>Whether <paramref name="rule"/> took the episode key (<see cref="EpisodeId.Keys"/>).</summary>
    public bool HasEpisode(string rule, string key) => _episodes.TryGetValue(rule, out var r) && r.Contains(key);

    /// <summary>The episodes a rule took, oldest first.</summary>
    public IReadOnlyList<string> EpisodesOf(string rule) => _episodes.TryGetValue(rule, out var r) ? r.ToList() : [];

    /// <summary>Remembers a taken item.</summary>
    public void AddItem(string feedUrl, string itemId)
    {
        if (!_items.TryGetValue(feedUrl, out var r)) _items[feedUrl] = r = new Remembered(MaxItemsPerFeed);
        if (r.Add(itemId)) IsDirty = true;
    }

    /// <summary>Remembers an episode a rule took.</summary>
    public void AddEpisode(string rule, string key)
    {
        if (!_episodes.TryGetValue(rule, out var r)) _episodes[rule] = r = new Remembered(MaxEpisodesPerRule);
        if (r.Add(key)) IsDirty = true;
    }

    /// <summary>Forgets what a rule took (the user wants its episodes again).</summary>
    public void ClearRule(string rule)
    {
        if (_episodes.Remove(rule)) IsDirty = true;
    }

    /// <summary>Reads the history; an absent file is an empty history, a damaged one is reported and read as empty.</summary>
    /// <exception cref="FormatException">The file is not a history (the caller logs it and starts empty).</exception>
    public static FeedHistory Load(string sessionDirectory)
    {
        var history = new FeedHistory();
        var path = Path.Combine(sessionDirectory, FileName);
        if (!File.Exists(path)) return history;
        var info = new FileInfo(path);
        if (info.Length > 64L * 1024 * 1024) throw new FormatException($"{FileName} is larger than 64 MiB");
        FeedHistoryDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize(File.ReadAllBytes(path), FeedJsonContext.Default.FeedHistoryDocument);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{FileName} is damaged: {e.Message}", e);
        }
        if (doc?.Items is { } items)
            foreach (var (feed, ids) in items)
                foreach (var id in ids ?? []) if (id is not null) history.AddItem(feed, id);
        if (doc?.Episodes is { } episodes)
            foreach (var (rule, keys) in episodes)
                foreach (var key in keys ?? []) if (key is not null) history.AddEpisode(rule, key);
        history.IsDirty = false;
        return history;
    }

    /// <summary>Writes the history atomically (temporary file, fsync, rename) and marks it clean.</summary>
    public async Task SaveAsync(string sessionDirectory, CancellationToken cancellationToken = default)
    {
        var doc = new FeedHistoryDocument
        {
            Version = 1,
            Items = _items.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.ToList(), StringComparer.Ordinal),
            Episodes = _episodes.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.ToList(), StringComparer.OrdinalIgnoreCase),
        };
        IsDirty = false;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(doc, FeedJsonContext.Default.FeedHistoryDocument);
        await AtomicFile.WriteAllBytesAsync(Path.Combine(sessionDirectory, FileName), bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A set that remembers insertion order and forgets its oldest beyond a cap.</summary>
    private sealed class Remembered(int cap)
    {
        private readonly HashSet<string> _set = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();

        public bool Contains(string key) => _set.Contains(key);

        public bool Add(string key)
        {
            if (!_set.Add(key)) return false;
            _order.Enqueue(key);
            while (_order.Count > cap) _set.Remove(_order.Dequeue());
            return true;
        }

        public List<string> ToList() => [.. _order];
    }
}

/// <summary>feeds-history.json.</summary>
internal sealed record FeedHistoryDocument
{
    public int Version { get; init; } = 1;
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Items { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Episodes { get; init; }
}
