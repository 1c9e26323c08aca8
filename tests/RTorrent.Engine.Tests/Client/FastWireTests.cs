using System.Buffers.Binary;
using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// BEP 6 against a real seeding engine, spoken by hand-written raw peers: the handshake bit, HAVE ALL, the allowed-fast
/// set offered and served while choked, REJECT REQUEST for what is not served, and every malformed or out-of-range
/// fast message ending the connection (or, for a stray REJECT, being counted) without harming the seeder.
/// </summary>
public class FastWireTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Block = 16 * 1024;
    private const int PieceLength = 2 * Block;
    private const int PieceCount = 32;
    private static readonly PeerFeatures Fast = PeerFeatures.Extensions | PeerFeatures.Fast;

    private static byte[] Request(MessageId id, int piece, int begin, int length)
    {
        var b = new byte[MessageWriter.RequestLength];
        MessageWriter.WriteRequest(b, id, piece, begin, length);
        return b;
    }

    private static byte[] Simple(MessageId id)
    {
        var b = new byte[MessageWriter.SimpleLength];
        MessageWriter.WriteSimple(b, id);
        return b;
    }

    private static byte[] Index(MessageId id, int piece)
    {
        var b = new byte[MessageWriter.HaveLength];
        MessageWriter.WriteIndex(b, id, piece);
        return b;
    }

    private static (int Piece, int Begin, int Length) Triple(byte[] p) =>
        (BinaryPrimitives.ReadInt32BigEndian(p), BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(4)), BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(8)));

    [Fact]
    public async Task A_choked_fast_peer_gets_have_all_and_its_allowed_fast_set_is_served_those_pieces_and_rejected_the_rest()
    {
        await using var seeder = await RawSeeder.StartAsync(output, PieceLength, PieceLength * PieceCount);
        var data = seeder.FirstFile();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var wire = await seeder.ConnectAsync(ct, features: Fast);
        Assert.True(seeder.SeederFeatures.HasFlag(PeerFeatures.Fast));

        // Its first core message is HAVE ALL, not a bitfield.
        (MessageId Id, byte[] Payload) m;
        while ((m = await wire.ReadMessageAsync(ct)).Id is MessageId.Extended or MessageId.Port) { }
        Assert.Equal(MessageId.HaveAll, m.Id);

        // We have nothing: the seeder offers us the canonical set for 127.0.0.0/24 (we never say Interested: we stay choked).
        await wire.SendAsync(Simple(MessageId.HaveNone), ct);
        var expected = FastExtension.AllowedFastFor(IPAddress.Loopback, seeder.Metainfo.WireHash, PieceCount);
        Assert.Equal(FastExtension.AllowedFastSetSize, expected.Length);
        var offered = new List<int>();
        while (offered.Count < expected.Length)
        {
            m = await wire.ReadMessageAsync(ct);
            Assert.NotEqual(MessageId.Unchoke, m.Id);
            if (m.Id == MessageId.AllowedFast) offered.Add(BinaryPrimitives.ReadInt32BigEndian(m.Payload));
        }
        Assert.Equal(expected, offered);

        int allowed = expected[0];
        int notAllowed = Enumerable.Range(0, PieceCount).First(p => !expected.Contains(p));
        await wire.SendAsync((byte[])[
            .. Request(MessageId.Request, notAllowed, 0, Block),      // choked: rejected
            .. Request(MessageId.Request, allowed, Block, Block),     // allowed fast: served while choked
            .. Request(MessageId.Request, allowed, 0, 2 * Block),     // over 16 KiB: rejected and counted
        ], ct);
        var rejects = new List<(int, int, int)>();
        byte[]? block = null;
        while (block is null || rejects.Count < 2)
        {
            m = await wire.ReadMessageAsync(ct);
            if (m.Id == MessageId.RejectRequest) rejects.Add(Triple(m.Payload));
            else if (m.Id == MessageId.Piece) block = m.Payload;
        }
        Assert.Equal([(notAllowed, 0, Block), (allowed, 0, 2 * Block)], rejects);
        Assert.Equal((allowed, Block), (BinaryPrimitives.ReadInt32BigEndian(block), BinaryPrimitives.ReadInt32BigEndian(block.AsSpan(4))));
        Assert.True(block.AsSpan(8).SequenceEqual(data.AsSpan(allowed * PieceLength + Block, Block)));

        var (peers, violations, flags) = await seeder.Engine.Loop.InvokeAsync(() => (seeder.Seeding.ConnectedPeers.Count,
            seeder.Seeding.ConnectedPeers.Sum(p => p.ProtocolViolations), TorrentSnapshotBuilder.PeerFlags(seeder.Seeding.ConnectedPeers[0])));
        Assert.Equal((1, 1), (peers, violations));
        Assert.Contains('F', flags);
    }

    [Fact]
    public async Task A_peer_without_the_bit_gets_a_bitfield_and_no_rejects_and_a_stray_reject_from_a_fast_peer_is_only_counted()
    {
        await using var seeder = await RawSeeder.StartAsync(output, PieceLength, PieceLength * PieceCount);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;

        var plain = await seeder.ConnectAsync(ct);
        (MessageId Id, byte[] Payload) m;
        while ((m = await plain.ReadMessageAsync(ct)).Id is MessageId.Extended or MessageId.Port) { }
        Assert.Equal(MessageId.Bitfield, m.Id);
        // Choked (never interested): BEP 3 drops the request silently; the unchoked request after it is the next answer.
        await plain.SendAsync(Request(MessageId.Request, 1, 0, Block), ct);
        await RawSeeder.BeUnchokedAsync(plain, ct);
        await plain.SendAsync(Request(MessageId.Request, 2, 0, Block), ct);
        while ((m = await plain.ReadMessageAsync(ct)).Id != MessageId.Piece) Assert.NotEqual(MessageId.RejectRequest, m.Id);
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(m.Payload));

        var fast = await seeder.ConnectAsync(ct, features: Fast);
        await fast.SendAsync((byte[])[.. Simple(MessageId.HaveNone), .. Request(MessageId.RejectRequest, 3, 0, Block)], ct);
        await RawSeeder.BeUnchokedAsync(fast, ct); // still connected, and served
        var violations = await seeder.Engine.Loop.InvokeAsync(() => seeder.Seeding.ConnectedPeers.Sum(p => p.ProtocolViolations));
        Assert.Equal(1, violations);
    }

    public static TheoryData<string, bool, byte[]> Malformed => new()
    {
        { "HAVE ALL with a payload", true, [0, 0, 0, 2, 14, 0] },
        { "HAVE NONE with a payload", true, [0, 0, 0, 5, 15, 0, 0, 0, 0] },
        { "SUGGEST PIECE of 3 bytes", true, [0, 0, 0, 4, 13, 0, 0, 1] },
        { "ALLOWED FAST of 5 bytes", true, [0, 0, 0, 6, 17, 0, 0, 0, 1, 0] },
        { "REJECT REQUEST of 8 bytes", true, [0, 0, 0, 9, 16, 0, 0, 0, 1, 0, 0, 0, 0] },
        { "SUGGEST PIECE past the last piece", true, Index(MessageId.SuggestPiece, PieceCount) },
        { "ALLOWED FAST past the last piece", true, Index(MessageId.AllowedFast, PieceCount) },
        { "ALLOWED FAST of a negative piece", true, Index(MessageId.AllowedFast, -1) },
        { "HAVE ALL after a HAVE", true, [.. Index(MessageId.Have, 1), .. Simple(MessageId.HaveAll)] },
        { "HAVE ALL after HAVE NONE", true, [.. Simple(MessageId.HaveNone), .. Simple(MessageId.HaveAll)] },
        { "HAVE ALL from a peer without the bit", false, Simple(MessageId.HaveAll) },
        { "ALLOWED FAST from a peer without the bit", false, Index(MessageId.AllowedFast, 1) },
        { "REJECT REQUEST from a peer without the bit", false, Request(MessageId.RejectRequest, 1, 0, Block) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_or_out_of_range_fast_message_closes_the_connection_and_the_seeder_serves_on(string what, bool fast, byte[] bytes)
    {
        await using var seeder = await RawSeeder.StartAsync(output, PieceLength, PieceLength * PieceCount);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        var bad = await seeder.ConnectAsync(ct, features: fast ? Fast : PeerFeatures.Extensions);
        await bad.SendAsync(bytes, ct);
        await RawSeeder.ReadUntilClosedAsync(bad, ct);
        await seeder.WaitUntilNoPeersAsync(ct);

        var good = await seeder.ConnectAsync(ct, unchoked: true, features: Fast);
        await good.SendAsync(Request(MessageId.Request, 0, 0, Block), ct);
        (MessageId Id, byte[] Payload) m;
        while ((m = await good.ReadMessageAsync(ct)).Id != MessageId.Piece) { }
        Assert.True(m.Payload.AsSpan(8).SequenceEqual(seeder.FirstFile().AsSpan(0, Block)), what);
    }
}
