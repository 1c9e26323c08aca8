using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Tui.Dialogs;
using RTorrent.Tui.Hosts;
using RTorrent.Tui.Views;
using Terminal.Gui.Input;

namespace RTorrent.Tui;

internal sealed partial class MainWindow
{
    /// <summary>The key being handled (commands that share a table entry look at it).</summary>
    internal Key LastKey { get; private set; } = Key.Empty;

    /// <summary>
    /// Every key comes here first (before any view), so single letters can be commands. Keys are left alone while a
    /// dialog is on top, and while the find box has the cursor (except Enter and Esc, which close it).
    /// </summary>
    private void OnAppKeyDown(object? sender, Key key)
    {
        if (key.Handled || _stopping) return;
        if (!ReferenceEquals(_app.TopRunnableView, this)) return;
        LastKey = key;
        if (_findField.Visible)
        {
            if (HandleFindKey(key)) key.Handled = true;
            return;
        }
        if (IsDetailsOpen && _details.HandleKey(key))
        {
            key.Handled = true;
            UpdateHints();
            return;
        }
        KeyScope scope = IsDetailsOpen ? KeyScope.Details : KeyScope.List;
        foreach (KeyCommand command in KeyHelp.Commands)
        {
            if (command.Run is null || command.Matches is null) continue;
            if (command.Scope != scope && command.Scope != KeyScope.Everywhere) continue;
            if (!command.Matches(key)) continue;
            // Handled before running: a command that opens a dialog runs a nested loop, and the key must not
            // travel on to the table once that returns.
            key.Handled = true;
            command.Run(this);
            UpdateHints();
            return;
        }
    }

    private bool HandleFindKey(Key key)
    {
        if (key == Key.Esc)
        {
            CloseFind();
            ApplyNameFilter("");
            return true;
        }
        if (key == Key.Enter || key == Key.CursorDown || key == Key.CursorUp || key == Key.Tab)
        {
            CloseFind();
            return true;
        }
        return false;
    }

    internal void OpenFind()
    {
        _hintLine.Visible = false;
        _findLabel.Visible = true;
        _findField.Visible = true;
        _findField.Text = _list.NameFilter;
        _findField.SetFocus();
        _findField.MoveEnd();
    }

    private void CloseFind()
    {
        _findField.Visible = false;
        _findLabel.Visible = false;
        _hintLine.Visible = true;
        _table.SetFocus();
        UpdateHints();
    }

    internal void ClearFind()
    {
        if (_list.NameFilter.Length > 0) ApplyNameFilter("");
    }

    private void ApplyNameFilter(string text)
    {
        if (text.Trim() == _list.NameFilter) return;
        string? keep = CurrentTorrentIdFromList();
        _list.SetNameFilter(text);
        ShowRows(keep);
        UpdateTitle();
    }

    internal void CycleFilter(int step)
    {
        string? keep = CurrentTorrentIdFromList();
        _list.CycleFilter(step);
        ShowRows(keep);
        UpdateTitle();
    }

    internal void CycleSort(int step)
    {
        string? keep = CurrentTorrentIdFromList();
        _list.CycleSort(step);
        ShowRows(keep);
        UpdateTitle();
    }

    internal void ReverseSort()
    {
        string? keep = CurrentTorrentIdFromList();
        _list.ReverseSort();
        ShowRows(keep);
        UpdateTitle();
    }

    internal void OpenDetails()
    {
        if (CurrentTorrent is not { } t) return;
        _details.Open(t.Id);
        _table.Visible = false;
        _emptyNote.Visible = false;
        _details.Visible = true;
        _details.FocusCurrent();
        UpdateTitle();
        UpdateHints();
        RefreshNow();
    }

    internal void CloseDetails()
    {
        if (!IsDetailsOpen) return;
        string? id = _details.TorrentId;
        _details.Visible = false;
        _table.Visible = true;
        _table.SetFocus();
        ShowRows(id);
        UpdateTitle();
        UpdateHints();
    }

    /// <summary>
    /// ^Q: ends the interface. A session in this process ends with it; attached, the daemon keeps running (this only
    /// detaches) and the user is told so once the terminal is back.
    /// </summary>
    internal void Quit()
    {
        if (Attached && ExitMessage is null)
        {
            ExitMessage = _backend.Info.Kind == BackendKind.Multiple
                ? $"Detached; the daemons keep running ({_backend.Info.Name})."
                : $"Detached; the daemon keeps running ({_backend.Info.Name}).";
        }
        QuitRequested = true;
        RequestStop();
    }

    /// <summary>
    /// The host that per-host commands start from: the host of the torrent under the cursor (or open in the details),
    /// else the first. Null for a single session.
    /// </summary>
    internal string? CurrentHost
    {
        get
        {
            if (Hosted is not { } hosted || hosted.HostNames.Count == 0) return null;
            return CurrentTorrent is { } t && hosted.HostOf(t.Id) is { } host ? host : hosted.HostNames[0];
        }
    }

    /// <summary>
    /// K: stops the daemon the interface is attached to, after asking; with several daemons, the confirmation also
    /// chooses which (the current host's first). Once the daemon confirmed, a single daemon's interface closes by
    /// itself (there is nothing left to show); over several, the others stay on screen.
    /// </summary>
    internal void StopDaemon()
    {
        BackendInfo info = _backend.Info;
        if (info.Kind == BackendKind.Local)
        {
            ShowMessage("This session runs inside the interface, not in a daemon: ^Q quits it.");
            return;
        }
        if (!info.CanStopDaemon)
        {
            ShowMessage(info.Kind == BackendKind.Multiple ? "None of these daemons lets an attached interface stop it."
                : "This daemon does not let an attached interface stop it.");
            return;
        }

        IHostedBackend? hosted = Hosted;
        List<string> hosts = hosted is null ? [info.Name]
            : [.. hosted.HostNames.Where(name => hosted.Host(name).Info.CanStopDaemon)];
        int selected = Math.Max(0, hosts.IndexOf(CurrentHost ?? ""));
        string text = hosted is null
            ? $"Stop the daemon at {info.Name}? It saves its resume data and exits; its torrents stop until it is started again " +
              "(rtorrent daemon). The interface closes once it has stopped."
            : "Stop which daemon? It saves its resume data and exits; its torrents stop until it is started again (rtorrent " +
              "daemon). The other daemons stay on screen.";
        var dialog = new HostDialog("Stop the daemon", "_Stop", text, hosts, selected, ScreenWidth);
        string? chosen = null;
        dialog.IsRunningChanged += (_, e) =>
        {
            if (!e.Value && dialog.IsAccepted) chosen = dialog.ChosenHost;
        };
        RunDialog(dialog);
        if (chosen is not { } host) return;

        ITorrentBackend target = hosted is null ? _backend : hosted.Host(host);
        ShowMessage(hosted is null ? "Stopping the daemon..." : $"Stopping the daemon on {host}...");
        RunOperation(() => target.StopDaemonAsync(), null, null, () =>
        {
            if (hosted is not null)
            {
                ShowMessage($"The daemon on {host} stopped.");
                return;
            }
            ExitMessage = $"The daemon at {info.Name} stopped; the interface closed with it.";
            Quit();
        });
    }

    private bool NeedTorrent(out TorrentSnapshot torrent)
    {
        torrent = CurrentTorrent!;
        if (torrent is not null) return true;
        ShowMessage("No torrent selected.");
        return false;
    }

    internal void StartCurrent()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        RunOperation(() => _backend.StartAsync(t.Id), $"Started {t.Name}.");
    }

    internal void StopCurrent()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        RunOperation(() => _backend.StopAsync(t.Id), $"Stopped {t.Name}.");
    }

    /// <summary>Forced start: the torrent runs at once beside the queue (shown [F]).</summary>
    internal void StartNowCurrent()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        RunOperation(() => _backend.StartNowAsync(t.Id), $"Started {t.Name} now, beside the queue.");
    }

    /// <summary>Moves the torrent under the cursor in the session's queue.</summary>
    internal void MoveInQueue(RTorrent.Engine.Client.QueueMove move)
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        RunOperation(() => _backend.MoveInQueueAsync(t.Id, move), $"Moved {t.Name} {move.ToString().ToLowerInvariant()} in the queue.");
    }

    internal void ToggleStartStop()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        if (t.State is TorrentState.Stopped or TorrentState.Error) StartCurrent();
        else StopCurrent();
    }

    internal void RecheckCurrent()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        RunOperation(() => _backend.RecheckAsync(t.Id), $"Checking {t.Name}.");
    }

    internal void ToggleSequential()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        bool on = !t.Sequential;
        RunOperation(() => _backend.SetSequentialAsync(t.Id, on), $"Sequential download {(on ? "on" : "off")} for {t.Name}.");
    }

    internal void ToggleSuperSeeding()
    {
        if (!NeedTorrent(out TorrentSnapshot t)) return;
        bool on = !t.SuperSeeding;
        RunOperation(() => _backend.SetSuperSeedingAsync(t.Id, on),
            on ? $"Super-seeding on for {t.Name} (acts while it seeds every piece)." : $"Super-seeding off for {t.Name}.");
    }

    private void SetFilePriority(IReadOnlyList<int> files, Priority priority)
    {
        if (_details.TorrentId is not { } id) return;
        string what = files.Count == 1 ? "1 file" : $"{files.Count} files";
        RunOperation(() => _backend.SetFilePriorityAsync(id, files, priority), $"Priority {FileTree.PriorityName(priority)} for {what}.");
    }

    /// <summary>a/z s/x d/c and capitals: step the global limits like rTorrent.</summary>
    internal void ThrottleKey()
    {
        if (KeyText.Char(LastKey) is not { } c || Throttle.ForKey(c) is not { } step) return;
        long down = _downloadLimit, up = _uploadLimit;
        if (step.Direction == Throttle.Direction.Upload) up = Throttle.Apply(up, step.Delta);
        else down = Throttle.Apply(down, step.Delta);
        string text = step.Direction == Throttle.Direction.Upload
            ? $"Global upload limit: {Units.Limit(up)}."
            : $"Global download limit: {Units.Limit(down)}.";
        SetGlobalLimits(down, up, text);
    }

    /// <summary>
    /// Turtle mode on or off (^T): read fresh from the session (the schedule may have switched it), then the opposite
    /// saved. With several daemons, the one of the torrent under the cursor.
    /// </summary>
    internal void ToggleTurtle()
    {
        ITorrentBackend target = _backend;
        string? host = null;
        if (Hosted is { } hosted)
        {
            host = CurrentHost ?? hosted.HostNames.FirstOrDefault();
            if (host is null) return;
            target = hosted.Host(host);
        }
        string where = host is null ? "" : $" on {host}";
        bool? nowOn = null;
        RunOperation(async () =>
        {
            EditableSettings settings = await target.GetSettingsAsync().ConfigureAwait(false);
            await target.SaveSettingsAsync(settings with { AltSpeedEnabled = !settings.AltSpeedEnabled }).ConfigureAwait(false);
            nowOn = !settings.AltSpeedEnabled;
        }, null, null, () => ShowMessage(nowOn == true
            ? $"Turtle mode on{where}: the alternative rate limits apply."
            : $"Turtle mode off{where}: the global rate limits apply."));
    }

    private void SetGlobalLimits(long down, long up, string message)
    {
        // Remember the new limits at once, so quick repeated presses add up even before a snapshot shows them.
        _downloadLimit = down;
        _uploadLimit = up;
        _limitGeneration++;
        _limitChangesInFlight++;
        RunOperation(() => _backend.SetGlobalLimitsAsync(down, up), message, () => _limitChangesInFlight--);
    }

    /// <summary>
    /// Runs a backend operation without blocking the interface; its error (if any) becomes a message, and a refresh
    /// follows so the change shows.
    /// </summary>
    private void RunOperation(Func<Task> operation, string? success, Action? finished = null, Action? succeeded = null)
    {
        Task task;
        try
        {
            task = operation();
        }
        catch (Exception e)
        {
            finished?.Invoke();
            ShowError(e.Message);
            return;
        }
        WhenDone(task, t =>
        {
            finished?.Invoke();
            if (t.IsFaulted) ShowError(Describe(t.Exception!));
            else
            {
                succeeded?.Invoke();
                if (success is not null) ShowMessage(success);
            }
            RefreshNow();
        });
    }
}
