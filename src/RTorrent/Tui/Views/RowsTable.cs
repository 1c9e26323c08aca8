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
/// A TableView over a list of items with declared columns: fixed widths plus flexible ones that share what is left,
/// recomputed when the view is resized. The cursor row gets a '>' in front, which shows without colour. Letters are
/// commands here, so TableView's type-to-search is off.
/// </summary>
internal sealed class RowsTable<T> : TableView where T : class
{
    private readonly Source _source;
    private int _laidOutWidth = -1;

    public RowsTable(IReadOnlyList<TableColumn<T>> columns)
    {
        _source = new Source(columns);
        Table = _source;
        FullRowSelect = true;
        MultiSelect = false;
        CollectionNavigator = null;
        Width = Dim.Fill();
        Height = Dim.Fill();
        TableStyles.Apply(this);
        for (int i = 0; i < columns.Count; i++)
        {
            ColumnStyle style = Style.GetOrCreateColumnStyle(i);
            style.Alignment = columns[i].RightAlign ? Alignment.End : Alignment.Start;
        }
        ValueChanged += (_, _) => SyncCursor();
        FrameChanged += (_, _) => Reflow();
    }

    /// <summary>The items shown.</summary>
    public IReadOnlyList<T> Items => _source.Items;

    /// <summary>The item under the cursor, or null.</summary>
    public T? Current => CursorRow >= 0 && CursorRow < _source.Items.Count ? _source.Items[CursorRow] : null;

    /// <summary>The cursor's row.</summary>
    public int CursorRow => Value?.SelectedCell.Y ?? 0;

    /// <summary>Shows <paramref name="items"/>, keeping the cursor on the item <paramref name="keep"/> picks if it is still there.</summary>
    public void SetItems(IReadOnlyList<T> items, Func<T, bool>? keep = null)
    {
        int row = CursorRow;
        if (keep is not null)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (!keep(items[i])) continue;
                row = i;
                break;
            }
        }
        _source.Items = items;
        row = Math.Clamp(row, 0, Math.Max(0, items.Count - 1));
        if (row != CursorRow) SetSelection(0, row, false, null);
        SyncCursor();
        Update();
    }

    protected override bool OnKeyDown(Terminal.Gui.Input.Key key)
    {
        // Home and End mean the first and last line here (TableView would move within the row).
        if (key != Terminal.Gui.Input.Key.Home && key != Terminal.Gui.Input.Key.End) return base.OnKeyDown(key);
        if (_source.Items.Count == 0) return true;
        SetSelection(0, key == Terminal.Gui.Input.Key.Home ? 0 : _source.Items.Count - 1, false, null);
        EnsureCursorIsVisible();
        SyncCursor();
        return true;
    }

    /// <summary>Renames the header of column <paramref name="index"/> (sort marks).</summary>
    public void SetHeader(int index, string header)
    {
        if (_source.Headers[index] == header) return;
        _source.Headers[index] = header;
        SetNeedsDraw();
    }

    /// <summary>Recomputes the column widths for the current width.</summary>
    public void Reflow()
    {
        int width = Viewport.Width;
        if (width <= 0 || width == _laidOutWidth) return;
        _laidOutWidth = width;
        IReadOnlyList<TableColumn<T>> columns = _source.ColumnsDefinition;
        int[] widths = ComputeWidths(columns, width);
        _source.Widths = widths;
        for (int i = 0; i < columns.Count; i++)
        {
            ColumnStyle style = Style.GetOrCreateColumnStyle(i);
            style.MinWidth = style.MaxWidth = Math.Max(1, widths[i]);
            style.Visible = widths[i] > 0;
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

    private void SyncCursor()
    {
        if (_source.CursorRow == CursorRow) return;
        _source.CursorRow = CursorRow;
        SetNeedsDraw();
    }

    private sealed class Source(IReadOnlyList<TableColumn<T>> columns) : ITableSource
    {
        public IReadOnlyList<TableColumn<T>> ColumnsDefinition { get; } = columns;
        public string[] Headers { get; } = [.. columns.Select(c => c.Header)];
        public int[] Widths { get; set; } = [.. columns.Select(c => c.Width)];
        public IReadOnlyList<T> Items { get; set; } = [];
        public int CursorRow { get; set; } = -1;

        public object this[int row, int col]
        {
            get
            {
                if (row < 0 || row >= Items.Count || col < 0 || col >= ColumnsDefinition.Count) return "";
                int width = Widths[col];
                if (col == 0)
                {
                    string text = (row == CursorRow ? ">" : " ") + ColumnsDefinition[0].Text(Items[row], width - 1);
                    return TorrentText.Fit(text, width);
                }
                return TorrentText.Fit(ColumnsDefinition[col].Text(Items[row], width), width);
            }
        }

        public string[] ColumnNames => Headers;

        public int Columns => ColumnsDefinition.Count;

        public int Rows => Items.Count;
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
