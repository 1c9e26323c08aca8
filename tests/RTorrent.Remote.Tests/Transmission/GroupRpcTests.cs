using System.Text.Json;
using RTorrent.Engine.Client;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>
/// Categories through Transmission's RPC (docs/CATEGORIES.md): a torrent's <c>group</c> is its category and its
/// <c>labels</c> its tags; <c>group-get</c> and <c>group-set</c> list and edit categories.
/// </summary>
public sealed class GroupRpcTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();


    [Fact]
    public async Task Torrent_add_with_a_group_and_labels_places_the_torrent_in_the_categorys_folder_and_torrent_get_shows_them()
    {
        var (path, meta, _) = await _h.MakeTorrentAsync("added.bin");
        var reply = await _h.OkAsync("torrent-add", new Dictionary<string, object?>
        {
            ["filename"] = path, ["paused"] = true, ["group"] = "tv", ["labels"] = new[] { "hd", "weekly" },
        });
        long id = reply.Arguments.GetProperty("torrent-added").GetProperty("id").GetInt64();
        var t = await _h.GetAsync(id, "group", "labels", "downloadDir");
        Assert.Equal("tv", t.GetProperty("group").GetString());
        Assert.Equal(["hd", "weekly"], t.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(Path.Combine(_h.Downloads, "tv"), t.GetProperty("downloadDir").GetString());
        Assert.Equal("tv", Assert.Single(_h.Session.Categories.All).Name); // made by the add

        // download-dir given: it wins, the category is still set.
        var (path2, _, _) = await _h.MakeTorrentAsync("elsewhere.bin");
        string mine = Path.Combine(_h.Root, "mine");
        reply = await _h.OkAsync("torrent-add", new Dictionary<string, object?> { ["filename"] = path2, ["paused"] = true, ["group"] = "tv", ["download-dir"] = mine });
        long id2 = reply.Arguments.GetProperty("torrent-added").GetProperty("id").GetInt64();
        t = await _h.GetAsync(id2, "group", "downloadDir");
        Assert.Equal(("tv", mine), (t.GetProperty("group").GetString(), t.GetProperty("downloadDir").GetString()));

        var bad = await _h.CallAsync("torrent-add", Args(("filename", path2), ("group", "../up")));
        Assert.StartsWith("group: A category name cannot contain '/'", bad.Result);
    }

    [Fact]
    public async Task Torrent_set_group_moves_a_seeding_torrents_data_to_the_categorys_folder_and_an_empty_group_brings_it_back()
    {
        var (path, meta, data) = await _h.MakeTorrentAsync("seeded.bin", inDownloads: true);
        long id = await _h.AddAsync(path, paused: false);
        await _h.WaitForAsync(id, t => t.GetProperty("status").GetInt32() == 6, "seeding", "status");
        string movies = Path.Combine(_h.Root, "library", "movies");
        Assert.True((await _h.CallAsync("group-set", Args(("name", "movies"), ("savePath", movies), ("seedRatioLimit", 2.5), ("seedingTimeLimit", 600)))).Ok);

        Assert.True((await _h.CallAsync("torrent-set", Args(("ids", new[] { id }), ("group", "movies"), ("labels", new[] { "4k" })))).Ok);
        var t = await _h.GetAsync(id, "group", "labels", "downloadDir", "status");
        Assert.Equal(("movies", movies, 6), (t.GetProperty("group").GetString(), t.GetProperty("downloadDir").GetString(), t.GetProperty("status").GetInt32()));
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(movies, "seeded.bin")));
        Assert.False(File.Exists(Path.Combine(_h.Downloads, "seeded.bin")));

        Assert.True((await _h.CallAsync("torrent-set", Args(("ids", new[] { id }), ("group", "")))).Ok);
        t = await _h.GetAsync(id, "group", "downloadDir");
        Assert.Equal(("", _h.Downloads), (t.GetProperty("group").GetString(), t.GetProperty("downloadDir").GetString()));
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(_h.Downloads, "seeded.bin")));
    }

    [Fact]
    public async Task Group_get_and_group_set_list_create_change_and_remove_categories_and_refuse_speed_limits()
    {
        string incoming = Path.Combine(_h.Root, "incoming");
        Assert.True((await _h.CallAsync("group-set", Args(("name", "books"), ("incompletePath", incoming), ("idleSeedingLimit", 30)))).Ok);
        Assert.True((await _h.CallAsync("group-set", Args(("name", "audio")))).Ok);
        var reply = await _h.OkAsync("group-get", Args());
        var groups = reply.Arguments.GetProperty("group").EnumerateArray().ToArray();
        Assert.Equal(["audio", "books"], groups.Select(g => g.GetProperty("name").GetString()));
        var books = groups[1];
        Assert.Equal((true, false, false), (books.GetProperty("honorsSessionLimits").GetBoolean(),
            books.GetProperty("speed-limit-down-enabled").GetBoolean(), books.GetProperty("speed-limit-up-enabled").GetBoolean()));
        Assert.Equal(Path.Combine(_h.Downloads, "books"), books.GetProperty("savePath").GetString());
        Assert.Equal(incoming, books.GetProperty("incompletePath").GetString());
        Assert.Equal(30, books.GetProperty("idleSeedingLimit").GetInt32());
        Assert.False(groups[0].TryGetProperty("idleSeedingLimit", out _));

        // One group by name; fields not given stay.
        Assert.True((await _h.CallAsync("group-set", Args(("name", "books"), ("idleSeedingLimit", -1)))).Ok);
        reply = await _h.OkAsync("group-get", Args(("group", "books")));
        books = Assert.Single(reply.Arguments.GetProperty("group").EnumerateArray());
        Assert.Equal(incoming, books.GetProperty("incompletePath").GetString());
        Assert.False(books.TryGetProperty("idleSeedingLimit", out _));

        Assert.StartsWith("speed-limit-*", (await _h.CallAsync("group-set", Args(("name", "books"), ("speed-limit-down-enabled", true)))).Result);
        Assert.StartsWith("honorsSessionLimits", (await _h.CallAsync("group-set", Args(("name", "books"), ("honorsSessionLimits", false)))).Result);
        Assert.StartsWith("savePath: the path is not absolute", (await _h.CallAsync("group-set", Args(("name", "books"), ("savePath", "rel/dir")))).Result);
        Assert.StartsWith("name: A category name cannot contain", (await _h.CallAsync("group-set", Args(("name", "a/b")))).Result);

        Assert.True((await _h.CallAsync("group-set", Args(("name", "audio"), ("remove", true)))).Ok);
        Assert.Equal(["books"], _h.Session.Categories.All.Select(c => c.Name));
        Assert.Contains("There is no category 'audio'", (await _h.CallAsync("group-set", Args(("name", "audio"), ("remove", true)))).Result);
        Assert.Contains("\"books\"", File.ReadAllText(Path.Combine(_h.SessionDir, "categories.json")));
    }
}
