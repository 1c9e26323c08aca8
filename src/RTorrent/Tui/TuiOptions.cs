namespace RTorrent.Tui;

/// <summary>How the terminal interface runs.</summary>
public sealed record TuiOptions
{
    /// <summary>
    /// How often snapshots are fetched (and, when something changed, the screen redrawn). Half a second (2 Hz) keeps
    /// rates lively without flooding a slow SSH link; values are clamped to 100 ms .. 10 s.
    /// </summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Terminal.Gui driver name ("ansi", "dotnet"), or null for the platform default.</summary>
    public string? DriverName { get; init; }

    /// <summary>What the terminal can show; null decides from TERM, NO_COLOR and the locale.</summary>
    public TerminalProfile? Profile { get; init; }

    /// <summary>The clock (for rate history and "next announce" countdowns).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The program's name in the title line.</summary>
    public string Title { get; init; } = "RTorrent";

    /// <summary>
    /// Run the watch folder from the session's settings (on by default). Off when another part of the program already
    /// watches it. Attached to a daemon (<see cref="RTorrent.Engine.Session.BackendInfo.Kind"/> not Local) the interface
    /// never runs it whatever this says: the watch folder is on the daemon's machine, and the daemon watches it.
    /// </summary>
    public bool RunWatchFolder { get; init; } = true;

    /// <summary>
    /// Called when the terminal has gone (SIGHUP, e.g. the SSH connection dropped) and the interface did not wind down
    /// within a few seconds, which Terminal.Gui 2.5 does not when its terminal is closed under it (its input thread
    /// spins on the dead terminal and its loop never returns). The callback saves what must survive (resume data);
    /// the process exits right after it.
    /// </summary>
    public Func<Task>? TerminalLost { get; init; }

    /// <summary>How often the watch folder is scanned even when no change was signalled (network shares).</summary>
    public TimeSpan WatchFolderPollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The interval actually used.</summary>
    internal TimeSpan EffectiveRefreshInterval =>
        RefreshInterval < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100)
        : RefreshInterval > TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10)
        : RefreshInterval;
}
