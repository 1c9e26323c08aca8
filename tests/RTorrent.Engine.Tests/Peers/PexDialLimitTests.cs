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

/// <summary>Issue 14, end to end: a peer flooding PEX cannot make the engine take more than 50 addresses from it.</summary>
public class PexFloodTests
{
    [Fact]
    public async Task A_peer_advertising_hundreds_of_addresses_in_two_messages_adds_50()
    {
        await using var h = await EngineHarness.StartAsync(setup: c => c.Sources.Add(new PexPeerSourceFactory()));
        var meta = h.NewTorrent();
        var t = await h.Engine.AddAsync(meta, new TorrentOptions { SavePath = h.Root });

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var sockets = new List<Socket>();
        var (wire, _) = await RawSeeder.HandshakeAsync(h.Engine, meta, sockets, PeerFeatures.Extensions, ct);
        using var socket = sockets[0];
        await wire.SendAsync(Extended(0, new ExtensionHandshake { Extensions = { ["ut_pex"] = 2, ["ut_metadata"] = 3 } }.Encode()), ct);

        for (int round = 0; round < 2; round++)
        {
            // 200 addresses nobody listens on (loopback, port 1), different each round.
            var added = Enumerable.Range(0, 200).Select(i => new IPEndPoint(new IPAddress(new byte[] { 127, 1, (byte)round, (byte)i }), 1)).ToList();
            await wire.SendAsync(Extended(PexPeerSource.LocalId, PexPeerSource.Encode(added, added.Select(_ => (byte)0).ToList(), [])), ct);
            // A metadata request behind it: its answer means the PEX message was handled.
            await wire.SendAsync(Extended(MetadataExchange.LocalId, "d8:msg_typei0e5:piecei0ee"u8.ToArray()), ct);
            while (await wire.ReadMessageAsync(ct) is var m && !(m.Id == MessageId.Extended && m.Payload[0] == 3)) { }
            await h.TickAsync(21); // past the one-message-per-20-s limit
        }
        var details = await h.Engine.GetDetailsAsync(t);
        var pex = Assert.Single(details.Sources, s => s.Source == "pex");
        Assert.Equal(PexAddressBudget.MaxPerPeer, pex.PeersReported);
    }

    private static byte[] Extended(int id, byte[] payload)
    {
        var m = new byte[6 + payload.Length];
        MessageWriter.WriteHeader(m, MessageId.Extended, 1 + payload.Length);
        m[5] = (byte)id;
        payload.CopyTo(m, 6);
        return m;
    }
}
