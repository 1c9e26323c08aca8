using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// A quit writes only what changed (issue 13): a torrent that kept seeding is not saved again, because its resume
/// data keeps the start of its seeding period in session seconds (SessionClock) instead of a total that grows; its
/// seeding time still adds up across runs, without the time the session was closed.
/// </summary>
public class SessionQuitWritesTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-quitwrites");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private string SessionDir => Path.Combine(_root, "session");

    private string Data => Path.Combine(_root, "data");

    private SessionOptions Options(TimeProvider time) => new()
    {
        SessionDirectory = SessionDir,
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex"],
        Time = time,
    };

    private string ResumePath(TorrentMetainfo m) => Path.Combine(SessionDir, m.WireHash.ToHex() + ResumeStore.ResumeExtension);

    private static async Task<TimeSpan> SeedingTimeAsync(ClientSession s, TimeProvider time)
    {
        var snap = await s.Engine.GetSnapshotAsync();
        return Assert.Single(snap.Torrents).SeedingTime(time.GetUtcNow());
    }

    [Fact]
    public async Task A_torrent_that_kept_seeding_is_not_rewritten_at_quit_and_its_seeding_time_spans_runs()
    {
        var time = new ManualTimeProvider();
        var meta = TestTorrents.CreateMultiFile(Data, "kept", 16 * 1024, 30_000);
        await using (var s = await ClientSession.OpenAsync(Options(time)))
        {
            Assert.Equal(TorrentState.Seeding, (await s.AddAsync(meta, new TorrentOptions { SavePath = Data })).State);
            time.Advance(TimeSpan.FromSeconds(100));
        }
        var first = await File.ReadAllBytesAsync(ResumePath(meta));
        var firstData = ResumeData.Decode(first);
        Assert.NotNull(firstData.SeedingSince);

        time.Advance(TimeSpan.FromSeconds(1000)); // closed: not seeding time
        await using (var s = await ClientSession.OpenAsync(Options(time)))
        {
            Assert.Single(await s.RestoreAsync());
            await TestWait.UntilAsync(() => s.Engine.Torrents.Single().State == TorrentState.Seeding, "seeding again");
            Assert.Equal(100, (await SeedingTimeAsync(s, time)).TotalSeconds, 1.0);
            time.Advance(TimeSpan.FromSeconds(50));
            Assert.Equal(150, (await SeedingTimeAsync(s, time)).TotalSeconds, 1.0);
        }
        // Not written at this quit: the same bytes (a save would also have replaced the file: another inode).
        Assert.Equal(first, await File.ReadAllBytesAsync(ResumePath(meta)));

        time.Advance(TimeSpan.FromSeconds(500));
        await using (var s = await ClientSession.OpenAsync(Options(time)))
        {
            Assert.Single(await s.RestoreAsync());
            await TestWait.UntilAsync(() => s.Engine.Torrents.Single().State == TorrentState.Seeding, "seeding again");
            Assert.Equal(150, (await SeedingTimeAsync(s, time)).TotalSeconds, 1.0);
        }
    }

    [Fact]
    public async Task A_torrent_paused_by_the_user_ends_its_seeding_period_and_is_saved_with_it()
    {
        var time = new ManualTimeProvider();
        var meta = TestTorrents.CreateMultiFile(Data, "paused", 16 * 1024, 30_001);
        await using (var s = await ClientSession.OpenAsync(Options(time)))
        {
            var t = await s.AddAsync(meta, new TorrentOptions { SavePath = Data });
            time.Advance(TimeSpan.FromSeconds(40));
            await t.StopAsync();
            time.Advance(TimeSpan.FromSeconds(60)); // paused: not seeding
        }
        var saved = ResumeData.Decode(await File.ReadAllBytesAsync(ResumePath(meta)));
        Assert.Null(saved.SeedingSince);
        Assert.Equal(40, saved.SecondsSeeding);
        Assert.True(saved.Settings.Paused);

        await using (var s = await ClientSession.OpenAsync(Options(time)))
        {
            Assert.Single(await s.RestoreAsync());
            time.Advance(TimeSpan.FromSeconds(30));
            Assert.Equal(40, (await SeedingTimeAsync(s, time)).TotalSeconds, 1.0);
        }
    }

    [Fact]
    public async Task The_resume_store_writes_only_data_that_differs_from_what_it_read_or_wrote()
    {
        var store = new ResumeStore(SessionDir);
        var hash = InfoHash.FromHex(new string('a', 40));
        ResumeData Data(long uploaded) => new()
        {
            InfoHash = hash, SavePath = "/data", PieceCount = 8, VerifiedPieces = [0xff],
            Files = [new StorageFileState(true, 100, DateTimeOffset.UnixEpoch)], Uploaded = uploaded,
            AddedAt = DateTimeOffset.UnixEpoch,
        };
        Assert.True(await store.SaveAsync(Data(1)));
        Assert.False(await store.SaveAsync(Data(1)));
        Assert.True(await store.SaveAsync(Data(2)));

        var other = new ResumeStore(SessionDir); // a new run: knows the file once it has read it
        Assert.Equal(ResumeLoadStatus.Loaded, (await other.LoadAsync(hash, 8, 1)).Status);
        Assert.False(await other.SaveAsync(Data(2)));
        Assert.True(await other.SaveAsync(Data(3)));
        other.Delete(hash);
        Assert.True(await other.SaveAsync(Data(3)));
    }
}
