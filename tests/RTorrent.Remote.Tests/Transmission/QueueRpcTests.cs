using System.Text.Json;
using RTorrent.Engine.Client;
using RTorrent.Engine.Settings;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>
/// The queue over the Transmission RPC: the session fields download-queue-*, seed-queue-*, queue-stalled-* are real
/// (read, set live, saved), a queued torrent has status 3 or 5, torrent-start goes through the queue and
/// torrent-start-now beside it.
/// </summary>
public sealed class QueueRpcTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static int Status(JsonElement t) => t.GetProperty("status").GetInt32();

    [Fact]
    public async Task Queue_session_fields_are_read_set_live_and_saved()
    {
        var a = (await _h.OkAsync("session-get")).Arguments;
        Assert.False(a.GetProperty("download-queue-enabled").GetBoolean());
        Assert.Equal(5, a.GetProperty("download-queue-size").GetInt32());
        Assert.False(a.GetProperty("seed-queue-enabled").GetBoolean());
        Assert.Equal(10, a.GetProperty("seed-queue-size").GetInt32());
        Assert.True(a.GetProperty("queue-stalled-enabled").GetBoolean());
        Assert.Equal(30, a.GetProperty("queue-stalled-minutes").GetInt32());

        await _h.OkAsync("session-set", Args(("download-queue-enabled", true), ("download-queue-size", 3), ("seed-queue-enabled", true),
            ("seed-queue-size", 7), ("queue-stalled-enabled", false), ("queue-stalled-minutes", 12)));
        a = (await _h.OkAsync("session-get", Args(("fields", new[] { "download-queue-enabled", "download-queue-size", "seed-queue-enabled",
            "seed-queue-size", "queue-stalled-enabled", "queue-stalled-minutes" })))).Arguments;
        Assert.True(a.GetProperty("download-queue-enabled").GetBoolean());
        Assert.Equal(3, a.GetProperty("download-queue-size").GetInt32());
        Assert.True(a.GetProperty("seed-queue-enabled").GetBoolean());
        Assert.Equal(7, a.GetProperty("seed-queue-size").GetInt32());
        Assert.False(a.GetProperty("queue-stalled-enabled").GetBoolean());
        Assert.Equal(12, a.GetProperty("queue-stalled-minutes").GetInt32());
        Assert.Equal(new QueueLimits { MaxDownloads = 3, MaxSeeds = 7 }, _h.Engine.Config.Queue);
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((true, 3, true, 7, false, 12), (saved.DownloadQueueEnabled, saved.DownloadQueueSize, saved.SeedQueueEnabled,
            saved.SeedQueueSize, saved.QueueStalledEnabled, saved.QueueStalledMinutes));

        var reply = await _h.CallAsync("session-set", Args(("download-queue-size", -1), ("queue-stalled-minutes", 0)));
        Assert.False(reply.Ok);
        Assert.Contains("download-queue-size: must be 0-100000, not -1", reply.Result);
        Assert.Contains("queue-stalled-minutes: must be 1-525600, not 0", reply.Result);
        Assert.Equal(3, _h.Settings.Current.DownloadQueueSize);
    }

    [Fact]
    public async Task Queued_torrents_have_status_5_and_start_now_runs_one_beside_the_queue()
    {
        await _h.OkAsync("session-set", Args(("seed-queue-enabled", true), ("seed-queue-size", 1)));
        var ids = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            var (path, _, _) = await _h.MakeTorrentAsync($"q{i}.bin", inDownloads: true);
            long id = await _h.AddAsync(path, paused: true);
            await _h.OkAsync("torrent-start", Args(("ids", new[] { id })));
            ids.Add(id);
        }
        await _h.WaitForAsync(ids[0], t => Status(t) == 6, "the first seeds", "status");
        // Transmission's TR_STATUS_SEED_WAIT: complete and waiting for a seed slot.
        var second = await _h.WaitForAsync(ids[1], t => Status(t) == 5, "the second waits to seed", "status", "queuePosition", "isStalled");
        Assert.Equal(1, second.GetProperty("queuePosition").GetInt32());
        Assert.False(second.GetProperty("isStalled").GetBoolean());
        Assert.Equal(5, Status(await _h.GetAsync(ids[2], "status")));

        await _h.OkAsync("torrent-start-now", Args(("ids", new[] { ids[2] })));
        await _h.WaitForAsync(ids[2], t => Status(t) == 6, "the forced one seeds", "status");
        Assert.True(_h.Engine.Torrents.Single(t => t.QueuePosition == 2).Forced);
        // It counts against the limit (libtorrent's rule): the one seeding by the queue waits now.
        await _h.WaitForAsync(ids[0], t => Status(t) == 5, "the first waits behind the forced one", "status");

        // A second slot: the front of the queue takes it.
        await _h.OkAsync("session-set", Args(("seed-queue-size", 2)));
        await _h.WaitForAsync(ids[0], t => Status(t) == 6, "the first seeds again", "status");
        Assert.Equal(5, Status(await _h.GetAsync(ids[1], "status")));

        // Moving the queued one to the top gives it the first one's slot.
        await _h.OkAsync("queue-move-top", Args(("ids", new[] { ids[1] })));
        await _h.WaitForAsync(ids[1], t => Status(t) == 6, "the moved one seeds", "status");
        await _h.WaitForAsync(ids[0], t => Status(t) == 5, "the first waits again", "status");

        // Stopping the forced one clears its mark and frees its slot.
        await _h.OkAsync("torrent-stop", Args(("ids", new[] { ids[2] })));
        Assert.Equal(0, Status(await _h.GetAsync(ids[2], "status")));
        Assert.False(_h.Engine.Torrents.Single(t => t.QueuePosition == 2).Forced);
        await _h.WaitForAsync(ids[0], t => Status(t) == 6, "the first takes the freed slot", "status");
    }
}
