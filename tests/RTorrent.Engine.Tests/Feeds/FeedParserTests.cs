using System.Text;
using RTorrent.Abstractions;
using RTorrent.Engine.Feeds;

namespace RTorrent.Engine.Tests.Feeds;

public sealed class FeedParserTests
{
    private static TorrentSourceResult Parse(string xml, string? baseUri = "https://feeds.example/rss", int maxItems = 1000) =>
        FeedParser.Parse(Encoding.UTF8.GetBytes(xml), baseUri is null ? null : new Uri(baseUri), maxItems);

    [Fact]
    public void Torznab_items_carry_the_download_link_the_magnet_the_hash_size_and_seeders()
    {
        var feed = Parse(FeedSamples.Torznab("http://127.0.0.1:9117"));

        Assert.Equal("AggregateSearch", feed.Title);
        Assert.Equal(2, feed.Items.Count);
        var first = feed.Items[0];
        Assert.Equal("Show.Name.S01E02.1080p.WEB.h264-GRP", first.Title);
        Assert.Equal("https://indexer.example/details/123", first.Id);
        Assert.Equal("http://127.0.0.1:9117/dl/example/?jackett_apikey=k&path=abc&file=Show.Name.S01E02", first.TorrentUrl);
        Assert.StartsWith("magnet:?xt=urn:btih:" + FeedSamples.HashA, first.MagnetUri);
        Assert.Equal(FeedSamples.HashA, first.InfoHash);
        Assert.Equal(1468006400, first.Size);
        Assert.Equal(42, first.Seeders);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 10, 0, 0, TimeSpan.Zero), first.Published);
        Assert.Equal(7, feed.Items[1].Seeders);
    }

    [Fact]
    public void ShowRss_takes_the_magnet_link_from_link_and_the_hash_from_its_namespace()
    {
        var item = Assert.Single(Parse(FeedSamples.ShowRss).Items);

        Assert.Equal("Show Name 1x03 The Third One 720p", item.Title);
        Assert.Equal("a1b2c3d4", item.Id);
        Assert.Null(item.TorrentUrl);
        Assert.StartsWith("magnet:?xt=urn:btih:" + FeedSamples.HashA, item.MagnetUri);
        Assert.Equal(FeedSamples.HashA, item.InfoHash);
    }

    [Fact]
    public void Plain_rss_uses_the_torrent_enclosure_not_the_page_link_and_skips_items_with_nothing_to_add()
    {
        var feed = Parse(FeedSamples.Enclosures("https://dl.example"));

        Assert.Equal("Tracker - latest", feed.Title); // not the image's title
        var item = Assert.Single(feed.Items); // the podcast item (an audio enclosure, a page link) has nothing to add
        Assert.Equal("https://dl.example/download/1.torrent", item.TorrentUrl);
        Assert.Equal(5000000000, item.Size);
        Assert.Equal(new DateTimeOffset(2024, 1, 17, 8, 30, 0, TimeSpan.Zero), item.Published);
    }

    [Fact]
    public void Atom_enclosure_links_are_resolved_against_the_feed_address()
    {
        var feed = Parse(FeedSamples.Atom, "https://site.example/feeds/atom.xml");

        Assert.Equal("Releases", feed.Title);
        var entry = Assert.Single(feed.Items);
        Assert.Equal("https://site.example/dl/4.torrent", entry.TorrentUrl);
        Assert.Equal("urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6", entry.Id);
        Assert.Equal(1000, entry.Size);
        Assert.Equal("TV", entry.Category);
        Assert.Equal(new DateTimeOffset(2024, 1, 18, 10, 0, 0, TimeSpan.Zero), entry.Published);
    }

    [Fact]
    public void Eztv_items_read_the_torrent_namespace()
    {
        var item = Assert.Single(Parse(FeedSamples.Eztv).Items);

        Assert.Equal("https://zoink.example/Show.Name.S02E01.torrent", item.TorrentUrl);
        Assert.Equal(FeedSamples.HashB, item.InfoHash);
        Assert.StartsWith("magnet:?xt=urn:btih:" + FeedSamples.HashB, item.MagnetUri);
        Assert.Equal(12, item.Seeders);
        Assert.Equal(new DateTimeOffset(2024, 1, 18, 6, 0, 0, TimeSpan.FromHours(-5)), item.Published);
    }

    [Fact]
    public void A_link_to_a_torrent_file_without_enclosure_is_the_torrent()
    {
        var item = Assert.Single(Parse("<rss><channel><item><title>x</title><link>/files/x.torrent</link></item></channel></rss>").Items);
        Assert.Equal("https://feeds.example/files/x.torrent", item.TorrentUrl);
        Assert.Equal("https://feeds.example/files/x.torrent", item.Id); // no guid: the link
    }

    [Fact]
    public void Items_beyond_the_cap_are_not_kept()
    {
        var xml = "<rss><channel>" + string.Concat(Enumerable.Range(0, 50).Select(i => $"<item><title>t{i}</title><link>magnet:?xt=urn:btih:{FeedSamples.HashA}</link><guid>{i}</guid></item>")) + "</channel></rss>";
        var feed = Parse(xml, maxItems: 10);
        Assert.Equal(10, feed.Items.Count);
        Assert.Equal("9", feed.Items[^1].Id);
    }

    [Fact]
    public void Entity_expansion_is_refused_with_a_clear_error()
    {
        const string laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
            ]>
            <rss><channel><item><title>&lol3;</title><link>magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567</link></item></channel></rss>
            """;
        var e = Assert.Throws<TorrentSourceException>(() => Parse(laughs));
        Assert.Contains("DTD", e.Message);
    }

    [Fact]
    public void External_entities_are_refused()
    {
        const string xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <rss><channel><title>&xxe;</title></channel></rss>
            """;
        var e = Assert.Throws<TorrentSourceException>(() => Parse(xxe));
        Assert.Contains("DTD", e.Message);
    }

    [Fact]
    public void Malformed_xml_names_the_line()
    {
        var e = Assert.Throws<TorrentSourceException>(() => Parse("<rss>\n<channel>\n<item><title>x</titel></item></channel></rss>"));
        Assert.Contains("malformed XML at line 3", e.Message);
    }

    [Theory]
    [InlineData("<html><body>Cloudflare says no</body></html>", "not an RSS or Atom feed: the document is <html>")]
    [InlineData("", "malformed XML")]
    [InlineData("{\"json\": true}", "malformed XML")]
    public void Something_else_than_a_feed_is_refused(string body, string expected)
    {
        var e = Assert.Throws<TorrentSourceException>(() => Parse(body));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Deep_nesting_is_refused_without_deep_recursion()
    {
        var deepItem = "<rss><channel><item><title>x</title>" + string.Concat(Enumerable.Repeat("<a>", 100_000)) + string.Concat(Enumerable.Repeat("</a>", 100_000)) + "</item></channel></rss>";
        Assert.Contains("nested deeper", Assert.Throws<TorrentSourceException>(() => Parse(deepItem)).Message);
        var deepOutside = "<rss>" + string.Concat(Enumerable.Repeat("<a>", 100)) + string.Concat(Enumerable.Repeat("</a>", 100)) + "</rss>";
        Assert.Contains("nested deeper", Assert.Throws<TorrentSourceException>(() => Parse(deepOutside)).Message);
    }

    [Theory]
    [InlineData("Mon, 15 Jan 2024 10:00:00 +0000", "2024-01-15T10:00:00+00:00")]
    [InlineData("Mon, 15 Jan 2024 10:00:00 GMT", "2024-01-15T10:00:00+00:00")]
    [InlineData("15 Jan 2024 10:00:00 EST", "2024-01-15T10:00:00-05:00")]
    [InlineData("2024-01-15T10:00:00Z", "2024-01-15T10:00:00+00:00")]
    [InlineData("2024-01-15T10:00:00+02:00", "2024-01-15T10:00:00+02:00")]
    public void Dates_in_the_forms_feeds_write_are_read(string text, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), FeedParser.Date(text));

    [Fact]
    public void A_date_nobody_can_read_is_null() => Assert.Null(FeedParser.Date("yesterday-ish"));
}
