using RTorrent.Engine.Client;

namespace RTorrent.Tui;

/// <summary>What one cell of the piece map shows (a cell may stand for several pieces).</summary>
public enum PieceCell : byte
{
    /// <summary>No wanted piece of the cell is had.</summary>
    Missing,
    /// <summary>Some wanted pieces are had, some not.</summary>
    Partial,
    /// <summary>At least one piece is being downloaded.</summary>
    Downloading,
    /// <summary>Every wanted piece is had.</summary>
    Have,
    /// <summary>No piece of the cell is wanted.</summary>
    Skipped,
}

/// <summary>
/// Folds a torrent's pieces into the cells of a map that fits the screen. Each cell has its own character so that the
/// map reads the same without colour: <c>#</c> have, <c>:</c> partly had, <c>+</c> downloading, <c>.</c> missing,
/// <c>-</c> not wanted.
/// </summary>
public static class PieceMap
{
    /// <summary>The character that marks <paramref name="cell"/>.</summary>
    public static char Glyph(PieceCell cell) => cell switch
    {
        PieceCell.Have => '#',
        PieceCell.Partial => ':',
        PieceCell.Downloading => '+',
        PieceCell.Skipped => '-',
        _ => '.',
    };

    /// <summary>The legend line.</summary>
    public const string Legend = "# have  : partly  + downloading  . missing  - not wanted";

    /// <summary>How many pieces one cell stands for so that <paramref name="pieces"/> fit in <paramref name="cells"/>.</summary>
    public static int PiecesPerCell(int pieces, int cells) =>
        pieces <= 0 || cells <= 0 ? 1 : Math.Max(1, (int)Math.Ceiling((double)pieces / cells));

    /// <summary>The cells for <paramref name="pieces"/> with <paramref name="perCell"/> pieces in each.</summary>
    public static PieceCell[] Fold(ReadOnlySpan<PieceDisplayState> pieces, int perCell)
    {
        perCell = Math.Max(1, perCell);
        int count = (pieces.Length + perCell - 1) / perCell;
        var cells = new PieceCell[count];
        for (int c = 0; c < count; c++)
        {
            ReadOnlySpan<PieceDisplayState> group = pieces.Slice(c * perCell, Math.Min(perCell, pieces.Length - c * perCell));
            int have = 0, missing = 0, downloading = 0;
            foreach (PieceDisplayState p in group)
            {
                switch (p)
                {
                    case PieceDisplayState.Have: have++; break;
                    case PieceDisplayState.Missing: missing++; break;
                    case PieceDisplayState.Downloading: downloading++; break;
                }
            }
            cells[c] = downloading > 0 ? PieceCell.Downloading
                : have > 0 && missing > 0 ? PieceCell.Partial
                : have > 0 ? PieceCell.Have
                : missing > 0 ? PieceCell.Missing
                : PieceCell.Skipped;
        }
        return cells;
    }
}
