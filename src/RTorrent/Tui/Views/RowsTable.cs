using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui.Views;

/// <summary>A column of a <see cref="RowsTable{T}"/>.</summary>
/// <param name="Header">Header text.</param>
/// <param name="Text">The cell text for an item, given the column's width.</param>
/// <param name="Width">Fixed width, or the minimum width of a flexible column.</param>
/// <param name="Weight">Share of the spare width (0 = fixed).</param>
/// <param name="RightAlign">Numbers align right.</param>
internal sealed record TableColumn<T>(string Header, Func<T, int, string> Text, int Width, int Weight = 0, bool RightAlign = false);

/// <summary>
/// A table of items with declared columns: fixed widths plus flexible ones that share what is left, recomputed when
/// the view is resized. Built on <see cref="PagedTableView"/>, so only the rows on screen are formatted and drawn.
/// The cursor row gets a '>' in front, which shows without colour.
/// </summary>
internal sealed class RowsTable<T> : PagedTableView where T : class
{
    private readonly IReadOnlyList<TableColumn<T>> _columns;
    private IReadOnlyList<T> _items = [];
    private int[] _widths;
    private int _laidOutWidth = -1;

    public RowsTable(IReadOnlyList<TableColumn<T>> columns)
        : base([.. columns.Select(c => c.Header)], (_, _) => "")
    {
        _columns = columns;
        _widths = [.. columns.Select(c => c.Width)];
        Cell = CellText;
        Width = Dim.Fill();
        Height = Dim.Fill();
        for (int i = 0; i < columns.Count; i++)
        {
            ColumnStyle style = Style.GetOrCreateColumnStyle(i);
            style.Alignment = columns[i].RightAlign ? Alignment.End : Alignment.Start;
        }
        FrameChanged += (_, _) => Reflow();
    }

    /// <summary>The items shown.</summary>
    public IReadOnlyList<T> Items => _items;

    /// <summary>The item under the cursor, or null.</summary>
    public T? Current => CursorRow >= 0 && CursorRow < _items.Count ? _items[CursorRow] : null;

    /// <summary>Shows <paramref name="items"/>, keeping the cursor on the item <paramref name="keep"/> picks if it is still there.</summary>
    public void SetItems(IReadOnlyList<T> items, Func<T, bool>? keep = null)
    {
        int row = Math.Max(0, CursorRow);
        if (keep is not null)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (!keep(items[i])) continue;
                row = i;
                break;
            }
        }
        _items = items;
        SetRows(items.Count, row);
    }

    /// <summary>Recomputes the column widths for the current width.</summary>
    public void Reflow()
    {
        int width = Viewport.Width;
        if (width <= 0 || width == _laidOutWidth) return;
        _laidOutWidth = width;
        _widths = ComputeWidths(_columns, width);
        for (int i = 0; i < _columns.Count; i++)
        {
            ColumnStyle style = Style.GetOrCreateColumnStyle(i);
            style.MinWidth = style.MaxWidth = Math.Max(1, _widths[i]);
            style.Visible = _widths[i] > 0;
        }
        Update();
    }

    /// <summary>Column widths for a table <paramref name="width"/> cells wide (each column also costs a gap).</summary>
    public static int[] ComputeWidths(IReadOnlyList<TableColumn<T>> columns, int width)
    {
        int[] widths = [.. columns.Select(c => c.Width)];
        int spare = width - 1 - columns.Sum(c => c.Width + 1);
        int totalWeight = columns.Sum(c => c.Weight);
        if (spare > 0 && totalWeight > 0)
        {
            int given = 0;
            int last = -1;
            for (int i = 0; i < columns.Count; i++)
            {
                if (columns[i].Weight == 0) continue;
                int share = spare * columns[i].Weight / totalWeight;
                widths[i] += share;
                given += share;
                last = i;
            }
            widths[last] += spare - given;
        }
        return widths;
    }

    private string CellText(int row, int col)
    {
        if (row < 0 || row >= _items.Count || col < 0 || col >= _columns.Count) return "";
        int width = _widths[col];
        if (col == 0)
        {
            string text = (row == CursorRow ? ">" : " ") + _columns[0].Text(_items[row], width - 1);
            return TorrentText.Fit(text, width);
        }
        return TorrentText.Fit(_columns[col].Text(_items[row], width), width);
    }
}

/// <summary>The one table look used everywhere: a header with an underline, no grid, no outer box.</summary>
internal static class TableStyles
{
    public static void Apply(TableView table)
    {
        table.Style.ShowHorizontalHeaderOverline = false;
        table.Style.ShowHorizontalHeaderUnderline = true;
        table.Style.ShowVerticalCellLines = false;
        table.Style.ShowVerticalHeaderLines = false;
        table.Style.ShowHorizontalBottomLine = false;
        table.Style.ExpandLastColumn = false;
        table.Style.AlwaysShowHeaders = true;
        table.Style.SmoothHorizontalScrolling = false;
    }
}
