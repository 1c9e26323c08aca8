using RTorrent.Abstractions;
using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// What a remote client reads and sets for many files or torrents at once: details and piece availability of several
/// torrents in one loop call, and several file priorities in one change.
/// </summary>
public class InspectionTests
{
    [Fact]
    public async Task Details_and_availability_of_several_torrents_come_in_their_order()
    {
        await using var h = await EngineHarness.StartAsync();
        var a = await h.AddSeedAsync(null, 40_000);
        var b = await h.AddSeedAsync(null, 10_000, 20_000);
        var details = await h.Engine.GetDetailsAsync([b, a]);
        Assert.Equal([b.InfoHash.ToHex(), a.InfoHash.ToHex()], details.Select(d => d.Summary.Id));
        Assert.Equal([2, 1], details.Select(d => d.Files.Count));
        var availability = await h.Engine.GetPieceAvailabilityAsync([a, b]);
        Assert.All(availability, x => Assert.All(x.Peers, n => Assert.Equal(-1, n))); // seeds: every piece had
        Assert.Equal(a.Metainfo!.PieceCount, availability[0].Peers.Count);
        Assert.Equal((0L, 0L), (availability[1].DesiredAvailable, availability[1].UncheckedBytes));
        Assert.Empty(await h.Engine.GetDetailsAsync([]));
    }

    [Fact]
    public async Task Several_file_priorities_change_at_once_and_a_bad_index_changes_none()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync(null, 10_000, 20_000, 30_000);
        await t.SetFilePrioritiesAsync([(0, Priority.High), (2, Priority.Skip)]);
        var files = (await h.Engine.GetDetailsAsync(t)).Files;
        Assert.Equal([Priority.High, Priority.Normal, Priority.Skip], files.Select(f => f.Priority));
        var s = await h.SnapshotAsync(t);
        Assert.Equal(30_000, s.Size);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => t.SetFilePrioritiesAsync([(1, Priority.Low), (3, Priority.Low)]));
        Assert.Equal(Priority.Normal, (await h.Engine.GetDetailsAsync(t)).Files[1].Priority);
    }
}
