using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;
using Terminal.Gui.Time;

namespace RTorrent.Tui;

/// <summary>
/// Creates the Terminal.Gui application with an input reader that sleeps in <c>poll()</c> until a key arrives and
/// then wakes the <see cref="LoopPacer"/>, instead of Terminal.Gui's own reader, which checks for input every 20 ms
/// (<c>Task.Delay(20)</c>: fifty .NET timers a second, each run on a thread-pool worker that then spins for more work;
/// about 3% of a core with nothing happening, on the 2-core machine of docs/PERFORMANCE.md).
/// </summary>
/// <remarks>
/// Terminal.Gui 2.5 has no public way to give an application its own driver parts: the constructor that takes a
/// component factory is internal (its tests use it). It is found by reflection; when it is not there (another
/// Terminal.Gui version) <see cref="TryCreate"/> returns null and the caller falls back to <c>Application.Create()</c>
/// and Terminal.Gui's own loop, which works, only less frugally. The version is pinned in Directory.Packages.props,
/// and a test checks that this path is taken.
/// </remarks>
internal static class PacedTerminal
{
    /// <summary>
    /// A new (not initialised) application whose ANSI driver reads input through <see cref="PacedAnsiInput"/>, or null
    /// when this Terminal.Gui does not allow it or the platform is not Unix-like. Call <c>Init()</c> on it as usual.
    /// </summary>
    internal static IApplication? TryCreate(Action inputArrived)
    {
        if (OperatingSystem.IsWindows()) return null;
        Type? impl = typeof(Application).Assembly.GetType("Terminal.Gui.App.ApplicationImpl");
        ConstructorInfo? constructor = impl?.GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, null,
            [typeof(IComponentFactory), typeof(ITimeProvider)], null);
        MethodInfo? markInstanceModel = impl?.GetMethod("MarkInstanceBasedModelUsed", BindingFlags.Static | BindingFlags.NonPublic, null, Type.EmptyTypes, null);
        if (constructor is null || markInstanceModel is null) return null;
        // What Application.Create() does, with the factory added.
        markInstanceModel.Invoke(null, null);
        return constructor.Invoke([new PacedAnsiComponentFactory(inputArrived), new SystemTimeProvider()]) as IApplication;
    }
}

/// <summary>Terminal.Gui's ANSI driver with <see cref="PacedAnsiInput"/> as its input reader.</summary>
internal sealed class PacedAnsiComponentFactory(Action inputArrived) : AnsiComponentFactory
{
    /// <summary>Tells the loop that input is queued.</summary>
    internal Action InputArrived { get; } = inputArrived;

    public override IInput<char> CreateInput() => new PacedAnsiInput(InputArrived);
}

/// <summary>
/// Terminal.Gui's <see cref="AnsiInput"/> (raw mode, the same reading and parsing) with its polling loop replaced: the
/// input thread sleeps in <c>poll()</c> on standard input and, once bytes are queued, wakes the main loop.
/// </summary>
/// <remarks>
/// <see cref="InputImpl{T}.Run"/> is not virtual, so <see cref="IInput{T}"/> is implemented again here; Terminal.Gui
/// calls the input only through that interface. Where standard input is not a terminal (or on Windows) the original
/// loop runs.
/// </remarks>
internal sealed class PacedAnsiInput(Action inputArrived) : AnsiInput, IInput<char>
{
    /// <summary>The longest sleep in <c>poll()</c>: how soon the thread notices it is asked to stop.</summary>
    private const int PollTimeoutMs = 100;

    private const short PollIn = 0x001;
    private const int Eintr = 4;

    /// <summary>
    /// How long a lone Esc byte must stay alone to count as the Esc key. Terminals write an escape sequence (a cursor
    /// key, a mouse report, a reply) in one piece, so its bytes come in one read; an Esc read by itself and followed by
    /// nothing within this time was the Esc key. Terminal.Gui's parser would otherwise hold it for 50 ms.
    /// </summary>
    internal static readonly TimeSpan LoneEscapeGrace = TimeSpan.FromMilliseconds(15);

    private const string LoneEscape = "\u001b";

    /// <summary>The Esc key as the kitty keyboard protocol writes it (CSI 27 u), which Terminal.Gui always parses.</summary>
    internal const string EscapeKey = "\u001b[27u";

    private ConcurrentQueue<char>? _queue;

    void IInput<char>.Initialize(ConcurrentQueue<char> inputQueue)
    {
        _queue = inputQueue;
        Initialize(inputQueue);
    }

    void IInput<char>.Run(CancellationToken runCancellationToken)
    {
        if (_queue is null || OperatingSystem.IsWindows() || !IsAttachedToTerminal)
        {
            Run(runCancellationToken);
            return;
        }
        using CancellationTokenSource? linked = ExternalCancellationTokenSource is { } external
            ? CancellationTokenSource.CreateLinkedTokenSource(runCancellationToken, external.Token)
            : null;
        CancellationToken cancellationToken = linked?.Token ?? runCancellationToken;
        while (!cancellationToken.IsCancellationRequested)
        {
            var fd = new PollFd { Fd = 0, Events = PollIn };
            int ready = Poll(ref fd, 1, PollTimeoutMs);
            if (ready == 0) continue;
            if (ready < 0)
            {
                if (Marshal.GetLastPInvokeError() != Eintr) Thread.Sleep(PollTimeoutMs);
                continue;
            }
            if ((fd.Revents & PollIn) == 0)
            {
                // Hung up or invalid: poll() would return at once forever. Nothing will come; do not spin.
                Thread.Sleep(PollTimeoutMs);
                continue;
            }
            string chunk = string.Concat(Read());
            if (chunk.Length == 0)
            {
                Thread.Sleep(20); // readable but nothing read (raw mode could not be set): Terminal.Gui's own pace
                continue;
            }
            foreach (char c in Translate(chunk, MoreWithin)) _queue.Enqueue(c);
            inputArrived();
        }
    }

    /// <summary>
    /// What to queue for the bytes of one read: the same, except that a lone Esc followed by nothing within
    /// <see cref="LoneEscapeGrace"/> becomes <see cref="EscapeKey"/>, which the parser takes as the Esc key at once
    /// instead of holding it for 50 ms to see whether an escape sequence follows.
    /// </summary>
    internal static string Translate(string chunk, Func<TimeSpan, bool> moreWithin) =>
        chunk == LoneEscape && !moreWithin(LoneEscapeGrace) ? EscapeKey : chunk;

    /// <summary>Whether more input arrives on standard input within <paramref name="time"/>.</summary>
    private static bool MoreWithin(TimeSpan time)
    {
        var fd = new PollFd { Fd = 0, Events = PollIn };
        return Poll(ref fd, 1, (int)time.TotalMilliseconds) > 0 && (fd.Revents & PollIn) != 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int Poll(ref PollFd fds, nuint count, int timeoutMs);
}
