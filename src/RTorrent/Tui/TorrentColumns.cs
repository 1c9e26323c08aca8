namespace RTorrent.Tui;

/// <summary>
/// Column widths of the main list for a screen width. TableView would otherwise measure every cell of every row to
/// size its columns (slow with a thousand torrents, and jumpy as values change); fixed widths computed from the screen
/// width keep the layout still and reflow it only on resize.
/// </summary>
public static class TorrentColumns
{
    /// <summary>Narrowest useful name column before other columns give way.</summary>
    public const int MinNameWidth = 16;

    private static readonly TorrentColumn[] HideOrder = [TorrentColumn.Ratio, TorrentColumn.Peers, TorrentColumn.Up, TorrentColumn.Eta];

    /// <summary>Widest Host column: longer host names are cut.</summary>
    public const int MaxHostWidth = 12;

    /// <summary>
    /// Widths of the columns (0 = hidden) for a table <paramref name="width"/> cells wide. Each shown column costs one
    /// more cell for the gap before it. On narrow screens the least needed columns (ratio, then peers, upload rate and
    /// ETA) give way so that names stay readable; extra width goes first to the name, then to the bar and the state.
    /// </summary>
    /// <param name="width">The table's width.</param>
    /// <param name="hostWidth">
    /// Width of the Host column (the longest host name; at least 4 for its header, at most <see cref="MaxHostWidth"/>),
    /// or 0 when the list shows one session and has no Host column.
    /// </param>
    public static int[] Compute(int width, int hostWidth = 0)
    {
        int[] w = new int[Enum.GetValues<TorrentColumn>().Length];
        w[(int)TorrentColumn.Host] = hostWidth <= 0 ? 0 : Math.Clamp(hostWidth, 4, MaxHostWidth);
        // Sizes and rates are at most four characters (Units.CompactSize), the ratio five.
        w[(int)TorrentColumn.Size] = 4;
        w[(int)TorrentColumn.Progress] = 11;
        w[(int)TorrentColumn.State] = 12; // "checking 45%"
        w[(int)TorrentColumn.Down] = 4;
        w[(int)TorrentColumn.Up] = 4;
        w[(int)TorrentColumn.Peers] = 7;
        w[(int)TorrentColumn.Ratio] = 5;
        w[(int)TorrentColumn.Eta] = 5;

        int Used() => w.Where((x, i) => i != (int)TorrentColumn.Name && x > 0).Sum(x => x + 1) + 1;

        foreach (TorrentColumn hide in HideOrder)
        {
            if (width - Used() >= MinNameWidth) break;
            w[(int)hide] = 0;
        }

        int spare = Math.Max(1, width - Used());
        // The name takes what is left, but beyond a comfortable width the bar and the state text grow first.
        int name = Math.Min(spare, 40);
        spare -= name;
        int grow = Math.Min(spare, 10);
        w[(int)TorrentColumn.Progress] += grow;
        spare -= grow;
        grow = Math.Min(spare, 13);
        w[(int)TorrentColumn.State] += grow;
        spare -= grow;
        if (w[(int)TorrentColumn.Peers] > 0)
        {
            grow = Math.Min(spare, 2);
            w[(int)TorrentColumn.Peers] += grow;
            spare -= grow;
        }
        w[(int)TorrentColumn.Name] = name + spare;
        return w;
    }
}
