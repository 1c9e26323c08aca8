using System.Drawing;
using System.Text;
using RTorrent.Engine.Client;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace RTorrent.Tui.Views;

/// <summary>
/// The torrent list, drawn by itself: a header line, a rule and one line per torrent on screen. It replaces
/// Terminal.Gui's TableView, which wrote every cell of the page four or five times per redraw (it measures the cells of
/// each column, clears each line, fills it, then writes each cell and its gap) and so made every key cost in
/// proportion to the terminal's size.
/// </summary>
/// <remarks>
/// <para>
/// Only the rows on screen are ever looked at. A row's text is made once per snapshot of its torrent
/// (<see cref="TorrentRows.Line"/>) and kept while that snapshot is shown: moving the cursor or scrolling formats only
/// rows that come into view, and a refresh only the rows whose torrent changed.
/// </para>
/// <para>
/// Each cell is compared with what the screen buffer already holds and written only when it differs, so a cell
/// that does not change is neither written again nor sent to the terminal: moving the cursor sends two lines, not the
/// page. Lines with wide or combining characters (rare torrent names) are written whole, without the comparison.
/// </para>
/// <para>
/// Keys: Up/Down, PgUp/PgDn, Home/End. Mouse: a click on a row moves the cursor there, a double click opens it
/// (<see cref="View.Accepting"/>), a click on a header raises <see cref="HeaderClicked"/>, the wheel scrolls.
/// </para>
/// </remarks>
internal sealed class TorrentListView : View
{
    /// <summary>Lines above the rows: the headers and the rule under them.</summary>
    public const int HeaderLines = 2;

    private readonly TorrentList _list;
    private readonly TorrentRows _rows;
    private readonly bool _color;
    private readonly StringBuilder _run = new();
    private Attribute[] _attributes = [];
    private int _count;
    private int _top;
    private int _cursor;
    private TorrentSnapshot?[] _shown = [];

    // Lines of the snapshots drawn last time, by reference: a snapshot is immutable, so its line stays right until the
    // layout changes. Swapped with _nextLines on every draw, so only the rows on screen are kept.
    private Dictionary<TorrentSnapshot, string> _lines = new(ReferenceEqualityComparer.Instance);
    private Dictionary<TorrentSnapshot, string> _nextLines = new(ReferenceEqualityComparer.Instance);
    private int _linesLayout = -1;
    private readonly Dictionary<TorrentState, Scheme> _stateSchemes = [];
    private Scheme? _stateSchemesBase;

    public TorrentListView(TorrentList list, TorrentRows rows, TerminalProfile profile)
    {
        _list = list;
        _rows = rows;
        _color = profile.Color;
        CanFocus = true;
        FrameChanged += (_, _) => ClampAndShow();
    }

    /// <summary>Raised when <see cref="CursorRow"/> moves.</summary>
    public event Action<int>? CursorChanged;

    /// <summary>Raised when a column header is clicked.</summary>
    public event Action<TorrentColumn>? HeaderClicked;

    /// <summary>All rows (not only those on screen).</summary>
    public int Count => _count;

    /// <summary>The first row on screen.</summary>
    public int Top => _top;

    /// <summary>The cursor's row, or -1 when there are no rows.</summary>
    public int CursorRow => _count == 0 ? -1 : _cursor;

    /// <summary>How many rows fit under the headers.</summary>
    public int PageRows => Math.Max(1, Viewport.Height - HeaderLines);

    /// <summary>How many lines were formatted for this view so far (a redraw that formats none reused every line).</summary>
    public long LinesFormatted => _rows.LinesFormatted;

    /// <summary>Takes a new row count (the rows are read from the list when drawn) and puts the cursor on <paramref name="cursor"/>.</summary>
    public void SetRows(int count, int cursor)
    {
        _count = Math.Max(0, count);
        _cursor = Math.Clamp(cursor, 0, Math.Max(0, _count - 1));
        ClampAndShow();
    }

    /// <summary>
    /// Like <see cref="SetRows"/>, but marks the view for drawing only when what it shows changed: its first row, the
    /// cursor, the number of rows on screen, or the snapshot behind one of them. A refresh in which only rows off
    /// screen changed then draws nothing.
    /// </summary>
    public void SetRowsIfChanged(int count, int cursor)
    {
        int oldTop = _top, oldCursor = _cursor;
        _count = Math.Max(0, count);
        _cursor = Math.Clamp(cursor, 0, Math.Max(0, _count - 1));
        ClampTop();
        if (_top == oldTop && _cursor == oldCursor && ShownUnchanged()) return;
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

    protected override bool OnKeyDown(Key key)
    {
        int page = Math.Max(1, PageRows - 1);
        if (key == Key.CursorDown) MoveTo(_cursor + 1);
        else if (key == Key.CursorUp) MoveTo(_cursor - 1);
        else if (key == Key.PageDown) MoveTo(_cursor + page);
        else if (key == Key.PageUp) MoveTo(_cursor - page);
        else if (key == Key.Home || key == Key.Home.WithCtrl) MoveTo(0);
        else if (key == Key.End || key == Key.End.WithCtrl) MoveTo(_count - 1);
        else if (key == Key.CursorLeft || key == Key.CursorRight) { } // every column fits: nothing to scroll sideways
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
        if (mouse.Position is not { } p || !(mouse.IsSingleClicked || mouse.IsDoubleClicked)) return base.OnMouseEvent(mouse);
        if (p.Y == 0)
        {
            if (mouse.IsSingleClicked && _rows.ColumnAt(p.X) is { } column) HeaderClicked?.Invoke(column);
            return true;
        }
        int row = _top + p.Y - HeaderLines;
        if (p.Y < HeaderLines || row >= _count) return true;
        if (!HasFocus) SetFocus();
        MoveTo(row);
        if (mouse.IsDoubleClicked) InvokeCommand(Command.Accept);
        return true;
    }

    // Every cell of the viewport is written by OnDrawingContent (blank ones too), so clearing first would only make
    // every cell differ from the screen and be sent again.
    protected override bool OnClearingViewport() => true;

    protected override bool OnDrawingContent(DrawContext? context)
    {
        if (ScreenContents is not { } contents) return true;
        int width = Viewport.Width, height = Viewport.Height;
        if (width <= 0 || height <= 0) return true;
        if (_attributes.Length < width) _attributes = new Attribute[width];
        if (_linesLayout != _rows.LayoutVersion)
        {
            _lines.Clear();
            _linesLayout = _rows.LayoutVersion;
        }

        Attribute normal = GetAttributeForRole(VisualRole.Normal);
        Span<Attribute> attributes = _attributes.AsSpan(0, width);

        // The headers: names in the header colours, the gaps between them plain.
        attributes.Fill(normal);
        Attribute header = HasFocus ? GetAttributeForRole(VisualRole.Focus) : normal;
        IReadOnlyList<int> widths = _rows.Widths, starts = _rows.Starts;
        for (int c = 0; c < widths.Count; c++)
        {
            if (widths[c] <= 0) continue;
            attributes.Slice(Math.Min(starts[c], width), Math.Clamp(width - starts[c], 0, widths[c])).Fill(header);
        }
        Paint(contents, 0, _rows.HeaderLine(), attributes, null);
        if (height > 1)
        {
            attributes.Fill(normal);
            Rune rule = Glyphs.HLine;
            Paint(contents, 1, new string(rule.IsBmp ? (char)rule.Value : '-', _rows.ContentWidth), attributes, null);
        }

        // The rows on screen, then blank lines.
        IReadOnlyList<TorrentSnapshot> rows = _list.Rows;
        Scheme scheme = GetScheme();
        Attribute cursorRow = HasFocus ? scheme.Focus : scheme.Active;
        int stateStart = starts[(int)TorrentColumn.State], stateWidth = widths[(int)TorrentColumn.State];
        int page = Math.Max(0, height - HeaderLines);
        if (_shown.Length != page) _shown = new TorrentSnapshot?[page];
        for (int i = 0; i < page; i++)
        {
            int row = _top + i;
            int y = HeaderLines + i;
            if (row >= _count || row >= rows.Count)
            {
                _shown[i] = null;
                attributes.Fill(normal);
                Paint(contents, y, "", attributes, null);
                continue;
            }
            TorrentSnapshot t = rows[row];
            _shown[i] = t;
            bool isCursor = row == _cursor;
            attributes.Fill(isCursor ? cursorRow : normal);
            if (_color && stateWidth > 0 && stateStart < width && StateScheme(t.State, scheme) is { } stateScheme)
            {
                attributes.Slice(stateStart, Math.Min(stateWidth, width - stateStart))
                    .Fill(isCursor ? (HasFocus ? stateScheme.Focus : stateScheme.Active) : stateScheme.Normal);
            }
            Paint(contents, y, LineOf(t), attributes, isCursor ? '>' : null);
        }
        (_lines, _nextLines) = (_nextLines, _lines);
        _nextLines.Clear();
        return true;
    }

    /// <summary>The line of <paramref name="t"/>: the one kept from the last draw, or a new one.</summary>
    private string LineOf(TorrentSnapshot t)
    {
        if (!_lines.TryGetValue(t, out string? line) && !_nextLines.TryGetValue(t, out line)) line = _rows.Line(t);
        _nextLines[t] = line;
        return line;
    }

    /// <summary>
    /// Writes one line of the viewport: <paramref name="text"/> (blank past its end) with a colour per cell, and
    /// <paramref name="first"/> in place of its first character when given. Cells whose character and colour the
    /// screen buffer already holds are skipped, so they stay clean and are not sent to the terminal again.
    /// </summary>
    private void Paint(Cell[,] contents, int y, string text, ReadOnlySpan<Attribute> attributes, char? first)
    {
        int width = attributes.Length;
        if (first is { } f && text.Length > 0) text = f + text[1..];
        else if (first is { } only) text = only.ToString();
        if (!TorrentRows.IsNarrow(text))
        {
            PaintWhole(y, text, attributes);
            return;
        }
        Point screen = ViewportToScreen(new Point(0, y));
        int bufferRows = contents.GetLength(0), bufferColumns = contents.GetLength(1);
        if (screen.Y < 0 || screen.Y >= bufferRows) return;
        int x = 0;
        while (x < width)
        {
            if (Holds(contents, screen.Y, screen.X + x, bufferColumns, CharAt(text, x), attributes[x]))
            {
                x++;
                continue;
            }
            // A run of cells to write, all in one colour.
            int start = x;
            Attribute attribute = attributes[x];
            _run.Clear();
            while (x < width && attributes[x] == attribute && !Holds(contents, screen.Y, screen.X + x, bufferColumns, CharAt(text, x), attribute))
            {
                _run.Append(CharAt(text, x));
                x++;
            }
            SetAttribute(attribute);
            Move(start, y);
            AddStr(_run.ToString());
        }
    }

    private static char CharAt(string text, int x) => x < text.Length ? text[x] : ' ';

    /// <summary>Whether the screen buffer's cell already shows <paramref name="c"/> in <paramref name="attribute"/> (or is off screen).</summary>
    private static bool Holds(Cell[,] contents, int row, int column, int columns, char c, Attribute attribute)
    {
        if (column < 0 || column >= columns) return true; // off screen: nothing to write
        ref Cell cell = ref contents[row, column];
        return cell.Attribute == attribute && cell.Grapheme is { Length: 1 } g && g[0] == c;
    }

    /// <summary>Writes a whole line (text that has wide or combining characters), blank-filled to the width.</summary>
    private void PaintWhole(int y, string text, ReadOnlySpan<Attribute> attributes)
    {
        int width = attributes.Length;
        SetAttribute(attributes[0]);
        Move(0, y);
        AddStr(new string(' ', width));
        // Cell by cell where the colour changes; text columns and cells differ past a wide character, so the line is
        // written in the colour of the cell each grapheme starts at.
        int x = 0;
        Move(0, y);
        foreach (string grapheme in GraphemeHelper.GetGraphemes(text))
        {
            if (x >= width) break;
            int w = Math.Max(0, TorrentRows.Columns(grapheme));
            if (x + w > width) break;
            SetAttribute(attributes[x]);
            Move(x, y);
            AddStr(grapheme);
            x += Math.Max(1, w);
        }
    }

    /// <summary>The colours of the State cell for a torrent in <paramref name="state"/>, or null for the row's own.</summary>
    private Scheme? StateScheme(TorrentState state, Scheme rowScheme)
    {
        ColorName16? color = state switch
        {
            TorrentState.Seeding => ColorName16.BrightGreen,
            TorrentState.Downloading => ColorName16.BrightCyan,
            TorrentState.Error => ColorName16.BrightRed,
            TorrentState.Checking or TorrentState.FetchingMetadata => ColorName16.Yellow,
            TorrentState.Stopped or TorrentState.Queued => ColorName16.DarkGray,
            _ => null,
        };
        if (color is null) return null;
        if (!ReferenceEquals(_stateSchemesBase, rowScheme))
        {
            _stateSchemes.Clear();
            _stateSchemesBase = rowScheme;
        }
        if (_stateSchemes.TryGetValue(state, out Scheme? scheme)) return scheme;
        scheme = new Scheme(rowScheme) { Normal = new Attribute(new Terminal.Gui.Drawing.Color(color.Value), rowScheme.Normal.Background) };
        _stateSchemes[state] = scheme;
        return scheme;
    }

    private bool ShownUnchanged()
    {
        IReadOnlyList<TorrentSnapshot> rows = _list.Rows;
        int page = Math.Max(0, Viewport.Height - HeaderLines);
        if (_shown.Length != page) return false;
        for (int i = 0; i < page; i++)
        {
            int row = _top + i;
            TorrentSnapshot? now = row < _count && row < rows.Count ? rows[row] : null;
            if (!ReferenceEquals(now, _shown[i]) && !(now is not null && now.Equals(_shown[i]))) return false;
        }
        return true;
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

    private void Show() => SetNeedsDraw();
}
