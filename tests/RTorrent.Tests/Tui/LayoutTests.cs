using RTorrent.Engine.Client;
using RTorrent.Tui;
using Terminal.Gui.Input;

namespace RTorrent.Tests.Tui;

[Collection(TuiCollection.Name)]
public class LayoutTests
{
    private static FakeBackend LongNames()
    {
        var backend = new FakeBackend();
        for (int i = 0; i < 40; i++)
        {
            backend.AddTorrent(FakeBackend.Snapshot($"Some.Rather.Long.Release.Name.{i:00}.1080p.mkv", (i + 1) * 100L << 20, i / 40.0,
                TorrentState.Downloading, down: 1000 * i, peers: i, known: 100 + i, ratio: i / 10.0));
        }
        return backend;
    }

    [Fact]
    public void Resizing_to_100x30_shows_more_rows_and_wider_columns_and_back_again()
    {
        using var h = new TuiHarness(LongNames());
        string[] small = h.Rows;
        Assert.Equal(24, small.Length);
        Assert.All(small, r => Assert.True(r.Length <= 80));
        Assert.StartsWith(">Some.Rather.Long.~", small[3]);
        int visibleSmall = small.Count(r => r.Contains("Some.Rather", StringComparison.Ordinal));
        Assert.Equal(19, visibleSmall);

        h.Resize(100, 30);
        string[] large = h.Rows;
        Assert.Equal(30, large.Length);
        Assert.Equal(25, large.Count(r => r.Contains("Some.Rather", StringComparison.Ordinal)));
        // The name column took the extra width (the table keeps a column for its scroll bar when rows overflow).
        Assert.True(large[1].IndexOf("Size", StringComparison.Ordinal) >= small[1].IndexOf("Size", StringComparison.Ordinal) + 19);
        Assert.StartsWith(">Some.Rather.Long.Release.Name.00.108", large[3]);
        Assert.Contains("Ratio", large[1]);
        Assert.StartsWith("Down ", large[28]);
        Assert.StartsWith("F1 help", large[29]);
        Assert.True(large[29].Length > small[23].Length); // more hints fit

        h.Resize(80, 24);
        Assert.Equal(small, h.Rows);
    }

    [Fact]
    public void Wide_terminals_grow_the_progress_bar_and_state_columns()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend(), 160, 30);
        string ubuntu = h.Rows.Single(r => r.Contains("ubuntu", StringComparison.Ordinal));
        Assert.Matches(@"\[#######\.{7}\]\s+52% downloading", ubuntu);
        Assert.Contains("error: disk full", h.Rows.Single(r => r.Contains("gentoo", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_narrow_terminal_hides_the_ratio_before_the_names_get_too_short()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend(), 72, 20);
        Assert.DoesNotContain("Ratio", h.Rows[1]);
        Assert.Contains("Peers", h.Rows[1]);
        Assert.StartsWith(">arch-2026.iso", h.Rows[3]);
    }

    [Fact]
    public void The_details_reflow_too()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        h.Press(Key.End, Key.Enter);
        h.Type("3");
        Assert.StartsWith("Address", h.Rows[2]);
        h.Resize(120, 30);
        Assert.All(h.Rows, r => Assert.True(r.Length <= 120));
        Assert.Matches(@"^Address\s{10,}Client\s{10,}Flags", h.Rows[2]); // flexible columns took the space
        h.Resize(80, 24);
        Assert.All(h.Rows, r => Assert.True(r.Length <= 80));
    }

    [Fact]
    public void Monochrome_screens_carry_every_state_in_text()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend(), profile: TerminalProfile.Monochrome);
        string screen = h.Screen;
        foreach (string state in new[] { "downloading", "seeding", "paused", "checking 45%", "queued", "error: disk" })
        {
            Assert.Contains(state, screen);
        }
        // Our own text is plain ASCII on such a terminal (the table's header rule is Terminal.Gui's own line drawing).
        foreach (string row in h.Rows.Where((_, i) => i != 2))
        {
            Assert.All(row, c => Assert.True(c < 128, $"'{c}' in: {row}"));
        }
    }

    [Fact]
    public void Rich_terminals_get_unicode_marks()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend(), profile: TerminalProfile.Rich);
        Assert.Contains("sort name ▲", h.Rows[0]);
        Assert.Contains("Name▲", h.Rows[1]);
    }
}
