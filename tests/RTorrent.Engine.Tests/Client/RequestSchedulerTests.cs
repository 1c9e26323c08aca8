using System.Buffers;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Requesting on its own: pipeline depth, what a block changes, choke, snub, endgame cancels and a failing picker.
/// Peers are fakes that record what they were sent; the piece state is a real <see cref="PieceManager"/>.
/// </summary>
public class RequestSchedulerTests
{
    private const int Block = PieceManager.BlockSize;
    private const int Pieces = 40;
    private const int BlocksPerPiece = 4;
    private readonly Host _host = new();
    private readonly RateMeter _downloaded;
    private readonly RequestScheduler _scheduler;

    public RequestSchedulerTests()
    {
        _downloaded = new RateMeter(_host.Time);
        _scheduler = new RequestScheduler(_host, _downloaded);
    }

    /// <summary>An unchoked peer we are interested in, that has every piece.</summary>
    private Peer Seed(int reqq = 250)
    {
        var p = TestPeers.Create(_host.Time, pieceCount: Pieces);
        for (int i = 0; i < Pieces; i++) p.PeerPieces.Set(i);
        p.PeerChoking = false;
        p.AmInterested = true;
        p.PeerReqq = reqq;
        return p;
    }

    private static List<PeerMessage> Requests(Peer p) => p.Wire().Sent.Where(m => m.Id == MessageId.Request).ToList();

    private static byte[] BlockData()
    {
        var b = ArrayPool<byte>.Shared.Rent(Block);
        b.AsSpan(0, Block).Fill(1);
        return b;
    }

    [Fact]
    public void A_peer_of_unknown_rate_gets_64_requests_capped_by_its_reqq_and_topped_up_in_batches()
    {
        var peer = Seed();
        _scheduler.RequestMore(peer);
        Assert.Equal(64, Requests(peer).Count);
        Assert.Equal(64, peer.Outstanding.Count);

        // Six answered: room for 6 is less than a batch (min(8, 64 / 4)), nothing is sent.
        foreach (var r in Requests(peer).Take(6)) _scheduler.OnBlock(peer, r.Index, r.Begin, r.Length, BlockData(), _host.Now);
        peer.Wire().Clear();
        _scheduler.RequestMore(peer);
        Assert.Empty(Requests(peer));

        var small = Seed(reqq: 5);
        _scheduler.RequestMore(small);
        Assert.Equal(5, Requests(small).Count);
    }

    [Fact]
    public void Nothing_is_requested_while_choked_uninterested_seeding_or_with_too_much_waiting_for_the_disk()
    {
        var choking = Seed();
        choking.PeerChoking = true;
        var bored = Seed();
        bored.AmInterested = false;
        _scheduler.RequestMore(choking);
        _scheduler.RequestMore(bored);
        Assert.Empty(choking.Wire().Sent);
        Assert.Empty(bored.Wire().Sent);

        var peer = Seed();
        _host.IsDownloading = false;
        _scheduler.RequestMore(peer);
        _host.IsDownloading = true;
        _host.Pending = _host.Config.MaxPendingDiskBytes + 1;
        _scheduler.RequestMore(peer);
        Assert.Empty(peer.Wire().Sent);
    }

    [Fact]
    public void A_block_is_counted_and_a_completed_piece_handed_on_and_an_unwanted_one_is_waste()
    {
        var peer = Seed(reqq: BlocksPerPiece);
        _scheduler.RequestMore(peer);
        var blocks = Requests(peer);
        Assert.Single(blocks.Select(r => r.Index).Distinct()); // every block of one piece

        foreach (var r in blocks.SkipLast(1)) _scheduler.OnBlock(peer, r.Index, r.Begin, r.Length, BlockData(), _host.Now);
        Assert.Null(_host.Completed);
        var last = blocks[^1];
        _scheduler.OnBlock(peer, last.Index, last.Begin, last.Length, BlockData(), _host.Now);
        Assert.Equal(last.Index, _host.Completed?.Index);
        Assert.Equal(BlocksPerPiece * Block, peer.Download.Total);
        Assert.Equal(BlocksPerPiece * Block, _downloaded.Total);
        Assert.Equal(0, peer.Outstanding.Count);

        _scheduler.OnBlock(peer, last.Index, last.Begin, last.Length, BlockData(), _host.Now); // again: verifying already
        Assert.Equal(Block, _host.WastedBytes);
    }

    [Fact]
    public void A_choke_gives_the_requests_back_to_the_swarm()
    {
        var peer = Seed(reqq: 4);
        _scheduler.RequestMore(peer);
        var asked = Requests(peer).Select(r => r.Index).Distinct().ToList();
        Assert.All(asked, i => Assert.False(_host.Manager.Wanted[i]));

        _scheduler.OnChoked(peer);
        Assert.Equal(0, peer.Outstanding.Count);
        Assert.All(asked, i => Assert.True(_host.Manager.Wanted[i]));
    }

    [Fact]
    public void A_peer_silent_past_the_snub_timeout_loses_its_requests_until_a_block_comes()
    {
        var slow = Seed();
        _scheduler.RequestMore(slow);
        slow.Wire().Clear();

        _host.Time.Advance(_host.Config.SnubTimeout);
        _scheduler.CheckSnub(slow, _host.Now);
        Assert.False(slow.Snubbed); // not past it yet
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        _scheduler.CheckSnub(slow, _host.Now);

        Assert.True(slow.Snubbed);
        Assert.Equal(64, slow.Wire().Sent.Count(m => m.Id == MessageId.Cancel));
        Assert.Contains(_host.Logged, l => l.Message.Contains("snubbed us"));
        slow.Wire().Clear();
        _scheduler.RequestMore(slow);
        var proof = Assert.Single(Requests(slow)); // one request to prove itself
        _scheduler.OnBlock(slow, proof.Index, proof.Begin, proof.Length, BlockData(), _host.Now);
        Assert.False(slow.Snubbed);
    }

    [Fact]
    public void In_endgame_the_other_peer_asked_for_a_block_hears_a_cancel_when_it_arrives()
    {
        var small = new PieceManager(1, 2 * Block, 2 * Block);
        _host.Manager = small;
        var a = TestPeers.Create(_host.Time, pieceCount: 1).Also(p => { p.PeerPieces.Set(0); p.PeerChoking = false; p.AmInterested = true; });
        var b = TestPeers.Create(_host.Time, pieceCount: 1).Also(p => { p.PeerPieces.Set(0); p.PeerChoking = false; p.AmInterested = true; });
        _scheduler.RequestMore(a);   // both blocks
        _scheduler.RequestMore(b);   // nothing left: endgame, the same blocks again
        Assert.True(small.IsEndgame);
        var r = Requests(b)[0];

        _scheduler.OnBlock(a, r.Index, r.Begin, r.Length, BlockData(), _host.Now);

        var cancel = Assert.Single(b.Wire().Sent, m => m.Id == MessageId.Cancel);
        Assert.Equal((r.Index, r.Begin, r.Length), (cancel.Index, cancel.Begin, cancel.Length));
    }

    [Fact]
    public void A_picker_that_throws_is_replaced_by_rarest_first_and_the_peer_still_gets_requests()
    {
        _host.Picker = new ThrowingPicker();
        var peer = Seed(reqq: 3);
        _scheduler.RequestMore(peer);
        Assert.IsType<RarestFirstPicker>(_host.Picker);
        Assert.Equal(3, Requests(peer).Count);
        Assert.Contains(_host.Logged, l => l.Level == PluginLogLevel.Error && l.Message.Contains("picker 'broken' failed"));
    }

    [Fact]
    public void A_peer_with_nothing_we_need_loses_our_interest()
    {
        for (int i = 0; i < Pieces; i++) _host.Manager.SetHave(i, i != 7);
        var peer = Seed();
        peer.PeerPieces.Clear(7);
        _scheduler.RequestMore(peer);
        Assert.Equal([MessageId.NotInterested], peer.Wire().SentIds);
        Assert.False(peer.AmInterested);
    }

    [Fact]
    public void Sequential_download_asks_from_the_stream_position()
    {
        _host.IsSequential = true;
        _scheduler.RequestMore(Seed(reqq: 1));
        Assert.Equal(0, _host.Manager.StreamPosition);
        _host.IsSequential = false;
        _scheduler.RequestMore(Seed(reqq: 1));
        Assert.Null(_host.Manager.StreamPosition);
    }

    private sealed class ThrowingPicker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked) => throw new InvalidOperationException("plugin bug");
    }

    // ---- BEP 6 ----

    private Peer FastSeed(int reqq = 250)
    {
        var p = TestPeers.Create(_host.Time, pieceCount: Pieces, features: PeerFeatures.Extensions | PeerFeatures.Fast);
        for (int i = 0; i < Pieces; i++) p.PeerPieces.Set(i);
        p.PeerChoking = false;
        p.AmInterested = true;
        p.PeerReqq = reqq;
        return p;
    }

    [Fact]
    public void A_fast_peers_choke_keeps_our_requests_and_its_reject_gives_the_block_back()
    {
        var peer = FastSeed(reqq: 4);
        _scheduler.RequestMore(peer);
        var first = Requests(peer)[0];
        peer.PeerChoking = true;
        _scheduler.OnChoked(peer);
        Assert.Equal(4, peer.Outstanding.Count);
        Assert.False(_host.Manager.Wanted[first.Index]);

        _scheduler.OnRejected(peer, first.Index, first.Begin, first.Length);
        Assert.Equal(3, peer.Outstanding.Count);
        Assert.True(_host.Manager.Wanted[first.Index]); // free for any peer again
        Assert.Equal(0, peer.ProtocolViolations);

        var other = Seed();
        _scheduler.RequestMore(other);
        Assert.Contains(Requests(other), r => (r.Index, r.Begin) == (first.Index, first.Begin));
    }

    [Fact]
    public void A_reject_while_unchoked_slows_the_peer_to_one_request_until_a_block_comes()
    {
        var peer = FastSeed();
        _scheduler.RequestMore(peer);
        var r = Requests(peer)[0];
        _scheduler.OnRejected(peer, r.Index, r.Begin, r.Length);
        Assert.True(peer.Snubbed);
    }

    [Fact]
    public void A_reject_for_a_block_we_never_asked_for_is_counted_and_too_many_drop_the_peer_but_one_we_cancelled_is_not()
    {
        var peer = FastSeed();
        _scheduler.RequestMore(peer);
        var cancelled = Requests(peer);
        _host.Time.Advance(_host.Config.SnubTimeout + TimeSpan.FromSeconds(1));
        _scheduler.CheckSnub(peer, _host.Now); // cancels all 64
        foreach (var r in cancelled) _scheduler.OnRejected(peer, r.Index, r.Begin, r.Length);
        Assert.Equal(0, peer.ProtocolViolations);

        _scheduler.OnRejected(peer, cancelled[0].Index, cancelled[0].Begin, cancelled[0].Length); // answered already
        Assert.Equal(1, peer.ProtocolViolations);
        for (int i = 1; i < FastExtension.MaxProtocolViolations; i++) _scheduler.OnRejected(peer, 3, 0, Block);
        var e = Assert.Throws<PeerProtocolException>(() => _scheduler.OnRejected(peer, 3, 0, Block));
        Assert.Contains("never requested", e.Message);
    }

    [Fact]
    public void While_a_fast_peer_chokes_us_only_its_allowed_fast_pieces_are_requested()
    {
        var peer = FastSeed();
        peer.PeerChoking = true;
        _scheduler.RequestMore(peer);
        Assert.Empty(Requests(peer)); // nothing allowed yet

        _scheduler.OnAllowedFast(peer, 9);
        _scheduler.OnAllowedFast(peer, 9); // once
        _scheduler.OnAllowedFast(peer, 17);
        Assert.Equal([9, 17], peer.AllowedFast);
        _scheduler.RequestMore(peer);
        Assert.Equal([9, 17], Requests(peer).Select(r => r.Index).Distinct().Order());
        Assert.Equal(2 * BlocksPerPiece, Requests(peer).Count);
        Assert.Throws<PeerProtocolException>(() => _scheduler.OnAllowedFast(peer, Pieces));
        Assert.Throws<PeerProtocolException>(() => _scheduler.OnAllowedFast(peer, -1));

        // Rejected while choked: the piece is no longer allowed.
        var r = Requests(peer).First(x => x.Index == 9);
        _scheduler.OnRejected(peer, r.Index, r.Begin, r.Length);
        Assert.Equal([17], peer.AllowedFast);
    }

    [Fact]
    public void Allowed_fast_pieces_past_the_cap_are_ignored()
    {
        var peer = FastSeed();
        for (int i = 0; i < Pieces; i++) _scheduler.OnAllowedFast(peer, i);
        Assert.Equal(FastExtension.MaxAllowedFastIn, peer.AllowedFast.Count);
    }

    [Fact]
    public void Suggested_pieces_are_requested_first_bounded_and_dropped_once_not_needed()
    {
        var peer = FastSeed(reqq: 8);
        _scheduler.OnSuggest(peer, 33);
        _scheduler.OnSuggest(peer, 21);
        _scheduler.RequestMore(peer);
        Assert.Equal([33, 33, 33, 33, 21, 21, 21, 21], Requests(peer).Select(r => r.Index));
        Assert.Throws<PeerProtocolException>(() => _scheduler.OnSuggest(peer, Pieces));

        for (int i = 0; i < FastExtension.MaxSuggestions + 5; i++) _scheduler.OnSuggest(peer, i);
        Assert.Equal(FastExtension.MaxSuggestions, peer.Suggested.Count);
        Assert.Equal(FastExtension.MaxSuggestions + 4, peer.Suggested[^1]);

        var other = FastSeed();
        _scheduler.OnSuggest(other, 2);
        _host.Manager.SetHave(2, true);
        _scheduler.RequestMore(other);
        Assert.Empty(other.Suggested);
    }

    [Fact]
    public void A_suggestion_never_overrides_priorities_a_plugin_picker_or_streaming()
    {
        var priorities = Enumerable.Repeat(Priority.Normal, Pieces).ToArray();
        priorities[10] = Priority.High;
        _host.Manager.SetPriorities(priorities);
        var peer = FastSeed(reqq: 4);
        _scheduler.OnSuggest(peer, 33);
        _scheduler.RequestMore(peer);
        Assert.All(Requests(peer), r => Assert.Equal(10, r.Index)); // the high-priority piece, not the hint
        Assert.Equal([33], peer.Suggested); // kept while still needed

        priorities[10] = Priority.Normal;
        _host.Manager.SetPriorities(priorities);
        for (int i = 0; i < Pieces; i++) if (i != 20) _host.Manager.PeerHas(i); // piece 20 is the rarest
        _host.IsSequential = true;
        var streaming = FastSeed(reqq: 4);
        _scheduler.OnSuggest(streaming, 33);
        _scheduler.RequestMore(streaming);
        Assert.All(Requests(streaming), r => Assert.Equal(20, r.Index));

        _host.IsSequential = false;
        _host.Picker = new LowestFirstPicker();
        var plugin = FastSeed(reqq: 4);
        _scheduler.OnSuggest(plugin, 33);
        _scheduler.RequestMore(plugin);
        Assert.DoesNotContain(Requests(plugin), r => r.Index == 33);
    }

    private sealed class LowestFirstPicker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            int n = 0;
            for (int p = 0; p < swarm.PieceCount && n < ranked.Length; p++)
                if (swarm.Wanted[p] && peer.Pieces[p]) ranked[n++] = p;
            return n;
        }
    }

    [Fact]
    public void Requests_a_fast_peer_leaves_unanswered_after_choking_us_go_back_after_the_snub_timeout()
    {
        var peer = FastSeed(reqq: 4);
        _scheduler.RequestMore(peer);
        peer.PeerChoking = true;
        peer.ChokedAt = _host.Now;
        _scheduler.OnChoked(peer);
        peer.Wire().Clear();
        _host.Time.Advance(_host.Config.SnubTimeout);
        _scheduler.CheckSnub(peer, _host.Now);
        Assert.Equal(4, peer.Outstanding.Count);
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        _scheduler.CheckSnub(peer, _host.Now);
        Assert.Equal(0, peer.Outstanding.Count);
        Assert.Equal(4, peer.Wire().Sent.Count(m => m.Id == MessageId.Cancel));
        Assert.Equal(4, peer.CancelledAwaitingAnswer.Count);
    }

    private sealed class Host : IRequestHost
    {
        public ManualTimeProvider Time { get; } = new();
        public PieceManager Manager = new(Pieces, BlocksPerPiece * Block, (long)Pieces * BlocksPerPiece * Block);
        public bool IsDownloading = true;
        public bool IsSequential;
        public long Pending;
        public long WastedBytes;
        public PartialPiece? Completed;
        public List<(PluginLogLevel Level, string Message)> Logged { get; } = [];

        public DateTimeOffset Now => Time.GetUtcNow();
        PieceManager IRequestHost.Pieces => Manager;
        public bool Downloading => IsDownloading;
        public bool Sequential => IsSequential;
        public EngineConfig Config { get; } = new();
        public long PendingDiskBytes => Pending;
        public IPiecePicker Picker { get; set; } = new RarestFirstPicker();
        public string PickerName => "broken";
        public void Log(PluginLogLevel level, string message) => Logged.Add((level, message));
        public void Wasted(int bytes) => WastedBytes += bytes;
        public void PieceComplete(PartialPiece piece) => Completed = piece;
    }
}
