using RTorrent.Remote.Native;

namespace RTorrent.Remote.Tests.Native;

/// <summary>Reading <c>--connect</c> values.</summary>
public class RemoteTargetTests
{
    [Theory]
    [InlineData("http://seedbox:9091", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("seedbox:9091", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("  seedbox:9091  ", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("seedbox", "http://seedbox/", "seedbox")]
    [InlineData("127.0.0.1:9091", "http://127.0.0.1:9091/", "127.0.0.1:9091")]
    [InlineData("[::1]:9091", "http://[::1]:9091/", "[::1]:9091")]
    [InlineData("https://seedbox.example", "https://seedbox.example/", "seedbox.example")]
    [InlineData("https://seedbox.example:443/", "https://seedbox.example/", "seedbox.example")]
    [InlineData("HTTPS://SeedBox.Example:8443", "https://seedbox.example:8443/", "seedbox.example:8443")]
    [InlineData("http://seedbox:9091/transmission/rpc", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("http://seedbox:9091/rtorrent/rpc", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("http://seedbox:9091/transmission/web/", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("http://seedbox:9091/transmission/web", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("http://seedbox:9091/transmission/", "http://seedbox:9091/", "seedbox:9091")]
    [InlineData("https://seedbox.example/rtorrent/", "https://seedbox.example/rtorrent/", "seedbox.example")]
    [InlineData("https://seedbox.example/rtorrent", "https://seedbox.example/rtorrent/", "seedbox.example")]
    [InlineData("https://seedbox.example/proxy/transmission/rpc", "https://seedbox.example/proxy/", "seedbox.example")]
    [InlineData("https://seedbox.example/proxy/rtorrent/rpc", "https://seedbox.example/proxy/", "seedbox.example")]
    public void URLs_and_host_port_give_the_daemon_base(string value, string baseUrl, string name)
    {
        var target = RemoteTarget.Parse(value);
        Assert.Equal(new Uri(baseUrl), target.BaseUrl);
        Assert.Equal(baseUrl, target.BaseUrl!.ToString());
        Assert.Null(target.SocketPath);
        Assert.Equal(name, target.Name);
        Assert.Null(target.User);
        Assert.Null(target.Password);
    }

    [Theory]
    [InlineData("https://admin:secret@seedbox.example:9091/", "admin", "secret")]
    [InlineData("admin:secret@seedbox:9091", "admin", "secret")]
    [InlineData("http://admin@seedbox:9091", "admin", null)]
    [InlineData("http://admin:@seedbox:9091", "admin", "")]
    [InlineData("http://ad%20min:p%40ss%3Aw%2Fo%25rd@seedbox:9091", "ad min", "p@ss:w/o%rd")]
    [InlineData("http://admin:a:b:c@seedbox:9091", "admin", "a:b:c")]
    [InlineData("http://J%C3%BCrgen:%E2%9C%93@seedbox:9091", "Jürgen", "✓")]
    public void Credentials_are_taken_out_of_the_URL_and_unescaped(string value, string user, string? password)
    {
        var target = RemoteTarget.Parse(value);
        Assert.Equal(user, target.User);
        Assert.Equal(password, target.Password);
        Assert.Equal("", target.BaseUrl!.UserInfo);
        Assert.DoesNotContain("@", target.BaseUrl.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(user.Split(' ')[0], target.BaseUrl.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("http://")]
    [InlineData("ftp://seedbox:21")]
    [InlineData("file:///tmp/rpc.sock")]
    [InlineData("ws://seedbox:9091")]
    [InlineData("http://seed box:9091")]
    [InlineData("seedbox:notaport")]
    [InlineData("seedbox:99999")]
    public void Anything_else_is_a_FormatException_quoting_the_value(string value)
    {
        var e = Assert.Throws<FormatException>(() => RemoteTarget.Parse(value));
        Assert.Contains($"'{value}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_is_an_argument_error() => Assert.Throws<ArgumentNullException>(() => RemoteTarget.Parse(null!));

    [Fact]
    public void A_session_folder_means_its_socket()
    {
        var target = RemoteTarget.ForSession("relative/session");
        Assert.Equal(Path.Combine(Path.GetFullPath("relative/session"), "rpc.sock"), target.SocketPath);
        Assert.Null(target.BaseUrl);
        Assert.Equal(target.SocketPath, target.Name);
    }
}
