using RTorrent.Engine.Client;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>torrent-start/stop/verify/reannounce/remove, set-location, rename-path and the queue moves.</summary>
public sealed class TorrentActionsTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static int Status(System.Text.Json.JsonElement t) => t.GetProperty("status").GetInt32();

    [Fact]
    public async Task Start_stop_verify_and_reannounce_act_on_the_torrents_named()
    {
        var (path, _, _) = await _h.MakeTorrentAsync("act.bin", inDownloads: true);
        long id = await _h.AddAsync(path, paused: true);
        Assert.Equal(0, Status(await _h.GetAsync(id, "status")));
        await _h.OkAsync("torrent-start", Args(("ids", new[] { id })));
        await _h.WaitForAsync(id, t => Status(t) == 6, "seeding", "status");
        await _h.OkAsync("torrent-reannounce", Args(("ids", new[] { id })));
        await _h.OkAsync("torrent-stop", Args(("ids", id)));
        Assert.Equal(0, Status(await _h.GetAsync(id, "status")));
        await _h.OkAsync("torrent-start-now", Args(("ids", new[] { id })));
        Assert.Equal(6, Status(await _h.GetAsync(id, "status")));

        // verify answers at once; the check runs, then the torrent seeds again.
        File.WriteAllBytes(Path.Combine(_h.Downloads, "act.bin"), new byte[100_000]);
        await _h.OkAsync("torrent-verify", Args(("ids", new[] { id })));
        var t = await _h.WaitForAsync(id, t => Status(t) == 4, "the damage found", "status", "percentDone", "leftUntilDone");
        Assert.Equal(0, t.GetProperty("percentDone").GetDouble());
        Assert.Equal(100_000, t.GetProperty("leftUntilDone").GetInt64());

        Assert.Equal("no torrent with id 77", (await _h.CallAsync("torrent-stop", Args(("ids", new[] { 77 })))).Result);
        Assert.Equal("no torrent with '0000000000000000000000000000000000000000'",
            (await _h.CallAsync("torrent-start", Args(("ids", "0000000000000000000000000000000000000000")))).Result);
    }

    [Fact]
    public async Task Remove_forgets_the_torrent_and_with_delete_local_data_deletes_its_files()
    {
        var (p1, _, _) = await _h.MakeTorrentAsync("keep.bin", inDownloads: true);
        var (p2, _, _) = await _h.MakeTorrentAsync("delete.bin", inDownloads: true);
        long keep = await _h.AddAsync(p1, paused: false), delete = await _h.AddAsync(p2, paused: false);
        await _h.WaitForAsync(delete, t => Status(t) == 6, "seeding", "status");
        await _h.OkAsync("torrent-remove", Args(("ids", new[] { keep })));
        await _h.OkAsync("torrent-remove", Args(("ids", new[] { delete }), ("delete-local-data", true)));
        Assert.Empty(_h.Engine.Torrents);
        Assert.True(File.Exists(Path.Combine(_h.Downloads, "keep.bin")));
        Assert.False(File.Exists(Path.Combine(_h.Downloads, "delete.bin")));
        Assert.Equal("no torrent with id " + keep, (await _h.CallAsync("torrent-remove", Args(("ids", new[] { keep })))).Result);
    }

    [Fact]
    public async Task Set_location_with_move_moves_the_files_and_without_move_points_at_data_already_there()
    {
        var (path, meta) = await _h.MakePaddedTorrentAsync("movable", _h.Downloads);
        long id = await _h.AddAsync(path, paused: false);
        await _h.WaitForAsync(id, t => Status(t) == 6, "seeding", "status");
        string target = Path.Combine(_h.Root, "moved");
        await _h.OkAsync("torrent-set-location", Args(("ids", new[] { id }), ("location", target), ("move", true)));
        Assert.Equal(target, (await _h.GetAsync(id, "downloadDir")).GetProperty("downloadDir").GetString());
        foreach (var name in new[] { "a.bin", "b.bin", "c.bin" })
        {
            Assert.True(File.Exists(Path.Combine(target, "movable", name)), name);
            Assert.False(File.Exists(Path.Combine(_h.Downloads, "movable", name)), name);
        }
        Assert.False(Directory.Exists(Path.Combine(target, "movable", ".pad")));

        // Without move: the files are looked for there (copied back by hand), checked, and used.
        string back = Path.Combine(_h.Root, "copy");
        CopyTree(Path.Combine(target, "movable"), Path.Combine(back, "movable"));
        await _h.OkAsync("torrent-set-location", Args(("ids", new[] { id }), ("location", back)));
        var t = await _h.WaitForAsync(id, t => Status(t) == 6, "seeding from the copy", "status", "downloadDir", "percentDone");
        Assert.Equal((back, 1.0), (t.GetProperty("downloadDir").GetString(), t.GetProperty("percentDone").GetDouble()));
        Assert.True(File.Exists(Path.Combine(target, "movable", "a.bin"))); // left where it was

        Assert.Equal("no location", (await _h.CallAsync("torrent-set-location", Args(("ids", new[] { id }), ("move", true)))).Result);
        Assert.Equal("new location path is not absolute", (await _h.CallAsync("torrent-set-location", Args(("ids", new[] { id }), ("location", "rel")))).Result);
        _ = meta;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string dest = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
    }

    [Fact]
    public async Task Rename_path_renames_a_file_or_the_top_folder_and_answers_id_path_and_name()
    {
        var (path, _) = await _h.MakePaddedTorrentAsync("renamed", _h.Downloads);
        long id = await _h.AddAsync(path, paused: true);
        await _h.WaitForAsync(id, t => t.GetProperty("percentDone").GetDouble() == 1, "checked", "percentDone");
        var reply = await _h.OkAsync("torrent-rename-path", Args(("ids", new[] { id }), ("path", "renamed/b.bin"), ("name", "bee.bin")));
        Assert.Equal($"{{\"id\":{id},\"path\":\"renamed/b.bin\",\"name\":\"bee.bin\"}}", reply.Arguments.GetRawText());
        Assert.True(File.Exists(Path.Combine(_h.Downloads, "renamed", "bee.bin")));
        await _h.OkAsync("torrent-rename-path", Args(("ids", new[] { id }), ("path", "renamed"), ("name", "top")));
        var t = await _h.GetAsync(id, "name", "files");
        Assert.Equal("top", t.GetProperty("name").GetString());
        Assert.Equal(["top/a.bin", "top/bee.bin", "top/c.bin"], t.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.True(File.Exists(Path.Combine(_h.Downloads, "top", "bee.bin")));

        var failed = await _h.CallAsync("torrent-rename-path", Args(("ids", new[] { id }), ("path", "top/nothing.bin"), ("name", "x")));
        Assert.False(failed.Ok);
        Assert.Equal(id, failed.Arguments.GetProperty("id").GetInt64());
        var (other, _, _) = await _h.MakeTorrentAsync("second.bin");
        await _h.AddAsync(other);
        // No ids: every torrent, which is two now.
        Assert.Equal("torrent-rename-path requires 1 torrent", (await _h.CallAsync("torrent-rename-path", Args(("path", "top"), ("name", "x")))).Result);
    }

    [Fact]
    public async Task Queue_moves_reorder_the_queue_as_a_block()
    {
        var ids = new List<long>();
        foreach (var name in new[] { "q0", "q1", "q2", "q3" })
        {
            var (path, _, _) = await _h.MakeTorrentAsync(name);
            ids.Add(await _h.AddAsync(path));
        }
        async Task<long[]> OrderAsync()
        {
            var all = await _h.OkAsync("torrent-get", Args(("fields", new[] { "id", "queuePosition" })));
            return all.Torrents.EnumerateArray().OrderBy(t => t.GetProperty("queuePosition").GetInt32()).Select(t => t.GetProperty("id").GetInt64()).ToArray();
        }
        Assert.Equal(ids, await OrderAsync());
        await _h.OkAsync("queue-move-top", Args(("ids", new[] { ids[2], ids[3] })));
        Assert.Equal([ids[2], ids[3], ids[0], ids[1]], await OrderAsync());
        await _h.OkAsync("queue-move-down", Args(("ids", new[] { ids[2] })));
        Assert.Equal([ids[3], ids[2], ids[0], ids[1]], await OrderAsync());
        await _h.OkAsync("queue-move-bottom", Args(("ids", new[] { ids[3] })));
        Assert.Equal([ids[2], ids[0], ids[1], ids[3]], await OrderAsync());
        await _h.OkAsync("queue-move-up", Args(("ids", new[] { ids[1] })));
        Assert.Equal([ids[2], ids[1], ids[0], ids[3]], await OrderAsync());
    }
}
