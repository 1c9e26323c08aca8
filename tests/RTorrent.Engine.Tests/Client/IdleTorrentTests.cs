using System.Collections.Concurrent;
using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Issue 13: an idle torrent costs nothing per tick. The engine ticks only torrents with peers, connections being
/// made or payload moving, and wakes the others when something they scheduled is due; torrents with peers are still
/// ticked, rechoked and saved. Time moves only by the manual clock; counts, never wall-clock times, are asserted.
/// </summary>
public class IdleTorrentTests
{
    [Fact]
    public async Task Idle_seeding_torrents_are_not_ticked_and_a_change_ticks_the_torrent_once()
    {
        await using var h = await EngineHarness.StartAsync();
        var torrents = new List<Torrent>();
        for (int i = 0; i < 20; i++) torrents.Add(await h.AddSeedAsync());
        await h.TickAsync(2);
        Assert.Equal(0, h.Engine.TickListCount);
        long settled = h.Engine.TorrentTicks;

        await h.TickAsync(30);
        Assert.Equal(settled, h.Engine.TorrentTicks);

        // A setting change may move the seed ratio limit: the torrent is looked at, once.
        await torrents[7].SetLabelsAsync(["tv"]);
        await h.TickAsync(5);
        Assert.Equal(settled + 1, h.Engine.TorrentTicks);
        Assert.Equal(0, h.Engine.TickListCount);
    }

    [Fact]
    public async Task A_resume_save_due_later_wakes_the_idle_torrent_at_its_time_and_not_before()
    {
        var saves = new ConcurrentQueue<Torrent>();
        // TCP only: a dial to the departed leecher over uTP would wait out its SYN timeout (3 s) on the manual clock.
        await using var h = await EngineHarness.StartAsync(new EngineConfig { ResumeSaveInterval = TimeSpan.FromSeconds(10), Transports = new PeerTransports(true, true, false, false) },
            saveResume: t =>
            {
                saves.Enqueue(t);
                return Task.CompletedTask;
            });
        var t = await h.AddSeedAsync(); // started at 0 s: its resume data is right as of now
        await h.TickAsync(3);
        await h.Engine.Loop.InvokeAsync(() => t.UploadedBefore += 16 * 1024); // payload moved at 3 s
        await h.TickAsync(); // 4 s: looked at, the save is due at 10 s
        long ticks = h.Engine.TorrentTicks;

        await h.TickAsync(5); // 9 s
        Assert.Empty(saves);
        Assert.Equal(ticks, h.Engine.TorrentTicks); // not ticked while it waits
        await h.TickAsync(); // 10 s
        Assert.Same(t, Assert.Single(saves));

        await h.TickAsync(30);
        Assert.Single(saves);
        Assert.Equal(ticks + 1, h.Engine.TorrentTicks);
    }

    [Fact]
    public async Task A_torrent_with_a_peer_is_ticked_rechoked_and_saved_and_goes_idle_when_the_peer_leaves()
    {
        var saves = new ConcurrentQueue<Torrent>();
        // TCP only: a dial to the departed leecher over uTP would wait out its SYN timeout (3 s) on the manual clock.
        await using var h = await EngineHarness.StartAsync(new EngineConfig { ResumeSaveInterval = TimeSpan.FromSeconds(10), Transports = new PeerTransports(true, true, false, false) },
            saveResume: t =>
            {
                saves.Enqueue(t);
                return Task.CompletedTask;
            });
        var meta = h.NewTorrent(2_000_000);
        var seed = await h.Engine.AddAsync(meta, new TorrentOptions { SavePath = h.Root });
        var leecherDir = Path.Combine(h.Root, "leecher");
        var leecher = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            new ClientEngineOptions { Catalog = new TestCatalog() });
        try
        {
            await leecher.StartAsync();
            // Slow (its own clock is real), so it stays connected and interested while the seed's clock is moved.
            await leecher.AddAsync(meta, new TorrentOptions
            {
                SavePath = leecherDir,
                DownloadLimit = 16 * 1024,
                Peers = [new IPEndPoint(IPAddress.Loopback, h.Engine.ListenPort)],
            });
            await UntilAsync(h, seed, s => s.PeersGettingFromUs == 1 && s.Uploaded > 0, "the leecher downloading");

            long ticks = h.Engine.TorrentTicks;
            int rechokes = await h.Engine.Loop.InvokeAsync(() => seed.Rechokes);
            await h.TickAsync(25);
            Assert.True(h.Engine.TorrentTicks - ticks >= 25, $"ticked {h.Engine.TorrentTicks - ticks} times in 25 s");
            Assert.True(await h.Engine.Loop.InvokeAsync(() => seed.Rechokes) - rechokes >= 2);
            Assert.Equal(1, (await h.SnapshotAsync(seed)).PeersGettingFromUs); // still unchoked
            await TestWait.UntilAsync(() => saves.Contains(seed), "a resume save of the payload sent");

            await leecher.DisposeAsync();
            await UntilAsync(h, seed, s => s.PeersConnected == 0, "the leecher gone");
            await h.TickAsync(6); // rates decay to 0 within the 5-second window; a last save may be scheduled
            await h.TickAsync(15);
            Assert.Equal(0, h.Engine.TickListCount);
            ticks = h.Engine.TorrentTicks;
            await h.TickAsync(30);
            Assert.Equal(ticks, h.Engine.TorrentTicks);
            var idle = await h.SnapshotAsync(seed);
            Assert.Equal((0, 0), (idle.UploadRate, idle.DownloadRate));
        }
        finally
        {
            await leecher.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_known_peer_that_failed_is_tried_again_when_its_backoff_ends_without_ticking_meanwhile()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync();
        await h.TickAsync(2);
        // A peer nobody listens on: the attempt fails and backs off 5 s.
        var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await t.AddPeerAsync(new IPEndPoint(IPAddress.Loopback, port));
        var deadline = DateTime.UtcNow + TestWait.Limit;
        while (await h.Engine.Loop.InvokeAsync(() => t.ConnectionCount) > 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Gave up waiting for: the attempt to fail");
            await Task.Delay(10);
        }
        await h.TickAsync(); // off the tick list, woken when the backoff ends
        Assert.Equal(0, h.Engine.TickListCount);
        long ticks = h.Engine.TorrentTicks;
        await h.TickAsync(3);
        Assert.Equal(ticks, h.Engine.TorrentTicks);
        await h.TickAsync(3); // the backoff (5 s) ended: woken, it tries again
        Assert.True(h.Engine.TorrentTicks > ticks);
    }

    private static async Task UntilAsync(EngineHarness h, Torrent t, Func<TorrentSnapshot, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TestWait.Limit;
        while (!condition(await h.SnapshotAsync(t)))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Gave up waiting for: {what} ({await h.SnapshotAsync(t)})");
            await Task.Delay(20);
        }
    }
}
