namespace RTorrent.Engine.Client;

/// <summary>How <see cref="ClientEngine.MoveInQueueAsync"/> moves torrents (Transmission's <c>queue-move-*</c>).</summary>
public enum QueueMove
{
    /// <summary>To the front, keeping their order among themselves.</summary>
    Top,
    /// <summary>One step towards the front.</summary>
    Up,
    /// <summary>One step towards the back.</summary>
    Down,
    /// <summary>To the back, keeping their order among themselves.</summary>
    Bottom,
}

/// <summary>
/// The session's queue: every item has a dense position 0..n-1; new items join at the back, removing one closes the
/// gap. Moves follow Transmission's <c>tr_torrentsQueueMoveTop/Up/Down/Bottom</c> and <c>tr_torrentSetQueuePosition</c>
/// for several items at once, including the edge fix of Transmission 4.1 (pull request 8685): a batch that is
/// already at the front does not move "up" (4.0.6 swapped the first two), nor one at the back "down".
/// </summary>
/// <remarks>Not thread-safe: the engine uses it on its loop only.</remarks>
/// <typeparam name="T">What is queued (a torrent).</typeparam>
internal sealed class QueueOrder<T> where T : class
{
    private readonly List<T> _order = [];
    private readonly Dictionary<T, int> _positions = new(ReferenceEqualityComparer.Instance);
    private readonly Action<T, int> _positionChanged;

    /// <param name="positionChanged">Told each item's new position whenever it changes (also when it joins).</param>
    public QueueOrder(Action<T, int> positionChanged) => _positionChanged = positionChanged;

    /// <summary>Number of items.</summary>
    public int Count => _order.Count;

    /// <summary>The items front to back (a copy).</summary>
    public IReadOnlyList<T> Items => [.. _order];

    /// <summary>Whether an item is queued.</summary>
    public bool Contains(T item) => _positions.ContainsKey(item);

    /// <summary>An item's position, or -1.</summary>
    public int PositionOf(T item) => _positions.TryGetValue(item, out int p) ? p : -1;

    /// <summary>Adds an item at the back.</summary>
    public void Append(T item)
    {
        if (_positions.ContainsKey(item)) return;
        _order.Add(item);
        Renumber(_order.Count - 1, _order.Count - 1, null);
    }

    /// <summary>Removes an item; the ones behind it move up one. Returns those whose position changed.</summary>
    public IReadOnlyList<T> Remove(T item)
    {
        if (!_positions.Remove(item, out int at)) return [];
        _order.RemoveAt(at);
        var changed = new List<T>();
        Renumber(at, _order.Count - 1, changed);
        return changed;
    }

    /// <summary>
    /// Moves one item to <paramref name="position"/>, clamped to 0..n-1 (Transmission: "pos &lt;= 0 moves to the front;
    /// pos &gt;= queue's length moves to the back"); the items between shift by one. Returns those whose position
    /// changed (none when the item is not queued).
    /// </summary>
    public IReadOnlyList<T> SetPosition(T item, int position)
    {
        var changed = new List<T>();
        if (!_positions.TryGetValue(item, out int from)) return changed;
        int to = Math.Clamp(position, 0, _order.Count - 1);
        MoveTo(from, to);
        Renumber(Math.Min(from, to), Math.Max(from, to), changed);
        return changed;
    }

    /// <summary>
    /// Moves a batch as Transmission does; items not queued and repeats are ignored. Returns the items whose position
    /// changed.
    /// </summary>
    public IReadOnlyList<T> Move(IEnumerable<T> items, QueueMove move)
    {
        var batch = items.Where(_positions.ContainsKey).Distinct<T>(ReferenceEqualityComparer.Instance)
            .OrderBy(t => _positions[t]).ToList();
        var changed = new List<T>();
        if (batch.Count == 0) return changed;
        var before = _order.ToArray();
        switch (move)
        {
            case QueueMove.Top:
            case QueueMove.Bottom:
            {
                // Each moved to the front from the back of the batch (or to the back from its front): the batch ends
                // up together at that end in its own order; a stable partition does the same in one pass.
                var moved = new HashSet<T>(batch, ReferenceEqualityComparer.Instance);
                var rest = _order.Where(t => !moved.Contains(t));
                var result = move == QueueMove.Top ? batch.Concat(rest).ToList() : rest.Concat(batch).ToList();
                _order.Clear();
                _order.AddRange(result);
                break;
            }
            case QueueMove.Up:
            {
                // Front first; each steps over its neighbour in front, unless it is part of a block already at the front.
                int front = 0;
                foreach (var t in batch)
                {
                    int at = IndexNow(t);
                    if (at == front) front++;
                    else MoveTo(at, at - 1);
                }
                break;
            }
            case QueueMove.Down:
            {
                int back = _order.Count - 1;
                for (int i = batch.Count - 1; i >= 0; i--)
                {
                    int at = IndexNow(batch[i]);
                    if (at == back) back--;
                    else MoveTo(at, at + 1);
                }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(move), move, null);
        }
        int first = 0;
        while (first < before.Length && ReferenceEquals(before[first], _order[first])) first++;
        int last = before.Length - 1;
        while (last > first && ReferenceEquals(before[last], _order[last])) last--;
        if (first < before.Length) Renumber(first, last, changed);
        return changed;
    }

    /// <summary>
    /// Puts items restored from a previous run back in their saved order: they take the positions they hold now, in
    /// the order of their saved positions (items without one after the rest, in their current order). Returns the
    /// items whose position changed.
    /// </summary>
    public IReadOnlyList<T> Restore(IReadOnlyList<(T Item, int? SavedPosition)> restored)
    {
        var present = restored.Where(r => _positions.ContainsKey(r.Item))
            .DistinctBy(r => r.Item, ReferenceEqualityComparer.Instance).ToList();
        var slots = present.Select(r => _positions[r.Item]).Order().ToList();
        var sorted = present.OrderBy(r => r.SavedPosition ?? int.MaxValue).ThenBy(r => _positions[r.Item]).ToList();
        for (int i = 0; i < slots.Count; i++) _order[slots[i]] = sorted[i].Item;
        var changed = new List<T>();
        if (slots.Count > 0) Renumber(slots[0], slots[^1], changed);
        return changed;
    }

    // Positions in _positions are stale inside a batch move; the list is the truth until Renumber.
    private int IndexNow(T item)
    {
        int guess = _positions[item];
        for (int d = 0; d < _order.Count; d++)
        {
            if (guess + d < _order.Count && ReferenceEquals(_order[guess + d], item)) return guess + d;
            if (guess - d >= 0 && ReferenceEquals(_order[guess - d], item)) return guess - d;
        }
        throw new InvalidOperationException("A queued item is missing from the queue.");
    }

    private void MoveTo(int from, int to)
    {
        if (from == to) return;
        var item = _order[from];
        _order.RemoveAt(from);
        _order.Insert(to, item);
    }

    private void Renumber(int first, int last, List<T>? changed)
    {
        for (int i = first; i <= last; i++)
        {
            var t = _order[i];
            if (_positions.TryGetValue(t, out int old) && old == i) continue;
            _positions[t] = i;
            changed?.Add(t);
            _positionChanged(t, i);
        }
    }
}
