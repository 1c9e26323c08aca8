using System.Net;
using System.Text;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Storage;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// Categories (docs/CATEGORIES.md): categories.json, a torrent's category and tags across restarts, the moves a category
/// makes (on a change of category, on completion out of its incomplete folder), across two real file systems (a tmpfs
/// mounted for the test, as root) and when the move cannot be made (a full tmpfs: the data stays usable where it was).
/// </summary>
public class CategoryTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-cat");

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    private string Sub(params string[] parts) => Path.Combine([_root, .. parts]);

    private string Downloads => Sub("dl");

    private Task<ClientSession> OpenAsync() => ClientSession.OpenAsync(new SessionOptions
    {
        SessionDirectory = Sub("session"),
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, DefaultSavePath = Downloads },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "dht", "pex", "lsd"],
    });

    // The last file has pieces of its own (a pad file before it), so skipping it completes the torrent.
    private static readonly TestFile[] ShowFiles =
    [
        new("a.bin", 40000), new("pad", 9152, Pad: true), new("sub/b.bin", 32768), new("last.bin", 5000),
    ];

    /// <summary>The "Show" torrent written into <paramref name="folder"/>, without its last file: it downloads until that is skipped.</summary>
    private static (TorrentMetainfo Meta, Dictionary<string, byte[]> Data) ShowWithoutLast(string folder)
    {
        var (meta, data) = RelocationTorrents.MultiFile(folder, "Show", 16384, ShowFiles);
        File.Delete(Path.Combine(folder, "Show", "last.bin"));
        data.Remove("Show/last.bin");
        return (meta, data);
    }

    private static void AssertData(string folder, Dictionary<string, byte[]> data)
    {
        foreach (var (path, bytes) in data) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(folder, path)));
    }

    private async Task<ResumeData> SavedAsync(TorrentMetainfo meta)
    {
        var loaded = await new ResumeStore(Sub("session")).LoadAsync(meta.WireHash, meta.PieceCount, meta.Files.Count);
        return loaded.Data ?? throw new InvalidOperationException($"no resume data: {loaded.Error?.Message}");
    }

    private static async Task<IReadOnlyList<LogEntry>> LogAsync(ClientSession s, Torrent t) => (await s.Engine.GetDetailsAsync(t)).Log;

    [Fact]
    public async Task A_download_in_a_category_with_an_incomplete_folder_completes_there_and_moves_to_the_category_folder_on_another_file_system()
    {
        using var mount = TmpfsMount.TryMount(Sub("mnt"), "size=16m");
        Assert.NotNull(mount); // the tests run as root on Linux
        var incomplete = Sub("incomplete");
        var library = Path.Combine(mount.Path, "tv");
        var (meta, data) = ShowWithoutLast(incomplete);
        await using (var session = await OpenAsync())
        {
            await session.SaveCategoryAsync(new Category { Name = "tv", SavePath = library, IncompletePath = incomplete });
            // The folder given is not used: the category places it (its incomplete folder while it downloads).
            var t = await session.AddAsync(meta, new TorrentOptions { SavePath = Sub("elsewhere"), Category = "tv", Labels = ["hd", "weekly"] });
            Assert.Equal(incomplete, t.SavePath);
            Assert.Equal(TorrentState.Downloading, t.State);

            await t.SetFilePriorityAsync(3, Priority.Skip); // complete now: it moves
            await TestWait.UntilAsync(() => t.SavePath == library, "the move to the category's folder", TimeSpan.FromSeconds(30));
            await session.CategoryMovesAsync();
            Assert.Equal(TorrentState.Seeding, t.State);
            AssertData(library, data);
            Assert.Empty(RelocationTorrents.Tree(incomplete));
            var saved = await SavedAsync(meta);
            Assert.Equal(library, saved.SavePath);
            Assert.Equal("tv", saved.Settings.Category);
            Assert.Contains(await LogAsync(session, t), l => l.Message.StartsWith("moved the data to " + library, StringComparison.Ordinal));
        }
        await using (var session = await OpenAsync())
        {
            var restored = Assert.Single(await session.RestoreAsync());
            Assert.Equal(("tv", library), (restored.Category, restored.SavePath));
            Assert.Equal(["hd", "weekly"], restored.Labels);
            await RelocationTorrents.WaitForStateAsync(restored, TorrentState.Seeding);
            var tv = Assert.Single(session.Categories.All);
            Assert.Equal((library, incomplete), (tv.SavePath, tv.IncompletePath));
        }
    }

    [Fact]
    public async Task Changing_a_seeding_torrents_category_moves_its_data_across_file_systems_and_no_category_brings_it_back_to_the_download_folder()
    {
        using var mount = TmpfsMount.TryMount(Sub("mnt"), "size=16m");
        Assert.NotNull(mount);
        var (meta, data) = RelocationTorrents.MultiFile(Downloads, "Album", 16384, new TestFile("one.flac", 70000), new TestFile("two.flac", 3000));
        var music = Path.Combine(mount.Path, "music");
        await using (var session = await OpenAsync())
        {
            await session.SaveCategoryAsync(new Category { Name = "music", SavePath = music });
            var t = await session.AddAsync(meta, new TorrentOptions { SavePath = Downloads });
            await RelocationTorrents.WaitForStateAsync(t, TorrentState.Seeding);

            await session.SetCategoryAsync(t, "music");
            Assert.Equal(music, t.SavePath);
            Assert.Equal(TorrentState.Seeding, t.State);
            AssertData(music, data);
            Assert.False(Directory.Exists(Path.Combine(Downloads, "Album")));

            // A new name makes a category with the default folder, <download folder>/<name>, on the disk again.
            await session.SetCategoryAsync(t, "lossless");
            Assert.Equal(Path.Combine(Downloads, "lossless"), t.SavePath);
            Assert.Equal(Path.Combine(Downloads, "lossless"), session.Categories.Find("lossless")!.ResolveSavePath(session.DownloadFolder));
            AssertData(Path.Combine(Downloads, "lossless"), data);

            await session.SetCategoryAsync(t, null);
            Assert.Null(t.Category);
            Assert.Equal(Downloads, t.SavePath);
            AssertData(Downloads, data);

            // Removing a category leaves its torrents' data where it is.
            await session.SetCategoryAsync(t, "music");
            await session.RemoveCategoryAsync("music");
            Assert.Null(t.Category);
            Assert.Equal(music, t.SavePath);
            Assert.Equal(TorrentState.Seeding, t.State);
        }
        await using (var session = await OpenAsync())
        {
            var restored = Assert.Single(await session.RestoreAsync());
            Assert.Null(restored.Category);
            Assert.Equal(music, restored.SavePath);
            Assert.Equal(["lossless"], session.Categories.All.Select(c => c.Name));
        }
    }

    [Fact]
    public async Task A_move_on_completion_that_does_not_fit_leaves_the_data_seeding_in_the_incomplete_folder_and_says_why()
    {
        using var mount = TmpfsMount.TryMount(Sub("mnt"), "size=64k");
        Assert.NotNull(mount);
        var incomplete = Sub("incomplete");
        var (meta, data) = RelocationTorrents.MultiFile(incomplete, "Big", 16384, new TestFile("big.bin", 12 * 16384), new TestFile("last.bin", 100));
        File.Delete(Path.Combine(incomplete, "Big", "last.bin"));
        data.Remove("Big/last.bin");
        await using var session = await OpenAsync();
        await session.SaveCategoryAsync(new Category { Name = "small", SavePath = Path.Combine(mount.Path, "small"), IncompletePath = incomplete });
        var t = await session.AddAsync(meta, new TorrentOptions { SavePath = Downloads, Category = "small" });
        Assert.Equal(incomplete, t.SavePath);

        await t.SetFilePriorityAsync(1, Priority.Skip);
        await TestWait.UntilAsync(() => LogAsync(session, t).Result.Any(l => l.Message.StartsWith("the completed download stays in", StringComparison.Ordinal)),
            "the failed move in the log", TimeSpan.FromSeconds(30));
        await session.CategoryMovesAsync();
        Assert.Equal(incomplete, t.SavePath);
        Assert.Equal(TorrentState.Seeding, t.State);
        AssertData(incomplete, data);
        Assert.Empty(RelocationTorrents.Tree(Path.Combine(mount.Path, "small"))); // the partial copy was removed
        Assert.Contains(await LogAsync(session, t), l => l.Level == PluginLogLevel.Error && l.Message.Contains("Could not move the data of Big"));
        Assert.Equal(incomplete, (await SavedAsync(meta)).SavePath);
    }

    [Fact]
    public async Task A_torrent_added_complete_into_the_incomplete_folder_moves_on_and_a_category_lost_from_the_file_comes_back()
    {
        var incomplete = Sub("incomplete");
        var (meta, data) = RelocationTorrents.MultiFile(incomplete, "Done", 16384, new TestFile("x.bin", 20000));
        var done = Sub("done");
        await using (var session = await OpenAsync())
        {
            await session.SaveCategoryAsync(new Category { Name = "docs", SavePath = done, IncompletePath = incomplete });
            var t = await session.AddAsync(meta, new TorrentOptions { SavePath = Downloads, Category = "docs" });
            await TestWait.UntilAsync(() => t.SavePath == done, "the move of the complete torrent");
            await session.CategoryMovesAsync();
            AssertData(done, data);
        }
        File.Delete(Path.Combine(Sub("session"), CategoryStore.FileName));
        await using (var session = await OpenAsync())
        {
            var restored = Assert.Single(await session.RestoreAsync());
            Assert.Equal("docs", restored.Category);
            var docs = Assert.Single(session.Categories.All); // made again, with its default folder
            Assert.Equal(("docs", (string?)null), (docs.Name, docs.SavePath));
            Assert.Contains(session.Log, l => l.Message.StartsWith("category docs created", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_categories_file_keeps_folders_and_limits_and_refuses_what_could_escape_or_is_not_a_category()
    {
        var c = new Category { Name = "movies", SavePath = "/srv/movies", IncompletePath = "/srv/incoming", SeedRatioLimit = 1.5, SeedingTimeLimit = 1440, IdleSeedingLimit = 30 };
        var back = Assert.Single(CategoryStore.Parse(CategoryStore.Serialize([c])));
        Assert.Equal(c, back);
        Assert.Equal(Path.GetFullPath("/dl/tv"), new Category { Name = "tv" }.ResolveSavePath("/dl"));
        Assert.Equal(Path.GetFullPath("/dl/sub/tv"), new Category { Name = "tv", SavePath = "sub/tv" }.ResolveSavePath("/dl"));

        foreach (var bad in new[] { "..", ".", "a/b", "a\\b", "a,b", "", "   ", "x\u0001", new string('n', 101) })
            Assert.ThrowsAny<ArgumentException>(() => CategoryNames.Normalize(bad));
        Assert.Equal("tv shows", CategoryNames.Normalize("  tv shows "));
        Assert.ThrowsAny<ArgumentException>(() => CategoryStore.Parse("""{"../etc": {}}"""u8));
        Assert.Throws<FormatException>(() => CategoryStore.Parse("""{"tv": {"colour": "red"}}"""u8));
        Assert.Throws<FormatException>(() => CategoryStore.Parse("""{"tv": {"seedingTimeLimit": "long"}}"""u8));
        Assert.ThrowsAny<ArgumentException>(() => CategoryStore.Parse("""{"tv": {"seedingTimeLimit": 0}}"""u8));
        Assert.ThrowsAny<ArgumentException>(() => CategoryStore.Parse("""{"tv": {"seedRatioLimit": -1}}"""u8));
        Assert.Throws<FormatException>(() => CategoryStore.Parse("""[1, 2]"""u8));
    }

    [Fact]
    public async Task A_categories_file_that_cannot_be_read_is_set_aside_not_overwritten_and_the_session_says_so()
    {
        Directory.CreateDirectory(Sub("session"));
        string path = Path.Combine(Sub("session"), CategoryStore.FileName);
        File.WriteAllText(path, "{ not json", Encoding.UTF8);
        await using var session = await OpenAsync();
        Assert.Empty(session.Categories.All);
        Assert.Equal("{ not json", File.ReadAllText(path + ".invalid"));
        Assert.Contains(session.Log, l => l.Level == PluginLogLevel.Error && l.Message.StartsWith("categories.json could not be read", StringComparison.Ordinal));
        await session.SaveCategoryAsync(new Category { Name = "new" });
        Assert.Equal(["new"], CategoryStore.Parse(File.ReadAllBytes(path)).Select(c => c.Name));
    }
}
