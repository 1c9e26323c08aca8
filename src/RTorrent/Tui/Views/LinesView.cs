using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace RTorrent.Tui.Views;

/// <summary>One line of a <see cref="LinesView"/>, with an optional colour (used only where the terminal has colour).</summary>
/// <param name="Text">The text.</param>
/// <param name="Color">Foreground colour, or null for the normal one.</param>
internal readonly record struct TextLine(string Text, ColorName16? Color = null);

/// <summary>
/// Read-only lines that scroll with the arrows, PgUp/PgDn, Home/End and the mouse wheel. Used for the Info and Log
/// tabs, the help and the session log. With <see cref="FollowTail"/> it stays at the end as lines arrive, until the
/// user scrolls up.
/// </summary>
internal sealed class LinesView : View
{
    private IReadOnlyList<TextLine> _lines = [];
    private int _top;
    private bool _atEnd = true;

    public LinesView()
    {
        CanFocus = true;
    }

    /// <summary>Keep the last line in view while the user has not scrolled away from it.</summary>
    public bool FollowTail { get; set; }

    /// <summary>Draw colours (false on monochrome terminals).</summary>
    public bool UseColor { get; set; }

    /// <summary>The lines.</summary>
    public IReadOnlyList<TextLine> Lines => _lines;

    /// <summary>The first line on screen.</summary>
    public int TopLine => _top;

    /// <summary>Replaces the lines; redraws only when they differ.</summary>
    public void SetLines(IReadOnlyList<TextLine> lines)
    {
        if (lines.Count == _lines.Count && lines.SequenceEqual(_lines)) return;
        _lines = lines;
        if (FollowTail && _atEnd) _top = MaxTop();
        _top = Math.Clamp(_top, 0, MaxTop());
        SetNeedsDraw();
    }

    /// <summary>Replaces the lines with plain text lines.</summary>
    public void SetText(IEnumerable<string> lines) => SetLines([.. lines.Select(l => new TextLine(l))]);

    /// <summary>Scrolls by <paramref name="delta"/> lines.</summary>
    public void ScrollBy(int delta)
    {
        int top = Math.Clamp(_top + delta, 0, MaxTop());
        _atEnd = top >= MaxTop();
        if (top == _top) return;
        _top = top;
        SetNeedsDraw();
    }

    protected override bool OnKeyDown(Key key)
    {
        int page = Math.Max(1, Viewport.Height - 1);
        if (key == Key.CursorDown) ScrollBy(1);
        else if (key == Key.CursorUp) ScrollBy(-1);
        else if (key == Key.PageDown || key == Key.Space) ScrollBy(page);
        else if (key == Key.PageUp) ScrollBy(-page);
        else if (key == Key.Home) ScrollBy(-_lines.Count);
        else if (key == Key.End) ScrollBy(_lines.Count);
        else return false;
        return true;
    }

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (mouse.Flags.HasFlag(MouseFlags.WheeledDown)) ScrollBy(3);
        else if (mouse.Flags.HasFlag(MouseFlags.WheeledUp)) ScrollBy(-3);
        else return false;
        return true;
    }

    protected override void OnViewportChanged(DrawEventArgs e)
    {
        base.OnViewportChanged(e);
        if (FollowTail && _atEnd) _top = MaxTop();
        _top = Math.Clamp(_top, 0, MaxTop());
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        Attribute normal = GetAttributeForRole(VisualRole.Normal);
        int width = Viewport.Width;
        for (int row = 0; row < Viewport.Height; row++)
        {
            int index = _top + row;
            TextLine line = index < _lines.Count ? _lines[index] : default;
            string text = line.Text ?? "";
            if (text.Length > width) text = text[..width];
            SetAttribute(UseColor && line.Color is { } c ? new Attribute(new Color(c), normal.Background) : normal);
            Move(0, row);
            AddStr(text.PadRight(width));
        }
        return true;
    }

    private int MaxTop() => Math.Max(0, _lines.Count - Math.Max(1, Viewport.Height));
}
