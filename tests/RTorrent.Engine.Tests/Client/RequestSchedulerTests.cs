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
