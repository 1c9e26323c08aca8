using System.Text.Json;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>torrent-get: fields and their conventions, the table format, ids in every form, recently-active with removed.</summary>
public sealed class TorrentGetTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task A_seeding_torrent_shows_transmissions_numbers()
    {
        var (path, meta, data) = await _h.MakeTorrentAsync("seed.bin", 100_000, inDownloads: true, tracker: "http://tracker.example.org:1/announce");
        long id = await _h.AddAsync(path, paused: false);
        var t = await _h.WaitForAsync(id, t => t.GetProperty("status").GetInt32() == 6, "seeding",
            "id", "name", "hashString", "status", "percentDone", "percentComplete", "leftUntilDone", "sizeWhenDone", "totalSize", "eta",
            "uploadRatio", "error", "errorString", "downloadDir", "addedDate", "doneDate", "startDate", "dateCreated", "pieceCount",
            "pieceSize", "isPrivate", "isFinished", "isStalled", "trackers", "trackerList", "magnetLink", "webseedsSendingToUs",
            "bandwidthPriority", "honorsSessionLimits", "downloadLimited", "seedRatioMode", "queuePosition", "etaIdle", "file-count",
            "primary-mime-type", "torrentFile", "recheckProgress", "metadataPercentComplete", "group", "labels");
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(id, t.GetProperty("id").GetInt64());
        Assert.Equal("seed.bin", t.GetProperty("name").GetString());
        Assert.Equal(meta.WireHash.ToHex(), t.GetProperty("hashString").GetString());
        Assert.Equal((1.0, 1.0), (t.GetProperty("percentDone").GetDouble(), t.GetProperty("percentComplete").GetDouble()));
        Assert.Equal(0, t.GetProperty("leftUntilDone").GetInt64());
        Assert.Equal((data.Length, data.Length), (t.GetProperty("sizeWhenDone").GetInt64(), t.GetProperty("totalSize").GetInt64()));
        Assert.Equal(-1, t.GetProperty("eta").GetInt64()); // seeding without a ratio limit
        Assert.Equal(0, t.GetProperty("uploadRatio").GetDouble()); // nothing uploaded of the 100 000 bytes it has
        Assert.Equal((0, ""), (t.GetProperty("error").GetInt32(), t.GetProperty("errorString").GetString()));
        Assert.Equal(_h.Downloads, t.GetProperty("downloadDir").GetString());
        Assert.InRange(t.GetProperty("addedDate").GetInt64(), now - 60, now + 1);
        Assert.InRange(t.GetProperty("startDate").GetInt64(), now - 60, now + 1);
        Assert.Equal(0, t.GetProperty("dateCreated").GetInt64()); // the .torrent has no creation date: never
        Assert.Equal((7, 16384), (t.GetProperty("pieceCount").GetInt32(), t.GetProperty("pieceSize").GetInt32()));
        Assert.False(t.GetProperty("isPrivate").GetBoolean() || t.GetProperty("isFinished").GetBoolean() || t.GetProperty("isStalled").GetBoolean());
        var tracker = Assert.Single(t.GetProperty("trackers").EnumerateArray());
        Assert.Equal("http://tracker.example.org:1/announce", tracker.GetProperty("announce").GetString());
        Assert.Equal("http://tracker.example.org:1/scrape", tracker.GetProperty("scrape").GetString());
        Assert.Equal("example", tracker.GetProperty("sitename").GetString());
        Assert.Equal((0, 0), (tracker.GetProperty("id").GetInt32(), tracker.GetProperty("tier").GetInt32()));
        Assert.Equal("http://tracker.example.org:1/announce\n", t.GetProperty("trackerList").GetString());
        Assert.StartsWith($"magnet:?xt=urn:btih:{meta.WireHash.ToHex()}&dn=seed.bin&tr=", t.GetProperty("magnetLink").GetString());
        Assert.Equal((0, 0, 0, -1), (t.GetProperty("webseedsSendingToUs").GetInt32(), t.GetProperty("bandwidthPriority").GetInt32(),
            t.GetProperty("seedRatioMode").GetInt32(), t.GetProperty("etaIdle").GetInt32()));
        Assert.True(t.GetProperty("honorsSessionLimits").GetBoolean());
        Assert.False(t.GetProperty("downloadLimited").GetBoolean());
        Assert.Equal(1, t.GetProperty("file-count").GetInt32());
        Assert.Equal("application/octet-stream", t.GetProperty("primary-mime-type").GetString());
        Assert.Equal(Path.Combine(_h.SessionDir, meta.WireHash.ToHex() + ".torrent"), t.GetProperty("torrentFile").GetString());
        Assert.Equal((0.0, 1.0), (t.GetProperty("recheckProgress").GetDouble(), t.GetProperty("metadataPercentComplete").GetDouble()));
        Assert.Equal("", t.GetProperty("group").GetString());
        Assert.Empty(t.GetProperty("labels").EnumerateArray());

        var details = await _h.GetAsync(id, "pieces", "haveValid", "haveUnchecked", "desiredAvailable", "availability", "peers", "peersFrom",
            "trackerStats", "files", "fileStats", "priorities", "wanted");
        Assert.Equal(Convert.ToBase64String([0xFE]), details.GetProperty("pieces").GetString()); // 7 pieces, all had
        Assert.Equal(data.Length, details.GetProperty("haveValid").GetInt64());
        Assert.Equal((0, 0), (details.GetProperty("haveUnchecked").GetInt64(), details.GetProperty("desiredAvailable").GetInt64()));
        Assert.Equal(Enumerable.Repeat(-1, 7), details.GetProperty("availability").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Empty(details.GetProperty("peers").EnumerateArray());
        Assert.Equal(0, details.GetProperty("peersFrom").GetProperty("fromTracker").GetInt32());
        var stats = Assert.Single(details.GetProperty("trackerStats").EnumerateArray());
        Assert.Equal(("tracker.example.org:1", -1), (stats.GetProperty("host").GetString(), stats.GetProperty("seederCount").GetInt32()));
        Assert.Equal([0], details.GetProperty("priorities").EnumerateArray().Select(e => e.GetInt32()));
        // wanted as 0/1 numbers (Transmission 3.00 and 4.0.2+), fileStats' wanted as a boolean (as Transmission writes it).
        Assert.Equal(JsonValueKind.Number, details.GetProperty("wanted")[0].ValueKind);
        Assert.Equal(1, details.GetProperty("wanted")[0].GetInt32());
        Assert.True(details.GetProperty("fileStats")[0].GetProperty("wanted").GetBoolean());
        Assert.Equal(data.Length, details.GetProperty("files")[0].GetProperty("bytesCompleted").GetInt64());
    }

    [Fact]
    public async Task Table_format_has_the_names_first_then_one_row_per_torrent_and_unknown_fields_are_left_out()
    {
        var (p1, _, _) = await _h.MakeTorrentAsync("one.bin");
        var (p2, _, _) = await _h.MakeTorrentAsync("two.bin");
        long id1 = await _h.AddAsync(p1), id2 = await _h.AddAsync(p2);
        var table = await _h.OkAsync("torrent-get", Args(("fields", new[] { "id", "name", "no-such-field", "status", "name" }), ("format", "table")));
        var rows = table.Torrents.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(["id", "name", "status"], rows[0].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal($"[{id1},\"one.bin\",0]", rows[1].GetRawText());
        Assert.Equal($"[{id2},\"two.bin\",0]", rows[2].GetRawText());
        var objects = await _h.OkAsync("torrent-get", Args(("fields", new[] { "id", "bogus" })));
        Assert.Equal($"[{{\"id\":{id1}}},{{\"id\":{id2}}}]", objects.Torrents.GetRawText());
        Assert.False(objects.Arguments.TryGetProperty("removed", out _));
    }

    [Fact]
    public async Task Ids_select_by_number_list_hash_and_skip_unknown_ones_and_are_never_reused()
    {
        var (p1, m1, _) = await _h.MakeTorrentAsync("a.bin");
        var (p2, m2, _) = await _h.MakeTorrentAsync("b.bin");
        long a = await _h.AddAsync(p1), b = await _h.AddAsync(p2);
        Assert.Equal(a + 1, b);
        async Task<long[]> Ids(object? ids)
        {
            var args = Args(("fields", new[] { "id" }));
            if (ids is not null) args["ids"] = ids;
            return (await _h.OkAsync("torrent-get", args)).Torrents.EnumerateArray().Select(t => t.GetProperty("id").GetInt64()).ToArray();
        }
        Assert.Equal([a, b], await Ids(null));
        Assert.Equal([b], await Ids(b));
        Assert.Equal([b, a], await Ids(new object[] { m2.WireHash.ToHex().ToUpperInvariant(), a, 999, "0000000000000000000000000000000000000000", b }));
        Assert.Equal([a], await Ids(m1.WireHash.ToHex()));
        Assert.Empty(await Ids(new object[] { 999 }));

        // Removed and added again: a new id; the old one names nothing.
        await _h.OkAsync("torrent-remove", Args(("ids", new[] { a })));
        long again = await _h.AddAsync(p1);
        Assert.True(again > b, $"{again} reuses an id");
        Assert.Empty(await Ids(new object[] { a }));
        Assert.Equal([b, again], await Ids(null));
    }

    [Fact]
    public async Task Recently_active_lists_what_changed_in_the_last_minute_and_the_ids_removed()
    {
        var (p1, _, _) = await _h.MakeTorrentAsync("active.bin");
        var (p2, _, _) = await _h.MakeTorrentAsync("removed.bin");
        long kept = await _h.AddAsync(p1), gone = await _h.AddAsync(p2);
        await _h.OkAsync("torrent-remove", Args(("ids", new[] { gone })));
        var reply = await _h.OkAsync("torrent-get", Args(("ids", "recently-active"), ("fields", new[] { "id" })));
        Assert.Equal([kept], reply.Torrents.EnumerateArray().Select(t => t.GetProperty("id").GetInt64()));
        Assert.Equal([gone], reply.Arguments.GetProperty("removed").EnumerateArray().Select(e => e.GetInt64()));
        var table = await _h.OkAsync("torrent-get", Args(("ids", "recently-active"), ("fields", new[] { "id" }), ("format", "table")));
        Assert.Equal($"[[\"id\"],[{kept}]]", table.Torrents.GetRawText());
        Assert.Equal($"[{gone}]", table.Arguments.GetProperty("removed").GetRawText());
    }

    [Fact]
    public async Task Padding_files_are_never_seen_and_file_indices_are_the_same_everywhere()
    {
        var (path, meta) = await _h.MakePaddedTorrentAsync("padded", _h.Downloads);
        Assert.Equal(5, meta.Files.Count);
        long id = await _h.AddAsync(path, paused: true);
        var t = await _h.WaitForAsync(id, t => t.GetProperty("percentDone").GetDouble() == 1, "its data checked",
            "files", "fileStats", "priorities", "wanted", "file-count", "totalSize", "percentDone");
        Assert.Equal(3, t.GetProperty("file-count").GetInt32());
        Assert.Equal(["padded/a.bin", "padded/b.bin", "padded/c.bin"], t.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal([20_000L, 5_000, 30_000], t.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("length").GetInt64()));
        Assert.Equal(55_000, t.GetProperty("totalSize").GetInt64());
        Assert.Equal(3, t.GetProperty("fileStats").GetArrayLength());

        // File 1 is b.bin (the engine's file 2), file 2 is c.bin (the engine's 4).
        await _h.OkAsync("torrent-set", Args(("ids", new[] { id }), ("files-unwanted", new[] { 1 }), ("priority-high", new[] { 2 }), ("priority-low", new[] { 0 })));
        t = await _h.GetAsync(id, "priorities", "wanted", "fileStats", "sizeWhenDone");
        Assert.Equal([-1, 0, 1], t.GetProperty("priorities").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([1, 0, 1], t.GetProperty("wanted").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([true, false, true], t.GetProperty("fileStats").EnumerateArray().Select(f => f.GetProperty("wanted").GetBoolean()));
        Assert.Equal(50_000, t.GetProperty("sizeWhenDone").GetInt64());
        var torrent = _h.Engine.Find(meta.WireHash.ToHex())!;
        var files = (await _h.Engine.GetDetailsAsync(torrent)).Files;
        Assert.Equal([(0, RTorrent.Abstractions.Priority.Low), (2, RTorrent.Abstractions.Priority.Skip), (4, RTorrent.Abstractions.Priority.High)],
            files.Select(f => (f.Index, f.Priority)));
        Assert.Equal("file index out of range", (await _h.CallAsync("torrent-set", Args(("ids", new[] { id }), ("files-wanted", new[] { 3 })))).Result);
    }
}
