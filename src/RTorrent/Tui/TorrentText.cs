using System.Globalization;
using RTorrent.Engine.Client;

namespace RTorrent.Tui;

/// <summary>How a torrent's fields read on screen. Plain ASCII so that vt100 and the Linux console show the same.</summary>
public static class TorrentText
{
    /// <summary>
    /// The state in words: downloading, seeding, paused, checking 45%, queued dl, queued seed, metadata, or
    /// "error: reason"; "[F] " before it for a forced torrent (started now, beside the queue).
    /// A complete torrent that is stopped reads "paused" like any other; its 100% says the rest.
    /// </summary>
    public static string State(TorrentSnapshot t) => t.IsForced && t.State is not (TorrentState.Stopped or TorrentState.Error)
        ? "[F] " + PlainState(t) : PlainState(t);

    /// <summary>
    /// The state without the forced mark. A queued torrent says which slot it waits for: "queued dl" (a download) or
    /// "queued seed" (complete, waits to seed), as Transmission's "Queued for download" and "Queued for seeding".
    /// </summary>
    private static string PlainState(TorrentSnapshot t) => t.State switch
    {
        TorrentState.Downloading => "downloading",
        TorrentState.Seeding => "seeding",
        TorrentState.Stopped => "paused",
        TorrentState.Queued => t.TotalSize > 0 && t.Done >= t.Size ? "queued seed" : "queued dl", // all skipped: nothing to get
        TorrentState.Checking => "checking " + Percent(t.Progress),
        TorrentState.FetchingMetadata => "metadata",
        TorrentState.Error => string.IsNullOrWhiteSpace(t.Error) ? "error" : "error: " + OneLine(t.Error),
        _ => t.State.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Whole percent, rounded down so that 100% appears only when everything is there (99.99% reads 99%).
    /// </summary>
    public static string Percent(double fraction)
    {
        if (double.IsNaN(fraction)) fraction = 0;
        int p = (int)Math.Floor(Math.Clamp(fraction, 0, 1) * 100 + 1e-9);
        return p.ToString(CultureInfo.InvariantCulture) + "%";
    }

    /// <summary>A text progress bar: <c>[#####.....]</c> with <paramref name="barWidth"/> cells inside the brackets.</summary>
    public static string Bar(double fraction, int barWidth)
    {
        if (barWidth <= 0) return "";
        if (double.IsNaN(fraction)) fraction = 0;
        fraction = Math.Clamp(fraction, 0, 1);
        // Full only at 100%, like the percentage; a started download shows at least one mark.
        int filled = fraction >= 1 ? barWidth : (int)Math.Floor(fraction * barWidth);
        if (filled == barWidth && fraction < 1) filled = barWidth - 1;
        return string.Create(barWidth + 2, filled, (span, f) =>
        {
            span[0] = '[';
            span[^1] = ']';
            span[1..^1].Fill('.');
            span.Slice(1, f).Fill('#');
        });
    }

    /// <summary>Bar and percentage together, e.g. <c>[#####.....] 52%</c>, fitting <paramref name="width"/>.</summary>
    public static string BarWithPercent(double fraction, int width)
    {
        string percent = Percent(fraction);
        int barWidth = width - 2 - 5; // brackets, a space and "100%"
        if (barWidth < 1) return percent;
        return Bar(fraction, barWidth) + " " + percent.PadLeft(4);
    }

    /// <summary>
    /// Estimated time left in at most five characters: <c>45s</c>, <c>5m03s</c>, <c>24m</c>, <c>2h05m</c>, <c>14h</c>,
    /// <c>3d04h</c>, <c>12d</c>, <c>>99d</c>; "-" when unknown. Beyond two digits the smaller unit is dropped.
    /// </summary>
    public static string Eta(TimeSpan? eta)
    {
        if (eta is not { } e || e < TimeSpan.Zero) return "-";
        if (e.TotalDays >= 100) return ">99d";
        if (e.TotalDays >= 10) return $"{(int)e.TotalDays}d";
        if (e.TotalDays >= 1) return $"{(int)e.TotalDays}d{e.Hours:00}h";
        if (e.TotalHours >= 10) return $"{(int)e.TotalHours}h";
        if (e.TotalHours >= 1) return $"{(int)e.TotalHours}h{e.Minutes:00}m";
        if (e.TotalMinutes >= 10) return $"{(int)e.TotalMinutes}m";
        if (e.TotalMinutes >= 1) return $"{(int)e.TotalMinutes}m{e.Seconds:00}s";
        return $"{(int)Math.Ceiling(e.TotalSeconds)}s";
    }

    /// <summary>A duration in words for the details (<c>2h 05m</c>), "-" when unknown.</summary>
    public static string Duration(TimeSpan? span)
    {
        if (span is not { } s) return "-";
        if (s < TimeSpan.Zero) s = TimeSpan.Zero;
        if (s.TotalDays >= 1) return $"{(int)s.TotalDays}d {s.Hours:00}h";
        if (s.TotalHours >= 1) return $"{(int)s.TotalHours}h {s.Minutes:00}m";
        if (s.TotalMinutes >= 1) return $"{(int)s.TotalMinutes}m {s.Seconds:00}s";
        return $"{(int)s.TotalSeconds}s";
    }

    /// <summary>Upload ratio with two decimals; "-" when undefined.</summary>
    public static string Ratio(double ratio)
    {
        if (double.IsNaN(ratio) || double.IsInfinity(ratio) || ratio < 0) return "-";
        if (ratio >= 100) return ratio >= 999 ? "999+" : ratio.ToString("0", CultureInfo.InvariantCulture);
        return ratio.ToString("0.00", CultureInfo.InvariantCulture);
    }

    /// <summary>Peers as connected/known.</summary>
    public static string Peers(TorrentSnapshot t) =>
        string.Create(CultureInfo.InvariantCulture, $"{t.PeersConnected}/{t.PeersKnown}");

    /// <summary>A local date and time, or "-".</summary>
    public static string Date(DateTimeOffset? when) =>
        when is { } w ? w.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";

    /// <summary>Collapses line breaks and tabs so that a message fits one table cell.</summary>
    public static string OneLine(string text)
    {
        if (text.AsSpan().IndexOfAny('\r', '\n', '\t') < 0) return text;
        return string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>
    /// Breaks <paramref name="text"/> into lines of at most <paramref name="width"/> characters at spaces; lines after
    /// the first start with <paramref name="indent"/> spaces.
    /// </summary>
    public static IEnumerable<string> Wrap(string text, int width, int indent = 0)
    {
        width = Math.Max(10, width);
        indent = Math.Clamp(indent, 0, width / 2);
        string rest = text;
        bool first = true;
        while (true)
        {
            string prefix = first ? "" : new string(' ', indent);
            int room = width - prefix.Length;
            if (rest.Length <= room)
            {
                yield return prefix + rest;
                yield break;
            }
            int cut = rest.LastIndexOf(' ', room);
            if (cut <= 0) cut = room;
            yield return prefix + rest[..cut].TrimEnd();
            rest = rest[cut..].TrimStart();
            first = false;
            if (rest.Length == 0) yield break;
        }
    }

    /// <summary>Cuts <paramref name="text"/> to <paramref name="width"/> characters, marking the cut with '~'.</summary>
    public static string Fit(string text, int width)
    {
        if (width <= 0) return "";
        if (text.Length <= width) return text;
        return width == 1 ? "~" : text[..(width - 1)] + "~";
    }
}
