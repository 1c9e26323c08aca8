using System.Net;
using RTorrent.Engine.Dht;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Dht;

public class NodeIdTests
{
    public static TheoryData<string, string, int> DistanceVectors()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var row in DhtTestData.ReadTsv("distance.tsv"))
            data.Add(row["id_a"], row["id_b"], int.Parse(row["distance_exp"], System.Globalization.CultureInfo.InvariantCulture));
        return data;
    }

    [Theory]
    [MemberData(nameof(DistanceVectors))]
    public void Distance_exponent_matches_libtorrent(string a, string b, int expected)
    {
        Assert.Equal(expected, NodeId.DistanceExponent(NodeId.FromHex(a), NodeId.FromHex(b)));
        Assert.Equal(expected, NodeId.DistanceExponent(NodeId.FromHex(b), NodeId.FromHex(a)));
    }

    [Fact]
    public void Xor_distance_orders_keys_by_closeness()
    {
        var target = NodeId.FromHex("8000000000000000000000000000000000000000");
        var near = NodeId.FromHex("8000000000000000000000000000000000000001");
        var far = NodeId.FromHex("0000000000000000000000000000000000000000");
        Assert.True(NodeId.CompareDistance(target, near, far) < 0);
        Assert.True(NodeId.CompareDistance(target, far, near) > 0);
        Assert.Equal(0, NodeId.CompareDistance(target, near, near));
        Assert.Equal(NodeId.FromHex("8000000000000000000000000000000000000001"), near ^ NodeId.Zero);
        Assert.Equal(160, NodeId.CommonPrefixLength(near, near));
        Assert.Equal(159, NodeId.CommonPrefixLength(target, near));
    }

    [Fact]
    public void Bytes_hex_and_info_hash_round_trip()
    {
        var hex = "0102030405060708090a0b0c0d0e0f1011121314";
        var id = NodeId.FromHex(hex);
        Assert.Equal(hex, id.ToString());
        Assert.Equal(Convert.FromHexString(hex), id.ToArray());
        Assert.Equal(InfoHash.FromHex(hex), id.ToInfoHash());
        Assert.Equal(id, NodeId.FromInfoHash(InfoHash.FromHex(hex)));
        Assert.Throws<ArgumentException>(() => new NodeId(new byte[19]));
    }

    [Fact]
    public void Random_with_common_prefix_shares_exactly_that_many_bits()
    {
        var self = NodeId.Random();
        for (int prefix = 0; prefix < 160; prefix += 7)
        {
            var other = self.RandomWithCommonPrefix(prefix);
            Assert.Equal(prefix, NodeId.CommonPrefixLength(self, other));
        }
        Assert.Equal(self, self.RandomWithCommonPrefix(160));
    }

    [Fact]
    public void GetBit_reads_most_significant_first()
    {
        var id = NodeId.FromHex("8000000000000000000000000000000000000001");
        Assert.True(id.GetBit(0));
        Assert.False(id.GetBit(1));
        Assert.True(id.GetBit(159));
    }
}

public class SecureNodeIdTests
{
    public static TheoryData<string, int, string, string> GenerateVectors()
    {
        var data = new TheoryData<string, int, string, string>();
        foreach (var row in DhtTestData.ReadTsv("bep42_generate.tsv"))
            data.Add(row["ip"], int.Parse(row["r"], System.Globalization.CultureInfo.InvariantCulture), row["id_prefix"], row["last_byte"]);
        return data;
    }

    public static TheoryData<string, string, bool> VerifyVectors()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var row in DhtTestData.ReadTsv("bep42_verify.tsv")) data.Add(row["ip"], row["node_id"], row["expect"] == "valid");
        return data;
    }

    [Theory]
    [MemberData(nameof(GenerateVectors))]
    public void Generated_ids_match_bep42_vectors(string ip, int r, string prefixHex, string lastByteHex)
    {
        var prefix = Convert.FromHexString(prefixHex);
        for (int attempt = 0; attempt < 8; attempt++)
        {
            var id = SecureNodeId.Generate(IPAddress.Parse(ip), (byte)r).ToArray();
            Assert.Equal(prefix[0], id[0]);
            Assert.Equal(prefix[1], id[1]);
            Assert.Equal(prefix[2] & 0xf8, id[2] & 0xf8);
            Assert.Equal(Convert.FromHexString(lastByteHex)[0], id[19]);
            Assert.True(SecureNodeId.IsValid(new NodeId(id), IPAddress.Parse(ip)));
        }
    }

    [Theory]
    [MemberData(nameof(VerifyVectors))]
    public void Verification_matches_bep42_vectors(string ip, string nodeId, bool valid) =>
        Assert.Equal(valid, SecureNodeId.IsValid(NodeId.FromHex(nodeId), IPAddress.Parse(ip)));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.5.4")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.3.3")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00::5")]
    [InlineData("::ffff:192.168.0.9")]
    public void Local_addresses_are_exempt(string ip)
    {
        Assert.True(SecureNodeId.IsExempt(IPAddress.Parse(ip)));
        Assert.True(SecureNodeId.IsValid(NodeId.FromHex("0000000000000000000000000000000000000000"), IPAddress.Parse(ip)));
    }

    [Theory]
    [InlineData("172.32.0.1")]
    [InlineData("8.8.8.8")]
    [InlineData("2001:db8::1")]
    public void Public_addresses_are_checked(string ip)
    {
        Assert.False(SecureNodeId.IsExempt(IPAddress.Parse(ip)));
        var good = SecureNodeId.Generate(IPAddress.Parse(ip));
        Assert.True(SecureNodeId.IsValid(good, IPAddress.Parse(ip)));
        var bytes = good.ToArray();
        bytes[0] ^= 0x80;
        Assert.False(SecureNodeId.IsValid(new NodeId(bytes), IPAddress.Parse(ip)));
    }

    [Fact]
    public void Crc32c_matches_the_standard_check_value() =>
        Assert.Equal(0xE3069283u, SecureNodeId.Crc32C("123456789"u8));
}
