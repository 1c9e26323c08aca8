namespace RTorrent.Engine.Tests.Feeds;

/// <summary>Feeds in the shapes real indexers publish (trimmed to a few items).</summary>
internal static class FeedSamples
{
    public const string HashA = "0123456789abcdef0123456789abcdef01234567";
    public const string HashB = "89abcdef0123456789abcdef0123456789abcdef";

    /// <summary>Jackett's torznab answer (Prowlarr writes the same): link and enclosure are the download URL, torznab attributes carry the rest.</summary>
    public static string Torznab(string downloadBase) => $$"""
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:torznab="http://torznab.com/schemas/2015/feed">
          <channel>
            <atom:link href="http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab/" rel="self" type="application/rss+xml" />
            <title>AggregateSearch</title>
            <description>This feed includes all configured trackers</description>
            <link>https://github.com/Jackett/Jackett</link>
            <language>en-US</language>
            <category>search</category>
            <item>
              <title>Show.Name.S01E02.1080p.WEB.h264-GRP</title>
              <guid>https://indexer.example/details/123</guid>
              <jackettindexer id="example">Example</jackettindexer>
              <type>public</type>
              <comments>https://indexer.example/details/123</comments>
              <pubDate>Mon, 15 Jan 2024 10:00:00 +0000</pubDate>
              <size>1468006400</size>
              <description />
              <link>{{downloadBase}}/dl/example/?jackett_apikey=k&amp;path=abc&amp;file=Show.Name.S01E02</link>
              <category>5000</category>
              <category>100005</category>
              <enclosure url="{{downloadBase}}/dl/example/?jackett_apikey=k&amp;path=abc&amp;file=Show.Name.S01E02" length="1468006400" type="application/x-bittorrent" />
              <torznab:attr name="category" value="5000" />
              <torznab:attr name="seeders" value="42" />
              <torznab:attr name="peers" value="50" />
              <torznab:attr name="infohash" value="{{HashA}}" />
              <torznab:attr name="magneturl" value="magnet:?xt=urn:btih:{{HashA}}&amp;dn=Show.Name.S01E02" />
              <torznab:attr name="downloadvolumefactor" value="0" />
            </item>
            <item>
              <title>Show.Name.S01E02.720p.WEB.h264-GRP</title>
              <guid>https://indexer.example/details/124</guid>
              <pubDate>Mon, 15 Jan 2024 09:00:00 +0000</pubDate>
              <size>734003200</size>
              <link>{{downloadBase}}/dl/example/?jackett_apikey=k&amp;path=def&amp;file=Show.Name.S01E02.720p</link>
              <enclosure url="{{downloadBase}}/dl/example/?jackett_apikey=k&amp;path=def&amp;file=Show.Name.S01E02.720p" length="734003200" type="application/x-bittorrent" />
              <torznab:attr name="seeders" value="7" />
              <torznab:attr name="magneturl" value="magnet:?xt=urn:btih:{{HashB}}&amp;dn=Show.Name.S01E02.720p" />
            </item>
          </channel>
        </rss>
        """;

    /// <summary>showRSS: the magnet link is the item's link (and its enclosure); the hash is in the tv namespace.</summary>
    public const string ShowRss = $$"""
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:tv="https://showrss.info">
          <channel>
            <title>showRSS: feed for someone</title>
            <link>http://showrss.info/</link>
            <ttl>30</ttl>
            <description>showRSS feed</description>
            <item>
              <title>Show Name 1x03 The Third One 720p</title>
              <link>magnet:?xt=urn:btih:{{HashA}}&amp;dn=Show+Name+1x03&amp;tr=udp://tracker.example:1337/announce</link>
              <guid isPermaLink="false">a1b2c3d4</guid>
              <pubDate>Tue, 16 Jan 2024 11:00:00 +0000</pubDate>
              <description>New episode: Show Name 1x03</description>
              <tv:show_id>123</tv:show_id>
              <tv:episode_id>456</tv:episode_id>
              <tv:show_name>Show Name</tv:show_name>
              <tv:info_hash>{{HashA}}</tv:info_hash>
              <tv:raw_title>Show Name 1x03 720p</tv:raw_title>
              <enclosure url="magnet:?xt=urn:btih:{{HashA}}&amp;dn=Show+Name+1x03" length="0" type="application/x-bittorrent" />
            </item>
          </channel>
        </rss>
        """;

    /// <summary>A private tracker's RSS: the link is a web page, the enclosure the .torrent.</summary>
    public static string Enclosures(string downloadBase) => $$"""
        <?xml version="1.0" encoding="utf-8"?>
        <rss version="2.0">
          <channel>
            <title>Tracker - latest</title>
            <link>https://tracker.example/</link>
            <image><title>not the feed's title</title><url>https://tracker.example/logo.png</url></image>
            <item>
              <title>Linux Distro 24.04 amd64</title>
              <link>https://tracker.example/details/1</link>
              <guid isPermaLink="true">https://tracker.example/details/1</guid>
              <pubDate>Wed, 17 Jan 2024 08:30:00 GMT</pubDate>
              <enclosure url="{{downloadBase}}/download/1.torrent" length="5000000000" type="application/x-bittorrent" />
            </item>
            <item>
              <title>A podcast episode</title>
              <link>https://tracker.example/details/2</link>
              <enclosure url="https://tracker.example/audio/2.mp3" length="100" type="audio/mpeg" />
            </item>
          </channel>
        </rss>
        """;

    /// <summary>An Atom feed with a relative enclosure link.</summary>
    public const string Atom = """
        <?xml version="1.0" encoding="utf-8"?>
        <feed xmlns="http://www.w3.org/2005/Atom">
          <title>Releases</title>
          <id>urn:example:releases</id>
          <updated>2024-01-18T10:00:00Z</updated>
          <entry>
            <title>Show Name S01E04 1080p</title>
            <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
            <updated>2024-01-18T10:00:00Z</updated>
            <link rel="alternate" href="https://site.example/details/4"/>
            <link rel="enclosure" type="application/x-bittorrent" length="1000" href="/dl/4.torrent"/>
            <category term="TV"/>
          </entry>
          <entry>
            <title>Entry without anything to add</title>
            <id>urn:uuid:nothing</id>
            <link rel="alternate" href="https://site.example/details/5"/>
          </entry>
        </feed>
        """;

    /// <summary>EZTV's RSS: the .torrent in the enclosure, and its own torrent element.</summary>
    public const string Eztv = $$"""
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/">
          <channel>
            <title>EZTV RSS</title>
            <item>
              <title>Show Name S02E01 720p HDTV x264-GRP [eztv]</title>
              <category>TV</category>
              <link>https://eztv.example/ep/1/</link>
              <guid>https://eztv.example/ep/1/</guid>
              <pubDate>Thu, 18 Jan 2024 06:00:00 -0500</pubDate>
              <torrent:contentLength>512000000</torrent:contentLength>
              <torrent:infoHash>{{HashB}}</torrent:infoHash>
              <torrent:magnetURI><![CDATA[magnet:?xt=urn:btih:{{HashB}}&dn=Show]]></torrent:magnetURI>
              <torrent:seeds>12</torrent:seeds>
              <torrent:fileName>Show.Name.S02E01.torrent</torrent:fileName>
              <enclosure url="https://zoink.example/Show.Name.S02E01.torrent" length="512000000" type="application/x-bittorrent" />
            </item>
          </channel>
        </rss>
        """;

    /// <summary>A plain RSS whose items name the given titles, each with its own .torrent link.</summary>
    public static string Titles(string downloadBase, params string[] titles) =>
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>" +
        string.Concat(titles.Select((t, i) =>
            $"<item><title>{System.Security.SecurityElement.Escape(t)}</title><guid>id-{System.Security.SecurityElement.Escape(t)}</guid>" +
            $"<enclosure url=\"{downloadBase}/t/{i}.torrent\" type=\"application/x-bittorrent\"/></item>")) +
        "</channel></rss>";
}
