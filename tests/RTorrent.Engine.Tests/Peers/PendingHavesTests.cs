using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>Issue 14: HAVEs before the metadata is known are held in bounded memory.</summary>
public class PendingHavesTests
{
    [Fact]
    public void Repeated_and_scattered_haves_are_kept_once_each_in_at_most_a_bit_per_possible_piece()
    {
        var haves = new PendingHaves();
        for (int i = 0; i < 100_000; i++) haves.Add(7); // a flood of the same HAVE
        haves.Add(3);
        haves.Add(MetainfoParser.MaxPieces - 1);
        Assert.Equal(3, haves.Count);
        Assert.Equal([3, 7, MetainfoParser.MaxPieces - 1], haves.ToArray());
        Assert.Equal(MetainfoParser.MaxPieces / 8, haves.Bytes);
        for (int i = 0; i < MetainfoParser.MaxPieces; i += 3) haves.Add(i);
        Assert.Equal(MetainfoParser.MaxPieces / 8, haves.Bytes); // every piece possible: still 256 KiB
    }

    [Fact]
    public void A_have_for_a_piece_no_torrent_can_have_is_a_protocol_error()
    {
        var haves = new PendingHaves();
        Assert.Throws<PeerProtocolException>(() => haves.Add(MetainfoParser.MaxPieces));
        Assert.Throws<PeerProtocolException>(() => haves.Add(-1));
        Assert.Equal(0, haves.Count);
    }
}
