using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Client.Extensions;

/// <summary>BEP 10 for one torrent: our handshake, what a peer's handshake changes, and routing by our message ids.</summary>
public class ExtensionProtocolTests
{
    [Fact]
    public void Our_handshake_offers_the_registered_extensions_and_what_a_peer_needs_to_know()
    {
        var torrent = new FakeExtensionTorrent(FakeExtensionTorrent.InfoDictionary(10), known: true);
        torrent.Extensions.Register("ut_metadata", 1, (_, _) => { });
        torrent.Extensions.Register("ut_pex", 2, (_, _) => { });
        var peer = torrent.Connect();

        torrent.Extensions.SendHandshake(peer);

        var m = Assert.Single(peer.Wire().Sent);
        Assert.Equal((MessageId.Extended, 0), (m.Id, m.Index));
        var hs = ExtensionHandshake.Decode(m.Payload!);
        Assert.Equal(new Dictionary<string, int> { ["ut_metadata"] = 1, ["ut_pex"] = 2, ["upload_only"] = 3 }, hs.Extensions);
        Assert.Equal(torrent.Config.ClientName, hs.Client);
        Assert.Equal(51413, hs.ListenPort);
        Assert.Equal(torrent.Config.MaxIncomingRequests, hs.RequestQueue);
        Assert.Equal(peer.EndPoint.Address, hs.YourIp);
        Assert.Equal(torrent.InfoBytes.Length, hs.MetadataSize);
    }

    [Fact]
    public void A_peers_handshake_sets_its_ids_client_queue_and_port_and_is_announced()
    {
        var torrent = new FakeExtensionTorrent(FakeExtensionTorrent.InfoDictionary(10), known: false);
        var announced = new List<Peer>();
        torrent.Extensions.HandshakeReceived += announced.Add;
        var peer = torrent.Connect(outgoing: false);
        peer.TheirExtensions["ut_holepunch"] = 4;

        torrent.Extensions.OnMessage(peer, 0, new ExtensionHandshake
        {
            Extensions = new() { ["ut_pex"] = 9, ["ut_holepunch"] = 0 },
            Client = "qBittorrent/5.0",
            RequestQueue = 100_000,
            ListenPort = 6881,
            MetadataSize = 12345,
        }.Encode());

        Assert.Equal([peer], announced);
        Assert.Equal(new Dictionary<string, int> { ["ut_pex"] = 9 }, peer.TheirExtensions); // 0 switches one off
        Assert.Equal("qBittorrent/5.0", peer.Client);
        Assert.Equal(300, peer.PeerReqq); // capped by what we ever keep outstanding
        Assert.Equal(6881, peer.ListenPort);
        Assert.Equal(12345, peer.MetadataSize);
        // It dialled us: its listening endpoint is known now, and it is the peer we are connected to.
        var known = torrent.Pool.Get(new IPEndPoint(peer.EndPoint.Address, 6881));
        Assert.True(known is { Connected: true });
    }

    [Fact]
    public void Messages_go_to_the_extension_registered_under_the_id_and_unknown_ids_are_ignored()
    {
        var torrent = new FakeExtensionTorrent(FakeExtensionTorrent.InfoDictionary(10), known: true);
        var got = new List<string>();
        torrent.Extensions.Register("a", 1, (_, p) => got.Add($"a {p.Span[0]}"));
        torrent.Extensions.Register("b", 2, (_, p) => got.Add($"b {p.Span[0]}"));
        torrent.Extensions.Register("a", 4, (_, p) => got.Add($"a again {p.Span[0]}")); // a name takes its new id
        Assert.Throws<ArgumentException>(() => torrent.Extensions.Register("c", 3, (_, _) => { })); // upload_only's
        var peer = torrent.Connect();

        torrent.Extensions.OnMessage(peer, 1, [1]);
        torrent.Extensions.OnMessage(peer, 2, [2]);
        torrent.Extensions.OnMessage(peer, 4, [3]);
        torrent.Extensions.OnMessage(peer, 200, [4]);

        Assert.Equal(["b 2", "a again 3"], got);
        Assert.Throws<PeerProtocolException>(() => torrent.Extensions.OnMessage(peer, 0, "garbage"u8.ToArray()));
    }

    [Fact]
    public void Upload_only_from_the_handshake_or_libtorrents_message_is_kept_and_reported_once_per_change()
    {
        var torrent = new FakeExtensionTorrent(FakeExtensionTorrent.InfoDictionary(10), known: true);
        var peer = torrent.Connect();
        torrent.Extensions.OnMessage(peer, 0, new ExtensionHandshake { UploadOnly = true }.Encode());
        Assert.True(peer.UploadOnly);
        torrent.Extensions.OnMessage(peer, 3, [1]); // no change
        torrent.Extensions.OnMessage(peer, 3, [0]);
        Assert.False(peer.UploadOnly);
        Assert.Equal([peer, peer], torrent.UploadOnlyChanges);
        Assert.Throws<PeerProtocolException>(() => torrent.Extensions.OnMessage(peer, 3, []));
    }

    [Fact]
    public void A_change_of_our_upload_only_state_reaches_each_peer_once_by_message_or_by_a_new_handshake()
    {
        var torrent = new FakeExtensionTorrent(FakeExtensionTorrent.InfoDictionary(10), known: true);
        var named = torrent.Connect();
        var plain = torrent.Connect();
        torrent.Extensions.SendHandshake(named);
        torrent.Extensions.SendHandshake(plain);
        torrent.Extensions.OnMessage(named, 0, new ExtensionHandshake { Extensions = new() { ["upload_only"] = 9 } }.Encode());
        torrent.UploadOnly = true;
        torrent.Extensions.BroadcastUploadOnly(torrent.Peers);
        torrent.Extensions.BroadcastUploadOnly(torrent.Peers); // nothing new to say
        var toNamed = named.Wire().Sent.Where(m => m.Id == MessageId.Extended).ToList();
        Assert.Equal(2, toNamed.Count);
        Assert.Equal(9, toNamed[1].Index);
        Assert.Equal([1], toNamed[1].Payload!);
        var toPlain = plain.Wire().Sent.Where(m => m.Id == MessageId.Extended).ToList();
        Assert.Equal(2, toPlain.Count);
        Assert.True(ExtensionHandshake.Decode(toPlain[1].Payload!).UploadOnly);
    }
}
