using RTorrent.Engine.Client;
using RTorrent.Tui;
using RTorrent.Tui.Dialogs;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Views;

namespace RTorrent.Tests.Tui;

[Collection(TuiCollection.Name)]
public class OperationTests
{
    private static readonly string Fedora = FakeBackend.IdFor("fedora-40.iso");
    private static readonly string Debian = FakeBackend.IdFor("debian-12.iso");

    private static TuiHarness OnFedora()
    {
        var h = new TuiHarness(MainListTests.SampleBackend());
        h.Press(Key.CursorDown, Key.CursorDown);
        Assert.Equal("fedora-40.iso", h.Window.CurrentTorrent!.Name);
        return h;
    }

    [Fact]
    public void Rtorrent_control_keys_start_stop_and_recheck_the_torrent_under_the_cursor()
    {
        using TuiHarness h = OnFedora();
        h.Press(Key.S.WithCtrl);
        Assert.Equal($"start {Fedora}", h.Backend.Calls[^1]);
        Assert.Contains("downloading", h.Rows.Single(r => r.StartsWith(">fedora", StringComparison.Ordinal)));
        Assert.Equal("Started fedora-40.iso.", h.Rows[23]);

        h.Press(Key.D.WithCtrl);
        Assert.Equal($"stop {Fedora}", h.Backend.Calls[^1]);
        Assert.Contains("paused", h.Rows.Single(r => r.StartsWith(">fedora", StringComparison.Ordinal)));

        h.Press(Key.R.WithCtrl);
        Assert.Equal($"recheck {Fedora}", h.Backend.Calls[^1]);
        Assert.Contains("checking 25%", h.Rows.Single(r => r.StartsWith(">fedora", StringComparison.Ordinal)));
    }

    [Fact]
    public void Space_toggles_between_started_and_stopped_and_i_toggles_sequential()
    {
        using TuiHarness h = OnFedora();
        h.Press(Key.Space);
        Assert.Equal($"start {Fedora}", h.Backend.Calls[^1]);
        h.Press(Key.Space);
        Assert.Equal($"stop {Fedora}", h.Backend.Calls[^1]);
        h.Type("i");
        Assert.Equal($"sequential {Fedora} True", h.Backend.Calls[^1]);
        Assert.Contains("Sequential download on", h.Rows[23]);
        h.Type("i");
        Assert.Equal($"sequential {Fedora} False", h.Backend.Calls[^1]);
    }

    [Fact]
    public void U_toggles_super_seeding()
    {
        using TuiHarness h = OnFedora();
        h.Type("U");
        Assert.Equal($"super-seeding {Fedora} True", h.Backend.Calls[^1]);
        Assert.Contains("Super-seeding on", h.Rows[23]);
        h.Type("U");
        Assert.Equal($"super-seeding {Fedora} False", h.Backend.Calls[^1]);
        Assert.Contains("Super-seeding off", h.Rows[23]);
    }

    [Fact]
    public void A_refused_operation_shows_the_backend_reason_and_the_hints_come_back()
    {
        using TuiHarness h = OnFedora();
        h.Backend.FailNext = "the disk is read-only";
        h.Press(Key.S.WithCtrl);
        Assert.Equal("! the disk is read-only", h.Rows[23]);
        Assert.Contains(h.Window.InterfaceLog, e => e.Message == "the disk is read-only");

        h.Time.Advance(TimeSpan.FromSeconds(7));
        h.VirtualTime.Advance(TimeSpan.FromSeconds(1)); // the refresh timer ticks and clears old messages
        h.App.TimedEvents!.RunTimers();
        Assert.StartsWith("F1 help", h.Rows[23]);
    }

    [Fact]
    public void Throttle_keys_change_the_global_limits_in_rtorrent_steps()
    {
        using TuiHarness h = OnFedora();
        h.Type("a");
        Assert.Equal("global 0 1024", h.Backend.Calls[^1]);
        Assert.Equal("Global upload limit: 1.00 KiB/s.", h.Rows[23]);
        h.Type("as");
        Assert.Equal("global 0 7168", h.Backend.Calls[^1]); // 1 + 1 + 5 KiB/s
        h.Type("d");
        Assert.Equal("global 0 58368", h.Backend.Calls[^1]);
        h.Type("c");
        Assert.Equal("global 0 7168", h.Backend.Calls[^1]);
        h.Type("x");
        h.Type("zz");
        Assert.Equal("global 0 0", h.Backend.Calls[^1]); // down to unlimited, not below
        Assert.Equal("Global upload limit: none.", h.Rows[23]);

        h.Type("D");
        Assert.Equal("global 51200 0", h.Backend.Calls[^1]);
        h.Type("SA");
        Assert.Equal("global 57344 0", h.Backend.Calls[^1]);
        h.Type("XZ");
        Assert.Equal("global 51200 0", h.Backend.Calls[^1]);
        h.Type("C");
        Assert.Equal("global 0 0", h.Backend.Calls[^1]);

        h.Type("s");
        h.Refresh();
        Assert.StartsWith("Down 1.5M/s  Up 100K/s (max 5.0K)", h.Rows[22]);
    }

    [Fact]
    public void The_global_limits_dialog_takes_kib_or_units_and_empty_for_none()
    {
        using TuiHarness h = OnFedora();
        h.OnDialog<LimitsDialog>(d =>
        {
            Assert.Equal("Global rate limits", d.Title);
            d.DownloadField.Text = "1.5M";
            d.UploadField.Text = "100";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("T");
        Assert.Equal($"global {1536 * 1024} {100 * 1024}", h.Backend.Calls[^1]);

        h.OnDialog<LimitsDialog>(d =>
        {
            Assert.Equal("1536", d.DownloadField.Text);
            Assert.Equal("100", d.UploadField.Text);
            d.DownloadField.Text = "";
            d.UploadField.Text = "none";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("T");
        Assert.Equal("global 0 0", h.Backend.Calls[^1]);
    }

    [Fact]
    public void The_torrent_limits_dialog_refuses_nonsense_and_stays_open()
    {
        using TuiHarness h = OnFedora();
        string? error = null;
        h.OnDialog<LimitsDialog>(d =>
        {
            Assert.StartsWith("Rate limits: fedora-40.iso", d.Title);
            d.DownloadField.Text = "fast";
            h.App.InjectKey(Key.Enter);
            error = d.ErrorText;
            Assert.True(d.IsRunning);
            Assert.Contains("'fast' is not a rate", h.Screen);
            d.DownloadField.Text = "250";
            d.UploadField.Text = "20K";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("t");
        Assert.StartsWith("Download: 'fast' is not a rate", error);
        Assert.Equal($"limits {Fedora} {250 * 1024} {20 * 1024}", h.Backend.Calls[^1]);
        Assert.Contains("Limits for fedora-40.iso: down 250 KiB/s, up 20.0 KiB/s.", h.Rows[23]);
    }

    [Fact]
    public void Esc_cancels_a_dialog_without_doing_anything()
    {
        using TuiHarness h = OnFedora();
        h.OnDialog<LimitsDialog>(d =>
        {
            d.DownloadField.Text = "10";
            h.App.InjectKey(Key.Esc);
        });
        h.Type("t");
        Assert.Empty(h.Backend.Calls);
        Assert.False(h.Window.QuitRequested); // Esc closed the dialog, not the program
    }

    [Fact]
    public void Removing_keeps_the_data_unless_the_box_is_ticked()
    {
        using TuiHarness h = OnFedora();
        h.OnDialog<RemoveDialog>(d =>
        {
            Assert.Contains("Remove \"fedora-40.iso\" from the session?", h.Screen);
            Assert.Contains("Also delete the downloaded files", h.Screen);
            h.App.InjectKey(Key.Enter); // Enter alone: the safe choice
        });
        h.Press(Key.Delete);
        Assert.Equal($"remove {Fedora} data=False", h.Backend.Calls[^1]);
        Assert.DoesNotContain(h.Window.List.Rows, t => t.Name == "fedora-40.iso");
        Assert.DoesNotContain("fedora", string.Join('\n', h.Rows[..22]));
        Assert.Equal("Removed fedora-40.iso (its files stay).", h.Rows[23]);
        Assert.Equal("gentoo.tar", h.Window.CurrentTorrent!.Name); // the cursor stays on the same row

        h.Press(Key.CursorUp); // debian
        h.OnDialog<RemoveDialog>(d =>
        {
            d.DeleteDataBox.Value = CheckState.Checked;
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Delete);
        Assert.Equal($"remove {Debian} data=True", h.Backend.Calls[^1]);
        Assert.Equal("Removed debian-12.iso and deleted its files.", h.Rows[23]);

        h.OnDialog<RemoveDialog>(d => h.App.InjectKey(Key.Esc));
        h.Press(Key.Delete);
        Assert.Equal(2, h.Backend.Calls.Count);
        Assert.Equal(4, h.Window.List.Rows.Count);
    }

    [Fact]
    public void Ticking_the_delete_box_works_from_the_keyboard()
    {
        using TuiHarness h = OnFedora();
        h.OnDialog<RemoveDialog>(d =>
        {
            d.DeleteDataBox.SetFocus();
            h.App.InjectKey(Key.Space);
            Assert.True(d.DeleteData);
            d.DeleteDataBox.SetFocus();
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Delete);
        Assert.Equal($"remove {Fedora} data=True", h.Backend.Calls[^1]);
    }

    [Fact]
    public void Quit_keys_stop_the_interface()
    {
        using (TuiHarness h = OnFedora())
        {
            h.Press(Key.Q.WithCtrl);
            Assert.True(h.Window.QuitRequested);
        }
        using (TuiHarness h = OnFedora())
        {
            h.Press(Key.F10);
            Assert.True(h.Window.QuitRequested);
        }
        using (TuiHarness h = OnFedora())
        {
            h.Press(Key.Esc, Key.Q); // neither Esc nor a plain q quits
            Assert.False(h.Window.QuitRequested);
        }
    }

    [Fact]
    public void No_torrent_means_a_note_instead_of_an_operation()
    {
        using var h = new TuiHarness(new FakeBackend());
        h.Press(Key.S.WithCtrl);
        Assert.Equal("No torrent selected.", h.Rows[23]);
        h.Press(Key.Delete, Key.Enter);
        Assert.Empty(h.Backend.Calls);
        Assert.Empty(h.DialogsSeen);
    }

    [Fact]
    public void The_session_log_and_the_plugin_list_open_from_keys()
    {
        using TuiHarness h = OnFedora();
        h.Backend.SessionLog(RTorrent.Abstractions.PluginLogLevel.Warning, "DHT bootstrap slow");
        h.Backend.FailNext = "tracker said no";
        h.Press(Key.S.WithCtrl);
        string? log = null, plugins = null;
        h.OnDialog<Dialog>(_ => { log = h.Screen; h.App.InjectKey(Key.Esc); });
        h.Type("l");
        Assert.Contains("Session log", log);
        Assert.Contains("WARN  DHT bootstrap slow", log);
        Assert.Contains("WARN  tracker said no", log); // the interface's own messages are there too

        h.OnDialog<Dialog>(_ => { plugins = h.Screen; h.App.InjectKey(Key.Esc); });
        h.Type("p");
        Assert.Contains("Piece pickers: rarest-first, sequential, random", plugins);
        Assert.Contains("RTorrent.Sample.Pickers  1.2.0  [picker]  loaded", plugins);
        Assert.Contains("failed: contracts 2.0 needed", plugins);
    }
}
