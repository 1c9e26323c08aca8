using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Daemon;

/// <summary>
/// The interface attached to a daemon in a real terminal (issue 12, items 2 and 6): add a torrent with keys, watch it
/// reach 100 %, detach, see the daemon keep seeding to another client, attach again and find it there.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class AttachedInterfaceTests(ITestOutputHelper output)
{
    private const string ExitMarker = "RTORRENT-EXITED";

    [Fact]
    public async Task Adds_through_the_daemon_detaches_while_the_daemon_keeps_seeding_and_attaches_again()
    {
        using var tmp = new TempFolder("rt-attach");
        string seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "attached.bin"), 5 * 1024 * 1024 + 999, seed: 21);
        int trackerPort = OpenTracker.ReservePort();
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "attached.bin"), tmp.PathOf("attached.torrent"), 64 * 1024,
            OpenTracker.HttpAnnounceFor(trackerPort));
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var daemon = await DaemonProcess.StartAsync(tmp, output);

        var environment = new Dictionary<string, string>(RTorrentCli.ProgramEnvironment(daemon.Home)) { ["TERM"] = "xterm-256color" };
        string program = $"'{RTorrentCli.DotnetHostPath}' '{RTorrentCli.DllPath}' --session '{daemon.Session}'";

        await using (var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output))
        {
            await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);
            await using var terminal = await TmuxTerminal.StartAsync($"{program}; echo {ExitMarker} $?; exec sleep 600", 100, 30, environment);
            try
            {
                // rtorrent finds the daemon through the session's socket and says so.
                await terminal.WaitForScreenAsync(s => s.Contains("attached to daemon", StringComparison.Ordinal) &&
                    s.Contains("No torrents yet", StringComparison.Ordinal), Limits.Startup, "the attached, empty list");
                await terminal.SendKeysAsync("BSpace");
                await terminal.WaitForScreenAsync(s => s.Contains("Torrent file or magnet link", StringComparison.Ordinal), Limits.Startup, "the add dialog");
                // The .torrent is a file on the interface's side; its contents travel to the daemon.
                await terminal.TypeAsync(torrent.FilePath);
                await terminal.SendKeysAsync("Enter");
                var done = await terminal.WaitForScreenAsync(
                    s => s.Contains("attached.bin", StringComparison.Ordinal) && s.Contains("100%", StringComparison.Ordinal) &&
                         s.Contains("seeding", StringComparison.Ordinal),
                    Limits.Transfer, "the torrent at 100% and seeding");
                output.WriteLine(done);

                // ^Q detaches: the interface exits 0, the daemon does not notice.
                await terminal.SendKeysAsync("C-q");
                var after = await terminal.WaitForScreenAsync(s => s.Contains(ExitMarker, StringComparison.Ordinal), Limits.Shutdown,
                    "the interface to exit");
                Assert.Contains($"{ExitMarker} 0", after, StringComparison.Ordinal);
            }
            catch
            {
                output.WriteLine("Last screen:\n" + await terminal.CaptureAsync());
                throw;
            }
        }
        Payload.AssertSameFile(Path.Combine(seedData, "attached.bin"), Path.Combine(daemon.Downloads, "attached.bin"));
        Assert.False(daemon.Process.HasExited, "detaching must not stop the daemon");

        // The original seeder is gone: a new libtorrent downloader can only get the data from the daemon.
        string fresh = tmp.Sub("fresh");
        await using (var leecher = LibtorrentPeer.StartDownloader(torrent.FilePath, fresh, output))
        {
            await leecher.WaitFinishedAsync(Limits.Transfer);
        }
        Payload.AssertSameFile(Path.Combine(seedData, "attached.bin"), Path.Combine(fresh, "attached.bin"));

        // Attach again: the torrent is there, still seeding.
        await using var again = await TmuxTerminal.StartAsync($"exec {program}", 100, 30, environment);
        try
        {
            await again.WaitForScreenAsync(s => s.Contains("attached to daemon", StringComparison.Ordinal) &&
                s.Contains("attached.bin", StringComparison.Ordinal) && s.Contains("seeding", StringComparison.Ordinal),
                Limits.Startup, "the torrent seen again after attaching");
        }
        catch
        {
            output.WriteLine("Last screen:\n" + await again.CaptureAsync());
            throw;
        }
    }
}
