using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Client;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Client.RateLimiting;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>Issue 14: what one PEX peer can make us dial is bounded.</summary>
public class PexDialLimitTests
{
    [Fact]
    public void A_pex_peer_may_add_at_most_50_addresses_per_message_and_over_its_connection()
    {
        var flood = new byte[6 * 1000];
        for (int i = 0; i < 1000; i++) { flood[i * 6] = 10; flood[i * 6 + 2] = (byte)(i >> 8); flood[i * 6 + 3] = (byte)i; flood[i * 6 + 5] = 1; }
        var big = RTorrent.Engine.Bencode.BencodeWriter.Encode(new RTorrent.Engine.Bencode.BDictionary { ["added"] = new RTorrent.Engine.Bencode.BString(flood) });
        var decoded = PexPeerSource.DecodeAdded(big);
        Assert.Equal(50, decoded.Count);

        var budget = new PexAddressBudget();
        Assert.Equal(30, budget.Admit(decoded.Take(30)).Count);
        Assert.Empty(budget.Admit(decoded.Take(30))); // the same again adds nothing
        var more = budget.Admit(decoded.Skip(30).Concat(Enumerable.Range(0, 50).Select(i => new IPEndPoint(IPAddress.Parse("10.1.0.1"), 1000 + i))));
        Assert.Equal(20, more.Count);
        Assert.Equal(PexAddressBudget.MaxPerPeer, budget.Count);
        Assert.Empty(budget.Admit([new IPEndPoint(IPAddress.Parse("10.2.0.1"), 1)]));
    }
}
