using RTorrent.Engine.Resume;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Headless;

/// <summary>
/// Resume across process deaths (issue 3, item 6): after a <c>kill -9</c> half way the same command completes without
/// downloading verified pieces again; a damaged resume file is reported and the data rechecked, never a crash.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class ResumeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_download_killed_half_way_completes_when_run_again_without_fetching_verified_pieces_twice()
    {
        using var tmp = new TempFolder();
        await using var swarm = await SlowSwarm.StartAsync(tmp, output, 384 * 1024, seed: 41);
        var meta = swarm.Torrent.Meta;

        long missingAtKill;
        long downloadedBefore;
        await using (var first = swarm.StartDownload("rtorrent-1", output))
        {
            await swarm.WaitForProgressAsync(first, 0.4);
            first.SendSignal(Posix.SIGKILL);
            await first.WaitForExitAsync(Limits.Shutdown);
            Assert.Equal(128 + Posix.SIGKILL, first.ExitCode);
            missingAtKill = swarm.MissingBytes();
            Assert.True(missingAtKill > 0, "the first run finished before it was killed; the test proves nothing");

            // Whatever the resume file holds after the kill, it is whole and claims nothing that is not on disk.
            var afterKill = await swarm.LoadResumeAsync();
            Assert.True(afterKill.Status == ResumeLoadStatus.Loaded, $"resume file after kill -9: {afterKill.Status} {afterKill.Error?.Message}");
            swarm.AssertClaimsAreTrue(afterKill.Data!);
            downloadedBefore = afterKill.Data!.Downloaded;
            output.WriteLine($"at the kill: {missingAtKill} of {meta.TotalSize} bytes missing; resume claims {afterKill.Data.VerifiedCount} pieces, {downloadedBefore} bytes downloaded");
        }

        await using var second = swarm.StartDownload("rtorrent-2", output);
        int code = await second.WaitForExitAsync(Limits.Transfer);
        Assert.True(code == 0, $"the second run exited with {code}.\n{second.Tail()}");
        Payload.AssertSameTree(swarm.SeedData, swarm.Save);

        var final = await swarm.LoadResumeAsync();
        Assert.Equal(ResumeLoadStatus.Loaded, final.Status);
        Assert.Equal(meta.PieceCount, final.Data!.VerifiedCount);
        long secondRun = final.Data.Downloaded - downloadedBefore;
        output.WriteLine($"second run downloaded {secondRun} bytes; {missingAtKill} were missing");
        // Every piece verified on disk before the kill was kept: the second run fetched only what was missing.
        Assert.Equal(missingAtKill, secondRun);
    }

    [Fact]
    public async Task A_damaged_resume_file_is_reported_and_the_data_rechecked()
    {
        using var tmp = new TempFolder();
        var save = tmp.Sub("data");
        Payload.Write(Path.Combine(save, "kept"), Payload.MultiFile, seed: 42);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(save, "kept"), tmp.PathOf("kept.torrent"), 32 * 1024);
        var session = tmp.Sub("session");
        var store = new ResumeStore(session);
        var resumePath = store.GetResumePath(torrent.Meta.WireHash);

        // A first run finds the data complete and saves resume data saying so.
        await using (var first = RTorrentCli.Download("rtorrent-1", tmp.Path, output, torrent.FilePath, save, session))
            Assert.True(await first.WaitForExitAsync(Limits.Transfer) == 0, first.Tail());
        var good = await File.ReadAllBytesAsync(resumePath);
        Assert.Equal(torrent.Meta.PieceCount, ResumeData.Decode(good).VerifiedCount);

        (string Damage, byte[] Bytes)[] damages =
        [
            ("truncated", good[..(good.Length / 2)]),
            ("garbage", Enumerable.Range(0, good.Length).Select(i => (byte)(i * 131 + 7)).ToArray()),
            ("empty", []),
            ("another torrent's", (ResumeData.Decode(good) with { InfoHash = RTorrent.Engine.Metainfo.InfoHash.FromHex(new string('a', 40)) }).Encode()),
        ];
        foreach (var (damage, bytes) in damages)
        {
            await File.WriteAllBytesAsync(resumePath, bytes);

            await using var next = RTorrentCli.Download($"rtorrent-{damage}", tmp.Path, output, torrent.FilePath, save, session, "--verbose");
            int code = await next.WaitForExitAsync(Limits.Transfer);

            Assert.True(code == 0, $"{damage} resume file: exit code {code}.\n{next.Tail()}");
            var error = next.StandardError;
            Assert.True(error.Contains("resume data unusable", StringComparison.Ordinal), $"{damage} resume file not reported:\n{next.Tail()}");
            Assert.True(error.Contains($"checked: {torrent.Meta.PieceCount} of {torrent.Meta.PieceCount} pieces present", StringComparison.Ordinal),
                $"{damage} resume file: the data was not rechecked:\n{next.Tail()}");
            Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
            // The recheck's result replaced the damaged file.
            var rewritten = await store.LoadAsync(torrent.Meta.WireHash, torrent.Meta.PieceCount, torrent.Meta.Files.Count);
            Assert.True(rewritten.Status == ResumeLoadStatus.Loaded, $"{damage}: {rewritten.Status} {rewritten.Error?.Message}");
            Assert.Equal(torrent.Meta.PieceCount, rewritten.Data!.VerifiedCount);
        }
    }
}
