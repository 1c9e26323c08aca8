using System.Collections.Concurrent;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Running torrents save their resume data every <see cref="EngineConfig.ResumeSaveInterval"/>, but only when payload
/// moved since the last save: an idle seeding torrent's file is already right, and rewriting (and fsyncing) a thousand
/// of them a minute was most of an idle daemon's CPU.
/// </summary>
public sealed class PeriodicResumeSaveTests
{
    [Fact]
    public async Task An_idle_seeding_torrent_is_not_saved_again_but_one_that_uploaded_is()
    {
        var saves = new ConcurrentQueue<Torrent>();
        await using var h = await EngineHarness.StartAsync(new EngineConfig { ResumeSaveInterval = TimeSpan.FromSeconds(10) },
            saveResume: t =>
            {
                saves.Enqueue(t);
                return Task.CompletedTask;
            });
        var idle = await h.AddSeedAsync();
        var busy = await h.AddSeedAsync();
        await h.TickAsync(35);
        Assert.Empty(saves);

        // Bytes sent to a peer change the upload total the resume data holds: the next interval saves it, once.
        await h.Engine.Loop.InvokeAsync(() => busy.UploadedBefore += 16 * 1024);
        await h.TickAsync(25);
        await WaitAsync(() => saves.Count >= 1);
        Assert.All(saves, t => Assert.Same(busy, t));
        Assert.Single(saves);
    }

    [Fact]
    public async Task A_settings_change_of_a_running_idle_torrent_is_saved_without_waiting_for_a_transfer()
    {
        var saves = new ConcurrentQueue<Torrent>();
        await using var h = await EngineHarness.StartAsync(new EngineConfig { ResumeSaveInterval = TimeSpan.FromSeconds(10) },
            saveResume: t =>
            {
                saves.Enqueue(t);
                return Task.CompletedTask;
            });
        var t = await h.AddSeedAsync();
        await t.SetRateLimitsAsync(50_000, 20_000);
        await h.TickAsync(2);
        await WaitAsync(() => saves.Count >= 1);
        Assert.Same(t, Assert.Single(saves));

        await t.SetFilePriorityAsync(0, Priority.High);
        await h.TickAsync(2);
        await WaitAsync(() => saves.Count >= 2);
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition()) await Task.Delay(10, cts.Token);
    }
}
