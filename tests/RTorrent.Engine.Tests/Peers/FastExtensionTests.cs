using System.Net;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>
/// BEP 6 on the wire: the canonical allowed-fast set against the spec's published examples, and the decoding of the
/// five fast messages, with every wrong length a protocol error.
/// </summary>
public class FastExtensionTests
{
    private static readonly byte[] SpecHash = Enumerable.Repeat((byte)0xAA, 20).ToArray();
    private static readonly byte[] SpecIp = [80, 4, 4, 200];

    [Fact]
    public void The_allowed_fast_set_matches_the_specs_example_for_7_and_9_pieces()
    {
        // BEP 6, "Allowed Fast": torrent of 1313 pieces, info-hash 0xAA * 20, peer 80.4.4.200.
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188], FastExtension.Generate(7, 1313, SpecHash, SpecIp));
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188, 353, 508], FastExtension.Generate(9, 1313, SpecHash, SpecIp));
    }

    [Fact]
    public void Peers_of_one_slash_24_share_a_set_and_IPv6_peers_get_none()
    {
        var hash = new InfoHash(SpecHash);
        var a = FastExtension.AllowedFastFor(IPAddress.Parse("80.4.4.200"), hash, 1313);
        Assert.Equal(FastExtension.AllowedFastSetSize, a.Length);
        Assert.Equal(FastExtension.Generate(10, 1313, SpecHash, SpecIp), a);
        Assert.Equal(a, FastExtension.AllowedFastFor(IPAddress.Parse("80.4.4.1"), hash, 1313));
        Assert.Equal(a, FastExtension.AllowedFastFor(IPAddress.Parse("::ffff:80.4.4.9"), hash, 1313));
        Assert.NotEqual(a, FastExtension.AllowedFastFor(IPAddress.Parse("80.4.5.200"), hash, 1313));
        Assert.Empty(FastExtension.AllowedFastFor(IPAddress.Parse("2001:db8::1"), hash, 1313));
    }

    [Fact]
    public void A_small_torrent_gives_at_most_half_its_pieces_and_the_set_is_distinct_and_in_range()
    {
        var hash = new InfoHash(SpecHash);
        var set = FastExtension.AllowedFastFor(IPAddress.Parse("10.0.0.1"), hash, 7);
        Assert.Equal(3, set.Length);
        Assert.Equal(set.Length, set.Distinct().Count());
        Assert.All(set, p => Assert.InRange(p, 0, 6));
        Assert.Empty(FastExtension.AllowedFastFor(IPAddress.Parse("10.0.0.1"), hash, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FastExtension.Generate(8, 7, SpecHash, SpecIp));
        // The whole torrent: every piece once, so the loop ends.
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], FastExtension.Generate(7, 7, SpecHash, SpecIp).Order());
    }

    private static List<PeerMessage> Read(params byte[] message)
    {
        var list = new List<PeerMessage>();
        int used = PeerMessageReader.Read(message, PeerMessageReader.MaxMessageLength(100), list);
        Assert.Equal(message.Length, used);
        return list;
    }

    [Fact]
    public void The_five_fast_messages_are_decoded()
    {
        var b = new byte[MessageWriter.HaveLength * 3 + MessageWriter.SimpleLength * 2 + MessageWriter.RequestLength];
        int at = MessageWriter.WriteIndex(b, MessageId.SuggestPiece, 7);
        at += MessageWriter.WriteSimple(b.AsSpan(at), MessageId.HaveAll);
        at += MessageWriter.WriteSimple(b.AsSpan(at), MessageId.HaveNone);
        at += MessageWriter.WriteRequest(b.AsSpan(at), MessageId.RejectRequest, 3, 16384, 100);
        at += MessageWriter.WriteIndex(b.AsSpan(at), MessageId.AllowedFast, 42);
        at += MessageWriter.WriteIndex(b.AsSpan(at), MessageId.Have, 1);
        var m = Read(b[..at]);
        Assert.Equal([MessageId.SuggestPiece, MessageId.HaveAll, MessageId.HaveNone, MessageId.RejectRequest, MessageId.AllowedFast, MessageId.Have],
            m.Select(x => x.Id));
        Assert.Equal(7, m[0].Index);
        Assert.Equal((3, 16384, 100), (m[3].Index, m[3].Begin, m[3].Length));
        Assert.Equal(42, m[4].Index);
    }

    [Theory]
    [InlineData(13, 3)]  // SUGGEST PIECE: 4 bytes
    [InlineData(13, 5)]
    [InlineData(14, 1)]  // HAVE ALL: none
    [InlineData(15, 4)]  // HAVE NONE: none
    [InlineData(16, 8)]  // REJECT REQUEST: 12 bytes
    [InlineData(16, 13)]
    [InlineData(17, 0)]  // ALLOWED FAST: 4 bytes
    [InlineData(17, 8)]
    public void A_fast_message_of_the_wrong_length_is_a_protocol_error(byte id, int payload)
    {
        var b = new byte[5 + payload];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b, 1 + payload);
        b[4] = id;
        var e = Assert.Throws<PeerProtocolException>(() => Read(b));
        Assert.Contains(((MessageId)id).ToString(), e.Message);
    }
}
