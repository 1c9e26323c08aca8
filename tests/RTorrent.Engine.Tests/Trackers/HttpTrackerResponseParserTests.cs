using System.Net;
using System.Text;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class HttpTrackerResponseParserTests
{
    private static byte[] Encode(BDictionary d) => BencodeWriter.Encode(d);

    private static TrackerException Fails(string body) =>
        Assert.Throws<TrackerException>(() => HttpTrackerResponseParser.ParseAnnounce(Encoding.Latin1.GetBytes(body)));

    [Fact]
    public void Compact_ipv4_and_ipv6_peers_and_every_field()
    {
        var v4 = new[] { new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881), new IPEndPoint(IPAddress.Parse("192.168.1.2"), 51413) };
        var v6 = new[] { new IPEndPoint(IPAddress.Parse("2001:db8::1"), 6882) };
        var body = Encode(new BDictionary
        {
            ["interval"] = new BInteger(1800),
            ["min interval"] = new BInteger(900),
            ["tracker id"] = new BString("abc"),
            ["warning message"] = new BString("be nice\n"),
            ["complete"] = new BInteger(7),
            ["incomplete"] = new BInteger(8),
            ["downloaded"] = new BInteger(9),
            ["external ip"] = new BString(new byte[] { 1, 2, 3, 4 }),
            ["peers"] = new BString(CompactPeers.Encode(v4, System.Net.Sockets.AddressFamily.InterNetwork)),
            ["peers6"] = new BString(CompactPeers.Encode(v6, System.Net.Sockets.AddressFamily.InterNetworkV6)),
        });
        var r = HttpTrackerResponseParser.ParseAnnounce(body);
        Assert.Equal([.. v4, .. v6], r.Peers);
        Assert.Equal(TimeSpan.FromSeconds(1800), r.Interval);
        Assert.Equal(TimeSpan.FromSeconds(900), r.MinInterval);
        Assert.Equal("abc", r.TrackerId);
        Assert.Equal("be nice", r.WarningMessage);
        Assert.Equal((7, 8, 9), (r.Seeders, r.Leechers, r.Downloaded));
        Assert.Equal(IPAddress.Parse("1.2.3.4"), r.ExternalAddress);
    }

    [Fact]
    public void Dictionary_peer_list_skips_bad_entries_but_keeps_the_rest()
    {
        var body = Encode(new BDictionary
        {
            ["interval"] = new BInteger(60),
            ["peers"] = new BList
            {
                new BDictionary { ["ip"] = new BString("10.1.2.3"), ["port"] = new BInteger(1000), ["peer id"] = new BString("x") },
                new BDictionary { ["ip"] = new BString("::1"), ["port"] = new BInteger(1001) },
                new BDictionary { ["ip"] = new BString("::ffff:10.9.9.9"), ["port"] = new BInteger(1002) },
                new BDictionary { ["ip"] = new BString("host.example"), ["port"] = new BInteger(1003) },
                new BDictionary { ["ip"] = new BString("7"), ["port"] = new BInteger(1004) },
                new BDictionary { ["ip"] = new BString("10.1.2.4"), ["port"] = new BInteger(0) },
                new BDictionary { ["ip"] = new BString("10.1.2.5"), ["port"] = new BInteger(70000) },
                new BDictionary { ["ip"] = new BString("10.1.2.6") },
                new BInteger(5),
                new BDictionary { ["ip"] = new BString("10.1.2.3"), ["port"] = new BInteger(1000) },
            },
        });
        var r = HttpTrackerResponseParser.ParseAnnounce(body);
        Assert.Equal(
        [
            new IPEndPoint(IPAddress.Parse("10.1.2.3"), 1000),
            new IPEndPoint(IPAddress.IPv6Loopback, 1001),
            new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1002),
        ], r.Peers);
    }

    [Fact]
    public void Same_address_with_different_ports_are_different_peers_and_port_zero_is_dropped()
    {
        var peers = new byte[] { 127, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 1, 0x1a, 0xe2, 127, 0, 0, 1, 0, 0, 127, 0, 0, 1, 0x1a, 0xe1 };
        var r = HttpTrackerResponseParser.ParseAnnounce(Encode(new BDictionary { ["peers"] = new BString(peers) }));
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 6881), new IPEndPoint(IPAddress.Loopback, 6882)], r.Peers);
        Assert.Null(r.Interval);
    }

    [Fact]
    public void Failure_reason_becomes_a_tracker_failure_with_the_trackers_words()
    {
        var e = Fails("d14:failure reason36:Requested download is not authorizede");
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Equal("Requested download is not authorized", e.Message);
        Assert.Null(e.RetryIn);
    }

    [Fact]
    public void Failure_with_retry_in_and_control_characters()
    {
        var e = Fails("d14:failure reason11:go\u0001away\u001b[2J8:retry ini5ee");
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Equal("go away [2J", e.Message);
        Assert.Equal(TimeSpan.FromMinutes(5), e.RetryIn);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   \r\n", "empty")]
    [InlineData("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "web page instead of a tracker answer: \"502 Bad Gateway\"")]
    [InlineData("<!DOCTYPE html><p>oops", "web page")]
    [InlineData("Internal error", "not bencode: it starts with \"Internal error\"")]
    [InlineData("li1ee", "not bencode")]
    [InlineData("d8:intervali1800e5:peers12:abc", "truncated")]
    [InlineData("d8:intervali1800e", "truncated")]
    [InlineData("d8:intervalixe", "not valid bencode")]
    [InlineData("d8:interval4:1800e", "'interval' is a string, expected an integer")]
    [InlineData("d5:peersi5ee", "'peers' is an integer, expected a string or a list")]
    [InlineData("d5:peers5:abcdee", "'peers' has 5 bytes, not a multiple of 6")]
    [InlineData("d6:peers67:abcdefge", "'peers6' has 7 bytes, not a multiple of 18")]
    [InlineData("d10:tracker idi1ee", "'tracker id' is an integer, expected a string")]
    [InlineData("d8:completeli1eee", "'complete' is a list, expected an integer")]
    public void Garbage_becomes_an_invalid_response_that_says_what_was_wrong(string body, string expected)
    {
        var e = Fails(body);
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Random_bytes_only_ever_give_tracker_exceptions()
    {
        var rng = new Random(42);
        var valid = Encode(new BDictionary
        {
            ["interval"] = new BInteger(1800),
            ["peers"] = new BString(new byte[60]),
            ["peers6"] = new BString(new byte[36]),
            ["tracker id"] = new BString("t"),
        });
        for (int i = 0; i < 5000; i++)
        {
            var mutated = (byte[])valid.Clone();
            int changes = rng.Next(1, 4);
            for (int c = 0; c < changes; c++) mutated[rng.Next(mutated.Length)] = (byte)rng.Next(256);
            var cut = mutated.AsMemory(0, rng.Next(mutated.Length + 1));
            try
            {
                HttpTrackerResponseParser.ParseAnnounce(cut);
            }
            catch (TrackerException)
            {
            }
        }
    }

    [Fact]
    public void Scrape_answer_gives_counts_per_hash()
    {
        var a = InfoHash.FromHex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        var body = Encoding.Latin1.GetBytes("d5:filesd20:").Concat(a.ToArray())
            .Concat("d8:completei3e10:downloadedi10e10:incompletei2eeee"u8.ToArray()).ToArray();
        var r = HttpTrackerResponseParser.ParseScrape(body);
        Assert.Equal(new ScrapeCounts(3, 2, 10), r.Files[a]);
        Assert.Empty(HttpTrackerResponseParser.ParseScrape("d5:filesdee"u8.ToArray()).Files);
        Assert.Equal(TrackerErrorKind.InvalidResponse,
            Assert.Throws<TrackerException>(() => HttpTrackerResponseParser.ParseScrape("de"u8.ToArray())).Kind);
        Assert.Equal(TrackerErrorKind.TrackerFailure,
            Assert.Throws<TrackerException>(() => HttpTrackerResponseParser.ParseScrape("d14:failure reason4:nopee"u8.ToArray())).Kind);
    }
}
