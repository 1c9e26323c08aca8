using System.Globalization;
using System.Text.RegularExpressions;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// The smart episode filter's reading of a title (qBittorrent's "smart episode filter"): which episodes it holds, as
/// <c>S01E02</c> (from <c>S01E02</c>, <c>s1e2</c>, <c>1x02</c>, with ranges <c>S01E02-E03</c>, <c>S01E02E03</c> and
/// <c>S01E02-03</c>) or a date <c>2024-01-15</c> (from <c>2024.01.15</c>, <c>2024-01-15</c>, <c>15.01.2024</c>), and
/// whether it is a <c>PROPER</c> or <c>REPACK</c>. Numbers are normalised (<c>s1e2</c> and <c>S01E02</c> are one episode).
/// A title with none of these (a season pack, a film) has no episodes and is not held back by the filter.
/// </summary>
public sealed partial record EpisodeId(IReadOnlyList<string> Episodes, bool IsRepack)
{
    /// <summary>The keys the history stores: the episodes, with <c>-repack</c> added for a PROPER or REPACK.</summary>
    public IEnumerable<string> Keys => IsRepack ? Episodes.Select(e => e + "-repack") : Episodes;

    /// <summary>The episodes in a title, or null when it names none.</summary>
    public static EpisodeId? Parse(string title)
    {
        if (string.IsNullOrEmpty(title) || title.Length > 4096) return null;
        var episodes = new List<string>();
        var m = SeasonEpisode().Match(title);
        if (m.Success)
        {
            int season = Number(m.Groups["s"].Value);
            int first = Number(m.Groups["e"].Value);
            int last = m.Groups["e2"].Success ? Number(m.Groups["e2"].Value) : first;
            if (last < first || last - first > 50) last = first; // "S01E02-E01" or a typo: the first only
            for (int e = first; e <= last; e++) episodes.Add($"S{season:00}E{e:00}");
        }
        else if (Cross().Match(title) is { Success: true } x)
        {
            episodes.Add($"S{Number(x.Groups["s"].Value):00}E{Number(x.Groups["e"].Value):00}");
        }
        else if (YearFirst().Match(title) is { Success: true } y && Date(y.Groups["y"].Value, y.Groups["m"].Value, y.Groups["d"].Value) is { } d1)
        {
            episodes.Add(d1);
        }
        else if (YearLast().Match(title) is { Success: true } z && Date(z.Groups["y"].Value, z.Groups["m"].Value, z.Groups["d"].Value) is { } d2)
        {
            episodes.Add(d2);
        }
        if (episodes.Count == 0) return null;
        return new EpisodeId(episodes, Repack().IsMatch(title));
    }

    private static int Number(string digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static string? Date(string year, string month, string day)
    {
        int y = Number(year), mo = Number(month), d = Number(day);
        if (mo > 12 && d <= 12) (mo, d) = (d, mo); // 01.15.2024: month and day the other way round
        if (y is < 1900 or > 2200 || mo is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo)) return null;
        return $"{y:0000}-{mo:00}-{d:00}";
    }

    // Word boundaries are "not a letter or digit", as in qBittorrent: "Show.S01E02.720p", "Show - 1x02 -", "[S01E02]".
    [GeneratedRegex(@"(?<![A-Za-z0-9])[Ss](?<s>\d{1,4})[ ._]?[Ee](?<e>\d{1,4})(?:(?:-?[Ee]|-)(?<e2>\d{1,4}))?(?![0-9])", RegexOptions.CultureInvariant, 100)]
    private static partial Regex SeasonEpisode();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?<s>\d{1,2})x(?<e>\d{1,3})(?![A-Za-z0-9])", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, 100)]
    private static partial Regex Cross();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?<y>\d{4})[.\- ](?<m>\d{1,2})[.\- ](?<d>\d{1,2})(?![0-9])", RegexOptions.CultureInvariant, 100)]
    private static partial Regex YearFirst();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?<d>\d{1,2})[.\-](?<m>\d{1,2})[.\-](?<y>\d{4})(?![0-9])", RegexOptions.CultureInvariant, 100)]
    private static partial Regex YearLast();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:PROPER|REPACK|RERIP)(?![A-Za-z0-9])", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, 100)]
    private static partial Regex Repack();
}
