using RTorrent.Engine.Bencode;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Peers;

public class ExtensionHandshakeTests
{
    private static byte[] Naming(int extensions)
    {
        var m = new BDictionary();
        for (int i = 0; i < extensions; i++) m[$"x_ext{i}"] = new BInteger(1 + i % 255);
        return BencodeWriter.Encode(new BDictionary { ["m"] = m, ["p"] = new BInteger(6881) });
    }

    [Fact]
    public void Round_trips_the_extensions_and_the_port()
    {
        var hs = ExtensionHandshake.Decode(Naming(3));
        Assert.Equal(3, hs.Extensions.Count);
        Assert.Equal(2, hs.Extensions["x_ext1"]);
        Assert.Equal(6881, hs.ListenPort);
    }

    [Fact]
    public void A_handshake_naming_more_extensions_than_the_limit_is_refused_with_an_error_naming_the_limit()
    {
        // Issue 14: every name a peer gives is kept for the life of the connection.
        Assert.Equal(ExtensionHandshake.MaxExtensions, ExtensionHandshake.Decode(Naming(ExtensionHandshake.MaxExtensions)).Extensions.Count);
        var e = Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Decode(Naming(ExtensionHandshake.MaxExtensions + 1)));
        Assert.Contains($"the limit is {ExtensionHandshake.MaxExtensions}", e.Message);
        Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Decode(Naming(4000)));
    }

    [Fact]
    public void Names_accumulated_over_repeated_handshakes_are_capped_too()
    {
        ExtensionHandshake.CheckAccumulated(ExtensionHandshake.MaxExtensions);
        var e = Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.CheckAccumulated(ExtensionHandshake.MaxExtensions + 1));
        Assert.Contains($"the limit is {ExtensionHandshake.MaxExtensions}", e.Message);
    }
}
