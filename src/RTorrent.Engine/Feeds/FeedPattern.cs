using System.Text;
using System.Text.RegularExpressions;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// A rule's include or exclude pattern, matched against an item's title without regard to case. Two syntaxes, as in
/// qBittorrent:
/// <list type="bullet">
/// <item><b>wildcards</b> (the default): <c>|</c> separates alternatives; an alternative is words separated by spaces,
/// and matches when every word is found in the title; in a word <c>*</c> is any text and <c>?</c> one character.
/// <c>show name 1080p|show name 720p</c> takes either quality.</item>
/// <item><b>regex</b> (<c>"useRegex": true</c>): a .NET regular expression, found anywhere in the title, with a
/// 100 ms match limit (a pattern that runs longer counts as not matching).</item>
/// </list>
/// An empty pattern matches every title (include) or none (exclude).
/// </summary>
public sealed class FeedPattern
{
    private static readonly TimeSpan MatchLimit = TimeSpan.FromMilliseconds(100);
    private readonly Regex[][] _alternatives;

    private FeedPattern(string text, Regex[][] alternatives)
    {
        Text = text;
        _alternatives = alternatives;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>Whether the pattern is empty.</summary>
    public bool IsEmpty => _alternatives.Length == 0;

    /// <summary>Parses a pattern.</summary>
    /// <exception cref="ArgumentException">A regular expression that does not compile; the message says why.</exception>
    public static FeedPattern Parse(string? text, bool regex)
    {
        text = text?.Trim() ?? "";
        if (text.Length == 0) return new FeedPattern("", []);
        const RegexOptions options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
        if (regex)
        {
            try
            {
                return new FeedPattern(text, [[new Regex(text, options, MatchLimit)]]);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"'{text}' is not a valid regular expression: {e.Message}", e);
            }
        }
        var alternatives = text.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(alt => alt.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(word => new Regex(Wildcard(word), options, MatchLimit)).ToArray())
            .Where(words => words.Length > 0)
            .ToArray();
        return new FeedPattern(text, alternatives);
    }

    /// <summary>Whether the title matches (false for an empty pattern).</summary>
    public bool Matches(string title)
    {
        foreach (var words in _alternatives)
        {
            bool all = true;
            foreach (var word in words)
            {
                try
                {
                    if (!word.IsMatch(title)) { all = false; break; }
                }
                catch (RegexMatchTimeoutException)
                {
                    all = false;
                    break;
                }
            }
            if (all) return true;
        }
        return false;
    }

    private static string Wildcard(string word)
    {
        var b = new StringBuilder();
        foreach (var c in word)
        {
            b.Append(c switch
            {
                '*' => ".*",
                '?' => ".",
                _ => Regex.Escape(c.ToString()),
            });
        }
        return b.ToString();
    }
}
