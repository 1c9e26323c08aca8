using System.Buffers.Binary;
using System.Net;
using RTorrent.Engine.Peers.Utp;

namespace RTorrent.Engine.Tests.Peers.Utp;

/// <summary>The uTP header codec, the demultiplexing test, and hostile packets: nothing crashes, memory stays bounded.</summary>
public sealed class UtpPacketAndHostileTests
{
    private static byte[] Header(UtpType type, ushort id, ushort seq, ushort ack, uint window = 1 << 20, byte extension = 0)
    {
        var b = new byte[UtpHeader.Size];
        UtpHeader.Write(b, type, id, 1234, 5678, window, seq, ack);
        b[1] = extension;
        return b;
    }

    [Fact]
    public void A_header_round_trips_with_every_field()
    {
        var b = new byte[UtpHeader.Size];
        UtpHeader.Write(b, UtpType.Data, 0xBEEF, 0x01020304, 0x0A0B0C0D, 0x00100000, 65535, 7);
        Assert.Equal(0x01, b[0]); // type 0 (DATA) in the high nibble, version 1 in the low
        Assert.True(UtpHeader.TryParse(b, out var h));
        Assert.Equal((UtpType.Data, (ushort)0xBEEF, 0x01020304u, 0x0A0B0C0Du, 0x00100000u, (ushort)65535, (ushort)7, 0, UtpHeader.Size),
            (h.Type, h.ConnectionId, h.TimestampMicros, h.TimestampDifferenceMicros, h.WindowSize, h.SequenceNumber, h.AckNumber, h.SackLength, h.PayloadOffset));
    }

    [Fact]
    public void A_selective_ack_and_an_unknown_extension_are_read_and_the_payload_starts_after_them()
    {
        var packet = new byte[UtpHeader.Size + 6 + 2 + 3 + 5];
        UtpHeader.Write(packet, UtpType.State, 1, 0, 0, 0, 10, 20);
        int n = UtpHeader.WriteSack(packet, [0b0000_0101, 0, 0, 0x80]);
        Assert.Equal(UtpHeader.Size + 6, n);
        packet[UtpHeader.Size] = 77; // the SACK links to an unknown extension 77 of 3 bytes
        packet[n] = 0;
        packet[n + 1] = 3;
        Assert.True(UtpHeader.TryParse(packet, out var h));
        Assert.Equal((UtpHeader.Size + 2, 4, n + 5), (h.SackOffset, h.SackLength, h.PayloadOffset));
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0, 0, 1 })]                                    // shorter than a header
    [InlineData(new byte[] { 0x02, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // version 2
    [InlineData(new byte[] { 0x51, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // type 5
    [InlineData(new byte[] { 0x21, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // an extension with no bytes for it
    [InlineData(new byte[] { 0x21, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2 })] // SACK longer than the packet
    [InlineData(new byte[] { 0x21, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // an empty SACK
    public void Malformed_headers_are_refused(byte[] datagram) => Assert.False(UtpHeader.TryParse(datagram, out _));

    [Fact]
    public void An_extension_chain_that_goes_on_is_refused()
    {
        var packet = new byte[UtpHeader.Size + 2 * 20];
        UtpHeader.Write(packet, UtpType.State, 1, 0, 0, 0, 1, 1);
        packet[1] = 9;
        for (int i = 0; i < 20; i++) packet[UtpHeader.Size + 2 * i] = 9; // each links to another, 0 bytes long
        Assert.False(UtpHeader.TryParse(packet, out _));
    }

    [Fact]
    public void The_UDP_port_tells_utp_from_dht_by_the_first_byte()
    {
        Assert.False(UtpHeader.LooksLikeUtp("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8));
        foreach (var type in Enum.GetValues<UtpType>()) Assert.True(UtpHeader.LooksLikeUtp(Header(type, 1, 1, 1)));
        var connect = new byte[16]; // a UDP tracker's answer starts with a 32-bit action (0 connect)
        Assert.False(UtpHeader.LooksLikeUtp(connect));
    }

    [Fact]
    public async Task An_ack_for_data_never_sent_is_refused_and_the_connection_goes_on()
    {
        var net = new FakeUdpNetwork();
        var (a, aEp) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await UtpConnectionTests.ConnectAsync(net, a, b, bEp);
        var state = net.Sent.Last(s => s.From.Equals(bEp.Serialize()) && s.Data[0] >> 4 == (int)UtpType.State).Data;
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(state.AsSpan(2));
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(state.AsSpan(16));
        ushort ack = BinaryPrimitives.ReadUInt16BigEndian(state.AsSpan(18));
        // B "acks" 500 packets A never sent.
        net.Inject(Header(UtpType.State, id, seq, (ushort)(ack + 500)), bEp, aEp);
        Assert.Equal(1, a.Statistics.AcksForUnsentData);
        Assert.Equal(0, ca.InFlightBytes);
        var payload = new byte[100_000];
        new Random(3).NextBytes(payload);
        Assert.Equal(payload, await UtpConnectionTests.TransferAsync(net, ca, cb, payload, 10_000));
    }

    [Fact]
    public async Task Forged_connection_ids_and_resets_from_elsewhere_do_not_touch_a_connection()
    {
        var net = new FakeUdpNetwork();
        var (a, aEp) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await UtpConnectionTests.ConnectAsync(net, a, b, bEp);
        var attacker = new IPEndPoint(IPAddress.Loopback, 666);
        // Every id, from an address that has no connection: answered by a rate-limited RESET at most, never delivered.
        for (int id = 0; id < 65536; id++)
            net.Inject(Header(id % 2 == 0 ? UtpType.Reset : UtpType.Data, (ushort)id, 1, 1), attacker, aEp);
        Assert.Equal(65536, a.Statistics.UnknownConnection);
        Assert.InRange(a.Statistics.ResetsSent, 1, 50); // one second's worth on a clock that did not move
        Assert.False(ca.IsClosed);
        var payload = new byte[50_000];
        Assert.Equal(payload, await UtpConnectionTests.TransferAsync(net, ca, cb, payload, 10_000));
    }

    [Fact]
    public void A_SYN_flood_is_bounded_per_address_and_in_all()
    {
        var options = new UtpOptions { MaxConnections = 100, MaxIncomingPerAddress = 4 };
        var net = new FakeUdpNetwork();
        var (s, ep) = net.Add(1, options);
        var accepted = new List<UtpConnection>();
        s.Accepted = (c, _) => accepted.Add(c);
        // 1,000 SYNs from one address, then 1,000 from as many addresses.
        var one = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 5000);
        for (int i = 0; i < 1000; i++) net.Inject(Header(UtpType.Syn, (ushort)(i * 2), 1, 0), one, ep);
        Assert.Equal(4, s.ConnectionCount);
        for (int i = 0; i < 1000; i++)
            net.Inject(Header(UtpType.Syn, 7, 1, 0), new IPEndPoint(new IPAddress([10, 1, (byte)(i >> 8), (byte)i]), 6000), ep);
        Assert.Equal(100, s.ConnectionCount);
        Assert.Equal(100, accepted.Count);
        Assert.Equal(1900, s.Statistics.SynsRefused);
        // The half-open connections the application drops give their room back.
        foreach (var c in accepted) c.Dispose();
        for (int i = 0; i < 200; i++) net.Step(TimeSpan.FromSeconds(1));
        Assert.Equal(0, s.ConnectionCount);
    }

    [Fact]
    public async Task Random_datagrams_never_throw_and_leave_no_connection_or_buffer_behind()
    {
        var net = new FakeUdpNetwork();
        var (a, aEp) = net.Add(1);
        var (b, bEp) = net.Add(2);
        var (ca, cb) = await UtpConnectionTests.ConnectAsync(net, a, b, bEp);
        var state = net.Sent.Last(s => s.From.Equals(bEp.Serialize()) && s.Data[0] >> 4 == (int)UtpType.State).Data;
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(state.AsSpan(2));
        var rng = new Random(42);
        for (int i = 0; i < 50_000; i++)
        {
            var d = new byte[rng.Next(0, 1500)];
            rng.NextBytes(d);
            if (d.Length >= UtpHeader.Size)
            {
                d[0] = (byte)((rng.Next(0, 5) << 4) | 1); // mostly well-formed, so the state machine sees them
                if (i % 2 == 0) BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(2), id); // on the live connection's id
                if (i % 4 == 0) d[1] = 0;
            }
            net.Inject(d, bEp, aEp);
        }
        // The connection may have been reset by a forged RESET (uTP has no defence against that); what matters: bounded.
        Assert.True(ca.BufferedBytes <= new UtpOptions().ReceiveBuffer);
        Assert.True(a.ConnectionCount <= new UtpOptions().MaxIncomingPerAddress + 1);
        foreach (var c in new[] { ca, cb }) c.Dispose();
        for (int i = 0; i < 100; i++) net.Step(TimeSpan.FromSeconds(1));
        Assert.Equal(0, b.ConnectionCount);
    }
}
