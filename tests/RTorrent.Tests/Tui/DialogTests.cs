using RTorrent.Engine.Session;
using RTorrent.Testing;
using RTorrent.Tui;
using RTorrent.Tui.Dialogs;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Views;

namespace RTorrent.Tests.Tui;

[Collection(TuiCollection.Name)]
public sealed class DialogTests : IDisposable
{
    private const string Magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo";
    private readonly string _folder = TestPaths.NewTempDir("rt-dialog");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Adding_a_torrent_file_passes_path_folder_start_picker_and_storage()
    {
        string torrent = Path.Combine(_folder, "linux-distro.torrent");
        File.WriteAllText(torrent, "d4:infod4:name1:xee");
        string saveTo = Path.Combine(_folder, "downloads");
        using var h = new TuiHarness(MainListTests.SampleBackend());
        h.OnDialog<AddTorrentDialog>(d =>
        {
            Assert.Contains("Torrent file or magnet link", h.Screen);
            Assert.Equal(h.Backend.Settings.DownloadFolder, d.SaveField.Text); // the session's folder is the default
            d.SourceField.Text = torrent;
            d.SaveField.Text = saveTo;
            d.StartBox.Value = CheckState.UnChecked;
            d.PickerChoice!.Value = 1;
            d.StorageChoice!.Value = 1;
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Backspace);

        (string source, string save, bool start, string? picker, string? storage) = Assert.Single(h.Backend.Added);
        Assert.Equal(torrent, source);
        Assert.Equal(saveTo, save);
        Assert.False(start);
        Assert.Equal("sequential", picker);
        Assert.Equal("memory", storage);
        Assert.Equal("Added linux-distro.torrent.", h.Rows[23]);
        Assert.Equal("linux-distro", h.Window.CurrentTorrent!.Name); // the new torrent gets the cursor
    }

    [Fact]
    public void Insert_adds_too_and_the_defaults_are_the_first_picker_and_storage()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        h.OnDialog<AddTorrentDialog>(d =>
        {
            d.SourceField.Text = Magnet;
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.InsertChar);
        (string source, _, bool start, string? picker, string? storage) = Assert.Single(h.Backend.Added);
        Assert.Equal(Magnet, source);
        Assert.True(start);
        Assert.Equal("rarest-first", picker);
        Assert.Equal("file", storage);
        Assert.Equal("Added the magnet link.", h.Rows[23]);
    }

    [Fact]
    public void Bad_sources_are_refused_inside_the_dialog()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        var errors = new List<string>();
        h.OnDialog<AddTorrentDialog>(d =>
        {
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            d.SourceField.Text = "magnet:?xt=urn:btih:nothex";
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            d.SourceField.Text = Path.Combine(_folder, "missing.torrent");
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            d.SourceField.Text = _folder;
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            Assert.True(d.IsRunning);
            Assert.Contains("is a folder", h.Screen);
            h.App.InjectKey(Key.Esc);
        });
        h.Press(Key.Backspace);
        Assert.Empty(h.Backend.Added);
        Assert.Equal("Type the path of a .torrent file or paste a magnet link.", errors[0]);
        Assert.StartsWith("Not a usable magnet link:", errors[1]);
        Assert.StartsWith("No such file:", errors[2]);
        Assert.Contains("is a folder; choose a .torrent file in it", errors[3]);
    }

    [Fact]
    public void Tab_completes_file_names_and_lists_ambiguous_matches()
    {
        File.WriteAllText(Path.Combine(_folder, "ubuntu-24.04.torrent"), "x");
        File.WriteAllText(Path.Combine(_folder, "ubuntu-22.04.torrent"), "x");
        File.WriteAllText(Path.Combine(_folder, "debian-12.torrent"), "x");
        Directory.CreateDirectory(Path.Combine(_folder, "saves"));
        using var h = new TuiHarness(MainListTests.SampleBackend());
        string? afterDeb = null, afterUbu = null, candidates = null, saveAfterTab = null;
        h.OnDialog<AddTorrentDialog>(d =>
        {
            d.SourceField.SetFocus();
            d.SourceField.Text = _folder + "/deb";
            h.App.InjectKey(Key.Tab);
            afterDeb = d.SourceField.Text;
            Assert.True(d.SourceField.HasFocus); // completion, not a move to the next field

            d.SourceField.Text = _folder + "/ubu";
            h.App.InjectKey(Key.Tab);
            afterUbu = d.SourceField.Text;
            candidates = d.CandidatesText;

            d.SourceField.Text = Magnet;
            h.App.InjectKey(Key.Tab); // nothing to complete: Tab moves on
            Assert.False(d.SourceField.HasFocus);

            d.SaveField.SetFocus();
            d.SaveField.Text = _folder + "/sa";
            h.App.InjectKey(Key.Tab);
            saveAfterTab = d.SaveField.Text;
            h.App.InjectKey(Key.Esc);
        });
        h.Press(Key.Backspace);
        Assert.Equal(_folder + "/debian-12.torrent", afterDeb);
        Assert.Equal(_folder + "/ubuntu-2", afterUbu);
        Assert.Equal("2 matches: ubuntu-22.04.torrent  ubuntu-24.04.torrent", candidates);
        Assert.Equal(_folder + "/saves/", saveAfterTab);
    }

    [Fact]
    public void A_refused_add_says_why_in_the_message_line()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        h.Backend.FailNext = "this torrent is already in the session";
        h.OnDialog<AddTorrentDialog>(d =>
        {
            d.SourceField.Text = Magnet;
            h.App.InjectKey(Key.Enter);
        });
        h.Press(Key.Backspace);
        Assert.Equal("! Could not add the magnet link: this torrent is already in the session", h.Rows[23]);
    }

    [Fact]
    public void The_help_lists_every_key_and_closes_with_esc()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        var pages = new List<string>();
        h.OnDialog<TextDialog>(d =>
        {
            pages.Add(h.Screen);
            // Scroll through the whole help, a page at a time.
            for (int i = 0; i < 10; i++)
            {
                h.App.InjectKey(Key.PageDown);
                pages.Add(h.Screen);
            }
            h.App.InjectKey(Key.Esc);
        });
        h.Press(Key.F1);
        string help = string.Join("\n", pages);
        Assert.Contains("Keys (Esc closes)", pages[0]);
        foreach (KeyCommand command in KeyHelp.Commands)
        {
            Assert.Contains(command.Keys, help);
        }
        Assert.Contains("Global upload limit up, down by 1 KiB/s", help);
        Assert.Contains("# have  : partly  + downloading  . missing  - not wanted", help);
        Assert.Equal("MainWindow", h.App.TopRunnableView?.GetType().Name);

        h.OnDialog<TextDialog>(_ => h.App.InjectKey(new Key('q')));
        h.Type("?");
        Assert.Equal(["TextDialog", "TextDialog"], h.DialogsSeen);
    }

    [Fact]
    public void R_shows_the_feeds_their_errors_items_and_rules_and_r_polls_now()
    {
        var backend = MainListTests.SampleBackend();
        var now = DateTimeOffset.Now;
        var tv = new RTorrent.Engine.Feeds.FeedDefinition { Name = "tv", Url = "https://showrss.info/user/1.rss", IntervalMinutes = 30 };
        var broken = new RTorrent.Engine.Feeds.FeedDefinition { Name = "indexer", Url = "http://127.0.0.1:9117/api", Source = "rss" };
        backend.Feeds = new RTorrent.Engine.Feeds.FeedsSnapshot(
        [
            new RTorrent.Engine.Feeds.FeedStatus
            {
                Definition = tv, Title = "showRSS", LastPoll = now.AddMinutes(-5), NextPoll = now.AddMinutes(25),
                Items =
                [
                    new() { Title = "Show.Name.S01E02.1080p", Id = "1", State = RTorrent.Engine.Feeds.FeedItemState.Added, Rule = "show", Episode = "S01E02" },
                    new() { Title = "Show.Name.S01E02.720p", Id = "2", State = RTorrent.Engine.Feeds.FeedItemState.Skipped, Rule = "show", Message = "S01E02 already taken" },
                    new() { Title = "Other.Show.S03E01", Id = "3" },
                ],
            },
            new RTorrent.Engine.Feeds.FeedStatus { Definition = broken, LastPoll = now.AddMinutes(-1), NextPoll = now.AddMinutes(29), Error = "HTTP 503 Service Unavailable" },
        ], new RTorrent.Engine.Feeds.FeedConfig
        {
            Feeds = [tv, broken],
            Rules = [new RTorrent.Engine.Feeds.FeedRule { Name = "show", MustContain = "show name 1080p|show name 720p", SmartFilter = true, Category = "tv" }],
        }, null);
        using var h = new TuiHarness(backend);
        string screen = "";
        h.OnDialog<TextDialog>(d =>
        {
            screen = h.Screen;
            h.App.InjectKey(new Key('r'));
            h.App.InjectKey(Key.Esc);
        });
        h.Type("R");

        Assert.Contains("Feeds (r polls now, Esc closes)", screen);
        Assert.Contains("tv  \"showRSS\"  [rss]", screen);
        Assert.Contains("every 30 min; polled 5 min ago, next in 25 min; 3 items", screen);
        Assert.Contains("+ Show.Name.S01E02.1080p  (S01E02; rule show)", screen);
        Assert.Contains("~ Show.Name.S01E02.720p  (rule show; S01E02 already taken)", screen);
        Assert.Contains(". Other.Show.S03E01", screen);
        Assert.Contains("error: HTTP 503 Service Unavailable", screen);
        Assert.Contains("show: all feeds; must contain \"show name 1080p|show name", screen); // the rest is past 80 columns
        Assert.Contains("feeds-refresh all", backend.Calls);
        Assert.Equal("MainWindow", h.App.TopRunnableView?.GetType().Name);
    }

    [Fact]
    public void R_without_feeds_says_where_they_are_configured()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        string screen = "";
        h.OnDialog<TextDialog>(_ =>
        {
            screen = h.Screen;
            h.App.InjectKey(Key.Esc);
        });
        h.Type("R");
        Assert.Contains("No feeds. Add them to feeds.json in the session folder", screen);
    }

    [Fact]
    public void Every_key_in_the_table_is_documented_and_hints_fit_80_columns()
    {
        foreach (KeyCommand c in KeyHelp.Commands)
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Keys));
            Assert.False(string.IsNullOrWhiteSpace(c.Help));
            Assert.True(c.Matches is null == c.Run is null, c.Keys);
        }
        foreach (KeyScope scope in Enum.GetValues<KeyScope>())
        {
            string hints = KeyHelp.Hints(scope, 80);
            Assert.True(hints.Length <= 80, hints);
            Assert.StartsWith("F1 help  ^Q quit", hints);
        }
    }

    [Fact]
    public void The_settings_screen_edits_ports_folders_limits_and_switches()
    {
        string watch = Path.Combine(_folder, "watch");
        using var h = new TuiHarness(MainListTests.SampleBackend());
        string? portError = null, familyError = null;
        h.OnDialog<SettingsDialog>(d =>
        {
            Assert.Equal("6881", d.PortField.Text);
            Assert.Contains("Watch folder:", h.Screen);
            d.PortField.Text = "70000";
            h.App.InjectKey(Key.Enter);
            portError = d.ErrorText;
            d.PortField.Text = "51413";
            d.WatchFolderField.Text = watch;
            d.DownloadLimitField.Text = "2M";
            d.UploadLimitField.Text = "64";
            d.SlotsField.Text = "4";
            d.ConnectionsField.Text = "200";
            d.DhtBox.Value = CheckState.UnChecked;
            d.LsdBox.Value = CheckState.UnChecked;
            // Both address families off is refused; IPv6 alone is fine.
            d.IPv4Box.Value = CheckState.UnChecked;
            d.IPv6Box.Value = CheckState.UnChecked;
            h.App.InjectKey(Key.Enter);
            familyError = d.ErrorText;
            d.IPv6Box.Value = CheckState.Checked;
            Assert.Equal(1, d.EncryptionChoice.Value); // enabled, the default
            d.EncryptionChoice.Value = 3;
            h.App.InjectKey(Key.Enter);
        });
        h.Type("o");
        Assert.Equal("The listen port is a number from 0 to 65535.", portError);
        Assert.Equal("IPv4 and IPv6 cannot both be off.", familyError);
        Assert.Equal($"settings port=51413 watch={watch}", h.Backend.Calls[^1]);
        EditableSettings saved = h.Backend.Settings;
        Assert.Equal(2L << 20, saved.DownloadLimit);
        Assert.Equal(64 * 1024, saved.UploadLimit);
        Assert.Equal(4, saved.UploadSlots);
        Assert.Equal(200, saved.MaxConnections);
        Assert.False(saved.Dht);
        Assert.True(saved.Pex);
        Assert.False(saved.Lsd);
        Assert.False(saved.IPv4);
        Assert.True(saved.IPv6);
        Assert.True(saved.Utp); // untouched: uTP stays on
        Assert.Equal(RTorrent.Engine.Peers.Encryption.EncryptionMode.Required, saved.Encryption);
        Assert.Equal("Settings saved.", h.Rows[23]);

        h.Refresh();
        Assert.Contains("(max 2.0M)", h.Rows[22]);
        Assert.Contains("port 51413", h.Rows[22]);

        h.OnDialog<SettingsDialog>(d =>
        {
            Assert.Equal(watch, d.WatchFolderField.Text);
            h.App.InjectKey(Key.F2); // F2 inside the dialog does nothing special
            h.App.InjectKey(Key.Esc);
        });
        h.Press(Key.F2);
        Assert.Equal(["SettingsDialog", "SettingsDialog"], h.DialogsSeen);
    }

    [Fact]
    public void The_settings_screen_switches_port_mapping_on_the_peers_row()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        string screen = "";
        h.OnDialog<SettingsDialog>(d =>
        {
            screen = h.Screen;
            Assert.Equal(CheckState.Checked, d.PortMappingBox.Value); // on by default, as the settings say
            d.PortMappingBox.Value = CheckState.UnChecked;
            h.App.InjectKey(Key.Enter);
        });
        h.Type("o");
        Assert.Contains("Port mapping", screen);
        Assert.Contains("Save", screen); // still fits with its buttons
        Assert.True(screen.Contains("at once."), screen);
        Assert.False(h.Backend.Settings.PortForwarding);
    }

    [Fact]
    public void The_settings_screen_edits_the_blocklist_and_refuses_bad_values_with_the_reason()
    {
        string list = Path.Combine(_folder, "level1.p2p");
        File.WriteAllText(list, "x:1.2.3.0-1.2.3.255\n");
        using var h = new TuiHarness(MainListTests.SampleBackend());
        var errors = new List<string?>();
        string screen = "";
        h.OnDialog<SettingsDialog>(d =>
        {
            screen = h.Screen;
            Assert.Equal(CheckState.UnChecked, d.BlocklistBox.Value);
            Assert.Equal("24", d.BlocklistRefreshField.Text);
            d.BlocklistBox.Value = CheckState.Checked;
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            d.BlocklistUrlField.Text = "ftp://example.com/list.gz";
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            d.BlocklistUrlField.Text = "https://example.com/list.gz";
            d.BlocklistFileField.Text = Path.Combine(_folder, "missing.p2p");
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            d.BlocklistFileField.Text = list;
            d.BlocklistRefreshField.Text = "9999";
            h.App.InjectKey(Key.Enter);
            errors.Add(d.ErrorText);
            d.BlocklistRefreshField.Text = "6";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("o");
        Assert.Contains("Blocklist", screen);
        Assert.Contains("Blocklist URL:", screen);
        Assert.Contains("Save", screen); // the taller form still fits the screen with its buttons...
        Assert.True(screen.Contains("at once."), screen); // ...and the end of its note
        Assert.Equal([
            "Give a blocklist URL or file, or switch the blocklist off.",
            "The blocklist URL must start with http:// or https://, not 'ftp://example.com/list.gz'.",
            $"There is no blocklist file {Path.Combine(_folder, "missing.p2p")}.",
            "The blocklist refresh is a number of hours from 0 (at start only) to 8760.",
        ], errors);
        EditableSettings saved = h.Backend.Settings;
        Assert.True(saved.BlocklistEnabled);
        Assert.Equal("https://example.com/list.gz", saved.BlocklistUrl);
        Assert.Equal(list, saved.BlocklistFile);
        Assert.Equal(6, saved.BlocklistRefreshHours);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_watch_folder_from_the_settings_adds_what_appears_in_it(bool startAdded)
    {
        string watch = Path.Combine(_folder, "watch");
        Directory.CreateDirectory(watch);
        var backend = MainListTests.SampleBackend();
        backend.SaveSettingsAsync(backend.Settings with { WatchFolder = watch, StartAddedTorrents = startAdded });
        backend.Calls.Clear();
        using var h = new TuiHarness(backend, options: new TuiOptions { WatchFolderPollInterval = TimeSpan.FromMilliseconds(100) },
            runWatchFolder: true);
        File.Copy(Path.Combine(TestPaths.Corpus, "torrents", "base.torrent"), Path.Combine(watch, "dropped.torrent"));

        h.PumpUntil(() => backend.Added.Count == 1 && h.Rows[23].Contains("from the watch folder", StringComparison.Ordinal), 20_000);
        Assert.Equal(Path.Combine(watch, "dropped.torrent"), backend.Added[0].Source);
        // settings.json's startAddedTorrents decides, as it does for the daemon's watch folder and the RPC.
        Assert.Equal(startAdded, backend.Added[0].Start);
        Assert.Equal(backend.Settings.DownloadFolder, backend.Added[0].SaveDirectory);
        Assert.Contains("dropped", h.Screen);
    }
}
