using RTorrent.Tui;
using RTorrent.Engine.Client;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Time;

namespace RTorrent.Tests.Tui;

/// <summary>
/// The loop waits for work instead of iterating 25 times a second: short waits while keys arrive, long ones when idle,
/// woken by input and by anything queued onto the loop; and a lone Esc is the Esc key without the parser's 50 ms wait.
/// </summary>
[Collection(TuiCollection.Name)]
public class LoopPacingTests
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;

    [Fact]
    public void Waits_are_short_while_keys_arrive_and_go_back_up_once_idle()
    {
        Assert.Equal(LoopPacer.ActiveWait, LoopPacer.WaitFor(TimeSpan.Zero, null));
        Assert.Equal(LoopPacer.ActiveWait, LoopPacer.WaitFor(LoopPacer.ActiveSpan - TimeSpan.FromMilliseconds(1), null));
        Assert.Equal(LoopPacer.IdleWait, LoopPacer.WaitFor(LoopPacer.ActiveSpan, null));
        Assert.Equal(LoopPacer.IdleWait, LoopPacer.WaitFor(Never, null));
        Assert.True(LoopPacer.IdleWait >= TimeSpan.FromMilliseconds(200), "idle waits must be long, or idle CPU comes back");
        Assert.True(LoopPacer.ActiveWait <= TimeSpan.FromMilliseconds(10), "while typing, keys must not wait for the loop");
    }

    [Fact]
    public void A_timer_due_before_the_cap_shortens_the_wait_and_one_due_now_all_but_ends_it()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(101), LoopPacer.WaitFor(Never, TimeSpan.FromMilliseconds(100)));
        // Never zero: a timer that is always due must not spin the loop.
        Assert.Equal(LoopPacer.MinimumWait, LoopPacer.WaitFor(Never, TimeSpan.Zero));
        Assert.Equal(LoopPacer.MinimumWait, LoopPacer.WaitFor(TimeSpan.Zero, TimeSpan.Zero));
        Assert.True(LoopPacer.MinimumWait > TimeSpan.Zero);
        Assert.Equal(LoopPacer.IdleWait, LoopPacer.WaitFor(Never, TimeSpan.FromSeconds(5)));
        Assert.Equal(LoopPacer.ActiveWait, LoopPacer.WaitFor(TimeSpan.Zero, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public void Input_makes_the_loop_active_and_ends_its_wait()
    {
        using var pacer = new LoopPacer(() => null);
        Assert.Equal(LoopPacer.IdleWait, pacer.NextWait());
        pacer.InputArrived();
        Assert.Equal(LoopPacer.ActiveWait, pacer.NextWait());
        Assert.True(pacer.BeforeIteration(), "the wait should end because of the key");
        // Nothing more arrived: this one runs out.
        Assert.False(pacer.BeforeIteration());
    }

    [Fact]
    public void Work_queued_onto_the_loop_from_another_thread_ends_its_wait_and_detaching_restores_the_rate()
    {
        ushort rate = Application.MaximumIterationsPerSecond;
        using IApplication app = Application.Create(new VirtualTimeProvider());
        app.Init(DriverRegistry.Names.ANSI);
        using var pacer = new LoopPacer(() => null);
        using (pacer.Attach(app))
        {
            // Terminal.Gui must not sleep after an iteration on its own: the pacer decides.
            Assert.True(Application.MaximumIterationsPerSecond > 1000);
            OnAnotherThread(() => app.AddTimeout(TimeSpan.FromHours(1), () => false));
            Assert.True(pacer.BeforeIteration(), "a timer added by another thread should wake the loop");
            OnAnotherThread(() => app.Invoke(() => { }));
            Assert.True(pacer.BeforeIteration(), "Invoke from another thread should wake the loop");
            // On the loop's own thread (a timer re-armed as it runs) there is no wait to end: no extra iteration.
            app.AddTimeout(TimeSpan.FromHours(1), () => false);
            Assert.False(pacer.BeforeIteration());
        }
        Assert.Equal(rate, Application.MaximumIterationsPerSecond);
    }

    private static void OnAnotherThread(Action action)
    {
        var thread = new Thread(() => action());
        thread.Start();
        thread.Join();
    }

    [Fact]
    public void The_next_timer_is_read_from_the_loop()
    {
        using IApplication app = Application.Create(new VirtualTimeProvider());
        app.Init(DriverRegistry.Names.ANSI);
        Assert.Null(LoopPacer.NextTimer(app.TimedEvents));
        app.AddTimeout(TimeSpan.FromSeconds(30), () => false);
        TimeSpan? next = LoopPacer.NextTimer(app.TimedEvents);
        Assert.NotNull(next);
        Assert.InRange(next.Value, TimeSpan.FromSeconds(29), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void An_attached_pacer_waits_no_longer_than_the_loops_next_timer()
    {
        using IApplication app = Application.Create(new VirtualTimeProvider());
        app.Init(DriverRegistry.Names.ANSI);
        using var pacer = new LoopPacer();
        app.AddTimeout(TimeSpan.FromMilliseconds(100), () => false);
        Assert.Equal(LoopPacer.IdleWait, pacer.NextWait());
        using (pacer.Attach(app))
            Assert.InRange(pacer.NextWait(), TimeSpan.FromMilliseconds(90), TimeSpan.FromMilliseconds(102));
        Assert.Equal(LoopPacer.IdleWait, pacer.NextWait());
    }

    [Fact]
    public void This_Terminal_Gui_lets_the_interface_bring_its_own_input_reader()
    {
        // If a Terminal.Gui update removes the internal constructor, the interface still runs (on Terminal.Gui's own
        // loop) but idle CPU and key latency go back up: this test says so.
        using IApplication? app = PacedTerminal.TryCreate(() => { });
        Assert.NotNull(app);
        app.Init();
        Assert.Equal(DriverRegistry.Names.ANSI, app.Driver!.GetName());
    }

    [Fact]
    public void A_lone_Esc_followed_by_nothing_is_the_Esc_key()
    {
        Assert.Equal(PacedAnsiInput.EscapeKey, PacedAnsiInput.Translate("\u001b", _ => false));
        // More follows at once: the start of a sequence (or Alt+key), left to the parser.
        Assert.Equal("\u001b", PacedAnsiInput.Translate("\u001b", _ => true));
        Assert.Equal("\u001b[A", PacedAnsiInput.Translate("\u001b[A", _ => false));
        Assert.Equal("q", PacedAnsiInput.Translate("q", _ => false));
        Assert.Equal("\u001bq", PacedAnsiInput.Translate("\u001bq", _ => false));
    }

    [Fact]
    public void The_parser_takes_the_rewritten_Esc_as_the_Esc_key_at_once()
    {
        using IApplication app = Application.Create(new VirtualTimeProvider());
        app.Init(DriverRegistry.Names.ANSI);
        var keys = new List<Key>();
        app.Keyboard.KeyDown += (_, k) => keys.Add(k);
        var input = (InputProcessorImpl<char>)app.Driver!.GetInputProcessor();
        foreach (char c in PacedAnsiInput.EscapeKey) input.InputQueue.Enqueue(c);
        // One pass, with no time passing: a plain Esc byte would still be held here.
        input.ProcessQueue();
        Assert.Contains(keys, k => k == Key.Esc);
    }
}

/// <summary>The 2 Hz refresh costs (almost) nothing when nothing changed: no relabel, no redraw.</summary>
[Collection(TuiCollection.Name)]
public class IdleRefreshTests
{
    private static bool NeedsDraw(Terminal.Gui.ViewBase.View view) => view.NeedsDraw || view.SubViews.Any(NeedsDraw);

    [Fact]
    public void A_refresh_that_changes_nothing_marks_nothing_for_drawing()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        h.Refresh();
        Assert.False(NeedsDraw(h.Window));

        h.Window.RefreshNow();

        Assert.False(h.Window.StatusLineView.NeedsDraw, "unchanged status text must not relabel the status line");
        Assert.False(h.Window.TitleLineView.NeedsDraw, "unchanged title must not relabel the title line");
        Assert.False(NeedsDraw(h.Window), "nothing changed, so nothing should be drawn");
    }

    [Fact]
    public void A_refresh_that_changes_the_rates_relabels_the_status_line_only_then()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        h.Refresh();
        string before = h.Window.StatusText;
        string id = h.Backend.Torrents[0].Id;
        h.Backend.Update(id, t => t with { DownloadRate = t.DownloadRate + (5 << 20) });

        h.Window.RefreshNow();

        Assert.NotEqual(before, h.Window.StatusText);
        Assert.True(h.Window.StatusLineView.NeedsDraw);
        Assert.False(h.Window.TitleLineView.NeedsDraw);
    }

    [Fact]
    public void A_refresh_that_changes_only_rows_off_screen_does_not_redraw_the_list()
    {
        using var h = new TuiHarness(new FakeBackend(100));
        h.Refresh();
        var rows = h.Window.List.Rows;
        Assert.True(h.Window.Table.PageRows < rows.Count);
        string offScreen = rows[^1].Id;
        h.Backend.Update(offScreen, t => t with { UploadRate = t.UploadRate + 1000 });

        h.Window.RefreshNow();

        Assert.False(h.Window.Table.NeedsDraw, "no row on screen changed");
        Assert.Same(h.Backend.Torrents.Single(t => t.Id == offScreen), h.Window.List.Rows[^1]);

        string onScreen = h.Window.List.Rows[h.Window.Table.Top + 1].Id;
        h.Backend.Update(onScreen, t => t with { UploadRate = t.UploadRate + 1000 });
        h.Window.RefreshNow();
        Assert.True(h.Window.Table.NeedsDraw, "a row on screen changed");
        h.Draw();
        Assert.Contains(h.Window.List.Rows[h.Window.Table.Top + 1].Name[..12], h.Screen);
    }

    /// <summary>Counts the list's lines formatted from now on: a line is formatted only when its row is drawn with a new snapshot.</summary>
    private static Func<long> CountLinesFormatted(TuiHarness h)
    {
        long start = h.Window.Table.LinesFormatted;
        return () => h.Window.Table.LinesFormatted - start;
    }

    // measure-tui.py's warm-up (Down/Up, then f/F) brought back a list redraw on every refresh with 5 of 1,000
    // torrents changing. Down/Up did not: f moves the cursor to the first downloading torrent, F keeps it there
    // when all torrents show again, so a torrent that changes every refresh is on screen and the redraw is due.
    [Fact]
    public void After_the_cursor_went_down_and_up_refreshes_that_change_rows_off_screen_draw_no_list()
    {
        using var h = new TuiHarness(new FakeBackend(1000, 5) { Animate = true });
        h.Refresh();
        for (int i = 0; i < 5; i++) h.Press(Key.CursorDown, Key.CursorUp);
        h.Refresh();
        Assert.DoesNotContain(h.Window.List.Rows.Skip(h.Window.Table.Top).Take(h.Window.Table.PageRows), t => t.UploadRate > 0);
        Func<long> cells = CountLinesFormatted(h);

        for (int i = 0; i < 5; i++)
        {
            h.Window.RefreshNow();
            h.App.LayoutAndDraw(false);
        }

        Assert.Equal(0, cells());
    }

    [Fact]
    public void After_the_state_filter_went_round_the_cursor_stays_on_a_changing_torrent_whose_changes_redraw_the_list()
    {
        using var h = new TuiHarness(new FakeBackend(1000, 5) { Animate = true });
        h.Refresh();
        h.Type("f");
        h.Type("F");
        Assert.Equal(StateFilter.All, h.Window.List.Filter);
        Assert.Equal(TorrentState.Downloading, h.Window.CurrentTorrent!.State);
        Func<long> cells = CountLinesFormatted(h);

        h.Window.RefreshNow();
        h.App.LayoutAndDraw(false);
        Assert.True(cells() > 0, "the torrent under the cursor changed, so the page is drawn again");

        h.Press(Key.Home);
        h.Refresh();
        long before = cells();
        for (int i = 0; i < 5; i++)
        {
            h.Window.RefreshNow();
            h.App.LayoutAndDraw(false);
        }
        Assert.Equal(before, cells());
    }

    [Fact]
    public void New_rates_in_the_status_line_redraw_that_line_and_not_the_list()
    {
        using var h = new TuiHarness(new FakeBackend(100));
        h.Refresh();
        Func<long> linesFormatted = CountLinesFormatted(h);
        string offScreen = h.Window.List.Rows[^1].Id;
        h.Backend.Update(offScreen, t => t with { UploadRate = t.UploadRate + (3 << 20) });
        string before = h.Window.StatusText;

        h.Window.RefreshNow();
        h.App.LayoutAndDraw(false); // what the loop does: draw what needs it

        Assert.NotEqual(before, h.Window.StatusText);
        Assert.Equal(0, linesFormatted());
        Assert.Contains(h.Window.StatusText.TrimEnd(), h.Screen);
        string onScreen = h.Window.List.Rows[h.Window.Table.Top].Id;
        h.Backend.Update(onScreen, t => t with { UploadRate = t.UploadRate + (3 << 20) });
        h.Window.RefreshNow();
        h.App.LayoutAndDraw(false);
        Assert.Equal(1, linesFormatted()); // the counter works: the one row on screen that changed, and only it
    }
}
