using RTorrent.Abstractions;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Client.Extensions;

/// <summary>
/// BEP 9 on its own: serving our info dictionary in 16 KiB pieces, and fetching it for a magnet link from several
/// peers, checked against the info-hash. Peers are fakes that record what they were sent; time moves by hand.
/// </summary>
public class MetadataExchangeTests
{
    private static readonly byte[] Info = FakeExtensionTorrent.InfoDictionary(1000); // 20 KB: two metadata pieces

    [Fact]
    public void A_torrent_with_its_metadata_serves_each_piece_and_rejects_pieces_it_does_not_have()
    {
        var torrent = new FakeExtensionTorrent(Info, known: true);
        var exchange = new MetadataExchange(torrent);
        var peer = torrent.Connect();
        peer.TheirExtensions[MetadataExchange.Name] = 7;

        torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, MetadataMessages.Request(1));
        torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, MetadataMessages.Request(0));
        torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, MetadataMessages.Request(2));

        var sent = MetadataMessages.SentTo(peer);
        Assert.Equal([(1L, 1L), (1L, 0L), (2L, 2L)], sent.Select(m => (m.Type, m.Piece)));
        Assert.Equal(Info.AsSpan(MetadataExchange.PieceSize).ToArray(), sent[0].Trailer);
        Assert.Equal(Info.AsSpan(0, MetadataExchange.PieceSize).ToArray(), sent[1].Trailer);
        Assert.All(peer.Wire().Sent.Where(m => m.Id == MessageId.Extended), m => Assert.Equal(7, m.Index)); // their id
        Assert.Equal(1, exchange.Progress);
        Assert.Equal("complete", exchange.Status);
    }

    [Fact]
    public void A_magnet_rejects_requests_while_it_has_no_metadata()
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        _ = new MetadataExchange(torrent);
        var peer = torrent.Connect();
        peer.TheirExtensions[MetadataExchange.Name] = 7;
        torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, MetadataMessages.Request(0));
        Assert.Equal([(2L, 0L)], MetadataMessages.SentTo(peer).Select(m => (m.Type, m.Piece)));
    }

    [Fact]
    public void A_magnet_fetches_the_pieces_from_the_peers_that_offer_them_and_hands_over_the_checked_dictionary()
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        var exchange = new MetadataExchange(torrent);
        Assert.Equal("waiting for a peer that has the metadata", exchange.Status);

        var a = torrent.Connect(metadataSize: Info.Length);
        Assert.Equal([(0L, 0L), (0L, 1L)], MetadataMessages.SentTo(a).Select(m => (m.Type, m.Piece)));
        Assert.Equal("0 of 2 metadata pieces", exchange.Status);

        torrent.Extensions.OnMessage(a, MetadataExchange.LocalId, MetadataMessages.Data(0, Info.Length, Info.AsSpan(0, MetadataExchange.PieceSize)));
        Assert.Equal(0.5, exchange.Progress);
        Assert.Null(torrent.Fetched);
        torrent.Extensions.OnMessage(a, MetadataExchange.LocalId, MetadataMessages.Data(1, Info.Length, Info.AsSpan(MetadataExchange.PieceSize)));

        Assert.Equal(Info, torrent.Fetched);
        Assert.Empty(torrent.Disconnected);
    }

    [Fact]
    public void Metadata_that_does_not_match_the_info_hash_drops_its_senders_and_the_fetch_starts_over()
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        var exchange = new MetadataExchange(torrent);
        var liar = torrent.Connect(metadataSize: Info.Length);
        var forged = Info.ToArray();
        forged[^2] ^= 0xFF;

        torrent.Extensions.OnMessage(liar, MetadataExchange.LocalId, MetadataMessages.Data(0, Info.Length, forged.AsSpan(0, MetadataExchange.PieceSize)));
        torrent.Extensions.OnMessage(liar, MetadataExchange.LocalId, MetadataMessages.Data(1, Info.Length, forged.AsSpan(MetadataExchange.PieceSize)));

        Assert.Null(torrent.Fetched);
        Assert.Equal(liar, Assert.Single(torrent.Disconnected).Peer);
        Assert.Contains(torrent.Logged, l => l.Level == PluginLogLevel.Warning && l.Message.Contains("does not match"));
        Assert.Equal("waiting for a peer that has the metadata", exchange.Status); // the size may have been the lie too

        torrent.Leave(liar);
        var honest = torrent.Connect(metadataSize: Info.Length);
        foreach (var (_, piece, _) in MetadataMessages.SentTo(honest))
        {
            int start = (int)piece * MetadataExchange.PieceSize;
            torrent.Extensions.OnMessage(honest, MetadataExchange.LocalId,
                MetadataMessages.Data(piece, Info.Length, Info.AsSpan(start, Math.Min(MetadataExchange.PieceSize, Info.Length - start))));
        }
        Assert.Equal(Info, torrent.Fetched);
    }

    [Theory]
    [InlineData(2, 16384)]   // no such piece
    [InlineData(-1, 16384)]
    [InlineData(0, 100)]     // short piece
    [InlineData(1, 16384)]   // the last piece is shorter than 16 KiB
    public void A_piece_out_of_range_or_of_the_wrong_size_is_a_protocol_error(long piece, int length)
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        _ = new MetadataExchange(torrent);
        var peer = torrent.Connect(metadataSize: Info.Length);
        Assert.Throws<PeerProtocolException>(() =>
            torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, MetadataMessages.Data(piece, Info.Length, new byte[length])));
        Assert.Throws<PeerProtocolException>(() => torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, "not bencode"u8.ToArray()));
    }

    [Fact]
    public void Requests_unanswered_for_10_seconds_are_asked_again()
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        _ = new MetadataExchange(torrent);
        var slow = torrent.Connect(metadataSize: Info.Length);
        var other = torrent.Connect(metadataSize: Info.Length);
        Assert.Equal(2, MetadataMessages.SentTo(slow).Count);
        Assert.Empty(MetadataMessages.SentTo(other)); // every piece is asked of someone already

        torrent.Tick(TimeSpan.FromSeconds(9));
        Assert.Equal(2, MetadataMessages.SentTo(slow).Count + MetadataMessages.SentTo(other).Count);
        torrent.Tick(TimeSpan.FromSeconds(2)); // 11 s
        Assert.Equal(4, MetadataMessages.SentTo(slow).Count + MetadataMessages.SentTo(other).Count);
    }

    [Fact]
    public void A_peer_that_rejects_is_not_asked_again_for_30_seconds()
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        _ = new MetadataExchange(torrent);
        var peer = torrent.Connect(metadataSize: Info.Length);
        torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, MetadataMessages.Reject(0));
        torrent.Extensions.OnMessage(peer, MetadataExchange.LocalId, MetadataMessages.Reject(1));
        peer.Wire().Clear();

        torrent.Tick(TimeSpan.FromSeconds(29));
        Assert.Empty(MetadataMessages.SentTo(peer));
        torrent.Tick(TimeSpan.FromSeconds(2));
        Assert.Equal([0L, 1L], MetadataMessages.SentTo(peer).Select(m => m.Piece));
    }

    [Fact]
    public void A_peer_that_leaves_frees_its_requests_for_the_others()
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        _ = new MetadataExchange(torrent);
        var leaving = torrent.Connect(metadataSize: Info.Length);
        var staying = torrent.Connect(metadataSize: Info.Length);
        torrent.Leave(leaving);
        torrent.Tick(TimeSpan.FromSeconds(1));
        Assert.Equal([0L, 1L], MetadataMessages.SentTo(staying).Select(m => m.Piece));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(17L * 1024 * 1024)]
    public void A_peer_claiming_an_impossible_size_is_not_asked(long size)
    {
        var torrent = new FakeExtensionTorrent(Info, known: false);
        var exchange = new MetadataExchange(torrent);
        var peer = torrent.Connect(metadataSize: size);
        Assert.Empty(MetadataMessages.SentTo(peer));
        Assert.Equal(0, exchange.Progress);
    }
}
