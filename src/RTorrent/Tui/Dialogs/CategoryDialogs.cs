using RTorrent.Engine.Client;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RTorrent.Tui.Dialogs;

/// <summary>g: the torrent's category (one, or none) and its tags (docs/CATEGORIES.md).</summary>
internal sealed class CategoryDialog : FormDialog
{
    private readonly TextField _category;
    private readonly TextField _tags;

    public CategoryDialog(string torrentName, string category, IReadOnlyList<string> tags, IReadOnlyList<string> categories)
        : base($"Category and tags: {TorrentText.Fit(torrentName, 40)}", "_Set")
    {
        Width = 72;
        string known = categories.Count == 0 ? "none yet" : TorrentText.Fit(string.Join(", ", categories), 56);
        Add(new Label { X = 0, Y = 0, Width = Dim.Fill(), Text = $"Categories: {known}" });
        Add(new Label { X = 0, Y = 1, Width = Dim.Fill(), Text = "A new name makes a category; the data moves to its folder." });
        Add(new Label { X = 0, Y = 3, Width = 11, Text = "_Category:" });
        _category = new TextField { X = 11, Y = 3, Width = Dim.Fill(), Text = category };
        Add(new Label { X = 0, Y = 4, Width = 11, Text = "_Tags:" });
        _tags = new TextField { X = 11, Y = 4, Width = Dim.Fill(), Text = string.Join(", ", tags) };
        Add(_category, _tags);
        Add(new Label { X = 0, Y = 5, Width = Dim.Fill(), Text = "Empty category: none. Tags are separated by commas." });
        AddErrorLine();
    }

    /// <summary>The category chosen, or null for none.</summary>
    public string? Category { get; private set; }

    /// <summary>The tags chosen.</summary>
    public IReadOnlyList<string> Tags { get; private set; } = [];

    internal TextField CategoryField => _category;
    internal TextField TagsField => _tags;

    protected override string? Validate()
    {
        try
        {
            string text = _category.Text?.Trim() ?? "";
            Category = text.Length == 0 ? null : CategoryNames.Normalize(text);
        }
        catch (ArgumentException e)
        {
            return "Category: " + e.Message;
        }
        try
        {
            Tags = TorrentLabels.Normalize((_tags.Text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }
        catch (ArgumentException e)
        {
            return "Tags: " + e.Message;
        }
        return null;
    }
}

/// <summary>G: add, change or remove a category: its name and folders (its seeding limits are in categories.json and the RPC).</summary>
internal sealed class CategoryEditDialog : FormDialog
{
    private readonly TextField _name;
    private readonly TextField _save;
    private readonly TextField _incomplete;
    private readonly CheckBox _remove;
    private readonly IReadOnlyList<Category> _known;

    public CategoryEditDialog(Category? current, IReadOnlyList<Category> known, bool remote) : base("Category", "_Save")
    {
        _known = known;
        Width = 76;
        string names = known.Count == 0 ? "none yet" : TorrentText.Fit(string.Join(", ", known.Select(c => c.Name)), 58);
        Add(new Label { X = 0, Y = 0, Width = Dim.Fill(), Text = $"Categories: {names}" });
        Add(new Label { X = 0, Y = 1, Width = Dim.Fill(),
            Text = remote ? "Folders are on the daemon's machine." : "A changed folder moves the category's torrents." });
        const int labelWidth = 20;
        Add(new Label { X = 0, Y = 3, Width = labelWidth, Text = "_Name:" });
        _name = new TextField { X = labelWidth, Y = 3, Width = Dim.Fill(), Text = current?.Name ?? "" };
        Add(new Label { X = 0, Y = 4, Width = labelWidth, Text = "_Folder:" });
        _save = new TextField { X = labelWidth, Y = 4, Width = Dim.Fill(), Text = current?.SavePath ?? "" };
        Add(new Label { X = 0, Y = 5, Width = labelWidth, Text = "_Incomplete folder:" });
        _incomplete = new TextField { X = labelWidth, Y = 5, Width = Dim.Fill(), Text = current?.IncompletePath ?? "" };
        _remove = new CheckBox { X = 0, Y = 7, Text = "_Remove this category (its torrents keep their data)", Value = CheckState.UnChecked };
        Add(_name, _save, _incomplete, _remove);
        Add(new Label { X = 0, Y = 8, Width = Dim.Fill(), Text = "Empty folder: <download folder>/<name>. Empty incomplete folder: none." });
        AddErrorLine();
    }

    /// <summary>The category to save (null when removing).</summary>
    public Category? Saved { get; private set; }

    /// <summary>The category to remove, or null.</summary>
    public string? ToRemove { get; private set; }

    internal TextField NameField => _name;
    internal TextField FolderField => _save;
    internal TextField IncompleteField => _incomplete;
    internal CheckBox RemoveBox => _remove;

    protected override string? Validate()
    {
        string name;
        try
        {
            name = CategoryNames.Normalize(_name.Text);
        }
        catch (ArgumentException e)
        {
            return "Name: " + e.Message;
        }
        if (_remove.Value == CheckState.Checked)
        {
            if (!_known.Any(c => c.Name == name)) return $"There is no category '{name}' to remove.";
            (ToRemove, Saved) = (name, null);
            return null;
        }
        // Limits set elsewhere (categories.json, the RPC) are kept.
        var old = _known.FirstOrDefault(c => c.Name == name) ?? new Category { Name = name };
        var c = old with
        {
            SavePath = string.IsNullOrWhiteSpace(_save.Text) ? null : _save.Text.Trim(),
            IncompletePath = string.IsNullOrWhiteSpace(_incomplete.Text) ? null : _incomplete.Text.Trim(),
        };
        try
        {
            Saved = c.Validated();
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        ToRemove = null;
        return null;
    }
}
