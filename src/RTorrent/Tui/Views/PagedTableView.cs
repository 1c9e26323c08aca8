using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui.Views;

/// <summary>
/// A TableView that is only ever given the rows on screen. TableView's drawing costs grow with the number of rows it
/// holds (its content area is sized to all of them), which made a redraw of a thousand torrents twelve times dearer
/// than one of six; here the table sees one page, and this view keeps the cursor and the first row shown itself.
/// Up/Down, PgUp/PgDn, Home/End and the mouse wheel move through all rows; a click selects a row.
/// </summary>
/// <remarks>
/// Cells come from <see cref="Cell"/> for absolute row numbers, so a source formats only what is drawn. Letters are
/// commands in this program, so TableView's type-to-search is off.
/// </remarks>
internal class PagedTableView : TableView
{
    private readonly PageSource _page;
    private int _count;
    private int _top;
    private int _cursor;
    private bool _syncing;
    private object?[] _shown = [];

    public PagedTableView(string[] headers, Func<int, int, string> cell)
    {
        _page = new PageSource(this, headers, cell);
        Table = _page;
        FullRowSelect = true;
        MultiSelect = false;
        CollectionNavigator = null;
        TableStyles.Apply(this);
        ValueChanged += (_, _) => OnTableSelectionChanged();
        FrameChanged += (_, _) => ClampAndShow();
    }

    /// <summary>Raised when <see cref="CursorRow"/> moves.</summary>
    public event Action<int>? CursorChanged;

    /// <summary>The cell text for an absolute row and a column.</summary>
    public Func<int, int, string> Cell
    {
        get => _page.Cell;
        set => _page.Cell = value;
    }

    /// <summary>Column headers.</summary>
    public string[] Headers => _page.Headers;

    /// <summary>All rows (not only the page).</summary>
    public int Count => _count;

    /// <summary>The first row on screen.</summary>
    public int Top => _top;

    /// <summary>The cursor's row (absolute), or -1 when there are no rows.</summary>
    public int CursorRow => _count == 0 ? -1 : _cursor;

    /// <summary>How many rows fit under the header.</summary>
    public int PageRows
    {
        get
        {
            int header = (Style.ShowHeaders ? 1 : 0) + (Style.ShowHorizontalHeaderOverline ? 1 : 0) + (Style.ShowHorizontalHeaderUnderline ? 1 : 0);
            return Math.Max(1, Viewport.Height - header);
        }
    }

    /// <summary>
    /// Takes a new row count (the rows themselves are read through <see cref="Cell"/> when drawn) and puts the cursor
    /// on <paramref name="cursor"/> (clamped). Redraws.
    /// </summary>
    public void SetRows(int count, int cursor)
    {
        _count = Math.Max(0, count);
        _cursor = Math.Clamp(cursor, 0, Math.Max(0, _count - 1));
        ClampAndShow();
    }

    /// <summary>
    /// The value behind an absolute row (what its cells are formatted from), for <see cref="SetRowsIfChanged"/>; null
    /// when unknown, and then every <see cref="SetRowsIfChanged"/> redraws.
    /// </summary>
    public Func<int, object?>? RowValue { get; set; }

    /// <summary>
    /// Like <see cref="SetRows"/>, but redraws only when what the page shows changed: its first row, the cursor, the
    /// number of rows on it, or the value of one of them (compared with <see cref="object.Equals(object?, object?)"/>).
    /// A refresh in which only rows off screen changed then draws nothing.
    /// </summary>
    public void SetRowsIfChanged(int count, int cursor)
    {
        int oldTop = _top, oldCursor = _cursor, oldRows = _page.Rows;
        _count = Math.Max(0, count);
        _cursor = Math.Clamp(cursor, 0, Math.Max(0, _count - 1));
        ClampTop();
        if (RowValue is { } value && _top == oldTop && _cursor == oldCursor && PageRowCount() == oldRows && oldRows == _shown.Length)
        {
            bool same = true;
            for (int i = 0; i < oldRows && same; i++) same = Equals(_shown[i], value(_top + i));
            if (same) return;
        }
        Show();
    }

    /// <summary>Moves the cursor to <paramref name="row"/> (clamped), scrolling as little as needed.</summary>
    public void MoveTo(int row)
    {
        if (_count == 0) return;
        int target = Math.Clamp(row, 0, _count - 1);
        if (target == _cursor) return;
        _cursor = target;
        ClampAndShow();
        CursorChanged?.Invoke(_cursor);
    }

    /// <summary>Scrolls by <paramref name="rows"/> without moving the cursor off the page (the mouse wheel).</summary>
    public void ScrollBy(int rows)
    {
        int maxTop = Math.Max(0, _count - PageRows);
        int top = Math.Clamp(_top + rows, 0, maxTop);
        if (top == _top) return;
        _top = top;
        int cursor = Math.Clamp(_cursor, _top, Math.Min(_count - 1, _top + PageRows - 1));
        bool moved = cursor != _cursor;
        _cursor = cursor;
        Show();
        if (moved) CursorChanged?.Invoke(_cursor);
    }

    /// <summary>Renames a column header.</summary>
    public void SetHeader(int column, string header)
    {
        if (_page.Headers[column] == header) return;
        _page.Headers[column] = header;
        SetNeedsDraw();
    }

    protected override bool OnKeyDown(Key key)
    {
        int page = Math.Max(1, PageRows - 1);
        if (key == Key.CursorDown) MoveTo(_cursor + 1);
        else if (key == Key.CursorUp) MoveTo(_cursor - 1);
        else if (key == Key.PageDown) MoveTo(_cursor + page);
        else if (key == Key.PageUp) MoveTo(_cursor - page);
        else if (key == Key.Home || key == Key.Home.WithCtrl) MoveTo(0);
        else if (key == Key.End || key == Key.End.WithCtrl) MoveTo(_count - 1);
        else if (key == Key.CursorLeft || key == Key.CursorRight) return true; // every column fits: nothing to scroll sideways
        else return base.OnKeyDown(key);
        return true;
    }

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (mouse.Flags.HasFlag(MouseFlags.WheeledDown))
        {
            ScrollBy(3);
            return true;
        }
        if (mouse.Flags.HasFlag(MouseFlags.WheeledUp))
        {
            ScrollBy(-3);
            return true;
        }
        return base.OnMouseEvent(mouse);
    }

    private void OnTableSelectionChanged()
    {
        if (_syncing || Value is null || _count == 0) return;
        // A click (or TableView's own handling of a key we did not take) moved the selection within the page.
        int row = Math.Clamp(_top + Value.SelectedCell.Y, 0, _count - 1);
        if (row == _cursor) return;
        _cursor = row;
        SetNeedsDraw();
        CursorChanged?.Invoke(_cursor);
    }

    private void ClampAndShow()
    {
        ClampTop();
        Show();
    }

    private void ClampTop()
    {
        int page = PageRows;
        if (_cursor < _top) _top = _cursor;
        else if (_cursor >= _top + page) _top = _cursor - page + 1;
        _top = Math.Clamp(_top, 0, Math.Max(0, _count - page));
    }

    private int PageRowCount() => Math.Max(0, Math.Min(PageRows, _count - _top));

    private void Show()
    {
        _syncing = true;
        try
        {
            _page.Rows = PageRowCount();
            if (RowValue is { } value)
            {
                if (_shown.Length != _page.Rows) _shown = new object?[_page.Rows];
                for (int i = 0; i < _shown.Length; i++) _shown[i] = value(_top + i);
            }
            Update();
            if (_count > 0) SetSelection(0, _cursor - _top, false, null);
            SetNeedsDraw();
        }
        finally
        {
            _syncing = false;
        }
    }

    private sealed class PageSource(PagedTableView owner, string[] headers, Func<int, int, string> cell) : ITableSource
    {
        public Func<int, int, string> Cell { get; set; } = cell;

        public string[] Headers { get; } = headers;

        public object this[int row, int col] => row >= 0 && row < Rows ? Cell(owner._top + row, col) : "";

        public string[] ColumnNames => Headers;

        public int Columns => Headers.Length;

        public int Rows { get; set; }
    }
}
