using RTorrent.Engine.Session;
using RTorrent.Tui;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Time;
using Terminal.Gui.Views;

namespace RTorrent.Tests.Tui;

/// <summary>
/// The interface on Terminal.Gui's headless driver: keys in, screen text out. The window is begun (not run), so each
/// injected key is handled synchronously; dialogs run their own nested loop and are driven from
/// <see cref="OnDialog"/>.
/// </summary>
internal sealed class TuiHarness : IDisposable
{
    private readonly SessionToken? _token;
    private readonly Queue<Action<Dialog>> _dialogActions = new();

    public TuiHarness(ITorrentBackend backend, int width = 80, int height = 24, TerminalProfile? profile = null, TuiOptions? options = null,
        bool runWatchFolder = false)
    {
        _fake = backend as FakeBackend ?? (backend as DelegatingBackend)?.Inner;
        Time = new ManualTime();
        VirtualTime = new VirtualTimeProvider();
        App = Application.Create(VirtualTime);
        App.Init(DriverRegistry.Names.ANSI);
        App.Driver!.SetScreenSize(width, height);
        Window = new MainWindow(App, backend, (options ?? new TuiOptions()) with { Time = Time, RunWatchFolder = runWatchFolder },
            profile ?? TerminalProfile.Monochrome);
        Window.DialogOpening += OnDialogOpening;
        _token = App.Begin(Window);
        Window.Start();
        Draw();
    }

    private readonly FakeBackend? _fake;

    /// <summary>The fake behind the interface (a test over several hosts keeps its own fakes).</summary>
    public FakeBackend Backend => _fake ?? throw new InvalidOperationException("The interface is not over one fake backend.");

    /// <summary>Lets the refresh timer run once (Terminal.Gui's clock moves a second).</summary>
    public void Tick()
    {
        VirtualTime.Advance(TimeSpan.FromSeconds(1));
        App.TimedEvents!.RunTimers();
        Draw();
    }
    public IApplication App { get; }
    public MainWindow Window { get; }
    public ManualTime Time { get; }

    /// <summary>Terminal.Gui's clock (timers, and what background work posts back): it moves only when a test moves it.</summary>
    public VirtualTimeProvider VirtualTime { get; }

    /// <summary>Dialogs opened, in order (their type names).</summary>
    public List<string> DialogsSeen { get; } = [];

    /// <summary>The screen as text, one line per row (trailing blanks removed).</summary>
    public string Screen
    {
        get
        {
            Draw();
            return string.Join('\n', App.Driver!.ToString()!.TrimEnd('\n').Split('\n').Select(l => l.TrimEnd()));
        }
    }

    /// <summary>The screen's rows.</summary>
    public string[] Rows => Screen.Split('\n');

    public void Draw() => App.LayoutAndDraw(true);

    /// <summary>Presses keys (each handled before the next).</summary>
    public void Press(params Key[] keys)
    {
        foreach (Key key in keys) App.InjectKey(key);
        Draw();
    }

    /// <summary>Types text, a key per character.</summary>
    public void Type(string text)
    {
        foreach (char c in text) App.InjectKey(new Key(c));
        Draw();
    }

    /// <summary>Runs what background work posted to the interface thread, until <paramref name="done"/> (bounded).</summary>
    public void PumpUntil(Func<bool> done, int timeoutMs = 10_000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("The interface did not get there in time.");
            VirtualTime.Advance(TimeSpan.FromMilliseconds(1));
            App.TimedEvents!.RunTimers();
            Draw();
            Thread.Sleep(5);
        }
    }

    /// <summary>Fetches snapshots now (the fake answers synchronously, so they are applied before this returns).</summary>
    public void Refresh()
    {
        Window.RefreshNow();
        Draw();
    }

    /// <summary>Queues what to do with the next dialog that opens (runs inside its modal loop).</summary>
    public void OnDialog<T>(Action<T> action) where T : Dialog => _dialogActions.Enqueue(d => action((T)d));

    /// <summary>Resizes the terminal.</summary>
    public void Resize(int width, int height)
    {
        App.Driver!.SetScreenSize(width, height);
        App.LayoutAndDraw(true);
    }

    private void OnDialogOpening(Dialog dialog)
    {
        DialogsSeen.Add(dialog.GetType().Name);
        Action<Dialog>? action = _dialogActions.Count > 0 ? _dialogActions.Dequeue() : null;
        bool done = false;
        void Drive(object? sender, EventArgs<IApplication?> e)
        {
            if (done || !ReferenceEquals(App.TopRunnableView, dialog)) return;
            done = true;
            App.Iteration -= Drive;
            App.LayoutAndDraw(true);
            if (action is null) dialog.RequestStop();
            else action(dialog);
        }
        App.Iteration += Drive;
    }

    public void Dispose()
    {
        Window.StopAsync().GetAwaiter().GetResult();
        if (_token is not null) App.End(_token);
        Window.Dispose();
        App.Dispose();
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now = new(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
