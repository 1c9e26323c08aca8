using System.Buffers;
using RTorrent.Engine.Client;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The smart ban on its own: a piece that failed with blocks from several peers names nobody; once it verifies, the
/// peers whose remembered blocks differ from the good ones are the liars, and only they.
/// </summary>
public class SmartBanTests
{
    private const int Block = PieceManager.BlockSize;
    private readonly ManualTimeProvider _time = new();

    /// <summary>A piece of <paramref name="blocks"/> full blocks, block b from senders[b] holding contents[b] in every byte.</summary>
    private static PartialPiece Piece(int index, Peer[] senders, byte[] contents)
    {
        var p = new PartialPiece(index, senders.Length * Block);
        for (int b = 0; b < senders.Length; b++)
        {
            var data = ArrayPool<byte>.Shared.Rent(Block);
            data.AsSpan(0, Block).Fill(contents[b]);
            p.Data[b] = data;
            p.From[b] = senders[b];
        }
        return p;
    }

    [Fact]
    public void The_peer_whose_block_differs_from_the_verified_piece_is_the_liar()
    {
        var honest = TestPeers.Create(_time);
        var liar = TestPeers.Create(_time);
        var ban = new SmartBan();

        var failed = Piece(3, [honest, liar, honest], [1, 0xEE, 3]);
        ban.RecordFailure(failed);
        failed.ReleaseData();
        Assert.Equal(1, ban.Count);

        // The second attempt came from one honest peer (parole) and verified.
        var good = Piece(3, [honest, honest, honest], [1, 2, 3]);
        Assert.Equal([liar], ban.FindLiars(good));
        good.ReleaseData();
        Assert.Equal(0, ban.Count); // the piece's failures are forgotten once it verified
    }

    [Fact]
    public void A_piece_without_remembered_failures_names_nobody()
    {
        var ban = new SmartBan();
        var p = TestPeers.Create(_time);
        var good = Piece(0, [p, p], [1, 2]);
        Assert.Empty(ban.FindLiars(good));
        good.ReleaseData();
    }

    [Fact]
    public void Every_peer_that_sent_a_bad_block_in_any_remembered_attempt_is_named_once()
    {
        var a = TestPeers.Create(_time);
        var b = TestPeers.Create(_time);
        var c = TestPeers.Create(_time);
        var ban = new SmartBan();
        ban.RecordFailure(Piece(9, [a, b], [0xEE, 2]));
        ban.RecordFailure(Piece(9, [a, c], [0xEE, 0xDD]));
        ban.RecordFailure(Piece(8, [b, b], [0xEE, 0xEE])); // another piece: not looked at

        var liars = ban.FindLiars(Piece(9, [b, b], [1, 2]));
        Assert.Equal(2, liars.Count);
        Assert.Contains(a, liars);
        Assert.Contains(c, liars);
        Assert.Equal(1, ban.Count);
    }

    [Fact]
    public void Only_the_last_four_failed_attempts_of_a_piece_are_remembered()
    {
        var early = TestPeers.Create(_time);
        var honest = TestPeers.Create(_time);
        var ban = new SmartBan();
        ban.RecordFailure(Piece(1, [early], [0xEE]));
        for (int i = 0; i < 4; i++) ban.RecordFailure(Piece(1, [honest], [7]));

        Assert.Empty(ban.FindLiars(Piece(1, [honest], [7])));
    }

    [Fact]
    public void Blocks_nobody_is_known_to_have_sent_are_not_held_against_anyone()
    {
        var a = TestPeers.Create(_time);
        var ban = new SmartBan();
        var failed = Piece(2, [a, a], [0xEE, 2]);
        failed.From[0] = null; // its sender is gone
        ban.RecordFailure(failed);
        Assert.Empty(ban.FindLiars(Piece(2, [a, a], [1, 2])));
    }
}
