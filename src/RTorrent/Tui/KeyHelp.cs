using RTorrent.Tui.Views;
using Terminal.Gui.Input;

namespace RTorrent.Tui;

/// <summary>Where a key works.</summary>
internal enum KeyScope
{
    /// <summary>The list and the details.</summary>
    Everywhere,
    /// <summary>The torrent list.</summary>
    List,
    /// <summary>The details of a torrent, any tab.</summary>
    Details,
    /// <summary>The Files tab.</summary>
    FilesTab,
    /// <summary>The Peers tab.</summary>
    SortableTab,
}

/// <summary>One key (or a few equivalent keys) and what it does.</summary>
/// <param name="Keys">The keys as shown in the help.</param>
/// <param name="Help">What they do.</param>
/// <param name="Scope">Where they work.</param>
/// <param name="Matches">Recognises the key; null for keys handled by a view itself (listed for the help only).</param>
/// <param name="Run">The command.</param>
/// <param name="Hint">Short text for the hint line, or null to leave it out.</param>
/// <param name="HintRank">Order in the hint line (lower first); hints that do not fit are dropped from the end.</param>
/// <param name="AttachedHelp">The help instead of <paramref name="Help"/> when the interface is attached to a daemon.</param>
/// <param name="AttachedHint">The hint instead of <paramref name="Hint"/> when the interface is attached to a daemon.</param>
internal sealed record KeyCommand(string Keys, string Help, KeyScope Scope, Func<Key, bool>? Matches, Action<MainWindow>? Run,
    string? Hint = null, int HintRank = 100, string? AttachedHelp = null, string? AttachedHint = null)
{
    /// <summary>The help for a local session or an attached interface.</summary>
    public string HelpFor(bool attached) => attached && AttachedHelp is not null ? AttachedHelp : Help;

    /// <summary>The hint for a local session or an attached interface.</summary>
    public string? HintFor(bool attached) => attached && AttachedHint is not null ? AttachedHint : Hint;
}

/// <summary>
/// Every key of the interface in one table: the key handler dispatches from it, the help window lists it and the hint
/// line is made from it, so a key cannot work without being documented. rTorrent's keys are kept where they do not
/// clash (^S, ^D, ^R, ^Q, Backspace, the a/z s/x d/c throttles).
/// </summary>
internal static class KeyHelp
{
    public static IReadOnlyList<KeyCommand> Commands { get; } =
    [
        // The list.
        new("Up Down PgUp PgDn Home End", "Move through the torrents (the mouse wheel scrolls)", KeyScope.List, null, null),
        new("Enter", "Open the torrent's details (Info, Files, Peers, Trackers, Pieces, Log)", KeyScope.List,
            k => k == Key.Enter, w => w.OpenDetails(), "Enter details", 2),
        new("Backspace  Ins", "Add a torrent: a .torrent file (Tab completes) or a magnet link", KeyScope.List,
            k => k == Key.Backspace || k == Key.InsertChar || k == Key.H.WithCtrl, w => w.ShowAddDialog(), "BkSp add", 3),
        new("Space", "Start or stop the torrent", KeyScope.List, k => k == Key.Space, w => w.ToggleStartStop()),
        new("/", "Find torrents by name (typing filters at once; Enter keeps the filter, Esc clears it)", KeyScope.List,
            k => KeyText.IsChar(k, '/'), w => w.OpenFind(), "/ find", 8),
        new("Esc", "Clear the name filter", KeyScope.List, k => k == Key.Esc, w => w.ClearFind()),
        new("f  F", "Show only: all, downloading, seeding, active, paused, checking, queued, error (next, previous)",
            KeyScope.List, k => KeyText.IsChar(k, 'f') || KeyText.IsChar(k, 'F'), w => w.CycleFilter(KeyText.IsChar(w.LastKey, 'F') ? -1 : 1),
            "f filter", 9),
        new("v  V", "Show only: all, each category, no category, each tag (next, previous)", KeyScope.List,
            k => KeyText.IsChar(k, 'v') || KeyText.IsChar(k, 'V'), w => w.CycleGroupFilter(KeyText.IsChar(w.LastKey, 'V') ? -1 : 1)),
        new(">  <", "Sort by the next, previous column (a click on a header sorts too)", KeyScope.List,
            k => KeyText.IsChar(k, '>') || KeyText.IsChar(k, '<'), w => w.CycleSort(KeyText.IsChar(w.LastKey, '<') ? -1 : 1), "<> sort", 10),
        new("r", "Reverse the sort order", KeyScope.List, k => KeyText.IsChar(k, 'r'), w => w.ReverseSort()),

        // The details.
        new("Esc", "Back to the list", KeyScope.Details, k => k == Key.Esc, w => w.CloseDetails(), "Esc back", 2),
        new("Tab  Shift+Tab  1-7", "Next, previous tab, or a tab by its number", KeyScope.Details, null, null, "Tab/1-7 tabs", 3),
        new("Up Down PgUp PgDn Home End", "Move or scroll in the tab", KeyScope.Details, null, null),
        new("Space", "Files: download the file or folder, or skip it", KeyScope.FilesTab, null, null, "Space skip/get", 4),
        new("+  -", "Files: raise, lower the priority (skip, low, normal, high); on a folder, for all its files", KeyScope.FilesTab,
            null, null, "+/- priority", 5),
        new("Enter  Right  Left", "Files: open a folder; close it (or go to its folder)", KeyScope.FilesTab, null, null, "Enter open", 6),
        new(">  <  r", "Peers: sort by the next, previous column; reverse", KeyScope.SortableTab, null, null, "<> sort", 4),

        // Both.
        new("F1  ?", "Show every key (this help)", KeyScope.Everywhere,
            k => k == Key.F1 || KeyText.IsChar(k, '?'), w => w.ShowHelp(), "F1 help", 0),
        new("^S", "Start the torrent", KeyScope.Everywhere, k => k == Key.S.WithCtrl, w => w.StartCurrent(), "^S start", 4),
        new("^D", "Stop (pause) the torrent", KeyScope.Everywhere, k => k == Key.D.WithCtrl, w => w.StopCurrent(), "^D stop", 5),
        new("!", "Start the torrent now, beside the queue (forced: never queued; shown [F]; ^S puts it back in the queue)",
            KeyScope.Everywhere, k => KeyText.IsChar(k, '!'), w => w.StartNowCurrent()),
        new("[  ]", "Move the torrent up, down in the queue (with queue limits the front ones run first)", KeyScope.Everywhere,
            k => KeyText.IsChar(k, '[') || KeyText.IsChar(k, ']'),
            w => w.MoveInQueue(KeyText.IsChar(w.LastKey, '[') ? RTorrent.Engine.Client.QueueMove.Up : RTorrent.Engine.Client.QueueMove.Down)),
        new("{  }", "Move the torrent to the top, bottom of the queue", KeyScope.Everywhere,
            k => KeyText.IsChar(k, '{') || KeyText.IsChar(k, '}'),
            w => w.MoveInQueue(KeyText.IsChar(w.LastKey, '{') ? RTorrent.Engine.Client.QueueMove.Top : RTorrent.Engine.Client.QueueMove.Bottom)),
        new("^R", "Check the torrent's data again", KeyScope.Everywhere, k => k == Key.R.WithCtrl, w => w.RecheckCurrent(), "^R check", 11),
        new("Del", "Remove the torrent (asks whether to delete its data too)", KeyScope.Everywhere,
            k => k == Key.Delete, w => w.ShowRemoveDialog(), "Del remove", 6),
        new("i", "Sequential (in order) download on or off", KeyScope.Everywhere, k => KeyText.IsChar(k, 'i'), w => w.ToggleSequential()),
        new("U", "Super-seeding (BEP 16) on or off: while the torrent seeds, new peers get one piece at a time; it ends by " +
            "itself once every piece is out", KeyScope.Everywhere, k => KeyText.IsChar(k, 'U'), w => w.ToggleSuperSeeding()),
        new("g", "Category and tags of the torrent (a new category is made with its default folder; the data moves to the category's folder)",
            KeyScope.Everywhere, k => KeyText.IsChar(k, 'g'), w => w.ShowCategoryDialog()),
        new("G", "Categories: add one, change its folder and incomplete folder (its torrents move), or remove it", KeyScope.Everywhere,
            k => KeyText.IsChar(k, 'G'), w => w.ShowCategoryEditor()),
        new("t", "Rate limits of the torrent", KeyScope.Everywhere, k => KeyText.IsChar(k, 't'), w => w.ShowTorrentLimitsDialog()),
        new("T", "Global rate limits", KeyScope.Everywhere, k => KeyText.IsChar(k, 'T'), w => w.ShowGlobalLimitsDialog()),
        new("^T", "Turtle mode on or off: the alternative (turtle) rate limits instead of the global ones; the status line " +
            "shows TURTLE. The settings (o) set its limits and a weekly schedule, which switches it at its times (a switch by " +
            "hand holds until the next). While it is on, T and the throttle keys change the turtle limits",
            KeyScope.Everywhere, k => k == Key.T.WithCtrl, w => w.ToggleTurtle(), "^T turtle", 13),
        new("a  z", "Global upload limit up, down by 1 KiB/s (0 = unlimited)", KeyScope.Everywhere, IsThrottle("az"), w => w.ThrottleKey()),
        new("s  x", "Global upload limit up, down by 5 KiB/s", KeyScope.Everywhere, IsThrottle("sx"), w => w.ThrottleKey()),
        new("d  c", "Global upload limit up, down by 50 KiB/s", KeyScope.Everywhere, IsThrottle("dc"), w => w.ThrottleKey()),
        new("A  Z", "Global download limit up, down by 1 KiB/s", KeyScope.Everywhere, IsThrottle("AZ"), w => w.ThrottleKey()),
        new("S  X", "Global download limit up, down by 5 KiB/s", KeyScope.Everywhere, IsThrottle("SX"), w => w.ThrottleKey()),
        new("D  C", "Global download limit up, down by 50 KiB/s", KeyScope.Everywhere, IsThrottle("DC"), w => w.ThrottleKey()),
        new("F2  o", "Settings: port, folders, watch folder, limits, connections, queue limits, DHT/PEX/LSD (with several daemons, asks which; " +
            "the one of the torrent under the cursor comes first)", KeyScope.Everywhere,
            k => k == Key.F2 || KeyText.IsChar(k, 'o'), w => w.ShowSettingsDialog(), "o settings", 12),
        new("l", "Session log (engine, watch folder and interface messages; with several daemons, all of them, each line marked)",
            KeyScope.Everywhere, k => KeyText.IsChar(k, 'l'), w => w.ShowSessionLog()),
        new("R", "Feeds (RSS, Atom): each feed's last poll, error and items, what the rules took, and the rules; r in it " +
            "polls now. Feeds and rules live in feeds.json in the session folder (docs/FEEDS.md)", KeyScope.Everywhere,
            k => KeyText.IsChar(k, 'R'), w => w.ShowFeeds()),
        new("p", "Plugins: pickers, peer sources, storages and torrent sources found (with several daemons, each one's)", KeyScope.Everywhere,
            k => KeyText.IsChar(k, 'p'), w => w.ShowPlugins()),
        new("K", "Stop the daemon the interface is attached to, after asking; the interface then closes. With several daemons, " +
            "the one of the torrent under the cursor unless you choose another, and the others stay on screen. A session " +
            "without a daemon stops with ^Q",
            KeyScope.Everywhere, k => KeyText.IsChar(k, 'K'), w => w.StopDaemon()),
        new("^Q  F10", "Quit", KeyScope.Everywhere, k => k == Key.Q.WithCtrl || k == Key.F10, w => w.Quit(), "^Q quit", 1,
            "Detach: close the interface and leave the daemon running (rtorrent attaches again)", "^Q detach"),
        new("Mouse", "Click to select, double-click to open, wheel to scroll; never needed", KeyScope.Everywhere, null, null),
    ];

    /// <summary>
    /// The hint line for <paramref name="scope"/>: the most useful keys that fit in <paramref name="width"/>, worded for
    /// an interface <paramref name="attached"/> to a daemon or not.
    /// </summary>
    public static string Hints(KeyScope scope, int width = int.MaxValue, bool attached = false)
    {
        IEnumerable<KeyCommand> hints = Commands.Where(c => c.Hint is not null && InScope(c.Scope, scope)).OrderBy(c => c.HintRank);
        var line = new System.Text.StringBuilder();
        foreach (KeyCommand c in hints)
        {
            string hint = c.HintFor(attached)!;
            int extra = (line.Length > 0 ? 2 : 0) + hint.Length;
            if (line.Length + extra > width) break;
            if (line.Length > 0) line.Append("  ");
            line.Append(hint);
        }
        return line.ToString();
    }

    /// <summary>Whether a command of <paramref name="commandScope"/> applies where the user is (<paramref name="where"/>).</summary>
    public static bool InScope(KeyScope commandScope, KeyScope where) => commandScope == where || commandScope switch
    {
        KeyScope.Everywhere => true,
        KeyScope.Details => where is KeyScope.FilesTab or KeyScope.SortableTab,
        _ => false,
    };

    private static Func<Key, bool> IsThrottle(string chars) => k => KeyText.Char(k) is { } c && chars.Contains(c);
}
