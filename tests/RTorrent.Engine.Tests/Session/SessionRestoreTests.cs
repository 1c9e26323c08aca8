using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// Restoring a session (issue 13): stray temporary files are swept once when it opens, never on each load; a restore
/// rewrites nothing that did not change; quitting during a restore stops it, saves what it restored and releases the
/// session; torrents whose files changed wait their turn in the check queue, and one stopped before its check ends
/// is checked at the next start instead of being believed empty.
/// </summary>
public class SessionRestoreTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-restore");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private string SessionDir => Path.Combine(_root, "session");

    private string Data => Path.Combine(_root, "data");

    private SessionOptions Options(int maxActiveChecks = 2) => new()
    {
        SessionDirectory = SessionDir,
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, MaxActiveChecks = maxActiveChecks },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex"],
    };

    private TorrentMetainfo[] NewTorrents(int count) =>
        Enumerable.Range(0, count).Select(i => TestTorrents.CreateMultiFile(Data, $"t{i:000}", 16 * 1024, 20_000 + i)).ToArray();

    /// <summary>A session holding <paramref name="metas"/>, all seeding (checked once when added), closed again.</summary>
    private async Task SaveSessionAsync(IEnumerable<TorrentMetainfo> metas, Func<ClientSession, Task>? then = null)
    {
        await using var s = await ClientSession.OpenAsync(Options());
        foreach (var m in metas) Assert.Equal(TorrentState.Seeding, (await s.AddAsync(m, new TorrentOptions { SavePath = Data })).State);
        if (then is not null) await then(s);
    }

    private Dictionary<string, DateTime> SessionFileTimes() =>
        Directory.GetFiles(SessionDir).Where(f => f.EndsWith(".torrent", StringComparison.Ordinal) || f.EndsWith(".resume", StringComparison.Ordinal))
            .ToDictionary(f => f, File.GetLastWriteTimeUtc);

    private static string ResumePath(string sessionDir, TorrentMetainfo m) => Path.Combine(sessionDir, m.WireHash.ToHex() + ResumeStore.ResumeExtension);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (deadline.IsCancellationRequested) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Temporary_files_of_crashed_saves_are_swept_when_the_session_opens_and_never_while_it_runs()
    {
        var metas = NewTorrents(2);
        await SaveSessionAsync(metas);
        string a = metas[0].WireHash.ToHex(), b = metas[1].WireHash.ToHex();
        // What a kill -9 during saves leaves: a temporary beside a resume file and beside a .torrent.
        string[] stale = [Path.Combine(SessionDir, a + ".resume.deadbeef.tmp"), Path.Combine(SessionDir, a + ".torrent.0badf00d.tmp")];
        string notOurs = Path.Combine(SessionDir, "notes.tmp");
        foreach (var f in stale.Append(notOurs)) await File.WriteAllTextAsync(f, "partial");

        await using var s = await ClientSession.OpenAsync(Options());
        Assert.All(stale, f => Assert.False(File.Exists(f), $"{Path.GetFileName(f)} was left"));
        Assert.True(File.Exists(notOurs), "a file that is no save's temporary is not ours to delete");

        // From now on such a file may be a save in progress: loading, restoring and adding leave it alone.
        string inProgress = Path.Combine(SessionDir, b + ".resume.cafebabe.tmp");
        await File.WriteAllTextAsync(inProgress, "being written");
        Assert.Equal(2, (await s.RestoreAsync()).Count);
        await s.AddAsync(TestTorrents.CreateMultiFile(Data, "late", 16 * 1024, 10_000), new TorrentOptions { SavePath = Data });
        Assert.True(File.Exists(inProgress), "a load or an add swept the session folder");
    }

    [Fact]
    public async Task A_restore_trusts_matching_resume_data_and_rewrites_nothing()
    {
        var metas = NewTorrents(4);
        // The queue in the reverse of the info-hash order, and one torrent paused: a restore must put both back
        // without writing anything, whatever order it reads the torrents in.
        var wanted = metas.OrderByDescending(m => m.WireHash).Select(m => m.WireHash).ToArray();
        await SaveSessionAsync(metas, async s =>
        {
            for (int i = 0; i < wanted.Length; i++) await s.Engine.SetQueuePositionAsync(s.Engine.Torrents.Single(t => t.InfoHash == wanted[i]), i);
            await s.Engine.Torrents.Single(t => t.InfoHash == metas[1].WireHash).StopAsync();
        });
        var before = SessionFileTimes();
        Assert.Equal(8, before.Count);

        await using var session = await ClientSession.OpenAsync(Options());
        var restored = await session.RestoreAsync();

        Assert.Equal(4, restored.Count);
        Assert.Equal(wanted, (await session.Engine.GetQueueAsync()).Select(t => t.InfoHash));
        foreach (var t in restored) Assert.Equal(t.InfoHash == metas[1].WireHash ? TorrentState.Stopped : TorrentState.Seeding, t.State);
        Assert.Equal(0, session.Engine.Checks.MostRunning); // nothing hashed
        Assert.Equal(0, await session.Engine.Loop.InvokeAsync(() => session.Engine.ResumeSavesPending));
        Assert.Equal(before, SessionFileTimes()); // neither a .torrent nor a resume file was written again
    }

    [Fact]
    public async Task Cancelling_a_restore_keeps_what_it_restored_rewrites_nothing_unchanged_at_close_and_releases_the_session()
    {
        var metas = NewTorrents(12);
        await SaveSessionAsync(metas);
        var before = SessionFileTimes();
        using var quit = new CancellationTokenSource();
        IReadOnlyList<Torrent> restored;
        await using (var s = await ClientSession.OpenAsync(Options()))
        {
            // The user quits as the first torrent appears (TorrentChanged is raised on the loop as it is added).
            s.Engine.TorrentChanged += _ => quit.Cancel();
            restored = await s.RestoreAsync(quit.Token);
            Assert.Single(restored);
            Assert.Single(s.Engine.Torrents);
            Assert.Contains(s.Log, e => e.Message.Contains("restoring stopped after 1 of 12", StringComparison.Ordinal));
        }

        // Closing saved the torrent it had restored, which wrote nothing: it kept seeding, and its resume data keeps
        // when its seeding began (in session seconds), not a total that grows. The others stayed as they were.
        var after = SessionFileTimes();
        var rewritten = after.Where(kv => before[kv.Key] != kv.Value).Select(kv => kv.Key).ToArray();
        Assert.Empty(rewritten);

        // The lock is released, and the next start restores every torrent, seeding, without hashing anything.
        await using var next = await ClientSession.OpenAsync(Options());
        var all = await next.RestoreAsync();
        Assert.Equal(12, all.Count);
        Assert.All(all, t => Assert.Equal(TorrentState.Seeding, t.State));
        Assert.Equal(0, next.Engine.Checks.MostRunning);
    }

    [Fact]
    public async Task Closing_the_session_during_a_restore_stops_it_and_releases_the_lock()
    {
        var metas = NewTorrents(8);
        await SaveSessionAsync(metas);
        var s = await ClientSession.OpenAsync(Options());
        Task? closing = null;
        // As the terminal going away does: the session is closed from elsewhere while the restore runs (here as
        // the first torrent appears; the loop waits until the close has begun so the test does not race it).
        s.Engine.TorrentChanged += _ =>
        {
            if (closing is not null) return;
            closing = Task.Run(async () => await s.DisposeAsync());
            Assert.True(SpinWait.SpinUntil(() => s.IsClosing, TimeSpan.FromSeconds(30)));
        };
        var restored = await s.RestoreAsync();
        await closing!;
        Assert.Single(restored); // the rest of the batch was left for the next start

        await using var next = await ClientSession.OpenAsync(Options());
        Assert.Equal(8, (await next.RestoreAsync()).Count);
    }

    [Fact]
    public async Task Torrents_whose_files_changed_are_checked_in_the_queue_a_few_at_a_time()
    {
        var metas = NewTorrents(6);
        await SaveSessionAsync(metas);
        // Same bytes, newer times: the resume data no longer vouches for the files, so each torrent is hashed.
        foreach (var f in Directory.GetFiles(Data, "*.bin", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(5));

        await using var s = await ClientSession.OpenAsync(Options(maxActiveChecks: 1));
        var restored = await s.RestoreAsync();

        Assert.Equal(6, restored.Count);
        Assert.All(restored, t => Assert.Equal(TorrentState.Seeding, t.State));
        Assert.Equal(1, s.Engine.Checks.MostRunning);
        foreach (var t in restored)
            Assert.Contains((await s.Engine.GetDetailsAsync(t)).Log, e => e.Message.StartsWith("checked:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_torrent_closed_while_waiting_for_its_check_is_checked_at_the_next_start_not_believed_empty()
    {
        var metas = NewTorrents(1);
        await SaveSessionAsync(metas);
        foreach (var f in Directory.GetFiles(Data, "*.bin", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(5));

        var s = await ClientSession.OpenAsync(Options(maxActiveChecks: 1));
        using var busy = await s.Engine.Checks.EnterAsync(CancellationToken.None); // another check holds the only turn
        var restoring = s.RestoreAsync();
        await WaitUntilAsync(() => s.Engine.Checks.Waiting == 1, "the torrent waits for its check");
        Assert.Equal(TorrentState.Checking, Assert.Single(s.Engine.Torrents).State);
        await s.DisposeAsync(); // quit before its turn came
        await restoring;

        // Its resume data claims nothing, and says its files are not known, so the next start checks them.
        var saved = await new ResumeStore(SessionDir).LoadAsync(metas[0].WireHash, metas[0].PieceCount, metas[0].Files.Count);
        Assert.Equal(ResumeLoadStatus.Loaded, saved.Status);
        Assert.Equal(0, Bitfield.FromBytes(saved.Data!.VerifiedPieces, metas[0].PieceCount).TrueCount);

        await using var next = await ClientSession.OpenAsync(Options());
        var t = Assert.Single(await next.RestoreAsync());
        Assert.Equal(TorrentState.Seeding, t.State);
        Assert.Equal(1, next.Engine.Checks.MostRunning);
    }
}
