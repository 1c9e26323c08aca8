using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Tests.Client.Extensions;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Pieces between us and our peers, on their own: their BITFIELD and HAVE counted, kept aside for a magnet, our bitfield
/// and HAVEs sent, our interest following both. Peers are fakes that record what they were sent.
/// </summary>
public class AvailabilityTrackerTests
{
    private const int Pieces = 8;
    private readonly Host _host = new();
    private readonly AvailabilityTracker _tracker;

    public AvailabilityTrackerTests() => _tracker = new AvailabilityTracker(_host, _host.Pool);

    private Peer Connect()
    {
        var p = TestPeers.Create(_host.Time, pieceCount: Pieces);
        _host.PeerList.Add(p);
        _host.Pool.Add(p.EndPoint, "tracker");
        return p;
    }

    private static byte[] BitfieldOf(params int[] pieces) => TestPeers.Pieces(Pieces, pieces).ToBytes();

    [Fact]
    public void A_bitfield_is_counted_and_makes_us_interested_only_if_the_peer_has_something_we_need()
    {
        _host.Manager.SetHave(0, true);
        var useful = Connect();
        var useless = Connect();

        _tracker.OnBitfield(useful, BitfieldOf(0, 3));
        _tracker.OnBitfield(useless, BitfieldOf(0));

        Assert.Equal(1, _host.Manager.GetAvailability(3));
        Assert.Equal([MessageId.Interested], useful.Wire().SentIds);
        Assert.True(useful.AmInterested);
        Assert.Empty(useless.Wire().SentIds);
        Assert.Throws<PeerProtocolException>(() => _tracker.OnBitfield(Connect(), [0xFF, 0xFF]));
    }

    [Fact]
    public void A_have_of_a_needed_piece_makes_us_interested_and_the_last_one_makes_the_peer_a_seed()
    {
        var peer = Connect();
        _tracker.OnBitfield(peer, BitfieldOf(0, 1, 2, 3, 4, 5));
        peer.Wire().Clear();
        _tracker.OnHave(peer, 6);
        Assert.Empty(peer.Wire().SentIds); // interested already
        Assert.Equal(1, _host.Manager.GetAvailability(6));

        _tracker.OnHave(peer, 7);
        Assert.True(peer.CountedAsSeed);
        Assert.True(_host.Pool.Get(peer.EndPoint)!.IsSeed);
        Assert.Equal(1, _host.Manager.GetAvailability(0)); // counted once, as a seed now
        Assert.Throws<PeerProtocolException>(() => _tracker.OnHave(peer, Pieces));
    }

    [Fact]
    public void A_seed_is_dropped_when_we_are_complete_too()
    {
        _host.Complete = true;
        var seed = Connect();
        _tracker.OnBitfield(seed, BitfieldOf(0, 1, 2, 3, 4, 5, 6, 7));
        Assert.Equal([(seed, "both seeds")], _host.Disconnected);
    }

    [Fact]
    public void What_a_peer_announces_before_the_metadata_waits_for_it_and_a_bad_announcement_drops_only_that_peer()
    {
        _host.Meta = null;
        var a = Connect();
        var b = Connect();
        _tracker.OnBitfield(a, BitfieldOf(1, 2));
        _tracker.OnHave(a, 5);
        _tracker.OnHave(b, 99); // kept: nobody knows yet whether there is a piece 99
        Assert.Equal([5], a.PendingHaves);

        _host.Meta = Host.Metainfo8;
        _tracker.RebindAfterMetadata();

        Assert.Equal([1, 2, 5], Enumerable.Range(0, Pieces).Where(i => a.PeerPieces[i]));
        Assert.Null(a.PendingBitfield);
        Assert.Null(a.PendingHaves);
        Assert.True(a.AmInterested);
        Assert.Equal(b, Assert.Single(_host.Disconnected).Peer); // a HAVE for piece 99 of 8
    }

    [Fact]
    public void A_new_peer_gets_our_bitfield_first_and_nothing_when_we_have_nothing()
    {
        var first = Connect();
        _tracker.SendBitfield(first);
        Assert.Empty(first.Wire().SentIds);

        _host.Manager.SetHave(2, true);
        var second = Connect();
        _tracker.SendBitfield(second);
        var m = Assert.Single(second.Wire().Sent);
        Assert.Equal(MessageId.Bitfield, m.Id);
        Assert.Equal(BitfieldOf(2), m.Payload);
    }

    [Fact]
    public void A_verified_piece_is_announced_to_everyone_and_ends_interest_in_peers_with_nothing_else()
    {
        var onlyThat = Connect();
        var more = Connect();
        _tracker.OnBitfield(onlyThat, BitfieldOf(4));
        _tracker.OnBitfield(more, BitfieldOf(4, 5));
        onlyThat.Wire().Clear();
        more.Wire().Clear();

        _host.Manager.SetHave(4, true);
        _tracker.AnnounceHave(4);

        Assert.Equal([MessageId.Have, MessageId.NotInterested], onlyThat.Wire().SentIds);
        Assert.Equal([MessageId.Have], more.Wire().SentIds);
        Assert.Equal(4, more.Wire().Sent[0].Index);
    }

    [Fact]
    public void Completing_drops_seeds_and_ends_interest()
    {
        var seed = Connect();
        var leecher = Connect();
        _tracker.OnBitfield(seed, BitfieldOf(0, 1, 2, 3, 4, 5, 6, 7));
        _tracker.OnBitfield(leecher, BitfieldOf(3));
        leecher.Wire().Clear();

        _tracker.OnComplete();

        Assert.Equal([(seed, "both seeds")], _host.Disconnected);
        Assert.Equal([MessageId.NotInterested], leecher.Wire().SentIds);
    }

    [Fact]
    public void A_peer_that_leaves_no_longer_counts()
    {
        var seed = Connect();
        var partial = Connect();
        _tracker.OnBitfield(seed, BitfieldOf(0, 1, 2, 3, 4, 5, 6, 7));
        _tracker.OnBitfield(partial, BitfieldOf(3));
        Assert.Equal(2, _host.Manager.GetAvailability(3));
        _tracker.OnPeerLeft(seed);
        _tracker.OnPeerLeft(partial);
        Assert.Equal(0, _host.Manager.GetAvailability(3));
    }

    private Peer ConnectFast()
    {
        var p = TestPeers.Create(_host.Time, pieceCount: Pieces, features: PeerFeatures.Extensions | PeerFeatures.Fast);
        _host.PeerList.Add(p);
        _host.Pool.Add(p.EndPoint, "tracker");
        return p;
    }

    [Fact]
    public void A_fast_peer_hears_have_none_have_all_or_a_bitfield_and_others_only_a_bitfield_when_there_is_one()
    {
        var none = ConnectFast();
        _tracker.SendBitfield(none);
        Assert.Equal([MessageId.HaveNone], none.Wire().SentIds);
        var plain = Connect();
        _tracker.SendBitfield(plain);
        Assert.Empty(plain.Wire().SentIds);

        _host.Manager.SetHave(2, true);
        var some = ConnectFast();
        _tracker.SendBitfield(some);
        Assert.Equal([MessageId.Bitfield], some.Wire().SentIds);

        for (int i = 0; i < Pieces; i++) _host.Manager.SetHave(i, true);
        var all = ConnectFast();
        _tracker.SendBitfield(all);
        Assert.Equal([MessageId.HaveAll], all.Wire().SentIds);
        plain.Wire().Clear();
        _tracker.SendBitfield(plain);
        Assert.Equal([MessageId.Bitfield], plain.Wire().SentIds);

        _host.Meta = null; // a magnet without its metadata has nothing
        var early = ConnectFast();
        _tracker.SendBitfield(early);
        Assert.Equal([MessageId.HaveNone], early.Wire().SentIds);
    }

    [Fact]
    public void Have_all_makes_a_seed_and_have_none_a_peer_with_nothing_that_hears_its_allowed_fast_pieces_we_have()
    {
        var seed = ConnectFast();
        _tracker.OnHaveAll(seed);
        Assert.True(seed.CountedAsSeed && seed.PeerPieces.AllSet);
        Assert.Equal(1, _host.Manager.GetAvailability(5));
        Assert.Equal([MessageId.Interested], seed.Wire().SentIds);

        for (int i = 0; i < Pieces; i++) _host.Manager.SetHave(i, true);
        var leech = ConnectFast();
        _tracker.OnHaveNone(leech);
        var expected = FastExtension.AllowedFastFor(leech.EndPoint.Address, _host.InfoHash, Pieces);
        Assert.Equal(Pieces / 2, expected.Length);
        Assert.Equal(expected, leech.AllowedFastOut);
        Assert.Equal(expected, leech.Wire().Sent.Where(m => m.Id == MessageId.AllowedFast).Select(m => m.Index));
        Assert.Equal(0, leech.PeerPieces.TrueCount);
    }

    [Fact]
    public void An_allowed_fast_piece_is_offered_when_we_get_it_if_the_peer_lacks_it_and_not_to_peers_that_do_not_speak_fast()
    {
        var leech = ConnectFast();
        var plain = Connect();
        _tracker.OnHaveNone(leech);
        _tracker.OnBitfield(plain, BitfieldOf(1));
        Assert.DoesNotContain(MessageId.AllowedFast, leech.Wire().SentIds); // we have nothing yet
        int piece = leech.AllowedFastOut[0];
        _host.Manager.SetHave(piece, true);
        _tracker.AnnounceHave(piece);
        Assert.Equal([piece], leech.Wire().Sent.Where(m => m.Id == MessageId.AllowedFast).Select(m => m.Index));
        Assert.DoesNotContain(MessageId.AllowedFast, plain.Wire().SentIds);
        Assert.Empty(plain.AllowedFastOut);
    }

    [Fact]
    public void Have_all_before_the_metadata_is_applied_once_it_is_known()
    {
        _host.Meta = null;
        var peer = ConnectFast();
        _tracker.OnHaveAll(peer);
        Assert.True(peer.PendingHaveAll);
        _host.Meta = Host.Metainfo8;
        _tracker.RebindAfterMetadata();
        Assert.True(peer.CountedAsSeed);
        Assert.False(peer.PendingHaveAll);
        Assert.Equal(1, _host.Manager.GetAvailability(0));
    }

    private sealed class Host : IAvailabilityHost
    {
        public static readonly TorrentMetainfo Metainfo8 = TorrentMetainfo.FromInfoDictionary(FakeExtensionTorrent.InfoDictionary(Pieces), []);

        public ManualTimeProvider Time { get; } = new();
        public PeerPool Pool { get; } = new(_ => false);
        public PieceManager Manager { get; } = new(Pieces, 16384, Pieces * 16384L);
        public List<Peer> PeerList { get; } = [];
        public List<(Peer Peer, string Reason)> Disconnected { get; } = [];
        public TorrentMetainfo? Meta = Metainfo8;
        public bool Complete;

        public TorrentMetainfo? Metainfo => Meta;
        public InfoHash InfoHash => Metainfo8.WireHash;
        PieceManager IAvailabilityHost.Pieces => Manager;
        public bool IsComplete => Complete;
        public IReadOnlyList<Peer> Peers => PeerList;
        public void Disconnect(Peer peer, string reason) => Disconnected.Add((peer, reason));
        public List<(Peer Peer, int Piece)> Announced { get; } = [];
        public void PeerAnnounced(Peer peer, int piece) => Announced.Add((peer, piece));
    }
}
