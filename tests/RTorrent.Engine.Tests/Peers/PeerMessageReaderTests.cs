using System.Buffers.Binary;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>Framing and decoding of the peer wire as bytes arrive, without a socket.</summary>
public class PeerMessageReaderTests
{
    private static readonly int Max = PeerMessageReader.MaxMessageLength(100);

    private static byte[] Message(MessageId id, params byte[] payload)
    {
        var m = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(m, 1 + payload.Length);
        m[4] = (byte)id;
        payload.CopyTo(m, 5);
        return m;
    }

    private static byte[] Ints(params int[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    private static List<PeerMessage> ReadAll(byte[] data, out int consumed)
    {
        var into = new List<PeerMessage>();
        consumed = PeerMessageReader.Read(data, Max, into);
        return into;
    }

    [Fact]
    public void Each_message_is_decoded_with_its_fields()
    {
        var block = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        byte[] data =
        [
            0, 0, 0, 0, // keep-alive
            .. Message(MessageId.Choke), .. Message(MessageId.Unchoke),
            .. Message(MessageId.Interested), .. Message(MessageId.NotInterested),
            .. Message(MessageId.Have, Ints(7)),
            .. Message(MessageId.Bitfield, 0xF0, 0x01),
            .. Message(MessageId.Request, Ints(3, 16384, 16384)),
            .. Message(MessageId.Cancel, Ints(3, 0, 100)),
            .. Message(MessageId.Piece, [.. Ints(3, 16384), .. block]),
            .. Message(MessageId.Port, 0x1A, 0xE1),
            .. Message(MessageId.Extended, [2, .. "d1:ai1ee"u8.ToArray()]),
        ];
        var m = ReadAll(data, out int consumed);
        Assert.Equal(data.Length, consumed);
        Assert.Equal(
            [PeerMessage.KeepAlive, MessageId.Choke, MessageId.Unchoke, MessageId.Interested, MessageId.NotInterested, MessageId.Have,
             MessageId.Bitfield, MessageId.Request, MessageId.Cancel, MessageId.Piece, MessageId.Port, MessageId.Extended],
            m.Select(x => x.Id));
        Assert.Equal(7, m[5].Index);
        Assert.Equal([0xF0, 0x01], m[6].Payload);
        Assert.Equal((3, 16384, 16384), (m[7].Index, m[7].Begin, m[7].Length));
        Assert.Equal((3, 0, 100), (m[8].Index, m[8].Begin, m[8].Length));
        Assert.Equal((3, 16384, 100), (m[9].Index, m[9].Begin, m[9].Length));
        Assert.True(m[9].Payload!.Length >= PeerMessageReader.MaxBlockLength); // a pooled block buffer, reused
        Assert.Equal(block, m[9].Payload.AsSpan(0, 100).ToArray());
        Assert.Equal(6881, m[10].Index);
        Assert.Equal(2, m[11].Index);
        Assert.Equal("d1:ai1ee"u8.ToArray(), m[11].Payload);
        PeerMessageReader.ReturnBlocks(m);
    }

    [Fact]
    public void An_incomplete_message_is_left_for_the_next_read_byte_by_byte()
    {
        byte[] data = [.. Message(MessageId.Have, Ints(1)), .. Message(MessageId.Request, Ints(1, 2, 3)), .. Message(MessageId.Unchoke)];
        var into = new List<PeerMessage>();
        int held = 0;
        var buffer = new byte[data.Length];
        foreach (byte b in data)
        {
            buffer[held++] = b;
            int consumed = PeerMessageReader.Read(buffer.AsSpan(0, held), Max, into);
            buffer.AsSpan(consumed, held - consumed).CopyTo(buffer);
            held -= consumed;
        }
        Assert.Equal(0, held);
        Assert.Equal([MessageId.Have, MessageId.Request, MessageId.Unchoke], into.Select(x => x.Id));
    }

    [Fact]
    public void A_length_over_the_largest_legal_message_is_refused_before_its_body_arrives()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, Max + 1);
        var e = Assert.Throws<PeerProtocolException>(() => ReadAll(header, out _));
        Assert.Contains("exceeds", e.Message);
        BinaryPrimitives.WriteInt32BigEndian(header, -1);
        Assert.Throws<PeerProtocolException>(() => ReadAll(header, out _));
        // A bitfield of a large torrent is the one message allowed to be longer than a block.
        Assert.Equal(1 + 1_000_000 / 8, PeerMessageReader.MaxMessageLength(1_000_000));
    }

    [Theory]
    [InlineData(MessageId.Choke, 1)]
    [InlineData(MessageId.Interested, 3)]
    [InlineData(MessageId.Have, 3)]
    [InlineData(MessageId.Have, 5)]
    [InlineData(MessageId.Request, 11)]
    [InlineData(MessageId.Cancel, 13)]
    [InlineData(MessageId.Piece, 7)]
    [InlineData(MessageId.Piece, 8)]
    [InlineData(MessageId.Piece, 8 + 16 * 1024 + 1)]
    [InlineData(MessageId.Port, 3)]
    [InlineData(MessageId.Extended, 0)]
    public void A_payload_that_does_not_fit_its_message_is_a_protocol_error(MessageId id, int payloadLength)
    {
        Assert.Throws<PeerProtocolException>(() => ReadAll(Message(id, new byte[payloadLength]), out _));
    }

    // 13 to 17 are the fast extension's (BEP 6, FastExtensionTests); 12 is still unknown.
    [Fact]
    public void Unknown_ids_are_skipped()
    {
        byte[] data = [.. Message((MessageId)12, 1, 2, 3), .. Message((MessageId)200), .. Message(MessageId.Unchoke)];
        var m = ReadAll(data, out int consumed);
        Assert.Equal(data.Length, consumed);
        Assert.Equal(MessageId.Unchoke, Assert.Single(m).Id);
    }
}
