using RTorrent.Engine.Session;
using System.Runtime.InteropServices;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;

namespace RTorrent.Tui;

/// <summary>
/// Runs the terminal interface over a <see cref="ITorrentBackend"/>: <c>rtorrent</c> with no subcommand and
/// <c>rtorrent demo</c> end here.
/// </summary>
/// <remarks>
/// <para>
/// The interface draws at once and loads the session in the background. It needs a terminal: started without one
/// (output piped, no /dev/tty, a service) it says so on standard error and returns <see cref="ExitNoTerminal"/>
/// instead of waiting for keys that never come.
/// </para>
/// <para>
/// The terminal is given back in every case: a normal quit, an exception anywhere in the interface, SIGTERM, SIGHUP
/// or SIGQUIT (the interface stops cleanly), and as a last resort an unhandled exception on another thread (the
/// escape sequences that leave the alternate screen, show the cursor and turn mouse reporting and keypad mode off
/// are written). .NET's console leaves keypad mode on after Terminal.Gui shuts down, so that is switched off too.
/// </para>
/// </remarks>
public static class TuiApp
{
    /// <summary>Exit code: the user quit.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code: the interface failed (the error was printed after the terminal was restored).</summary>
    public const int ExitError = 1;

    /// <summary>Exit code: there is no terminal to draw on.</summary>
    public const int ExitNoTerminal = 2;

    // Keypad off (DECCKM reset, DECKPNM), mouse reporting off, cursor shown, alternate screen left, attributes reset.
    private const string RestoreSequence = "\u001b[?1l\u001b>\u001b[?1000l\u001b[?1002l\u001b[?1003l\u001b[?1006l\u001b[?25h\u001b[0m";
    private const string LeaveAlternateScreen = "\u001b[?1049l";

    private static int s_restored;
    private static int s_returned;

    /// <summary>Exit code when the terminal went away and the interface had to be abandoned (128 + SIGHUP).</summary>
    public const int ExitTerminalLost = 129;

    /// <summary>How long the interface gets to stop by itself after SIGHUP before <see cref="TuiOptions.TerminalLost"/> runs.</summary>
    internal static readonly TimeSpan TerminalLostGrace = TimeSpan.FromSeconds(3);

    /// <summary>Runs the interface until the user quits; returns the exit code. Blocks the calling thread.</summary>
    public static int Run(ITorrentBackend backend, TuiOptions? options = null) =>
        RunAsync(backend, options).GetAwaiter().GetResult();

    /// <summary>
    /// Runs the interface until the user quits or <paramref name="cancellationToken"/> fires; returns the exit code.
    /// The interface loop runs on the calling thread (which stays busy until it ends).
    /// </summary>
    public static async Task<int> RunAsync(ITorrentBackend backend, TuiOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        options ??= new TuiOptions();

        if (!Driver.IsAttachedToTerminal(out bool input, out bool output))
        {
            string what = !input && !output ? "standard input and output are not a terminal"
                : !input ? "standard input is not a terminal" : "standard output is not a terminal";
            await Console.Error.WriteLineAsync(
                $"rtorrent: the interface needs a terminal ({what}). Run it in a terminal (or over ssh -t), " +
                "or use the command-line subcommands (rtorrent --help).").ConfigureAwait(false);
            return ExitNoTerminal;
        }

        TerminalProfile profile = options.Profile ?? TerminalProfile.FromEnvironment();
        Interlocked.Exchange(ref s_restored, 0);
        Interlocked.Exchange(ref s_returned, 0);
        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        var signals = new List<PosixSignalRegistration>();
        IApplication? app = null;
        MainWindow? window = null;
        Exception? failure = null;
        LoopPacer? pacer = null;
        IDisposable? pacing = null;
        try
        {
            // The ANSI driver (the default on Unix) gets an input reader that wakes the loop, and the loop waits for
            // work instead of iterating 25 times a second (LoopPacer); any other driver runs as Terminal.Gui made it.
            IApplication? paced = null;
            if (options.DriverName is null || options.DriverName == DriverRegistry.Names.ANSI)
            {
                pacer = new LoopPacer();
                paced = PacedTerminal.TryCreate(pacer.InputArrived);
            }
            app = paced ?? Application.Create();
            app.Init(options.DriverName);
            if (paced is not null) pacing = pacer!.Attach(app);
            window = new MainWindow(app, backend, options, profile);

            // Signals end the loop like ^Q does, so the finally below restores the terminal.
            IApplication running = app;
            MainWindow runningWindow = window;
            void StopFromSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                RequestQuit(running, runningWindow);
                if (context.Signal == PosixSignal.SIGHUP && options.TerminalLost is { } lost) WatchTerminalLost(lost);
            }
            foreach (PosixSignal signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
            {
                try
                {
                    signals.Add(PosixSignalRegistration.Create(signal, StopFromSignal));
                }
                catch (PlatformNotSupportedException)
                {
                    // Windows has no SIGHUP/SIGQUIT; Ctrl+C there is a key like any other.
                }
            }
            using CancellationTokenRegistration cancel = cancellationToken.Register(() => RequestQuit(running, runningWindow));

            window.Initialized += (_, _) => runningWindow.Start();
            app.Run(window);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            foreach (PosixSignalRegistration registration in signals) registration.Dispose();
            if (window is not null)
            {
                try
                {
                    await window.StopAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (failure is null)
                {
                    failure = e;
                }
                window.Dispose();
            }
            pacing?.Dispose();
            app?.Dispose();
            pacer?.Dispose();
            RestoreTerminal(leaveAlternateScreen: false);
            AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
        }

        Volatile.Write(ref s_returned, 1);
        if (failure is not null)
        {
            await Console.Error.WriteLineAsync($"rtorrent: the interface failed: {failure}").ConfigureAwait(false);
            return ExitError;
        }
        // Attached to a daemon: say that it keeps running (^Q detached), or that it stopped (K), now that it can be read.
        if (window?.ExitMessage is { } message) await Console.Error.WriteLineAsync(message).ConfigureAwait(false);
        return ExitOk;
    }

    /// <summary>
    /// After SIGHUP: if the interface has not returned within <see cref="TerminalLostGrace"/>, it never will (the
    /// terminal is gone), so save through <paramref name="lost"/> and exit instead of spinning forever.
    /// </summary>
    private static void WatchTerminalLost(Func<Task> lost) => _ = Task.Run(async () =>
    {
        await Task.Delay(TerminalLostGrace).ConfigureAwait(false);
        if (Volatile.Read(ref s_returned) == 1) return;
        try
        {
            await lost().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nobody is left to tell; what could be saved was saved.
        }
        Environment.Exit(ExitTerminalLost);
    });

    private static void RequestQuit(IApplication app, MainWindow window)
    {
        try
        {
            app.Invoke(window.Quit);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or NullReferenceException)
        {
            // Already shutting down.
        }
    }

    private static void OnUnhandledException(object sender, UnhandledExceptionEventArgs e) => RestoreTerminal(leaveAlternateScreen: true);

    /// <summary>
    /// Writes the sequences that give the terminal back. After a normal shutdown Terminal.Gui has left the alternate
    /// screen itself; after a crash on another thread it has not, so that is done here too.
    /// </summary>
    private static void RestoreTerminal(bool leaveAlternateScreen)
    {
        if (Interlocked.Exchange(ref s_restored, 1) == 1) return;
        try
        {
            using Stream stdout = Console.OpenStandardOutput();
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes((leaveAlternateScreen ? LeaveAlternateScreen : "") + RestoreSequence);
            stdout.Write(bytes);
            stdout.Flush();
        }
        catch (IOException)
        {
            // The terminal is gone (the SSH session closed); nothing left to restore.
        }
    }
}
