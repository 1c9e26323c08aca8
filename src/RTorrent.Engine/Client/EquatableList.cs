using System.Collections;

namespace RTorrent.Engine.Client;

/// <summary>
/// A read-only list equal to another list with the same items in the same order. Snapshot records compare by value to
/// tell which torrents changed, but lists compare by reference: a torrent's labels sent to an attached interface come
/// back as a new list and would make every received snapshot differ from the one before. Snapshots carry their lists
/// as this type, so a snapshot and its copy through JSON are equal.
/// </summary>
[System.Runtime.CompilerServices.CollectionBuilder(typeof(EquatableList), nameof(EquatableList.Create))]
public sealed class EquatableList<T> : IReadOnlyList<T>, IEquatable<EquatableList<T>>
{
    private readonly T[] _items;

    /// <summary>An empty list.</summary>
    public static EquatableList<T> Empty { get; } = new([]);

    /// <summary>A list of <paramref name="items"/> (copied).</summary>
    public EquatableList(IEnumerable<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        _items = items.ToArray();
    }

    /// <inheritdoc/>
    public T this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(EquatableList<T>? other) =>
        other is not null && (ReferenceEquals(this, other) || _items.AsSpan().SequenceEqual(other._items, EqualityComparer<T>.Default));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is EquatableList<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (T item in _items) hash.Add(item);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => "[" + string.Join(", ", _items) + "]";
}

/// <summary>Makes <see cref="EquatableList{T}"/>s.</summary>
public static class EquatableList
{
    /// <summary><paramref name="items"/> as an equatable list (itself when it already is one).</summary>
    public static EquatableList<T> Of<T>(IReadOnlyList<T>? items) =>
        items switch
        {
            null => EquatableList<T>.Empty,
            EquatableList<T> same => same,
            { Count: 0 } => EquatableList<T>.Empty,
            _ => new EquatableList<T>(items),
        };

    /// <summary>Tiers of trackers as an equatable list of equatable lists.</summary>
    public static EquatableList<EquatableList<string>> OfTiers(IReadOnlyList<IReadOnlyList<string>>? tiers) =>
        tiers switch
        {
            null or { Count: 0 } => EquatableList<EquatableList<string>>.Empty,
            EquatableList<EquatableList<string>> same => same,
            _ => new EquatableList<EquatableList<string>>(tiers.Select(Of)),
        };

    /// <summary>For collection expressions (<c>Labels = ["a", "b"]</c>).</summary>
    public static EquatableList<T> Create<T>(ReadOnlySpan<T> items) => items.IsEmpty ? EquatableList<T>.Empty : new EquatableList<T>(items.ToArray());
}

/// <summary>
/// A torrent's lists as its snapshots carry them (<see cref="EquatableList{T}"/>), made again only when the torrent
/// replaces a list (so a thousand idle torrents snapshotted twice a second allocate nothing for them).
/// </summary>
internal sealed class SnapshotListCache
{
    private (IReadOnlyList<string>? Source, EquatableList<string> View) _labels;
    private (IReadOnlyList<IReadOnlyList<string>>? Source, EquatableList<EquatableList<string>> View) _trackers;
    private (IReadOnlyList<string>? Source, EquatableList<string> View) _webSeeds;

    public EquatableList<string> Labels(IReadOnlyList<string> source) => View(ref _labels, source);

    public EquatableList<string> WebSeeds(IReadOnlyList<string> source) => View(ref _webSeeds, source);

    public EquatableList<EquatableList<string>> Trackers(IReadOnlyList<IReadOnlyList<string>> source)
    {
        if (!ReferenceEquals(_trackers.Source, source) || _trackers.View is null) _trackers = (source, EquatableList.OfTiers(source));
        return _trackers.View;
    }

    private static EquatableList<string> View(ref (IReadOnlyList<string>? Source, EquatableList<string> View) cache, IReadOnlyList<string> source)
    {
        if (!ReferenceEquals(cache.Source, source) || cache.View is null) cache = (source, EquatableList.Of(source));
        return cache.View;
    }
}
