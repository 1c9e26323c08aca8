using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Runs alone, after the parallel tests: it weighs the whole managed heap.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapWeighingCollection
{
    public const string Name = "heap weighing";
}

/// <summary>
/// Issue 13: an idle seeding torrent holds little memory (the target is under 20 KiB a torrent for the whole daemon,
/// so the engine's share must stay well under it). Weighed as live managed bytes after full collections, with the
/// metainfos made before the first weighing (their piece hashes are the torrent's own data).
/// </summary>
[Collection(HeapWeighingCollection.Name)]
public class IdleTorrentMemoryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Torrents = 400;

    [Fact]
    public async Task An_idle_seeding_torrent_holds_under_6_KiB_in_the_engine()
    {
        await using var h = await EngineHarness.StartAsync();
        var metas = new List<TorrentMetainfo>();
        for (int i = 0; i < Torrents; i++) metas.Add(h.NewTorrent(40_000, 10_000));
        var torrents = new List<Torrent>(Torrents);
        long before = Weigh();
        foreach (var meta in metas) torrents.Add(await h.Engine.AddAsync(meta, new TorrentOptions { SavePath = h.Root }));
        await h.TickAsync(3);
        _ = await h.Engine.GetSnapshotAsync(); // each torrent's snapshot is kept for the next poll: counted too
        long after = Weigh();
        long perTorrent = (after - before) / Torrents;
        output.WriteLine($"{perTorrent} bytes per idle seeding torrent");
        Assert.All(torrents, t => Assert.Equal(TorrentState.Seeding, t.State));
        Assert.InRange(perTorrent, 1, 6 * 1024);
        GC.KeepAlive(metas);
    }

    private static long Weigh()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
