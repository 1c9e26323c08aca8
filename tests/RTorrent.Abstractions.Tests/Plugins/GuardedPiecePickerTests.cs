using RTorrent.Engine.Plugins;
using RTorrent.Plugins.Conformance;

namespace RTorrent.Abstractions.Tests.Plugins;

public sealed class GuardedPiecePickerTests(LoadedFaultyComponents plugins) : IClassFixture<LoadedFaultyComponents>
{
    private readonly BuiltIns.FirstWantedPicker _fallback = new();

    private GuardedPiecePicker Guard(string name, PluginGuardOptions? options = null, TimeProvider? time = null) =>
        GuardedPiecePicker.Create(plugins.Picker(name), name, Swarms.Context(), _fallback, options, time);

    [Theory]
    [InlineData("throwing-picker", "threw NullReferenceException: picker bug")]
    [InlineData("out-of-range-picker", "returned piece 2147483647, out of range (the torrent has 10 pieces)")]
    [InlineData("not-had-picker", "returned piece 5, which the peer does not have")]
    [InlineData("duplicate-picker", "returned piece 2 twice")]
    [InlineData("overflow-picker", "returned a count of 9 for room for 8 pieces")]
    public void A_faulty_picker_is_disabled_at_once_and_the_fallback_answers(string name, string reason)
    {
        var guard = Guard(name);
        ComponentFault? raised = null;
        guard.Disabled += (_, f) => raised = f;
        var (swarm, peer) = Swarms.Small();
        var ranked = new int[8];

        var count = guard.RankPieces(swarm, peer, ranked);

        Assert.True(guard.IsDisabled);
        Assert.NotNull(raised);
        Assert.Same(raised, guard.Fault);
        Assert.Equal(ComponentKind.Picker, raised.Kind);
        Assert.Equal(name, raised.ComponentName);
        Assert.Contains(reason, raised.Reason);
        // The fallback's valid answer was used for this very call, and for the next ones.
        Assert.Equal(1, _fallback.Calls);
        Assert.Null(PickerConformance.CheckRanking(swarm, peer, ranked, count));
        Assert.Equal([2, 3, 4, 6, 7, 8], ranked[..count]);
        guard.RankPieces(swarm, peer, ranked);
        Assert.Equal(2, _fallback.Calls);
    }

    [Fact]
    public void A_picker_whose_factory_throws_starts_disabled()
    {
        var guard = Guard("throwing-factory-picker");

        Assert.True(guard.IsDisabled);
        Assert.Contains("could not be created: InvalidOperationException: cannot create", guard.Fault!.Reason);
        var (swarm, peer) = Swarms.Small();
        Assert.Equal(6, guard.RankPieces(swarm, peer, new int[8]));
    }

    [Fact]
    public void A_picker_returning_a_piece_we_have_or_skipped_is_disabled()
    {
        var (swarm, peer) = Swarms.Small();
        var had = new GuardedPiecePicker(new FixedPicker(2, 0), _fallback, "had");
        had.RankPieces(swarm, peer, new int[4]);
        Assert.Contains("returned piece 0, which we already have", had.Fault!.Reason);

        var skipped = new GuardedPiecePicker(new FixedPicker(9), _fallback, "skipped");
        skipped.RankPieces(swarm, peer, new int[4]);
        Assert.Contains("returned piece 9, which is not wanted", skipped.Fault!.Reason);
    }

    [Fact]
    public void A_correct_picker_stays_enabled_and_its_ranking_is_used()
    {
        var (swarm, peer) = Swarms.Small();
        var guard = new GuardedPiecePicker(new FixedPicker(8, 3, 2), _fallback, "fine");
        var ranked = new int[4];

        for (var i = 0; i < 5; i++) Assert.Equal(3, guard.RankPieces(swarm, peer, ranked));

        Assert.False(guard.IsDisabled);
        Assert.Equal([8, 3, 2], ranked[..3]);
        Assert.Equal(0, _fallback.Calls);
    }

    [Fact]
    public void Slow_calls_disable_the_picker_after_the_allowed_number_and_a_hanging_call_at_once()
    {
        var time = new ManualTime();
        var options = new PluginGuardOptions { PickerCallBudget = TimeSpan.FromMilliseconds(50), PickerMaxSlowCalls = 3, PickerHangBudget = TimeSpan.FromSeconds(1) };
        var (swarm, peer) = Swarms.Small();
        var slow = new SlowPicker(time, TimeSpan.FromMilliseconds(80));
        var guard = new GuardedPiecePicker(slow, _fallback, "slow", options, time);

        guard.RankPieces(swarm, peer, new int[4]);
        guard.RankPieces(swarm, peer, new int[4]);
        Assert.False(guard.IsDisabled);
        var ranked = new int[4];
        Assert.Equal(1, guard.RankPieces(swarm, peer, ranked)); // the third slow call's valid ranking is still used
        Assert.Equal(2, ranked[0]);
        Assert.True(guard.IsDisabled);
        Assert.Contains("too slow: 3 calls over 50 ms (the last took 80 ms)", guard.Fault!.Reason);

        var hanging = new GuardedPiecePicker(new SlowPicker(time, TimeSpan.FromSeconds(5)), _fallback, "hanging", options, time);
        hanging.RankPieces(swarm, peer, new int[4]);
        Assert.Contains("took 5000 ms for one call (limit 1000 ms)", hanging.Fault!.Reason);
    }

    [Fact]
    public void The_duplicate_check_forgets_each_call()
    {
        // The same piece in consecutive calls is fine; only a repeat within one ranking is a fault.
        var (swarm, peer) = Swarms.Small();
        var guard = new GuardedPiecePicker(new FixedPicker(4), _fallback, "same");
        for (var i = 0; i < 3; i++) guard.RankPieces(swarm, peer, new int[2]);
        Assert.False(guard.IsDisabled);
    }

    private sealed class FixedPicker(params int[] pieces) : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            pieces.CopyTo(ranked);
            return pieces.Length;
        }
    }

    private sealed class SlowPicker(ManualTime time, TimeSpan duration) : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            time.Advance(duration);
            ranked[0] = 2;
            return 1;
        }
    }
}
