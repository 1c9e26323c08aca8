using System.Globalization;
using RTorrent.Engine.Feeds;
using Terminal.Gui.Drawing;

namespace RTorrent.Tui.Views;

/// <summary>
/// The Feeds view's text (R): each feed with its source, schedule, last poll and error, then its items marked with what
/// the rules did (docs/FEEDS.md), then the rules.
/// </summary>
internal static class FeedLines
{
    /// <summary>The marks in front of items, explained at the top of the view.</summary>
    public const string Legend = "+ added   = taken before   ~ skipped (episode already taken)   ! failed   . no rule";

    public static List<TextLine> Format(FeedsSnapshot snapshot, DateTimeOffset now)
    {
        var lines = new List<TextLine>();
        if (snapshot.ConfigError is { } configError)
            lines.Add(new TextLine($"feeds.json was not taken: {TorrentText.OneLine(configError)} (the previous feeds and rules stay)", ColorName16.BrightRed));
        if (snapshot.Feeds.Count == 0)
        {
            lines.Add(new TextLine("No feeds. Add them to feeds.json in the session folder (docs/FEEDS.md), or through the RPC (feeds-set);"));
            lines.Add(new TextLine("a feeds.json edited by hand is picked up within a minute."));
            return lines;
        }
        lines.Add(new TextLine(Legend, ColorName16.DarkGray));
        foreach (var feed in snapshot.Feeds)
        {
            var def = feed.Definition;
            lines.Add(new TextLine(""));
            string title = feed.Title is { } t && t != def.Name ? $"  \"{TorrentText.OneLine(t)}\"" : "";
            lines.Add(new TextLine($"{def.Name}{title}  [{def.Source}]{(def.Enabled ? "" : "  disabled")}", ColorName16.BrightCyan));
            lines.Add(new TextLine($"  {def.Url}"));
            string last = feed.LastPoll is { } l ? $"polled {Ago(now - l)} ago" : "not polled yet";
            string next = feed.NextPoll is { } n ? n <= now ? ", next poll now" : $", next in {Ago(n - now)}" : "";
            lines.Add(new TextLine($"  every {def.IntervalMinutes} min; {last}{next}; {feed.Items.Count} items"));
            if (feed.Error is { } error) lines.Add(new TextLine($"  error: {TorrentText.OneLine(error)}", ColorName16.BrightRed));
            foreach (var item in feed.Items)
            {
                var (mark, color) = item.State switch
                {
                    FeedItemState.Added => ("+", ColorName16.BrightGreen),
                    FeedItemState.Taken => ("=", (ColorName16?)ColorName16.DarkGray),
                    FeedItemState.Skipped => ("~", ColorName16.Yellow),
                    FeedItemState.Failed => ("!", ColorName16.BrightRed),
                    _ => (".", (ColorName16?)null),
                };
                var extra = new List<string>();
                if (item.Episode is { } episode) extra.Add(episode);
                if (item.Size is { } size) extra.Add(Units.Size(size));
                if (item.Seeders is { } seeders) extra.Add($"{seeders} seeders");
                if (item.Published is { } published) extra.Add(published.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));
                if (item.Rule is { } rule) extra.Add($"rule {rule}");
                if (item.State is FeedItemState.Skipped or FeedItemState.Failed && item.Message is { } why) extra.Add(TorrentText.OneLine(why));
                lines.Add(new TextLine($"  {mark} {TorrentText.OneLine(item.Title)}" + (extra.Count > 0 ? "  (" + string.Join("; ", extra) + ")" : ""), color));
            }
        }
        lines.Add(new TextLine(""));
        lines.Add(new TextLine("Rules (the first that matches takes an item)", ColorName16.BrightCyan));
        if (snapshot.Config.Rules.Count == 0) lines.Add(new TextLine("  none: nothing is added"));
        foreach (var r in snapshot.Config.Rules)
        {
            var parts = new List<string>();
            parts.Add(r.Feeds.Count == 0 ? "all feeds" : "feeds " + string.Join(", ", r.Feeds));
            if (!string.IsNullOrWhiteSpace(r.MustContain)) parts.Add($"must contain \"{r.MustContain}\"");
            if (!string.IsNullOrWhiteSpace(r.MustNotContain)) parts.Add($"must not contain \"{r.MustNotContain}\"");
            if (r.UseRegex) parts.Add("regex");
            if (r.SmartFilter) parts.Add("each episode once");
            if (r.Category is { } c) parts.Add($"category {c}");
            if (r.SavePath is { } p) parts.Add($"to {p}");
            if (r.AddPaused is { } paused) parts.Add(paused ? "paused" : "started");
            lines.Add(new TextLine($"  {r.Name}{(r.Enabled ? "" : " (disabled)")}: {string.Join("; ", parts)}", r.Enabled ? null : ColorName16.DarkGray));
        }
        return lines;
    }

    private static string Ago(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        return span.TotalMinutes < 1 ? $"{span.TotalSeconds:0} s"
            : span.TotalHours < 1 ? $"{span.TotalMinutes:0} min"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours} h {span.Minutes} min"
            : $"{(int)span.TotalDays} d";
    }
}
