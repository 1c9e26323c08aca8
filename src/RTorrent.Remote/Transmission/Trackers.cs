using System.Net;
using System.Text;
using System.Text.Json;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// A torrent's trackers as Transmission shows and edits them: <c>trackers</c>, <c>trackerStats</c>, <c>trackerList</c>
/// (URLs one per line, a blank line between tiers), and the tracker ids of the deprecated <c>trackerAdd</c>,
/// <c>trackerRemove</c> and <c>trackerReplace</c>. A tracker's id is its place in the list, counted across tiers.
/// </summary>
internal static class Trackers
{
    /// <summary>tr_tracker_state.</summary>
    private const int Inactive = 0, Waiting = 1, Active = 3;

    /// <summary>The list with a blank line between tiers, each URL followed by a newline (Transmission's trackerList()).</summary>
    public static string ToTrackerList(IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        var sb = new StringBuilder();
        for (int t = 0; t < tiers.Count; t++)
        {
            if (t > 0) sb.Append('\n');
            foreach (var url in tiers[t]) sb.Append(url).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Reads a trackerList: URLs one per line; one or more blank lines end a tier.</summary>
    public static List<List<string>> ParseTrackerList(string text)
    {
        var tiers = new List<List<string>>();
        var tier = new List<string>();
        foreach (var raw in text.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                if (tier.Count > 0) tiers.Add(tier);
                tier = [];
            }
            else tier.Add(line);
        }
        if (tier.Count > 0) tiers.Add(tier);
        return tiers;
    }

    /// <summary>Every URL with its tier, in id order.</summary>
    public static List<(string Url, int Tier)> Flatten(IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        var list = new List<(string, int)>();
        for (int t = 0; t < tiers.Count; t++)
            foreach (var url in tiers[t]) list.Add((url, t));
        return list;
    }

    /// <summary>Back into tiers (empty tiers dropped).</summary>
    public static List<List<string>> Unflatten(IEnumerable<(string Url, int Tier)> trackers) =>
        trackers.GroupBy(t => t.Tier).OrderBy(g => g.Key).Select(g => g.Select(t => t.Url).ToList()).Where(g => g.Count > 0).ToList();

    public static void WriteTrackers(Utf8JsonWriter w, IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        w.WriteStartArray();
        int id = 0;
        for (int t = 0; t < tiers.Count; t++)
            foreach (var url in tiers[t])
            {
                w.WriteStartObject();
                w.WriteString("announce", url);
                w.WriteNumber("id", id++);
                w.WriteString("scrape", ScrapeOf(url));
                w.WriteString("sitename", SiteName(url));
                w.WriteNumber("tier", t);
                w.WriteEndObject();
            }
        w.WriteEndArray();
    }

    /// <summary>
    /// trackerStats from the tracker source's status. What the engine does not record is answered as Transmission does
    /// for a tracker it has not heard from: -1 for unknown counts, 0 for unknown times, false and empty strings.
    /// </summary>
    public static void WriteTrackerStats(Utf8JsonWriter w, TorrentDetails details)
    {
        var status = new Dictionary<string, PeerSourceStatus>(StringComparer.Ordinal);
        foreach (var s in details.Sources)
            if (s.Source == "tracker") status.TryAdd(s.Endpoint, s);
        bool running = details.Summary.State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;
        w.WriteStartArray();
        int id = 0;
        var tiers = details.Summary.Trackers;
        for (int t = 0; t < tiers.Count; t++)
            for (int i = 0; i < tiers[t].Count; i++)
            {
                string url = tiers[t][i];
                status.TryGetValue(url, out var st);
                bool working = st?.State == "working", failed = st?.State == "error";
                w.WriteStartObject();
                w.WriteString("announce", url);
                w.WriteNumber("announceState", st?.State == "updating" ? Active : running && st is not null ? Waiting : Inactive);
                w.WriteNumber("downloadCount", st?.Downloaded ?? -1);
                w.WriteBoolean("hasAnnounced", working || failed || st?.LastSuccess is not null);
                w.WriteBoolean("hasScraped", st?.Seeders is not null || st?.Leechers is not null);
                w.WriteString("host", HostOf(url));
                w.WriteString("sitename", SiteName(url));
                w.WriteNumber("id", id++);
                w.WriteBoolean("isBackup", false);
                w.WriteNumber("lastAnnouncePeerCount", 0);
                w.WriteString("lastAnnounceResult", st?.Message ?? (working ? "Success" : ""));
                w.WriteNumber("lastAnnounceStartTime", 0);
                w.WriteBoolean("lastAnnounceSucceeded", working);
                w.WriteNumber("lastAnnounceTime", Units.UnixSeconds(st?.LastSuccess));
                w.WriteBoolean("lastAnnounceTimedOut", false);
                w.WriteString("lastScrapeResult", "");
                w.WriteNumber("lastScrapeStartTime", 0);
                w.WriteBoolean("lastScrapeSucceeded", st?.Seeders is not null || st?.Leechers is not null);
                w.WriteNumber("lastScrapeTime", 0);
                w.WriteBoolean("lastScrapeTimedOut", false);
                w.WriteNumber("leecherCount", st?.Leechers ?? -1);
                w.WriteNumber("nextAnnounceTime", Units.UnixSeconds(st?.NextContact));
                w.WriteNumber("nextScrapeTime", 0);
                w.WriteString("scrape", ScrapeOf(url));
                w.WriteNumber("scrapeState", Inactive);
                w.WriteNumber("seederCount", st?.Seeders ?? -1);
                w.WriteNumber("tier", t);
                w.WriteEndObject();
            }
        w.WriteEndArray();
    }

    /// <summary>
    /// The scrape URL of an announce URL by the usual convention (libtransmission's): an HTTP URL whose last path part
    /// starts with "announce" has it replaced by "scrape"; a UDP tracker scrapes at its announce URL; otherwise none.
    /// </summary>
    public static string ScrapeOf(string announce)
    {
        if (announce.StartsWith("udp://", StringComparison.OrdinalIgnoreCase)) return announce;
        int slash = announce.LastIndexOf('/');
        if (slash < 0 || string.CompareOrdinal(announce, slash + 1, "announce", 0, "announce".Length) != 0) return "";
        return string.Concat(announce.AsSpan(0, slash + 1), "scrape", announce.AsSpan(slash + 1 + "announce".Length));
    }

    /// <summary>host:port of a URL.</summary>
    public static string HostOf(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Host}:{uri.Port}" : url;

    /// <summary>
    /// A short name for the tracker's site (Transmission 4's sitename): the registered name without its public suffix
    /// ("opentrackr" for tracker.opentrackr.org), or the address for an IP. Two-part suffixes such as co.uk are known
    /// only for the common ones.
    /// </summary>
    public static string SiteName(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return "";
        string host = uri.Host.Trim('[', ']');
        if (IPAddress.TryParse(host, out _)) return host;
        var labels = host.Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length < 2) return host;
        int suffix = labels.Length >= 3 && labels[^2] is "co" or "com" or "org" or "net" or "ac" or "gov" or "edu" && labels[^1].Length == 2 ? 2 : 1;
        return labels.Length > suffix ? labels[^(suffix + 1)] : host;
    }
}
