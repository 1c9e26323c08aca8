using System.Drawing;
using RTorrent.Engine.Client;
using RTorrent.Tui;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace RTorrent.Tests.Tui;

/// <summary>
/// The torrent list draws itself (TorrentListView): only the rows on screen are formatted, a row's text is made once
/// per snapshot, and only cells that change are written. Work is counted (lines formatted, cells written), never timed.
/// </summary>
[Collection(TuiCollection.Name)]
public class ListDrawingTests
{
    /// <summary>Lines formatted by a full redraw after a resize (which changes the layout, so nothing kept can be used).</summary>
    private static long LinesOfAFullRedraw(int torrents, int width, int height)
    {
        using var h = new TuiHarness(new FakeBackend(torrents), width, height);
        h.Refresh();
        long before = h.Window.Table.LinesFormatted;
        h.Resize(width + 1, height);
        return h.Window.Table.LinesFormatted - before;
    }

    [Theory]
    [InlineData(80, 24)]
    [InlineData(200, 60)]
    public void A_redraw_of_ten_thousand_torrents_formats_as_many_lines_as_one_of_a_hundred(int width, int height)
    {
        long hundred = LinesOfAFullRedraw(100, width, height);
        long tenThousand = LinesOfAFullRedraw(10_000, width, height);

        Assert.Equal(hundred, tenThousand);
        Assert.Equal(height - 5, tenThousand); // the rows on screen: the title, headers, rule, status and hint lines take 5
    }

    [Fact]
    public void Moving_the_cursor_on_the_page_formats_no_line_and_scrolling_formats_the_row_that_came_into_view()
    {
        using var h = new TuiHarness(new FakeBackend(10_000));
        h.Refresh();
        long before = h.Window.Table.LinesFormatted;

        for (int i = 0; i < h.Window.Table.PageRows - 1; i++) h.Press(Key.CursorDown);
        Assert.Equal(0, h.Window.Table.LinesFormatted - before);
        Assert.Equal(0, h.Window.Table.Top);

        h.Press(Key.CursorDown); // off the page: the list scrolls by one
        Assert.Equal(1, h.Window.Table.Top);
        Assert.Equal(1, h.Window.Table.LinesFormatted - before);
        Assert.StartsWith(">" + h.Window.CurrentTorrent!.Name[..10], h.Rows[21]);
    }

    [Fact]
    public void Down_writes_only_the_two_rows_whose_cursor_mark_changed()
    {
        using var h = new TuiHarness(new FakeBackend(10_000), 200, 60, TerminalProfile.Rich);
        h.Refresh();
        h.App.LayoutAndDraw(false);
        ClearDirty(h);

        // What is dirty once the window has drawn and before the screen is written out (which cleans every cell).
        List<int> dirtyRows = [];
        h.Window.DrawComplete += (_, _) =>
        {
            Cell[,] cells = h.App.Driver!.Contents!;
            dirtyRows = [.. Enumerable.Range(0, 60).Where(y => Enumerable.Range(0, 200).Any(x => cells[y, x].IsDirty))];
        };

        h.App.InjectKey(Key.CursorDown);
        h.App.LayoutAndDraw(false);

        Assert.Equal([3, 4], dirtyRows); // the row the cursor left and the one it entered; not the page, not the status line
        Assert.StartsWith(">", h.Rows[4]);
    }

    [Fact]
    public void A_forced_redraw_after_the_screen_was_cleared_shows_the_whole_list_again()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        string before = h.Screen;
        h.App.Driver!.ClearContents();
        h.App.LayoutAndDraw(true);
        Assert.Equal(before, h.Screen);
    }

    [Fact]
    public void The_state_cell_is_coloured_and_the_cursor_row_highlighted()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend(), 100, 14, TerminalProfile.Rich);
        h.Press(Key.CursorDown); // debian, seeding
        Cell[,] cells = h.App.Driver!.Contents!;
        int state = h.Rows[1].IndexOf("State", StringComparison.Ordinal);

        Assert.Equal(ColorName16.Yellow, Foreground(cells[3, state])); // arch: checking
        Assert.Equal(ColorName16.BrightRed, Foreground(cells[6, state])); // gentoo: error
        Assert.NotEqual(cells[3, 1].Attribute, cells[4, 1].Attribute); // the cursor row has its own colours
        Assert.Equal(cells[4, 1].Attribute, cells[4, 90].Attribute); // across the whole row
        Assert.NotEqual(cells[4, 1].Attribute, cells[4, state].Attribute);
    }

    [Fact]
    public void Names_with_wide_characters_keep_the_columns_in_place()
    {
        var backend = MainListTests.SampleBackend();
        backend.AddTorrent(FakeBackend.Snapshot("日本語のファイル名.iso", 1L << 30, 0.5, TorrentState.Downloading, down: 1000));
        using var h = new TuiHarness(backend);
        string wide = h.Rows.Single(r => r.Contains("日本語", StringComparison.Ordinal));
        string plain = h.Rows.Single(r => r.Contains("fedora-40.iso", StringComparison.Ordinal));
        // Each wide character takes two cells (the screen text has one character for them), so the sizes line up.
        int Cells(string row, string text) => row[..row.IndexOf(text, StringComparison.Ordinal)].Sum(c => c >= 0x3000 ? 2 : 1);
        Assert.Equal(Cells(plain, "2.0G"), Cells(wide, "1.0G"));
    }

    [Fact]
    public void A_line_fills_its_columns_exactly_with_numbers_to_the_right_and_wide_names_cut_by_cells()
    {
        var rows = new TorrentRows(new TorrentList(), TerminalProfile.Monochrome);
        rows.Reflow(100);
        TorrentSnapshot t = FakeBackend.Snapshot("ubuntu.iso", 6L << 30, 0.5, TorrentState.Downloading, down: 1536 * 1024, peers: 3, known: 40);
        int size = rows.Starts[(int)TorrentColumn.Size], peers = rows.Starts[(int)TorrentColumn.Peers];

        string line = rows.Line(t);
        Assert.Equal(rows.ContentWidth, line.Length);
        Assert.StartsWith(" ubuntu.iso ", line);
        Assert.Equal("6.0G", line.Substring(size, 4));
        Assert.Equal("   3/40", line.Substring(peers, rows.Widths[(int)TorrentColumn.Peers]));

        string wide = rows.Line(t with { Name = new string('\u65e5', 60) }); // far wider than the name column
        Assert.Equal(rows.ContentWidth, TorrentRows.Columns(wide));
        Assert.EndsWith(line[size..], wide);
    }

    [Fact]
    public void A_click_on_a_row_moves_the_cursor_there_and_a_double_click_opens_it()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        h.App.InjectSequence(InputInjectionExtensions.LeftButtonClick(new Point(5, 5))); // the third row: fedora
        h.Draw();
        Assert.Equal("fedora-40.iso", h.Window.CurrentTorrent!.Name);
        Assert.False(h.Window.IsDetailsOpen);

        h.App.InjectSequence(InputInjectionExtensions.LeftButtonDoubleClick(new Point(5, 6)));
        h.Draw();
        Assert.True(h.Window.IsDetailsOpen);
        Assert.Equal("gentoo.tar", h.Window.CurrentTorrent!.Name);
    }

    [Fact]
    public void The_wheel_scrolls_the_list_and_keeps_the_cursor_on_the_page()
    {
        using var h = new TuiHarness(new FakeBackend(1000));
        h.Refresh();
        h.App.InjectMouse(new Mouse { ScreenPosition = new Point(10, 10), Flags = MouseFlags.WheeledDown });
        h.Draw();
        Assert.Equal(3, h.Window.Table.Top);
        Assert.Equal(3, h.Window.Table.CursorRow);
        Assert.StartsWith(">" + h.Window.List.Rows[3].Name[..10], h.Rows[3]);
    }

    private static ColorName16? Foreground(Cell cell)
    {
        if (cell.Attribute is not { } a) return null;
        foreach (ColorName16 name in Enum.GetValues<ColorName16>())
        {
            if (new Terminal.Gui.Drawing.Color(name) == a.Foreground) return name;
        }
        return null;
    }

    private static void ClearDirty(TuiHarness h)
    {
        Cell[,] cells = h.App.Driver!.Contents!;
        for (int y = 0; y < cells.GetLength(0); y++)
        {
            for (int x = 0; x < cells.GetLength(1); x++) cells[y, x].IsDirty = false;
        }
    }
}
