using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class HttpTrackerUrlTests
{
    private static readonly byte[] HashBytes = [.. Enumerable.Range(0, 20).Select(i => (byte)(i * 13 + 0x7e))];
    private static readonly byte[] PeerId = "-RT0100-\x00\x01 %&=+?/#~."u8.ToArray()[..20];

    private static TrackerAnnounceRequest Request(AnnounceEvent ev = AnnounceEvent.Started, string? trackerId = null) => new()
    {
        InfoHash = new InfoHash(HashBytes),
        PeerId = PeerId,
        Port = 6881,
        Uploaded = 10,
        Downloaded = 20,
        Left = 30,
        Event = ev,
        NumWant = 50,
        Key = 0xDEADBEEF,
        TrackerId = trackerId,
    };

    private static Dictionary<string, string> QueryOf(Uri uri)
    {
        string q = uri.OriginalString[(uri.OriginalString.IndexOf('?') + 1)..];
        return q.Split('&').Select(p => p.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First().ElementAtOrDefault(1) ?? "");
    }

    private static byte[] Decode(string encoded)
    {
        var result = new List<byte>();
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%') { result.Add(Convert.ToByte(encoded.Substring(i + 1, 2), 16)); i += 2; }
            else result.Add((byte)encoded[i]);
        }
        return [.. result];
    }

    [Fact]
    public void Binary_values_are_percent_encoded_byte_by_byte_and_only_unreserved_characters_stay()
    {
        var uri = HttpTrackerUrl.BuildAnnounce(new Uri("http://tracker.example/announce"), Request());
        var q = QueryOf(uri);
        Assert.Equal(HashBytes, Decode(q["info_hash"]));
        Assert.Equal(PeerId, Decode(q["peer_id"]));
        foreach (char c in q["info_hash"] + q["peer_id"])
            Assert.True(char.IsAsciiLetterOrDigit(c) || c is '%' or '-' or '.' or '_' or '~', $"unexpected raw '{c}'");
        Assert.Equal("6881", q["port"]);
        Assert.Equal("10", q["uploaded"]);
        Assert.Equal("20", q["downloaded"]);
        Assert.Equal("30", q["left"]);
        Assert.Equal("1", q["compact"]);
        Assert.Equal("50", q["numwant"]);
        Assert.Equal("DEADBEEF", q["key"]);
        Assert.Equal("started", q["event"]);
        Assert.False(q.ContainsKey("trackerid"));
    }

    [Theory]
    [InlineData(AnnounceEvent.Completed, "completed")]
    [InlineData(AnnounceEvent.Stopped, "stopped")]
    [InlineData(AnnounceEvent.None, null)]
    public void Event_names(AnnounceEvent ev, string? expected)
    {
        var q = QueryOf(HttpTrackerUrl.BuildAnnounce(new Uri("http://t/announce"), Request(ev)));
        Assert.Equal(expected, q.GetValueOrDefault("event"));
    }

    [Fact]
    public void An_existing_query_string_is_kept_and_ours_follows_with_an_ampersand()
    {
        var uri = HttpTrackerUrl.BuildAnnounce(new Uri("https://t.example/a/announce.php?passkey=ab%2Fc&x=1#frag"), Request(trackerId: "id 1"));
        Assert.StartsWith("https://t.example/a/announce.php?passkey=ab%2Fc&x=1&info_hash=", uri.OriginalString);
        Assert.DoesNotContain("#", uri.OriginalString);
        Assert.Equal("id%201", QueryOf(uri)["trackerid"]);
    }

    [Fact]
    public void A_trailing_question_mark_gets_no_extra_separator()
    {
        var uri = HttpTrackerUrl.BuildAnnounce(new Uri("http://t/announce?"), Request());
        Assert.StartsWith("http://t/announce?info_hash=", uri.OriginalString);
    }

    [Fact]
    public void Negative_numwant_leaves_the_choice_to_the_tracker()
    {
        var uri = HttpTrackerUrl.BuildAnnounce(new Uri("http://t/announce"), Request() with { NumWant = -1 });
        Assert.False(QueryOf(uri).ContainsKey("numwant"));
    }

    [Theory]
    [InlineData("http://t.example/announce", "http://t.example/scrape")]
    [InlineData("http://t.example:8080/x/announce.php?passkey=1", "http://t.example:8080/x/scrape.php?passkey=1")]
    [InlineData("https://t.example/announce?a=announce", "https://t.example/scrape?a=announce")]
    [InlineData("http://t.example/x/announce", "http://t.example/x/scrape")]
    [InlineData("http://t.example/a", null)]
    [InlineData("http://t.example/announce/", null)]
    [InlineData("http://t.example/x/announce/y", null)]
    [InlineData("http://t.example", null)]
    [InlineData("http://t.example/?announce", null)]
    public void Scrape_url_follows_the_convention(string announce, string? scrape)
    {
        Assert.Equal(scrape, HttpTrackerUrl.GetScrapeUri(new Uri(announce))?.OriginalString);
    }

    [Fact]
    public void Scrape_url_carries_one_info_hash_per_torrent()
    {
        var a = new InfoHash(HashBytes);
        var b = InfoHash.FromHex("0123456789abcdef0123456789abcdef01234567");
        var uri = HttpTrackerUrl.BuildScrape(new Uri("http://t/scrape?pk=1"), [a, b]);
        var parts = uri.OriginalString.Split('?')[1].Split('&');
        Assert.Equal("pk=1", parts[0]);
        Assert.Equal(HashBytes, Decode(parts[1]["info_hash=".Length..]));
        Assert.Equal(b.ToArray(), Decode(parts[2]["info_hash=".Length..]));
    }
}
