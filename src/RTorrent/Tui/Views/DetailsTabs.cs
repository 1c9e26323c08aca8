using System.Globalization;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace RTorrent.Tui.Views;

/// <summary>What a details tab draws from.</summary>
/// <param name="Details">The torrent.</param>
/// <param name="TorrentHistory">The torrent's recent rates, if it has moved data since the interface started.</param>
/// <param name="SessionHistory">The session's recent rates.</param>
internal sealed record DetailsContext(TorrentDetails Details, RateHistory? TorrentHistory, RateHistory SessionHistory);

/// <summary>One tab of the details view.</summary>
internal abstract class DetailsTab : View
{
    protected DetailsTab(string title)
    {
        Title = title;
        Width = Dim.Fill();
        Height = Dim.Fill();
        CanFocus = true;
    }

    /// <summary>Draws the torrent (called with every refreshed snapshot; redraw only what changed).</summary>
    public abstract void Update(DetailsContext context);

    /// <summary>Keys only this tab understands; true when handled.</summary>
    public virtual bool HandleKey(Key key) => false;

    /// <summary>Forgets the previous torrent (another one is opened).</summary>
    public virtual void Reset() { }
}

/// <summary>Info: everything about the torrent in one scrollable page, with rate sparklines at the end.</summary>
internal sealed class InfoTab : DetailsTab
{
    private readonly LinesView _lines = new() { Width = Dim.Fill(), Height = Dim.Fill() };
    private readonly TerminalProfile _profile;

    public InfoTab(TerminalProfile profile) : base("Info")
    {
        _profile = profile;
        _lines.UseColor = profile.Color;
        Add(_lines);
    }

    internal LinesView Lines => _lines;

    public override void Update(DetailsContext context) => _lines.SetLines(Build(context, Math.Max(20, Viewport.Width)));

    private List<TextLine> Build(DetailsContext c, int width)
    {
        TorrentSnapshot t = c.Details.Summary;
        var lines = new List<TextLine>();
        void Add(string label, string value, ColorName16? color = null) => lines.Add(new TextLine($"{label,-14}{value}", color));

        int graphWidth = Math.Max(10, width - 14 - 12);
        Add("Name", t.Name);
        Add("State", TorrentText.State(t), t.State == TorrentState.Error ? ColorName16.BrightRed : null);
        Add("Progress", $"{TorrentText.Bar(t.Progress, 20)} {TorrentText.Percent(t.Progress)}  {Units.Size(t.Done)} of {Units.Size(t.Size)}");
        Add("Rates", $"down {Units.Rate(t.DownloadRate)}, up {Units.Rate(t.UploadRate)}");
        AddGraph(lines, "Down (graph)", c.TorrentHistory, graphWidth, down: true);
        AddGraph(lines, "Up (graph)", c.TorrentHistory, graphWidth, down: false);
        Add("Limits", $"down {Units.Limit(t.DownloadLimit)}, up {Units.Limit(t.UploadLimit)}");
        Add("Peers", string.Create(CultureInfo.InvariantCulture,
            $"{t.PeersConnected} connected ({t.SeedsConnected} seeds), {t.PeersKnown} known"));
        Add("Time left", t.State == TorrentState.Downloading ? TorrentText.Duration(t.Eta) : "-");
        Add("Size", t.Size == t.TotalSize ? Units.Size(t.TotalSize) : $"{Units.Size(t.TotalSize)} ({Units.Size(t.Size)} wanted)");
        Add("Pieces", string.Create(CultureInfo.InvariantCulture,
            $"{t.PiecesHave} of {t.PieceCount} x {Units.Size(t.PieceLength)}, {t.HashFailures} failed hash checks, {Units.Size(t.Wasted)} wasted"));
        Add("Transferred", $"down {Units.Size(t.Downloaded)}, up {Units.Size(t.Uploaded)}, ratio {TorrentText.Ratio(t.Ratio)}");
        Add("Info-hash v1", t.InfoHashV1 ?? "-");
        if (t.InfoHashV2 is { } v2) Add("Info-hash v2", v2);
        Add("Save path", t.SavePath);
        Add("Added", TorrentText.Date(t.AddedAt));
        Add("Completed", TorrentText.Date(t.CompletedAt));
        Add("Created", TorrentText.Date(t.CreationDate));
        if (!string.IsNullOrWhiteSpace(t.Comment)) Add("Comment", TorrentText.OneLine(t.Comment));
        Add("Private", t.IsPrivate ? "yes (no DHT, PEX or local discovery)" : "no");
        Add("Sequential", t.Sequential ? "on (pieces in order)" : "off");
        Add("Super-seeding", t.SuperSeeding ? (t.State == TorrentState.Seeding ? "on (one piece at a time to each new peer)" : "on (from when it seeds)") : "off");
        Add("Piece picker", t.Picker.Length > 0 ? t.Picker : "-");
        Add("Storage", t.Storage.Length > 0 ? t.Storage : "-");
        Add("Category", $"{(t.Category.Length > 0 ? t.Category : "none")} (tags: {(t.Labels.Count > 0 ? string.Join(", ", t.Labels) : "none")})");
        Add("Error", t.State == TorrentState.Error && !string.IsNullOrWhiteSpace(t.Error) ? TorrentText.OneLine(t.Error) : "none",
            t.State == TorrentState.Error ? ColorName16.BrightRed : null);
        AddGraph(lines, "Session down", c.SessionHistory, graphWidth, down: true);
        AddGraph(lines, "Session up", c.SessionHistory, graphWidth, down: false);
        lines.Add(new TextLine($"{"",-14}graphs: one mark = {TorrentText.Duration(c.SessionHistory.Bucket)}, newest on the right"));
        return lines;
    }

    private void AddGraph(List<TextLine> lines, string label, RateHistory? history, int width, bool down)
    {
        if (history is null || history.Count == 0)
        {
            lines.Add(new TextLine($"{label,-14}(no data yet)"));
            return;
        }
        (long[] d, long[] u) = history.Latest(width);
        long[] values = down ? d : u;
        long peak = values.Length == 0 ? 0 : values.Max();
        lines.Add(new TextLine($"{label,-14}{Sparkline.Render(values, width, _profile.SparkLevels)} max {Units.CompactSize(peak)}/s",
            down ? ColorName16.Cyan : ColorName16.Magenta));
    }
}

/// <summary>Files: a tree by folder with size, progress and priority; priorities change with keys, for folders too.</summary>
internal sealed class FilesTab : DetailsTab
{
    private readonly FileTree _tree = new();
    private readonly RowsTable<FileTreeRow> _table;
    private readonly Action<IReadOnlyList<int>, Priority> _setPriority;

    public FilesTab(Action<IReadOnlyList<int>, Priority> setPriority) : base("Files")
    {
        _setPriority = setPriority;
        _table = new RowsTable<FileTreeRow>(
        [
            new("Name", (r, w) => new string(' ', r.Depth * 2) + (r.IsFolder ? (r.Expanded ? "[-] " : "[+] ") + r.Name + "/" : r.Name), 20, 1),
            new("Size", (r, _) => Units.CompactSize(r.Length), 5, RightAlign: true),
            new("Done", (r, w) => TorrentText.BarWithPercent(r.Progress, w), 12),
            new("Priority", (r, _) => FileTree.PriorityName(r.Priority), 8),
        ]);
        Add(_table);
    }

    internal RowsTable<FileTreeRow> Table => _table;

    internal FileTree Tree => _tree;

    public override void Reset() => _tree.Update([]);

    public override void Update(DetailsContext context)
    {
        string? current = _table.Current?.Path;
        _tree.Update(context.Details.Files);
        _table.SetItems(_tree.Rows, r => r.Path == current);
    }

    public override bool HandleKey(Key key)
    {
        FileTreeRow? row = _table.Current;
        if (row is null) return false;
        if (key == Key.Space) SetPriority(row, FileTree.ToggleSkip(row.Priority));
        else if (KeyText.IsChar(key, '+') || KeyText.IsChar(key, '=')) SetPriority(row, FileTree.Raise(row.Priority));
        else if (KeyText.IsChar(key, '-')) SetPriority(row, FileTree.Lower(row.Priority));
        else if (key == Key.Enter || key == Key.CursorRight)
        {
            if (row.IsFolder) Expand(row, !row.Expanded || key == Key.CursorRight);
            else return key == Key.CursorRight; // nothing to open, but the key means "open" here
        }
        else if (key == Key.CursorLeft)
        {
            if (row.IsFolder && row.Expanded) Expand(row, false);
            else
            {
                int parent = _tree.ParentOf(_table.CursorRow);
                if (parent >= 0) _table.SetItems(_tree.Rows, r => r.Path == _tree.Rows[parent].Path);
            }
        }
        else return false;
        return true;
    }

    private void Expand(FileTreeRow row, bool expanded)
    {
        _tree.SetExpanded(_table.CursorRow, expanded);
        _table.SetItems(_tree.Rows, r => r.Path == row.Path);
    }

    private void SetPriority(FileTreeRow row, Priority priority) => _setPriority(row.FileIndexes, priority);
}

/// <summary>Peers: the connected peers, sortable by any column.</summary>
internal sealed class PeersTab : DetailsTab
{
    private static readonly string[] Headers = ["Address", "Client", "Flags", "Down", "Up", "Has", "Got", "Sent", "Via"];
    private readonly RowsTable<PeerSnapshot> _table;
    private readonly TerminalProfile _profile;
    private IReadOnlyList<PeerSnapshot> _peers = [];
    private int _sortColumn = 3;
    private bool _descending = true;

    public PeersTab(TerminalProfile profile) : base("Peers")
    {
        _profile = profile;
        _table = new RowsTable<PeerSnapshot>(
        [
            new(Headers[0], (p, _) => p.Address, 21, 1),
            new(Headers[1], (p, _) => p.Client, 12, 1),
            new(Headers[2], (p, _) => p.Flags, 6),
            new(Headers[3], (p, _) => Units.CompactRate(p.DownloadRate), 5, RightAlign: true),
            new(Headers[4], (p, _) => Units.CompactRate(p.UploadRate), 5, RightAlign: true),
            new(Headers[5], (p, _) => TorrentText.Percent(p.Progress), 4, RightAlign: true),
            new(Headers[6], (p, _) => Units.CompactSize(p.Downloaded), 5, RightAlign: true),
            new(Headers[7], (p, _) => Units.CompactSize(p.Uploaded), 5, RightAlign: true),
            new(Headers[8], (p, _) => p.Transport == Engine.Peers.PeerTransport.Utp ? "uTP" : "TCP", 3),
        ]);
        Add(_table);
        MarkSortColumn();
    }

    internal RowsTable<PeerSnapshot> Table => _table;

    public override void Update(DetailsContext context)
    {
        _peers = context.Details.Peers;
        Show();
    }

    public override bool HandleKey(Key key)
    {
        if (KeyText.IsChar(key, '>')) SortBy((_sortColumn + 1) % Headers.Length, natural: true);
        else if (KeyText.IsChar(key, '<')) SortBy((_sortColumn + Headers.Length - 1) % Headers.Length, natural: true);
        else if (KeyText.IsChar(key, 'r')) SortBy(_sortColumn, natural: false);
        else return false;
        return true;
    }

    private void SortBy(int column, bool natural)
    {
        _descending = natural ? column >= 3 : !_descending;
        _sortColumn = column;
        MarkSortColumn();
        Show();
    }

    /// <summary>Addresses in numeric order (127.0.0.2 before 127.0.0.10), then by port.</summary>
    internal static int CompareAddresses(string a, string b)
    {
        if (!System.Net.IPEndPoint.TryParse(a, out System.Net.IPEndPoint? x) || !System.Net.IPEndPoint.TryParse(b, out System.Net.IPEndPoint? y))
        {
            return string.CompareOrdinal(a, b);
        }
        byte[] xb = x.Address.MapToIPv6().GetAddressBytes();
        byte[] yb = y.Address.MapToIPv6().GetAddressBytes();
        int c = xb.AsSpan().SequenceCompareTo(yb);
        return c != 0 ? c : x.Port.CompareTo(y.Port);
    }

    private void MarkSortColumn()
    {
        for (int i = 0; i < Headers.Length; i++)
        {
            _table.SetHeader(i, i == _sortColumn ? Headers[i] + (_descending ? _profile.SortDescending : _profile.SortAscending) : Headers[i]);
        }
    }

    private void Show()
    {
        Comparison<PeerSnapshot> compare = _sortColumn switch
        {
            0 => (a, b) => CompareAddresses(a.Address, b.Address),
            1 => (a, b) => string.Compare(a.Client, b.Client, StringComparison.OrdinalIgnoreCase),
            2 => (a, b) => string.CompareOrdinal(a.Flags, b.Flags),
            3 => (a, b) => a.DownloadRate.CompareTo(b.DownloadRate),
            4 => (a, b) => a.UploadRate.CompareTo(b.UploadRate),
            5 => (a, b) => a.Progress.CompareTo(b.Progress),
            6 => (a, b) => a.Downloaded.CompareTo(b.Downloaded),
            7 => (a, b) => a.Uploaded.CompareTo(b.Uploaded),
            _ => (a, b) => a.Transport.CompareTo(b.Transport),
        };
        int sign = _descending ? -1 : 1;
        var sorted = _peers.ToList();
        sorted.Sort((a, b) =>
        {
            int c = sign * compare(a, b);
            return c != 0 ? c : CompareAddresses(a.Address, b.Address);
        });
        string? current = _table.Current?.Address;
        _table.SetItems(sorted, p => p.Address == current);
    }
}

/// <summary>Trackers: every tracker and other peer source, with its state, last error and next contact.</summary>
internal sealed class TrackersTab : DetailsTab
{
    private readonly RowsTable<PeerSourceStatus> _table;
    private readonly TimeProvider _time;

    public TrackersTab(TimeProvider time) : base("Trackers")
    {
        _time = time;
        _table = new RowsTable<PeerSourceStatus>(
        [
            new("URL", (s, _) => s.Endpoint, 20, 1),
            new("Tier", (s, _) => s.Source == "tracker" || s.Tier > 0 ? s.Tier.ToString(CultureInfo.InvariantCulture) : "-", 4, RightAlign: true),
            new("Seeds", (s, _) => Count(s.Seeders), 5, RightAlign: true),
            new("Leech", (s, _) => Count(s.Leechers), 5, RightAlign: true),
            new("Next", (s, _) => s.NextContact is { } next ? TorrentText.Eta(next - _time.GetUtcNow()) : "-", 5, RightAlign: true),
            // The state and the last error share a column: at 80 columns two narrow ones would cut both.
            new("Status, last error", (s, _) => s.Message is { Length: > 0 } m ? $"{s.State}: {TorrentText.OneLine(m)}" : s.State, 16, 1),
        ]);
        Add(_table);
    }

    internal RowsTable<PeerSourceStatus> Table => _table;

    public override void Update(DetailsContext context)
    {
        // Trackers by tier (BEP 12 order), then the other sources (DHT, PEX, local discovery) after them.
        var sorted = context.Details.Sources
            .OrderBy(s => s.Source == "tracker" ? 0 : 1)
            .ThenBy(s => s.Tier)
            .ThenBy(s => s.Endpoint, StringComparer.Ordinal)
            .ToList();
        string? current = _table.Current?.Endpoint;
        _table.SetItems(sorted, s => s.Endpoint == current);
        _table.SetNeedsDraw(); // "next contact" counts down even when nothing else changed
    }

    private static string Count(int? n) => n is { } v ? v.ToString(CultureInfo.InvariantCulture) : "-";
}

/// <summary>Web seeds: each HTTP source (BEP 19 url-list, BEP 17 httpseeds) with its state, rate and last error.</summary>
internal sealed class WebSeedsTab : DetailsTab
{
    private readonly RowsTable<RTorrent.Engine.Client.WebSeedSnapshot> _table;
    private readonly TimeProvider _time;

    public WebSeedsTab(TimeProvider time) : base("Web seeds")
    {
        _time = time;
        _table = new RowsTable<RTorrent.Engine.Client.WebSeedSnapshot>(
        [
            new("URL", (s, _) => s.Url, 20, 1),
            new("BEP", (s, _) => s.Kind == RTorrent.Engine.WebSeeds.WebSeedKind.Url ? "19" : "17", 3, RightAlign: true),
            new("Down", (s, _) => Units.CompactRate(s.DownloadRate), 5, RightAlign: true),
            new("Got", (s, _) => Units.CompactSize(s.Downloaded), 5, RightAlign: true),
            new("Status, last error", (s, _) => Status(s), 16, 1),
        ]);
        Add(_table);
    }

    internal RowsTable<RTorrent.Engine.Client.WebSeedSnapshot> Table => _table;

    private string Status(RTorrent.Engine.Client.WebSeedSnapshot s)
    {
        string state = s.State switch
        {
            RTorrent.Engine.WebSeeds.WebSeedState.Active => s.Connections > 1 ? $"active ({s.Connections})" : "active",
            RTorrent.Engine.WebSeeds.WebSeedState.Backoff => s.RetryAt is { } at ? $"retry in {TorrentText.Eta(at - _time.GetUtcNow())}" : "waiting",
            RTorrent.Engine.WebSeeds.WebSeedState.Dropped => "dropped",
            _ => "idle",
        };
        return s.LastError is { Length: > 0 } e ? $"{state}: {TorrentText.OneLine(e)}" : state;
    }

    public override void Update(DetailsContext context)
    {
        string? current = _table.Current?.Url;
        _table.SetItems(context.Details.WebSeeds, s => s.Url == current);
        _table.SetNeedsDraw(); // "retry in" counts down even when nothing else changed
    }
}

/// <summary>Pieces: the map of have, downloading, missing and unwanted pieces.</summary>
internal sealed class PiecesTab : DetailsTab
{
    private readonly PieceMapView _map = new() { Width = Dim.Fill(), Height = Dim.Fill() };

    public PiecesTab(TerminalProfile profile) : base("Pieces")
    {
        _map.UseColor = profile.Color;
        Add(_map);
    }

    internal PieceMapView Map => _map;

    public override void Update(DetailsContext context) => _map.SetPieces(context.Details.Pieces);
}

/// <summary>Log: the torrent's own events, newest at the bottom, following new ones unless scrolled up.</summary>
internal sealed class LogTab : DetailsTab
{
    private readonly LinesView _lines = new() { Width = Dim.Fill(), Height = Dim.Fill(), FollowTail = true };

    public LogTab(TerminalProfile profile) : base("Log")
    {
        _lines.UseColor = profile.Color;
        Add(_lines);
    }

    internal LinesView Lines => _lines;

    public override void Update(DetailsContext context) => _lines.SetLines(LogLines.Format(context.Details.Log));
}

/// <summary>Log entries as lines: time, level and message; warnings and errors coloured where possible.</summary>
internal static class LogLines
{
    public static List<TextLine> Format(IEnumerable<LogEntry> entries) =>
    [
        .. entries.Select(e => new TextLine(
            $"{e.Time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {Level(e.Level),-5} {TorrentText.OneLine(e.Message)}",
            e.Level switch
            {
                PluginLogLevel.Error => ColorName16.BrightRed,
                PluginLogLevel.Warning => ColorName16.Yellow,
                PluginLogLevel.Debug => ColorName16.DarkGray,
                _ => null,
            })),
    ];

    private static string Level(PluginLogLevel level) => level switch
    {
        PluginLogLevel.Debug => "debug",
        PluginLogLevel.Information => "info",
        PluginLogLevel.Warning => "WARN",
        PluginLogLevel.Error => "ERROR",
        _ => level.ToString(),
    };
}
