using System.Text.RegularExpressions;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Daemon;

/// <summary>
/// Debian's transmission-remote (transmission-cli 3.00) drives a real <c>rtorrent daemon</c> the way a user does:
/// it lists, adds a torrent that a python3-libtorrent seeder serves through opentracker, watches it reach 100 %,
/// stops, starts, verifies, sets limits and wanted files, moves it and removes it with its data; a magnet link added
/// the same way gets its name. Each step is checked in what transmission-remote prints and in the daemon's own state
/// (RTorrent's protocol through the session socket) and files.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class TransmissionRemoteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Transmission_remote_adds_downloads_stops_starts_verifies_limits_unwants_moves_and_removes_with_data()
    {
        using var tmp = new TempFolder("rt-tremote");
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "multi"), Payload.MultiFile, seed: 21);
        int trackerPort = OpenTracker.ReservePort();
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "multi"), tmp.PathOf("multi.torrent"), 32 * 1024,
            OpenTracker.HttpAnnounceFor(trackerPort));
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);

        await using var daemon = await DaemonProcess.StartAsync(tmp, output);
        using var remote = daemon.Attach();
        await remote.ConnectAsync();
        var tr = new TransmissionRemote(daemon.RpcPort, daemon.Home, output);

        // -l on an empty daemon: the header and the sum line, nothing else.
        string list = await tr.RunAsync("-l");
        Matches(@"^\s+ID\s+Done\s+Have\s+ETA\s+Up\s+Down\s+Ratio\s+Status\s+Name\s*\nSum:", list);

        // -a FILE: the .torrent's bytes travel as metainfo; the daemon has it as torrent 1 and downloads it.
        await tr.SucceedsAsync("-a", torrent.FilePath);
        Assert.Equal(torrent.InfoHashHex, Assert.Single((await remote.GetSessionAsync()).Torrents).Id);
        Matches(@"\n\s+1\s+.*\s+multi\n", await tr.RunAsync("-l"));
        string info = await tr.WaitForAsync(o => o.Contains("Percent Done: 100%", StringComparison.Ordinal), Limits.Transfer,
            "the download to reach 100 %", "-t", "1", "-i");
        Assert.Contains($"Hash: {torrent.InfoHashHex}", info, StringComparison.Ordinal);
        Assert.Contains($"Location: {daemon.Downloads}", info, StringComparison.Ordinal);
        Matches(@"Total size: 3\.\d+ MB \(3\.\d+ MB wanted\)", info);
        Payload.AssertSameTree(seedData, daemon.Downloads);
        // The list comes from a snapshot shared for up to 200 ms, so it may lag -i by one poll.
        await tr.WaitForAsync(o => Regex.IsMatch(o, @"\n\s+1\s+100%\s+3\.\d+ MB\s+Done\s+.*\s(Idle|Seeding)\s+multi\n"), Limits.Startup,
            "the list to show it done", "-l");

        // -S / -s: stopped, then running again (seeding).
        await tr.SucceedsAsync("-t", "1", "-S");
        Assert.Contains("State: Stopped", await tr.RunAsync("-t", "1", "-i"), StringComparison.Ordinal);
        Assert.Equal(TorrentState.Stopped, (await SnapshotAsync(remote, torrent)).State);
        await tr.SucceedsAsync("-t", "1", "-s");
        await tr.WaitForAsync(o => Regex.IsMatch(o, "State: (Idle|Seeding)"), Limits.Startup, "seeding again", "-t", "1", "-i");
        Assert.Equal(TorrentState.Seeding, (await SnapshotAsync(remote, torrent)).State);

        // -v: a full check, after which it seeds again with every piece.
        async Task<int> ChecksAsync() =>
            (await remote.GetDetailsAsync(torrent.InfoHashHex))!.Log.Count(e => e.Message.StartsWith("checked:", StringComparison.Ordinal));
        int checksBefore = await ChecksAsync();
        await tr.SucceedsAsync("-t", "1", "-v");
        await Poll.UntilAsync(async () => await ChecksAsync() > checksBefore, Limits.Startup, "the check to be done");
        var checkedLine = (await remote.GetDetailsAsync(torrent.InfoHashHex))!.Log.Last(e => e.Message.StartsWith("checked:", StringComparison.Ordinal));
        Assert.Equal($"checked: {torrent.Meta.PieceCount} of {torrent.Meta.PieceCount} pieces present", checkedLine.Message);
        await tr.WaitForAsync(o => o.Contains("Percent Done: 100%", StringComparison.Ordinal) && Regex.IsMatch(o, "State: (Idle|Seeding)"),
            Limits.Startup, "seeding after the check", "-t", "1", "-i");

        // -d / -u: the torrent's limits in kB/s (1000 bytes).
        await tr.SucceedsAsync("-t", "1", "-d", "100", "-u", "50");
        info = await tr.RunAsync("-t", "1", "-i");
        Assert.Contains("Download Limit: 100 kB/s", info, StringComparison.Ordinal);
        Assert.Contains("Upload Limit: 50 kB/s", info, StringComparison.Ordinal);
        var limited = await SnapshotAsync(remote, torrent);
        Assert.Equal((100_000, 50_000), (limited.DownloadLimit, limited.UploadLimit));
        await tr.SucceedsAsync("-t", "1", "-D", "-U");
        Assert.Contains("Download Limit: Unlimited", await tr.RunAsync("-t", "1", "-i"), StringComparison.Ordinal);

        // -G / -g: file wanted or not, by the index -f prints.
        string files = await tr.RunAsync("-t", "1", "-f");
        Assert.Contains("multi (7 files):", files, StringComparison.Ordinal);
        var line = FileLine(files, 2);
        string name = line.Groups["name"].Value;
        Assert.Equal("Yes", line.Groups["get"].Value);
        await tr.SucceedsAsync("-t", "1", "-G", "2");
        Assert.Equal("No", FileLine(await tr.RunAsync("-t", "1", "-f"), 2).Groups["get"].Value);
        var details = await remote.GetDetailsAsync(torrent.InfoHashHex);
        Assert.Equal(Priority.Skip, details!.Files.Single(f => f.Path == name).Priority);
        await tr.SucceedsAsync("-t", "1", "-g", "2");
        Assert.Equal("Yes", FileLine(await tr.RunAsync("-t", "1", "-f"), 2).Groups["get"].Value);

        // --move: the data goes to the new folder, which becomes the torrent's.
        string moved = tmp.Sub("moved");
        await tr.SucceedsAsync("-t", "1", "--move", moved);
        Assert.Contains($"Location: {moved}", await tr.RunAsync("-t", "1", "-i"), StringComparison.Ordinal);
        Payload.AssertSameTree(seedData, moved);
        Assert.False(Directory.Exists(Path.Combine(daemon.Downloads, "multi")), "the old folder is left behind");
        Assert.Equal(moved, (await SnapshotAsync(remote, torrent)).SavePath);

        // -rad: removed, and its data with it.
        await tr.SucceedsAsync("-t", "1", "-rad");
        Assert.Empty((await remote.GetSessionAsync()).Torrents);
        Matches(@"^\s+ID\s+Done.*\nSum:", await tr.RunAsync("-l"));
        Assert.False(Directory.Exists(Path.Combine(moved, "multi")), "the data is deleted");

        // An id that names nothing is an error, and transmission-remote says so.
        var (code, missing) = await tr.TryAsync("-t", "1", "-s");
        Assert.NotEqual(0, code);
        Assert.Contains("Error: no torrent with id 1", missing, StringComparison.Ordinal);
        Assert.Equal(0, await daemon.StopAsync());
    }

    [Fact]
    public async Task A_magnet_link_added_with_transmission_remote_gets_its_name_from_a_libtorrent_seeder_found_through_opentracker()
    {
        using var tmp = new TempFolder("rt-tremote");
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "by-magnet"), Payload.MultiFile, seed: 22);
        int trackerPort = OpenTracker.ReservePort();
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "by-magnet"), tmp.PathOf("by-magnet.torrent"), 32 * 1024,
            OpenTracker.HttpAnnounceFor(trackerPort));
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);

        await using var daemon = await DaemonProcess.StartAsync(tmp, output);
        var tr = new TransmissionRemote(daemon.RpcPort, daemon.Home, output);
        string magnet = $"magnet:?xt=urn:btih:{torrent.InfoHashHex}&tr={Uri.EscapeDataString(OpenTracker.HttpAnnounceFor(trackerPort))}";
        await tr.SucceedsAsync("-a", magnet);
        // Without a name in the link, the list shows the info-hash until the metadata arrives.
        string list = await tr.WaitForAsync(o => Regex.IsMatch(o, @"\n\s+1\s+.*\sby-magnet\n"), Limits.Transfer, "the name from the metadata", "-l");
        Assert.DoesNotContain(torrent.InfoHashHex, list, StringComparison.Ordinal);
        string info = await tr.WaitForAsync(o => o.Contains("Percent Done: 100%", StringComparison.Ordinal), Limits.Transfer,
            "the download to reach 100 %", "-t", "1", "-i");
        Assert.Contains("Name: by-magnet", info, StringComparison.Ordinal);
        Payload.AssertSameTree(seedData, daemon.Downloads);
    }

    private static void Matches(string pattern, string text) =>
        Assert.True(Regex.IsMatch(text, pattern), $"transmission-remote printed:\n{text}\nwhich does not match {pattern}");

    private static async Task<TorrentSnapshot> SnapshotAsync(RTorrent.Remote.Native.RemoteBackend remote, TestTorrent torrent) =>
        (await remote.GetSessionAsync()).Torrents.Single(t => t.Id == torrent.InfoHashHex);

    /// <summary>The line of file <paramref name="index"/> in -f's table: "  1:  100% Normal   Yes    1.0 MB  multi/album/...".</summary>
    private static Match FileLine(string files, int index)
    {
        var match = Regex.Match(files, $@"^\s*{index}:\s+\S+%\s+(?<priority>\w+)\s+(?<get>Yes|No)\s+.+?  (?<name>\S.*)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no line for file {index} in:\n{files}");
        return match;
    }
}
