using System.Net;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// Issue 16, IPv6: <c>rtorrent</c> downloading from python3-libtorrent over ::1 (directly, and through an HTTP tracker
/// answering <c>peers6</c>), and across a network namespace whose only link carries nothing but IPv6.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class IPv6InteropTests(ITestOutputHelper output)
{
    private static readonly string[] NoOtherSources = ["--no-dht", "--no-lsd", "--no-pex"];

    private static RunningProcess Download(TempFolder tmp, ITestOutputHelper output, string torrent, IPAddress bind, params string[] extra) =>
        RTorrentCli.Start("rtorrent", tmp.Path, output, ["download", torrent, "--save", tmp.Sub("download"), "--session", tmp.Sub("session"),
            "--bind", bind.ToString(), "--port", "0", .. NoOtherSources, .. extra]);

    [Fact]
    public async Task Downloads_from_a_libtorrent_seeder_listening_on_ipv6_loopback()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "six"), Payload.MultiFile, seed: 61);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "six"), tmp.PathOf("six.torrent"), 32 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, "lt-seed6", 0, "default", listen: "::1", netns: null);

        await using var client = Download(tmp, output, torrent.FilePath, IPAddress.IPv6Loopback, "--peer", $"[::1]:{seeder.Port}");
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Assert.Contains("Complete: 'six' verified.", client.StandardError, StringComparison.Ordinal);
        Payload.AssertSameTree(seedData, tmp.PathOf("download"));
    }

    [Fact]
    public async Task Downloads_through_an_http_tracker_on_ipv6_that_answers_with_peers6()
    {
        using var tmp = new TempFolder();
        await using var tracker = new DualStackTracker(IPAddress.IPv6Loopback);
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "tracked6.bin"), 2 * 1024 * 1024 + 777, seed: 62);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "tracked6.bin"), tmp.PathOf("tracked6.torrent"), 64 * 1024,
            tracker.AnnounceUrl);
        Assert.StartsWith("http://[::1]:", tracker.AnnounceUrl, StringComparison.Ordinal);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, "lt-seed6", 0, "default", listen: "::1", netns: null);
        await Poll.UntilAsync(() => Task.FromResult(tracker.PeersOf(torrent.InfoHashHex).Count > 0), Limits.Startup, "libtorrent announcing over IPv6");

        await using var client = Download(tmp, output, torrent.FilePath, IPAddress.IPv6Loopback);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Payload.AssertSameTree(seedData, tmp.PathOf("download"));
        // Our announce came over IPv6 and its only peer came back in peers6 (the tracker lists IPv6 peers nowhere else).
        var ours = tracker.Announces.Where(a => a.Parameters.GetValueOrDefault("peer_id", "").StartsWith("-RT", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ours);
        Assert.All(ours, a => Assert.Equal(IPAddress.IPv6Loopback, a.From.Address));
        // BEP 7: ipv6= is our interface's IPv6 address when there is one worth announcing (never ::1).
        var expected = RTorrent.Engine.Trackers.LocalIPv6Address.Get();
        Assert.All(ours, a => Assert.Equal(expected?.ToString(), a.Parameters.GetValueOrDefault("ipv6")));
    }

    [Fact]
    public async Task Downloads_across_a_namespace_whose_only_link_is_ipv6_through_a_tracker_on_that_link()
    {
        using var ns = Ipv6OnlyNamespace.Create();
        using var tmp = new TempFolder();
        // The tracker listens on our end of the link, so both sides announce over it and learn each other's IPv6 address.
        await using var tracker = new DualStackTracker(ns.HostAddress);
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "across6"), Payload.MultiFile, seed: 63);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "across6"), tmp.PathOf("across6.torrent"), 32 * 1024, tracker.AnnounceUrl);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, "lt-seed-ns6", 0, "default",
            listen: ns.NamespaceAddress.ToString(), netns: ns.Name);
        await Poll.UntilAsync(() => Task.FromResult(tracker.PeersOf(torrent.InfoHashHex).Count > 0), Limits.Startup, "libtorrent announcing from the namespace");
        Assert.Equal(ns.NamespaceAddress, Assert.Single(tracker.PeersOf(torrent.InfoHashHex)).Address);

        await using var client = Download(tmp, output, torrent.FilePath, ns.HostAddress);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Assert.Contains("Complete: 'across6' verified.", client.StandardError, StringComparison.Ordinal);
        Payload.AssertSameTree(seedData, tmp.PathOf("download"));
        Assert.Contains(tracker.Announces, a => a.From.Address.Equals(ns.HostAddress));
    }
}
