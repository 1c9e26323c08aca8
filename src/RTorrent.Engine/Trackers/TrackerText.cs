using System.Text;

namespace RTorrent.Engine.Trackers;

/// <summary>Makes text that came from a tracker safe to show: no control characters, bounded length.</summary>
internal static class TrackerText
{
    /// <summary>Longest tracker-supplied text we show.</summary>
    public const int MaxLength = 300;

    public static string Clean(ReadOnlySpan<byte> utf8) => Clean(Encoding.UTF8.GetString(utf8.Length > MaxLength * 4 ? utf8[..(MaxLength * 4)] : utf8));

    public static string Clean(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, MaxLength));
        bool space = false;
        foreach (char c in text)
        {
            if (sb.Length >= MaxLength) { sb.Append('…'); break; }
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                // Collapse runs of whitespace and control characters (HTML pages are full of them) into one space.
                if (!space && sb.Length > 0) sb.Append(' ');
                space = true;
                continue;
            }
            space = false;
            sb.Append(c);
        }
        return sb.ToString().TrimEnd();
    }
}
