using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Feeds;

/// <summary>
/// Reads RSS 2.0 (and RSS 1.0/RDF) and Atom feeds into <see cref="TorrentSourceItem"/>s, as indexers publish them:
/// enclosures (<c>type="application/x-bittorrent"</c>), torznab attributes (Jackett, Prowlarr: <c>magneturl</c>,
/// <c>infohash</c>, <c>size</c>, <c>seeders</c>), magnet links or .torrent links in <c>link</c> (showRSS), EZTV's
/// <c>torrent</c> element (<c>infoHash</c>, <c>magnetURI</c>, <c>contentLength</c>), Atom <c>link rel="enclosure"</c>.
/// </summary>
/// <remarks>
/// Hostile feeds get a clear <see cref="TorrentSourceException"/> and bounded work: DTDs are refused (no entity
/// expansion, no external resolution), nesting deeper than <see cref="MaxDepth"/> is refused, the document is read
/// streaming and at most <c>maxItems</c> items are kept (the caller already bounded the bytes).
/// </remarks>
public static class FeedParser
{
    /// <summary>Deepest element nesting accepted (real feeds nest four or five levels).</summary>
    public const int MaxDepth = 32;

    /// <summary>The torznab attributes' namespace.</summary>
    public const string TorznabNamespace = "http://torznab.com/schemas/2015/feed";

    private const string AtomNamespace = "http://www.w3.org/2005/Atom";

    /// <summary>Parses a feed.</summary>
    /// <param name="body">The document's bytes.</param>
    /// <param name="baseUri">Where it came from: relative links are resolved against it; may be null.</param>
    /// <param name="maxItems">Items kept; later ones are ignored.</param>
    /// <exception cref="TorrentSourceException">Not XML, not a feed, a DTD, or too deep.</exception>
    public static TorrentSourceResult Parse(ReadOnlyMemory<byte> body, Uri? baseUri, int maxItems = 1000)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersFromEntities = 1024,
            MaxCharactersInDocument = Math.Max(1024, body.Length * 2L),
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            CloseInput = true,
        };
        var items = new List<TorrentSourceItem>();
        string? title = null;
        string? root = null;
        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, settings);
            // ReadFrom and ReadElementContentAsString leave the reader on the next node: look at it before reading on.
            bool positioned = false;
            while (positioned || reader.Read())
            {
                positioned = false;
                if (reader.NodeType != XmlNodeType.Element) continue;
                if (reader.Depth > MaxDepth) throw TooDeep();
                if (root is null)
                {
                    root = reader.LocalName;
                    if (root is not ("rss" or "feed" or "RDF"))
                        throw new TorrentSourceException($"not an RSS or Atom feed: the document is <{reader.Name}>");
                    continue;
                }
                var name = reader.LocalName;
                if (name is "item" or "entry")
                {
                    var element = (XElement)XNode.ReadFrom(reader);
                    positioned = true;
                    if (Depth(element) > MaxDepth) throw TooDeep();
                    if (items.Count < maxItems && (name == "item" ? FromRss(element, baseUri) : FromAtom(element, baseUri)) is { } item)
                        items.Add(item);
                }
                else if (name == "title" && title is null && reader.Depth <= 2)
                {
                    title = reader.ReadElementContentAsString();
                    positioned = true;
                }
            }
        }
        catch (XmlException e) when (e.Message.Contains("DTD", StringComparison.Ordinal))
        {
            throw new TorrentSourceException($"not a usable feed: it declares a DTD, which is refused (entities could expand without bound) (line {e.LineNumber})", e);
        }
        catch (XmlException e)
        {
            throw new TorrentSourceException($"not a usable feed: malformed XML at line {e.LineNumber}, position {e.LinePosition}: {FirstSentence(e.Message)}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new TorrentSourceException($"not a usable feed: {e.Message}", e);
        }
        if (root is null) throw new TorrentSourceException("not a usable feed: the document is empty");
        return new TorrentSourceResult { Title = title?.Trim(), Items = items };
    }

    private static TorrentSourceException TooDeep() => new($"not a usable feed: elements nested deeper than {MaxDepth} levels");

    private static int Depth(XElement element)
    {
        // Iterative: a hostile item nested a million levels deep must not cost stack.
        int max = 0;
        var stack = new Stack<(XElement, int)>();
        stack.Push((element, 1));
        while (stack.Count > 0)
        {
            var (e, d) = stack.Pop();
            if (d > max) max = d;
            if (max > MaxDepth) return max;
            foreach (var child in e.Elements()) stack.Push((child, d + 1));
        }
        return max;
    }

    private static TorrentSourceItem? FromRss(XElement item, Uri? baseUri)
    {
        string? title = Text(item, "title");
        string? guid = Text(item, "guid");
        string? link = Text(item, "link");
        string? torrentUrl = null, magnet = null, hash = null;
        long? size = null;
        int? seeders = null;
        bool otherEnclosure = false; // a podcast's audio: its item's link is a page, not a torrent

        foreach (var enclosure in item.Elements().Where(e => e.Name.LocalName == "enclosure"))
        {
            var url = Resolve((string?)enclosure.Attribute("url"), baseUri);
            var type = (string?)enclosure.Attribute("type");
            if (url is null) continue;
            if (IsMagnet(url)) magnet ??= url;
            else if (type is null || type.Equals("application/x-bittorrent", StringComparison.OrdinalIgnoreCase) || LooksLikeTorrentFile(url))
            {
                torrentUrl ??= url;
                if (long.TryParse((string?)enclosure.Attribute("length"), NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length > 0) size ??= length;
            }
            else otherEnclosure = true;
        }

        // torznab (Jackett, Prowlarr) and newznab attributes; EZTV's <torrent> element; showRSS's info_hash.
        foreach (var e in item.Descendants())
        {
            var local = e.Name.LocalName;
            if (local == "attr")
            {
                var name = ((string?)e.Attribute("name"))?.ToLowerInvariant();
                var value = ((string?)e.Attribute("value"))?.Trim();
                if (string.IsNullOrEmpty(value)) continue;
                switch (name)
                {
                    case "magneturl" when IsMagnet(value): magnet ??= value; break;
                    case "infohash": hash ??= value; break;
                    case "size" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var s): size ??= s; break;
                    case "seeders" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n): seeders ??= n; break;
                }
            }
            else if (local is "infoHash" or "info_hash" or "infohash" && !e.HasElements) hash ??= e.Value.Trim();
            else if (local is "magnetURI" or "magneturl" && !e.HasElements && IsMagnet(e.Value.Trim())) magnet ??= e.Value.Trim();
            else if (local == "contentLength" && long.TryParse(e.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var cl)) size ??= cl;
            else if (local == "seeds" && int.TryParse(e.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seeds)) seeders ??= seeds;
        }

        // <link>: a magnet link (showRSS) or the .torrent itself (when no enclosure said otherwise).
        var resolvedLink = Resolve(link, baseUri);
        if (resolvedLink is not null)
        {
            if (IsMagnet(resolvedLink)) magnet ??= resolvedLink;
            else if (torrentUrl is null && magnet is null && hash is null && !otherEnclosure) torrentUrl = resolvedLink;
            else if (torrentUrl is null && LooksLikeTorrentFile(resolvedLink)) torrentUrl = resolvedLink;
        }

        if (string.IsNullOrWhiteSpace(title)) return null;
        if (torrentUrl is null && magnet is null && string.IsNullOrEmpty(hash)) return null;
        return new TorrentSourceItem
        {
            Id = FirstNonEmpty(guid, torrentUrl, magnet, hash, title)!,
            Title = Clean(title),
            TorrentUrl = torrentUrl,
            MagnetUri = magnet,
            InfoHash = string.IsNullOrEmpty(hash) ? null : hash,
            Size = size,
            Seeders = seeders,
            Published = Date(Text(item, "pubDate") ?? Text(item, "date")),
            Category = Text(item, "category"),
        };
    }

    private static TorrentSourceItem? FromAtom(XElement entry, Uri? baseUri)
    {
        string? title = Text(entry, "title");
        string? id = Text(entry, "id");
        string? torrentUrl = null, magnet = null, alternate = null;
        long? size = null;
        foreach (var link in entry.Elements().Where(e => e.Name.LocalName == "link"))
        {
            var href = Resolve((string?)link.Attribute("href"), baseUri);
            if (href is null) continue;
            var rel = ((string?)link.Attribute("rel"))?.Trim() ?? "alternate";
            var type = (string?)link.Attribute("type");
            if (IsMagnet(href)) magnet ??= href;
            else if (rel == "enclosure" && (type is null || type.Equals("application/x-bittorrent", StringComparison.OrdinalIgnoreCase) || LooksLikeTorrentFile(href)))
            {
                torrentUrl ??= href;
                if (long.TryParse((string?)link.Attribute("length"), NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length > 0) size ??= length;
            }
            else if (rel == "alternate") alternate ??= href;
        }
        if (torrentUrl is null && alternate is not null && LooksLikeTorrentFile(alternate)) torrentUrl = alternate;
        if (string.IsNullOrWhiteSpace(title) || (torrentUrl is null && magnet is null)) return null;
        return new TorrentSourceItem
        {
            Id = FirstNonEmpty(id, torrentUrl, magnet, title)!,
            Title = Clean(title),
            TorrentUrl = torrentUrl,
            MagnetUri = magnet,
            Size = size,
            Published = Date(Text(entry, "published") ?? Text(entry, "updated")),
            Category = (string?)entry.Elements().FirstOrDefault(e => e.Name.LocalName == "category")?.Attribute("term"),
        };
    }

    private static string? Text(XElement parent, string localName)
    {
        var e = parent.Elements().FirstOrDefault(x => x.Name.LocalName == localName && (x.Name.NamespaceName is "" or AtomNamespace || localName == "date"));
        var value = e?.Value.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    private static string Clean(string title) => string.Join(' ', title.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();

    private static bool IsMagnet(string text) => text.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase);

    private static bool LooksLikeTorrentFile(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && u.AbsolutePath.EndsWith(".torrent", StringComparison.OrdinalIgnoreCase);

    private static string? Resolve(string? link, Uri? baseUri)
    {
        link = link?.Trim();
        if (string.IsNullOrEmpty(link)) return null;
        if (IsMagnet(link)) return link;
        if (Uri.TryCreate(link, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https") return absolute.AbsoluteUri;
        if (baseUri is not null && Uri.TryCreate(baseUri, link, out var relative) && relative.Scheme is "http" or "https") return relative.AbsoluteUri;
        return null;
    }

    private static readonly string[] RfcFormats =
    [
        "ddd, d MMM yyyy HH:mm:ss zzz", "d MMM yyyy HH:mm:ss zzz", "ddd, d MMM yyyy HH:mm zzz", "ddd, d MMM yyyy HH:mm:ss",
    ];

    /// <summary>RFC 822 (RSS), RFC 3339 (Atom) and what feeds write instead.</summary>
    internal static DateTimeOffset? Date(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return parsed;
        // "+0000" zones and named zones (GMT, UT, EST...) in RFC 822 dates.
        var t = text;
        int space = t.LastIndexOf(' ');
        if (space > 0)
        {
            var zone = t[(space + 1)..];
            string? offset = zone switch
            {
                "GMT" or "UT" or "UTC" or "Z" => "+00:00",
                "EST" => "-05:00", "EDT" => "-04:00", "CST" => "-06:00", "CDT" => "-05:00",
                "MST" => "-07:00", "MDT" => "-06:00", "PST" => "-08:00", "PDT" => "-07:00",
                _ when zone.Length == 5 && zone[0] is '+' or '-' && zone.Skip(1).All(char.IsAsciiDigit) => $"{zone[..3]}:{zone[3..]}",
                _ => null,
            };
            if (offset is not null) t = t[..space] + " " + offset;
        }
        return DateTimeOffset.TryParseExact(t, RfcFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out parsed) ? parsed : null;
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..(dot + 1)] : message;
    }
}
