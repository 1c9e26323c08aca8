using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Session;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

public class RenamePathTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-rename");

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    private string Sub(params string[] parts) => Path.Combine([_root, .. parts]);

    private static readonly TestFile[] ShowFiles = [new("a.bin", 40000), new("pad", 9152, Pad: true), new("sub/b.bin", 32768), new("empty.txt", 0)];

    private static async Task<Torrent> AddAsync(ClientSession session, TorrentMetainfo meta, string saveDirectory, TorrentState state)
    {
        var t = await session.AddAsync(meta, new TorrentOptions { SavePath = saveDirectory });
        await RelocationTorrents.WaitForStateAsync(t, state);
        return t;
    }

    private static async Task<string[]> FilePathsAsync(ClientSession session, Torrent t) =>
        [.. (await session.Engine.GetDetailsAsync(t)).Files.Select(f => f.Path)];

    [Fact]
    public async Task Renaming_a_file_of_a_seeding_torrent_renames_it_on_disk_and_its_data_keeps_verifying()
    {
        var dl = Sub("dl");
        var (meta, data) = RelocationTorrents.MultiFile(dl, "Show", 16384, ShowFiles);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddAsync(session, meta, dl, TorrentState.Seeding);

        await session.RenamePathAsync(t, "Show/sub/b.bin", "episode 2.bin");

        Assert.False(File.Exists(Path.Combine(dl, "Show", "sub", "b.bin")));
        Assert.Equal(data["Show/sub/b.bin"], File.ReadAllBytes(Path.Combine(dl, "Show", "sub", "episode 2.bin")));
        Assert.Equal(["Show/a.bin", "Show/sub/episode 2.bin", "Show/empty.txt"], await FilePathsAsync(session, t));
        Assert.Equal("Show", t.Name);
        await t.RecheckAsync(); // reads the data where the storage now looks for it
        await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);
        Assert.Equal(meta.PieceCount, (await session.Engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
        Assert.Contains((await session.Engine.GetDetailsAsync(t)).Log, l => l.Message == "renamed 'Show/sub/b.bin' to 'Show/sub/episode 2.bin'");
    }

    [Fact]
    public async Task Renaming_the_top_folder_renames_the_torrent_but_not_its_info_hash_and_a_restart_trusts_the_renamed_files()
    {
        var dl = Sub("dl");
        var (meta, data) = RelocationTorrents.MultiFile(dl, "Show", 16384, ShowFiles);
        var sessionDir = Sub("session");
        await using (var session = await RelocationTorrents.OpenSessionAsync(sessionDir))
        {
            var t = await AddAsync(session, meta, dl, TorrentState.Seeding);

            await session.RenamePathAsync(t, "Show", "Show (2024)");

            Assert.Equal("Show (2024)", t.Name);
            Assert.Equal("Show (2024)", (await session.Engine.GetSnapshotAsync()).Torrents.Single().Name);
            Assert.Equal("Show", t.Metainfo!.Name);
            Assert.Equal(meta.WireHash, t.InfoHash);
            Assert.False(Directory.Exists(Path.Combine(dl, "Show")));
            Assert.Equal(data["Show/a.bin"], File.ReadAllBytes(Path.Combine(dl, "Show (2024)", "a.bin")));
            Assert.Equal(["Show (2024)/a.bin", "Show (2024)/sub/b.bin", "Show (2024)/empty.txt"], await FilePathsAsync(session, t));
            var saved = (await new ResumeStore(sessionDir).LoadAsync(meta.WireHash, meta.PieceCount, meta.Files.Count)).Data!;
            Assert.Equal("Show (2024)/sub/b.bin", saved.RenamedFiles[2]);
            Assert.Equal(3, saved.RenamedFiles.Count); // not the pad file
        }

        await using (var session = await RelocationTorrents.OpenSessionAsync(sessionDir))
        {
            var t = Assert.Single(await session.RestoreAsync());
            await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);
            Assert.Equal("Show (2024)", t.Name);
            var details = await session.Engine.GetDetailsAsync(t);
            Assert.Equal(["Show (2024)/a.bin", "Show (2024)/sub/b.bin", "Show (2024)/empty.txt"], details.Files.Select(f => f.Path));
            Assert.Equal(meta.PieceCount, details.Summary.PiecesHave);
            Assert.DoesNotContain(details.Log, l => l.Message.StartsWith("checked:", StringComparison.Ordinal)); // no rehash
            Assert.DoesNotContain(session.Log, l => l.Message.Contains("rechecking", StringComparison.Ordinal));
            Assert.False(Directory.Exists(Path.Combine(dl, "Show"))); // nothing recreated under the old name
        }
    }

    [Fact]
    public async Task A_file_not_downloaded_yet_is_renamed_in_the_torrent_and_its_data_is_then_looked_for_under_the_new_name()
    {
        var dl = Sub("dl");
        var (meta, data) = RelocationTorrents.MultiFile(dl, "Show", 16384, ShowFiles);
        Directory.Delete(Path.Combine(dl, "Show", "sub"), recursive: true);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddAsync(session, meta, dl, TorrentState.Downloading);

        await session.RenamePathAsync(t, "Show/sub", "season 1"); // while it runs

        Assert.Equal(TorrentState.Downloading, t.State);
        Assert.False(Directory.Exists(Path.Combine(dl, "Show", "season 1")));
        Assert.False(Directory.Exists(Path.Combine(dl, "Show", "sub")));
        Directory.CreateDirectory(Path.Combine(dl, "Show", "season 1"));
        File.WriteAllBytes(Path.Combine(dl, "Show", "season 1", "b.bin"), data["Show/sub/b.bin"]);
        await t.RecheckAsync();
        await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);
    }

    [Fact]
    public async Task A_single_file_torrents_file_is_renamed_with_the_torrent()
    {
        var dl = Sub("dl");
        var (meta, bytes) = RelocationTorrents.SingleFile(dl, "movie.mkv", 50000, 16384);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddAsync(session, meta, dl, TorrentState.Seeding);

        await session.RenamePathAsync(t, "movie.mkv", "Movie (2024).mkv");

        Assert.Equal("Movie (2024).mkv", t.Name);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dl, "Movie (2024).mkv")));
        Assert.False(File.Exists(Path.Combine(dl, "movie.mkv")));
    }

    [Fact]
    public async Task A_name_that_something_on_disk_already_has_is_refused_and_left_alone()
    {
        var dl = Sub("dl");
        var (meta, data) = RelocationTorrents.MultiFile(dl, "Show", 16384, ShowFiles);
        File.WriteAllText(Path.Combine(dl, "Show", "notes.txt"), "the user's notes");
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddAsync(session, meta, dl, TorrentState.Seeding);

        var e = await Assert.ThrowsAsync<RTorrent.Engine.Storage.StorageIOException>(() => session.RenamePathAsync(t, "Show/a.bin", "notes.txt"));

        Assert.Equal($"Could not rename 'Show/a.bin' to 'notes.txt': {Path.Combine(dl, "Show", "notes.txt")} already exists on disk and is not part of this torrent (it was left alone).", e.Message);
        Assert.Equal("the user's notes", File.ReadAllText(Path.Combine(dl, "Show", "notes.txt")));
        Assert.Equal(data["Show/a.bin"], File.ReadAllBytes(Path.Combine(dl, "Show", "a.bin")));
        Assert.Equal("Show/a.bin", (await FilePathsAsync(session, t))[0]);
        Assert.Contains((await session.Engine.GetDetailsAsync(t)).Log, l => l.Level == PluginLogLevel.Error && l.Message == e.Message);
    }

    [Fact]
    public async Task Invalid_names_and_names_of_other_files_are_refused_before_anything_changes()
    {
        var dl = Sub("dl");
        var (meta, _) = RelocationTorrents.MultiFile(dl, "Show", 16384, ShowFiles);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddAsync(session, meta, dl, TorrentState.Seeding);

        await Assert.ThrowsAsync<ArgumentException>(() => session.RenamePathAsync(t, "Show/a.bin", "../escape"));
        await Assert.ThrowsAsync<ArgumentException>(() => session.RenamePathAsync(t, "Show/a.bin", "sub"));
        await Assert.ThrowsAsync<ArgumentException>(() => session.RenamePathAsync(t, "Show/missing.bin", "x"));

        Assert.Equal(["Show/a.bin", "Show/sub/b.bin", "Show/empty.txt"], await FilePathsAsync(session, t));
        Assert.Equal(["Show", "Show/a.bin", "Show/empty.txt", "Show/sub", "Show/sub/b.bin"], RelocationTorrents.Tree(dl));
    }

    [Fact]
    public async Task A_renamed_torrent_moves_with_its_new_names()
    {
        var dl = Sub("dl");
        var (meta, data) = RelocationTorrents.MultiFile(dl, "Show", 16384, ShowFiles);
        await using var session = await RelocationTorrents.OpenSessionAsync(Sub("session"));
        var t = await AddAsync(session, meta, dl, TorrentState.Seeding);
        await session.RenamePathAsync(t, "Show", "Renamed");

        await session.MoveDataAsync(t, Sub("moved"));

        Assert.Equal(data["Show/sub/b.bin"], File.ReadAllBytes(Sub("moved", "Renamed", "sub", "b.bin")));
        Assert.Empty(RelocationTorrents.Tree(dl));
        await t.RecheckAsync();
        await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);
        Assert.Equal(meta.PieceCount, (await session.Engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
    }
}
