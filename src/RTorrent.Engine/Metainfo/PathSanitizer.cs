using System.Text;

namespace RTorrent.Engine.Metainfo;

/// <summary>Which file-system rules <see cref="PathSanitizer"/> applies on top of the ones that always hold.</summary>
public sealed record PathSanitizerOptions
{
    /// <summary>Rules for the platform the process runs on (Windows rules on Windows only, as libtorrent does).</summary>
    public static PathSanitizerOptions Default { get; } = new();

    /// <summary>
    /// Also apply Windows' rules: names reserved for devices (<c>CON</c>, <c>NUL</c>, <c>COM1</c>, ... with or without
    /// an extension) get a leading '_', trailing dots and spaces are removed (Windows drops them silently, which would
    /// make two names collide), and <c>&lt;&gt;:"|?*</c> become '_'. Defaults to <see cref="OperatingSystem.IsWindows"/>:
    /// on POSIX these names are harmless, and keeping them matches libtorrent (the shared corpus' expected names).
    /// </summary>
    public bool WindowsRules { get; init; } = OperatingSystem.IsWindows();

    /// <summary>
    /// How many times in total a colliding name may be retried with a <c>.N</c> suffix before the torrent is refused
    /// (libtorrent's <c>max_duplicate_filenames</c>, 500). Bounds the work a hostile file list can cause.
    /// </summary>
    public int MaxDuplicateProbes { get; init; } = 500;
}

/// <summary>
/// Turns the path elements a torrent names into safe relative paths, so that no torrent can name a file outside its
/// download folder or make two files share a path. One instance sanitizes one torrent's file list: it remembers the
/// paths handed out and renames collisions (<c>name.1.ext</c>, like libtorrent), case-insensitively so the result
/// also holds on Windows and macOS file systems.
/// </summary>
/// <remarks>
/// Per element (<see cref="SanitizeElement(ReadOnlySpan{byte}, PathSanitizerOptions?)"/>): invalid UTF-8 becomes '_';
/// '/' and '\' are dropped (an element can never hold a separator, so absolute paths and drive paths become plain
/// names); control characters and Unicode direction overrides are dropped; an element that ends up empty, "." or ".."
/// becomes "_"; an element longer than <see cref="MaxElementBytes"/> UTF-8 bytes is cut, keeping a short extension.
/// </remarks>
public sealed class PathSanitizer
{
    /// <summary>The longest stem kept, in UTF-8 bytes (libtorrent's 240); with the extension a name stays within 255 bytes.</summary>
    public const int MaxElementBytes = 240;

    /// <summary>Longest extension (dot included) kept when a name is cut; longer ones are cut with the stem.</summary>
    public const int MaxKeptExtensionBytes = 15;

    /// <summary>The limit most file systems put on one name, in bytes.</summary>
    private const int MaxNameBytes = MaxElementBytes + MaxKeptExtensionBytes;

    private static readonly string[] ReservedWindowsNames =
    [
        "CON", "PRN", "AUX", "NUL",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
        "CONIN$", "CONOUT$",
    ];

    private readonly PathSanitizerOptions _options;

    // The folders handed out form a tree of nodes: a name is looked up under its parent's node, never as a whole path
    // string. A file 20,000 folders deep used to cost the sum of its 20,000 prefixes (quadratic in the depth); now
    // each element costs its own length. Names compare case-insensitively, so the result also holds on Windows and
    // macOS file systems. Node 0 is the top when there is no root.
    private readonly List<int> _parents = [-1];
    private readonly List<string?> _names = [null];
    private readonly Dictionary<string, int> _roots = new(StringComparer.OrdinalIgnoreCase);
    // (folder, name as spelled) -> the folder's node; a renamed folder is also found under its new name.
    private readonly Dictionary<(int Parent, string Name), int> _directories = new(NameComparer.Instance);
    // (folder, name) of every file handed out.
    private readonly HashSet<(int Parent, string Name)> _files = new(NameComparer.Instance);
    private readonly List<string> _changes = [];
    private int _probes;

    private sealed class NameComparer : IEqualityComparer<(int Parent, string Name)>
    {
        public static readonly NameComparer Instance = new();

        public bool Equals((int Parent, string Name) x, (int Parent, string Name) y) =>
            x.Parent == y.Parent && string.Equals(x.Name, y.Name, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode((int Parent, string Name) key) =>
            HashCode.Combine(key.Parent, StringComparer.OrdinalIgnoreCase.GetHashCode(key.Name));
    }

    /// <summary>Creates a sanitizer for one torrent's file list.</summary>
    public PathSanitizer(PathSanitizerOptions? options = null) => _options = options ?? PathSanitizerOptions.Default;

    /// <summary>What was changed, one sentence per path, for the user.</summary>
    public IReadOnlyList<string> Changes => _changes;

    /// <summary>
    /// Sanitizes one file's path and makes it unique among the paths this instance has handed out.
    /// </summary>
    /// <param name="root">Sanitized folder the path lives under (the torrent's name), or null for none.</param>
    /// <param name="elements">The path elements exactly as the torrent has them.</param>
    /// <returns>A '/'-separated relative path, never leaving its folder and never equal to an earlier one.</returns>
    /// <exception cref="TorrentFormatException">Too many colliding names (see <see cref="PathSanitizerOptions.MaxDuplicateProbes"/>).</exception>
    public string AddFile(string? root, IReadOnlyList<ReadOnlyMemory<byte>> elements)
    {
        int dir = RootNode(root);
        var parts = new string[elements.Count == 0 ? 1 : elements.Count];
        bool changed = elements.Count == 0;
        if (elements.Count == 0) parts[0] = "_";
        for (int i = 0; i < elements.Count; i++)
        {
            parts[i] = SanitizeElement(elements[i].Span, _options);
            changed |= !Encoding.UTF8.GetBytes(parts[i]).AsSpan().SequenceEqual(elements[i].Span);
        }

        for (int i = 0; i < parts.Length - 1; i++)
        {
            ParseWork.Add(parts[i].Length + 1);
            var spelled = (dir, parts[i]);
            if (!_directories.TryGetValue(spelled, out int node))
            {
                // A file already has the name: the folder gets another one (libtorrent does the same).
                var actual = _files.Contains(spelled) ? Unique(dir, parts[i]) : parts[i];
                node = _parents.Count;
                _parents.Add(dir);
                _names.Add(actual);
                _directories[spelled] = node;
                if (!string.Equals(actual, parts[i], StringComparison.OrdinalIgnoreCase)) _directories[(dir, actual)] = node;
            }
            dir = node;
        }

        var name = parts[^1];
        ParseWork.Add(name.Length + 1);
        if (_files.Contains((dir, name)) || _directories.ContainsKey((dir, name))) name = Unique(dir, name);
        _files.Add((dir, name));
        var path = PathOf(dir, name);

        if (changed || !string.Equals(path, Join(root, string.Join('/', parts)), StringComparison.Ordinal))
        {
            var original = string.Join('/', elements.Select(e => Encoding.UTF8.GetString(e.Span)));
            _changes.Add($"File path '{Printable(original)}' is stored as '{path}'.");
        }
        return path;
    }

    /// <summary>A name for <paramref name="name"/> that no file or folder in <paramref name="dir"/> has.</summary>
    private string Unique(int dir, string name)
    {
        SplitExtension(name, out var stem, out var ext);
        for (int n = 1; ; n++)
        {
            if (++_probes > _options.MaxDuplicateProbes)
                throw new TorrentFormatException(
                    $"Too many files with the same name (gave up after {_options.MaxDuplicateProbes} renames, like libtorrent).");
            var suffix = "." + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var candidate = FitName(stem, suffix + ext);
            if (!_files.Contains((dir, candidate)) && !_directories.ContainsKey((dir, candidate))) return candidate;
        }
    }

    private int RootNode(string? root)
    {
        if (root is null) return 0;
        if (_roots.TryGetValue(root, out int node)) return node;
        node = _parents.Count;
        _parents.Add(-1);
        _names.Add(root);
        _roots[root] = node;
        return node;
    }

    /// <summary>The '/'-separated path of <paramref name="name"/> in folder node <paramref name="dir"/>: one walk up the tree.</summary>
    private string PathOf(int dir, string name)
    {
        int length = name.Length, depth = 0;
        for (int n = dir; n >= 0 && _names[n] is { } folder; n = _parents[n])
        {
            length += folder.Length + 1;
            depth++;
        }
        ParseWork.Add(length);
        if (depth == 0) return name;
        return string.Create(length, (this, dir, name), static (span, state) =>
        {
            var (self, node, file) = state;
            int end = span.Length - file.Length;
            file.CopyTo(span[end..]);
            for (int n = node; n >= 0 && self._names[n] is { } folder; n = self._parents[n])
            {
                span[--end] = '/';
                end -= folder.Length;
                folder.CopyTo(span[end..]);
            }
        });
    }

    private static string Join(string? dir, string name) => dir is null ? name : dir + "/" + name;

    /// <summary>stem + tail, cutting the stem so the whole stays within the file-system name limit.</summary>
    private static string FitName(string stem, string tail)
    {
        int budget = MaxNameBytes - Encoding.UTF8.GetByteCount(tail);
        return CutToBytes(stem, Math.Max(1, budget)) + tail;
    }

    /// <summary>Sanitizes one path element given as text (see the class remarks for the rules).</summary>
    public static string SanitizeElement(string element, PathSanitizerOptions? options = null) =>
        SanitizeElement(Encoding.UTF8.GetBytes(element), options);

    /// <summary>Sanitizes one path element given as the torrent's raw bytes (see the class remarks for the rules).</summary>
    public static string SanitizeElement(ReadOnlySpan<byte> element, PathSanitizerOptions? options = null)
    {
        options ??= PathSanitizerOptions.Default;
        if (IsPlainAscii(element, options.WindowsRules)) return Encoding.ASCII.GetString(element);
        var sb = new StringBuilder(element.Length);
        while (!element.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(element, out var rune, out int consumed);
            element = element[consumed..];
            if (status != System.Buffers.OperationStatus.Done)
            {
                sb.Append('_');
                continue;
            }
            int c = rune.Value;
            if (c is '/' or '\\') continue;
            if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) continue;
            // Direction overrides and isolates make "txt.exe" display as "exe.txt"; a file name never needs them.
            if (c is >= 0x202A and <= 0x202E or >= 0x2066 and <= 0x2069) continue;
            if (options.WindowsRules && c is '<' or '>' or ':' or '"' or '|' or '?' or '*')
            {
                sb.Append('_');
                continue;
            }
            if (rune.IsBmp) sb.Append((char)rune.Value);
            else sb.Append(rune.ToString());
        }

        var name = sb.ToString();
        if (options.WindowsRules)
        {
            name = name.TrimEnd('.', ' ');
            if (IsReservedOnWindows(name)) name = "_" + name;
        }
        if (name is "" or "." or "..") return "_";
        if (Encoding.UTF8.GetByteCount(name) > MaxElementBytes)
        {
            SplitExtension(name, out var stem, out var ext);
            if (Encoding.UTF8.GetByteCount(ext) > MaxKeptExtensionBytes)
            {
                stem = name;
                ext = "";
            }
            name = CutToBytes(stem, MaxElementBytes) + ext;
            if (options.WindowsRules) name = name.TrimEnd('.', ' ');
            if (name.Length == 0) name = "_";
        }
        return name;
    }

    /// <summary>
    /// The common case, answered without decoding: printable ASCII without separators, not "." or "..", short
    /// enough, and (with Windows rules) without Windows' special characters, trailing dots or spaces, or a device name.
    /// </summary>
    private static bool IsPlainAscii(ReadOnlySpan<byte> element, bool windowsRules)
    {
        if (element.IsEmpty || element.Length > MaxElementBytes) return false;
        if (element.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) >= 0 || element.IndexOfAny((byte)'/', (byte)'\\') >= 0) return false;
        if (element.SequenceEqual("."u8) || element.SequenceEqual(".."u8)) return false;
        if (!windowsRules) return true;
        if (element.IndexOfAny("<>:\"|?*"u8) >= 0 || element[^1] is (byte)'.' or (byte)' ') return false;
        return !IsReservedOnWindows(Encoding.ASCII.GetString(element));
    }

    /// <summary>Whether Windows reserves <paramref name="name"/> for a device (also with an extension: "CON.txt").</summary>
    public static bool IsReservedOnWindows(string name)
    {
        int dot = name.IndexOf('.');
        var stem = (dot < 0 ? name : name[..dot]).TrimEnd(' ');
        foreach (var r in ReservedWindowsNames)
            if (string.Equals(stem, r, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// Combines a download folder and a relative path from a torrent and checks that the result lies inside the folder.
    /// Storage code calls this as a last line of defence before touching the disk.
    /// </summary>
    /// <exception cref="ArgumentException">The path would leave the folder.</exception>
    public static string ResolveInside(string downloadDirectory, string relativePath)
    {
        var root = Path.GetFullPath(downloadDirectory);
        var full = Path.GetFullPath(Path.Combine(root, relativePath));
        var rootWithSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        if (Path.IsPathRooted(relativePath) || !full.StartsWith(rootWithSeparator, comparison))
            throw new ArgumentException($"The path '{relativePath}' leaves the folder '{root}'.", nameof(relativePath));
        return full;
    }

    /// <summary>Splits "name.ext" into "name" and ".ext"; a leading dot ("".hidden") is not an extension.</summary>
    private static void SplitExtension(string name, out string stem, out string ext)
    {
        int dot = name.LastIndexOf('.');
        if (dot <= 0)
        {
            stem = name;
            ext = "";
            return;
        }
        stem = name[..dot];
        ext = name[dot..];
    }

    /// <summary>The longest prefix of <paramref name="text"/> whose UTF-8 form fits in <paramref name="maxBytes"/>, whole characters only.</summary>
    private static string CutToBytes(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        int bytes = 0, end = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > maxBytes) break;
            bytes += rune.Utf8SequenceLength;
            end += rune.Utf16SequenceLength;
        }
        return text[..end];
    }

    private static string Printable(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s) sb.Append(char.IsControl(ch) ? '?' : ch);
        return sb.ToString();
    }
}
