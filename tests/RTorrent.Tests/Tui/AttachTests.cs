using RTorrent.Engine.Session;
using RTorrent.Testing;
using RTorrent.Tui;
using RTorrent.Tui.Dialogs;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace RTorrent.Tests.Tui;

/// <summary>The interface attached to one daemon: what it says, detaching, stopping the daemon, a daemon that goes away.</summary>
[Collection(TuiCollection.Name)]
public sealed class AttachTests : IDisposable
{
    private static readonly string Socket =
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + "/.local/share/rtorrent/rpc.sock";
    private const string Magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo";
    private readonly string _folder = TestPaths.NewTempDir("rt-attach");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static FakeBackend Daemon(bool canStop = true)
    {
        FakeBackend backend = MainListTests.SampleBackend();
        backend.Info = new BackendInfo(BackendKind.Daemon, Socket, canStop);
        return backend;
    }

    [Fact]
    public void The_title_says_which_daemon_the_interface_is_attached_to_and_the_hints_say_detach()
    {
        using var h = new TuiHarness(Daemon(), width: 120);
        // The home folder reads as ~.
        Assert.StartsWith("RTorrent - attached to daemon (~/.local/share/rtorrent/rpc.sock)  |  6 torrents  |  sort name ^", h.Rows[0]);
        Assert.StartsWith("F1 help  ^Q detach  Enter details", h.Rows[23]);

        h.Resize(80, 24); // too narrow for everything: the sort goes first
        Assert.Equal("RTorrent - attached to daemon (~/.local/share/rtorrent/rpc.sock)  |  6 torrents", h.Rows[0]);
        h.Resize(60, 24); // then where the daemon is
        Assert.Equal("RTorrent - attached to daemon  |  6 torrents", h.Rows[0]);
    }

    [Fact]
    public void A_local_session_keeps_its_title_and_quit()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        Assert.StartsWith("RTorrent  |  6 torrents", h.Rows[0]);
        Assert.StartsWith("F1 help  ^Q quit", h.Rows[23]);
        h.Press(Key.Q.WithCtrl);
        Assert.Null(h.Window.ExitMessage);
    }

    [Fact]
    public void Ctrl_Q_attached_detaches_and_leaves_the_daemon_running()
    {
        using var h = new TuiHarness(Daemon());
        h.Press(Key.Q.WithCtrl);
        Assert.True(h.Window.QuitRequested);
        Assert.Empty(h.Backend.Calls); // no stop-daemon, nothing else either
        Assert.Equal($"Detached; the daemon keeps running ({Socket}).", h.Window.ExitMessage);
    }

    [Fact]
    public void K_asks_first_and_stops_the_daemon_only_on_confirmation_then_the_interface_ends()
    {
        using var h = new TuiHarness(Daemon());
        string? asked = null;
        h.OnDialog<HostDialog>(d =>
        {
            asked = h.Screen;
            h.App.InjectKey(Key.Esc);
        });
        h.Type("K");
        Assert.Contains($"Stop the daemon at {Socket}?", asked);
        Assert.Empty(h.Backend.Calls);
        Assert.False(h.Window.QuitRequested);

        h.OnDialog<HostDialog>(d => h.App.InjectKey(Key.Enter));
        h.Type("K");
        Assert.Equal(["stop-daemon"], h.Backend.Calls);
        Assert.True(h.Window.QuitRequested);
        Assert.Equal($"The daemon at {Socket} stopped; the interface closed with it.", h.Window.ExitMessage);
    }

    [Fact]
    public void A_refused_stop_says_why_and_the_interface_stays()
    {
        using var h = new TuiHarness(Daemon());
        h.Backend.FailNext = "the daemon is busy saving";
        h.OnDialog<HostDialog>(d => h.App.InjectKey(Key.Enter));
        h.Type("K");
        Assert.Equal("! the daemon is busy saving", h.Rows[23]);
        Assert.False(h.Window.QuitRequested);
    }

    [Fact]
    public void K_is_refused_with_a_reason_when_there_is_no_daemon_to_stop()
    {
        using (var h = new TuiHarness(MainListTests.SampleBackend()))
        {
            h.Type("K");
            Assert.Equal("This session runs inside the interface, not in a daemon: ^Q quits it.", h.Rows[23]);
            Assert.Empty(h.DialogsSeen);
            Assert.Empty(h.Backend.Calls);
            Assert.False(h.Window.QuitRequested);
        }
        using (var h = new TuiHarness(Daemon(canStop: false)))
        {
            h.Type("K");
            Assert.Equal("This daemon does not let an attached interface stop it.", h.Rows[23]);
            Assert.Empty(h.DialogsSeen);
            Assert.Empty(h.Backend.Calls);
        }
    }

    [Fact]
    public void A_daemon_that_cannot_be_reached_leaves_its_last_list_marked_stale_with_the_reason_and_countdown()
    {
        var daemon = new FlakyBackend(Daemon());
        using var h = new TuiHarness(daemon);
        Assert.Equal(6, h.Window.List.Rows.Count);

        daemon.Failure = new BackendUnavailableException($"the daemon at {Socket} is not answering: connection refused",
            h.Time.GetUtcNow().AddSeconds(8));
        h.Refresh();
        Assert.True(h.Window.IsStale);
        Assert.Equal(6, h.Window.List.Rows.Count);
        Assert.Contains("ubuntu-24.04.iso", h.Screen);
        Assert.Contains("6 torrents (stale: reconnecting)", h.Rows[0]);
        Assert.Equal(80, h.Rows[22].Length);
        Assert.StartsWith("Disconnected: the daemon at /", h.Rows[22]);
        Assert.EndsWith("~  retry in 8s", h.Rows[22]);
        Assert.StartsWith("F1 help", h.Rows[23]); // the status line says it; the hints stay
        Assert.Contains(h.Window.InterfaceLog, e => e.Message.Contains("connection refused", StringComparison.Ordinal));

        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Tick();
        Assert.EndsWith("retry in 5s", h.Rows[22]);
        h.Time.Advance(TimeSpan.FromSeconds(6));
        h.Tick();
        Assert.EndsWith("retrying", h.Rows[22]);
        Assert.Single(h.Window.InterfaceLog, e => e.Message.Contains("connection refused", StringComparison.Ordinal)); // once

        daemon.Failure = null;
        h.Refresh();
        Assert.False(h.Window.IsStale);
        Assert.DoesNotContain("stale", h.Rows[0]);
        Assert.StartsWith("Down 1.5M/s", h.Rows[22]);
        Assert.Equal("Connected again.", h.Rows[23]);
    }

    [Fact]
    public void A_daemon_away_from_the_start_says_so_instead_of_loading_forever()
    {
        var daemon = new FlakyBackend(Daemon())
        {
            Failure = new BackendUnavailableException("no daemon is listening on the socket", null),
        };
        using var h = new TuiHarness(daemon);
        Assert.Contains("Waiting for the daemon (the status line says why).", h.Screen);
        Assert.Equal("Disconnected: no daemon is listening on the socket  retrying", h.Rows[22]);

        daemon.Failure = null;
        h.Refresh();
        Assert.Contains("ubuntu-24.04.iso", h.Screen);
        // Its settings are read once it answers (the add dialog names its download folder).
        string? label = null;
        h.OnDialog<AddTorrentDialog>(d =>
        {
            label = h.Screen;
            h.App.InjectKey(Key.Esc);
        });
        h.Press(Key.Backspace);
        Assert.Contains($"(empty: {h.Backend.Settings.DownloadFolder})", label);
    }

    [Fact]
    public void Attached_the_watch_folder_is_left_to_the_daemon()
    {
        string watch = Path.Combine(_folder, "watch");
        Directory.CreateDirectory(watch);
        FakeBackend local = MainListTests.SampleBackend();
        local.SaveSettingsAsync(local.Settings with { WatchFolder = watch });
        using (var h = new TuiHarness(local, runWatchFolder: true))
        {
            Assert.True(h.Window.IsWatching); // the same settings in a local session do start it
        }

        FakeBackend daemon = Daemon();
        daemon.SaveSettingsAsync(daemon.Settings with { WatchFolder = watch });
        using (var h = new TuiHarness(daemon, runWatchFolder: true))
        {
            Assert.False(h.Window.IsWatching);
            h.OnDialog<SettingsDialog>(d =>
            {
                d.WatchFolderField.Text = Path.Combine(_folder, "other");
                h.App.InjectKey(Key.Enter);
            });
            h.Type("o");
            Assert.Equal("Settings saved.", h.Rows[23]);
            Assert.False(h.Window.IsWatching); // nor when the watch folder changes
        }
    }

    [Fact]
    public void Attached_the_save_folder_is_the_daemon_s_and_the_torrent_file_is_read_here()
    {
        string torrent = Path.Combine(_folder, "linux.torrent");
        File.WriteAllText(torrent, "d4:infod4:name1:xee");
        Directory.CreateDirectory(Path.Combine(_folder, "saves"));
        using var h = new TuiHarness(Daemon());
        string? afterTab = null, sourceAfterTab = null, relativeError = null, screen = null;
        h.OnDialog<AddTorrentDialog>(d =>
        {
            screen = h.Screen;
            Assert.Equal("", d.SaveField.Text); // empty: the daemon's download folder

            d.SourceField.SetFocus();
            d.SourceField.Text = _folder + "/lin";
            h.App.InjectKey(Key.Tab);
            sourceAfterTab = d.SourceField.Text; // the .torrent is a file here: completed here

            d.SaveField.SetFocus();
            d.SaveField.Text = _folder + "/sa";
            h.App.InjectKey(Key.Tab);
            afterTab = d.SaveField.Text;
            Assert.False(d.SaveField.HasFocus); // nothing to complete on the daemon: Tab moves on

            d.SaveField.Text = "downloads/linux";
            h.App.InjectKey(Key.Enter);
            relativeError = d.ErrorText;
            d.SaveField.Text = "";
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Backspace);
        Assert.Contains("Save to, a folder on the daemon's machine (empty:", screen);
        Assert.Equal(torrent, sourceAfterTab);
        Assert.Equal(_folder + "/sa", afterTab);
        Assert.Equal("Give the full path of a folder on the daemon's machine, or leave it empty for its download folder.", relativeError);
        (string source, string save, _, _, _) = Assert.Single(h.Backend.Added);
        Assert.Equal(torrent, source);
        Assert.Equal("", save);

        h.OnDialog<AddTorrentDialog>(d =>
        {
            d.SourceField.Text = Magnet;
            d.SaveField.Text = "/srv/torrents";
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Backspace);
        Assert.Equal("/srv/torrents", h.Backend.Added[^1].SaveDirectory); // as typed: nothing here decides what it means
    }

    [Fact]
    public void The_help_explains_detaching_and_the_stop_key()
    {
        using var h = new TuiHarness(Daemon());
        string help = "";
        h.OnDialog<TextDialog>(d =>
        {
            // The lines as one text, wrapping undone (the screen shows a page of them).
            help = System.Text.RegularExpressions.Regex.Replace(string.Join(" ", d.Lines.Lines.Select(l => l.Text)), @"\s+", " ");
            h.App.InjectKey(Key.Esc);
        });
        h.Press(Key.F1);
        Assert.Contains("^Q detaches (the daemon keeps running), K stops a daemon.", help);
        Assert.Contains("^Q F10 Detach: close the interface and leave the daemon running", help);
        Assert.Contains("K Stop the daemon the interface is attached to, after asking; the interface then closes.", help);
        Assert.Contains("the daemon of the torrent under the cursor comes first", help);
    }
}
