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

/// <summary>
/// The main list's model: the last session snapshot, sorted and filtered. Pure data, no views, so the rules can be
/// tested on their own and the view only reads <see cref="Rows"/>.
/// </summary>
public sealed class TorrentList
{
    private IReadOnlyList<TorrentSnapshot> _all = [];
    private TorrentSnapshot[] _rows = [];

    /// <summary>The column the list is sorted by.</summary>
    public TorrentColumn SortColumn { get; private set; } = TorrentColumn.Name;

    /// <summary>Sorted from largest to smallest (or Z to A).</summary>
    public bool Descending { get; private set; }

    /// <summary>The state filter.</summary>
    public StateFilter Filter { get; private set; } = StateFilter.All;

    /// <summary>Words every shown name contains (case-insensitive); empty shows all.</summary>
    public string NameFilter { get; private set; } = "";

    /// <summary>The torrents shown, in order.</summary>
    public IReadOnlyList<TorrentSnapshot> Rows => _rows;

    /// <summary>Every torrent in the session, unfiltered.</summary>
    public IReadOnlyList<TorrentSnapshot> All => _all;

    /// <summary>Some torrent says which host it is on (several daemons are shown): the Host column is shown and sorts.</summary>
    public bool HasHosts { get; private set; }

    /// <summary>Takes a new snapshot of the torrents.</summary>
    public void Update(IReadOnlyList<TorrentSnapshot> torrents)
    {
        _all = torrents;
        HasHosts = false;
        foreach (TorrentSnapshot t in torrents)
        {
            if (t.Host is null) continue;
            HasHosts = true;
            break;
        }
        Rebuild();
    }

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

    /// <summary>Shows only torrents whose name contains every word of <paramref name="text"/>.</summary>
    public void SetNameFilter(string text)
    {
        NameFilter = text.Trim();
        Rebuild();
    }

    /// <summary>The row showing the torrent with <paramref name="id"/>, or -1.</summary>
    public int IndexOf(string? id)
    {
        if (id is null) return -1;
        for (int i = 0; i < _rows.Length; i++)
        {
            if (_rows[i].Id == id) return i;
        }
        return -1;
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
        string[] words = NameFilter.Length == 0 ? [] : NameFilter.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var rows = new List<TorrentSnapshot>(_all.Count);
        foreach (TorrentSnapshot t in _all)
        {
            if (!Matches(Filter, t)) continue;
            if (words.Length > 0 && !words.All(w => t.Name.Contains(w, StringComparison.OrdinalIgnoreCase))) continue;
            rows.Add(t);
        }
        Comparison<TorrentSnapshot> compare = Comparer(SortColumn);
        int sign = Descending ? -1 : 1;
        // Ties fall back to the name and then the id (always ascending) so that equal rows never swap places
        // between refreshes.
        rows.Sort((a, b) =>
        {
            int c = sign * compare(a, b);
            if (c != 0) return c;
            c = string.Compare(a.Name, b.Name, StringComparison.OrdinalIgnoreCase);
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        });
        _rows = [.. rows];
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
