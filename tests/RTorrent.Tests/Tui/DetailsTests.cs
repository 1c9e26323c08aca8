using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Tui;
using RTorrent.Tui.Views;
using Terminal.Gui.Input;

namespace RTorrent.Tests.Tui;

[Collection(TuiCollection.Name)]
public class DetailsTests
{
    private static readonly string Ubuntu = FakeBackend.IdFor("ubuntu-24.04.iso");

    private static TuiHarness OpenUbuntu(TerminalProfile? profile = null)
    {
        FakeBackend backend = MainListTests.SampleBackend();
        backend.SetFiles(Ubuntu,
            ("casper/filesystem.squashfs", 5L << 30, 0.5, Priority.Normal),
            ("casper/vmlinuz", 14L << 20, 1, Priority.High),
            ("pool/main/a.deb", 1L << 20, 0, Priority.Normal),
            ("pool/main/b.deb", 2L << 20, 0, Priority.Normal),
            ("README.diskdefines", 231, 1, Priority.Skip));
        backend.Log(Ubuntu, PluginLogLevel.Warning, "tracker udp://backup.example.net:1337 timed out");
        backend.Log(Ubuntu, PluginLogLevel.Error, "piece 17 failed its hash check");
        var h = new TuiHarness(backend, profile: profile);
        h.Press(Key.End, Key.Enter);
        Assert.True(h.Window.IsDetailsOpen);
        Assert.Equal(Ubuntu, h.Window.Details.TorrentId);
        return h;
    }

    [Fact]
    public void Enter_opens_the_info_tab_and_esc_goes_back_to_the_same_row()
    {
        using TuiHarness h = OpenUbuntu();
        string[] rows = h.Rows;
        Assert.Equal("RTorrent > ubuntu-24.04.iso  |  downloading  52%  |  Esc back", rows[0]);
        Assert.StartsWith("[1 Info]  2 Files   3 Peers   4 Trackers   5 Pieces   6 Log   7 Web seeds", rows[1]);
        string screen = h.Screen;
        Assert.Contains("Name          ubuntu-24.04.iso", screen);
        Assert.Contains("State         downloading", screen);
        Assert.Contains("Progress      [##########..........] 52%  3.12 GiB of 6.00 GiB", screen);
        Assert.Contains("Rates         down 1.50 MiB/s, up 20.0 KiB/s", screen);
        Assert.Contains("Peers         12 connected (0 seeds), 345 known", screen);
        Assert.Contains("Time left     5m 03s", screen);
        Assert.StartsWith("F1 help  ^Q quit  Esc back  Tab/1-7 tabs", rows[23]);

        // Further down: hashes, save path, picker and storage.
        h.Press(Key.End);
        screen = h.Screen;
        Assert.Contains($"Info-hash v1  {Ubuntu}", screen);
        Assert.Contains("Save path     /downloads", screen);
        Assert.Contains("Piece picker  rarest-first", screen);
        Assert.Contains("Storage       file", screen);
        Assert.Contains("Error         none", screen);

        h.Press(Key.Esc);
        Assert.False(h.Window.IsDetailsOpen);
        Assert.Equal("ubuntu-24.04.iso", h.Window.CurrentTorrent!.Name);
        Assert.StartsWith(">ubuntu-24.04.iso", h.Rows[8]);
        Assert.False(h.Window.QuitRequested);
    }

    [Fact]
    public void The_info_tab_draws_rate_sparklines_from_the_history()
    {
        using TuiHarness h = OpenUbuntu();
        for (int i = 0; i < 6; i++)
        {
            h.Backend.Update(Ubuntu, t => t with { DownloadRate = (i + 1) * 100_000L });
            h.Time.Advance(TimeSpan.FromSeconds(2));
            h.Refresh();
        }
        string graph = h.Rows.Single(r => r.StartsWith("Down (graph)", StringComparison.Ordinal));
        // Monochrome levels " ._-=+*#@": the first bucket holds the first snapshot's 1.5 MiB/s (the maximum), the
        // next ones 100k, 200k ... 500k, rising; the bucket still filling is not drawn.
        Assert.Matches(@"^Down \(graph\)\s+@([._\-=+*#]{5}) max 1\.5M/s$", graph);
        string rise = graph.Split('@')[1][..5];
        Assert.Equal(new string([.. rise.OrderBy(c => " ._-=+*#@".IndexOf(c))]), rise);
        Assert.Contains("Up (graph)", h.Screen);
    }

    [Fact]
    public void Tabs_switch_with_tab_shift_tab_and_digits()
    {
        using TuiHarness h = OpenUbuntu();
        h.Press(Key.Tab);
        Assert.IsType<FilesTab>(h.Window.Details.Current);
        Assert.StartsWith(" 1 Info  [2 Files]", h.Rows[1]);
        h.Press(Key.Tab.WithShift, Key.Tab.WithShift);
        Assert.IsType<WebSeedsTab>(h.Window.Details.Current);
        h.Press(Key.Tab.WithShift);
        Assert.IsType<LogTab>(h.Window.Details.Current);
        h.Type("4");
        Assert.IsType<TrackersTab>(h.Window.Details.Current);
        h.Type("9"); // no ninth tab
        Assert.IsType<TrackersTab>(h.Window.Details.Current);
    }

    [Fact]
    public void The_web_seeds_tab_shows_each_seed_with_its_rate_and_last_error()
    {
        using TuiHarness h = OpenUbuntu();
        h.Backend.WebSeedRows[Ubuntu] =
        [
            new WebSeedSnapshot { Url = "http://mirror.example/ubuntu/", State = RTorrent.Engine.WebSeeds.WebSeedState.Active, DownloadRate = 3_000_000, Downloaded = 50_000_000, Connections = 2 },
            new WebSeedSnapshot { Url = "http://liar.example/", State = RTorrent.Engine.WebSeeds.WebSeedState.Dropped, LastError = "sent 2 pieces with wrong data" },
            new WebSeedSnapshot { Url = "http://seed.example/s.php", Kind = RTorrent.Engine.WebSeeds.WebSeedKind.Http, State = RTorrent.Engine.WebSeeds.WebSeedState.Backoff,
                LastError = "HTTP 503 Service Unavailable", RetryAt = h.Time.GetUtcNow() + TimeSpan.FromSeconds(40) },
        ];
        h.Type("7");
        h.Refresh();
        Assert.IsType<WebSeedsTab>(h.Window.Details.Current);
        string screen = h.Screen;
        Assert.Matches(@"URL\s+BEP\s+Down\s+Got\s+Status, last error", screen);
        Assert.Matches(@"http://mirror\.example/ubuntu/\s+19\s+2\.9M\s+48M active \(2\)", screen);
        
        Assert.Matches(@"http://liar\.example/\s+19\s+-\s+0B dropped: sent 2 pieces with", screen);
        Assert.Matches(@"http://seed\.example/s\.php\s+17\s+-\s+0B retry in 40s: HTTP 503", screen);
    }

    [Fact]
    public void The_files_tab_is_a_tree_with_sizes_progress_and_priorities()
    {
        using TuiHarness h = OpenUbuntu();
        h.Type("2");
        string[] rows = h.Rows;
        Assert.Matches(@"^Name\s+Size Done\s+Priority", rows[2]);
        Assert.Matches(@"^>\[-\] casper/\s+5\.0G \[#+\.+\]\s+50% mixed", rows[4]);
        Assert.Matches(@"^   filesystem\.squashfs\s+5\.0G .* 50% normal", rows[5]);
        Assert.Matches(@"^   vmlinuz\s+14M .* 100% high", rows[6]);
        Assert.Matches(@"^ \[-\] pool/\s+3\.0M", rows[7]);
        Assert.Matches(@"^   \[-\] main/", rows[8]);
        Assert.Matches(@"^     a\.deb", rows[9]);
        Assert.Matches(@"^ README\.diskdefines\s+231B .* 100% skip", rows[11]);
        Assert.Contains("Space skip/get", h.Rows[23]);
    }

    [Fact]
    public void Priority_keys_change_files_and_whole_folders()
    {
        using TuiHarness h = OpenUbuntu();
        h.Type("2");
        h.Press(Key.CursorDown, Key.CursorDown); // vmlinuz (high)
        h.Type("-");
        Assert.Equal($"priority {Ubuntu} [1] Normal", h.Backend.Calls[^1]);
        Assert.Contains("vmlinuz", h.Rows.Single(r => r.StartsWith(">", StringComparison.Ordinal)));
        Assert.EndsWith("normal", h.Rows.Single(r => r.StartsWith(">", StringComparison.Ordinal)));
        h.Press(Key.Space);
        Assert.Equal($"priority {Ubuntu} [1] Skip", h.Backend.Calls[^1]);
        h.Press(Key.Space);
        Assert.Equal($"priority {Ubuntu} [1] Normal", h.Backend.Calls[^1]);
        Assert.Equal("Priority normal for 1 file.", h.Rows[23]);

        h.Press(Key.CursorDown); // pool/ folder: every file below it
        h.Type("+");
        Assert.Equal($"priority {Ubuntu} [2,3] High", h.Backend.Calls[^1]);
        Assert.Equal("Priority high for 2 files.", h.Rows[23]);
        Assert.All(h.Backend.FilesOf(Ubuntu).Where(f => f.Path.StartsWith("pool/", StringComparison.Ordinal)),
            f => Assert.Equal(Priority.High, f.Priority));
        Assert.EndsWith("high", h.Rows.Single(r => r.StartsWith(">", StringComparison.Ordinal)));
        h.Type("=");
        Assert.Equal($"priority {Ubuntu} [2,3] High", h.Backend.Calls[^1]); // already at the top
    }

    [Fact]
    public void Folders_open_and_close_with_enter_and_the_arrows()
    {
        using TuiHarness h = OpenUbuntu();
        h.Type("2");
        Assert.Equal(8, h.Window.Details.Files.Table.Items.Count);
        h.Press(Key.Enter); // close casper/
        Assert.Equal(6, h.Window.Details.Files.Table.Items.Count);
        Assert.StartsWith(">[+] casper/", h.Rows[4]);
        h.Press(Key.CursorRight);
        Assert.Equal(8, h.Window.Details.Files.Table.Items.Count);
        h.Press(Key.CursorDown, Key.CursorLeft); // on a file: go to its folder
        Assert.Equal("casper", h.Window.Details.Files.Table.Current!.Path);
        h.Press(Key.CursorLeft); // close it
        Assert.StartsWith(">[+] casper/", h.Rows[4]);
        h.Press(Key.End);
        Assert.Equal("README.diskdefines", h.Window.Details.Files.Table.Current!.Path);
    }

    [Fact]
    public void The_peers_tab_lists_peers_and_sorts_by_any_column()
    {
        using TuiHarness h = OpenUbuntu();
        h.Type("3");
        string[] rows = h.Rows;
        Assert.Matches(@"^Address\s+Client\s+Flags\s+Downv\s+Up\s+Has\s+Got\s+Sent\s+Via", rows[2]);
        // The transport's column (TCP or uTP) leaves the client's name less room on 80 columns.
        Assert.Matches(@"^>127\.0\.0\.12:50011\s+Transmission.*\s+dT\s+12K\s+500B\s+100%\s+10M\s+5\.2M\s+TCP$", rows[4]);
        Assert.Equal(12, h.Window.Details.Peers.Table.Items.Count);

        h.Type(">");
        Assert.Contains("Upv", h.Rows[2]);
        Assert.Equal(1500, h.Window.Details.Peers.Table.Items[0].UploadRate);
        h.Type("r");
        Assert.Contains("Up^", h.Rows[2]);
        Assert.Equal(500, h.Window.Details.Peers.Table.Items[0].UploadRate);
        h.Type("<<<<");
        Assert.Contains("Address^", h.Rows[2]);
        Assert.Equal("127.0.0.1:50000", h.Window.Details.Peers.Table.Items[0].Address);
        Assert.Contains("<> sort", h.Rows[23]);
    }

    [Fact]
    public void The_trackers_tab_shows_tier_status_errors_and_scrape_counts()
    {
        using TuiHarness h = OpenUbuntu();
        h.Type("4");
        string[] rows = h.Rows;
        Assert.Matches(@"^URL\s+Tier Seeds Leech  Next Status, last error$", rows[2]);
        Assert.Matches(@"^>http://tracker\.example\.org:\S*\s+0\s+12\s+3\s+\S+ working$", rows[4]);
        Assert.Matches(@"^ udp://backup\.example\.net:1\S*\s+1\s+-\s+-\s+- error: connection refused$", rows[5]);
        Assert.Matches(@"^ dht\s+-\s+-\s+-\s+- working$", rows[6]);

    }

    [Fact]
    public void The_pieces_tab_draws_a_map_with_distinct_characters_on_a_monochrome_terminal()
    {
        using TuiHarness h = OpenUbuntu(TerminalProfile.Monochrome);
        h.Type("5");
        string[] rows = h.Rows;
        Assert.Equal("2600 of 5000 pieces (one cell = 4 pieces)", rows[2]);
        Assert.Equal("# have  : partly  + downloading  . missing  - not wanted", rows[3]);
        string map = string.Concat(rows[4..22]);
        Assert.Matches(@"^#+:?\+\.+-+$", map.TrimEnd());
        Assert.All(map, c => Assert.True(c < 128, $"'{c}' is not ASCII"));
    }

    [Fact]
    public void The_pieces_map_keeps_its_characters_where_there_is_colour()
    {
        using TuiHarness h = OpenUbuntu(TerminalProfile.Rich);
        h.Type("5");
        string map = string.Concat(h.Rows[4..22]);
        Assert.Matches(@"^#+:?\+\.+-+$", map.TrimEnd());
    }

    [Fact]
    public void The_log_tab_shows_the_torrents_events_with_their_level()
    {
        using TuiHarness h = OpenUbuntu();
        h.Type("6");
        string screen = h.Screen;
        Assert.Contains("info  Added ubuntu-24.04.iso", screen);
        Assert.Contains("WARN  tracker udp://backup.example.net:1337 timed out", screen);
        Assert.Contains("ERROR piece 17 failed its hash check", screen);
        h.Backend.Log(Ubuntu, PluginLogLevel.Information, "new peer from PEX");
        h.Refresh();
        Assert.Contains("new peer from PEX", h.Screen); // follows new lines
    }

    [Fact]
    public void Operation_keys_act_on_the_open_torrent()
    {
        using TuiHarness h = OpenUbuntu();
        h.Press(Key.D.WithCtrl);
        Assert.Equal($"stop {Ubuntu}", h.Backend.Calls[^1]);
        Assert.Contains("paused", h.Rows[0]);
        h.Type("i");
        Assert.Equal($"sequential {Ubuntu} True", h.Backend.Calls[^1]);
        Assert.Contains("Sequential    on (pieces in order)", h.Screen);
        h.Type("U");
        Assert.Equal($"super-seeding {Ubuntu} True", h.Backend.Calls[^1]);
        Assert.Contains("Super-seeding on", h.Screen);
    }

    [Fact]
    public void A_torrent_removed_elsewhere_closes_its_details()
    {
        using TuiHarness h = OpenUbuntu();
        h.Backend.RemoveAsync(Ubuntu, false);
        h.Refresh();
        Assert.False(h.Window.IsDetailsOpen);
        Assert.Equal("That torrent is no longer in the session.", h.Rows[23]);
    }

    [Fact]
    public void Removing_from_the_details_goes_back_to_the_list()
    {
        using TuiHarness h = OpenUbuntu();
        h.OnDialog<RTorrent.Tui.Dialogs.RemoveDialog>(_ => Terminal.Gui.Testing.InputInjectionExtensions.InjectKey(h.App, Key.Enter));
        h.Press(Key.Delete);
        Assert.False(h.Window.IsDetailsOpen);
        Assert.Equal($"remove {Ubuntu} data=False", h.Backend.Calls[^1]);
    }
}
