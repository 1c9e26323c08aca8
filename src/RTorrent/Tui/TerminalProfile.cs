namespace RTorrent.Tui;

/// <summary>
/// What the terminal can show, decided once at start from the environment: whether our own drawings (sort marks,
/// sparklines) may use Unicode, and whether colour may be used at all. Meaning never rests on colour alone: every state
/// also has its own words or characters, so a vt100 over SSH shows everything a 256-colour terminal does.
/// </summary>
/// <param name="Unicode">Draw with Unicode block and arrow characters; otherwise plain ASCII.</param>
/// <param name="Color">Add colour to states and the piece map.</param>
public sealed record TerminalProfile(bool Unicode, bool Color)
{
    /// <summary>Plain ASCII without colour: what a vt100 gets.</summary>
    public static TerminalProfile Monochrome { get; } = new(false, false);

    /// <summary>Unicode and colour: a modern terminal emulator.</summary>
    public static TerminalProfile Rich { get; } = new(true, true);

    /// <summary>Reads TERM, NO_COLOR (https://no-color.org) and the locale from the process environment.</summary>
    public static TerminalProfile FromEnvironment() => From(
        Environment.GetEnvironmentVariable("TERM"),
        Environment.GetEnvironmentVariable("NO_COLOR"),
        Environment.GetEnvironmentVariable("LC_ALL") is { Length: > 0 } all ? all
            : Environment.GetEnvironmentVariable("LC_CTYPE") is { Length: > 0 } ctype ? ctype
            : Environment.GetEnvironmentVariable("LANG"));

    /// <summary>Decides from the values of TERM, NO_COLOR and the locale.</summary>
    public static TerminalProfile From(string? term, string? noColor, string? locale)
    {
        string t = (term ?? "").Trim().ToLowerInvariant();
        // Hardware-style terminals and the Linux console: no Unicode blocks, and (for the vt family) no colour.
        bool basicTerminal = t is "" or "dumb" or "linux" or "ansi" || t.StartsWith("vt", StringComparison.Ordinal);
        bool monochromeTerminal = t is "dumb" || t.StartsWith("vt", StringComparison.Ordinal) || t.EndsWith("-m", StringComparison.Ordinal)
            || t.Contains("-mono", StringComparison.Ordinal);
        string loc = (locale ?? "").ToUpperInvariant();
        bool utf8Locale = loc.Contains("UTF-8", StringComparison.Ordinal) || loc.Contains("UTF8", StringComparison.Ordinal);
        bool unicode = !basicTerminal && (utf8Locale || loc.Length == 0);
        bool color = string.IsNullOrEmpty(noColor) && !monochromeTerminal && t.Length > 0;
        return new TerminalProfile(unicode, color);
    }

    /// <summary>Marks the sorted column's header: ascending.</summary>
    public string SortAscending => Unicode ? "▲" : "^";

    /// <summary>Marks the sorted column's header: descending.</summary>
    public string SortDescending => Unicode ? "▼" : "v";

    /// <summary>Sparkline levels from nothing to full.</summary>
    public string SparkLevels => Unicode ? " ▁▂▃▄▅▆▇█" : " ._-=+*#@";
}
