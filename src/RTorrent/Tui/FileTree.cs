using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Tui;

/// <summary>One visible line of the file tree: a folder or a file.</summary>
/// <param name="Path">The folder's or file's path ('/'-separated), unique in the torrent.</param>
/// <param name="Name">The last part of the path.</param>
/// <param name="Depth">Nesting level, 0 at the top.</param>
/// <param name="IsFolder">A folder (holds <see cref="FileIndexes"/> of every file below it).</param>
/// <param name="Expanded">For folders: its contents are shown.</param>
/// <param name="Length">Bytes (of every file below, for a folder).</param>
/// <param name="Done">Bytes verified.</param>
/// <param name="Priority">The priority, or null for a folder whose files differ.</param>
/// <param name="FileIndexes">The files this line stands for.</param>
public sealed record FileTreeRow(string Path, string Name, int Depth, bool IsFolder, bool Expanded, long Length, long Done,
    Priority? Priority, IReadOnlyList<int> FileIndexes)
{
    /// <summary>0..1 of the bytes verified.</summary>
    public double Progress => Length <= 0 ? 1 : (double)Done / Length;
}

/// <summary>
/// A torrent's files as a tree of folders, flattened into the lines currently visible. Which folders are open is kept
/// across snapshot updates (by path), so the tree does not snap shut on every refresh.
/// </summary>
public sealed class FileTree
{
    /// <summary>Above this many files, folders start closed so the first screen stays short.</summary>
    public const int ExpandAllLimit = 200;

    private readonly HashSet<string> _expanded = new(StringComparer.Ordinal);
    private readonly HashSet<string> _collapsed = new(StringComparer.Ordinal);
    private IReadOnlyList<FileSnapshot> _files = [];
    private FileTreeRow[] _rows = [];

    /// <summary>The visible lines.</summary>
    public IReadOnlyList<FileTreeRow> Rows => _rows;

    /// <summary>Takes the torrent's files (again) and rebuilds the visible lines.</summary>
    public void Update(IReadOnlyList<FileSnapshot> files)
    {
        _files = files;
        Rebuild();
    }

    /// <summary>Opens or closes the folder at <paramref name="row"/>; returns false for a file.</summary>
    public bool Toggle(int row) => SetExpanded(row, !(RowAt(row)?.Expanded ?? true));

    /// <summary>Opens (true) or closes a folder line; returns false when the line is not a folder or nothing changed.</summary>
    public bool SetExpanded(int row, bool expanded)
    {
        if (RowAt(row) is not { IsFolder: true } line || line.Expanded == expanded) return false;
        if (expanded)
        {
            _expanded.Add(line.Path);
            _collapsed.Remove(line.Path);
        }
        else
        {
            _collapsed.Add(line.Path);
            _expanded.Remove(line.Path);
        }
        Rebuild();
        return true;
    }

    /// <summary>The line of the folder that holds <paramref name="row"/>, or -1 at the top level.</summary>
    public int ParentOf(int row)
    {
        if (RowAt(row) is not { } line) return -1;
        for (int i = row - 1; i >= 0; i--)
        {
            if (_rows[i].Depth < line.Depth) return i;
        }
        return -1;
    }

    /// <summary>The line showing <paramref name="path"/>, or -1.</summary>
    public int IndexOf(string? path) => path is null ? -1 : Array.FindIndex(_rows, r => r.Path == path);

    /// <summary>The line at <paramref name="row"/>, or null outside the list.</summary>
    public FileTreeRow? RowAt(int row) => row >= 0 && row < _rows.Length ? _rows[row] : null;

    /// <summary>One step up the ladder skip, low, normal, high (a mixed folder counts as normal).</summary>
    public static Priority Raise(Priority? p) => (p ?? Priority.Normal) switch
    {
        Priority.Skip => Priority.Low,
        Priority.Low => Priority.Normal,
        _ => Priority.High,
    };

    /// <summary>One step down the ladder high, normal, low, skip (a mixed folder counts as normal).</summary>
    public static Priority Lower(Priority? p) => (p ?? Priority.Normal) switch
    {
        Priority.High => Priority.Normal,
        Priority.Normal => Priority.Low,
        _ => Priority.Skip,
    };

    /// <summary>Download or not: skipped lines become normal, everything else is skipped.</summary>
    public static Priority ToggleSkip(Priority? p) => p == Priority.Skip ? Priority.Normal : Priority.Skip;

    /// <summary>The priority in words.</summary>
    public static string PriorityName(Priority? p) => p switch
    {
        null => "mixed",
        Priority.Skip => "skip",
        Priority.Low => "low",
        Priority.Normal => "normal",
        Priority.High => "high",
        { } other => ((int)other).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private void Rebuild()
    {
        var root = new Folder("", "", -1);
        foreach (FileSnapshot f in _files)
        {
            string[] parts = f.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) parts = [f.Path];
            Folder folder = root;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                string path = string.Join('/', parts, 0, i + 1);
                if (!folder.Folders.TryGetValue(parts[i], out Folder? child))
                {
                    child = new Folder(path, parts[i], folder.Depth + 1);
                    folder.Folders.Add(parts[i], child);
                }
                folder = child;
            }
            folder.Files.Add(f);
        }
        bool openByDefault = _files.Count <= ExpandAllLimit;
        var rows = new List<FileTreeRow>(_files.Count);
        Emit(root, rows, openByDefault);
        _rows = [.. rows];
    }

    private void Emit(Folder folder, List<FileTreeRow> rows, bool openByDefault)
    {
        foreach (Folder child in folder.Folders.Values.OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase))
        {
            var indexes = new List<int>();
            long length = 0, done = 0;
            Priority? priority = null;
            bool first = true, mixed = false;
            foreach (FileSnapshot f in child.AllFiles())
            {
                indexes.Add(f.Index);
                length += f.Length;
                done += f.Done;
                if (first) priority = f.Priority;
                else if (priority != f.Priority) mixed = true;
                first = false;
            }
            bool open = _expanded.Contains(child.Path) || (openByDefault && !_collapsed.Contains(child.Path));
            rows.Add(new FileTreeRow(child.Path, child.Name, child.Depth, true, open, length, done, mixed ? null : priority, indexes));
            if (open) Emit(child, rows, openByDefault);
        }
        foreach (FileSnapshot f in folder.Files.OrderBy(f => f.Path, StringComparer.OrdinalIgnoreCase))
        {
            string name = f.Path.Contains('/') ? f.Path[(f.Path.LastIndexOf('/') + 1)..] : f.Path;
            name += Decoration(f);
            rows.Add(new FileTreeRow(f.Path, name, folder.Depth + 1, false, false, f.Length, f.Done, f.Priority, [f.Index]));
        }
    }

    /// <summary>A symlink's target (or that it is refused) and the executable and hidden attributes, after the name.</summary>
    public static string Decoration(FileSnapshot f)
    {
        string link = f.SymlinkTarget is { } target ? " -> " + target : f.Attributes.Contains('l') ? " -> (link refused)" : "";
        string flags = (f.Attributes.Contains('x') ? "x" : "") + (f.Attributes.Contains('h') ? "h" : "");
        return link + (flags.Length > 0 ? $" [{flags}]" : "");
    }

    private sealed class Folder(string path, string name, int depth)
    {
        public string Path { get; } = path;
        public string Name { get; } = name;
        public int Depth { get; } = depth;
        public Dictionary<string, Folder> Folders { get; } = new(StringComparer.Ordinal);
        public List<FileSnapshot> Files { get; } = [];

        public IEnumerable<FileSnapshot> AllFiles()
        {
            foreach (FileSnapshot f in Files) yield return f;
            foreach (Folder child in Folders.Values)
            {
                foreach (FileSnapshot f in child.AllFiles()) yield return f;
            }
        }
    }
}
