using System.Net;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Security;

namespace RTorrent.Remote.Tests.Security;

/// <summary>The defaults are the safe ones, and an open address without credentials is refused.</summary>
public class RpcSecurityOptionsTests
{
    private static IPEndPoint Ep(string address) => new(IPAddress.Parse(address), 9091);

    [Fact]
    public void Defaults_check_hosts_and_addresses_allow_only_loopback_and_cap_bodies_at_ten_MiB()
    {
        var options = new RpcSecurityOptions();
        Assert.True(options.HostAllowListEnabled);
        Assert.True(options.AddressAllowListEnabled);
        Assert.Equal(["127.0.0.1", "::1"], options.AddressAllowList);
        Assert.Equal(10L * 1024 * 1024, options.MaxRequestBytes);
        Assert.False(options.HasCredentials);

        var fromSettings = RpcSecurityOptions.FromSettings(new EngineSettings());
        Assert.True(fromSettings.HostAllowListEnabled);
        Assert.True(fromSettings.AddressAllowListEnabled);
        Assert.Equal(["127.0.0.1", "::1"], fromSettings.AddressAllowList);
        Assert.Equal(10L * 1024 * 1024, fromSettings.MaxRequestBytes);
        Assert.Null(fromSettings.Username);
    }

    [Fact]
    public void Settings_carry_over()
    {
        var s = new EngineSettings
        {
            RpcUsername = "admin",
            RpcPasswordHash = "pbkdf2-sha256$1$x$y",
            RpcHostAllowList = ["seedbox.example"],
            RpcHostAllowListEnabled = false,
            RpcAddressAllowList = ["10.0.0.0/8"],
            RpcAddressAllowListEnabled = false,
            RpcMaxRequestBytes = 4096,
        };
        var o = RpcSecurityOptions.FromSettings(s);
        Assert.Equal("admin", o.Username);
        Assert.Equal("pbkdf2-sha256$1$x$y", o.PasswordHash);
        Assert.Equal(["seedbox.example"], o.HostAllowList);
        Assert.False(o.HostAllowListEnabled);
        Assert.Equal(["10.0.0.0/8"], o.AddressAllowList);
        Assert.False(o.AddressAllowListEnabled);
        Assert.Equal(4096, o.MaxRequestBytes);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")] // IPv4 loopback on a dual-stack socket
    public void Loopback_needs_no_credentials(string address) => Assert.Null(new RpcSecurityOptions().RefuseBinding([Ep(address)]));

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("192.168.1.10")]
    public void Any_other_address_without_credentials_is_refused_with_a_reason(string address)
    {
        string? refusal = new RpcSecurityOptions().RefuseBinding([Ep("127.0.0.1"), Ep(address)]);
        Assert.NotNull(refusal);
        Assert.Contains(Ep(address).ToString(), refusal, StringComparison.Ordinal);
        Assert.Contains("without a user and password", refusal, StringComparison.Ordinal);
        Assert.Contains("rtorrent rpc-password", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void With_credentials_any_address_may_be_bound()
    {
        var options = new RpcSecurityOptions { Username = "admin", PasswordHash = RpcPassword.Hash("x", 1000) };
        Assert.Null(options.RefuseBinding([Ep("0.0.0.0"), Ep("::"), Ep("192.168.1.10")]));
        // Half of the credentials is none.
        Assert.NotNull((options with { PasswordHash = null }).RefuseBinding([Ep("0.0.0.0")]));
        Assert.NotNull((options with { Username = null }).RefuseBinding([Ep("0.0.0.0")]));
    }
}
