using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Tui;
using RTorrent.Tui.Dialogs;
using RTorrent.Tui.Hosts;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Views;

namespace RTorrent.Tests.Tui;

/// <summary>One interface over two daemons (<c>--connect</c> twice): seedbox and nas.</summary>
[Collection(TuiCollection.Name)]
public sealed class HostsTests
{
    private const string Magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo";

    private readonly FakeBackend _seedbox = new();
    private readonly FakeBackend _nasFake = new();
    private readonly FlakyBackend _nas;
    private readonly MultiHostBackend _backend;

    public HostsTests()
    {
        _seedbox.AddTorrent(FakeBackend.Snapshot("ubuntu-24.04.iso", 6L << 30, 0.52, TorrentState.Downloading, down: 1536 * 1024,
            up: 20 * 1024, peers: 12, known: 345, eta: TimeSpan.FromSeconds(303)));
        _seedbox.AddTorrent(FakeBackend.Snapshot("debian-12.iso", 650L << 20, 1, TorrentState.Seeding, up: 80 * 1024, peers: 3, known: 40));
        _seedbox.Info = new BackendInfo(BackendKind.Daemon, "seedbox:9091", true);
        _seedbox.PickerNames = ["rarest-first", "sequential"];
        _seedbox.SessionLog(PluginLogLevel.Information, "listening on 6881");
        _nasFake.AddTorrent(FakeBackend.Snapshot("fedora-40.iso", 2L << 30, 0.10, TorrentState.Stopped, known: 5));
        _nasFake.AddTorrent(FakeBackend.Snapshot("arch-2026.iso", 1L << 30, 0.45, TorrentState.Checking));
        _nasFake.Info = new BackendInfo(BackendKind.Daemon, "nas:9091", true);
        _nasFake.PickerNames = ["rarest-first", "random", "endgame"];
        _nasFake.SessionLog(PluginLogLevel.Warning, "disk almost full");
        _nas = new FlakyBackend(_nasFake);
        _backend = new MultiHostBackend([("seedbox", _seedbox), ("nas", _nas)]);
    }

    private TuiHarness Open(int width = 80) => new(_backend, width);

    private static string RowOf(TuiHarness h, string name) => h.Rows.Single(r => r.Contains(name, StringComparison.Ordinal));

    private void NasGoesAway(TuiHarness h) =>
        _nas.Failure = new BackendUnavailableException("the daemon at nas:9091 is not answering: connection refused",
            h.Time.GetUtcNow().AddSeconds(8));

    [Fact]
    public void A_host_column_says_where_each_torrent_is_and_sorts()
    {
        using TuiHarness h = Open();
        Assert.Matches(@"^ Name\^\s+Host\s+Size Progress", h.Rows[1]);
        Assert.Matches(@"^ fedora-40\.iso\s+nas\s+2\.0G", RowOf(h, "fedora-40.iso"));
        Assert.Matches(@"^ debian-12\.iso\s+seedbox\s+650M", RowOf(h, "debian-12.iso"));

        h.Type(">");
        Assert.Equal(TorrentColumn.Host, h.Window.List.SortColumn);
        Assert.Contains("sort host ^", h.Rows[0]);
        Assert.Equal(["arch-2026.iso", "fedora-40.iso", "debian-12.iso", "ubuntu-24.04.iso"], h.Window.List.Rows.Select(t => t.Name));
        h.Type(">");
        Assert.Equal(TorrentColumn.Size, h.Window.List.SortColumn);
    }

    [Fact]
    public void One_session_has_no_host_column_and_sorting_skips_it()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        Assert.DoesNotContain("Host", h.Rows[1]);
        h.Type(">");
        Assert.Equal(TorrentColumn.Size, h.Window.List.SortColumn);
        h.Type("<<");
        Assert.Equal(TorrentColumn.Eta, h.Window.List.SortColumn);
    }

    [Fact]
    public void The_title_names_the_daemons()
    {
        using TuiHarness h = Open(120);
        Assert.StartsWith("RTorrent - attached to 2 daemons (seedbox, nas)  |  4 torrents  |  sort name ^", h.Rows[0]);
        Assert.StartsWith("F1 help  ^Q detach", h.Rows[23]);
    }

    [Fact]
    public void The_status_line_shows_each_daemon_at_80_columns_and_one_that_is_away()
    {
        using TuiHarness h = Open();
        Assert.Equal("Total Dn 1.5M Up 100K  |  seedbox Dn 1.5M Up 100K  nas Dn 0B Up 0B", h.Rows[22]);

        NasGoesAway(h);
        h.Refresh();
        Assert.Equal("Total Dn 1.5M Up 100K  |  seedbox Dn 1.5M Up 100K  nas: disconnected, retry 8s", h.Rows[22]);
        Assert.True(h.Rows[22].Length <= 80);
        Assert.Equal(["debian-12.iso", "ubuntu-24.04.iso"], h.Window.List.Rows.Select(t => t.Name)); // nas's rows left
        Assert.Equal("! nas: the daemon at nas:9091 is not answering: connection refused", h.Rows[23]);

        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Tick();
        Assert.EndsWith("nas: disconnected, retry 5s", h.Rows[22]);

        _nas.Failure = null;
        h.Refresh();
        Assert.Equal(4, h.Window.List.Rows.Count);
        Assert.Equal("nas is answering again.", h.Rows[23]);
        Assert.EndsWith("nas Dn 0B Up 0B", h.Rows[22]);
    }

    [Fact]
    public void The_status_line_keeps_every_host_on_a_narrow_screen_and_gives_reasons_on_a_wide_one()
    {
        using TuiHarness h = Open(150);
        NasGoesAway(h);
        h.Refresh();
        Assert.Equal("Total Dn 1.5M Up 100K  |  seedbox Dn 1.5M Up 100K  " +
            "nas: disconnected (the daemon at nas:9091 is not answering: connection refused), retry 8s", h.Rows[22]);
        h.Resize(50, 24);
        Assert.Equal("seedbox Dn 1.5M Up 100K  nas: retry 8s", h.Rows[22]);
    }

    [Fact]
    public void Details_of_a_torrent_whose_daemon_goes_away_close_with_a_reason()
    {
        using TuiHarness h = Open();
        h.Press(Key.CursorDown, Key.CursorDown); // fedora, on nas
        h.Press(Key.Enter);
        Assert.True(h.Window.IsDetailsOpen);
        NasGoesAway(h);
        h.Refresh();
        Assert.False(h.Window.IsDetailsOpen);
        Assert.Equal("That torrent left the list: its daemon is not answering.", h.Rows[23]);
    }

    [Fact]
    public void Operations_reach_the_torrent_s_own_daemon()
    {
        using TuiHarness h = Open();
        h.Press(Key.CursorDown, Key.CursorDown); // fedora, on nas
        h.Press(Key.S.WithCtrl);
        Assert.Equal([$"start {FakeBackend.IdFor("fedora-40.iso")}"], _nasFake.Calls);
        Assert.Empty(_seedbox.Calls);
        Assert.Equal(TorrentState.Downloading, h.Window.List.Rows.Single(t => t.Name == "fedora-40.iso").State);

        h.Type("a"); // the global limits: every daemon alike
        Assert.Equal("global 0 1024", _seedbox.Calls[^1]);
        Assert.Equal("global 0 1024", _nasFake.Calls[^1]);
    }

    [Fact]
    public void The_add_dialog_asks_which_daemon_starting_from_the_torrent_under_the_cursor()
    {
        using TuiHarness h = Open();
        h.Press(Key.CursorDown, Key.CursorDown); // fedora, on nas
        string? screen = null;
        h.OnDialog<AddTorrentDialog>(d =>
        {
            screen = h.Screen;
            Assert.Equal(1, d.HostChoice!.Value);
            Assert.Equal(["rarest-first", "random", "endgame"], d.PickerChoice!.Labels);
            Assert.Equal("", d.SaveField.Text);
            d.SourceField.Text = Magnet;
            d.PickerChoice.Value = 2;
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Backspace);
        Assert.Contains("Save to, a folder on that daemon's machine (empty: its download folder):", screen);
        (string source, string save, _, string? picker, _) = Assert.Single(_nasFake.Added);
        Assert.Equal((Magnet, "", "endgame"), (source, save, picker));
        Assert.Empty(_seedbox.Added);
        Assert.Equal("Added the magnet link to nas.", h.Rows[23]);
        Assert.Equal("nas", h.Window.CurrentTorrent!.Host); // the new torrent gets the cursor

        h.OnDialog<AddTorrentDialog>(d =>
        {
            d.HostChoice!.Value = 0;
            Assert.Equal(["rarest-first", "sequential"], d.PickerChoice!.Labels); // seedbox's own pickers
            d.PickerChoice.Value = 1;
            d.SourceField.Text = Magnet;
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Backspace);
        Assert.Equal("sequential", Assert.Single(_seedbox.Added).Picker);
    }

    [Fact]
    public void Settings_ask_which_daemon_and_are_that_daemon_s()
    {
        using TuiHarness h = Open();
        h.Press(Key.CursorDown, Key.CursorDown); // fedora, on nas
        string? title = null;
        h.OnDialog<HostDialog>(d =>
        {
            Assert.Equal("nas", d.ChosenHost);
            h.App.InjectKey(Key.Enter);
        });
        h.OnDialog<SettingsDialog>(d =>
        {
            title = d.Title;
            d.PortField.Text = "51413";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("o");
        Assert.Equal("Settings of nas", title);
        Assert.Equal("settings port=51413 watch=", _nasFake.Calls[^1]);
        Assert.Empty(_seedbox.Calls);
        Assert.Equal("Settings of nas saved.", h.Rows[23]);

        h.OnDialog<HostDialog>(d =>
        {
            h.App.InjectKey(Key.CursorUp); // from nas to seedbox, from the keyboard
            h.App.InjectKey(Key.Enter);
        });
        h.OnDialog<SettingsDialog>(d =>
        {
            title = d.Title;
            h.App.InjectKey(Key.Esc);
        });
        h.Type("o");
        Assert.Equal("Settings of seedbox", title);

        h.OnDialog<HostDialog>(_ => h.App.InjectKey(Key.Esc));
        h.Type("o");
        Assert.Equal(["HostDialog", "SettingsDialog", "HostDialog", "SettingsDialog", "HostDialog"], h.DialogsSeen);
    }

    [Fact]
    public void K_stops_the_chosen_daemon_and_the_interface_stays_on_the_others()
    {
        using TuiHarness h = Open();
        h.Press(Key.End); // ubuntu, on seedbox
        string? asked = null;
        h.OnDialog<HostDialog>(d =>
        {
            asked = h.Screen;
            Assert.Equal("seedbox", d.ChosenHost);
            h.App.InjectKey(Key.CursorDown);
            h.App.InjectKey(Key.Enter);
        });
        h.Type("K");
        Assert.Contains("Stop which daemon?", asked);
        Assert.Equal(["stop-daemon"], _nasFake.Calls);
        Assert.Empty(_seedbox.Calls);
        Assert.False(h.Window.QuitRequested);
        Assert.Equal("The daemon on nas stopped.", h.Rows[23]);

        h.Press(Key.Q.WithCtrl);
        Assert.Equal("Detached; the daemons keep running (seedbox, nas).", h.Window.ExitMessage);
        Assert.DoesNotContain("stop-daemon", _seedbox.Calls);
    }

    [Fact]
    public void The_session_log_and_the_plugin_list_show_every_daemon()
    {
        using TuiHarness h = Open();
        string? log = null, plugins = null;
        h.OnDialog<Dialog>(_ => { log = h.Screen; h.App.InjectKey(Key.Esc); });
        h.Type("l");
        Assert.Contains("[seedbox] listening on 6881", log);
        Assert.Contains("[nas] disk almost full", log);

        h.OnDialog<Dialog>(_ => { plugins = h.Screen; h.App.InjectKey(Key.Esc); });
        h.Type("p");
        Assert.Contains("Piece pickers: rarest-first, sequential", plugins);
        Assert.Contains("Piece pickers: rarest-first, random, endgame", plugins);
    }
}
