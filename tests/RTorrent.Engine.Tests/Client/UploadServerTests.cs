using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Tests.Client.Extensions;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Upload serving on its own: requests queued and answered from pieces read ahead, choking by slots and by the
/// 10-second rechoke, protocol errors. Peers are fakes that record what they were sent; reads are in memory; the
/// loop is real because reads post their results to it.
/// </summary>
public sealed class UploadServerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const int PieceLength = 16384;
    private readonly Host _host = new();
    private readonly RateMeter _uploaded;
    private readonly UploadServer _server;

    public UploadServerTests()
    {
        _uploaded = new RateMeter(_host.Time);
        _server = new UploadServer(_host, _uploaded);
    }

    public void Dispose() => _host.Loop.Dispose();

    private Task OnLoop(Action action) => _host.Loop.InvokeAsync(action);

    private Peer Interested(bool unchoked = true)
    {
        var p = TestPeers.Create(_host.Time, pieceCount: 8);
        p.PeerInterested = true;
        p.AmChoking = !unchoked;
        _host.PeerList.Add(p);
        return p;
    }

    [Fact]
    public async Task A_request_is_answered_with_the_block_once_its_piece_is_read_and_counted_as_uploaded()
    {
        var peer = Interested();
        await OnLoop(() =>
        {
            _server.OnRequest(peer, 2, 1000, 500);
            _server.Serve(peer);
        });
        await peer.Wire().WhenSentAsync(MessageId.Piece).WaitAsync(Bound);

        var piece = Assert.Single(peer.Wire().Sent);
        Assert.Equal((2, 1000, 500), (piece.Index, piece.Begin, piece.Length));
        Assert.Equal(500, peer.Upload.Total);
        Assert.Equal(500, _uploaded.Total);
        Assert.Equal([2], _host.Reads);
        Assert.Empty(peer.Incoming);
    }

    [Fact]
    public async Task Pieces_further_down_the_queue_are_read_ahead_each_once()
    {
        var peer = Interested();
        await OnLoop(() =>
        {
            foreach (int p in new[] { 1, 3, 5, 3 }) _server.OnRequest(peer, p, 0, 100);
            _server.Serve(peer);
        });
        await peer.Wire().WhenSentAsync(MessageId.Piece, 4).WaitAsync(Bound);
        await OnLoop(() => { }); // the last read's callback has finished
        Assert.Equal([1, 3, 5], _host.Reads.Order());
        Assert.Equal([1, 3, 5, 3], peer.Wire().Sent.Select(m => m.Index));
    }

    [Fact]
    public async Task Requests_are_ignored_while_choked_or_for_pieces_we_lack_and_capped_per_peer()
    {
        var choked = Interested(unchoked: false);
        var peer = Interested();
        await OnLoop(() =>
        {
            _server.OnRequest(choked, 0, 0, 100);
            _server.OnRequest(peer, 7, 0, 100); // we do not have piece 7
            for (int i = 0; i < 10; i++) _server.OnRequest(peer, 0, i * 100, 100);
        });
        Assert.Empty(choked.Incoming);
        Assert.Equal(4, peer.Incoming.Count); // MaxIncomingRequests
    }

    [Theory]
    [InlineData(8, 0, 100)]           // no such piece
    [InlineData(-1, 0, 100)]
    [InlineData(0, -1, 100)]
    [InlineData(0, 0, 0)]
    [InlineData(0, 16000, 1000)]      // past the end of the piece
    [InlineData(0, 0, 128 * 1024 + 1)]
    public async Task A_request_outside_the_torrent_is_a_protocol_error(int piece, int begin, int length)
    {
        var peer = Interested();
        var error = await Record.ExceptionAsync(() => OnLoop(() => _server.OnRequest(peer, piece, begin, length)));
        Assert.IsType<PeerProtocolException>(error);
    }

    [Fact]
    public async Task A_cancel_drops_the_request_if_it_is_still_queued()
    {
        var peer = Interested();
        await OnLoop(() =>
        {
            _server.OnRequest(peer, 0, 0, 100);
            _server.OnRequest(peer, 0, 100, 100);
            _server.OnCancel(peer, 0, 0, 100);
            _server.OnCancel(peer, 0, 100, 99); // not the same request
        });
        Assert.Equal([new BlockRequest(0, 100, 100)], peer.Incoming);
    }

    [Fact]
    public async Task Nothing_more_is_queued_while_the_send_buffer_is_full_and_serving_resumes_when_it_drains()
    {
        var peer = Interested();
        peer.Wire().Queued = PeerConnection.SendHighWater;
        await OnLoop(() =>
        {
            _server.OnRequest(peer, 0, 0, 100);
            _server.Serve(peer);
        });
        await OnLoop(() => { });
        Assert.Empty(peer.Wire().Sent);

        peer.Wire().Queued = 0;
        await OnLoop(() => _server.Serve(peer));
        await peer.Wire().WhenSentAsync(MessageId.Piece).WaitAsync(Bound);
    }

    [Fact]
    public async Task An_interested_peer_is_unchoked_while_a_slot_is_free()
    {
        var first = Interested(unchoked: false);
        var second = Interested(unchoked: false);
        var third = Interested(unchoked: false);
        await OnLoop(() =>
        {
            _server.OnInterested(first);
            _server.OnInterested(second);
            _server.OnInterested(third); // two slots
        });
        Assert.Equal([MessageId.Unchoke], first.Wire().SentIds);
        Assert.Equal([MessageId.Unchoke], second.Wire().SentIds);
        Assert.Empty(third.Wire().SentIds);
        Assert.Equal(_host.Now, first.LastUnchoked);
    }

    [Fact]
    public async Task The_rechoke_runs_every_10_seconds_and_a_choked_peer_loses_its_queued_requests()
    {
        var keep = Interested();
        keep.Upload.Add(1000);
        var drop = Interested();
        var other = Interested();
        _host.IsSeeding = true;
        _host.Slots = 1; // one regular slot (the best uploader) and one optimistic
        await OnLoop(() => _server.OnRequest(drop, 0, 0, 100));
        _host.Time.Advance(TimeSpan.FromSeconds(1));

        await OnLoop(() => _server.RechokeIfDue(_host.Now));
        Assert.Equal(1, _server.Rechokes);
        var choked = new[] { keep, drop, other }.Where(p => p.AmChoking).ToList();
        Assert.Single(choked);
        Assert.False(keep.AmChoking);
        Assert.Empty(choked[0].Incoming);
        Assert.Equal([MessageId.Choke], choked[0].Wire().SentIds);

        _host.Time.Advance(TimeSpan.FromSeconds(9));
        await OnLoop(() => _server.RechokeIfDue(_host.Now));
        Assert.Equal(1, _server.Rechokes);
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        await OnLoop(() => _server.RechokeIfDue(_host.Now));
        Assert.Equal(2, _server.Rechokes);
    }

    [Fact]
    public async Task A_peer_leaving_an_unchoked_slot_it_used_hands_it_on_at_once()
    {
        var leaving = Interested();
        var idle = Interested(unchoked: false);
        idle.PeerInterested = false;
        await OnLoop(() => _server.OnPeerLeft(idle)); // it held no slot
        Assert.Equal(0, _server.Rechokes);
        _host.PeerList.Remove(leaving);
        await OnLoop(() => _server.OnPeerLeft(leaving));
        Assert.Equal(1, _server.Rechokes);
    }

    [Fact]
    public async Task A_read_that_fails_stops_the_torrent_with_the_reason()
    {
        var peer = Interested();
        _host.ReadError = new IOException("disk unplugged");
        await OnLoop(() =>
        {
            _server.OnRequest(peer, 4, 0, 100);
            _server.Serve(peer);
        });
        Assert.Equal("reading piece 4 failed: disk unplugged", await _host.Failed.Task.WaitAsync(Bound));
        Assert.Empty(peer.Wire().Sent);
    }

    [Fact]
    public async Task Nothing_is_served_before_the_metadata_is_known()
    {
        _host.Meta = null;
        var peer = Interested();
        await OnLoop(() =>
        {
            _server.OnRequest(peer, 0, 0, 100);
            _server.Serve(peer);
        });
        Assert.Empty(peer.Incoming);
        Assert.Empty(_host.Reads);
    }

    // ---- BEP 6 ----

    private Peer FastPeer(bool unchoked)
    {
        var p = TestPeers.Create(_host.Time, pieceCount: 8, features: PeerFeatures.Extensions | PeerFeatures.Fast);
        p.PeerInterested = true;
        p.AmChoking = !unchoked;
        p.AllowedFastOut = [1, 5];
        _host.PeerList.Add(p);
        return p;
    }

    private static List<(int, int, int)> Rejects(Peer p) =>
        p.Wire().Sent.Where(m => m.Id == MessageId.RejectRequest).Select(m => (m.Index, m.Begin, m.Length)).ToList();

    [Fact]
    public async Task A_choked_fast_peer_is_served_its_allowed_fast_pieces_it_lacks_and_rejected_the_rest()
    {
        var peer = FastPeer(unchoked: false);
        peer.PeerPieces.Set(5); // it has 5 already: no free second copy
        await OnLoop(() =>
        {
            _server.OnRequest(peer, 0, 0, 100);   // not allowed fast
            _server.OnRequest(peer, 1, 0, 100);   // allowed fast: served while choked
            _server.OnRequest(peer, 5, 0, 100);   // allowed fast, but it has it
            _server.Serve(peer);
        });
        await peer.Wire().WhenSentAsync(MessageId.Piece).WaitAsync(Bound);
        Assert.Equal([(0, 0, 100), (5, 0, 100)], Rejects(peer));
        var piece = Assert.Single(peer.Wire().Sent, m => m.Id == MessageId.Piece);
        Assert.Equal((1, 0, 100), (piece.Index, piece.Begin, piece.Length));
        Assert.Equal(0, peer.ProtocolViolations);
    }

    [Fact]
    public async Task A_fast_peer_gets_a_reject_for_each_request_we_drop_and_a_plain_peer_nothing()
    {
        var fast = FastPeer(unchoked: true);
        var plain = Interested();
        await OnLoop(() =>
        {
            foreach (var p in new[] { fast, plain })
            {
                // (a block over 16 KiB is rejected and counted too: FastWireTests, with pieces large enough to ask for one)
                _server.OnRequest(p, 7, 0, 100);                  // a piece we lack
                for (int i = 0; i < 6; i++) _server.OnRequest(p, 0, i * 100, 100); // 4 queued (MaxIncomingRequests), 2 past
            }
        });
        Assert.Equal([(7, 0, 100), (0, 400, 100), (0, 500, 100)], Rejects(fast));
        Assert.Equal(2, fast.RequestsPastQueue);
        Assert.Empty(plain.Wire().SentIds);
        Assert.Equal(2, plain.RequestsPastQueue);
        Assert.Equal(4, fast.Incoming.Count);
    }

    [Fact]
    public async Task A_cancelled_request_still_queued_is_rejected_for_a_fast_peer()
    {
        var peer = FastPeer(unchoked: true);
        await OnLoop(() =>
        {
            _server.OnRequest(peer, 0, 0, 100);
            _server.OnRequest(peer, 0, 100, 100);
            _server.OnCancel(peer, 0, 0, 100);
            _server.OnCancel(peer, 0, 300, 100); // never asked: nothing to answer
        });
        Assert.Equal([(0, 0, 100)], Rejects(peer));
        Assert.Equal([new BlockRequest(0, 100, 100)], peer.Incoming);
    }

    [Fact]
    public async Task Choking_a_fast_peer_rejects_its_queued_requests_except_allowed_fast_ones_which_are_still_served()
    {
        var fast = FastPeer(unchoked: true);
        var plain = Interested();
        await OnLoop(() =>
        {
            foreach (var p in new[] { fast, plain })
            {
                _server.OnRequest(p, 0, 0, 100);
                _server.OnRequest(p, 1, 0, 100);
                _server.OnRequest(p, 2, 0, 100);
                UploadServer.SetChoke(p, true, _host.Now);
            }
        });
        Assert.Equal([(0, 0, 100), (2, 0, 100)], Rejects(fast));
        Assert.Equal([new BlockRequest(1, 0, 100)], fast.Incoming);
        Assert.Empty(plain.Incoming); // BEP 3: the choke drops them, silently
        Assert.Equal([MessageId.Choke], plain.Wire().SentIds);

        await OnLoop(() => _server.Serve(fast));
        await fast.Wire().WhenSentAsync(MessageId.Piece).WaitAsync(Bound);
        Assert.Equal(1, Assert.Single(fast.Wire().Sent, m => m.Id == MessageId.Piece).Index);
    }

    [Fact]
    public async Task A_fast_peer_that_keeps_requesting_while_choked_is_dropped_and_the_count_restarts_when_unchoked()
    {
        var peer = FastPeer(unchoked: false);
        int limit = _host.Config.MaxIncomingRequests + IncomingRequestLimit.MaxIgnored;
        await OnLoop(() =>
        {
            for (int i = 0; i < limit; i++) _server.OnRequest(peer, 0, 0, 100);
            UploadServer.SetChoke(peer, false, _host.Now);
            UploadServer.SetChoke(peer, true, _host.Now);
            for (int i = 0; i < limit; i++) _server.OnRequest(peer, 0, 0, 100);
        });
        var error = await Record.ExceptionAsync(() => OnLoop(() => _server.OnRequest(peer, 0, 0, 100)));
        Assert.Contains("while choked", Assert.IsType<PeerProtocolException>(error).Message);
    }

    private sealed class Host : IUploadHost
    {
        public Host()
        {
            Meta = TorrentMetainfo.FromInfoDictionary(FakeExtensionTorrent.InfoDictionary(8), []);
            Pieces = new PieceManager(8, PieceLength, 8 * PieceLength);
            for (int p = 0; p < 7; p++) Pieces.SetHave(p, true);
        }

        public ManualTimeProvider Time { get; } = new();
        public EngineLoop Loop { get; } = new("upload-test");
        public List<Peer> PeerList { get; } = [];
        public List<int> Reads { get; } = [];
        public TorrentMetainfo? Meta;
        public bool IsSeeding;
        public int Slots = 2;
        public Exception? ReadError;
        public TaskCompletionSource<string> Failed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TorrentMetainfo? Metainfo => Meta;
        public PieceManager Pieces { get; }
        public IReadOnlyList<Peer> Peers => PeerList;
        public bool Seeding => IsSeeding;
        public EngineConfig Config => new() { MaxIncomingRequests = 4, UploadSlots = Slots, ReadCacheBytes = 1 << 20 };
        public DateTimeOffset Now => Time.GetUtcNow();
        SynchronizationContext IUploadHost.Loop => Loop;
        public CancellationToken RunToken => CancellationToken.None;

        public PieceReadCache ReadCache { get; } = new(1 << 20);

        public Func<long, Memory<byte>, CancellationToken, ValueTask> DataReader => (offset, buffer, _) =>
        {
            int piece = (int)(offset / PieceLength);
            lock (Reads) Reads.Add(piece);
            if (ReadError is { } e) return ValueTask.FromException(e);
            buffer.Span.Fill((byte)piece);
            return ValueTask.CompletedTask;
        };

        public void Fail(string reason) => Failed.TrySetResult(reason);
    }
}
