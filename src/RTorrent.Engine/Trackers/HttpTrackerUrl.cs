using System.Globalization;
using System.Text;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>Builds HTTP tracker URLs: announce query strings and the scrape URL convention.</summary>
public static class HttpTrackerUrl
{
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>
    /// The announce URL with the request's parameters appended. Parameters already in the URL (passkeys and the like)
    /// are kept as they are; ours follow with <c>&amp;</c>. Binary values are percent-encoded byte by byte.
    /// </summary>
    public static Uri BuildAnnounce(Uri announceUri, TrackerAnnounceRequest request)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = StartQuery(announceUri);
        Span<byte> hash = stackalloc byte[InfoHash.Length];
        request.InfoHash.CopyTo(hash);
        sb.Append("info_hash=");
        AppendPercentEncoded(sb, hash);
        sb.Append("&peer_id=");
        AppendPercentEncoded(sb, request.PeerId.Span);
        sb.Append("&port=").Append(request.Port.ToString(inv));
        sb.Append("&uploaded=").Append(Math.Max(0, request.Uploaded).ToString(inv));
        sb.Append("&downloaded=").Append(Math.Max(0, request.Downloaded).ToString(inv));
        sb.Append("&left=").Append(Math.Max(0, request.Left).ToString(inv));
        sb.Append("&corrupt=0&compact=1&no_peer_id=1");
        if (request.NumWant >= 0) sb.Append("&numwant=").Append(request.NumWant.ToString(inv));
        sb.Append("&key=").Append(request.Key.ToString("X8", inv));
        if (request.IPv6Address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6)
        {
            // BEP 7: the address in its text form, its colons percent-encoded (no scope id: it means nothing to a tracker).
            sb.Append("&ipv6=");
            AppendPercentEncoded(sb, Encoding.ASCII.GetBytes(new System.Net.IPAddress(v6.GetAddressBytes()).ToString()));
        }
        string? ev = request.Event switch
        {
            AnnounceEvent.Started => "started",
            AnnounceEvent.Completed => "completed",
            AnnounceEvent.Stopped => "stopped",
            _ => null,
        };
        if (ev is not null) sb.Append("&event=").Append(ev);
        if (!string.IsNullOrEmpty(request.TrackerId))
        {
            sb.Append("&trackerid=");
            AppendPercentEncoded(sb, Encoding.UTF8.GetBytes(request.TrackerId));
        }
        return new Uri(sb.ToString(), Verbatim);
    }

    /// <summary>
    /// The scrape URL by the usual convention: the text after the last <c>/</c> of the path must start with
    /// <c>announce</c>, which becomes <c>scrape</c> (<c>/announce.php?pk=1</c> → <c>/scrape.php?pk=1</c>). Null when
    /// the URL does not follow the convention, which means the tracker does not support scrape.
    /// </summary>
    public static Uri? GetScrapeUri(Uri announceUri)
    {
        string url = StripFragment(announceUri.OriginalString.Trim());
        int query = url.IndexOf('?');
        string beforeQuery = query >= 0 ? url[..query] : url;
        int schemeEnd = beforeQuery.IndexOf("://", StringComparison.Ordinal);
        int pathStart = beforeQuery.IndexOf('/', schemeEnd < 0 ? 0 : schemeEnd + 3);
        if (pathStart < 0) return null;
        int slash = beforeQuery.LastIndexOf('/');
        if (slash < pathStart) return null;
        if (string.CompareOrdinal(beforeQuery, slash + 1, "announce", 0, 8) != 0) return null;
        string scrape = string.Concat(beforeQuery.AsSpan(0, slash + 1), "scrape", beforeQuery.AsSpan(slash + 1 + 8),
            query >= 0 ? url.AsSpan(query) : ReadOnlySpan<char>.Empty);
        return new Uri(scrape, Verbatim);
    }

    /// <summary>The scrape URL with one <c>info_hash</c> parameter per torrent.</summary>
    public static Uri BuildScrape(Uri scrapeUri, IReadOnlyList<InfoHash> infoHashes)
    {
        var sb = StartQuery(scrapeUri);
        Span<byte> hash = stackalloc byte[InfoHash.Length];
        for (int i = 0; i < infoHashes.Count; i++)
        {
            if (i > 0) sb.Append('&');
            infoHashes[i].CopyTo(hash);
            sb.Append("info_hash=");
            AppendPercentEncoded(sb, hash);
        }
        return new Uri(sb.ToString(), Verbatim);
    }

    /// <summary>Percent-encodes bytes: RFC 3986 unreserved characters stay, every other byte becomes %XX.</summary>
    public static void AppendPercentEncoded(StringBuilder sb, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 15]);
            }
        }
    }

    private static StringBuilder StartQuery(Uri uri)
    {
        string url = StripFragment(uri.OriginalString.Trim());
        var sb = new StringBuilder(url, url.Length + 256);
        if (!url.Contains('?')) sb.Append('?');
        else if (!url.EndsWith('?') && !url.EndsWith('&')) sb.Append('&');
        return sb;
    }

    private static string StripFragment(string url)
    {
        int hash = url.IndexOf('#');
        return hash >= 0 ? url[..hash] : url;
    }
}
