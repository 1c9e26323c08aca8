using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Demo;

/// <summary>How the demo swarm looks.</summary>
public sealed record DemoOptions
{
    /// <summary>Seeders and their upload limits in bytes/s (different speeds make the Peers view interesting).</summary>
    public IReadOnlyList<long> SeederUploadLimits { get; init; } = [4L << 20, 6L << 20, 9L << 20];

    /// <summary>The files (path starting with the torrent name, length).</summary>
    public IReadOnlyList<(string Path, long Length)> Files { get; init; } = GeneratedPayload.DefaultFiles;

    /// <summary>Piece length.</summary>
    public long PieceLength { get; init; } = 512 * 1024;
}

/// <summary>
/// A swarm in this process: an HTTP tracker on 127.0.0.1 and a few seeders whose data is generated on the fly, for
/// <c>rtorrent demo</c>. The user's session downloads the torrent from them like from any swarm.
/// </summary>
public sealed class DemoSwarm : IAsyncDisposable
{
    private readonly List<ClientEngine> _seeders = [];
    private readonly DemoTracker _tracker = new();

    private DemoSwarm() { }

    /// <summary>The demo torrent.</summary>
    public TorrentMetainfo Torrent { get; private set; } = null!;

    /// <summary>The tracker's announce URL.</summary>
    public string AnnounceUrl => _tracker.AnnounceUrl;

    /// <summary>Seeders' listen endpoints.</summary>
    public IReadOnlyList<IPEndPoint> Seeders => _seeders.Select(s => new IPEndPoint(IPAddress.Loopback, s.ListenPort)).ToArray();

    /// <summary>Starts the tracker and the seeders; returns when every seeder has announced.</summary>
    public static async Task<DemoSwarm> StartAsync(DemoOptions? options = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        options ??= new DemoOptions();
        var swarm = new DemoSwarm();
        try
        {
            swarm._tracker.Start();
            var payload = new GeneratedPayload();
            var name = options.Files[0].Path.Split('/')[0];
            swarm.Torrent = await Task.Run(() => payload.CreateTorrent(name, options.Files, options.PieceLength, swarm._tracker.AnnounceUrl, cancellationToken), cancellationToken);
            var catalog = new SeederCatalog(payload, new TrackerPeerSourceFactory(loggerFactory: loggerFactory));
            foreach (var limit in options.SeederUploadLimits)
            {
                var engine = new ClientEngine(new EngineConfig
                {
                    ListenAddress = IPAddress.Loopback,
                    UploadLimit = limit,
                    ClientName = "RTorrent demo seeder",
                }, new ClientEngineOptions { Catalog = catalog, LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance });
                swarm._seeders.Add(engine);
                await engine.StartAsync();
                var have = new Bitfield(swarm.Torrent.PieceCount);
                have.SetAll();
                await engine.AddAsync(swarm.Torrent, new TorrentOptions { SavePath = Path.GetTempPath(), Storage = "generated" }, start: true, trustedHave: have);
            }
            return swarm;
        }
        catch
        {
            await swarm.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var s in _seeders) await s.DisposeAsync();
        await _tracker.DisposeAsync();
    }

    private sealed class SeederCatalog(GeneratedPayload payload, IPeerSourceFactory trackers) : IComponentCatalog, IStorageFactory
    {
        public IPiecePickerFactory? FindPicker(string name) => new RarestFirstPickerFactory();
        public IStorageFactory? FindStorage(string name) => this;
        public IReadOnlyList<IPeerSourceFactory> PeerSources { get; } = [trackers];
        public string Name => "generated";
        public string Version => "1.0";
        public string Description => "Generated demo data.";
        public ITorrentStorage Open(StorageContext context) => new GeneratedStorage(payload, context);
    }
}
