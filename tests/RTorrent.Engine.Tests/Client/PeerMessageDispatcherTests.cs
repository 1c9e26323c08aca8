using System.Buffers;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Wire-message dispatch on its own: every decoded message reaches the side that handles it, the choke and interest
/// flags are kept, the first-message rule holds, and a protocol error drops the peer without handling the rest.
/// The sides are one fake that records the calls.
/// </summary>
public class PeerMessageDispatcherTests
{
    private readonly Sides _sides = new();
    private readonly PeerMessageDispatcher _dispatcher;
    private readonly Peer _peer;

    public PeerMessageDispatcherTests()
    {
        _dispatcher = new PeerMessageDispatcher(_sides, _sides, _sides, _sides, _sides);
        _peer = TestPeers.Create(_sides.Time);
        _sides.PeerList.Add(_peer);
    }

    private static PeerMessage M(MessageId id, int index = 0, int begin = 0, int length = 0, byte[]? payload = null) =>
        new() { Id = id, Index = index, Begin = begin, Length = length, Payload = payload };

    private static PeerMessage Block(int piece, int begin) => M(MessageId.Piece, piece, begin, 100, ArrayPool<byte>.Shared.Rent(16384));

    private void Dispatch(params PeerMessage[] messages) => _dispatcher.OnMessages(_peer.Connection, [.. messages]);

    [Fact]
    public void Each_message_goes_to_the_side_that_handles_it_and_the_peer_is_asked_and_served_after_the_batch()
    {
        _peer.PeerChoking = false;
        Dispatch(
            M(MessageId.Bitfield, payload: [0xFF]),
            M(MessageId.Have, 3),
            M(MessageId.Interested),
            M(MessageId.Request, 1, 0, 16384),
            M(MessageId.Cancel, 1, 0, 16384),
            Block(2, 16384),
            M(MessageId.Extended, 2, payload: [1]),
            M(MessageId.Port, 6881),
            M(MessageId.Choke),
            M(MessageId.NotInterested));

        Assert.Equal(
        [
            "bitfield 1", "have 3", "interested", "request 1 0 16384", "cancel 1 0 16384", "block 2 16384 100",
            "extended 2", "dht port 6881", "choked", "request more", "serve",
        ], _sides.Calls);
        Assert.True(_peer.PeerChoking);
        Assert.False(_peer.PeerInterested);
        Assert.Equal(_sides.Now, _peer.LastReceived);
    }

    [Fact]
    public void Flags_change_once_and_an_unchoke_restarts_the_snub_clock()
    {
        Dispatch(M(MessageId.Interested), M(MessageId.Interested), M(MessageId.Choke)); // choking already: nothing to give back
        _sides.Time.Advance(TimeSpan.FromMinutes(1));
        Dispatch(M(MessageId.Unchoke), M(MessageId.Choke), M(MessageId.Choke));

        Assert.Equal(["interested", "request more", "serve", "choked", "request more", "serve"], _sides.Calls);
        Assert.Equal(_sides.Now, _peer.LastBlockAt);
    }

    [Fact]
    public void A_bitfield_after_other_messages_drops_the_peer_and_the_rest_of_the_batch_is_not_handled()
    {
        Dispatch(M(PeerMessage.KeepAlive), M(MessageId.Extended, 0, payload: []), M(MessageId.Port, 1)); // may come first
        Dispatch(M(MessageId.Bitfield, payload: [0xFF]));
        _sides.Calls.Clear();

        Dispatch(M(MessageId.Have, 1), M(MessageId.Bitfield, payload: [0xFF]), Block(0, 0));

        Assert.Equal(["have 1"], _sides.Calls); // neither the block nor the after-batch work
        Assert.Equal("BITFIELD after other messages", _peer.Wire().CloseReason);
    }

    [Fact]
    public void A_protocol_error_from_a_side_drops_the_peer_with_its_reason()
    {
        _sides.HaveThrows = new PeerProtocolException("HAVE for piece 99 of 8");
        Dispatch(M(MessageId.Have, 99), M(MessageId.Interested));
        Assert.Equal("HAVE for piece 99 of 8", _peer.Wire().CloseReason);
        Assert.Empty(_sides.Calls);
    }

    [Fact]
    public void Batches_of_a_peer_that_left_or_closed_are_dropped()
    {
        var stranger = new FakeWire(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1));
        _dispatcher.OnMessages(stranger, [M(MessageId.Have, 1), Block(0, 0)]);
        _peer.Connection.Close("gone");
        Dispatch(M(MessageId.Have, 1));
        Assert.Empty(_sides.Calls);
    }

    [Fact]
    public void Blocks_before_the_metadata_and_ports_out_of_range_are_ignored()
    {
        _sides.KnowsMetadata = false;
        Dispatch(Block(0, 0), M(MessageId.Port, 0));
        Assert.Equal(["request more", "serve"], _sides.Calls);
    }

    [Fact]
    public void A_drained_send_buffer_serves_the_peer_and_a_closed_connection_lets_it_leave()
    {
        _dispatcher.OnSendBufferLow(_peer.Connection);
        _dispatcher.OnClosed(_peer.Connection, "closed by peer");
        _dispatcher.OnClosed(new FakeWire(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 2)), "unknown");
        Assert.Equal(["serve", "closed: closed by peer"], _sides.Calls);
    }

    // ---- BEP 6 ----

    private Peer FastPeer()
    {
        var p = TestPeers.Create(_sides.Time, features: PeerFeatures.Extensions | PeerFeatures.Fast);
        _sides.PeerList.Add(p);
        return p;
    }

    [Fact]
    public void Fast_messages_from_a_fast_peer_go_to_their_sides()
    {
        var fast = FastPeer();
        _dispatcher.OnMessages(fast.Connection, [M(MessageId.AllowedFast, 2), M(MessageId.HaveAll), M(MessageId.SuggestPiece, 3),
            M(MessageId.RejectRequest, 1, 16384, 16384), M(MessageId.Unchoke), M(MessageId.Choke)]);
        Assert.Equal(["allowed fast 2", "have all", "suggest 3", "rejected 1 16384 16384", "choked", "request more", "serve"], _sides.Calls);
        Assert.Equal(_sides.Now, fast.ChokedAt);

        var other = FastPeer();
        _sides.Calls.Clear();
        _dispatcher.OnMessages(other.Connection, [M(MessageId.HaveNone)]);
        Assert.Equal(["have none", "request more", "serve"], _sides.Calls);
    }

    [Theory]
    [InlineData(MessageId.HaveAll)]
    [InlineData(MessageId.HaveNone)]
    [InlineData(MessageId.SuggestPiece)]
    [InlineData(MessageId.RejectRequest)]
    [InlineData(MessageId.AllowedFast)]
    public void A_fast_message_from_a_peer_that_did_not_set_the_bit_drops_it_with_the_reason(MessageId id)
    {
        Dispatch(M(id), M(MessageId.Interested));
        Assert.Empty(_sides.Calls);
        Assert.Equal($"fast-extension message {id} from a peer that did not set the fast extension bit", _peer.Wire().CloseReason);
    }

    [Theory]
    [InlineData(MessageId.HaveAll)]
    [InlineData(MessageId.HaveNone)]
    public void Have_all_or_have_none_after_other_messages_drops_the_peer(MessageId id)
    {
        var fast = FastPeer();
        _dispatcher.OnMessages(fast.Connection, [M(MessageId.Bitfield, payload: [0xFF]), M(id)]);
        Assert.Equal($"{id} after other messages", fast.Wire().CloseReason);
    }

    [Fact]
    public void Suggestions_and_allowed_fast_before_the_metadata_are_ignored()
    {
        _sides.KnowsMetadata = false;
        var fast = FastPeer();
        _dispatcher.OnMessages(fast.Connection, [M(MessageId.SuggestPiece, 1), M(MessageId.AllowedFast, 1), M(MessageId.HaveNone)]);
        Assert.Equal(["have none", "request more", "serve"], _sides.Calls); // and HAVE NONE still counts as first
        Assert.Null(fast.Wire().CloseReason);
    }

    private sealed class Sides : IPeerMessageHost, IAvailabilityMessages, IDownloadMessages, IUploadMessages, IExtensionMessages
    {
        public ManualTimeProvider Time { get; } = new();
        public List<Peer> PeerList { get; } = [];
        public List<string> Calls { get; } = [];
        public bool KnowsMetadata = true;
        public Exception? HaveThrows;

        public IReadOnlyList<Peer> Peers => PeerList;
        public DateTimeOffset Now => Time.GetUtcNow();
        public bool MetadataKnown => KnowsMetadata;
        public void OnDhtPort(Peer peer, int port) => Calls.Add($"dht port {port}");
        public void OnPeerClosed(Peer peer, string reason) => Calls.Add($"closed: {reason}");

        public void OnHave(Peer peer, int piece)
        {
            if (HaveThrows is { } e) throw e;
            Calls.Add($"have {piece}");
        }

        public void OnBitfield(Peer peer, byte[] payload) => Calls.Add($"bitfield {payload.Length}");
        public void OnHaveAll(Peer peer) => Calls.Add("have all");
        public void OnHaveNone(Peer peer) => Calls.Add("have none");
        public void OnRejected(Peer peer, int piece, int begin, int length) => Calls.Add($"rejected {piece} {begin} {length}");
        public void OnSuggest(Peer peer, int piece) => Calls.Add($"suggest {piece}");
        public void OnAllowedFast(Peer peer, int piece) => Calls.Add($"allowed fast {piece}");
        public void OnChoked(Peer peer) => Calls.Add("choked");

        public void OnBlock(Peer peer, int piece, int begin, int length, byte[] data, DateTimeOffset now)
        {
            ArrayPool<byte>.Shared.Return(data);
            Calls.Add($"block {piece} {begin} {length}");
        }

        public void RequestMore(Peer peer) => Calls.Add("request more");
        public void OnInterested(Peer peer) => Calls.Add("interested");
        public void OnRequest(Peer peer, int piece, int begin, int length) => Calls.Add($"request {piece} {begin} {length}");
        public void OnCancel(Peer peer, int piece, int begin, int length) => Calls.Add($"cancel {piece} {begin} {length}");
        public void Serve(Peer peer) => Calls.Add("serve");
        public void OnMessage(Peer peer, int id, byte[] payload) => Calls.Add($"extended {id}");
    }
}
