using RTorrent.Engine.Session;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Tui.Dialogs;
using RTorrent.Tui.Hosts;
using RTorrent.Tui.Views;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui;

internal sealed partial class MainWindow
{
    /// <summary>Raised with every dialog just before it runs (tests drive dialogs through it).</summary>
    internal event Action<Dialog>? DialogOpening;

    private int ScreenWidth => Math.Max(40, _app.Screen.Width);
    private int ScreenHeight => Math.Max(12, _app.Screen.Height);

    /// <summary>Runs <paramref name="dialog"/> modally (the refresh timer keeps running behind it) and disposes it.</summary>
    private void RunDialog(Dialog dialog)
    {
        if (!_profile.Unicode)
        {
            // Plain terminals: the simplest box lines, and no shadows drawn with block characters.
            dialog.BorderStyle = LineStyle.Single;
            dialog.ShadowStyle = ShadowStyles.None;
            foreach (Button button in dialog.Buttons) button.ShadowStyle = ShadowStyles.None;
        }
        DialogOpening?.Invoke(dialog);
        try
        {
            _app.Run(dialog);
        }
        finally
        {
            dialog.Dispose();
            _table.SetNeedsDraw();
        }
    }

    /// <summary>
    /// Backspace/Insert: adds a torrent. Attached to a daemon, the save folder is one on the daemon's machine (empty
    /// for its download folder); with several daemons the dialog also asks which one (the current host first).
    /// </summary>
    internal void ShowAddDialog()
    {
        IHostedBackend? hosted = Hosted;
        AddDialogSetup setup;
        if (hosted is not null)
        {
            List<AddDialogHost> hosts = [.. hosted.HostNames.Select(n =>
            {
                ITorrentBackend b = hosted.Host(n);
                return new AddDialogHost(n, b.PickerNames, b.StorageNames);
            })];
            setup = new AddDialogSetup("", hosts, Math.Max(0, hosts.FindIndex(h => h.Name == CurrentHost)), RemoteSave: true);
        }
        else if (Attached)
        {
            setup = new AddDialogSetup("", [new AddDialogHost(_backend.Info.Name, _backend.PickerNames, _backend.StorageNames)],
                RemoteSave: true, RemoteDefault: _settings?.DownloadFolder is { Length: > 0 } remote ? remote : null);
        }
        else
        {
            string saveTo = _settings?.DownloadFolder is { Length: > 0 } folder ? folder : Environment.CurrentDirectory;
            setup = new AddDialogSetup(saveTo, [new AddDialogHost("", _backend.PickerNames, _backend.StorageNames)]);
        }
        var dialog = new AddTorrentDialog(setup, ScreenWidth);
        AddTorrentRequest? request = null;
        dialog.IsRunningChanged += (_, e) =>
        {
            if (!e.Value && dialog.IsAccepted) request = dialog.Request;
        };
        RunDialog(dialog);
        if (request is null) return;
        string name = request.Source.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) ? "the magnet link" : Path.GetFileName(request.Source);
        if (request.Host is not null) name += $" to {request.Host}";
        Task<string> add;
        try
        {
            ITorrentBackend target = hosted is not null && request.Host is { } host ? hosted.Host(host) : _backend;
            add = target.AddTorrentAsync(request.Source, request.SaveDirectory, request.Start, request.Picker, request.Storage);
        }
        catch (Exception e)
        {
            ShowError($"Could not add {name}: {e.Message}");
            return;
        }
        WhenDone(add, t =>
        {
            if (t.IsFaulted)
            {
                ShowError($"Could not add {name}: {Describe(t.Exception!)}");
                return;
            }
            if (!t.IsCompletedSuccessfully) return;
            ShowMessage($"Added {name}.");
            _selectAfterRefresh = t.Result;
            RefreshNow();
        });
    }

    internal void ShowRemoveDialog()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        var dialog = new RemoveDialog(t, ScreenWidth);
        bool? deleteData = null;
        dialog.IsRunningChanged += (_, e) =>
        {
            if (!e.Value && dialog.IsAccepted) deleteData = dialog.DeleteData;
        };
        RunDialog(dialog);
        if (deleteData is not { } delete) return;
        if (IsDetailsOpen && _details.TorrentId == t.Id) CloseDetails();
        RunOperation(() => _backend.RemoveAsync(t.Id, delete),
            delete ? $"Removed {t.Name} and deleted its files." : $"Removed {t.Name} (its files stay).");
    }

    internal void ShowTorrentLimitsDialog()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        var dialog = new LimitsDialog($"Rate limits: {TorrentText.Fit(t.Name, 40)}", t.DownloadLimit, t.UploadLimit);
        (long Down, long Up)? limits = null;
        dialog.IsRunningChanged += (_, e) =>
        {
            if (!e.Value && dialog.IsAccepted) limits = (dialog.Download, dialog.Upload);
        };
        RunDialog(dialog);
        if (limits is not { } l) return;
        RunOperation(() => _backend.SetTorrentLimitsAsync(t.Id, l.Down, l.Up),
            $"Limits for {t.Name}: down {Units.Limit(l.Down)}, up {Units.Limit(l.Up)}.");
    }

    internal void ShowGlobalLimitsDialog()
    {
        var dialog = new LimitsDialog("Global rate limits", _downloadLimit, _uploadLimit);
        (long Down, long Up)? limits = null;
        dialog.IsRunningChanged += (_, e) =>
        {
            if (!e.Value && dialog.IsAccepted) limits = (dialog.Download, dialog.Upload);
        };
        RunDialog(dialog);
        if (limits is not { } l) return;
        SetGlobalLimits(l.Down, l.Up, $"Global limits: down {Units.Limit(l.Down)}, up {Units.Limit(l.Up)}.");
    }

    /// <summary>
    /// o/F2: the settings. With several daemons, first asks whose (the current host's first): each daemon has its own.
    /// </summary>
    internal void ShowSettingsDialog()
    {
        ITorrentBackend target = _backend;
        string? host = null;
        if (Hosted is { } hosted)
        {
            IReadOnlyList<string> names = hosted.HostNames;
            var pick = new HostDialog("Settings", "_Open", "Settings of which daemon?", names,
                Math.Max(0, names.ToList().IndexOf(CurrentHost ?? "")), ScreenWidth);
            pick.IsRunningChanged += (_, e) =>
            {
                if (!e.Value && pick.IsAccepted) host = pick.ChosenHost;
            };
            RunDialog(pick);
            if (host is null) return;
            target = hosted.Host(host);
        }
        Task<EditableSettings> load;
        try
        {
            load = target.GetSettingsAsync();
        }
        catch (Exception e)
        {
            ShowError("Cannot read the settings: " + e.Message);
            return;
        }
        // The settings are read fresh (another program may have changed them); the dialog opens once they are here.
        WhenDone(load, t =>
        {
            if (t.IsFaulted)
            {
                ShowError("Cannot read the settings: " + Describe(t.Exception!));
                return;
            }
            if (!t.IsCompletedSuccessfully || _stopping) return;
            var dialog = new SettingsDialog(t.Result, ScreenWidth, remote: Attached, host);
            EditableSettings? chosen = null;
            dialog.IsRunningChanged += (_, e) =>
            {
                if (!e.Value && dialog.IsAccepted) chosen = dialog.Settings;
            };
            RunDialog(dialog);
            if (chosen is null) return;
            EditableSettings saved = chosen;
            RunOperation(async () =>
            {
                // The screen does not edit turtle mode (^T and the schedule do): what it loaded may be stale by now, and
                // saving it would undo a switch the schedule made while the screen was open.
                var now = await target.GetSettingsAsync().ConfigureAwait(false);
                saved = saved with { AltSpeedEnabled = now.AltSpeedEnabled };
                await target.SaveSettingsAsync(saved).ConfigureAwait(false);
            }, host is null ? "Settings saved." : $"Settings of {host} saved.", null, () =>
            {
                // One daemon's settings of several are not the interface's own (limits, folders).
                if (host is not null) return;
                OnSettings(saved);
                _downloadLimit = saved.DownloadLimit;
                _uploadLimit = saved.UploadLimit;
            });
        });
    }

    internal void ShowHelp()
    {
        // The dialog is two columns narrower than the screen and has a border on each side.
        int width = Math.Max(38, ScreenWidth - 4);
        const int keysWidth = 26;
        var lines = new List<TextLine>();
        void Text(string text, ColorName16? color = null)
        {
            foreach (string line in TorrentText.Wrap(text, width)) lines.Add(new TextLine(line, color));
        }
        void Section(string title, params KeyScope[] scopes)
        {
            lines.Add(new TextLine(title, ColorName16.BrightCyan));
            foreach (KeyCommand c in KeyHelp.Commands.Where(c => scopes.Contains(c.Scope)))
            {
                foreach (string line in TorrentText.Wrap($"  {c.Keys.PadRight(keysWidth - 2)}{c.HelpFor(Attached)}", width, keysWidth))
                {
                    lines.Add(new TextLine(line));
                }
            }
            lines.Add(new TextLine(""));
        }
        Text("Every key of the interface. rTorrent users: ^S ^D ^R ^Q, Backspace and the a/z s/x d/c throttles work as there.");
        if (Attached) Text($"Attached to {(Hosted is null ? "the daemon at" : "the daemons")} {_backend.Info.Name}: ^Q detaches " +
            "(the daemon keeps running), K stops a daemon.");
        lines.Add(new TextLine(""));
        Section("In the torrent list", KeyScope.List);
        Section("In the details of a torrent", KeyScope.Details, KeyScope.FilesTab, KeyScope.SortableTab);
        Section("Everywhere", KeyScope.Everywhere);
        lines.Add(new TextLine("Daemons", ColorName16.BrightCyan));
        Text("rtorrent daemon runs the session without an interface; rtorrent attaches to it (or --connect URL to one " +
            "elsewhere, given several times for several). Attached, the title says where, ^Q detaches, the daemon watches " +
            "the watch folder, a .torrent file to add is read here and sent, and the save folder is a folder on the " +
            "daemon's machine (no Tab completion; empty for its download folder). A daemon that cannot be reached " +
            "leaves its last list on screen, marked stale; the status line says why and when it is tried again.");
        Text("With several daemons: the Host column says where each torrent is (it sorts like the others); the status line " +
            "shows each daemon's rates, or why it is disconnected, and its torrents leave the list until it answers again. " +
            "Adding asks which daemon, and so do the settings and K; the daemon of the torrent under the cursor comes " +
            "first, so Enter takes it. The session log and the plugin list show every daemon; the global limits (T and " +
            "the throttle keys) are set on each daemon alike.");
        lines.Add(new TextLine(""));
        Text("In dialogs: Tab moves between fields, Enter accepts, Esc cancels.");
        Text("States: downloading, seeding, paused, checking N%, queued, metadata (magnet link), error: reason.");
        Text("Pieces map: " + PieceMap.Legend);
        var dialog = new TextDialog("Keys (Esc closes)", lines, ScreenWidth, ScreenHeight, _profile.Color);
        dialog.Initialized += (_, _) => dialog.FocusLines();
        RunDialog(dialog);
    }

    internal void ShowSessionLog()
    {
        var dialog = new TextDialog("Session log (Esc closes)", [new TextLine("Loading the log...")], ScreenWidth, ScreenHeight, _profile.Color,
            followTail: true);
        dialog.Initialized += (_, _) => dialog.FocusLines();
        Task<IReadOnlyList<LogEntry>> load;
        try
        {
            load = _backend.GetSessionLogAsync();
        }
        catch (Exception e)
        {
            load = Task.FromException<IReadOnlyList<LogEntry>>(e);
        }
        WhenDone(load, t =>
        {
            IEnumerable<LogEntry> entries = t.IsCompletedSuccessfully ? t.Result : [];
            List<TextLine> lines = LogLines.Format(entries.Concat(_interfaceLog).OrderBy(e => e.Time));
            if (t.IsFaulted) lines.Add(new TextLine("Cannot read the engine's log: " + Describe(t.Exception!), ColorName16.BrightRed));
            if (lines.Count == 0) lines.Add(new TextLine("Nothing logged yet."));
            dialog.SetLines(lines);
        });
        RunDialog(dialog);
    }

    /// <summary>
    /// R: the feeds (docs/FEEDS.md): each feed's schedule, last poll, error and items with what the rules did, and the
    /// rules. r polls every enabled feed now; the view reads the feeds again every two seconds while it is open.
    /// </summary>
    internal void ShowFeeds()
    {
        var dialog = new TextDialog("Feeds (r polls now, Esc closes)", [new TextLine("Loading the feeds...")], ScreenWidth, ScreenHeight, _profile.Color);
        dialog.Initialized += (_, _) => dialog.FocusLines();
        string? note = null;
        bool open = true;
        void Load()
        {
            Task<RTorrent.Engine.Feeds.FeedsSnapshot> load;
            try
            {
                load = _backend.GetFeedsAsync();
            }
            catch (Exception e)
            {
                load = Task.FromException<RTorrent.Engine.Feeds.FeedsSnapshot>(e);
            }
            WhenDone(load, t =>
            {
                if (!open) return;
                var lines = t.IsCompletedSuccessfully ? FeedLines.Format(t.Result, DateTimeOffset.Now) : [];
                if (t.IsFaulted) lines.Add(new TextLine("Cannot read the feeds: " + Describe(t.Exception!), ColorName16.BrightRed));
                if (note is not null) lines.Insert(0, new TextLine(note, ColorName16.Yellow));
                dialog.SetLines(lines);
            });
        }
        dialog.Lines.KeyDown += (_, key) =>
        {
            if (!KeyText.IsChar(key, 'r')) return;
            key.Handled = true;
            Task refresh;
            try
            {
                refresh = _backend.RefreshFeedAsync(null);
            }
            catch (Exception e)
            {
                refresh = Task.FromException(e);
            }
            note = "Polling every enabled feed...";
            WhenDone(refresh, t =>
            {
                note = t.IsFaulted ? "Cannot poll: " + Describe(t.Exception!) : null;
                Load();
            });
        };
        Load();
        object? timer = _app.AddTimeout(TimeSpan.FromSeconds(2), () =>
        {
            if (open) Load();
            return open;
        });
        try
        {
            RunDialog(dialog);
        }
        finally
        {
            open = false;
            if (timer is not null) _app.RemoveTimeout(timer);
        }
    }

    /// <summary>p: the pickers, storages and plugins; with several daemons, each daemon's under its name.</summary>
    internal void ShowPlugins()
    {
        var lines = new List<TextLine>();
        if (Hosted is { } hosted)
        {
            foreach (string host in hosted.HostNames)
            {
                lines.Add(new TextLine(host, ColorName16.BrightCyan));
                AddPluginLines(lines, hosted.Host(host));
            }
        }
        else
        {
            AddPluginLines(lines, _backend);
        }
        var dialog = new TextDialog("Plugins (Esc closes)", lines, ScreenWidth, ScreenHeight, _profile.Color);
        dialog.Initialized += (_, _) => dialog.FocusLines();
        RunDialog(dialog);
    }

    private static void AddPluginLines(List<TextLine> lines, ITorrentBackend backend)
    {
        lines.Add(new TextLine("Piece pickers: " + (backend.PickerNames.Count > 0 ? string.Join(", ", backend.PickerNames) : "none")));
        lines.Add(new TextLine("Storages:      " + (backend.StorageNames.Count > 0 ? string.Join(", ", backend.StorageNames) : "none")));
        lines.Add(new TextLine(""));
        if (backend.Plugins.Count == 0)
        {
            lines.Add(new TextLine("No plugins found (only the built-in components are in use)."));
        }
        foreach (PluginInfo p in backend.Plugins)
        {
            bool loaded = p.Status.Equals("loaded", StringComparison.OrdinalIgnoreCase);
            lines.Add(new TextLine($"{p.Name}  {p.Version}  [{Kinds(p.Kinds)}]  {p.Status}", loaded ? null : ColorName16.BrightRed));
            lines.Add(new TextLine($"    {p.Folder}"));
        }
        lines.Add(new TextLine(""));
    }

    private static string Kinds(PluginKinds kinds)
    {
        if (kinds == PluginKinds.None) return "nothing";
        var names = new List<string>();
        if (kinds.HasFlag(PluginKinds.Picker)) names.Add("picker");
        if (kinds.HasFlag(PluginKinds.PeerSource)) names.Add("peer source");
        if (kinds.HasFlag(PluginKinds.Storage)) names.Add("storage");
        if (kinds.HasFlag(PluginKinds.TorrentSource)) names.Add("torrent source");
        return string.Join(", ", names);
    }
}
