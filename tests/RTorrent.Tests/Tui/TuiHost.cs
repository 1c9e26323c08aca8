using System.Globalization;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

/// <summary>
/// The test assembly's entry point, for running the real interface over a <see cref="FakeBackend"/> in a real
/// terminal (by hand, or from the measurement harness in tmux). <c>dotnet test</c> does not use it.
/// </summary>
/// <remarks>
/// <c>dotnet tests/RTorrent.Tests/bin/Debug/net10.0/RTorrent.Tests.dll tui-fake [TORRENTS] [ACTIVE]</c> opens the
/// interface over that many fake torrents (ACTIVE of them change on every refresh);
/// <c>... tui-measure [TORRENTS]</c> runs the latency and idle-CPU measurement (see docs/PERFORMANCE.md);
/// <c>... tui-bench [TORRENTS] [WxH] [PRESSES]</c> times the interface's own work headless (<see cref="TuiBench"/>).
/// </remarks>
internal static class TuiHost
{
    public static async Task<int> Main(string[] args)
    {
        // The test assembly's module initializer turned real terminal I/O off for the headless tests; this is a real run.
        Environment.SetEnvironmentVariable("DisableRealDriverIO", null);
        if (args.Length > 0 && args[0] == "tui-fake")
        {
            int torrents = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
            int active = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
            var backend = new FakeBackend(torrents, active) { Animate = active > 0 };
            return await TuiApp.RunAsync(backend);
        }
        if (args.Length > 0 && args[0] == "tui-bare")
        {
            if (args.Length > 1) Terminal.Gui.App.Application.MaximumIterationsPerSecond = ushort.Parse(args[1], CultureInfo.InvariantCulture);
            using var app = Terminal.Gui.App.Application.Create().Init();
            var w = new Terminal.Gui.Views.Window { Title = "bare" };
            w.KeyDown += (_, k) => { if (k == Terminal.Gui.Input.Key.Q.WithCtrl) w.RequestStop(); };
            app.Run(w);
            w.Dispose();
            return 0;
        }
        if (args.Length > 0 && args[0] == "tui-bench")
        {
            Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
            return TuiBench.Run([.. args.Skip(1)]);
        }
        if (args.Length > 0 && args[0] == "tui-measure")
        {
            return await TuiMeasurement.RunAsync(args.Skip(1).ToArray());
        }
        await Console.Error.WriteLineAsync("usage: RTorrent.Tests.dll tui-fake [TORRENTS] [ACTIVE] | tui-measure [TORRENTS]");
        return 2;
    }
}
