using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Memory is given back after the heap grew, once a minute at most looked at, never twice within the gap.</summary>
public class HeapTrimmerTests
{
    [Fact]
    public void Trims_after_growth_not_while_the_heap_stays_the_same_and_not_twice_within_the_gap()
    {
        var time = new ManualTimeProvider();
        long committed = 10L * 1024 * 1024;
        int collections = 0;
        using var trimmer = new HeapTrimmer(time, NullLogger.Instance, () => committed, () => { collections++; committed -= 50L * 1024 * 1024; });

        time.Advance(HeapTrimmer.Period);
        Assert.Equal(0, collections); // 10 MiB: nothing to give back

        committed = 200L * 1024 * 1024; // a burst
        time.Advance(HeapTrimmer.Period);
        Assert.Equal(1, collections);

        committed += HeapTrimmer.Growth; // grew again, but within the gap
        time.Advance(HeapTrimmer.Period);
        Assert.Equal(1, collections);

        time.Advance(HeapTrimmer.MinimumGap);
        Assert.Equal(2, collections);

        // Idle: the same size as after the last trim, for an hour.
        for (int i = 0; i < 60; i++) time.Advance(HeapTrimmer.Period);
        Assert.Equal(2, collections);
    }
}
