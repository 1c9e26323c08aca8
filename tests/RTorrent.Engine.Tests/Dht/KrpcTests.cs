using System.Buffers;
using System.Net;
using System.Text;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Dht;

namespace RTorrent.Engine.Tests.Dht;

public class KrpcTests
{
    private const int Max = 4096;
    private static readonly NodeId Self = NodeId.FromHex("6162636465666768696a30313233343536373839"); // "abcdefghij0123456789"

    private static byte[] Encode(Action<ArrayBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        return w.WrittenSpan.ToArray();
    }

    private static T ParseAs<T>(byte[] packet) where T : KrpcMessage
    {
        var result = KrpcParser.Parse(packet, Max);
        Assert.True(result.Message is not null, $"refused: {result.Reason}");
        return Assert.IsType<T>(result.Message);
    }

    private static void AssertCanonical(byte[] packet)
    {
        var value = BencodeReader.Decode(packet);
        Assert.True(((BDictionary)value).KeysCanonical);
        Assert.Equal(packet, BencodeWriter.Encode(value));
    }

    [Fact]
    public void Bep5_example_ping_query_parses()
    {
        var q = ParseAs<KrpcQuery>("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8.ToArray());
        Assert.Equal(KrpcMethod.Ping, q.Method);
        Assert.Equal(Self, q.SenderId);
        Assert.Equal("aa"u8.ToArray(), q.TransactionId);
    }

    [Fact]
    public void Bep5_example_announce_peer_parses()
    {
        var q = ParseAs<KrpcQuery>(
            "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"u8.ToArray());
        Assert.Equal(KrpcMethod.AnnouncePeer, q.Method);
        Assert.True(q.ImpliedPort);
        Assert.Equal(new NodeId("mnopqrstuvwxyz123456"u8), q.Target);
        Assert.Equal("aoeusnth"u8.ToArray(), q.Token);
    }

    [Fact]
    public void Bep5_example_get_peers_response_with_values_parses()
    {
        var r = ParseAs<KrpcResponse>(
            "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"u8.ToArray());
        Assert.Equal(Self, r.SenderId);
        Assert.Equal("aoeusnth"u8.ToArray(), r.Token);
        Assert.Equal(2, r.Values.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("97.120.106.101"), 0x2e75), r.Values[0]);
    }

    [Fact]
    public void Bep5_example_error_parses()
    {
        var e = ParseAs<KrpcError>("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"u8.ToArray());
        Assert.Equal(201, e.Code);
        Assert.Equal("A Generic Error Ocurred", e.Message);
    }

    [Fact]
    public void Queries_we_write_round_trip_and_are_canonical()
    {
        var target = NodeId.Random();
        byte[] tid = [0x12, 0x34];
        var ping = Encode(w => KrpcWriter.Ping(w, tid, Self));
        var find = Encode(w => KrpcWriter.FindNode(w, tid, Self, target));
        var get = Encode(w => KrpcWriter.GetPeers(w, tid, Self, target));
        var announce = Encode(w => KrpcWriter.AnnouncePeer(w, tid, Self, target, 51413, false, [1, 2, 3, 4]));
        var implied = Encode(w => KrpcWriter.AnnouncePeer(w, tid, Self, target, 0, true, [9]));
        foreach (var p in new[] { ping, find, get, announce, implied }) AssertCanonical(p);

        Assert.Equal(KrpcMethod.Ping, ParseAs<KrpcQuery>(ping).Method);
        var f = ParseAs<KrpcQuery>(find);
        Assert.Equal((KrpcMethod.FindNode, target, Self), (f.Method, f.Target, f.SenderId));
        Assert.Equal(tid, f.TransactionId);
        Assert.Equal("RT\0\u0001"u8.ToArray(), f.Version);
        Assert.Equal((KrpcMethod.GetPeers, target), (ParseAs<KrpcQuery>(get).Method, ParseAs<KrpcQuery>(get).Target));
        var a = ParseAs<KrpcQuery>(announce);
        Assert.Equal((KrpcMethod.AnnouncePeer, 51413, false), (a.Method, a.Port, a.ImpliedPort));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, a.Token);
        var i = ParseAs<KrpcQuery>(implied);
        Assert.True(i.ImpliedPort);
    }

    [Fact]
    public void Responses_we_write_round_trip_with_nodes_values_token_and_ip()
    {
        var nodes = new[]
        {
            new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("1.2.3.4:6881")),
            new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("5.6.7.8:1")),
        };
        var compact = Compact.NodesToArray(nodes, System.Net.Sockets.AddressFamily.InterNetwork);
        Assert.Equal(52, compact.Length);
        var requester = DhtTestData.Ep("9.9.9.9:4000");
        var peers = new[] { DhtTestData.Ep("10.0.0.1:80"), DhtTestData.Ep("10.0.0.2:81") };
        var packet = Encode(w => KrpcWriter.Response(w, "xy"u8, Self, requester, compact, null, [7, 7], peers));
        AssertCanonical(packet);
        var r = ParseAs<KrpcResponse>(packet);
        Assert.Equal(nodes, r.Nodes);
        Assert.Equal(peers, r.Values);
        Assert.Equal(new byte[] { 7, 7 }, r.Token);
        Assert.Equal(requester, r.ExternalAddress);

        var error = Encode(w => KrpcWriter.Error(w, "xy"u8, 203, "invalid token", requester));
        AssertCanonical(error);
        var e = ParseAs<KrpcError>(error);
        Assert.Equal((203, "invalid token"), (e.Code, e.Message));
        Assert.Equal(requester, e.ExternalAddress);
    }

    [Fact]
    public void Ipv6_compact_forms_round_trip()
    {
        var node = new DhtNodeInfo(NodeId.Random(), DhtTestData.Ep("[2001:db8::7]:6881"));
        var compact = Compact.NodesToArray([node], System.Net.Sockets.AddressFamily.InterNetworkV6);
        Assert.Equal(38, compact.Length);
        var packet = Encode(w => KrpcWriter.Response(w, "t"u8, Self, DhtTestData.Ep("[2001:db8::1]:1"), null, compact, null,
            [DhtTestData.Ep("[2001:db8::2]:2")]));
        var r = ParseAs<KrpcResponse>(packet);
        Assert.Equal([node], r.Nodes6);
        Assert.Equal(DhtTestData.Ep("[2001:db8::2]:2"), r.Values[0]);
        Assert.Equal(DhtTestData.Ep("[2001:db8::1]:1"), r.ExternalAddress);
    }

    public static TheoryData<string, string> Hostile() => new()
    {
        { "", nameof(DhtDropReason.NotBencode) },
        { "hello world", nameof(DhtDropReason.NotBencode) },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q", nameof(DhtDropReason.NotBencode) }, // truncated
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qeXX", nameof(DhtDropReason.NotBencode) }, // trailing bytes
        { "d1:t99999999999:aae", nameof(DhtDropReason.NotBencode) },
        { "li1ei2ee", nameof(DhtDropReason.NotDictionary) },
        { "4:spam", nameof(DhtDropReason.NotDictionary) },
        { "i42e", nameof(DhtDropReason.NotDictionary) },
        { "de", nameof(DhtDropReason.MissingField) },
        { "d1:y1:qe", nameof(DhtDropReason.MissingField) },
        { "d1:t2:aae", nameof(DhtDropReason.MissingField) },
        { "d1:ti5e1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:t0:1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:t2:aa1:y1:ze", nameof(DhtDropReason.UnknownMessageType) },
        { "d1:t2:aa1:yi1ee", nameof(DhtDropReason.UnknownMessageType) },
        { "d1:t2:aa1:y2:qqe", nameof(DhtDropReason.UnknownMessageType) },
        { "d1:t2:aa1:y1:qe", nameof(DhtDropReason.MissingField) },
        { "d1:a4:spam1:q4:ping1:t2:aa1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:ade1:q4:ping1:t2:aa1:y1:qe", nameof(DhtDropReason.MissingField) },
        { "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe", nameof(DhtDropReason.MissingField) },
        { "d1:ad2:id20:abcdefghij01234567896:targeti5ee1:q9:find_node1:t2:aa1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash3:abce1:q9:get_peers1:t2:aa1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti99999e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881ee1:q13:announce_peer1:t2:aa1:y1:qe", nameof(DhtDropReason.MissingField) },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(DhtDropReason.MissingField) },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(DhtDropReason.InvalidField) },
        { "d1:rd2:id20:abcdefghij01234567895:nodes25:abcdefghij0123456789xxxxxe1:t2:aa1:y1:re", nameof(DhtDropReason.InvalidField) },
        { "d1:rd2:id20:abcdefghij01234567896:valuesi5ee1:t2:aa1:y1:re", nameof(DhtDropReason.InvalidField) },
        { "d1:rd2:id20:abcdefghij01234567895:tokeni1ee1:t2:aa1:y1:re", nameof(DhtDropReason.InvalidField) },
        { "d1:rde1:t2:aa1:y1:re", nameof(DhtDropReason.MissingField) },
        { "d1:r4:spam1:t2:aa1:y1:re", nameof(DhtDropReason.InvalidField) },
        { "d1:t2:aa1:y1:re", nameof(DhtDropReason.MissingField) },
        { "d1:e4:oops1:t2:aa1:y1:ee", nameof(DhtDropReason.InvalidField) },
        { "d1:eli201ee1:t2:aa1:y1:ee", nameof(DhtDropReason.InvalidField) },
        { "d1:el3:abci201ee1:t2:aa1:y1:ee", nameof(DhtDropReason.InvalidField) },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_packets_are_refused_with_a_reason(string packet, string reason)
    {
        var result = KrpcParser.Parse(Encoding.Latin1.GetBytes(packet), Max);
        Assert.Null(result.Message);
        Assert.Equal(reason, result.Reason.ToString());
    }

    [Fact]
    public void Values_of_the_wrong_size_are_skipped_not_fatal()
    {
        var r = ParseAs<KrpcResponse>("d1:rd2:id20:abcdefghij01234567896:valuesl5:short6:axje.ui5e7:toolongee1:t2:aa1:y1:re"u8.ToArray());
        Assert.Single(r.Values);
    }

    [Fact]
    public void Oversized_and_deeply_nested_packets_are_refused()
    {
        var big = Encoding.ASCII.GetBytes("d1:t2:aa1:y1:q1:q4:ping1:ad2:id20:abcdefghij01234567895:junk5000:" + new string('x', 5000) + "ee");
        Assert.Equal(DhtDropReason.Oversized, KrpcParser.Parse(big, Max).Reason);
        var deep = Encoding.ASCII.GetBytes(new string('l', 500) + new string('e', 500));
        Assert.Equal(DhtDropReason.NotBencode, KrpcParser.Parse(deep, Max).Reason);
        var longTid = Encoding.ASCII.GetBytes("d1:t40:" + new string('t', 40) + "1:y1:qe");
        Assert.Equal(DhtDropReason.InvalidField, KrpcParser.Parse(longTid, Max).Reason);
    }

    [Fact]
    public void Refused_query_with_a_sound_envelope_keeps_its_transaction_for_an_error_reply()
    {
        var result = KrpcParser.Parse("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe"u8.ToArray(), Max);
        Assert.Null(result.Message);
        Assert.Equal("zz"u8.ToArray(), result.QueryTransactionId);
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var rng = new Random(1234);
        var seeds = new[]
        {
            "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8.ToArray(),
            "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"u8.ToArray(),
        };
        for (int i = 0; i < 20_000; i++)
        {
            var p = (byte[])seeds[i % 2].Clone();
            int flips = rng.Next(1, 6);
            for (int f = 0; f < flips; f++) p[rng.Next(p.Length)] = (byte)rng.Next(256);
            var cut = p.AsMemory(0, rng.Next(p.Length + 1));
            _ = KrpcParser.Parse(cut, Max); // must not throw
        }
    }
}
