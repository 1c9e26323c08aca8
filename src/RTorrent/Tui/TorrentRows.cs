using RTorrent.Engine.Client;

namespace RTorrent.Tui;

/// <summary>
/// The main list's cells as text, read straight from the sorted snapshots when a row is drawn, so a thousand torrents
/// cost no more than the twenty on screen.
/// </summary>
internal sealed class TorrentRows(TorrentList list, TerminalProfile profile)
{
    private static readonly TorrentColumn[] AllColumns = Enum.GetValues<TorrentColumn>();
    private int[] _widths = TorrentColumns.Compute(80);

    /// <summary>The row of the cursor (it gets a '>' mark, which shows where colour and reverse video do not).</summary>
    public int CursorRow { get; set; } = -1;

    /// <summary>Column widths in use (0 = hidden).</summary>
    public IReadOnlyList<int> Widths => _widths;

    /// <summary>The table's width the widths were computed for.</summary>
    public int TableWidth { get; private set; } = 80;

    /// <summary>Width asked for the Host column (0: none).</summary>
    public int HostWidth { get; private set; }

    /// <summary>Sets the widths for the table's width and the Host column; returns false when they did not change.</summary>
    public bool Reflow(int tableWidth, int hostWidth = 0)
    {
        TableWidth = tableWidth;
        HostWidth = hostWidth;
        int[] widths = TorrentColumns.Compute(tableWidth, hostWidth);
        if (widths.AsSpan().SequenceEqual(_widths)) return false;
        _widths = widths;
        return true;
    }

    /// <summary>The text of one cell.</summary>
    public string Cell(int row, int col)
    {
        IReadOnlyList<TorrentSnapshot> rows = list.Rows;
        if (row < 0 || row >= rows.Count || col < 0 || col >= AllColumns.Length) return "";
        TorrentSnapshot t = rows[row];
        int width = _widths[col];
        return AllColumns[col] switch
        {
            TorrentColumn.Name => TorrentText.Fit((row == CursorRow ? ">" : " ") + t.Name, width),
            TorrentColumn.Host => TorrentText.Fit(t.Host ?? "", width),
            TorrentColumn.Size => Units.CompactSize(t.Size),
            TorrentColumn.Progress => TorrentText.BarWithPercent(t.Progress, width),
            TorrentColumn.State => TorrentText.Fit(TorrentText.State(t), width),
            TorrentColumn.Down => Units.CompactRate(t.DownloadRate),
            TorrentColumn.Up => Units.CompactRate(t.UploadRate),
            TorrentColumn.Peers => TorrentText.Fit(TorrentText.Peers(t), width),
            TorrentColumn.Ratio => TorrentText.Ratio(t.Ratio),
            TorrentColumn.Eta => t.State == TorrentState.Downloading ? TorrentText.Eta(t.Eta) : "-",
            _ => "",
        };
    }

    /// <summary>Every column's header, the sorted one marked where it has room.</summary>
    public string[] Headers() => [.. AllColumns.Select(Header)];

    private string Header(TorrentColumn column)
    {
        string name = column switch
        {
            TorrentColumn.Name => " Name",
            TorrentColumn.Eta => "ETA",
            _ => column.ToString(),
        };
        // The title line always says how the list is sorted; the header repeats it where the column has room.
        if (column != list.SortColumn || name.Length + 1 > _widths[(int)column]) return name;
        return name + (list.Descending ? profile.SortDescending : profile.SortAscending);
    }
}
