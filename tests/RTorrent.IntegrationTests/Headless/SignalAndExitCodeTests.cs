using RTorrent.Engine.Resume;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Headless;

/// <summary>
/// Headless use (issue 3, item 8): Ctrl+C and SIGTERM stop <c>rtorrent download</c> cleanly with resume data saved,
/// and input it cannot use gives one clear line and exit code 2.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class SignalAndExitCodeTests(ITestOutputHelper output)
{
    /// <summary>Both signals stop cleanly; the run after SIGTERM also shows the saved data is used as it is.</summary>
    [Theory]
    [InlineData(Posix.SIGTERM, true)]
    [InlineData(Posix.SIGINT, false)]
    public async Task A_stop_signal_saves_resume_data_and_exits_1_and_the_next_run_trusts_it(int signal, bool runAgain)
    {
        using var tmp = new TempFolder();
        await using var swarm = await SlowSwarm.StartAsync(tmp, output, 384 * 1024, seed: 51);
        var meta = swarm.Torrent.Meta;

        ResumeData saved;
        long missing;
        await using (var first = swarm.StartDownload("rtorrent-1", output))
        {
            await swarm.WaitForProgressAsync(first, 0.3);
            first.SendSignal(signal);
            int code = await first.WaitForExitAsync(Limits.Shutdown);
            Assert.True(code == 1, $"exit code {code} after signal {signal} (1 = stopped before complete).\n{first.Tail()}");
            Assert.Contains("Stopped; run the same command again to resume.", first.StandardError, StringComparison.Ordinal);
            missing = swarm.MissingBytes();
            Assert.True(missing > 0, "the download finished before the signal; the test proves nothing");

            var loaded = await swarm.LoadResumeAsync();
            Assert.True(loaded.Status == ResumeLoadStatus.Loaded, $"{loaded.Status}: {loaded.Error?.Message}");
            saved = loaded.Data!;
            // A clean stop flushes and saves every verified piece: the file lists exactly what is on disk.
            swarm.AssertClaimsAreTrue(saved);
            Assert.Equal(swarm.Torrent.CountVerifiedOnDisk(swarm.Save), saved.VerifiedCount);
            Assert.True(saved.VerifiedCount > 0);
            // Blocks of pieces still incomplete at the stop count as downloaded too, so this is a lower bound.
            Assert.True(saved.Downloaded >= meta.TotalSize - missing, $"{saved.Downloaded} bytes downloaded, {meta.TotalSize - missing} verified");
        }

        if (!runAgain) return;
        // The next run trusts the resume data (no recheck: the files are as saved) and fetches only the rest.
        await using var second = swarm.StartDownload("rtorrent-2", output, "--verbose");
        int again = await second.WaitForExitAsync(Limits.Transfer);
        Assert.True(again == 0, $"the second run exited with {again}.\n{second.Tail()}");
        Payload.AssertSameTree(swarm.SeedData, swarm.Save);
        Assert.DoesNotContain("checked:", second.StandardError, StringComparison.Ordinal);
        var final = await swarm.LoadResumeAsync();
        Assert.Equal(missing, final.Data!.Downloaded - saved.Downloaded);
    }

    public static TheoryData<string, string[]> UnusableInputs => new()
    {
        { "not bencode", ["download", "{garbage}", "--save", "{save}"] },
        { "no such file", ["download", "{missing}", "--save", "{save}"] },
        { "a bad magnet link", ["download", "magnet:?xt=urn:btih:nothex", "--save", "{save}"] },
        { "a peer that is not HOST:PORT", ["download", "{torrent}", "--save", "{save}", "--peer", "nonsense"] },
        { "seeding data that is not there", ["seed", "{torrent}", "--save", "{save}"] },
    };

    [Theory]
    [MemberData(nameof(UnusableInputs))]
    public async Task Input_that_cannot_be_used_gives_one_clear_line_and_exit_code_2(string what, string[] template)
    {
        using var tmp = new TempFolder();
        var content = tmp.Sub("content");
        Payload.WriteFile(Path.Combine(content, "file.bin"), 100_000, seed: 52);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(content, "file.bin"), tmp.PathOf("file.torrent"), 16 * 1024);
        var garbage = tmp.PathOf("garbage.torrent");
        await File.WriteAllTextAsync(garbage, "this is not a torrent file\n");
        var args = template.Select(a => a
            .Replace("{garbage}", garbage, StringComparison.Ordinal)
            .Replace("{missing}", tmp.PathOf("missing.torrent"), StringComparison.Ordinal)
            .Replace("{torrent}", torrent.FilePath, StringComparison.Ordinal)
            .Replace("{save}", tmp.Sub("empty-save"), StringComparison.Ordinal))
            .Concat(["--session", tmp.Sub("session"), .. RTorrentCli.Loopback])
            .ToArray();

        await using var p = RTorrentCli.Start("rtorrent", tmp.Path, output, args);
        int code = await p.WaitForExitAsync(Limits.Startup);

        Assert.True(code == 2, $"{what}: exit code {code}.\n{p.Tail()}");
        var lines = p.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine($"{what}: {string.Join(" | ", lines)}");
        Assert.True(lines.Length == 1, $"{what}: expected one line on stderr, got {lines.Length}:\n{p.StandardError}");
        Assert.DoesNotContain("Exception", lines[0], StringComparison.Ordinal);
        Assert.True(lines[0].Length is > 10 and < 300, $"{what}: '{lines[0]}'");
        Assert.Equal("", p.StandardOutput);
    }
}
