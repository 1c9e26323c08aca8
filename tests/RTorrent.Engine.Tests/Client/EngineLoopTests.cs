using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The loop on its own: work runs on its one thread in order, a throwing callback does not stop it, awaits resume on
/// it, and once disposed nobody waits on it (queued and later work fails with <see cref="ObjectDisposedException"/>).
/// Waits are bounded only so that a hang fails the test instead of the run; nothing asserts how long anything took.
/// </summary>
public class EngineLoopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Work_runs_on_the_loop_thread_in_the_order_posted()
    {
        using var loop = new EngineLoop("test-loop");
        var seen = new List<int>();
        Thread? thread = null;
        for (int i = 0; i < 100; i++)
        {
            int n = i;
            loop.Post(() =>
            {
                thread ??= Thread.CurrentThread;
                Assert.True(loop.IsOnLoop);
                seen.Add(n);
            });
        }
        int count = await loop.InvokeAsync(() => seen.Count).WaitAsync(Bound);
        Assert.Equal(100, count);
        Assert.Equal(Enumerable.Range(0, 100), seen);
        Assert.Equal("test-loop", thread!.Name);
        Assert.False(loop.IsOnLoop);
    }

    [Fact]
    public async Task InvokeAsync_returns_the_result_or_the_exception_of_the_function()
    {
        using var loop = new EngineLoop();
        Assert.Equal(42, await loop.InvokeAsync(() => 42).WaitAsync(Bound));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.InvokeAsync(() => throw new InvalidOperationException("boom")).WaitAsync(Bound));
        Assert.Equal("boom", e.Message);
        // Called on the loop it runs at once instead of queueing behind the caller (which would deadlock an await).
        bool inline = await loop.InvokeAsync(() => loop.InvokeAsync(() => true).IsCompleted).WaitAsync(Bound);
        Assert.True(inline);
    }

    [Fact]
    public async Task A_throwing_callback_is_reported_and_the_loop_keeps_running()
    {
        using var loop = new EngineLoop();
        var reported = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.UnhandledException += e => reported.TrySetResult(e);
        loop.Post(() => throw new FormatException("bad callback"));
        var e = await reported.Task.WaitAsync(Bound);
        Assert.Equal("bad callback", e.Message);
        Assert.Equal(7, await loop.InvokeAsync(() => 7).WaitAsync(Bound));
    }

    [Fact]
    public async Task Awaits_inside_RunAsync_resume_on_the_loop()
    {
        using var loop = new EngineLoop();
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = loop.RunAsync(async () =>
        {
            await later.Task;
            return loop.IsOnLoop;
        });
        _ = Task.Run(() => later.SetResult());
        Assert.True(await run.WaitAsync(Bound));
    }

    [Fact]
    public async Task After_dispose_InvokeAsync_and_RunAsync_fail_at_once()
    {
        var loop = new EngineLoop();
        Assert.Equal(1, await loop.InvokeAsync(() => 1).WaitAsync(Bound));
        loop.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => loop.InvokeAsync(() => 2).WaitAsync(Bound));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => loop.InvokeAsync(() => { }).WaitAsync(Bound));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => loop.RunAsync(() => Task.FromResult(3)).WaitAsync(Bound));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => loop.RunAsync(() => Task.CompletedTask).WaitAsync(Bound));
        loop.Post(() => Assert.Fail("a disposed loop runs nothing")); // dropped: nobody to tell
        loop.Dispose(); // twice is harmless
    }

    [Fact]
    public async Task Work_queued_when_the_loop_is_disposed_fails_instead_of_hanging()
    {
        var loop = new EngineLoop();
        var gate = new ManualResetEventSlim();
        var ran = new List<string>();
        loop.Post(() => gate.Wait()); // holds the loop while the rest queues behind it
        var disposing = loop.InvokeAsync(() =>
        {
            ran.Add("dispose");
            loop.Dispose();
        });
        var queued = loop.InvokeAsync(() =>
        {
            ran.Add("queued");
            return 1;
        });
        loop.Post(() => ran.Add("posted"));
        gate.Set();

        await disposing.WaitAsync(Bound); // the callback that disposed it ran to its end
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queued.WaitAsync(Bound));
        Assert.Equal(["dispose"], ran);
    }

    [Fact]
    public async Task A_RunAsync_waiting_inside_when_the_loop_is_disposed_fails_instead_of_hanging()
    {
        var loop = new EngineLoop();
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool resumed = false;
        var run = loop.RunAsync(async () =>
        {
            inside.SetResult();
            await later.Task; // its continuation is a post the disposed loop never runs
            resumed = true;
        });
        await inside.Task.WaitAsync(Bound);
        loop.Dispose();
        later.SetResult();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => run.WaitAsync(Bound));
        Assert.False(resumed);
    }
}
