using System.IO.Compression;
using System.Net;
using System.Text;
using RTorrent.Engine.Blocklists;

namespace RTorrent.Engine.Tests.Blocklists;

/// <summary>Reading blocklists: each format, IPv6, gzip, and malformed lines reported by number and skipped.</summary>
public class BlocklistParserTests
{
    private static (IpRangeSet Set, BlocklistParseResult Result) Parse(string text)
    {
        var builder = new IpRangeSetBuilder();
        var result = BlocklistParser.Parse(text, builder);
        return (builder.Build(), result);
    }

    private static bool Blocks(IpRangeSet set, string address) => set.Contains(IPAddress.Parse(address));

    [Fact]
    public void PeerGuardian_text_lines_give_ranges_whatever_the_description_holds()
    {
        var (set, result) = Parse("""
            # a comment
            Some Org:1.2.3.0-1.2.3.255
            Bad: Corp, Inc. - a/b:10.0.0.5-10.0.0.9

            no description at all:192.168.7.7-192.168.7.7
            """);
        Assert.Equal(0, result.Malformed);
        Assert.Equal(3, result.Rules);
        Assert.True(Blocks(set, "1.2.3.0"));
        Assert.True(Blocks(set, "1.2.3.255"));
        Assert.False(Blocks(set, "1.2.4.0"));
        Assert.False(Blocks(set, "1.2.2.255"));
        Assert.True(Blocks(set, "10.0.0.5"));
        Assert.True(Blocks(set, "10.0.0.9"));
        Assert.False(Blocks(set, "10.0.0.10"));
        Assert.True(Blocks(set, "192.168.7.7"));
        Assert.False(Blocks(set, "192.168.7.8"));
    }

    [Fact]
    public void EMule_dat_lines_read_leading_zeros_as_decimal_and_levels_above_127_allow()
    {
        var (set, result) = Parse("""
            001.002.003.000 - 001.002.003.255 , 000 , Some description
            010.000.000.008 - 010.000.000.010 , 127 , still blocked
            020.000.000.000 - 020.000.000.255 , 200 , allowed, not blocked
            """);
        Assert.Equal(0, result.Malformed);
        Assert.Equal(2, result.Rules);
        Assert.True(Blocks(set, "1.2.3.7"));
        // 010 is ten, not octal eight.
        Assert.True(Blocks(set, "10.0.0.8"));
        Assert.True(Blocks(set, "10.0.0.10"));
        Assert.False(Blocks(set, "8.0.0.8"));
        Assert.False(Blocks(set, "20.0.0.1"));
    }

    [Fact]
    public void Cidr_blocks_single_addresses_and_bare_ranges_of_both_families()
    {
        var (set, result) = Parse("""
            203.0.113.0/24
            198.51.100.77
            2001:db8::/32
            2001:db9::1
            2001:dba::10-2001:dba::20
            v6 with a description:2001:dbb::-2001:dbb::ff
            0.0.0.0/32
            """);
        Assert.Equal(0, result.Malformed);
        Assert.Equal(7, result.Rules);
        Assert.True(Blocks(set, "203.0.113.200"));
        Assert.False(Blocks(set, "203.0.114.0"));
        Assert.True(Blocks(set, "198.51.100.77"));
        Assert.False(Blocks(set, "198.51.100.78"));
        Assert.True(Blocks(set, "2001:db8:ffff::1"));
        Assert.False(Blocks(set, "2001:db7:ffff::1"));
        Assert.True(Blocks(set, "2001:db9::1"));
        Assert.False(Blocks(set, "2001:db9::2"));
        Assert.True(Blocks(set, "2001:dba::15"));
        Assert.False(Blocks(set, "2001:dba::21"));
        Assert.True(Blocks(set, "2001:dbb::80"));
        Assert.False(Blocks(set, "2001:dbb::100"));
        Assert.Equal(4, set.IPv6Count);
    }

    [Fact]
    public void An_ipv4_peer_seen_through_a_dual_stack_socket_is_looked_up_as_ipv4()
    {
        var (set, _) = Parse("1.2.3.0/24\n::ffff:5.6.7.8\n");
        Assert.True(Blocks(set, "::ffff:1.2.3.4"));
        Assert.True(Blocks(set, "5.6.7.8"));
        Assert.Equal(0, set.IPv6Count);
    }

    [Fact]
    public void Malformed_lines_are_reported_with_their_numbers_and_skipped()
    {
        var (set, result) = Parse(
            "good:1.1.1.1-1.1.1.2\n" +          // 1
            "not an address\n" +                  // 2
            "bad:1.2.3.256-1.2.3.4\n" +         // 3
            "reversed:9.9.9.9-9.9.9.1\n" +      // 4
            "1.2.3.0/33\n" +                     // 5
            "mixed:1.2.3.4-2001:db8::1\n" +      // 6
            "# fine\n" +                         // 7
            "001.002.003.004 - 001.002.003.005 , x , eMule without a level\n" + // 8
            "2001:db8::/129\r\n" +               // 9
            "8.8.8.8\n");                        // 10
        Assert.Equal(10, result.Lines);
        Assert.Equal(2, result.Rules);
        Assert.Equal(7, result.Malformed);
        Assert.Equal([2L, 3, 4, 5, 6, 8, 9], result.Errors.Select(e => e.Line));
        Assert.Contains("first address is after its last", result.Errors[2].Reason);
        Assert.Contains("/33", result.Errors[3].Reason);
        Assert.Contains("mix IPv4 and IPv6", result.Errors[4].Reason);
        Assert.Contains("access level", result.Errors[5].Reason);
        Assert.StartsWith("line 2: ", result.Errors[0].ToString());
        Assert.True(Blocks(set, "1.1.1.2"));
        Assert.True(Blocks(set, "8.8.8.8"));
        Assert.False(Blocks(set, "1.2.3.4"));
    }

    [Fact]
    public void Errors_kept_are_capped_but_all_are_counted_and_an_overlong_line_is_one_error()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 500; i++) sb.Append("garbage\n");
        sb.Append(new string('x', 100_000)).Append('\n');
        sb.Append("1.2.3.4\n");
        var (set, result) = Parse(sb.ToString());
        Assert.Equal(501, result.Malformed);
        Assert.Equal(BlocklistParser.MaxErrorsKept, result.Errors.Count);
        Assert.Equal(502, result.Lines);
        Assert.True(Blocks(set, "1.2.3.4"));
    }

    [Fact]
    public void An_overlong_line_is_reported_with_its_number()
    {
        var (set, result) = Parse("1.1.1.1\n" + new string('y', 5000) + "\n2.2.2.2");
        var error = Assert.Single(result.Errors);
        Assert.Equal(2, error.Line);
        Assert.Contains("longer than", error.Reason);
        Assert.Equal(3, result.Lines);
        Assert.True(Blocks(set, "2.2.2.2"));
    }

    [Fact]
    public void Hostile_bytes_never_throw()
    {
        var random = new Random(7);
        for (int round = 0; round < 50; round++)
        {
            var bytes = new byte[random.Next(0, 4000)];
            random.NextBytes(bytes);
            // Sprinkle separators so the format paths are reached.
            for (int i = 0; i < bytes.Length; i += random.Next(1, 20)) bytes[i] = (byte)":-,./\n1"[random.Next(7)];
            var builder = new IpRangeSetBuilder();
            var result = BlocklistParser.Parse(new MemoryStream(bytes), builder);
            Assert.True(result.Lines >= 0);
            builder.Build();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gzip_is_recognised_by_its_magic_bytes_on_seekable_and_forward_only_streams(bool seekable)
    {
        var text = "Org:1.2.3.0-1.2.3.255\n2001:db8::/48\nbad line\n";
        var compressed = new MemoryStream();
        using (var gz = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes(text));
        compressed.Position = 0;
        Stream input = seekable ? compressed : new ForwardOnly(compressed);
        var builder = new IpRangeSetBuilder();
        var result = BlocklistParser.Parse(input, builder);
        var set = builder.Build();
        Assert.Equal(2, result.Rules);
        Assert.Equal(3, Assert.Single(result.Errors).Line);
        Assert.True(Blocks(set, "1.2.3.9"));
        Assert.True(Blocks(set, "2001:db8:0:1::"));

        // The same text plain, forward-only: the two bytes looked at are read again.
        var plain = BlocklistParser.Parse(new ForwardOnly(new MemoryStream(Encoding.UTF8.GetBytes(text))), new IpRangeSetBuilder());
        Assert.Equal(2, plain.Rules);
    }

    [Fact]
    public void A_corrupt_gzip_stream_is_an_InvalidDataException_not_a_crash()
    {
        var bytes = new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        Assert.Throws<InvalidDataException>(() => BlocklistParser.Parse(new MemoryStream(bytes), new IpRangeSetBuilder()));
    }

    private sealed class ForwardOnly(Stream inner) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 3));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
