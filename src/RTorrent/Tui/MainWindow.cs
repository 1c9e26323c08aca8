using RTorrent.Engine.Session;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Tui.Hosts;
using RTorrent.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace RTorrent.Tui;

/// <summary>
/// The whole interface in one borderless window: a title line, the torrent list (or the details of one torrent), the
/// status line and a line of key hints that also carries messages.
/// </summary>
/// <remarks>
/// <para>
/// Snapshots are fetched on a timer (<see cref="TuiOptions.RefreshInterval"/>) off the interface thread and applied on
/// it; a snapshot equal to the previous one changes nothing and draws nothing. Backend calls never block the
/// interface: when they complete synchronously (a fake, or a cached answer) their result is applied at once,
/// otherwise it is posted back with <see cref="IApplication.Invoke(Action)"/>.
/// </para>
/// <para>
/// Attached to a daemon (<see cref="BackendInfo.Kind"/> not Local) the title says so, ^Q detaches, K stops the
/// daemon, the watch folder is left to the daemon, and a daemon that cannot be reached
/// (<see cref="BackendUnavailableException"/>) leaves its last list on screen, marked stale, with the reason and the
/// retry countdown in the status line. Over several daemons (<see cref="IHostedBackend"/>) the list gets a Host
/// column and the status line a part per daemon; what belongs to one daemon (adding, settings, stopping it) asks
/// which, starting from the daemon of the torrent under the cursor.
/// </para>
/// </remarks>
internal sealed partial class MainWindow : Window
{
    private static readonly TimeSpan MessageTime = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan DiskSpaceInterval = TimeSpan.FromSeconds(10);

    private readonly IApplication _app;
    private readonly ITorrentBackend _backend;
    private readonly TuiOptions _options;
    private readonly TerminalProfile _profile;
    private readonly TimeProvider _time;
    private readonly TorrentList _list = new();
    private readonly TorrentRows _rows;
    private readonly TorrentListView _table;
    private readonly Label _titleLine;
    private readonly Label _statusLine;
    private readonly Label _hintLine;
    private readonly Label _findLabel;
    private readonly TextField _findField;
    private readonly Label _emptyNote;
    private readonly DetailsView _details;
    private readonly RateHistory _sessionHistory = new(TimeSpan.FromSeconds(2), 360);
    private readonly Dictionary<string, TorrentHistory> _torrentHistory = new(StringComparer.Ordinal);
    private long _historyRound;
    private readonly List<LogEntry> _interfaceLog = [];

    private SessionSnapshot? _session;
    private string? _lastError;
    private string? _message;
    private bool _messageIsError;
    private DateTimeOffset _messageUntil;
    private bool _fetching;
    private bool _refreshAgain;
    private bool _stopping;
    private object? _timer;
    private long? _freeBytes;
    private DateTimeOffset _freeBytesAt = DateTimeOffset.MinValue;
    private bool _diskQueryRunning;
    private EditableSettings? _settings;
    private WatchFolder? _watchFolder;
    private int _limitChangesInFlight;
    private int _limitGeneration;
    private long _downloadLimit;
    private long _uploadLimit;
    private string? _selectAfterRefresh;
    private Unavailable? _unavailable;
    private bool _settingsLoading;

    /// <summary>Why the one session cannot be reached now, and when its backend tries again.</summary>
    private sealed record Unavailable(string Message, DateTimeOffset? RetryAt);

    public MainWindow(IApplication app, ITorrentBackend backend, TuiOptions options, TerminalProfile profile)
    {
        _app = app;
        _backend = backend;
        _options = options;
        _profile = profile;
        _time = options.Time;
        BorderStyle = LineStyle.None;
        Title = options.Title;

        _titleLine = new Label { X = 0, Y = 0, Width = Dim.Fill(), Height = 1, Text = options.Title };
        _rows = new TorrentRows(_list, profile);
        _table = new TorrentListView(_list, _rows, profile)
        {
            X = 0,
            Y = 1,
            Width = Dim.Fill(),
            Height = Dim.Fill(2),
        };
        _table.FrameChanged += (_, _) => Reflow();
        _table.HeaderClicked += OnHeaderClicked;
        _table.Accepting += (_, e) =>
        {
            // Enter is handled before the table sees it; this is the mouse's double click.
            OpenDetails();
            e.Handled = true;
        };

        _emptyNote = new Label { X = 1, Y = 3, Width = Dim.Fill(1), Height = 1, Text = "Loading torrents...", Visible = true };

        _details = new DetailsView(profile, _time, SetFilePriority) { X = 0, Y = 1, Height = Dim.Fill(2), Visible = false };

        _statusLine = new Label { X = 0, Y = Pos.AnchorEnd(2), Width = Dim.Fill(), Height = 1, Text = StatusLine.Build(null, null, 80) };
        _hintLine = new Label { X = 0, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1 };
        _findLabel = new Label { X = 0, Y = Pos.AnchorEnd(1), Width = 6, Height = 1, Text = "Find: ", Visible = false };
        _findField = new TextField { X = 6, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1, Visible = false };
        _findField.ValueChanged += (_, _) =>
        {
            if (!_findField.Visible) return;
            ApplyNameFilter(_findField.Text ?? "");
        };

        Add(_titleLine, _table, _emptyNote, _details, _statusLine, _hintLine, _findLabel, _findField);
        _app.Keyboard.KeyDown += OnAppKeyDown;
        UpdateHints();
    }

    /// <summary>Set when the user asked to quit (or the daemon the interface was attached to stopped).</summary>
    public bool QuitRequested { get; private set; }

    /// <summary>What to tell the user once the terminal is back (detached from a daemon, the daemon stopped), or null.</summary>
    public string? ExitMessage { get; private set; }

    /// <summary>The interface shows a daemon's session (or several), not one in its own process.</summary>
    internal bool Attached => _backend.Info.Kind != BackendKind.Local;

    /// <summary>The backend when it shows several daemons, otherwise null.</summary>
    private IHostedBackend? Hosted => _backend as IHostedBackend;

    /// <summary>The watch folder is being watched by the interface.</summary>
    internal bool IsWatching => _watchFolder is not null;

    /// <summary>The list on screen is the last one seen from a daemon that cannot be reached now.</summary>
    internal bool IsStale => _unavailable is not null;

    internal TorrentListView Table => _table;
    internal TorrentList List => _list;
    internal DetailsView Details => _details;
    internal bool IsDetailsOpen => _details.Visible;
    internal bool IsFinding => _findField.Visible;
    internal TextField FindField => _findField;
    internal string TitleText => _titleLine.Text ?? "";
    internal string StatusText => _statusLine.Text ?? "";
    internal View StatusLineView => _statusLine;
    internal View TitleLineView => _titleLine;
    internal string HintText => _hintLine.Text ?? "";
    internal IReadOnlyList<LogEntry> InterfaceLog => _interfaceLog;
    internal RateHistory SessionHistory => _sessionHistory;
    internal SessionSnapshot? Session => _session;

    /// <summary>The torrent under the cursor (or the one whose details are open).</summary>
    internal TorrentSnapshot? CurrentTorrent
    {
        get
        {
            if (IsDetailsOpen && _details.TorrentId is { } id) return _list.Find(id);
            int row = _table.CursorRow;
            return row >= 0 && row < _list.Rows.Count ? _list.Rows[row] : null;
        }
    }

    /// <summary>Starts the refresh timer, the first (background) load and the watch folder. Call once the window runs.</summary>
    public void Start()
    {
        _table.SetFocus();
        Reflow();
        _timer = _app.AddTimeout(_options.EffectiveRefreshInterval, () =>
        {
            if (_stopping) return false;
            OnTick();
            return true;
        });
        RefreshNow();
        // Over several daemons the settings are each daemon's, read when they are edited.
        if (Hosted is null) LoadSettings();
    }

    /// <summary>Stops the timer and the watch folder; nothing is posted to the interface thread afterwards.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        if (_timer is not null)
        {
            try
            {
                _app.RemoveTimeout(_timer);
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                // The application is already gone; its timers went with it.
            }
        }
        _app.Keyboard.KeyDown -= OnAppKeyDown;
        if (_watchFolder is { } watch)
        {
            _watchFolder = null;
            await watch.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Fetches snapshots now (unless a fetch is under way, in which case another follows it).</summary>
    internal void RefreshNow()
    {
        if (_stopping) return;
        if (_fetching)
        {
            _refreshAgain = true;
            return;
        }
        _fetching = true;
        int generation = _limitGeneration;
        string? detailsId = IsDetailsOpen ? _details.TorrentId : null;
        Task<(SessionSnapshot, DetailsResult)> fetch = FetchAsync(detailsId);
        WhenDone(fetch, t =>
        {
            _fetching = false;
            if (t.IsFaulted)
            {
                OnFetchFailed(Unwrap(t.Exception!));
            }
            else if (t.IsCompletedSuccessfully)
            {
                (SessionSnapshot session, DetailsResult details) = t.Result;
                Apply(session, details, detailsId, generation == _limitGeneration && _limitChangesInFlight == 0);
            }
            if (_refreshAgain)
            {
                _refreshAgain = false;
                RefreshNow();
            }
        });
    }

    /// <summary>The open torrent's details as fetched: them, or why they could not be read.</summary>
    private readonly record struct DetailsResult(TorrentDetails? Details, Exception? Error);

    private async Task<(SessionSnapshot, DetailsResult)> FetchAsync(string? detailsId)
    {
        SessionSnapshot session = await _backend.GetSessionAsync().ConfigureAwait(false);
        if (detailsId is null) return (session, default);
        try
        {
            return (session, new DetailsResult(await _backend.GetDetailsAsync(detailsId).ConfigureAwait(false), null));
        }
        catch (Exception e)
        {
            // The list still refreshes when one torrent's details cannot be read (its daemon, of several, went away).
            return (session, new DetailsResult(null, e));
        }
    }

    private void OnFetchFailed(Exception e)
    {
        if (e is BackendUnavailableException unavailable)
        {
            // The daemon is away and its backend keeps trying: the last list stays, marked stale, and the status line
            // says why and when the next attempt is. Logged once per new reason, not once per refresh.
            string message = TorrentText.OneLine(unavailable.Message);
            if (_unavailable?.Message != message) Log("Cannot reach the session: " + message, error: true);
            _unavailable = new Unavailable(message, unavailable.RetryAt);
            UpdateStatus();
            UpdateTitle();
            UpdateEmptyNote();
            return;
        }
        ShowError("Cannot read the session: " + e.Message);
    }

    private void OnTick()
    {
        if (_message is not null && _time.GetUtcNow() >= _messageUntil)
        {
            _message = null;
            UpdateHints();
        }
        RefreshNow();
        RefreshDiskSpace();
        // Retry countdowns move on even while a fetch is still out.
        UpdateStatus();
    }

    private void Apply(SessionSnapshot session, DetailsResult details, string? detailsId, bool adoptLimits)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (_unavailable is not null)
        {
            _unavailable = null;
            ShowMessage("Connected again.");
            if (_settings is null && Hosted is null) LoadSettings();
        }
        ReportHostChanges(_session?.Hosts, session.Hosts);
        _sessionHistory.Add(now, session.DownloadRate, session.UploadRate);
        if (adoptLimits)
        {
            _downloadLimit = session.DownloadLimit;
            _uploadLimit = session.UploadLimit;
        }

        bool first = _session is null;
        _session = session;
        string? keep = CurrentTorrentIdFromList();
        // Unchanged torrents keep their snapshots, so telling what changed costs a reference comparison each.
        bool torrentsChanged = _list.Update(session.Torrents) || first;
        RecordTorrentHistory(session, now);
        if (torrentsChanged)
        {
            ReflowColumns();
            // A torrent just added gets the cursor once it shows up.
            if (_selectAfterRefresh is { } added && _list.IndexOf(added) >= 0)
            {
                keep = added;
                _selectAfterRefresh = null;
            }
            ShowRows(keep, onlyIfShownChanged: true);
        }
        if (first) RefreshDiskSpace();
        UpdateTitle();
        UpdateStatus();

        if (detailsId is not null && IsDetailsOpen && _details.TorrentId == detailsId)
        {
            bool listed = _list.Find(detailsId) is not null;
            if (details.Error is { } error && listed)
            {
                // Still in the list: the details stay as they were and the reason shows.
                ShowError("Cannot read the torrent: " + Describe(error));
            }
            else if (details.Details is null)
            {
                CloseDetails();
                ShowMessage(details.Error is null ? "That torrent is no longer in the session."
                    : "That torrent left the list: its daemon is not answering.");
            }
            else
            {
                _details.Update(new DetailsContext(details.Details, _torrentHistory.GetValueOrDefault(detailsId)?.Rates, _sessionHistory));
            }
        }
    }

    /// <summary>Says when one of several daemons stops answering or answers again.</summary>
    private void ReportHostChanges(IReadOnlyList<HostStatus>? before, IReadOnlyList<HostStatus>? now)
    {
        if (now is null) return;
        foreach (HostStatus host in now)
        {
            HostStatus? old = before?.FirstOrDefault(h => h.Name == host.Name);
            if (host.Connected && old is { Connected: false }) ShowMessage($"{host.Name} is answering again.");
            else if (!host.Connected && (old is null || old.Connected) && host.Problem is { } problem)
            {
                // A daemon not reached since the start is logged, not flashed: the status line says it.
                if (old is null) Log($"{host.Name}: {problem}", error: true);
                else ShowError($"{host.Name}: {problem}");
            }
        }
    }

    private void RecordTorrentHistory(SessionSnapshot session, DateTimeOffset now)
    {
        // Only torrents that moved data get a history: a thousand idle seeds cost a look at their rates, nothing more.
        // Histories of torrents that went quiet get their zero samples; those of torrents gone from the session go.
        _historyRound++;
        foreach (TorrentSnapshot t in session.Torrents)
        {
            if (t.DownloadRate == 0 && t.UploadRate == 0) continue;
            if (!_torrentHistory.TryGetValue(t.Id, out TorrentHistory? history))
            {
                history = new TorrentHistory(new RateHistory(TimeSpan.FromSeconds(2), 180));
                _torrentHistory[t.Id] = history;
            }
            history.Rates.Add(now, t.DownloadRate, t.UploadRate);
            history.Round = _historyRound;
        }
        if (_torrentHistory.Count == 0) return;
        List<string>? gone = null;
        foreach ((string id, TorrentHistory history) in _torrentHistory)
        {
            if (history.Round == _historyRound) continue;
            if (_list.Find(id) is null) (gone ??= []).Add(id);
            else history.Rates.Add(now, 0, 0);
        }
        if (gone is not null) foreach (string id in gone) _torrentHistory.Remove(id);
    }

    /// <summary>A torrent's rate history and the last refresh that gave it a sample with data moving.</summary>
    private sealed class TorrentHistory(RateHistory rates)
    {
        public RateHistory Rates { get; } = rates;
        public long Round { get; set; }
    }

    private string? CurrentTorrentIdFromList()
    {
        int row = _table.CursorRow;
        return row >= 0 && row < _list.Rows.Count ? _list.Rows[row].Id : null;
    }

    /// <summary>
    /// Shows the list's rows again, keeping the cursor on <paramref name="keepId"/> when it is still shown; with
    /// <paramref name="onlyIfShownChanged"/> (a refresh) the table redraws only when a row on screen changed.
    /// </summary>
    private void ShowRows(string? keepId, bool onlyIfShownChanged = false)
    {
        int row = _list.IndexOf(keepId);
        if (row < 0) row = Math.Clamp(_table.CursorRow, 0, Math.Max(0, _list.Rows.Count - 1));
        if (onlyIfShownChanged) _table.SetRowsIfChanged(_list.Rows.Count, row);
        else _table.SetRows(_list.Rows.Count, row);
        UpdateEmptyNote();
    }

    private void UpdateEmptyNote()
    {
        SetText(_emptyNote, _session is null ? (_unavailable is null ? "Loading torrents..." : "Waiting for the daemon (the status line says why).")
            : _session.Hosts is { } hosts && !hosts.Any(h => h.Connected) ? "No daemon is answering (the status line says why)."
            : _list.All.Count == 0 ? "No torrents yet. Press Backspace (or Insert) to add one, F1 for every key."
            : "No torrent matches the filter. Press Esc to clear the name filter, f to change the state filter, v the category or tag filter.");
        _emptyNote.Visible = _list.Rows.Count == 0 && !IsDetailsOpen;
    }

    private void Reflow()
    {
        int width = _table.Viewport.Width > 0 ? _table.Viewport.Width : _app.Screen.Width;
        if (width <= 0) return;
        if (_rows.Reflow(width, HostColumnWidth())) _table.SetNeedsDraw();
        UpdateStatus();
        UpdateTitle();
        UpdateHints();
    }

    /// <summary>The Host column's width: the longest host name while the list shows several daemons, otherwise 0.</summary>
    private int HostColumnWidth()
    {
        if (!_list.HasHosts) return 0;
        int longest = _session?.Hosts is { Count: > 0 } hosts ? hosts.Max(h => h.Name.Length)
            : _list.All.Max(t => t.Host?.Length ?? 0);
        return Math.Clamp(longest, 4, TorrentColumns.MaxHostWidth);
    }

    /// <summary>Shows or hides the Host column when the list starts or stops showing several daemons.</summary>
    private void ReflowColumns()
    {
        int hostWidth = HostColumnWidth();
        if (_rows.HostWidth != hostWidth && _rows.Reflow(_rows.TableWidth, hostWidth)) _table.SetNeedsDraw();
    }

    private void OnHeaderClicked(TorrentColumn column)
    {
        // A click on a column header sorts by that column (again: reverses), as in most torrent clients.
        string? keep = CurrentTorrentIdFromList();
        _list.SortBy(column);
        ShowRows(keep);
        UpdateTitle();
    }

    private void UpdateTitle()
    {
        int width = Math.Max(20, Frame.Width > 0 ? Frame.Width : _app.Screen.Width);
        string text;
        if (IsDetailsOpen && CurrentTorrent is { } t)
        {
            text = $"{_options.Title} > {t.Name}  |  {TorrentText.State(t)}  {TorrentText.Percent(t.Progress)}  |  Esc back";
        }
        else
        {
            int all = _list.All.Count;
            string count = all == 1 ? "1 torrent" : $"{all} torrents";
            if (_list.Rows.Count != all) count += $" ({_list.Rows.Count} shown)";
            if (_unavailable is not null) count += " (stale: reconnecting)";
            string filter = _list.Filter == StateFilter.All ? "" : $"  |  {TorrentList.FilterName(_list.Filter)}";
            if (_list.Group.Kind != GroupFilterKind.All) filter += $"  |  {_list.Group.Title}";
            string find = _list.NameFilter.Length > 0 ? $"  |  find \"{_list.NameFilter}\"" : "";
            string sort = $"  |  sort {TorrentList.ColumnName(_list.SortColumn)} {(_list.Descending ? _profile.SortDescending : _profile.SortAscending)}";
            (string attached, string where) = Attachment();
            // What goes first when the line is too long: the sort, then where the daemon is.
            string[] candidates =
            [
                $"{_options.Title}{attached}{where}  |  {count}{filter}{find}{sort}",
                $"{_options.Title}{attached}{where}  |  {count}{filter}{find}",
                $"{_options.Title}{attached}  |  {count}{filter}{find}",
            ];
            text = candidates.FirstOrDefault(c => c.Length <= width) ?? candidates[^1];
        }
        SetText(_titleLine, TorrentText.Fit(text, width));
    }

    /// <summary>" — attached to daemon" and " (where)" for the title line; empty for a session in this process.</summary>
    private (string Attached, string Where) Attachment()
    {
        BackendInfo info = _backend.Info;
        string dash = _profile.Unicode ? " \u2014 " : " - ";
        // A socket under the home folder reads as ~/... (shorter, and what users type).
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string name = home.Length > 1 && info.Name.StartsWith(home + "/", StringComparison.Ordinal) ? "~" + info.Name[home.Length..] : info.Name;
        return info.Kind switch
        {
            BackendKind.Daemon => ($"{dash}attached to daemon", $" ({name})"),
            BackendKind.Multiple => ($"{dash}attached to {Hosted?.HostNames.Count ?? 0} daemons", $" ({info.Name})"),
            _ => ("", ""),
        };
    }

    private void UpdateStatus()
    {
        int width = Math.Max(20, Frame.Width > 0 ? Frame.Width : _app.Screen.Width);
        DateTimeOffset now = _time.GetUtcNow();
        string text = _unavailable is { } away ? StatusLine.BuildUnavailable(away.Message, away.RetryAt, now, width)
            : _session?.Hosts is { Count: > 0 } ? StatusLine.BuildHosts(_session, now, width, _profile.Unicode)
            : StatusLine.Build(_session, _freeBytes, width);
        SetText(_statusLine, text);
    }

    private void UpdateHints()
    {
        int width = Math.Max(20, Frame.Width > 0 ? Frame.Width : _app.Screen.Width);
        string text = _message is not null ? (_messageIsError ? "! " : "") + _message : KeyHelp.Hints(HintScope(), width, Attached);
        SetText(_hintLine, TorrentText.Fit(text, width));
    }

    private KeyScope HintScope() =>
        !IsDetailsOpen ? KeyScope.List
        : _details.Current is FilesTab ? KeyScope.FilesTab
        : _details.Current is PeersTab ? KeyScope.SortableTab
        : KeyScope.Details;

    private static void SetText(View view, string text)
    {
        // Setting the same text would still mark the view for drawing.
        if (view.Text != text) view.Text = text;
    }

    private void RefreshDiskSpace()
    {
        DateTimeOffset now = _time.GetUtcNow();
        // Over several daemons there is no one disk to show (the status line shows each daemon's rates instead).
        if (Hosted is not null || _diskQueryRunning || now - _freeBytesAt < DiskSpaceInterval) return;
        string? folder = _settings?.DownloadFolder;
        if (string.IsNullOrWhiteSpace(folder))
        {
            folder = _session?.Torrents.FirstOrDefault()?.SavePath;
        }
        if (string.IsNullOrWhiteSpace(folder)) return;
        _diskQueryRunning = true;
        _freeBytesAt = now;
        // Asked of the backend: attached to a daemon, the disk that matters is the daemon's. The backend never runs
        // statvfs (which can hang on a dead network share) on the interface thread.
        WhenDone(_backend.GetFreeSpaceAsync(folder), t =>
        {
            _diskQueryRunning = false;
            if (!t.IsCompletedSuccessfully || t.Result == _freeBytes) return;
            _freeBytes = t.Result;
            UpdateStatus();
        });
    }

    /// <summary>Runs <paramref name="then"/> on the interface thread once <paramref name="task"/> is done.</summary>
    private void WhenDone<T>(T task, Action<T> then) where T : Task
    {
        if (task.IsCompleted)
        {
            then(task);
            return;
        }
        task.ContinueWith(t => Post(() => then((T)t)), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Queues <paramref name="action"/> on the interface thread, unless the interface is stopping.</summary>
    private void Post(Action action)
    {
        if (_stopping) return;
        try
        {
            _app.Invoke(() =>
            {
                if (!_stopping) action();
            });
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or NullReferenceException)
        {
            // The application ended between the check and the call.
        }
    }

    /// <summary>Shows a note in the hint line for a few seconds (and keeps it in the interface log).</summary>
    internal void ShowMessage(string text) => SetMessage(text, false);

    /// <summary>Shows a problem in the hint line for a few seconds (and keeps it in the interface log).</summary>
    internal void ShowError(string text)
    {
        // A backend that stays unreachable would otherwise repeat the same line into the log every refresh.
        if (text == _lastError && _message == text) return;
        _lastError = text;
        SetMessage(text, true);
    }

    private void SetMessage(string text, bool error)
    {
        text = TorrentText.OneLine(text);
        _message = text;
        _messageIsError = error;
        _messageUntil = _time.GetUtcNow() + MessageTime;
        Log(text, error);
        UpdateHints();
    }

    /// <summary>Keeps a line in the interface log (shown with the session log) without showing it in the hint line.</summary>
    private void Log(string text, bool error)
    {
        _interfaceLog.Add(new LogEntry(_time.GetUtcNow(), error ? PluginLogLevel.Warning : PluginLogLevel.Information, TorrentText.OneLine(text)));
        if (_interfaceLog.Count > 1000) _interfaceLog.RemoveRange(0, _interfaceLog.Count - 1000);
    }

    private static string Describe(Exception e) => Unwrap(e).Message;

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;

    private void LoadSettings()
    {
        if (_settingsLoading) return;
        _settingsLoading = true;
        Task<EditableSettings> load;
        try
        {
            load = _backend.GetSettingsAsync();
        }
        catch (Exception e)
        {
            load = Task.FromException<EditableSettings>(e);
        }
        WhenDone(load, t =>
        {
            _settingsLoading = false;
            if (t.IsCompletedSuccessfully) OnSettings(t.Result);
            // A daemon that cannot be reached says so in the status line; its settings are read once it answers.
            else if (t.IsFaulted && Unwrap(t.Exception!) is not BackendUnavailableException)
            {
                ShowError("Cannot read the settings: " + Describe(t.Exception!));
            }
        });
    }

    private void OnSettings(EditableSettings settings)
    {
        bool folderChanged = _settings?.DownloadFolder != settings.DownloadFolder;
        string? oldWatch = _settings?.WatchFolder;
        _settings = settings;
        if (folderChanged)
        {
            _freeBytesAt = DateTimeOffset.MinValue;
            RefreshDiskSpace();
        }
        // Attached, the watch folder is the daemon's to watch (it is a folder on its machine).
        if (_options.RunWatchFolder && !Attached && oldWatch != settings.WatchFolder) RestartWatchFolder(settings.WatchFolder);
    }

    private void RestartWatchFolder(string folder)
    {
        WatchFolder? old = _watchFolder;
        _watchFolder = null;
        if (old is not null) _ = old.DisposeAsync().AsTask();
        if (string.IsNullOrWhiteSpace(folder)) return;
        var watch = new WatchFolder(PathCompletion.Expand(folder), AddFromWatchFolderAsync,
            // Files settle in real time whatever clock the interface is given.
            new WatchFolderOptions { PollInterval = _options.WatchFolderPollInterval, Time = TimeProvider.System });
        watch.Reported += report => Post(() =>
        {
            if (report.IsError) ShowError(report.Message);
            else ShowMessage(report.Message);
            RefreshNow();
        });
        _watchFolder = watch;
        watch.Start();
    }

    private Task AddFromWatchFolderAsync(string source, CancellationToken cancellationToken)
    {
        string saveTo = _settings?.DownloadFolder is { Length: > 0 } f ? PathCompletion.Expand(f) : Environment.CurrentDirectory;
        return _backend.AddTorrentAsync(source, saveTo, start: _settings?.StartAddedTorrents ?? true, picker: null, storage: null, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stopping = true;
            _app.Keyboard.KeyDown -= OnAppKeyDown;
        }
        base.Dispose(disposing);
    }
}
