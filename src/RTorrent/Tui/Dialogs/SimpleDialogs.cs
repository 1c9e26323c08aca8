using RTorrent.Engine.Session;
using System.Globalization;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Tui.Views;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui.Dialogs;

/// <summary>
/// Asks before removing a torrent. Deleting the downloaded files is a separate, unticked box, so Enter alone never
/// deletes data.
/// </summary>
internal sealed class RemoveDialog : FormDialog
{
    private readonly CheckBox _deleteData;

    public RemoveDialog(TorrentSnapshot torrent, int screenWidth) : base("Remove torrent", "_Remove")
    {
        int width = Math.Clamp(screenWidth - 8, 40, 90);
        Width = width + 2;
        Add(new Label { X = 0, Y = 0, Width = Dim.Fill(), Text = TorrentText.Fit($"Remove \"{torrent.Name}\" from the session?", width) });
        Add(new Label { X = 0, Y = 1, Width = Dim.Fill(), Text = TorrentText.Fit($"Its files are in {torrent.SavePath}", width) });
        _deleteData = new CheckBox
        {
            X = 0,
            Y = 3,
            Text = $"Also _delete the downloaded files ({Units.Size(torrent.Done)})",
            Value = CheckState.UnChecked,
        };
        Add(_deleteData);
        AddErrorLine();
    }

    /// <summary>Whether the data goes too.</summary>
    public bool DeleteData => _deleteData.Value == CheckState.Checked;

    internal CheckBox DeleteDataBox => _deleteData;

    protected override string? Validate() => null;
}

/// <summary>Download and upload limits, for one torrent or for the session. Empty means no limit.</summary>
internal sealed class LimitsDialog : FormDialog
{
    private readonly TextField _down;
    private readonly TextField _up;

    public LimitsDialog(string title, long download, long upload) : base(title, "_Set")
    {
        Width = 62;
        Add(new Label { X = 0, Y = 0, Text = "KiB/s, or with a unit (500K, 1.5M); empty or 0 for no limit." });
        Add(new Label { X = 0, Y = 2, Width = 18, Text = "_Download limit:" });
        _down = new TextField { X = 18, Y = 2, Width = 16, Text = Units.LimitForEditing(download) };
        Add(new Label { X = 0, Y = 3, Width = 18, Text = "_Upload limit:" });
        _up = new TextField { X = 18, Y = 3, Width = 16, Text = Units.LimitForEditing(upload) };
        Add(_down, _up);
        AddErrorLine();
    }

    /// <summary>The download limit accepted, bytes/s (0 = none).</summary>
    public long Download { get; private set; }

    /// <summary>The upload limit accepted, bytes/s (0 = none).</summary>
    public long Upload { get; private set; }

    internal TextField DownloadField => _down;
    internal TextField UploadField => _up;

    protected override string? Validate()
    {
        if (!Units.TryParseLimit(_down.Text, out long down, out string? error)) return "Download: " + error;
        if (!Units.TryParseLimit(_up.Text, out long up, out error)) return "Upload: " + error;
        Download = down;
        Upload = up;
        return null;
    }
}

/// <summary>
/// The settings a user changes from the interface, the watch folder included. Attached to a daemon the folders are on
/// its machine: they are neither completed nor checked here.
/// </summary>
internal sealed class SettingsDialog : FormDialog
{
    private readonly EditableSettings _original;
    private readonly bool _remote;
    private readonly TextField _port;
    private readonly TextField _downloadFolder;
    private readonly TextField _watchFolder;
    private readonly TextField _down;
    private readonly TextField _up;
    private readonly TextField _slots;
    private readonly TextField _connections;
    private readonly TextField _queueDownloads;
    private readonly TextField _queueSeeds;
    private readonly TextField _queueTotal;
    private readonly TextField _queueStalled;
    private readonly CheckBox _dht;
    private readonly CheckBox _pex;
    private readonly CheckBox _lsd;
    private readonly CheckBox _utp, _ipv4, _ipv6, _portMapping;
    private readonly OptionSelector _encryption;
    private readonly TextField _altDown;
    private readonly TextField _altUp;
    private readonly CheckBox _schedule;
    private readonly TextField _scheduleFrom;
    private readonly TextField _scheduleTo;
    private readonly TextField _scheduleDays;
    private readonly TextField _addedHook;
    private readonly TextField _completedHook;
    private readonly TextField _removedHook;
    private readonly CheckBox _blocklist;
    private readonly TextField _blocklistRefresh;
    private readonly TextField _blocklistUrl;
    private readonly TextField _blocklistFile;

    /// <summary>The encryption modes in the order the selector shows them (see docs/PROTOCOL-ENCRYPTION.md).</summary>
    private static readonly EncryptionMode[] EncryptionModes = Enum.GetValues<EncryptionMode>();

    /// <param name="settings">The settings now.</param>
    /// <param name="screenWidth">The screen's width.</param>
    /// <param name="remote">The settings are a daemon's: its folders are not on this machine.</param>
    /// <param name="host">The daemon's name, for the title, when several are shown.</param>
    public SettingsDialog(EditableSettings settings, int screenWidth, bool remote = false, string? host = null)
        : base(host is null ? "Settings" : $"Settings of {host}", "_Save")
    {
        _original = settings;
        _remote = remote;
        int width = Math.Clamp(screenWidth - 4, 50, 90);
        Width = width;
        const int labelWidth = 18;
        int y = 0;
        TextField Field(string label, string value, int width = 0)
        {
            Add(new Label { X = 0, Y = y, Width = labelWidth, Text = label });
            var field = new TextField { X = labelWidth, Y = y, Width = width > 0 ? width : Dim.Fill(), Text = value };
            Add(field);
            y++;
            return field;
        }
        _port = Field("Listen _port:", settings.ListenPort.ToString(CultureInfo.InvariantCulture), 8);
        _downloadFolder = Field("Download _folder:", settings.DownloadFolder);
        _watchFolder = Field("_Watch folder:", settings.WatchFolder);
        // Two values a line (down and up, slots and connections), so the screen holds turtle mode and the hooks too.
        (TextField, TextField) Pair(string label, string first, string firstUnit, string second, string secondUnit, string tail = "")
        {
            Add(new Label { X = 0, Y = y, Width = labelWidth, Text = label });
            var a = new TextField { X = labelWidth, Y = y, Width = 10, Text = first };
            var b = new TextField { X = labelWidth + 17, Y = y, Width = 10, Text = second };
            Add(a, new Label { X = labelWidth + 11, Y = y, Text = firstUnit }, b, new Label { X = labelWidth + 28, Y = y, Text = secondUnit + tail });
            y++;
            return (a, b);
        }
        (_down, _up) = Pair("Limits:", Units.LimitForEditing(settings.DownloadLimit), "down", Units.LimitForEditing(settings.UploadLimit), "up");
        (_altDown, _altUp) = Pair("Turtle limits:", Units.LimitForEditing(settings.AltDownloadLimit), "down",
            Units.LimitForEditing(settings.AltUploadLimit), "up", settings.AltSpeedEnabled ? "  (on now; ^T)" : "  (^T)");
        Add(new Label { X = 0, Y = y, Width = labelWidth, Text = "Turtle schedule:" });
        _schedule = new CheckBox { X = labelWidth, Y = y, Text = "from", Value = settings.AltSpeedScheduleEnabled ? CheckState.Checked : CheckState.UnChecked };
        _scheduleFrom = new TextField { X = labelWidth + 9, Y = y, Width = 6, Text = Units.MinuteOfDay(settings.AltSpeedScheduleBegin) };
        _scheduleTo = new TextField { X = labelWidth + 19, Y = y, Width = 6, Text = Units.MinuteOfDay(settings.AltSpeedScheduleEnd) };
        _scheduleDays = new TextField { X = labelWidth + 26, Y = y, Width = Dim.Fill(), Text = Units.Days(settings.AltSpeedScheduleDays) };
        Add(_schedule, _scheduleFrom, new Label { X = labelWidth + 16, Y = y, Text = "to" }, _scheduleTo, _scheduleDays);
        y++;
        Add(new Label { X = 0, Y = y, Width = labelWidth, Text = "Upload _slots:" });
        _slots = new TextField { X = labelWidth, Y = y, Width = 8, Text = settings.UploadSlots.ToString(CultureInfo.InvariantCulture) };
        Add(_slots, new Label { X = labelWidth + 11, Y = y, Text = "Max _connections:" });
        _connections = new TextField { X = labelWidth + 29, Y = y, Width = 8, Text = settings.MaxConnections.ToString(CultureInfo.InvariantCulture) };
        Add(_connections);
        y++;
        _addedHook = Field("Run when added:", settings.AddedHook);
        _completedHook = Field("Run when done:", settings.CompletedHook);
        _removedHook = Field("Run when removed:", settings.RemovedHook);
        // The queue on one line: downloads, seeds and all torrents running at once (empty: no limit), and the minutes
        // without payload after which a running torrent stops counting (empty: it always counts).
        TextField Small(string label, int x, int? value)
        {
            Add(new Label { X = x, Y = y, Text = label });
            var field = new TextField { X = x + label.Length + 1, Y = y, Width = 6, Text = value?.ToString(CultureInfo.InvariantCulture) ?? "" };
            Add(field);
            return field;
        }
        Add(new Label { X = 0, Y = y, Width = labelWidth, Text = "_Queue: downloads" });
        _queueDownloads = Small("", labelWidth - 1, settings.MaxActiveDownloads);
        _queueSeeds = Small("seeds", labelWidth + 7, settings.MaxActiveSeeds);
        _queueTotal = Small("all", labelWidth + 20, settings.MaxActiveTorrents);
        _queueStalled = Small("stalled min", labelWidth + 31, settings.QueueStalledMinutes);
        y++;
        _dht = new CheckBox { X = 0, Y = y, Text = "D_HT", Value = settings.Dht ? CheckState.Checked : CheckState.UnChecked };
        _pex = new CheckBox { X = 10, Y = y, Text = "P_EX", Value = settings.Pex ? CheckState.Checked : CheckState.UnChecked };
        _lsd = new CheckBox { X = 20, Y = y, Text = "_Local discovery", Value = settings.Lsd ? CheckState.Checked : CheckState.UnChecked };
        // uTP (both ways: docs/UTP.md), the address families the peer port, the DHT and LSD use (at least one; at the next
        // start), and port mapping, which acts at once (docs/PORT-MAPPING.md): all on the peers' row so the dialog keeps
        // 24 rows (it fits 80 columns).
        _utp = new CheckBox { X = 39, Y = y, Text = "u_TP", Value = settings.Utp ? CheckState.Checked : CheckState.UnChecked };
        _ipv4 = new CheckBox { X = 45, Y = y, Text = "IPv4", Value = settings.IPv4 ? CheckState.Checked : CheckState.UnChecked };
        _ipv6 = new CheckBox { X = 52, Y = y, Text = "IPv6", Value = settings.IPv6 ? CheckState.Checked : CheckState.UnChecked };
        _portMapping = new CheckBox { X = 59, Y = y, Text = "Port _mapping", Value = settings.PortForwarding ? CheckState.Checked : CheckState.UnChecked };
        Add(_dht, _pex, _lsd, _utp, _ipv4, _ipv6, _portMapping);
        y++;
        Add(new Label { X = 0, Y = y, Width = labelWidth, Text = "Encr_yption:" });
        _encryption = new OptionSelector
        {
            X = labelWidth,
            Y = y,
            Labels = [.. EncryptionModes.Select(m => m.ToString().ToLowerInvariant())],
            Orientation = Orientation.Horizontal,
            Value = Math.Max(0, Array.IndexOf(EncryptionModes, settings.Encryption)),
        };
        Add(_encryption);
        y++;
        _blocklist = new CheckBox { X = 0, Y = y, Text = "_Blocklist", Value = settings.BlocklistEnabled ? CheckState.Checked : CheckState.UnChecked };
        Add(_blocklist, new Label { X = labelWidth, Y = y, Text = "_Refresh every" });
        _blocklistRefresh = new TextField { X = labelWidth + 14, Y = y, Width = 6, Text = settings.BlocklistRefreshHours.ToString(CultureInfo.InvariantCulture) };
        Add(_blocklistRefresh, new Label { X = labelWidth + 21, Y = y, Text = "hours (0: at start only)" });
        y++;
        _blocklistUrl = Field("Blocklist _URL:", settings.BlocklistUrl);
        _blocklistFile = Field("Blocklist f_ile:", settings.BlocklistFile);
        string folders = remote ? "Paths are the daemon's." : "Tab completes.";
        // Two lines: on a 24-line terminal all of it shows under the form, with the buttons.
        string[] note = [.. TorrentText.Wrap("Limits: KiB/s or 500K, 1.5M; empty: none. Programs: full paths. " +
            $"{folders} Port, peers, encryption: next start; the rest at once.", width - 4)]; // the border and the padding take 4 columns
        Add(new Label { X = 0, Y = y, Width = Dim.Fill(), Height = note.Length, Text = string.Join('\n', note) });
        AddErrorLine();

        foreach (TextField folder in remote ? [] : new[] { _downloadFolder, _watchFolder, _addedHook, _completedHook, _removedHook, _blocklistFile })
        {
            bool directoriesOnly = folder == _downloadFolder || folder == _watchFolder;
            folder.KeyDown += (_, key) =>
            {
                if (key != Key.Tab) return;
                string text = folder.Text ?? "";
                if (text.Trim().Length == 0) return;
                PathCompletionResult result = PathCompletion.Complete(text, directoriesOnly);
                if (!result.Changed(text)) return;
                folder.Text = result.Text;
                folder.MoveEnd();
                key.Handled = true;
            };
        }
    }

    /// <summary>The settings accepted.</summary>
    public EditableSettings? Settings { get; private set; }

    internal TextField PortField => _port;
    internal TextField DownloadFolderField => _downloadFolder;
    internal TextField WatchFolderField => _watchFolder;
    internal TextField DownloadLimitField => _down;
    internal TextField UploadLimitField => _up;
    internal TextField SlotsField => _slots;
    internal TextField ConnectionsField => _connections;
    internal TextField QueueDownloadsField => _queueDownloads;
    internal TextField QueueSeedsField => _queueSeeds;
    internal TextField QueueTotalField => _queueTotal;
    internal TextField QueueStalledField => _queueStalled;
    internal CheckBox DhtBox => _dht;
    internal CheckBox PexBox => _pex;
    internal CheckBox LsdBox => _lsd;
    internal CheckBox IPv4Box => _ipv4;
    internal CheckBox IPv6Box => _ipv6;
    internal CheckBox PortMappingBox => _portMapping;
    internal OptionSelector EncryptionChoice => _encryption;
    internal TextField AltDownloadLimitField => _altDown;
    internal TextField AltUploadLimitField => _altUp;
    internal CheckBox ScheduleBox => _schedule;
    internal TextField ScheduleFromField => _scheduleFrom;
    internal TextField ScheduleToField => _scheduleTo;
    internal TextField ScheduleDaysField => _scheduleDays;
    internal TextField CompletedHookField => _completedHook;
    internal CheckBox BlocklistBox => _blocklist;
    internal TextField BlocklistRefreshField => _blocklistRefresh;
    internal TextField BlocklistUrlField => _blocklistUrl;
    internal TextField BlocklistFileField => _blocklistFile;

    protected override string? Validate()
    {
        if (!TryInt(_port.Text, 0, 65535, out int port)) return "The listen port is a number from 0 to 65535.";
        string download = (_downloadFolder.Text ?? "").Trim();
        if (download.Length == 0) return "Choose a download folder.";
        if (!_remote && File.Exists(PathCompletion.Expand(download))) return $"{download} is a file, not a folder.";
        string watch = (_watchFolder.Text ?? "").Trim();
        if (!_remote && watch.Length > 0 && File.Exists(PathCompletion.Expand(watch))) return $"{watch} is a file, not a folder.";
        if (!Units.TryParseLimit(_down.Text, out long down, out string? error)) return "Download limit: " + error;
        if (!Units.TryParseLimit(_up.Text, out long up, out error)) return "Upload limit: " + error;
        if (!TryInt(_slots.Text, 1, 1000, out int slots)) return "Upload slots is a number from 1 to 1000.";
        if (!TryInt(_connections.Text, 1, 100_000, out int connections)) return "Max connections is a number from 1 to 100000.";
        if (!Units.TryParseLimit(_altDown.Text, out long altDown, out error)) return "Turtle download limit: " + error;
        if (!Units.TryParseLimit(_altUp.Text, out long altUp, out error)) return "Turtle upload limit: " + error;
        if (Units.ParseMinuteOfDay(_scheduleFrom.Text) is not { } from) return "The schedule's start is a time of day, HH:MM (00:00-23:59).";
        if (Units.ParseMinuteOfDay(_scheduleTo.Text) is not { } to) return "The schedule's end is a time of day, HH:MM (00:00-23:59).";
        if (Units.ParseDays(_scheduleDays.Text) is not { } days) return "The schedule's days: Mon-Fri, Sat,Sun, every day, or a list of day names.";
        string? hookError = null;
        string Hook(TextField field, string what)
        {
            string program = (field.Text ?? "").Trim();
            if (program.Length == 0) return "";
            if (!_remote) program = PathCompletion.Expand(program);
            if (!Path.IsPathFullyQualified(program)) hookError ??= $"Run when {what}: give the program's absolute path.";
            else if (!_remote && !File.Exists(program)) hookError ??= $"Run when {what}: {program} does not exist.";
            return program;
        }
        string added = Hook(_addedHook, "added"), completed = Hook(_completedHook, "done"), removed = Hook(_removedHook, "removed");
        if (hookError is not null) return hookError;
        if (!TryInt(_blocklistRefresh.Text, 0, 8760, out int refreshHours))
            return "The blocklist refresh is a number of hours from 0 (at start only) to 8760.";
        string blocklistUrl = (_blocklistUrl.Text ?? "").Trim();
        if (blocklistUrl.Length > 0 && !RTorrent.Engine.Settings.EngineSettings.IsHttpUrl(blocklistUrl))
            return $"The blocklist URL must start with http:// or https://, not '{blocklistUrl}'.";
        string blocklistFile = (_blocklistFile.Text ?? "").Trim();
        if (blocklistFile.Length > 0)
        {
            if (!_remote)
            {
                blocklistFile = Path.GetFullPath(PathCompletion.Expand(blocklistFile));
                if (!File.Exists(blocklistFile)) return $"There is no blocklist file {blocklistFile}.";
            }
            else if (!Path.IsPathFullyQualified(blocklistFile)) return "The blocklist file is a full path on the daemon's machine.";
        }
        bool blocklist = _blocklist.Value == CheckState.Checked;
        if (blocklist && blocklistUrl.Length == 0 && blocklistFile.Length == 0)
            return "Give a blocklist URL or file, or switch the blocklist off.";
        if (!TryOptionalInt(_queueDownloads.Text, 0, 100_000, out int? queueDownloads)) return "Queue downloads is empty (no limit) or a number from 0 to 100000.";
        if (!TryOptionalInt(_queueSeeds.Text, 0, 100_000, out int? queueSeeds)) return "Queue seeds is empty (no limit) or a number from 0 to 100000.";
        if (!TryOptionalInt(_queueTotal.Text, 0, 100_000, out int? queueTotal)) return "Queue all is empty (no limit) or a number from 0 to 100000.";
        if (!TryOptionalInt(_queueStalled.Text, 1, 525_600, out int? stalled)) return "Stalled minutes is empty (never) or a number from 1 to 525600.";
        if (_ipv4.Value != CheckState.Checked && _ipv6.Value != CheckState.Checked) return "IPv4 and IPv6 cannot both be off.";
        Settings = _original with
        {
            ListenPort = port,
            DownloadFolder = download,
            WatchFolder = watch,
            DownloadLimit = down,
            UploadLimit = up,
            UploadSlots = slots,
            MaxConnections = connections,
            MaxActiveDownloads = queueDownloads,
            MaxActiveSeeds = queueSeeds,
            MaxActiveTorrents = queueTotal,
            QueueStalledMinutes = stalled,
            Dht = _dht.Value == CheckState.Checked,
            Pex = _pex.Value == CheckState.Checked,
            Lsd = _lsd.Value == CheckState.Checked,
            IPv4 = _ipv4.Value == CheckState.Checked,
            IPv6 = _ipv6.Value == CheckState.Checked,
            PortForwarding = _portMapping.Value == CheckState.Checked,
            Utp = _utp.Value == CheckState.Checked,
            Encryption = _encryption.Value is int i && i >= 0 && i < EncryptionModes.Length ? EncryptionModes[i] : _original.Encryption,
            AltDownloadLimit = altDown,
            AltUploadLimit = altUp,
            AltSpeedScheduleEnabled = _schedule.Value == CheckState.Checked,
            AltSpeedScheduleBegin = from,
            AltSpeedScheduleEnd = to,
            AltSpeedScheduleDays = days,
            AddedHook = added,
            CompletedHook = completed,
            RemovedHook = removed,
            BlocklistEnabled = blocklist,
            BlocklistUrl = blocklistUrl,
            BlocklistFile = blocklistFile,
            BlocklistRefreshHours = refreshHours,
        };
        return null;
    }

    private static bool TryOptionalInt(string? text, int min, int max, out int? value)
    {
        value = null;
        if ((text ?? "").Trim().Length == 0) return true;
        if (!TryInt(text, min, max, out int v)) return false;
        value = v;
        return true;
    }

    private static bool TryInt(string? text, int min, int max, out int value) =>
        int.TryParse((text ?? "").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
}

/// <summary>
/// Asks which daemon a step is for, and (with a serious step such as stopping a daemon) whether to take it: a few
/// lines of text, the daemons to choose from when there are several (the one first meant is chosen already, so Enter
/// alone confirms it), Cancel and the accept button. Esc cancels.
/// </summary>
internal sealed class HostDialog : FormDialog
{
    private readonly IReadOnlyList<string> _hosts;
    private readonly OptionSelector? _choice;
    private readonly int _selected;

    public HostDialog(string title, string acceptText, string text, IReadOnlyList<string> hosts, int selected, int screenWidth)
        : base(title, acceptText)
    {
        _hosts = hosts;
        _selected = Math.Clamp(selected, 0, Math.Max(0, hosts.Count - 1));
        int width = Math.Clamp(screenWidth - 8, 40, 90);
        Width = width + 2;
        string[] lines = [.. TorrentText.Wrap(text, width - 2)]; // the border and the padding take 4 of width + 2
        Add(new Label { X = 0, Y = 0, Width = Dim.Fill(), Height = lines.Length, Text = string.Join('\n', lines) });
        if (hosts.Count > 1)
        {
            _choice = new OptionSelector
            {
                X = 2,
                Y = lines.Length + 1,
                Labels = [.. hosts],
                Orientation = Orientation.Vertical,
                Value = _selected,
            };
            Add(_choice);
        }
        AddErrorLine();
        // Enter confirms what is chosen: with a choice the arrows move among the daemons and Enter takes the one under
        // the cursor (an option selector selects its focused item on Enter), so the cursor starts on the chosen one;
        // without a choice the accept button starts focused rather than Cancel.
        Initialized += (_, _) =>
        {
            if (_choice is { } choice)
            {
                choice.SetFocus();
                choice.FocusedItem = _selected;
            }
            else
            {
                AcceptButton.SetFocus();
            }
        };
    }

    /// <summary>The daemon chosen (the only one when there is no choice).</summary>
    public string ChosenHost => _hosts.Count == 0 ? "" : _hosts[_choice?.Value is int i && i >= 0 && i < _hosts.Count ? i : _selected];

    internal OptionSelector? Choice => _choice;

    protected override string? Validate() => null;
}

/// <summary>
/// A read-only page of lines in a dialog (the help, the session log, the plugin list): arrows and PgUp/PgDn scroll,
/// Esc, Enter or q closes.
/// </summary>
internal sealed class TextDialog : Dialog
{
    private readonly LinesView _lines;

    public TextDialog(string title, IReadOnlyList<TextLine> lines, int screenWidth, int screenHeight, bool useColor, bool followTail = false)
    {
        Title = title;
        Width = Math.Max(40, screenWidth - 2);
        Height = Math.Max(10, screenHeight - 2);
        _lines = new LinesView { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(), UseColor = useColor, FollowTail = followTail };
        _lines.SetLines(lines);
        Add(_lines);
        AddButton(new Button { Text = "_Close" });
        _lines.KeyDown += (_, key) =>
        {
            if (KeyText.IsChar(key, 'q') || key == Key.F1 || KeyText.IsChar(key, '?'))
            {
                key.Handled = true;
                RequestStop();
            }
        };
    }

    internal LinesView Lines => _lines;

    /// <summary>Replaces the lines (for content that arrives after the dialog opened).</summary>
    public void SetLines(IReadOnlyList<TextLine> lines) => _lines.SetLines(lines);

    /// <summary>Gives the lines the keyboard, so arrows scroll at once.</summary>
    public void FocusLines() => _lines.SetFocus();
}
