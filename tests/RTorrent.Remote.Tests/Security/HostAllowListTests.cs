using RTorrent.Remote.Security;

namespace RTorrent.Remote.Tests.Security;

/// <summary>The Host header check against DNS rebinding (CVE-2018-5702).</summary>
public class HostAllowListTests
{
    private static readonly HostAllowList Default = new([]);

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST")]
    [InlineData("localhost:9091")]
    [InlineData("localhost.")]
    [InlineData("localhost.:9091")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:9091")]
    [InlineData("192.168.1.20:9091")]
    [InlineData("[::1]")]
    [InlineData("[::1]:9091")]
    [InlineData("[fe80::1]:80")]
    [InlineData(" localhost ")]
    public void Localhost_names_and_address_literals_are_allowed_without_listing(string host) => Assert.True(Default.Allows(host));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("evil.example")]
    [InlineData("evil.example:9091")]
    [InlineData("localhost.evil.example")]
    [InlineData("evil-localhost")]
    [InlineData("localhostx")]
    [InlineData("127.0.0.1.evil.example")]
    [InlineData("[evil.example]")]
    [InlineData("[::1")]
    [InlineData(":9091")]
    public void Other_names_and_missing_hosts_are_refused(string? host) => Assert.False(Default.Allows(host));

    [Fact]
    public void Listed_names_are_allowed_with_any_case_port_and_trailing_dot()
    {
        var list = new HostAllowList(["seedbox.example", " nas.local. "]);
        Assert.True(list.Allows("seedbox.example"));
        Assert.True(list.Allows("SeedBox.Example:9091"));
        Assert.True(list.Allows("seedbox.example."));
        Assert.True(list.Allows("nas.local"));
        Assert.False(list.Allows("www.seedbox.example"));
        Assert.False(list.Allows("seedbox.example.evil"));
        Assert.False(list.Allows("evil.example"));
    }

    [Fact]
    public void A_star_entry_allows_subdomains_but_not_the_bare_name_nor_lookalikes()
    {
        var list = new HostAllowList(["*.example.com"]);
        Assert.True(list.Allows("a.example.com"));
        Assert.True(list.Allows("deep.sub.EXAMPLE.com:443"));
        Assert.True(list.Allows("a.example.com."));
        Assert.False(list.Allows("example.com"));
        Assert.False(list.Allows("evilexample.com"));
        Assert.False(list.Allows("example.com.evil.net"));
        Assert.False(list.Allows(".example.com"));
    }

    [Fact]
    public void Empty_entries_allow_nothing_extra()
    {
        var list = new HostAllowList(["", "  ", "."]);
        Assert.False(list.Allows("evil.example"));
        Assert.True(list.Allows("localhost"));
    }
}
