using RTorrent.Engine.Client;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace RTorrent.Tui.Views;

/// <summary>
/// The Pieces tab: a legend line, then one character per cell, folded so that the whole torrent fits the view. The
/// characters alone tell the states apart; colour, where there is some, only repeats them.
/// </summary>
internal sealed class PieceMapView : View
{
    private PieceDisplayState[] _pieces = [];
    private int _have;

    public PieceMapView()
    {
        CanFocus = true;
    }

    /// <summary>Draw colours (false on monochrome terminals).</summary>
    public bool UseColor { get; set; }

    /// <summary>Takes the torrent's pieces; redraws only when they changed.</summary>
    public void SetPieces(PieceDisplayState[] pieces)
    {
        if (pieces.AsSpan().SequenceEqual(_pieces)) return;
        _pieces = pieces;
        _have = pieces.Count(p => p == PieceDisplayState.Have);
        SetNeedsDraw();
    }

    /// <summary>The map's text as drawn for a <paramref name="width"/> by <paramref name="height"/> area (legend first).</summary>
    public IReadOnlyList<string> Render(int width, int height)
    {
        var lines = new List<string>(height);
        if (width <= 0 || height <= 0) return lines;
        int mapRows = Math.Max(1, height - 2);
        int perCell = PieceMap.PiecesPerCell(_pieces.Length, width * mapRows);
        lines.Add(TorrentText.Fit($"{_have} of {_pieces.Length} pieces" + (perCell > 1 ? $" (one cell = {perCell} pieces)" : ""), width));
        lines.Add(TorrentText.Fit(PieceMap.Legend, width));
        PieceCell[] cells = PieceMap.Fold(_pieces, perCell);
        for (int start = 0; start < cells.Length && lines.Count < height; start += width)
        {
            int n = Math.Min(width, cells.Length - start);
            lines.Add(string.Create(n, (cells, start), (span, s) =>
            {
                for (int i = 0; i < span.Length; i++) span[i] = PieceMap.Glyph(s.cells[s.start + i]);
            }));
        }
        return lines;
    }

    protected override bool OnDrawingContent(DrawContext? context)
    {
        Attribute normal = GetAttributeForRole(VisualRole.Normal);
        IReadOnlyList<string> lines = Render(Viewport.Width, Viewport.Height);
        for (int row = 0; row < Viewport.Height; row++)
        {
            string text = row < lines.Count ? lines[row] : "";
            Move(0, row);
            if (row < 2 || !UseColor)
            {
                SetAttribute(normal);
                AddStr(text.PadRight(Viewport.Width));
                continue;
            }
            // Runs of one character share an attribute, so a row costs a few attribute changes, not one per cell.
            int i = 0;
            while (i < text.Length)
            {
                int j = i;
                while (j < text.Length && text[j] == text[i]) j++;
                SetAttribute(new Attribute(new Color(ColorOf(text[i])), normal.Background));
                AddStr(text[i..j]);
                i = j;
            }
            SetAttribute(normal);
            AddStr(new string(' ', Math.Max(0, Viewport.Width - text.Length)));
        }
        return true;
    }

    private static ColorName16 ColorOf(char glyph) => glyph switch
    {
        '#' => ColorName16.BrightGreen,
        ':' => ColorName16.Green,
        '+' => ColorName16.BrightYellow,
        '-' => ColorName16.Blue,
        _ => ColorName16.DarkGray,
    };
}
