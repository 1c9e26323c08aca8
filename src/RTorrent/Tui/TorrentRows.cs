using System.Text;
using RTorrent.Engine.Client;
using Terminal.Gui.Drawing;
using Terminal.Gui.Text;

namespace RTorrent.Tui;

/// <summary>
/// The main list's rows as text: the column layout (widths and where each column starts) and one line per torrent,
/// every cell fitted to its column and aligned, the columns one cell apart. A line is made from a torrent's snapshot
/// alone, so the view can keep it for as long as that snapshot is the one shown (<see cref="TorrentListView"/>).
/// </summary>
internal sealed class TorrentRows(TorrentList list, TerminalProfile profile)
{
    private static readonly TorrentColumn[] AllColumns = Enum.GetValues<TorrentColumn>();
    private int[] _widths = TorrentColumns.Compute(80);
    private int[] _starts = StartsOf(TorrentColumns.Compute(80));

    /// <summary>Column widths in use (0 = hidden).</summary>
    public IReadOnlyList<int> Widths => _widths;

    /// <summary>Where each column starts (-1 when hidden); each shown column is followed by one blank cell.</summary>
    public IReadOnlyList<int> Starts => _starts;

    /// <summary>Cells from the first column's start to the last shown column's end.</summary>
    public int ContentWidth { get; private set; } = ContentOf(TorrentColumns.Compute(80));

    /// <summary>The table's width the widths were computed for.</summary>
    public int TableWidth { get; private set; } = 80;

    /// <summary>Width asked for the Host column (0: none).</summary>
    public int HostWidth { get; private set; }

    /// <summary>Changes whenever the layout does, so lines made for an older layout are known to be stale.</summary>
    public int LayoutVersion { get; private set; }

    /// <summary>How many lines <see cref="Line"/> has made: what a redraw cost in formatting (tests count it).</summary>
    public long LinesFormatted { get; private set; }

    /// <summary>Sets the widths for the table's width and the Host column; returns false when they did not change.</summary>
    public bool Reflow(int tableWidth, int hostWidth = 0)
    {
        TableWidth = tableWidth;
        HostWidth = hostWidth;
        int[] widths = TorrentColumns.Compute(tableWidth, hostWidth);
        if (widths.AsSpan().SequenceEqual(_widths)) return false;
        _widths = widths;
        _starts = StartsOf(widths);
        ContentWidth = ContentOf(widths);
        LayoutVersion++;
        return true;
    }

    /// <summary>Whether numbers in <paramref name="column"/> align to the right.</summary>
    public static bool RightAligned(TorrentColumn column) =>
        column is TorrentColumn.Size or TorrentColumn.Down or TorrentColumn.Up or TorrentColumn.Ratio or TorrentColumn.Eta or TorrentColumn.Peers;

    /// <summary>The text of one cell (not yet fitted to its column's width).</summary>
    public string Cell(TorrentSnapshot t, TorrentColumn column)
    {
        int width = _widths[(int)column];
        return column switch
        {
            // The first cell is where the cursor's '>' goes (the view puts it there).
            TorrentColumn.Name => TorrentText.Fit(" " + t.Name, width),
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

    /// <summary>
    /// The whole line of <paramref name="t"/>, <see cref="ContentWidth"/> cells wide: every shown column's cell fitted
    /// and aligned, one blank cell between columns. Its first cell is blank (the cursor's mark goes there).
    /// </summary>
    public string Line(TorrentSnapshot t)
    {
        LinesFormatted++;
        var line = new StringBuilder(ContentWidth + 8);
        foreach (TorrentColumn column in AllColumns)
        {
            int width = _widths[(int)column];
            if (width <= 0) continue;
            if (line.Length > 0) line.Append(' ');
            AppendFitted(line, Cell(t, column), width, RightAligned(column));
        }
        return line.ToString();
    }

    /// <summary>The header line, laid out like <see cref="Line"/>.</summary>
    public string HeaderLine()
    {
        var line = new StringBuilder(ContentWidth + 8);
        foreach (TorrentColumn column in AllColumns)
        {
            int width = _widths[(int)column];
            if (width <= 0) continue;
            if (line.Length > 0) line.Append(' ');
            AppendFitted(line, Header(column), width, RightAligned(column));
        }
        return line.ToString();
    }

    /// <summary>The column shown at cell <paramref name="x"/> of a line (its gap counts as its own), or null.</summary>
    public TorrentColumn? ColumnAt(int x)
    {
        foreach (TorrentColumn column in AllColumns)
        {
            int start = _starts[(int)column];
            if (start >= 0 && x >= start && x <= start + _widths[(int)column]) return column;
        }
        return null;
    }

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

    /// <summary>
    /// Appends <paramref name="text"/> fitted to exactly <paramref name="width"/> cells: cut (by cells, so wide
    /// characters count twice) when longer, padded on the right (or, for numbers, on the left) when shorter.
    /// </summary>
    internal static void AppendFitted(StringBuilder line, string text, int width, bool right)
    {
        int columns = Columns(text);
        if (columns > width)
        {
            if (IsNarrow(text))
            {
                line.Append(text, 0, width);
                return;
            }
            int used = 0;
            foreach (string grapheme in GraphemeHelper.GetGraphemes(text))
            {
                int w = Math.Max(0, grapheme.GetColumns());
                if (used + w > width) break;
                line.Append(grapheme);
                used += w;
            }
            line.Append(' ', width - used);
            return;
        }
        if (right) line.Append(' ', width - columns);
        line.Append(text);
        if (!right) line.Append(' ', width - columns);
    }

    /// <summary>Cells <paramref name="text"/> takes on screen.</summary>
    internal static int Columns(string text) => IsNarrow(text) ? text.Length : Math.Max(0, text.GetColumns());

    /// <summary>
    /// True when every character of <paramref name="text"/> is one cell wide on its own: printable Latin (not the soft
    /// hyphen, which some count as no cell), Greek, Cyrillic and the box, block and arrow signs the interface draws
    /// with. Such text is one cell per character.
    /// </summary>
    internal static bool IsNarrow(string text)
    {
        foreach (char c in text)
        {
            if (!IsNarrow(c)) return false;
        }
        return true;
    }

    /// <summary>One character that always takes one cell and is a grapheme by itself.</summary>
    internal static bool IsNarrow(char c) =>
        (c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c < 0x300 && c != 0xAD) || (c >= 0x370 && c < 0x483)
        || (c >= 0x2190 && c < 0x2200) || (c >= 0x2500 && c < 0x2600);

    private static int[] StartsOf(int[] widths)
    {
        int[] starts = new int[widths.Length];
        int x = 0;
        for (int i = 0; i < widths.Length; i++)
        {
            if (widths[i] <= 0)
            {
                starts[i] = -1;
                continue;
            }
            starts[i] = x;
            x += widths[i] + 1;
        }
        return starts;
    }

    private static int ContentOf(int[] widths) => Math.Max(0, widths.Where(w => w > 0).Sum(w => w + 1) - 1);
}
