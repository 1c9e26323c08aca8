using System.Net;
using RTorrent.Remote.Security;

namespace RTorrent.Remote.Tests.Security;

/// <summary>Which client addresses the RPC answers: single addresses, Transmission's wildcards and CIDR blocks.</summary>
public class AddressAllowListTests
{
    private static bool Allows(string[] entries, string address) => new AddressAllowList(entries).Allows(IPAddress.Parse(address));

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.0.0.1", "127.0.0.2", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1", "::2", false)]
    [InlineData("::1", "127.0.0.1", false)]
    [InlineData("127.0.0.1", "::1", false)]
    [InlineData("fe80::1", "FE80:0:0:0:0:0:0:1", true)]
    public void Single_addresses_match_only_themselves(string entry, string client, bool allowed) =>
        Assert.Equal(allowed, Allows([entry], client));

    [Theory]
    [InlineData("::ffff:192.168.1.2", true)]
    [InlineData("::ffff:192.168.1.4", false)]
    public void An_IPv4_client_seen_through_a_dual_stack_socket_is_matched_as_IPv4(string client, bool allowed)
    {
        Assert.Equal(allowed, Allows(["192.168.1.2"], client));
        Assert.Equal(allowed, Allows(["192.168.1.2/31"], client));
        Assert.Equal(allowed, Allows(["192.168.1.2/32"], client));
    }

    [Fact]
    public void A_mapped_entry_matches_the_plain_IPv4_client() => Assert.True(Allows(["::ffff:10.1.2.3"], "10.1.2.3"));

    [Theory]
    [InlineData("192.168.*.*", "192.168.0.1", true)]
    [InlineData("192.168.*.*", "192.168.255.255", true)]
    [InlineData("192.168.*.*", "192.169.0.1", false)]
    [InlineData("*.*.*.1", "10.20.30.1", true)]
    [InlineData("*.*.*.1", "10.20.30.2", false)]
    [InlineData("10.*.3.*", "10.99.3.7", true)]
    [InlineData("10.*.3.*", "10.99.4.7", false)]
    [InlineData("*.*.*.*", "8.8.8.8", true)]
    public void Wildcards_match_any_value_of_their_octet(string entry, string client, bool allowed) =>
        Assert.Equal(allowed, Allows([entry], client));

    [Fact]
    public void IPv4_wildcards_never_match_IPv6_clients()
    {
        Assert.False(Allows(["*.*.*.*"], "::1"));
        Assert.True(Allows(["*.*.*.*"], "::ffff:8.8.8.8"));
    }

    [Fact]
    public void A_lone_star_allows_everyone_even_an_unknown_address()
    {
        var list = new AddressAllowList(["*"]);
        Assert.True(list.Allows(IPAddress.Parse("203.0.113.9")));
        Assert.True(list.Allows(IPAddress.Parse("2001:db8::1")));
        Assert.True(list.Allows(null));
    }

    [Fact]
    public void Without_a_star_an_unknown_address_is_refused() => Assert.False(new AddressAllowList(["127.0.0.1"]).Allows(null));

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("10.0.0.0/8", "9.255.255.255", false)]
    [InlineData("192.168.1.0/24", "192.168.1.0", true)]
    [InlineData("192.168.1.0/24", "192.168.1.255", true)]
    [InlineData("192.168.1.0/24", "192.168.2.0", false)]
    [InlineData("172.16.0.0/12", "172.31.255.255", true)]
    [InlineData("172.16.0.0/12", "172.32.0.0", false)]
    [InlineData("172.16.0.0/12", "172.15.255.255", false)]
    [InlineData("192.168.1.128/25", "192.168.1.127", false)]
    [InlineData("192.168.1.128/25", "192.168.1.128", true)]
    [InlineData("192.168.1.7/32", "192.168.1.7", true)]
    [InlineData("192.168.1.7/32", "192.168.1.6", false)]
    [InlineData("0.0.0.0/0", "1.2.3.4", true)]
    [InlineData("0.0.0.0/0", "255.255.255.255", true)]
    [InlineData("0.0.0.0/0", "::1", false)]
    [InlineData("fd00::/8", "fd12:3456::1", true)]
    [InlineData("fd00::/8", "fe00::1", false)]
    [InlineData("2001:db8::/33", "2001:db8:7fff::1", true)]
    [InlineData("2001:db8::/33", "2001:db8:8000::1", false)]
    [InlineData("2001:db8::1/128", "2001:db8::1", true)]
    [InlineData("2001:db8::1/128", "2001:db8::2", false)]
    [InlineData("::/0", "2001:db8::2", true)]
    [InlineData("::/0", "10.0.0.1", false)]
    public void CIDR_blocks_match_their_prefix_and_nothing_else(string entry, string client, bool allowed) =>
        Assert.Equal(allowed, Allows([entry], client));

    [Fact]
    public void A_network_with_host_bits_set_still_matches_its_whole_block() =>
        Assert.True(Allows(["10.1.2.3/8"], "10.200.0.1"));

    [Fact]
    public void Several_entries_of_mixed_forms_each_allow_their_own()
    {
        var list = new AddressAllowList(["127.0.0.1", "::1", "192.168.*.*", "10.0.0.0/8", "  ", ""]);
        foreach (var yes in new[] { "127.0.0.1", "::1", "192.168.4.4", "10.9.9.9" }) Assert.True(list.Allows(IPAddress.Parse(yes)), yes);
        foreach (var no in new[] { "127.0.0.2", "::2", "172.16.0.1", "11.0.0.1" }) Assert.False(list.Allows(IPAddress.Parse(no)), no);
    }

    [Fact]
    public void Entries_are_trimmed()
    {
        var list = new AddressAllowList([" 10.0.0.0/8 ", "\t192.168.1.1\n"]);
        Assert.True(list.Allows(IPAddress.Parse("10.1.1.1")));
        Assert.True(list.Allows(IPAddress.Parse("192.168.1.1")));
    }

    [Fact]
    public void An_empty_list_allows_nobody() => Assert.False(Allows([], "127.0.0.1"));

    [Theory]
    [InlineData("localhost")]
    [InlineData("example.com")]
    [InlineData("1.2.3.256")]
    [InlineData("10.0.0.0/33")]
    [InlineData("::1/129")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/x")]
    [InlineData("/8")]
    [InlineData("192.168.*")]
    [InlineData("192.168.*.*.*")]
    [InlineData("192.168.1.*/24")]
    [InlineData("192.168.300.*")]
    [InlineData("192.168.-1.*")]
    [InlineData("192.168.0x1.*")]
    [InlineData("**")]
    [InlineData("fd00::*")]
    [InlineData("192.168.1")]
    [InlineData("10")]
    [InlineData("127.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("010.0.0.1")]
    [InlineData("192.168.001.010")]
    public void Entries_that_are_no_accepted_form_throw_FormatException_naming_them(string entry)
    {
        var e = Assert.Throws<FormatException>(() => new AddressAllowList([entry]));
        Assert.Contains(entry.Trim(), e.Message, StringComparison.Ordinal);
    }
}
