using RTorrent.Engine.Client;

namespace RTorrent.Tui;

/// <summary>The main list's columns, in screen order. Every column is also a sort key.</summary>
public enum TorrentColumn
{
    /// <summary>Torrent name.</summary>
    Name,
    /// <summary>The daemon the torrent is on (shown only when the interface shows several).</summary>
    Host,
    /// <summary>Size of the wanted files.</summary>
    Size,
    /// <summary>Progress bar and percentage.</summary>
    Progress,
    /// <summary>State in words.</summary>
    State,
    /// <summary>Download rate.</summary>
    Down,
    /// <summary>Upload rate.</summary>
    Up,
    /// <summary>Connected/known peers.</summary>
    Peers,
    /// <summary>Upload ratio.</summary>
    Ratio,
    /// <summary>Time left.</summary>
    Eta,
}

/// <summary>Which torrents the main list shows.</summary>
public enum StateFilter
{
    /// <summary>Every torrent.</summary>
    All,
    /// <summary>Downloading or fetching metadata.</summary>
    Downloading,
    /// <summary>Seeding.</summary>
    Seeding,
    /// <summary>Moving data right now (a rate above zero).</summary>
    Active,
    /// <summary>Stopped by the user.</summary>
    Paused,
    /// <summary>Hashing.</summary>
    Checking,
    /// <summary>Waiting for a slot.</summary>
    Queued,
    /// <summary>Stopped by an error.</summary>
    Error,
}

/// <summary>What the category and tag filter (v, V) looks at.</summary>
public enum GroupFilterKind
{
    /// <summary>Every torrent.</summary>
    All,
    /// <summary>Torrents in one category.</summary>
    Category,
    /// <summary>Torrents without a category.</summary>
    NoCategory,
    /// <summary>Torrents with one tag.</summary>
    Tag,
}

/// <summary>The category and tag filter: all, one category, no category, or one tag.</summary>
public sealed record GroupFilter(GroupFilterKind Kind, string Value = "")
{
    /// <summary>No filter.</summary>
    public static GroupFilter All { get; } = new(GroupFilterKind.All);

    /// <summary>Whether <paramref name="t"/> passes.</summary>
    public bool Matches(TorrentSnapshot t) => Kind switch
    {
        GroupFilterKind.Category => t.Category == Value,
        GroupFilterKind.NoCategory => t.Category.Length == 0,
        GroupFilterKind.Tag => t.Labels.Contains(Value),
        _ => true,
    };

    /// <summary>As the title line shows it.</summary>
    public string Title => Kind switch
    {
        GroupFilterKind.Category => $"category {Value}",
        GroupFilterKind.NoCategory => "no category",
        GroupFilterKind.Tag => $"tag {Value}",
        _ => "",
    };
}

/// <summary>
/// The main list's model: the last session snapshot, sorted and filtered. Pure data, no views, so the rules can be
/// tested on their own and the view only reads <see cref="Rows"/>.
/// </summary>
/// <remarks>
/// A refresh that brings the same torrents in the same order with a few of them changed (the usual refresh: a
/// backend hands back the unchanged snapshots themselves) moves only those few: each is found by binary search and
/// replaced where it is, or taken out and put back where its new values sort. Only a new or removed torrent, a
/// reordered session, or many changes at once sort the whole list again. So a refresh of 10,000 torrents costs a
/// reference comparison per torrent, not a sort.
/// </remarks>
public sealed class TorrentList
{
    /// <summary>More changed torrents than this in one refresh (or than an eighth of them) sort the whole list again.</summary>
    private const int MaxMovedInPlace = 256;

    private IReadOnlyList<TorrentSnapshot> _all = [];
    private readonly List<TorrentSnapshot> _rows = [];
    private Dictionary<string, TorrentSnapshot> _byId = new(StringComparer.Ordinal);
    private string[] _words = [];
    private Comparison<TorrentSnapshot> _order = (_, _) => 0;
    private IComparer<TorrentSnapshot> _comparer = System.Collections.Generic.Comparer<TorrentSnapshot>.Create((_, _) => 0);
    private readonly List<int> _changed = [];

    /// <summary>The column the list is sorted by.</summary>
    public TorrentColumn SortColumn { get; private set; } = TorrentColumn.Name;

    /// <summary>Sorted from largest to smallest (or Z to A).</summary>
    public bool Descending { get; private set; }

    /// <summary>The state filter.</summary>
    public StateFilter Filter { get; private set; } = StateFilter.All;

    /// <summary>The category and tag filter.</summary>
    public GroupFilter Group { get; private set; } = GroupFilter.All;

    /// <summary>Words every shown name contains (case-insensitive); empty shows all.</summary>
    public string NameFilter { get; private set; } = "";

    /// <summary>The torrents shown, in order (the list itself: it changes with the next update).</summary>
    public IReadOnlyList<TorrentSnapshot> Rows => _rows;

    /// <summary>Every torrent in the session, unfiltered.</summary>
    public IReadOnlyList<TorrentSnapshot> All => _all;

    /// <summary>Some torrent says which host it is on (several daemons are shown): the Host column is shown and sorts.</summary>
    public bool HasHosts { get; private set; }

    /// <summary>How many times the whole list was filtered and sorted (tests count it).</summary>
    public int FullRebuilds { get; private set; }

    /// <summary>
    /// Takes a new snapshot of the torrents; returns false when it shows nothing new (every torrent equal to the one
    /// before, in the same order).
    /// </summary>
    public bool Update(IReadOnlyList<TorrentSnapshot> torrents)
    {
        IReadOnlyList<TorrentSnapshot> old = _all;
        _all = torrents;
        if (ReferenceEquals(old, torrents)) return false;
        if (TryUpdateInPlace(old, torrents, out bool changed)) return changed;
        _byId = new Dictionary<string, TorrentSnapshot>(torrents.Count, StringComparer.Ordinal);
        HasHosts = false;
        foreach (TorrentSnapshot t in torrents)
        {
            _byId[t.Id] = t;
            if (t.Host is not null) HasHosts = true;
        }
        Rebuild();
        return true;
    }

    /// <summary>The torrent with <paramref name="id"/> in the session (shown or not), or null.</summary>
    public TorrentSnapshot? Find(string? id) => id is not null && _byId.TryGetValue(id, out TorrentSnapshot? t) ? t : null;

    /// <summary>Sorts by <paramref name="column"/>; sorting by the current column again reverses the order.</summary>
    public void SortBy(TorrentColumn column)
    {
        if (column == SortColumn) Descending = !Descending;
        else
        {
            SortColumn = column;
            Descending = DefaultDescending(column);
        }
        Rebuild();
    }

    /// <summary>
    /// Moves the sort to the next (or previous) column, in its natural direction; the Host column only counts when it
    /// is shown (<see cref="HasHosts"/>).
    /// </summary>
    public void CycleSort(int step)
    {
        int count = Enum.GetValues<TorrentColumn>().Length;
        int direction = step < 0 ? -1 : 1;
        var next = SortColumn;
        for (int moved = 0; moved < Math.Abs(step); moved++)
        {
            do next = (TorrentColumn)(((int)next + direction + count) % count);
            while (next == TorrentColumn.Host && !HasHosts);
        }
        SortColumn = next;
        Descending = DefaultDescending(next);
        Rebuild();
    }

    /// <summary>Reverses the sort order.</summary>
    public void ReverseSort()
    {
        Descending = !Descending;
        Rebuild();
    }

    /// <summary>Shows only torrents in <paramref name="filter"/>.</summary>
    public void SetFilter(StateFilter filter)
    {
        Filter = filter;
        Rebuild();
    }

    /// <summary>Moves to the next (or previous) state filter.</summary>
    public void CycleFilter(int step)
    {
        int count = Enum.GetValues<StateFilter>().Length;
        SetFilter((StateFilter)(((int)Filter + step % count + count) % count));
    }

    /// <summary>Shows only torrents that pass <paramref name="filter"/>.</summary>
    public void SetGroupFilter(GroupFilter filter)
    {
        Group = filter;
        Rebuild();
    }

    /// <summary>
    /// The category and tag filters there are: all, each category (those of <paramref name="categories"/> and of the
    /// torrents), no category, then each tag the torrents have; names sorted.
    /// </summary>
    public IReadOnlyList<GroupFilter> GroupChoices(IEnumerable<string> categories)
    {
        var names = new SortedSet<string>(categories, StringComparer.OrdinalIgnoreCase);
        var tags = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (TorrentSnapshot t in _all)
        {
            if (t.Category.Length > 0) names.Add(t.Category);
            foreach (string tag in t.Labels) tags.Add(tag);
        }
        List<GroupFilter> choices = [GroupFilter.All];
        choices.AddRange(names.Select(n => new GroupFilter(GroupFilterKind.Category, n)));
        choices.Add(new GroupFilter(GroupFilterKind.NoCategory));
        choices.AddRange(tags.Select(n => new GroupFilter(GroupFilterKind.Tag, n)));
        return choices;
    }

    /// <summary>Moves to the next (or previous) category or tag filter of <see cref="GroupChoices"/>.</summary>
    public void CycleGroupFilter(int step, IEnumerable<string> categories)
    {
        var choices = GroupChoices(categories);
        int i = Math.Max(0, choices.ToList().IndexOf(Group));
        if (!choices.Contains(Group)) i = 0;
        SetGroupFilter(choices[((i + step) % choices.Count + choices.Count) % choices.Count]);
    }

    /// <summary>Shows only torrents whose name contains every word of <paramref name="text"/>.</summary>
    public void SetNameFilter(string text)
    {
        NameFilter = text.Trim();
        Rebuild();
    }

    /// <summary>The row showing the torrent with <paramref name="id"/>, or -1.</summary>
    public int IndexOf(string? id) => Find(id) is { } t ? RowOf(t) : -1;

    /// <summary>The row of <paramref name="t"/> (the very snapshot), found by binary search; -1 when not shown.</summary>
    private int RowOf(TorrentSnapshot t)
    {
        int i = _rows.BinarySearch(t, _comparer);
        return i >= 0 && ReferenceEquals(_rows[i], t) ? i : -1;
    }

    /// <summary>Whether <paramref name="t"/> passes the state and name filters.</summary>
    private bool Shows(TorrentSnapshot t)
    {
        if (!Matches(Filter, t)) return false;
        if (!Group.Matches(t)) return false;
        foreach (string w in _words)
        {
            if (!t.Name.Contains(w, StringComparison.OrdinalIgnoreCase)) return false;
        }
        return true;
    }

    /// <summary>
    /// The update when the same torrents come in the same order: only the snapshots that changed are moved (see the
    /// remarks). False when the whole list has to be rebuilt.
    /// </summary>
    private bool TryUpdateInPlace(IReadOnlyList<TorrentSnapshot> old, IReadOnlyList<TorrentSnapshot> now, out bool changed)
    {
        changed = false;
        if (old.Count != now.Count || old.Count == 0) return false;
        int limit = Math.Min(MaxMovedInPlace, Math.Max(8, now.Count / 8));
        _changed.Clear();
        for (int i = 0; i < now.Count; i++)
        {
            TorrentSnapshot a = old[i], b = now[i];
            if (ReferenceEquals(a, b)) continue;
            if (a.Id != b.Id || (a.Host is null) != (b.Host is null) || _changed.Count == limit) return false;
            _changed.Add(i);
        }
        IComparer<TorrentSnapshot> comparer = _comparer;
        foreach (int i in _changed)
        {
            TorrentSnapshot a = old[i], b = now[i];
            _byId[b.Id] = b;
            if (!a.Equals(b)) changed = true;
            bool wasShown = Shows(a), shown = Shows(b);
            int row = -1;
            if (wasShown)
            {
                row = _rows.BinarySearch(a, comparer);
                // Not found where it sorts: the list is not what this update assumes; sort it all again.
                if (row < 0 || !ReferenceEquals(_rows[row], a)) return false;
            }
            if (wasShown && shown && _order(a, b) == 0)
            {
                _rows[row] = b; // sorts where it was
                continue;
            }
            if (wasShown) _rows.RemoveAt(row);
            if (shown)
            {
                int at = _rows.BinarySearch(b, comparer);
                _rows.Insert(at < 0 ? ~at : at, b);
            }
        }
        return true;
    }

    /// <summary>Whether <paramref name="t"/> passes the state filter.</summary>
    public static bool Matches(StateFilter filter, TorrentSnapshot t) => filter switch
    {
        StateFilter.All => true,
        StateFilter.Downloading => t.State is TorrentState.Downloading or TorrentState.FetchingMetadata,
        StateFilter.Seeding => t.State == TorrentState.Seeding,
        StateFilter.Active => t.DownloadRate > 0 || t.UploadRate > 0,
        StateFilter.Paused => t.State == TorrentState.Stopped,
        StateFilter.Checking => t.State == TorrentState.Checking,
        StateFilter.Queued => t.State == TorrentState.Queued,
        StateFilter.Error => t.State == TorrentState.Error,
        _ => true,
    };

    /// <summary>Lower-case name for a filter, as shown in the title line.</summary>
    public static string FilterName(StateFilter filter) => filter.ToString().ToLowerInvariant();

    /// <summary>Lower-case name of a column, as shown in the title line.</summary>
    public static string ColumnName(TorrentColumn column) => column switch
    {
        TorrentColumn.Eta => "ETA",
        _ => column.ToString().ToLowerInvariant(),
    };

    // Numbers read best largest first (the fastest, the biggest); names, states and time left smallest first.
    private static bool DefaultDescending(TorrentColumn column) =>
        column is TorrentColumn.Size or TorrentColumn.Progress or TorrentColumn.Down or TorrentColumn.Up
            or TorrentColumn.Peers or TorrentColumn.Ratio;

    private void Rebuild()
    {
        FullRebuilds++;
        _words = NameFilter.Length == 0 ? [] : NameFilter.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        _rows.Clear();
        foreach (TorrentSnapshot t in _all)
        {
            if (Shows(t)) _rows.Add(t);
        }
        Comparison<TorrentSnapshot> compare = Comparer(SortColumn);
        int sign = Descending ? -1 : 1;
        // Ties fall back to the name and then the id (always ascending) so that equal rows never swap places
        // between refreshes, and every torrent has one place (which the binary searches rely on).
        _order = (a, b) =>
        {
            int c = sign * compare(a, b);
            if (c != 0) return c;
            c = string.Compare(a.Name, b.Name, StringComparison.OrdinalIgnoreCase);
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        };
        _comparer = System.Collections.Generic.Comparer<TorrentSnapshot>.Create(_order);
        _rows.Sort(_comparer);
    }

    private static Comparison<TorrentSnapshot> Comparer(TorrentColumn column) => column switch
    {
        TorrentColumn.Name => (a, b) => string.Compare(a.Name, b.Name, StringComparison.OrdinalIgnoreCase),
        TorrentColumn.Host => (a, b) => string.Compare(a.Host, b.Host, StringComparison.OrdinalIgnoreCase),
        TorrentColumn.Size => (a, b) => a.Size.CompareTo(b.Size),
        TorrentColumn.Progress => (a, b) => a.Progress.CompareTo(b.Progress),
        TorrentColumn.State => (a, b) => StateRank(a.State).CompareTo(StateRank(b.State)),
        TorrentColumn.Down => (a, b) => a.DownloadRate.CompareTo(b.DownloadRate),
        TorrentColumn.Up => (a, b) => a.UploadRate.CompareTo(b.UploadRate),
        TorrentColumn.Peers => (a, b) =>
        {
            int c = a.PeersConnected.CompareTo(b.PeersConnected);
            return c != 0 ? c : a.PeersKnown.CompareTo(b.PeersKnown);
        },
        TorrentColumn.Ratio => (a, b) => a.Ratio.CompareTo(b.Ratio),
        // Unknown time left sorts after every known one.
        TorrentColumn.Eta => (a, b) => (a.Eta ?? TimeSpan.MaxValue).CompareTo(b.Eta ?? TimeSpan.MaxValue),
        _ => (_, _) => 0,
    };

    // What needs attention first: errors, then work in progress, then the quiet ones.
    private static int StateRank(TorrentState state) => state switch
    {
        TorrentState.Error => 0,
        TorrentState.Checking => 1,
        TorrentState.FetchingMetadata => 2,
        TorrentState.Downloading => 3,
        TorrentState.Seeding => 4,
        TorrentState.Queued => 5,
        TorrentState.Stopped => 6,
        _ => 7,
    };
}
