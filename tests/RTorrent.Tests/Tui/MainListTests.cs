using System.Drawing;
using RTorrent.Engine.Client;
using RTorrent.Tui;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace RTorrent.Tests.Tui;

[Collection(TuiCollection.Name)]
public class MainListTests
{
    internal static FakeBackend SampleBackend()
    {
        var backend = new FakeBackend();
        backend.AddTorrent(FakeBackend.Snapshot("ubuntu-24.04.iso", 6L << 30, 0.52, TorrentState.Downloading, down: 1536 * 1024,
            up: 20 * 1024, peers: 12, known: 345, ratio: 0.52, eta: TimeSpan.FromSeconds(303)));
        backend.AddTorrent(FakeBackend.Snapshot("debian-12.iso", 650L << 20, 1, TorrentState.Seeding, up: 80 * 1024, peers: 3,
            known: 40, ratio: 2.25));
        backend.AddTorrent(FakeBackend.Snapshot("fedora-40.iso", 2L << 30, 0.10, TorrentState.Stopped, known: 5));
        backend.AddTorrent(FakeBackend.Snapshot("arch-2026.iso", 1L << 30, 0.45, TorrentState.Checking));
        backend.AddTorrent(FakeBackend.Snapshot("mint-22.iso", 3L << 30, 0, TorrentState.Queued));
        backend.AddTorrent(FakeBackend.Snapshot("gentoo.tar", 100L << 20, 0.3, TorrentState.Error, error: "disk full"));
        return backend;
    }

    private static string RowOf(TuiHarness h, string name) => h.Rows.Single(r => r.Contains(name, StringComparison.Ordinal));

    [Fact]
    public void Each_torrent_gets_a_row_with_every_column_at_80x24()
    {
        using var h = new TuiHarness(SampleBackend());
        string[] rows = h.Rows;
        Assert.Equal(24, rows.Length);
        Assert.StartsWith("RTorrent  |  6 torrents  |  sort name ^", rows[0]);
        Assert.Matches(@"Name\^\s+Size Progress\s+State\s+Down\s+Up\s+Peers\s+Ratio\s+ETA", rows[1]);

        string ubuntu = RowOf(h, "ubuntu-24.04.iso");
        Assert.Matches(@"6\.0G \[##\.\.\]\s+52% downloading\s+1\.5M\s+20K\s+12/345\s+0\.52\s+5m03s", ubuntu);
        Assert.Matches(@"650M \[####\] 100% seeding\s+-\s+80K\s+3/40\s+2\.25\s+-", RowOf(h, "debian-12.iso"));
        Assert.Contains("paused", RowOf(h, "fedora-40.iso"));
        Assert.Contains("checking 45%", RowOf(h, "arch-2026.iso"));
        Assert.Contains("queued", RowOf(h, "mint-22.iso"));
        Assert.Contains("error: disk~", RowOf(h, "gentoo.tar")); // the reason, cut to the column

        Assert.StartsWith("Down 1.5M/s  Up 100K/s  port 6881  15 conns  DHT 312", rows[22]);
        h.PumpUntil(() => h.Rows[22].Contains(" free", StringComparison.Ordinal)); // free space is read off the interface thread
        Assert.Matches(@"DHT 312  [0-9.]+[KMGT] free$", h.Rows[22]);
        Assert.StartsWith("F1 help  ^Q quit  Enter details  BkSp add  ^S start", rows[23]);
    }

    [Fact]
    public void The_cursor_row_is_marked_without_colour()
    {
        using var h = new TuiHarness(SampleBackend());
        Assert.StartsWith(">arch-2026.iso", h.Rows[3]);
        h.Press(Key.CursorDown);
        Assert.StartsWith(" arch-2026.iso", h.Rows[3]);
        Assert.StartsWith(">debian-12.iso", h.Rows[4]);
        Assert.Equal("debian-12.iso", h.Window.CurrentTorrent!.Name);
        h.Press(Key.End);
        Assert.Equal("ubuntu-24.04.iso", h.Window.CurrentTorrent!.Name);
        h.Press(Key.Home);
        Assert.Equal("arch-2026.iso", h.Window.CurrentTorrent!.Name);
        h.Press(Key.PageDown);
        Assert.Equal("ubuntu-24.04.iso", h.Window.CurrentTorrent!.Name);
    }

    [Fact]
    public void Interface_draws_at_once_and_fills_in_when_the_session_arrives()
    {
        var slow = new SlowBackend(SampleBackend());
        using var h = new TuiHarness(slow);
        Assert.Contains("Loading torrents...", h.Screen);
        Assert.Contains("Loading the session...", h.Screen);

        slow.Release();
        h.PumpUntil(() => h.Screen.Contains("ubuntu-24.04.iso", StringComparison.Ordinal)); // the fetch posts back to the interface thread
        Assert.DoesNotContain("Loading", h.Screen);
    }

    [Fact]
    public void An_empty_session_says_how_to_add_a_torrent()
    {
        using var h = new TuiHarness(new FakeBackend());
        Assert.Contains("No torrents yet. Press Backspace", h.Screen);
    }

    [Fact]
    public void Sort_keys_cycle_the_column_reverse_it_and_keep_the_cursor_on_its_torrent()
    {
        using var h = new TuiHarness(SampleBackend());
        h.Press(Key.CursorDown, Key.CursorDown); // fedora
        Assert.Equal("fedora-40.iso", h.Window.CurrentTorrent!.Name);

        h.Type(">");
        Assert.Equal(TorrentColumn.Size, h.Window.List.SortColumn);
        Assert.Contains("sort size v", h.Rows[0]);
        Assert.Equal(["ubuntu-24.04.iso", "mint-22.iso", "fedora-40.iso", "arch-2026.iso", "debian-12.iso", "gentoo.tar"],
            h.Window.List.Rows.Select(t => t.Name));
        Assert.Equal("fedora-40.iso", h.Window.CurrentTorrent!.Name);
        Assert.StartsWith(">fedora-40.iso", h.Rows[5]);

        h.Type("r");
        Assert.Contains("sort size ^", h.Rows[0]);
        Assert.Equal("gentoo.tar", h.Window.List.Rows[0].Name);
        Assert.Equal("fedora-40.iso", h.Window.CurrentTorrent!.Name);

        h.Type("<<");
        Assert.Equal(TorrentColumn.Eta, h.Window.List.SortColumn);
    }

    [Fact]
    public void A_click_on_a_header_sorts_by_it()
    {
        using var h = new TuiHarness(SampleBackend());
        int x = h.Rows[1].IndexOf("State", StringComparison.Ordinal);
        h.App.InjectSequence(InputInjectionExtensions.LeftButtonClick(new Point(x + 1, 1)));
        h.Draw();
        Assert.Equal(TorrentColumn.State, h.Window.List.SortColumn);
        Assert.Equal("gentoo.tar", h.Window.List.Rows[0].Name); // errors first
    }

    [Fact]
    public void State_filter_keys_cycle_through_the_states()
    {
        using var h = new TuiHarness(SampleBackend());
        h.Type("f");
        Assert.Equal(StateFilter.Downloading, h.Window.List.Filter);
        Assert.Contains("6 torrents (1 shown)  |  downloading", h.Rows[0]);
        Assert.Contains("ubuntu-24.04.iso", h.Rows[3]);
        Assert.DoesNotContain("debian", h.Screen);

        h.Type("f");
        Assert.Equal(StateFilter.Seeding, h.Window.List.Filter);
        Assert.Contains("debian-12.iso", h.Rows[3]);

        h.Type("ffff");
        Assert.Equal(StateFilter.Queued, h.Window.List.Filter);
        Assert.Contains("mint-22.iso", h.Rows[3]);
        h.Type("f");
        Assert.Contains("gentoo.tar", h.Rows[3]);
        h.Type("F");
        Assert.Equal(StateFilter.Queued, h.Window.List.Filter);
        h.Type("fff");
        Assert.Equal(StateFilter.Downloading, h.Window.List.Filter); // wrapped through "all"
    }

    [Fact]
    public void Slash_filters_by_name_as_you_type_enter_keeps_it_and_esc_clears_it()
    {
        using var h = new TuiHarness(SampleBackend());
        h.Type("/");
        Assert.True(h.Window.IsFinding);
        Assert.StartsWith("Find:", h.Rows[23]);
        h.Type("IS");
        Assert.Equal(5, h.Window.List.Rows.Count); // every .iso
        h.Type("o deb");
        Assert.Equal("debian-12.iso", Assert.Single(h.Window.List.Rows).Name);
        Assert.Contains("find \"ISo deb\"", h.Rows[0]);

        h.Press(Key.Enter);
        Assert.False(h.Window.IsFinding);
        Assert.StartsWith("F1 help", h.Rows[23]);
        Assert.Single(h.Window.List.Rows);
        h.Type("f"); // letters are commands again once the box is closed
        Assert.Equal(StateFilter.Downloading, h.Window.List.Filter);
        h.Type("F");

        h.Press(Key.Esc);
        Assert.Equal(6, h.Window.List.Rows.Count);
        Assert.DoesNotContain("find", h.Rows[0]);

        h.Type("/zzz");
        Assert.Contains("No torrent matches the filter", h.Screen);
        h.Press(Key.Esc);
        Assert.False(h.Window.IsFinding);
        Assert.Equal(6, h.Window.List.Rows.Count);
    }

    [Fact]
    public void An_unchanged_snapshot_draws_nothing_and_a_changed_one_redraws()
    {
        var backend = SampleBackend();
        using var h = new TuiHarness(backend);
        h.Draw();
        Assert.False(h.Window.Table.NeedsDraw);
        h.Refresh();
        h.Window.RefreshNow();
        Assert.False(h.Window.Table.NeedsDraw);

        backend.Update(FakeBackend.IdFor("debian-12.iso"), t => t with { UploadRate = 90 * 1024 });
        h.Window.RefreshNow();
        Assert.True(h.Window.Table.NeedsDraw);
        Assert.Contains("90K", h.Screen);
    }

    [Fact]
    public void The_cursor_follows_its_torrent_when_a_refresh_reorders_the_list()
    {
        var backend = SampleBackend();
        using var h = new TuiHarness(backend);
        h.Type(">>>>"); // sort by download rate
        Assert.Equal(TorrentColumn.Down, h.Window.List.SortColumn);
        h.Press(Key.End);
        string last = h.Window.CurrentTorrent!.Name;
        backend.Update(FakeBackend.IdFor(last), t => t with { DownloadRate = 10L << 20 });
        h.Refresh();
        Assert.Equal(last, h.Window.List.Rows[0].Name);
        Assert.Equal(last, h.Window.CurrentTorrent!.Name);
    }

    [Fact]
    public void A_finished_download_reads_100_percent_and_seeding()
    {
        var backend = SampleBackend();
        using var h = new TuiHarness(backend);
        backend.Update(FakeBackend.IdFor("ubuntu-24.04.iso"), t => t with { State = TorrentState.Seeding, Progress = 1, DownloadRate = 0, Eta = null });
        h.Refresh();
        Assert.Matches(@"ubuntu-24\.04\.iso\s+6\.0G \[####\] 100% seeding", RowOf(h, "ubuntu-24.04.iso"));
    }

    [Fact]
    public void A_thousand_torrents_show_the_first_page_and_scroll()
    {
        using var h = new TuiHarness(new FakeBackend(1000, 50));
        Assert.Contains("1000 torrents", h.Rows[0]);
        Assert.Equal(1000, h.Window.List.Rows.Count);
        h.Press(Key.End);
        Assert.Equal(h.Window.List.Rows[^1].Name, h.Window.CurrentTorrent!.Name);
        Assert.StartsWith(">" + h.Window.List.Rows[^1].Name[..10], h.Rows[21]);
    }

    /// <summary>A backend whose first snapshot arrives only when the test says so.</summary>
    private sealed class SlowBackend(FakeBackend inner) : DelegatingBackend(inner)
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.SetResult();

        public override async Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
        {
            await _gate.Task.ConfigureAwait(false);
            return await base.GetSessionAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
