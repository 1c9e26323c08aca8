using RTorrent.Engine.Metainfo;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui.Dialogs;

/// <summary>What the add dialog asks the backend to do.</summary>
/// <param name="Source">A .torrent path (expanded) or a magnet link.</param>
/// <param name="SaveDirectory">Where the files go (expanded).</param>
/// <param name="Start">Start at once.</param>
/// <param name="Picker">Chosen picker, or null for the default.</param>
/// <param name="Storage">Chosen storage, or null for the default.</param>
internal sealed record AddTorrentRequest(string Source, string SaveDirectory, bool Start, string? Picker, string? Storage);

/// <summary>
/// Adds a torrent: a .torrent path (Tab completes file names, as in a shell) or a magnet link, the save folder (Tab
/// completes folders), whether to start, and the piece picker and storage to use.
/// </summary>
/// <remarks>
/// Tab completes while there is something to complete; when the text is empty, a magnet link, or already complete,
/// Tab moves to the next field as usual, so the form can still be walked with Tab alone.
/// </remarks>
internal sealed class AddTorrentDialog : FormDialog
{
    private readonly TextField _source;
    private readonly TextField _saveTo;
    private readonly CheckBox _start;
    private readonly OptionSelector? _picker;
    private readonly OptionSelector? _storage;
    private readonly Label _candidates;
    private readonly IReadOnlyList<string> _pickers;
    private readonly IReadOnlyList<string> _storages;

    public AddTorrentDialog(string defaultSaveFolder, IReadOnlyList<string> pickers, IReadOnlyList<string> storages, int screenWidth)
        : base("Add a torrent", "_Add")
    {
        _pickers = pickers;
        _storages = storages;
        int width = Math.Clamp(screenWidth - 6, 40, 100);
        Width = width + 2;

        var sourceLabel = new Label { X = 0, Y = 0, Text = "Torrent file or magnet link (Tab completes file names):" };
        _source = new TextField { X = 0, Y = 1, Width = Dim.Fill() };
        var saveLabel = new Label { X = 0, Y = 3, Text = "Save to (Tab completes folders):" };
        _saveTo = new TextField { X = 0, Y = 4, Width = Dim.Fill(), Text = defaultSaveFolder };
        _start = new CheckBox { X = 0, Y = 6, Text = "_Start at once", Value = CheckState.Checked };
        Add(sourceLabel, _source, saveLabel, _saveTo, _start);

        int y = 8;
        _picker = AddChoice("Piece picker:", pickers, ref y);
        _storage = AddChoice("Storage:", storages, ref y);
        _candidates = new Label { X = 0, Y = y, Width = Dim.Fill(), Height = 2, Text = "" };
        Add(_candidates);
        AddErrorLine();

        _source.KeyDown += (_, key) =>
        {
            if (key == Key.Tab && Complete(_source, directoriesOnly: false)) key.Handled = true;
        };
        _saveTo.KeyDown += (_, key) =>
        {
            if (key == Key.Tab && Complete(_saveTo, directoriesOnly: true)) key.Handled = true;
        };
    }

    /// <summary>What to add, once <see cref="FormDialog.IsAccepted"/>.</summary>
    public AddTorrentRequest? Request { get; private set; }

    internal TextField SourceField => _source;
    internal TextField SaveField => _saveTo;
    internal CheckBox StartBox => _start;
    internal OptionSelector? PickerChoice => _picker;
    internal OptionSelector? StorageChoice => _storage;
    internal string CandidatesText => _candidates.Text ?? "";

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
            string path = PathCompletion.Expand(source);
            if (Directory.Exists(path)) return $"{source} is a folder; choose a .torrent file in it (Tab lists them).";
            if (!File.Exists(path)) return $"No such file: {source}";
            source = path;
        }
        if (saveTo.Length == 0) return "Choose a folder to save to.";
        string folder = PathCompletion.Expand(saveTo);
        if (File.Exists(folder)) return $"{saveTo} is a file, not a folder.";

        Request = new AddTorrentRequest(source, folder, _start.Value == CheckState.Checked, Chosen(_picker, _pickers), Chosen(_storage, _storages));
        return null;
    }

    private OptionSelector? AddChoice(string label, IReadOnlyList<string> names, ref int y)
    {
        if (names.Count == 0) return null;
        Add(new Label { X = 0, Y = y, Width = 14, Text = label });
        if (names.Count == 1)
        {
            // Nothing to choose: say what will be used instead of adding a stop for Tab.
            Add(new Label { X = 14, Y = y, Text = names[0] });
            y += 2;
            return null;
        }
        var selector = new OptionSelector
        {
            X = 14,
            Y = y,
            Labels = [.. names],
            Orientation = Orientation.Horizontal,
            Value = 0,
        };
        Add(selector);
        y += 2;
        return selector;
    }

    private static string? Chosen(OptionSelector? selector, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return null;
        int index = selector?.Value ?? 0;
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
}
