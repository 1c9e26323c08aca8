using RTorrent.Engine.Settings;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Tui;

/// <summary>
/// The real program in a real terminal (tmux), driven by keys as a person would: add a torrent that a python3-libtorrent
/// seeder serves through opentracker, watch it reach 100%, quit, and find the terminal as it was before.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class TerminalInterfaceTests(ITestOutputHelper output)
{
    private const string ExitMarker = "RTORRENT-EXITED";

    [Fact]
    public async Task Adds_a_torrent_with_keys_downloads_it_from_libtorrent_to_100_percent_and_quits_restoring_the_terminal()
    {
        using var tmp = new TempFolder("rt-tui-e2e");
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "tui-e2e.bin"), 6 * 1024 * 1024 + 4321, seed: 11);
        int trackerPort = OpenTracker.ReservePort();
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "tui-e2e.bin"), tmp.PathOf("tui-e2e.torrent"), 64 * 1024,
            OpenTracker.HttpAnnounceFor(trackerPort));
        await using var tracker = await OpenTracker.StartAsync(tmp.Sub("tracker"), trackerPort, [torrent.InfoHashHex], output);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output,
            uploadLimit: 1024 * 1024); // a few seconds of download, so the Peers tab can be seen while it runs
        await tracker.WaitForSeedersAsync(torrent.InfoHashHex, 1, Limits.Startup);

        (string session, string downloads) = await WriteLoopbackSessionAsync(tmp);

        // The shell stays after the program so the test can look at the terminal it left behind.
        string command = $"{Program(session)}; echo {ExitMarker} $?; stty -a; exec sleep 600";
        await using var terminal = await TmuxTerminal.StartAsync(command, 100, 30, Environment(tmp));
        try
        {
            await terminal.WaitForScreenAsync(s => s.Contains("No torrents yet", StringComparison.Ordinal), Limits.Startup, "the empty list");
            Assert.Equal("1", await terminal.FormatAsync("#{alternate_on}"));

            // Backspace opens the add dialog, as in rTorrent; the save folder is filled in from the settings.
            await terminal.SendKeysAsync("BSpace");
            var dialog = await terminal.WaitForScreenAsync(s => s.Contains("Torrent file or magnet link", StringComparison.Ordinal),
                Limits.Startup, "the add dialog");
            Assert.Contains(downloads, dialog, StringComparison.Ordinal);
            await terminal.TypeAsync(torrent.FilePath);
            await terminal.SendKeysAsync("Enter");

            // While it downloads, the Peers tab shows the libtorrent seeder (seeds part once both are complete).
            await terminal.WaitForScreenAsync(s => s.Contains("tui-e2e.bin", StringComparison.Ordinal), Limits.Startup, "the new row");
            await terminal.SendKeysAsync("Enter");
            await terminal.WaitForScreenAsync(s => s.Contains("1 Info", StringComparison.Ordinal), Limits.Startup, "the details");
            await terminal.SendKeysAsync("3");
            await terminal.WaitForScreenAsync(s => s.Contains($"127.0.0.1:{seeder.Port}", StringComparison.Ordinal),
                Limits.Startup, "the seeder in the Peers tab");
            await terminal.SendKeysAsync("Escape");

            var done = await terminal.WaitForScreenAsync(
                s => s.Contains("tui-e2e.bin", StringComparison.Ordinal) && s.Contains("100%", StringComparison.Ordinal) &&
                     s.Contains("seeding", StringComparison.Ordinal),
                Limits.Transfer, "the torrent at 100% and seeding");
            output.WriteLine(done);
            Payload.AssertSameFile(Path.Combine(seedData, "tui-e2e.bin"), Path.Combine(downloads, "tui-e2e.bin"));

            await terminal.SendKeysAsync("C-q");
            var after = await terminal.WaitForScreenAsync(s => s.Contains(ExitMarker, StringComparison.Ordinal), Limits.Shutdown,
                "the program to exit");
            output.WriteLine(after);
            Assert.Contains($"{ExitMarker} 0", after, StringComparison.Ordinal);

            // Restored: back on the normal screen, cursor shown, no mouse reporting, the line discipline cooked and echoing.
            Assert.Equal("0", await terminal.FormatAsync("#{alternate_on}"));
            Assert.Equal("1", await terminal.FormatAsync("#{cursor_flag}"));
            Assert.Equal("0", await terminal.FormatAsync("#{mouse_any_flag}"));
            string stty = after[after.IndexOf(ExitMarker, StringComparison.Ordinal)..];
            Assert.Matches(@"(^|\s)icanon(\s|$)", stty);
            Assert.Matches(@"(^|\s)echo(\s|$)", stty);

            // The session kept the torrent for the next start.
            Assert.Contains(Directory.EnumerateFiles(session, "*", SearchOption.AllDirectories),
                f => f.EndsWith(".torrent", StringComparison.Ordinal));
        }
        catch
        {
            output.WriteLine("Last screen:\n" + await terminal.CaptureAsync());
            throw;
        }
    }

    [Fact]
    public async Task A_closed_terminal_ends_the_program_with_its_session_saved_and_reusable()
    {
        using var tmp = new TempFolder("rt-tui-hup");
        (string session, _) = await WriteLoopbackSessionAsync(tmp);
        var environment = Environment(tmp);
        string command = "exec " + Program(session);

        int pid;
        await using (var terminal = await TmuxTerminal.StartAsync(command, 80, 24, environment))
        {
            pid = terminal.PanePid;
            await terminal.WaitForScreenAsync(s => s.Contains("No torrents yet", StringComparison.Ordinal), Limits.Startup, "the empty list");
            await terminal.CloseAsync();
            // Terminal.Gui alone would spin on the dead terminal for ever; the program must notice and exit.
            await Poll.UntilAsync(() => !IsRunning(pid), Limits.Shutdown, $"rtorrent (pid {pid}) to exit after its terminal closed");
        }

        // The session lock was released: the next start opens the same session.
        await using var again = await TmuxTerminal.StartAsync(command, 80, 24, environment);
        await again.WaitForScreenAsync(s => s.Contains("No torrents yet", StringComparison.Ordinal), Limits.Startup, "the second start");
    }

    [Fact]
    public async Task Ctrl_T_switches_turtle_mode_the_status_line_shows_it_and_it_survives_a_restart()
    {
        using var tmp = new TempFolder("rt-tui-turtle");
        (string session, _) = await WriteLoopbackSessionAsync(tmp);
        var environment = Environment(tmp);
        string command = $"{Program(session)}; echo {ExitMarker} $?; exec sleep 600";
        static string StatusRow(string screen) => screen.Split('\n') is var rows && rows.Length >= 2 ? rows[^2] : "";

        await using (var terminal = await TmuxTerminal.StartAsync(command, 100, 30, environment))
        {
            try
            {
                var first = await terminal.WaitForScreenAsync(s => s.Contains("No torrents yet", StringComparison.Ordinal) &&
                    s.Contains("free", StringComparison.Ordinal), Limits.Startup, "the empty list and its status line");
                Assert.DoesNotContain("TURTLE", first, StringComparison.Ordinal);
                await terminal.SendKeysAsync("C-t");
                var on = await terminal.WaitForScreenAsync(s => s.Contains("TURTLE  Down", StringComparison.Ordinal) &&
                    s.Contains("Turtle mode on", StringComparison.Ordinal), Limits.Startup, "TURTLE in the status line");
                output.WriteLine(on);
                // The turtle limits are in force (Transmission's default 50 kB/s, shown in KiB).
                Assert.Contains("Down 0B/s (max 49K)", on, StringComparison.Ordinal);
                await terminal.SendKeysAsync("C-q");
                var after = await terminal.WaitForScreenAsync(s => s.Contains(ExitMarker, StringComparison.Ordinal), Limits.Shutdown, "the program to exit");
                Assert.Contains($"{ExitMarker} 0", after, StringComparison.Ordinal);
            }
            catch
            {
                output.WriteLine("Last screen:\n" + await terminal.CaptureAsync());
                throw;
            }
        }
        Assert.True((await SettingsStore.LoadAsync(session)).AltSpeedEnabled);

        // The next start is in turtle mode; ^T switches it off.
        await using var again = await TmuxTerminal.StartAsync(command, 100, 30, environment);
        try
        {
            await again.WaitForScreenAsync(s => s.Contains("No torrents yet", StringComparison.Ordinal) && s.Contains("TURTLE  Down", StringComparison.Ordinal),
                Limits.Startup, "turtle mode after the restart");
            await again.SendKeysAsync("C-t");
            var off = await again.WaitForScreenAsync(s => s.Contains("Turtle mode off", StringComparison.Ordinal), Limits.Startup, "turtle mode off");
            Assert.DoesNotContain("TURTLE", StatusRow(off), StringComparison.Ordinal);
            await again.SendKeysAsync("C-q");
            await again.WaitForScreenAsync(s => s.Contains(ExitMarker, StringComparison.Ordinal), Limits.Shutdown, "the program to exit");
        }
        catch
        {
            output.WriteLine("Last screen:\n" + await again.CaptureAsync());
            throw;
        }
        Assert.False((await SettingsStore.LoadAsync(session)).AltSpeedEnabled);
    }

    /// <summary>A session whose settings a user could have saved: loopback only, no DHT/LSD/PEX (tests name their peers).</summary>
    private static async Task<(string Session, string Downloads)> WriteLoopbackSessionAsync(TempFolder tmp)
    {
        string session = tmp.Sub("session");
        string downloads = tmp.Sub("downloads");
        await SettingsStore.SaveAsync(new EngineSettings
        {
            SessionDirectory = session,
            DownloadDirectory = downloads,
            ListenPort = 0,
            ListenOnIPv6 = false,
            DhtEnabled = false,
            LsdEnabled = false,
            PexEnabled = false,
            PortForwardingEnabled = false,
        });
        return (session, downloads);
    }

    /// <summary>The shell words that run the interface over <paramref name="session"/>.</summary>
    private static string Program(string session) => $"'{RTorrentCli.DotnetHostPath}' '{RTorrentCli.DllPath}' --session '{session}'";

    /// <summary>Nothing read from or written to the user's real folders (as every started rtorrent); a 256-colour terminal.</summary>
    private static Dictionary<string, string> Environment(TempFolder tmp) =>
        new(RTorrentCli.ProgramEnvironment(tmp.Sub("home"))) { ["TERM"] = "xterm-256color" };

    private static bool IsRunning(int pid)
    {
        try
        {
            // A zombie (state Z) has exited; only its parent has not collected it yet.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
