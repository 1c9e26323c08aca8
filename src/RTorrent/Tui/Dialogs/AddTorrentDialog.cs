using RTorrent.Engine.Metainfo;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui.Dialogs;

/// <summary>What the add dialog asks the backend to do.</summary>
/// <param name="Source">A .torrent path (expanded) or a magnet link.</param>
/// <param name="SaveDirectory">
/// Where the files go: expanded for a local session; for a daemon, as typed (a path on its machine), empty for its
/// download folder.
/// </param>
/// <param name="Start">Start at once.</param>
/// <param name="Picker">Chosen picker, or null for the default.</param>
/// <param name="Storage">Chosen storage, or null for the default.</param>
/// <param name="Host">The daemon chosen when there are several, otherwise null.</param>
internal sealed record AddTorrentRequest(string Source, string SaveDirectory, bool Start, string? Picker, string? Storage, string? Host = null);

/// <summary>One daemon the add dialog can add to, with what its torrents can use.</summary>
internal sealed record AddDialogHost(string Name, IReadOnlyList<string> Pickers, IReadOnlyList<string> Storages);

/// <summary>How the add dialog starts.</summary>
/// <param name="SaveFolder">What the save field starts with.</param>
/// <param name="Hosts">Where it can add: one entry for a single session (no choice is shown), several to choose from.</param>
/// <param name="HostIndex">The host chosen at first.</param>
/// <param name="RemoteSave">
/// The save folder is on a daemon's machine, not the interface's: no Tab completion and no local checks; it must be a
/// full path, or empty for the daemon's download folder (named by <paramref name="RemoteDefault"/> when known).
/// </param>
/// <param name="RemoteDefault">The daemon's download folder, for the field's hint; null when not known.</param>
internal sealed record AddDialogSetup(string SaveFolder, IReadOnlyList<AddDialogHost> Hosts, int HostIndex = 0, bool RemoteSave = false,
    string? RemoteDefault = null);

/// <summary>
/// Adds a torrent: a .torrent path (Tab completes file names, as in a shell) or a magnet link, the save folder (Tab
/// completes folders), whether to start, and the piece picker and storage to use. With several daemons it also asks
/// which one gets the torrent (the pickers and storages shown are that daemon's).
/// </summary>
/// <remarks>
/// Tab completes while there is something to complete; when the text is empty, a magnet link, or already complete,
/// Tab moves to the next field as usual, so the form can still be walked with Tab alone. Attached to a daemon, the
/// .torrent file is still one on the interface's machine (its contents are sent), so its completion stays; the save
/// folder is on the daemon's machine, which the interface cannot list, so that field does not complete.
/// </remarks>
internal sealed class AddTorrentDialog : FormDialog
{
    private const int ChoiceLabelWidth = 14;

    private readonly TextField _source;
    private readonly TextField _saveTo;
    private readonly CheckBox _start;
    private readonly OptionSelector? _host;
    private readonly ChoiceRow? _picker;
    private readonly ChoiceRow? _storage;
    private readonly Label _candidates;
    private readonly AddDialogSetup _setup;

    public AddTorrentDialog(string defaultSaveFolder, IReadOnlyList<string> pickers, IReadOnlyList<string> storages, int screenWidth)
        : this(new AddDialogSetup(defaultSaveFolder, [new AddDialogHost("", pickers, storages)]), screenWidth)
    {
    }

    public AddTorrentDialog(AddDialogSetup setup, int screenWidth)
        : base("Add a torrent", "_Add")
    {
        _setup = setup;
        int width = Math.Clamp(screenWidth - 6, 40, 100);
        Width = width + 2;
        int hostIndex = Math.Clamp(setup.HostIndex, 0, setup.Hosts.Count - 1);
        AddDialogHost host = setup.Hosts[hostIndex];

        var sourceLabel = new Label { X = 0, Y = 0, Text = "Torrent file or magnet link (Tab completes file names):" };
        _source = new TextField { X = 0, Y = 1, Width = Dim.Fill() };
        Add(sourceLabel, _source);
        int y = 3;
        if (setup.Hosts.Count > 1)
        {
            Add(new Label { X = 0, Y = y, Width = ChoiceLabelWidth, Text = "_Daemon:" });
            _host = new OptionSelector
            {
                X = ChoiceLabelWidth,
                Y = y,
                Labels = [.. setup.Hosts.Select(h => h.Name)],
                Orientation = Orientation.Horizontal,
                Value = hostIndex,
            };
            // Enter on a selector selects the item under its cursor: start the cursor on the chosen daemon.
            _host.Initialized += (_, _) => _host.FocusedItem = hostIndex;
            Add(_host);
            y += 2;
        }
        string saveText = !setup.RemoteSave ? "Save to (Tab completes folders):"
            : $"Save to, a folder on {(setup.Hosts.Count > 1 ? "that" : "the")} daemon's machine (empty: " +
              $"{setup.RemoteDefault ?? "its download folder"}):";
        var saveLabel = new Label { X = 0, Y = y, Width = Dim.Fill(), Text = TorrentText.Fit(saveText, width) };
        _saveTo = new TextField { X = 0, Y = y + 1, Width = Dim.Fill(), Text = setup.SaveFolder };
        _start = new CheckBox { X = 0, Y = y + 3, Text = "_Start at once", Value = CheckState.Checked };
        Add(saveLabel, _saveTo, _start);

        y += 5;
        bool several = setup.Hosts.Count > 1;
        _picker = AddChoice("Piece picker:", host.Pickers, several, ref y);
        _storage = AddChoice("Storage:", host.Storages, several, ref y);
        _candidates = new Label { X = 0, Y = y, Width = Dim.Fill(), Height = 2, Text = "" };
        Add(_candidates);
        AddErrorLine();

        if (_host is not null)
        {
            _host.ValueChanged += (_, _) =>
            {
                AddDialogHost chosen = ChosenHost;
                _picker?.Show(chosen.Pickers);
                _storage?.Show(chosen.Storages);
            };
        }
        _source.KeyDown += (_, key) =>
        {
            if (key == Key.Tab && Complete(_source, directoriesOnly: false)) key.Handled = true;
        };
        _saveTo.KeyDown += (_, key) =>
        {
            // A daemon's folders cannot be listed from here: Tab just moves on.
            if (key == Key.Tab && !setup.RemoteSave && Complete(_saveTo, directoriesOnly: true)) key.Handled = true;
        };
    }

    /// <summary>What to add, once <see cref="FormDialog.IsAccepted"/>.</summary>
    public AddTorrentRequest? Request { get; private set; }

    internal TextField SourceField => _source;
    internal TextField SaveField => _saveTo;
    internal CheckBox StartBox => _start;
    internal OptionSelector? HostChoice => _host;
    internal OptionSelector? PickerChoice => _picker?.Selector;
    internal OptionSelector? StorageChoice => _storage?.Selector;
    internal string CandidatesText => _candidates.Text ?? "";

    private AddDialogHost ChosenHost =>
        _setup.Hosts[_host?.Value is int i && i >= 0 && i < _setup.Hosts.Count ? i : Math.Clamp(_setup.HostIndex, 0, _setup.Hosts.Count - 1)];

    protected override string? Validate()
    {
        string source = (_source.Text ?? "").Trim();
        string saveTo = (_saveTo.Text ?? "").Trim();
        if (source.Length == 0) return "Type the path of a .torrent file or paste a magnet link.";
        if (MagnetLink.LooksLikeMagnet(source))
        {
            if (!MagnetLink.TryParse(source, out _, out string? magnetError)) return "Not a usable magnet link: " + magnetError;
        }
        else
        {
            // A .torrent file is always read on this machine, attached to a daemon or not.
            string path = PathCompletion.Expand(source);
            if (Directory.Exists(path)) return $"{source} is a folder; choose a .torrent file in it (Tab lists them).";
            if (!File.Exists(path)) return $"No such file: {source}";
            source = path;
        }
        string folder;
        if (_setup.RemoteSave)
        {
            // The daemon's machine: nothing to check here, and '~' or a relative path would mean the daemon's home or
            // working folder, which the user cannot see from here.
            if (saveTo.Length > 0 && !saveTo.StartsWith('/') && !Path.IsPathRooted(saveTo))
            {
                return "Give the full path of a folder on the daemon's machine, or leave it empty for its download folder.";
            }
            folder = saveTo;
        }
        else
        {
            if (saveTo.Length == 0) return "Choose a folder to save to.";
            folder = PathCompletion.Expand(saveTo);
            if (File.Exists(folder)) return $"{saveTo} is a file, not a folder.";
        }

        AddDialogHost host = ChosenHost;
        Request = new AddTorrentRequest(source, folder, _start.Value == CheckState.Checked, Chosen(_picker, host.Pickers),
            Chosen(_storage, host.Storages), _setup.Hosts.Count > 1 ? host.Name : null);
        return null;
    }

    private ChoiceRow? AddChoice(string label, IReadOnlyList<string> names, bool several, ref int y)
    {
        // With one session a list without names gets no row; with several daemons every row stays, since another
        // daemon may have names.
        if (names.Count == 0 && !several) return null;
        var row = new ChoiceRow(this, label, y);
        row.Show(names);
        y += 2;
        return row;
    }

    private static string? Chosen(ChoiceRow? row, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return null;
        int index = row?.Selector?.Value ?? 0;
        return index >= 0 && index < names.Count ? names[index] : names[0];
    }

    private bool Complete(TextField field, bool directoriesOnly)
    {
        string text = field.Text ?? "";
        if (text.Trim().Length == 0 || MagnetLink.LooksLikeMagnet(text)) return false;
        PathCompletionResult result = PathCompletion.Complete(text, directoriesOnly, directoriesOnly ? null : ".torrent");
        if (result.Changed(text))
        {
            field.Text = result.Text;
            field.MoveEnd();
            _candidates.Text = result.Candidates.Count > 1 ? Candidates(result.Candidates) : "";
            return true;
        }
        if (result.Candidates.Count > 1)
        {
            _candidates.Text = Candidates(result.Candidates);
            return true;
        }
        _candidates.Text = "";
        return false;
    }

    private static string Candidates(IReadOnlyList<string> names) =>
        $"{names.Count} matches: " + string.Join("  ", names.Take(30)) + (names.Count > 30 ? "  ..." : "");

    /// <summary>
    /// A labelled choice (pickers or storages): a selector when there is something to choose, otherwise the one name
    /// that will be used (or "default"), so that Tab does not stop on a choice of one.
    /// </summary>
    private sealed class ChoiceRow
    {
        private readonly AddTorrentDialog _dialog;
        private readonly Label _single;
        private readonly int _y;

        public ChoiceRow(AddTorrentDialog dialog, string label, int y)
        {
            _dialog = dialog;
            _y = y;
            dialog.Add(new Label { X = 0, Y = y, Width = ChoiceLabelWidth, Text = label });
            _single = new Label { X = ChoiceLabelWidth, Y = y, Text = "" };
            dialog.Add(_single);
        }

        /// <summary>The selector, while there is a choice.</summary>
        public OptionSelector? Selector { get; private set; }

        public void Show(IReadOnlyList<string> names)
        {
            if (Selector is { } old)
            {
                // A new selector for the new names: the old one's items were laid out for other labels.
                Selector = null;
                _dialog.Remove(old);
                old.Dispose();
            }
            if (names.Count > 1)
            {
                _single.Visible = false;
                Selector = new OptionSelector
                {
                    X = ChoiceLabelWidth,
                    Y = _y,
                    Labels = [.. names],
                    Orientation = Orientation.Horizontal,
                    Value = 0,
                };
                _dialog.Add(Selector);
            }
            else
            {
                _single.Text = names.Count == 1 ? names[0] : "default";
                _single.Visible = true;
            }
        }
    }
}
