using System.Text;
using RTorrent.Plugins.LocalPeerDiscovery;

namespace RTorrent.Abstractions.Tests.Samples;

public sealed class LsdMessageTests
{
    private static readonly string HashA = new('a', 40);
    private static readonly string HashB = "0123456789ABCDEF0123456789abcdef01234567";

    [Fact]
    public void An_announce_is_formatted_as_BEP_14_says()
    {
        var message = Assert.Single(LsdMessage.Format("239.192.152.143:6771", 6881, [HashA], "c00k1e"));

        Assert.Equal(
            "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: " + HashA + "\r\ncookie: c00k1e\r\n\r\n\r\n",
            Encoding.ASCII.GetString(message));
    }

    [Fact]
    public void Many_torrents_are_batched_into_messages_under_1400_bytes()
    {
        var hashes = Enumerable.Range(0, 100).Select(i => i.ToString("x40")).ToArray();

        var messages = LsdMessage.Format("[ff15::efc0:988f]:6771", 51413, hashes, "cookie");

        Assert.True(messages.Count > 1);
        Assert.All(messages, m => Assert.True(m.Length <= LsdMessage.MaxMessageBytes, $"{m.Length} bytes"));
        var parsed = messages.Select(m => LsdMessage.TryParse(m)).ToArray();
        Assert.All(parsed, p => Assert.Equal(51413, p!.Port));
        Assert.Equal(hashes, parsed.SelectMany(p => p!.InfoHashes));
    }

    [Fact]
    public void Parsing_reads_several_info_hashes_and_the_cookie_in_any_header_case()
    {
        var text = "bt-search * http/1.1\nHOST: 239.192.152.143:6771\nport:  7000 \ninfohash: " + HashA + "\nINFOHASH: " + HashB + "\nX-Extra: whatever\nCookie: abc\n\n";

        var announce = LsdMessage.TryParse(Encoding.ASCII.GetBytes(text));

        Assert.NotNull(announce);
        Assert.Equal(7000, announce.Port);
        Assert.Equal([HashA, HashB.ToLowerInvariant()], announce.InfoHashes);
        Assert.Equal("abc", announce.Cookie);
    }

    [Theory]
    [InlineData("M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")] // SSDP, not LSD
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: -5\r\nInfohash: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nInfohash: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: not-hex-not-hex-not-hex-not-hex-not-hex!\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: aaaa\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\nInfohash: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")] // after the headers
    [InlineData("")]
    public void Anything_that_is_not_a_usable_announce_is_rejected(string text) =>
        Assert.Null(LsdMessage.TryParse(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Binary_junk_and_oversized_datagrams_are_rejected()
    {
        var junk = new byte[512];
        new Random(1).NextBytes(junk);
        Assert.Null(LsdMessage.TryParse(junk));

        var big = Encoding.ASCII.GetBytes("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: " + HashA + "\r\n" + new string('x', 9000) + "\r\n\r\n");
        Assert.Null(LsdMessage.TryParse(big));
    }

    [Fact]
    public void Formatting_refuses_bad_input()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LsdMessage.Format("h", 0, [HashA], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format("h", 1, ["xyz"], null));
    }
}
