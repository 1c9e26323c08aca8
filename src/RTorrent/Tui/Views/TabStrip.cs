using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace RTorrent.Tui.Views;

/// <summary>
/// One line of tab names with their number keys: <c> 1 Info  [2 Files]  3 Peers </c>. The current tab is in brackets
/// (and highlighted where the terminal can), so it shows on a monochrome terminal too. A click picks a tab.
/// </summary>
internal sealed class TabStrip : View
{
    private readonly string[] _names;
    private int _selected;

    public TabStrip(IEnumerable<string> names)
    {
        _names = [.. names];
        Height = 1;
        CanFocus = false;
    }

    /// <summary>Raised when a tab is clicked.</summary>
    public event Action<int>? TabClicked;

    /// <summary>The current tab.</summary>
    public int Selected
    {
        get => _selected;
        set
        {
            if (value == _selected) return;
            _selected = value;
            SetNeedsDraw();
        }
    }

    /// <summary>The text of the strip.</summary>
    public string Render()
    {
        var parts = new List<string>(_names.Length);
        for (int i = 0; i < _names.Length; i++)
        {
            string label = $"{i + 1} {_names[i]}";
            parts.Add(i == _selected ? "[" + label + "]" : " " + label + " ");
        }
        return string.Join(" ", parts);
    }

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (!mouse.IsSingleClicked || mouse.Position is not { } p) return false;
        int x = 0;
        for (int i = 0; i < _names.Length; i++)
        {
            int length = $"{i + 1} {_names[i]}".Length + 2;
            if (p.X >= x && p.X < x + length)
            {
                TabClicked?.Invoke(i);
                return true;
            }
            x += length + 1;
        }
        return false;
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        var highlight = GetAttributeForRole(VisualRole.Focus);
        Move(0, 0);
        int x = 0;
        for (int i = 0; i < _names.Length && x < Viewport.Width; i++)
        {
            string label = $"{i + 1} {_names[i]}";
            string text = (i == _selected ? "[" + label + "]" : " " + label + " ") + " ";
            SetAttribute(i == _selected ? highlight : normal);
            AddStr(text[..^1]);
            SetAttribute(normal);
            AddStr(" ");
            x += text.Length;
        }
        SetAttribute(normal);
        if (x < Viewport.Width) AddStr(new string(' ', Viewport.Width - x));
        return true;
    }
}
