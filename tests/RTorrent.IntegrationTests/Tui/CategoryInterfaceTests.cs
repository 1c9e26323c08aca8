using System.Diagnostics;
using RTorrent.Engine.Settings;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Tui;

/// <summary>
/// Categories and tags in the real program in a real terminal (tmux): g sets a torrent's category and tags (its data
/// moves into the category's folder), v filters the list by category, no category and tag, the details show both, and
/// G moves a category to another file system (a tmpfs the test mounts, as root, and unmounts).
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class CategoryInterfaceTests(ITestOutputHelper output)
{
    private const string ExitMarker = "RTORRENT-EXITED";

    [Fact]
    public async Task The_category_dialog_sets_category_and_tags_the_filter_shows_them_and_a_category_moves_to_a_tmpfs()
    {
        using var tmp = new TempFolder("rt-tui-cat");
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
        });
        // Two complete torrents whose data is already in the download folder: they seed at once.
        Payload.WriteFile(Path.Combine(downloads, "alpha.bin"), 300_000, seed: 1);
        Payload.WriteFile(Path.Combine(downloads, "beta.bin"), 200_000, seed: 2);
        var alpha = await TestTorrent.CreateAsync(Path.Combine(downloads, "alpha.bin"), tmp.PathOf("alpha.torrent"), 16 * 1024);
        var beta = await TestTorrent.CreateAsync(Path.Combine(downloads, "beta.bin"), tmp.PathOf("beta.torrent"), 16 * 1024);
        File.Copy(Path.Combine(downloads, "alpha.bin"), tmp.PathOf("alpha.orig"));

        string mount = tmp.Sub("mnt");
        Assert.Equal(0, Run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount)); // the tests run as root
        try
        {
            string command = $"'{RTorrentCli.DotnetHostPath}' '{RTorrentCli.DllPath}' --session '{session}'; echo {ExitMarker} $?; exec sleep 600";
            var environment = new Dictionary<string, string>(RTorrentCli.ProgramEnvironment(tmp.Sub("home"))) { ["TERM"] = "xterm-256color" };
            await using var terminal = await TmuxTerminal.StartAsync(command, 110, 40, environment);
            try
            {
                await terminal.WaitForScreenAsync(s => s.Contains("No torrents yet", StringComparison.Ordinal), Limits.Startup, "the empty list");
                int added = 0;
                foreach (var t in new[] { alpha, beta })
                {
                    await terminal.SendKeysAsync("BSpace");
                    await terminal.WaitForScreenAsync(s => s.Contains("Torrent file or magnet link", StringComparison.Ordinal), Limits.Startup, "the add dialog");
                    await terminal.TypeAsync(t.FilePath);
                    await terminal.SendKeysAsync("Enter");
                    added++;
                    string count = added == 1 ? "1 torrent " : $"{added} torrents";
                    await terminal.WaitForScreenAsync(s => s.Contains(count, StringComparison.Ordinal) && !s.Contains("Torrent file or magnet link", StringComparison.Ordinal),
                        Limits.Startup, $"torrent {added} in the list");
                }
                await terminal.WaitForScreenAsync(s => Count(s, "seeding") >= 2 && s.Contains("beta.bin", StringComparison.Ordinal),
                    Limits.Startup, "both torrents seeding");

                // The list is sorted by name: alpha is on the first row. g: its category and tags.
                await terminal.SendKeysAsync("Home");
                await terminal.SendKeysAsync("g");
                var dialog = await terminal.WaitForScreenAsync(s => s.Contains("Category and tags: alpha.bin", StringComparison.Ordinal),
                    Limits.Startup, "the category dialog");
                Assert.Contains("Categories: none yet", dialog, StringComparison.Ordinal);
                await terminal.TypeAsync("tv");
                await terminal.SendKeysAsync("Tab");
                await terminal.TypeAsync("hd, weekly");
                await terminal.SendKeysAsync("Enter");
                await terminal.WaitForScreenAsync(s => s.Contains("alpha.bin: category tv, tags hd, weekly.", StringComparison.Ordinal),
                    Limits.Startup, "the category set");
                await Poll.UntilAsync(() => File.Exists(Path.Combine(downloads, "tv", "alpha.bin")), Limits.Startup, "alpha's data in downloads/tv");

                // v: all -> category tv -> no category -> tag hd -> tag weekly -> all.
                await terminal.SendKeysAsync("v");
                var tv = await terminal.WaitForScreenAsync(s => s.Contains("|  category tv", StringComparison.Ordinal), Limits.Startup, "the tv filter");
                Assert.Contains("2 torrents (1 shown)", tv, StringComparison.Ordinal);
                Assert.True(InList(tv, "alpha.bin"), tv);
                Assert.False(InList(tv, "beta.bin"), tv);
                await terminal.SendKeysAsync("v");
                var none = await terminal.WaitForScreenAsync(s => s.Contains("|  no category", StringComparison.Ordinal), Limits.Startup, "the no-category filter");
                Assert.True(InList(none, "beta.bin"), none);
                Assert.False(InList(none, "alpha.bin"), none);
                await terminal.SendKeysAsync("v");
                var hd = await terminal.WaitForScreenAsync(s => s.Contains("|  tag hd", StringComparison.Ordinal), Limits.Startup, "the hd tag filter");
                Assert.True(InList(hd, "alpha.bin"), hd);
                Assert.False(InList(hd, "beta.bin"), hd);
                await terminal.SendKeysAsync("V"); // back to no category, then on to all
                await terminal.WaitForScreenAsync(s => s.Contains("|  no category", StringComparison.Ordinal), Limits.Startup, "V going back");
                await terminal.SendKeysAsync("V");
                await terminal.SendKeysAsync("V");
                var all = await terminal.WaitForScreenAsync(s => s.Contains("2 torrents", StringComparison.Ordinal) && !s.Contains("shown)", StringComparison.Ordinal),
                    Limits.Startup, "the filter back to all");
                Assert.True(InList(all, "beta.bin"), all);

                // The details show the category and the tags.
                await terminal.SendKeysAsync("Home");
                await terminal.SendKeysAsync("Enter");
                var info = await terminal.WaitForScreenAsync(s => s.Contains("Category", StringComparison.Ordinal) && s.Contains("1 Info", StringComparison.Ordinal),
                    Limits.Startup, "the details");
                Assert.Matches(@"Category\s+tv \(tags: hd, weekly\)", info);
                await terminal.SendKeysAsync("Escape");
                // Back on the list before the next key (Esc and a key at once read as Alt+key).
                await terminal.WaitForScreenAsync(s => s.Contains("sort name", StringComparison.Ordinal), Limits.Startup, "the list again");

                // G: the tv category gets a folder on the tmpfs; alpha's data moves there, and keeps seeding.
                string library = Path.Combine(mount, "tv");
                await terminal.SendKeysAsync("G");
                var editor = await terminal.WaitForScreenAsync(s => s.Contains("Incomplete folder", StringComparison.Ordinal), Limits.Startup, "the category editor");
                Assert.Contains("Categories: tv", editor, StringComparison.Ordinal);
                await terminal.SendKeysAsync("Tab");
                await terminal.TypeAsync(library);
                await terminal.SendKeysAsync("Enter");
                await terminal.WaitForScreenAsync(s => s.Contains("Category tv saved.", StringComparison.Ordinal), Limits.Startup, "the category saved");
                await Poll.UntilAsync(() => File.Exists(Path.Combine(library, "alpha.bin")) && !File.Exists(Path.Combine(downloads, "tv", "alpha.bin")),
                    Limits.Startup, "alpha's data on the tmpfs");
                Payload.AssertSameFile(tmp.PathOf("alpha.orig"), Path.Combine(library, "alpha.bin"));
                await terminal.WaitForScreenAsync(s => Count(s, "seeding") >= 2, Limits.Startup, "both still seeding");

                await terminal.SendKeysAsync("C-q");
                var after = await terminal.WaitForScreenAsync(s => s.Contains(ExitMarker, StringComparison.Ordinal), Limits.Shutdown, "the program to exit");
                Assert.Contains($"{ExitMarker} 0", after, StringComparison.Ordinal);
                Assert.Contains("\"tv\"", File.ReadAllText(Path.Combine(session, "categories.json")));
            }
            catch
            {
                output.WriteLine("Last screen:\n" + await terminal.CaptureAsync());
                throw;
            }
        }
        finally
        {
            if (Run("umount", mount) != 0) Run("umount", "-l", mount);
        }
    }

    /// <summary>Whether the list shows a row for <paramref name="name"/> (not a message naming it).</summary>
    private static bool InList(string screen, string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(screen, System.Text.RegularExpressions.Regex.Escape(name) + @"\s{3,}\d");

    private static int Count(string text, string word)
    {
        int n = 0;
        for (int i = text.IndexOf(word, StringComparison.Ordinal); i >= 0; i = text.IndexOf(word, i + word.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static int Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        if (!p.WaitForExit(30_000))
        {
            p.Kill(entireProcessTree: true);
            return -1;
        }
        return p.ExitCode;
    }
}
