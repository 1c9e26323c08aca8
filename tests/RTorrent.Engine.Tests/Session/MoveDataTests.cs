using System.Collections.Concurrent;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Session;
using RTorrent.Engine.Storage;
using RTorrent.Engine.Tests.Storage;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

public class MoveDataTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-move");

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    private string Sub(params string[] parts) => Path.Combine([_root, .. parts]);

    // a.bin and b.bin end on piece boundaries (a pad file after a.bin), so the skipped last file has a piece of its own
    // and the torrent is complete without it.
    private static readonly TestFile[] ShowFiles =
    [
        new("a.bin", 40000), new("pad", 9152, Pad: true), new("sub/b.bin", 32768), new("empty.txt", 0), new("skipped.bin", 5000),
    ];

    private static readonly Priority[] SkipLast = [Priority.Normal, Priority.Normal, Priority.Normal, Priority.Normal, Priority.Skip];

    /// <summary>The "Show" torrent complete in <paramref name="saveDirectory"/> (its skipped file not on disk).</summary>
    private static (TorrentMetainfo Meta, Dictionary<string, byte[]> Data) Show(string saveDirectory)
    {
        var (meta, data) = RelocationTorrents.MultiFile(saveDirectory, "Show", 16384, ShowFiles);
        File.Delete(Path.Combine(saveDirectory, "Show", "skipped.bin"));
        data.Remove("Show/skipped.bin");
        return (meta, data);
    }

    private static async Task<Torrent> AddSeedingAsync(ClientSession session, TorrentMetainfo meta, string saveDirectory)
    {
        var t = await session.AddAsync(meta, new TorrentOptions { SavePath = saveDirectory, FilePriorities = SkipLast });
        await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);
        return t;
    }

    private static void AssertData(string saveDirectory, Dictionary<string, byte[]> data)
    {
        foreach (var (path, bytes) in data) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(saveDirectory, path)));
    }

    private static async Task<ResumeData> SavedAsync(string sessionDirectory, TorrentMetainfo meta)
    {
        var loaded = await new ResumeStore(sessionDirectory).LoadAsync(meta.WireHash, meta.PieceCount, meta.Files.Count);
        return loaded.Data ?? throw new InvalidOperationException($"no resume data: {loaded.Error?.Message}");
    }

    private static ConcurrentQueue<TorrentState> RecordStates(ClientSession session, Torrent t)
    {
        var states = new ConcurrentQueue<TorrentState>();
        session.Engine.TorrentChanged += x => { if (ReferenceEquals(x, t)) states.Enqueue(x.State); };
        return states;
    }

    [Fact]
    public async Task A_seeding_torrent_moves_to_another_file_system_seeding_all_along_and_a_restart_trusts_the_new_folder()
    {
        using var mount = TmpfsMount.TryMount(Sub("mnt"), "size=16m");
        if (mount is null) return; // no second file system here (the tests run as root on Linux)
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        var target = Path.Combine(mount.Path, "library");
        var sessionDir = Sub("session");
        await using (var session = await RelocationTorrents.OpenSessionAsync(sessionDir))
        {
            var t = await AddSeedingAsync(session, meta, dl);
            var states = RecordStates(session, t);

            await session.MoveDataAsync(t, target);

            Assert.DoesNotContain(TorrentState.Stopped, states); // never paused: it seeded from the old folder meanwhile
            Assert.Equal(TorrentState.Seeding, t.State);
            Assert.Equal(target, t.SavePath);
            Assert.Equal(target, t.Options.SavePath);
            Assert.Equal(target, (await session.Engine.GetSnapshotAsync()).Torrents.Single().SavePath);
            AssertData(target, data);
            Assert.Equal(["Show", "Show/a.bin", "Show/empty.txt", "Show/sub", "Show/sub/b.bin"], RelocationTorrents.Tree(target));
            Assert.Empty(RelocationTorrents.Tree(dl)); // the torrent's folders are gone from the old place...
            Assert.True(Directory.Exists(dl)); // ...but not the download folder itself
            Assert.Equal(target, (await SavedAsync(sessionDir, meta)).SavePath);
            var details = await session.Engine.GetDetailsAsync(t);
            Assert.Contains(details.Log, l => l.Message.StartsWith($"moved the data to {target}", StringComparison.Ordinal));
            // And it still serves what it has: a recheck finds every wanted piece in the new folder.
            await t.RecheckAsync();
            Assert.Equal(meta.PieceCount - 1, (await session.Engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
        }

        await using (var session = await RelocationTorrents.OpenSessionAsync(sessionDir))
        {
            var t = Assert.Single(await session.RestoreAsync());
            await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);
            Assert.Equal(target, t.SavePath);
            var details = await session.Engine.GetDetailsAsync(t);
            Assert.DoesNotContain(details.Log, l => l.Message.StartsWith("checked:", StringComparison.Ordinal)); // resume data trusted, no rehash
            Assert.Equal(meta.PieceCount - 1, details.Summary.PiecesHave);
        }
    }

    [Fact]
    public async Task An_incomplete_torrent_is_paused_for_the_move_renamed_on_the_same_file_system_and_downloads_again_after()
    {
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        File.Delete(Path.Combine(dl, "Show", "sub", "b.bin")); // two pieces missing
        data.Remove("Show/sub/b.bin");
        long inode = Inode(Path.Combine(dl, "Show", "a.bin"));
        var target = Sub("elsewhere", "incoming");
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await session.AddAsync(meta, new TorrentOptions { SavePath = dl, FilePriorities = SkipLast });
        await RelocationTorrents.WaitForStateAsync(t, TorrentState.Downloading);
        int have = (await session.Engine.GetSnapshotAsync()).Torrents.Single().PiecesHave;
        var states = RecordStates(session, t);

        await session.MoveDataAsync(t, target);

        Assert.Contains(TorrentState.Stopped, states);
        Assert.Equal(TorrentState.Downloading, t.State);
        Assert.Equal(target, t.SavePath);
        Assert.Equal(have, (await session.Engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
        AssertData(target, data);
        Assert.Equal(inode, Inode(Path.Combine(target, "Show", "a.bin"))); // renamed, not copied
        Assert.False(Directory.Exists(Path.Combine(dl, "Show")));
        var details = await session.Engine.GetDetailsAsync(t);
        Assert.Contains(details.Log, l => l.Message.Contains("2 file(s) renamed, 0 copied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_seeding_torrent_that_writes_while_its_files_are_copied_is_moved_again_paused_so_the_copy_misses_nothing()
    {
        using var mount = TmpfsMount.TryMount(Sub("mnt"), "size=16m");
        if (mount is null) return;
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddSeedingAsync(session, meta, dl);
        var storage = Assert.IsType<FileStorage>(t.Storage);
        var states = RecordStates(session, t);
        var target = Path.Combine(mount.Path, "library");
        int reports = 0;

        // After the first file is copied, the torrent writes into the old files (as when a skipped file is wanted
        // again and downloaded): the same bytes, so the data stays valid, but the copy can no longer be trusted.
        await session.MoveDataAsync(t, target, new SyncProgress<MoveProgress>(_ =>
        {
            if (++reports == 1) storage.WriteAsync(0, 0, data["Show/a.bin"].AsMemory(0, 100), default).AsTask().GetAwaiter().GetResult();
        }), default);

        Assert.Contains(TorrentState.Stopped, states); // the second pass ran paused
        Assert.Equal(TorrentState.Seeding, t.State); // and it seeds again afterwards
        Assert.Equal(target, t.SavePath);
        Assert.Equal(6, reports); // a.bin, sub/b.bin and empty.txt placed in each pass
        AssertData(target, data);
        Assert.Empty(RelocationTorrents.Tree(dl));
        var details = await session.Engine.GetDetailsAsync(t);
        Assert.Contains(details.Log, l => l.Message.StartsWith("the torrent wrote data during the move", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_full_disk_at_the_destination_fails_clearly_and_leaves_the_torrent_and_its_resume_data_on_the_old_folder()
    {
        using var mount = TmpfsMount.TryMount(Sub("small"), "size=64k");
        if (mount is null) return;
        var dl = Sub("dl");
        var (meta, data) = Show(dl); // 72 KB of random data
        var sessionDir = Sub("session");
        await using var session = await RelocationTorrents.OpenSessionAsync(sessionDir);
        var t = await AddSeedingAsync(session, meta, dl);

        var e = await Assert.ThrowsAsync<StorageIOException>(() => session.MoveDataAsync(t, Path.Combine(mount.Path, "library")));

        Assert.Equal(StorageErrorKind.DiskFull, e.Kind);
        Assert.StartsWith($"Could not move the data of Show to {Path.Combine(mount.Path, "library")}: No space left on device", e.Message, StringComparison.Ordinal);
        Assert.EndsWith($"Its data stays in {dl}.", e.Message, StringComparison.Ordinal);
        Assert.Equal(dl, t.SavePath);
        Assert.Equal(TorrentState.Seeding, t.State);
        AssertData(dl, data);
        Assert.Empty(RelocationTorrents.Tree(mount.Path));
        Assert.Equal(dl, (await SavedAsync(sessionDir, meta)).SavePath);
        var details = await session.Engine.GetDetailsAsync(t);
        Assert.Contains(details.Log, l => l.Level == PluginLogLevel.Error && l.Message == e.Message);
    }

    [Fact]
    public async Task A_destination_holding_files_of_the_same_names_is_refused_and_nothing_is_overwritten()
    {
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        var target = Sub("other");
        Directory.CreateDirectory(Path.Combine(target, "Show"));
        File.WriteAllText(Path.Combine(target, "Show", "a.bin"), "not the torrent's a.bin");
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddSeedingAsync(session, meta, dl);

        var e = await Assert.ThrowsAsync<StorageIOException>(() => session.MoveDataAsync(t, target));

        Assert.Equal(StorageErrorKind.DestinationExists, e.Kind);
        Assert.Contains(Path.Combine(target, "Show", "a.bin"), e.Message, StringComparison.Ordinal);
        Assert.Equal("not the torrent's a.bin", File.ReadAllText(Path.Combine(target, "Show", "a.bin")));
        Assert.Equal(["Show", "Show/a.bin"], RelocationTorrents.Tree(target));
        Assert.Equal(dl, t.SavePath);
        AssertData(dl, data);
    }

    [Fact]
    public async Task Moving_to_the_folder_it_is_in_does_nothing()
    {
        var dl = Sub("dl");
        var (meta, _) = Show(dl);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddSeedingAsync(session, meta, dl);
        var written = File.GetLastWriteTimeUtc(Path.Combine(dl, "Show", "a.bin"));
        long inode = Inode(Path.Combine(dl, "Show", "a.bin"));

        await session.MoveDataAsync(t, dl + "/");
        await session.MoveDataAsync(t, Path.Combine(dl, "..", "dl"));

        Assert.Equal(dl, t.SavePath);
        Assert.Equal(inode, Inode(Path.Combine(dl, "Show", "a.bin")));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(dl, "Show", "a.bin")));
        var details = await session.Engine.GetDetailsAsync(t);
        Assert.DoesNotContain(details.Log, l => l.Message.StartsWith("moving", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancelling_a_move_part_way_leaves_the_torrent_seeding_from_its_old_folder()
    {
        using var mount = TmpfsMount.TryMount(Sub("mnt"), "size=16m");
        if (mount is null) return;
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        var sessionDir = Sub("session");
        await using var session = await RelocationTorrents.OpenSessionAsync(sessionDir);
        var t = await AddSeedingAsync(session, meta, dl);
        using var cts = new CancellationTokenSource();
        var target = Path.Combine(mount.Path, "library");
        int placedWhenCancelled = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.MoveDataAsync(t, target, new SyncProgress<MoveProgress>(p =>
        {
            placedWhenCancelled = p.FilesDone;
            cts.Cancel();
        }), cts.Token));

        Assert.Equal(1, placedWhenCancelled);
        Assert.False(Directory.Exists(target));
        Assert.Equal(dl, t.SavePath);
        Assert.Equal(TorrentState.Seeding, t.State);
        AssertData(dl, data);
        Assert.Equal(dl, (await SavedAsync(sessionDir, meta)).SavePath);
        var details = await session.Engine.GetDetailsAsync(t);
        Assert.Contains(details.Log, l => l.Message == $"moving the data to {target} was cancelled; it stays in {dl}");
    }

    [Fact]
    public async Task After_a_crash_between_the_copy_and_the_switch_the_torrent_restarts_from_its_old_folder_and_a_new_move_refuses_the_leftovers()
    {
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        var target = Sub("library");
        var sessionDir = Sub("session");
        await using (var session = await RelocationTorrents.OpenSessionAsync(sessionDir))
        {
            var t = await AddSeedingAsync(session, meta, dl);
            // What a kill -9 right after staging leaves: complete copies in the new folder, the resume data unchanged.
            await new DataMover(dl, target, FileRenames.StorageFiles(meta, null), "x").StageAsync(null, default);
        }

        await using (var session = await RelocationTorrents.OpenSessionAsync(sessionDir))
        {
            var t = Assert.Single(await session.RestoreAsync());
            await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);
            Assert.Equal(dl, t.SavePath);
            var details = await session.Engine.GetDetailsAsync(t);
            Assert.DoesNotContain(details.Log, l => l.Message.StartsWith("checked:", StringComparison.Ordinal));

            var e = await Assert.ThrowsAsync<StorageIOException>(() => session.MoveDataAsync(t, target));
            Assert.Contains("interrupted move", e.Message, StringComparison.Ordinal);
            Assert.Equal(dl, t.SavePath);
            AssertData(dl, data);
            AssertData(target, data);
        }
    }

    [Fact]
    public async Task SetLocation_points_the_torrent_at_data_already_elsewhere_and_hashes_it()
    {
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        var copy = Sub("copy");
        foreach (var (path, bytes) in data)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(copy, path))!);
            File.WriteAllBytes(Path.Combine(copy, path), bytes);
        }
        var corrupt = (byte[])data["Show/a.bin"].Clone();
        corrupt[0] ^= 0xFF; // piece 0 is bad in the copy
        File.WriteAllBytes(Path.Combine(copy, "Show", "a.bin"), corrupt);
        var sessionDir = Sub("session");
        await using var session = await RelocationTorrents.OpenSessionAsync(sessionDir);
        var t = await AddSeedingAsync(session, meta, dl);

        await session.SetLocationAsync(t, copy);

        Assert.Equal(copy, t.SavePath);
        await RelocationTorrents.WaitForStateAsync(t, TorrentState.Downloading); // started again, missing piece 0 now
        var details = await session.Engine.GetDetailsAsync(t);
        Assert.Equal(meta.PieceCount - 2, details.Summary.PiecesHave);
        Assert.Equal(PieceDisplayState.Missing, details.Pieces[0]);
        Assert.Contains(details.Log, l => l.Message.StartsWith("checked:", StringComparison.Ordinal));
        AssertData(dl, data); // nothing was moved or deleted
        Assert.Equal(copy, (await SavedAsync(sessionDir, meta)).SavePath);
    }

    [Fact]
    public async Task Data_of_a_storage_that_keeps_no_files_in_the_folder_cannot_be_moved_or_renamed()
    {
        var dl = Sub("dl");
        var (meta, data) = Show(dl);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        session.Components.RegisterBuiltIns(new MemoryLikeStorage());
        var t = await session.AddAsync(meta, new TorrentOptions { SavePath = dl, FilePriorities = SkipLast, Storage = "memory" });
        await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);

        var move = await Assert.ThrowsAsync<InvalidOperationException>(() => session.MoveDataAsync(t, Sub("other")));
        Assert.Contains("data of the 'memory' storage cannot be moved", move.Message, StringComparison.Ordinal);
        var rename = await Assert.ThrowsAsync<InvalidOperationException>(() => session.RenamePathAsync(t, "Show/a.bin", "c.bin"));
        Assert.Contains("'memory' storage cannot be renamed", rename.Message, StringComparison.Ordinal);
        Assert.Equal(dl, t.SavePath);
        Assert.False(Directory.Exists(Sub("other")));
        AssertData(dl, data);
    }

    /// <summary>A storage registered as "memory" that is not the file storage (it happens to use the disk, which the engine cannot know).</summary>
    private sealed class MemoryLikeStorage : IRTorrentPlugin, IStorageFactory
    {
        public string Name => "memory";
        public string Version => "test";
        public string Description => "not the file storage";
        public void Register(IPluginRegistry registry) => registry.AddStorage(this);
        public ITorrentStorage Open(StorageContext context) => new Client.PlainFileStorage(context);
    }

    internal static long Inode(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(10_000));
        return long.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
