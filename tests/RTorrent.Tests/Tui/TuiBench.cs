using System.Diagnostics;
using System.Globalization;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace RTorrent.Tests.Tui;

/// <summary>
/// Headless timing of the interface's own work (no terminal, no tmux): <c>RTorrent.Tests.dll tui-bench N WxH [PRESSES]</c>
/// times Down followed by the draw the loop would do, a refresh that changes a row on screen, and one that changes
/// nothing, over <see cref="FakeBackend"/> with N torrents. For profiling by hand; the tests never time anything.
/// </summary>
internal static class TuiBench
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        string[] size = (args.Length > 1 ? args[1] : "80x24").Split('x');
        int presses = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 400;
        int width = int.Parse(size[0], CultureInfo.InvariantCulture), height = int.Parse(size[1], CultureInfo.InvariantCulture);
        var backend = new FakeBackend(n, Math.Min(n, 50)) { Animate = false };
        using var h = new TuiHarness(backend, width, height);
        h.Refresh();

        double Time(Action step, int times)
        {
            for (int i = 0; i < Math.Min(times, 50); i++) step(); // warm-up
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < times; i++) step();
            return clock.Elapsed.TotalMilliseconds / times;
        }

        int down = 0;
        double key = Time(() =>
        {
            // Down and Up in turn keep the cursor on the first page.
            h.App.InjectKey(down++ % 2 == 0 ? Key.CursorDown : Key.CursorUp);
            h.App.LayoutAndDraw(false);
        }, presses);
        double page = Time(() =>
        {
            h.App.InjectKey(down++ % 2 == 0 ? Key.PageDown : Key.PageUp);
            h.App.LayoutAndDraw(false);
        }, presses);
        string onScreen = h.Window.List.Rows[h.Window.Table.Top + 1].Id;
        double changed = Time(() =>
        {
            backend.Update(onScreen, t => t with { UploadRate = t.UploadRate + 1000 });
            h.Window.RefreshNow();
            h.App.LayoutAndDraw(false);
        }, presses / 4);
        double same = Time(() =>
        {
            h.Window.RefreshNow();
            h.App.LayoutAndDraw(false);
        }, presses / 4);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{n} torrents {width}x{height}: Down/Up + draw {key:0.000} ms, PgDn/PgUp + draw {page:0.000} ms, refresh with a row on screen changed {changed:0.000} ms, refresh unchanged {same:0.000} ms"));
        return 0;
    }
}
