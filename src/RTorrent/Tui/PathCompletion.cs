namespace RTorrent.Tui;

/// <summary>What Tab completion made of a path.</summary>
/// <param name="Text">The text after completion (unchanged when nothing could be added).</param>
/// <param name="Candidates">The names that still match when the completion is ambiguous (folders end in '/').</param>
public sealed record PathCompletionResult(string Text, IReadOnlyList<string> Candidates)
{
    /// <summary>Completion added something to the text.</summary>
    public bool Changed(string before) => !string.Equals(Text, before, StringComparison.Ordinal);
}

/// <summary>
/// Shell-style Tab completion of file and folder names: completes as far as the matches agree and lists them when
/// they do not. <c>~/</c> stands for the home folder and is kept as typed.
/// </summary>
public static class PathCompletion
{
    /// <summary>Most names listed for an ambiguous completion.</summary>
    public const int MaxCandidates = 200;

    /// <summary>Completes <paramref name="text"/>.</summary>
    /// <param name="text">What the user typed.</param>
    /// <param name="directoriesOnly">Offer folders only (for a save folder).</param>
    /// <param name="preferredExtension">
    /// Offer only folders and files with this extension (e.g. ".torrent") when any such file matches; other files are
    /// offered only when none does.
    /// </param>
    /// <param name="currentDirectory">Where relative paths start; the process's current folder by default.</param>
    public static PathCompletionResult Complete(string text, bool directoriesOnly, string? preferredExtension = null,
        string? currentDirectory = null)
    {
        int slash = text.LastIndexOf('/');
        string folderText = slash >= 0 ? text[..(slash + 1)] : "";
        string prefix = slash >= 0 ? text[(slash + 1)..] : text;
        string folder = folderText.Length == 0 ? currentDirectory ?? Environment.CurrentDirectory : Expand(folderText, currentDirectory);

        List<(string Name, bool IsFolder)> entries;
        try
        {
            var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0, RecurseSubdirectories = false };
            entries = [];
            foreach (string path in Directory.EnumerateFileSystemEntries(folder, "*", options))
            {
                string name = Path.GetFileName(path);
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                // Hidden entries only when asked for, as shells do.
                if (name.StartsWith('.') && !prefix.StartsWith('.')) continue;
                bool isFolder = Directory.Exists(path);
                if (directoriesOnly && !isFolder) continue;
                entries.Add((name, isFolder));
                if (entries.Count > 10_000) break;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new PathCompletionResult(text, []);
        }

        if (preferredExtension is not null && !directoriesOnly &&
            entries.Any(e => !e.IsFolder && e.Name.EndsWith(preferredExtension, StringComparison.OrdinalIgnoreCase)))
        {
            entries.RemoveAll(e => !e.IsFolder && !e.Name.EndsWith(preferredExtension, StringComparison.OrdinalIgnoreCase));
        }

        if (entries.Count == 0) return new PathCompletionResult(text, []);
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        if (entries.Count == 1)
        {
            (string name, bool isFolder) = entries[0];
            return new PathCompletionResult(folderText + name + (isFolder ? "/" : ""), []);
        }

        string common = entries[0].Name;
        foreach ((string name, _) in entries)
        {
            int n = 0;
            while (n < common.Length && n < name.Length && common[n] == name[n]) n++;
            common = common[..n];
        }
        var candidates = entries.Take(MaxCandidates).Select(e => e.IsFolder ? e.Name + "/" : e.Name).ToList();
        return new PathCompletionResult(folderText + (common.Length > prefix.Length ? common : prefix), candidates);
    }

    /// <summary>The path <paramref name="text"/> names, with <c>~</c> expanded and relative paths resolved.</summary>
    public static string Expand(string text, string? currentDirectory = null)
    {
        string t = text.Trim();
        if (t == "~" || t.StartsWith("~/", StringComparison.Ordinal))
        {
            t = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + t[1..];
        }
        if (t.Length == 0) return currentDirectory ?? Environment.CurrentDirectory;
        return Path.IsPathRooted(t) ? t : Path.GetFullPath(Path.Combine(currentDirectory ?? Environment.CurrentDirectory, t));
    }
}
