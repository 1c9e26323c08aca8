namespace RTorrent.Engine.Client;

/// <summary>
/// A torrent's labels (Transmission's <c>labels</c>): free text the user sorts torrents by. Each label is trimmed,
/// must not be empty and must not contain a comma (Transmission joins labels with commas and refuses them too);
/// duplicates are dropped, keeping the first, compared ordinally. The engine gives them no meaning.
/// </summary>
public static class TorrentLabels
{
    /// <summary>The empty list every torrent without labels shares.</summary>
    public static IReadOnlyList<string> None { get; } = [];

    /// <summary>Checks and tidies labels; the result is a new immutable list (or <see cref="None"/>).</summary>
    /// <exception cref="ArgumentException">A label is null, empty or blank, or contains a comma.</exception>
    public static IReadOnlyList<string> Normalize(IEnumerable<string?> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var result = new List<string>();
        foreach (var raw in labels)
        {
            var label = raw?.Trim() ?? "";
            if (label.Length == 0) throw new ArgumentException("A label cannot be empty.", nameof(labels));
            if (label.Contains(',')) throw new ArgumentException($"A label cannot contain a comma: '{label}'.", nameof(labels));
            if (!result.Contains(label, StringComparer.Ordinal)) result.Add(label);
        }
        return result.Count == 0 ? None : result.AsReadOnly();
    }

    /// <summary>Whether two label lists hold the same labels in the same order.</summary>
    internal static bool Same(IReadOnlyList<string> a, IReadOnlyList<string> b) =>
        ReferenceEquals(a, b) || a.SequenceEqual(b, StringComparer.Ordinal);
}
