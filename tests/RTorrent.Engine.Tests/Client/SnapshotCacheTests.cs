using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// A snapshot of an idle torrent that did not change is the one built before (ten thousand idle torrents cost a
/// comparison each per poll), and every change a user or the session can make shows in the next one: after each, the
/// snapshot the engine hands out equals one built from scratch.
/// </summary>
public class SnapshotCacheTests
{
    [Fact]
    public async Task An_idle_torrents_snapshot_is_reused_and_every_change_shows_in_the_next_one()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        var other = await h.AddSeedAsync();
        await h.TickAsync(2);
        var first = await h.SnapshotAsync(t);
        await h.TickAsync(3);
        Assert.Same(first, await h.SnapshotAsync(t));

        var changes = new (string What, Func<Task> Change)[]
        {
            ("labels", () => t.SetLabelsAsync(["tv"])),
            ("trackers", () => t.SetTrackersAsync([["http://127.0.0.1:9/announce"]])),
            ("rate limits", () => t.SetRateLimitsAsync(10_000, 20_000)),
            ("seed ratio", () => t.SetSeedRatioAsync(SeedRatioMode.Custom, 50)),
            ("session peer limits", () => h.Engine.SetConnectionLimitsAsync(300, 9)),
            ("peer limit", () => t.SetMaxConnectionsAsync(7)),
            ("queue position", () => h.Engine.SetQueuePositionAsync(other, 0)),
            ("file priority", () => t.SetFilePriorityAsync(1, Priority.Skip)),
            ("uploaded before", () => h.Engine.Loop.InvokeAsync(() => t.UploadedBefore += 1000)),
            ("a known peer", () => t.AddPeerAsync(new IPEndPoint(IPAddress.Loopback, 9))),
            ("stop", t.StopAsync),
            ("start", t.StartAsync),
        };
        var previous = first;
        foreach (var (what, change) in changes)
        {
            await change();
            var cached = await h.SnapshotAsync(t);
            var fresh = await h.Engine.Loop.InvokeAsync(t.BuildSnapshotFresh);
            Assert.True(fresh.Equals(cached), $"after {what}: {cached} vs {fresh}");
            Assert.False(previous.Equals(cached), $"{what} did not show");
            await h.TickAsync(2);
            previous = await h.SnapshotAsync(t);
            Assert.Equal(await h.Engine.Loop.InvokeAsync(t.BuildSnapshotFresh), previous);
        }
    }
}
