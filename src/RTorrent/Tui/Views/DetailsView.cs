using RTorrent.Abstractions;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace RTorrent.Tui.Views;

/// <summary>
/// The selected torrent in tabs (Info, Files, Peers, Trackers, Pieces, Log, Web seeds). Tabs switch with Tab/Shift+Tab, the
/// number keys or a click on the strip. Only the current tab is visible, so only it is drawn.
/// </summary>
internal sealed class DetailsView : View
{
    private readonly TabStrip _strip;
    private readonly DetailsTab[] _tabs;
    private DetailsContext? _context;

    public DetailsView(TerminalProfile profile, TimeProvider time, Action<IReadOnlyList<int>, Priority> setPriority)
    {
        Width = Dim.Fill();
        Height = Dim.Fill();
        CanFocus = true;
        Info = new InfoTab(profile);
        Files = new FilesTab(setPriority);
        Peers = new PeersTab(profile);
        Trackers = new TrackersTab(time);
        Pieces = new PiecesTab(profile);
        Log = new LogTab(profile);
        WebSeeds = new WebSeedsTab(time);
        // Web seeds last: the digits 1-6 kept what they meant before web seeds had a tab.
        _tabs = [Info, Files, Peers, Trackers, Pieces, Log, WebSeeds];
        _strip = new TabStrip(_tabs.Select(t => t.Title)) { X = 0, Y = 0, Width = Dim.Fill() };
        _strip.TabClicked += Select;
        Add(_strip);
        foreach (DetailsTab tab in _tabs)
        {
            tab.X = 0;
            tab.Y = 1;
            tab.Height = Dim.Fill();
            tab.Visible = false;
            Add(tab);
        }
        _tabs[0].Visible = true;
    }

    public InfoTab Info { get; }
    public FilesTab Files { get; }
    public PeersTab Peers { get; }
    public TrackersTab Trackers { get; }
    public PiecesTab Pieces { get; }
    public LogTab Log { get; }
    public WebSeedsTab WebSeeds { get; }

    /// <summary>The id of the torrent shown, or null.</summary>
    public string? TorrentId { get; private set; }

    /// <summary>The current tab's index.</summary>
    public int SelectedIndex => _strip.Selected;

    /// <summary>The current tab.</summary>
    public DetailsTab Current => _tabs[_strip.Selected];

    /// <summary>The tab strip's text.</summary>
    public string StripText => _strip.Render();

    /// <summary>Switches to the torrent <paramref name="id"/> (keeping the current tab, as a user flipping through torrents expects).</summary>
    public void Open(string id)
    {
        if (TorrentId == id) return;
        TorrentId = id;
        _context = null;
        foreach (DetailsTab tab in _tabs) tab.Reset();
    }

    /// <summary>Takes a refreshed snapshot of the torrent; only the visible tab redraws.</summary>
    public void Update(DetailsContext context)
    {
        if (context.Details.Summary.Id != TorrentId) return;
        _context = context;
        Current.Update(context);
    }

    /// <summary>Switches to tab <paramref name="index"/>.</summary>
    public void Select(int index)
    {
        index = (index % _tabs.Length + _tabs.Length) % _tabs.Length;
        if (index == _strip.Selected) return;
        Current.Visible = false;
        _strip.Selected = index;
        Current.Visible = true;
        if (_context is not null) Current.Update(_context);
        FocusCurrent();
        SetNeedsLayout();
    }

    /// <summary>Gives the current tab the keyboard.</summary>
    public void FocusCurrent()
    {
        View inner = Current.SubViews.FirstOrDefault(v => v.CanFocus) ?? Current;
        inner.SetFocus();
    }

    /// <summary>Tab switching and the current tab's own keys; true when handled.</summary>
    public bool HandleKey(Key key)
    {
        if (key == Key.Tab)
        {
            Select(_strip.Selected + 1);
            return true;
        }
        if (key == Key.Tab.WithShift)
        {
            Select(_strip.Selected - 1);
            return true;
        }
        if (KeyText.Char(key) is >= '1' and <= '9' and var digit && digit - '1' < _tabs.Length)
        {
            Select(digit - '1');
            return true;
        }
        return Current.HandleKey(key);
    }
}
