using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

/// <summary>Issue 16's codecs that carry IPv6: BEP 7's ipv6= and peers6, BEP 11's added6 / dropped6.</summary>
public class IPv6CodecTests
{
    private static TrackerAnnounceRequest Request(IPAddress? ipv6) => new()
    {
        InfoHash = new InfoHash(new byte[20]),
        PeerId = new byte[20],
        Port = 6881,
        IPv6Address = ipv6,
    };

    [Fact]
    public void Announce_url_carries_ipv6_percent_encoded_and_only_for_an_ipv6_address()
    {
        var url = HttpTrackerUrl.BuildAnnounce(new Uri("http://t.example/announce"), Request(IPAddress.Parse("2001:db8::1"))).OriginalString;
        Assert.Contains("&ipv6=2001%3Adb8%3A%3A1", url, StringComparison.Ordinal);
        // A scope id means nothing to a tracker.
        var scoped = HttpTrackerUrl.BuildAnnounce(new Uri("http://t.example/announce"), Request(IPAddress.Parse("fe80::1%2"))).OriginalString;
        Assert.Contains("&ipv6=fe80%3A%3A1", scoped, StringComparison.Ordinal);
        Assert.DoesNotContain("ipv6=", HttpTrackerUrl.BuildAnnounce(new Uri("http://t.example/announce"), Request(null)).OriginalString, StringComparison.Ordinal);
        Assert.DoesNotContain("ipv6=", HttpTrackerUrl.BuildAnnounce(new Uri("http://t.example/announce"), Request(IPAddress.Loopback)).OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public void The_announced_ipv6_address_is_a_global_one_first_then_unique_local_never_loopback_or_link_local()
    {
        var a = (string s) => IPAddress.Parse(s);
        Assert.Equal(a("2001:db8::7"), LocalIPv6Address.Choose([a("::1"), a("fe80::1"), a("fd00::2"), a("2001:db8::7")]));
        Assert.Equal(a("fd00::2"), LocalIPv6Address.Choose([a("::1"), a("fe80::1"), a("fd00::2"), a("192.168.1.2")]));
        Assert.Null(LocalIPv6Address.Choose([a("::1"), a("fe80::1"), a("fec0::1"), a("::ffff:10.0.0.1"), a("10.0.0.1")]));
    }

    [Fact]
    public void Peers6_of_an_http_answer_are_18_byte_entries_and_a_ragged_list_is_refused()
    {
        var body = BencodeWriter.Encode(new BDictionary
        {
            ["interval"] = new BInteger(60),
            ["peers"] = new BString(new byte[] { 10, 0, 0, 1, 0x1a, 0xe1 }),
            ["peers6"] = new BString((byte[])[.. IPAddress.Parse("2001:db8::9").GetAddressBytes(), 0x1a, 0xe2]),
        });
        var r = HttpTrackerResponseParser.ParseAnnounce(body);
        Assert.Equal([IPEndPoint.Parse("10.0.0.1:6881"), IPEndPoint.Parse("[2001:db8::9]:6882")], r.Peers);
        var ragged = BencodeWriter.Encode(new BDictionary { ["interval"] = new BInteger(60), ["peers6"] = new BString(new byte[17]) });
        Assert.Throws<TrackerException>(() => HttpTrackerResponseParser.ParseAnnounce(ragged));
    }

    [Fact]
    public void Pex_sends_ipv6_peers_in_added6_with_their_flags_and_dropped6()
    {
        var v4 = IPEndPoint.Parse("10.0.0.1:1000");
        var v6 = IPEndPoint.Parse("[2001:db8::1]:2000");
        var gone6 = IPEndPoint.Parse("[2001:db8::2]:3000");
        var msg = BencodeReader.DecodeDictionary(PexPeerSource.Encode([v4, v6], [0x01, 0x12], [gone6]));
        Assert.Equal([10, 0, 0, 1, 0x03, 0xe8], msg.Get<BString>("added")!.Bytes.ToArray());
        Assert.Equal([.. v6.Address.GetAddressBytes(), 0x07, 0xd0], msg.Get<BString>("added6")!.Bytes.ToArray());
        Assert.Equal([0x01], msg.Get<BString>("added.f")!.Bytes.ToArray());
        Assert.Equal([0x12], msg.Get<BString>("added6.f")!.Bytes.ToArray());
        Assert.Empty(msg.Get<BString>("dropped")!.Bytes.ToArray());
        Assert.Equal([.. gone6.Address.GetAddressBytes(), 0x0b, 0xb8], msg.Get<BString>("dropped6")!.Bytes.ToArray());
    }

    [Fact]
    public void Pex_added6_is_honoured_within_the_same_per_message_cap_as_added()
    {
        var v6 = new byte[18 * 40];
        var v4 = new byte[6 * 40];
        for (int i = 0; i < 40; i++)
        {
            v6[i * 18] = 0x20; v6[i * 18 + 1] = 0x01; v6[i * 18 + 15] = (byte)(i + 1); v6[i * 18 + 17] = 1;
            v4[i * 6] = 10; v4[i * 6 + 3] = (byte)(i + 1); v4[i * 6 + 5] = 1;
        }
        var only6 = PexPeerSource.DecodeAdded(BencodeWriter.Encode(new BDictionary { ["added6"] = new BString(v6) }));
        Assert.Equal(40, only6.Count);
        Assert.All(only6, p => Assert.Equal(AddressFamily.InterNetworkV6, p.AddressFamily));
        var both = PexPeerSource.DecodeAdded(BencodeWriter.Encode(new BDictionary { ["added"] = new BString(v4), ["added6"] = new BString(v6) }));
        Assert.Equal(PexPeerSource.MaxAcceptedPerMessage, both.Count);
        Assert.Equal(40, both.Count(p => p.AddressFamily == AddressFamily.InterNetwork));
        Assert.Throws<RTorrent.Engine.Peers.PeerProtocolException>(() =>
            PexPeerSource.DecodeAdded(BencodeWriter.Encode(new BDictionary { ["added6"] = new BString(new byte[19]) })));
    }
}
