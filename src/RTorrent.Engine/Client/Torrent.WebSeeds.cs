using RTorrent.Abstractions;
using RTorrent.Engine.Client.RateLimiting;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.WebSeeds;

namespace RTorrent.Engine.Client;

/// <summary>The torrent's web seeds (docs/WEB-SEEDS.md): made when it first downloads with any, started on each start.</summary>
public sealed partial class Torrent : IWebSeedHost
{
    private WebSeedScheduler? _webSeeds;
    private IReadOnlyList<(string Url, WebSeedKind Kind)>? _webSeedSources;
    private IReadOnlyList<string>? _webSeedUrls;

    /// <summary>
    /// The web seeds: BEP 19 'url-list', then a magnet's 'ws' not already there, then BEP 17 'httpseeds' (the same list
    /// object while the metainfo is the same, so snapshots can reuse it).
    /// </summary>
    internal IReadOnlyList<(string Url, WebSeedKind Kind)> WebSeedSources
    {
        get
        {
            if (_webSeedSources is { } known) return known;
            if (_metainfo is { WebSeeds.Count: 0, HttpSeeds.Count: 0 } && Magnet?.WebSeeds is null or { Count: 0 })
            {
                // Most torrents: nothing to hold (ten thousand idle torrents share the empty lists).
                _webSeedUrls = [];
                return _webSeedSources = [];
            }
            var list = new List<(string, WebSeedKind)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var u in _metainfo?.WebSeeds ?? []) if (seen.Add(u)) list.Add((u, WebSeedKind.Url));
            foreach (var u in Magnet?.WebSeeds ?? [])
            {
                if (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) continue;
                var url = _metainfo is { IsMultiFile: true } && !u.EndsWith('/') ? u + "/" : u;
                if (seen.Add(url)) list.Add((url, WebSeedKind.Url));
            }
            foreach (var u in _metainfo?.HttpSeeds ?? []) if (seen.Add(u)) list.Add((u, WebSeedKind.Http));
            // Before the metadata is known the list is not final: do not keep it.
            if (_metainfo is null) return list;
            _webSeedUrls = list.ConvertAll(s => s.Item1);
            return _webSeedSources = list;
        }
    }

    /// <summary>The web seeds' URLs (for the snapshot's list).</summary>
    internal IReadOnlyList<string> WebSeedUrls
    {
        get
        {
            var sources = WebSeedSources;
            return _webSeedUrls ?? sources.Select(s => s.Url).ToArray();
        }
    }

    /// <summary>The metainfo changed: the web seeds are made again from it.</summary>
    private void ResetWebSeeds()
    {
        _webSeeds = null;
        _webSeedSources = null;
        _webSeedUrls = null;
    }

    /// <summary>Starts the web seeds' workers when the torrent downloads (each worker stops by itself otherwise).</summary>
    private void UpdateWebSeeds()
    {
        if (_state != TorrentState.Downloading)
        {
            _webSeeds?.Pause();
            return;
        }
        if (_metainfo is not { IsUsable: true } || Storage is null) return;
        if (_host.Config.WebSeedConnections <= 0) return;
        if (_webSeeds is null)
        {
            var sources = WebSeedSources;
            if (sources.Count == 0) return;
            _webSeeds = new WebSeedScheduler(this, sources, _host.Config.WebSeedPolicy);
        }
        _webSeeds.Start();
    }

    /// <summary>The web seed settings changed (on the loop).</summary>
    internal void WebSeedSettingsChanged() => UpdateWebSeeds();

    /// <summary>Web seeds sending to us now.</summary>
    internal int WebSeedsSendingToUs => _webSeeds?.SendingToUs ?? 0;

    /// <summary>The web seeds as the interface shows them (on the loop).</summary>
    internal IReadOnlyList<WebSeedSnapshot> WebSeedSnapshots() =>
        _webSeeds?.Snapshot() ?? [.. WebSeedSources.Select(s => new WebSeedSnapshot { Url = s.Url, Kind = s.Kind })];

    // ---------------------------------------------------------------- web seeds

    PieceManager IWebSeedHost.Pieces => _pieces;
    TorrentMetainfo IWebSeedHost.Meta => Meta;
    InfoHash IWebSeedHost.InfoHash => InfoHash;
    bool IWebSeedHost.Downloading => State == TorrentState.Downloading;
    bool IWebSeedHost.Sequential => Sequential;
    EngineLoop IWebSeedHost.Loop => _host.Loop;
    CancellationToken IWebSeedHost.RunToken => _runCts.Token;
    TimeProvider IWebSeedHost.Time => _host.Time;
    HttpClient IWebSeedHost.Http => _host.WebSeedHttp;
    RateLimiter IWebSeedHost.DownloadLimiter => DownloadLimiter;
    int IWebSeedHost.ConnectionsPerSeed => _host.Config.WebSeedConnections;
    long IWebSeedHost.PendingDiskBytes => _completion?.PendingDiskBytes ?? 0;
    long IWebSeedHost.MaxPendingDiskBytes => _host.Config.MaxPendingDiskBytes;
    void IWebSeedHost.Log(PluginLogLevel level, string message) => Log(level, message);
    void IWebSeedHost.Activate() => _host.Activate(this);
    void IWebSeedHost.Block(WebSeed seed, int piece, int begin, int length, byte[] data) => Requests.OnWebSeedBlock(seed, piece, begin, length, data);
    void IPieceCompletionHost.WebSeedBadPiece(WebSeed seed, int piece) => _webSeeds?.BadPiece(seed, piece);
}
