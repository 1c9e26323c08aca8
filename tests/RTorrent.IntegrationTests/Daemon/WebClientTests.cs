using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Daemon;

/// <summary>
/// Transmission's own web client (Debian's transmission-common, /usr/share/transmission/web), served by
/// <c>rtorrent daemon --web-home</c>, in headless Chromium (issue 12, item 6): it loads through the RPC's checks
/// (session id, host) and lists the daemon's torrent. The test saves a screenshot for people to look at.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class WebClientTests(ITestOutputHelper output)
{
    /// <summary>Where Debian's transmission-common installs the web client.</summary>
    private const string WebHome = "/usr/share/transmission/web";

    /// <summary>Where the screenshot goes (kept after the test).</summary>
    public static string ScreenshotPath => Path.Combine(Path.GetTempPath(), "rtorrent-transmission-web-client.png");

    [Fact]
    public async Task Transmissions_web_client_served_by_the_daemon_lists_its_torrent_in_chromium()
    {
        if (!File.Exists(Path.Combine(WebHome, "index.html")))
            throw new InvalidOperationException($"{WebHome} is missing (Debian package transmission-common). Run ./test.sh, which installs the test peers.");
        using var tmp = new TempFolder("rt-web");
        string session = tmp.Sub("session");
        string downloads = tmp.Sub("downloads");
        Payload.WriteFile(Path.Combine(downloads, "shown-in-the-browser.bin"), 3 * 1024 * 1024 + 5, seed: 77);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(downloads, "shown-in-the-browser.bin"), tmp.PathOf("web.torrent"), 64 * 1024);
        await using var daemon = await DaemonProcess.StartAsync(tmp, output, session: session, extra: ["--web-home", WebHome]);
        using (var remote = daemon.Attach())
        {
            await remote.ConnectAsync();
            await remote.AddTorrentAsync(torrent.FilePath, downloads, start: true, picker: null, storage: null);
        }

        await using var browser = await HeadlessChromium.StartAsync(tmp, output);
        await browser.NavigateAsync($"http://127.0.0.1:{daemon.RpcPort}/transmission/web/");
        string text = await browser.WaitForTextAsync(
            t => t.Contains("shown-in-the-browser.bin", StringComparison.Ordinal) && t.Contains("Seeding", StringComparison.Ordinal),
            Limits.Startup, "the torrent, seeding");
        output.WriteLine(text);
        // Its size as the web client formats sizeWhenDone (3,145,733 bytes in its 1000-based units).
        Assert.Contains("3.14 MB", text, StringComparison.Ordinal);

        // Select the torrent and open the inspector: it asks torrent-get for the detail fields (files, peers, trackers).
        await browser.ClickAsync("#torrent_list li");
        await browser.ClickAsync("#toolbar-inspector");
        string inspector = await browser.WaitForTextAsync(
            t => t.Contains(torrent.InfoHashHex, StringComparison.OrdinalIgnoreCase) && t.Contains("Have:", StringComparison.Ordinal),
            Limits.Startup, "the inspector with the torrent's hash");
        output.WriteLine(inspector);
        await browser.ScreenshotAsync(ScreenshotPath);
        output.WriteLine($"screenshot: {ScreenshotPath}");
        Assert.True(new FileInfo(ScreenshotPath).Length > 10_000, "the screenshot is (nearly) empty");
    }
}
