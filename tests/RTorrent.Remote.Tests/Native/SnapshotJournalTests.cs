using RTorrent.Engine.Client;
using RTorrent.Remote.Native;
using RTorrent.Remote.Tests.Infrastructure;

namespace RTorrent.Remote.Tests.Native;

/// <summary>Change tracking between snapshots: versions, changes and removals since a version, and shared snapshots.</summary>
public class SnapshotJournalTests
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(200);

    private static (FakeBackend Backend, ManualClock Clock, SnapshotJournal Journal) Make()
    {
        var backend = new FakeBackend();
        var clock = new ManualClock();
        return (backend, clock, new SnapshotJournal(backend, clock, MaxAge));
    }

    /// <summary>A fresh snapshot: moves the clock past MaxAge first.</summary>
    private static Task<SnapshotJournal.View> NextAsync(SnapshotJournal journal, ManualClock clock, TimeSpan? wait = null)
    {
        clock.Advance(wait ?? MaxAge);
        return journal.GetAsync();
    }

    [Fact]
    public async Task Each_snapshot_taken_gets_the_next_version_and_everything_is_new_at_first()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b"));
        var v1 = await journal.GetAsync();
        Assert.Equal(1, v1.Version);
        Assert.Equal(journal.Instance, v1.Instance);
        Assert.Equal(clock.GetUtcNow(), v1.TakenAt);
        Assert.Equal(["a", "b"], v1.ChangedSince(0).Order());
        Assert.Empty(v1.RemovedSince(0));
        Assert.Equal(2, v1.Session.Torrents.Count);

        var v2 = await NextAsync(journal, clock);
        Assert.Equal(2, v2.Version);
        Assert.Empty(v2.ChangedSince(1));
        Assert.Equal(["a", "b"], v2.ChangedSince(0).Order());
        Assert.Equal(2, backend.Snapshots);
    }

    [Fact]
    public async Task An_unchanged_session_builds_no_new_change_list_and_a_change_does()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b"));
        var v1 = await journal.GetAsync();
        var v2 = await NextAsync(journal, clock); // the same instances: the engine's cached snapshots of idle torrents
        Assert.True(v2.SharesChangesWith(v1));
        Assert.Empty(v2.ChangedSince(1));
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b")); // equal, new instances: still no change
        var v3 = await NextAsync(journal, clock);
        Assert.True(v3.SharesChangesWith(v1));
        backend.Replace(FakeBackend.Torrent("b", downloaded: 7));
        var v4 = await NextAsync(journal, clock);
        Assert.False(v4.SharesChangesWith(v3));
        Assert.Equal(["b"], v4.ChangedSince(3));
        backend.Remove("a");
        var v5 = await NextAsync(journal, clock);
        Assert.False(v5.SharesChangesWith(v4));
        Assert.Equal(["a"], v5.RemovedSince(4));
        Assert.Equal(["b"], v5.ChangedSince(0));
    }

    [Fact]
    public async Task Only_torrents_whose_snapshot_differs_count_as_changed()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b"), FakeBackend.Torrent("c"));
        await journal.GetAsync();
        // An equal snapshot in a new instance is no change; another value is.
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b", downloaded: 5), FakeBackend.Torrent("c"));
        var v2 = await NextAsync(journal, clock);
        Assert.Equal(["b"], v2.ChangedSince(1));
        backend.Replace(FakeBackend.Torrent("c", state: TorrentState.Downloading));
        var v3 = await NextAsync(journal, clock);
        Assert.Equal(["c"], v3.ChangedSince(2));
        Assert.Equal(["b", "c"], v3.ChangedSince(1).Order());
        Assert.Empty(v3.ChangedSince(3));
    }

    [Fact]
    public async Task New_and_removed_torrents_show_up_since_the_version_before_them()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b"));
        await journal.GetAsync();
        backend.Remove("a");
        var v2 = await NextAsync(journal, clock);
        Assert.Equal(["a"], v2.RemovedSince(1));
        Assert.Empty(v2.ChangedSince(1));
        Assert.Empty(v2.RemovedSince(2));
        backend.Set(FakeBackend.Torrent("b"), FakeBackend.Torrent("c"));
        var v3 = await NextAsync(journal, clock);
        Assert.Equal(["c"], v3.ChangedSince(2));
        Assert.Empty(v3.RemovedSince(2));
        Assert.Equal(["a"], v3.RemovedSince(1));
        Assert.Equal(["c"], v3.ChangedSince(1));
    }

    [Fact]
    public async Task One_torrent_going_as_another_comes_is_seen_as_both()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b"));
        await journal.GetAsync();
        backend.Set(FakeBackend.Torrent("b"), FakeBackend.Torrent("c"));
        var v2 = await NextAsync(journal, clock);
        Assert.Equal(["a"], v2.RemovedSince(1));
        Assert.Equal(["c"], v2.ChangedSince(1));
    }

    [Fact]
    public async Task A_torrent_removed_and_added_again_is_both_removed_and_changed_for_an_older_client()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"));
        await journal.GetAsync();
        backend.Set();
        await NextAsync(journal, clock);
        backend.Set(FakeBackend.Torrent("a"));
        var v3 = await NextAsync(journal, clock);
        Assert.Equal(["a"], v3.RemovedSince(1));
        Assert.Equal(["a"], v3.ChangedSince(1));
        Assert.Equal(["a"], v3.ChangedSince(2));
        Assert.Empty(v3.RemovedSince(2));
    }

    [Fact]
    public async Task Deltas_are_answered_only_for_this_run_and_known_versions()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"));
        await journal.GetAsync();
        var v2 = await NextAsync(journal, clock);
        Assert.True(v2.CanAnswerSince(journal.Instance, 1));
        Assert.True(v2.CanAnswerSince(journal.Instance, 2));
        Assert.False(v2.CanAnswerSince(journal.Instance, 0));    // a first request
        Assert.False(v2.CanAnswerSince(journal.Instance, 3));    // a version this run never gave
        Assert.False(v2.CanAnswerSince(journal.Instance, -1));
        Assert.False(v2.CanAnswerSince(null, 1));
        Assert.False(v2.CanAnswerSince(new SnapshotJournal(backend, clock).Instance, 1)); // another run
        Assert.NotEqual(journal.Instance, new SnapshotJournal(backend, clock).Instance);
    }

    [Fact]
    public async Task A_client_older_than_the_removals_remembered_gets_the_whole_list()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b"));
        await journal.GetAsync();                                   // v1
        backend.Remove("a");
        var v2 = await NextAsync(journal, clock);                   // v2: a removed
        Assert.True(v2.CanAnswerSince(journal.Instance, 1));

        // Within the memory the removal is still told.
        var v3 = await NextAsync(journal, clock, SnapshotJournal.RemovalMemory - MaxAge);
        Assert.True(v3.CanAnswerSince(journal.Instance, 1));
        Assert.Equal(["a"], v3.RemovedSince(1));

        // Past it, the removal is forgotten: a client from before it must start over, later ones carry on.
        var v4 = await NextAsync(journal, clock, MaxAge + TimeSpan.FromSeconds(1));
        Assert.Empty(v4.RemovedSince(0));
        Assert.False(v4.CanAnswerSince(journal.Instance, 1));
        Assert.True(v4.CanAnswerSince(journal.Instance, 2));
        Assert.True(v4.CanAnswerSince(journal.Instance, 3));
    }

    [Fact]
    public async Task Recently_active_means_changed_or_removed_within_the_window()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"), FakeBackend.Torrent("b"), FakeBackend.Torrent("c"));
        await journal.GetAsync();                                   // t = 0: all new
        clock.Advance(TimeSpan.FromSeconds(30));
        backend.Replace(FakeBackend.Torrent("b", downloaded: 1));
        await journal.GetAsync();                                   // t = 30 s: b changed
        clock.Advance(TimeSpan.FromSeconds(30));
        backend.Remove("c");
        var view = await journal.GetAsync();                        // t = 60 s: c removed

        Assert.Empty(view.ChangedWithin(TimeSpan.FromSeconds(29)));
        Assert.Equal(["b"], view.ChangedWithin(TimeSpan.FromSeconds(30)));
        Assert.Equal(["a", "b"], view.ChangedWithin(TimeSpan.FromSeconds(60)).Order());
        Assert.Equal(["c"], view.RemovedWithin(TimeSpan.Zero));
        Assert.Equal(["c"], view.RemovedWithin(TimeSpan.FromSeconds(60)));

        clock.Advance(TimeSpan.FromSeconds(61));
        var later = await journal.GetAsync();
        Assert.Empty(later.RemovedWithin(TimeSpan.FromSeconds(60)));
        Assert.Empty(later.ChangedWithin(TimeSpan.FromSeconds(60)));
        Assert.Equal(["b"], later.ChangedWithin(TimeSpan.FromSeconds(91)));
    }

    [Fact]
    public async Task Callers_within_MaxAge_share_one_snapshot()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"));
        var first = await journal.GetAsync();
        clock.Advance(MaxAge - TimeSpan.FromTicks(1));
        Assert.Same(first, await journal.GetAsync());
        Assert.Equal(1, backend.Snapshots);
        clock.Advance(TimeSpan.FromTicks(1));
        var second = await journal.GetAsync();
        Assert.NotSame(first, second);
        Assert.Equal(2, backend.Snapshots);
    }

    [Fact]
    public async Task Concurrent_callers_wait_for_the_snapshot_under_way_instead_of_taking_their_own()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"));
        backend.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = backend.SnapshotAsked.Task;
        var callers = Enumerable.Range(0, 8).Select(_ => Task.Run(() => journal.GetAsync())).ToArray();
        await asked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(callers, c => Assert.False(c.IsCompleted));
        backend.Gate.SetResult();
        var views = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, backend.Snapshots);
        Assert.All(views, v => Assert.Same(views[0], v));
        Assert.Equal(1, views[0].Version);
    }

    [Fact]
    public async Task A_cancelled_caller_does_not_break_the_journal()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"));
        backend.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();
        var asked = backend.SnapshotAsked.Task;
        var cancelled = journal.GetAsync(cts.Token);
        await asked.WaitAsync(TimeSpan.FromSeconds(10));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(10)));
        backend.Gate = null;
        var view = await journal.GetAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, view.Version);
        Assert.Equal(["a"], view.ChangedSince(0));
    }

    [Fact]
    public async Task Invalidate_makes_the_next_request_take_a_new_snapshot_and_one_taken_across_it_is_not_shared()
    {
        var (backend, clock, journal) = Make();
        backend.Set(FakeBackend.Torrent("a"));
        var v1 = await journal.GetAsync();
        Assert.Same(v1, await journal.GetAsync()); // fresh: shared
        journal.Invalidate();
        var v2 = await journal.GetAsync();
        Assert.Equal(2, v2.Version);

        // A snapshot under way when a change is made may miss it: its caller gets it, the next caller a new one.
        clock.Advance(MaxAge);
        backend.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = backend.SnapshotAsked;
        var during = journal.GetAsync();
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        journal.Invalidate();
        backend.Gate.SetResult();
        var v3 = await during.WaitAsync(TimeSpan.FromSeconds(10));
        backend.Gate = null;
        var v4 = await journal.GetAsync();
        Assert.Equal((3L, 4L), (v3.Version, v4.Version));
        Assert.Same(v4, await journal.GetAsync());
    }
}
