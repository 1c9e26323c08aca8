using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Client.RateLimiting;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.WebSeeds;

/// <summary>What the web seeds read and do on their torrent (on the loop unless said otherwise).</summary>
internal interface IWebSeedHost
{
    /// <summary>The swarm's piece state (replaced when the metadata arrives, so read each time).</summary>
    PieceManager Pieces { get; }

    TorrentMetainfo Meta { get; }
    InfoHash InfoHash { get; }

    /// <summary>Only a downloading torrent fetches.</summary>
    bool Downloading { get; }

    /// <summary>Download in order: runs start at the stream position.</summary>
    bool Sequential { get; }

    EngineLoop Loop { get; }

    /// <summary>Cancelled when the torrent stops: requests in flight end, their pieces are given back.</summary>
    CancellationToken RunToken { get; }

    TimeProvider Time { get; }

    /// <summary>The engine's one HTTP client for web seeds (read off the loop).</summary>
    HttpClient Http { get; }

    /// <summary>The torrent's download limiter (a child of the session's), passed by every byte read.</summary>
    RateLimiter DownloadLimiter { get; }

    /// <summary>Connections (requests in flight) per web seed; 0 means web seeds are off.</summary>
    int ConnectionsPerSeed { get; }

    /// <summary>Bytes of pieces waiting for the disk: above <see cref="MaxPendingDiskBytes"/> nothing more is fetched.</summary>
    long PendingDiskBytes { get; }

    long MaxPendingDiskBytes { get; }

    void Log(PluginLogLevel level, string message);

    /// <summary>Payload is moving: keep the torrent ticked.</summary>
    void Activate();

    /// <summary>A block of a piece a web seed sent (its pooled buffer is handed over).</summary>
    void Block(WebSeed seed, int piece, int begin, int length, byte[] data);
}

/// <summary>
/// The web seeds of one torrent (BEP 19 and BEP 17), a source of pieces beside the peers. Each seed has up to
/// <see cref="IWebSeedHost.ConnectionsPerSeed"/> workers off the loop; a worker asks the loop for a run of whole free
/// pieces (<see cref="PieceManager.ReserveRun"/>: peers leave them alone until endgame), fetches them (BEP 19: ranged
/// GETs over the files the run covers; BEP 17: one GET per piece) straight into pooled blocks, and hands each piece to
/// the loop as soon as it is whole, where it goes through the same path as a peer's blocks (verification, writing,
/// HAVEs). A failed request gives back what it had not delivered and demotes its seed (<see cref="WebSeedHealth"/>);
/// a seed that keeps failing or sends bad pieces is dropped and the others, or the peers, fetch its pieces.
/// </summary>
internal sealed class WebSeedScheduler
{
    /// <summary>Smallest and largest run: a run is about two seconds of the seed's rate between these.</summary>
    internal const long MinRunBytes = 1024 * 1024, MaxRunBytes = 32 * 1024 * 1024;

    private static readonly TimeSpan NothingToDoWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DiskBusyWait = TimeSpan.FromMilliseconds(100);

    private readonly IWebSeedHost _host;
    private readonly List<WebSeed> _seeds = [];
    private readonly List<int> _scratch = [];
    private readonly List<WebSeedRange> _rangeScratch = [];
    private CancellationTokenSource? _generation; // one per stretch of downloading: cancelled when it ends
    private CancellationToken _run;                // its token
    private CancellationToken _torrentRun;          // the torrent's run it belongs to

    public WebSeedScheduler(IWebSeedHost host, IEnumerable<(string Url, WebSeedKind Kind)> seeds, WebSeedPolicy policy)
    {
        _host = host;
        Policy = policy;
        var meta = host.Meta;
        foreach (var (url, kind) in seeds)
            _seeds.Add(new WebSeed(url, kind, kind == WebSeedKind.Url ? new WebSeedLayout(meta, url) : null, meta.PieceCount, policy, host.Time));
    }

    public WebSeedPolicy Policy { get; }

    public IReadOnlyList<WebSeed> Seeds => _seeds;

    /// <summary>Some worker runs (the torrent stays on the tick list).</summary>
    public bool Working => _seeds.Exists(s => s.Workers > 0);

    /// <summary>The torrent downloads: start the workers that are missing (a new run forgets the last run's failures).</summary>
    public void Start()
    {
        int connections = _host.ConnectionsPerSeed;
        if (connections <= 0 || !_host.Downloading || _seeds.Count == 0) return;
        var torrentRun = _host.RunToken;
        if (_generation is null || _generation.IsCancellationRequested || torrentRun != _torrentRun)
        {
            // A new stretch of downloading (a start, or more wanted after seeding): workers of the last one are gone
            // or going, and the last one's failures are forgotten.
            _torrentRun = torrentRun;
            _generation = CancellationTokenSource.CreateLinkedTokenSource(torrentRun);
            _run = _generation.Token;
            foreach (var s in _seeds)
            {
                s.Workers = 0;
                s.Busy = 0;
                s.Health = new WebSeedHealth(Policy);
                s.Drop = CancellationTokenSource.CreateLinkedTokenSource(_run);
            }
        }
        var run = _run;
        var meta = _host.Meta;
        for (int i = 0; i < _seeds.Count; i++)
        {
            var seed = _seeds[i];
            if (seed.Health.IsDropped) continue;
            // Several seeds start at different places so that their runs do not chase each other.
            seed.Cursor ??= (int)((long)meta.PieceCount * i / _seeds.Count);
            while (seed.Workers < connections)
            {
                seed.Workers++;
                var dropped = seed.Drop!.Token;
                _ = Task.Run(() => WorkAsync(seed, run, dropped), CancellationToken.None);
            }
        }
        _host.Activate();
    }

    /// <param name="dropped">Cancelled when the torrent stops or the seed is dropped: the request in flight ends.</param>
    /// <summary>The torrent stopped downloading (complete, stopped, failed): the workers stop now, waits included.</summary>
    public void Pause() => _generation?.Cancel();

    private async Task WorkAsync(WebSeed seed, CancellationToken run, CancellationToken dropped)
    {
        var loop = _host.Loop;
        bool counted = true;
        try
        {
            while (!run.IsCancellationRequested)
            {
                WebSeedJob job;
                try { job = await loop.InvokeAsync(() => Next(seed, run)).ConfigureAwait(false); }
                catch (ObjectDisposedException) { return; }
                if (ReferenceEquals(job, WebSeedJob.Surplus)) counted = false;
                if (job.Exit) return;
                if (job.Wait is { } wait)
                {
                    await Task.Delay(wait, _host.Time, dropped).ConfigureAwait(false);
                    continue;
                }
                WebSeedException? error = null;
                using (var sink = new RunAssembler(job.Pieces, job.Manager.GetPieceSize, (piece, blocks) => loop.Post(() => Deliver(seed, job, piece, blocks))))
                {
                    try { await FetchAsync(seed, job, sink, dropped).ConfigureAwait(false); }
                    catch (WebSeedException e) { error = e; }
                    catch (OperationCanceledException) when (dropped.IsCancellationRequested) { }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        error = new WebSeedException(WebSeedFailure.Transient, $"{e.GetType().Name}: {e.Message}", null, e);
                    }
                }
                loop.Post(() => Finish(seed, job, error));
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            if (counted) loop.Post(() => { if (run == _run) seed.Workers--; });
        }
    }

    private async Task FetchAsync(WebSeed seed, WebSeedJob job, RunAssembler sink, CancellationToken run)
    {
        var http = _host.Http;
        var limiter = job.Limiter;
        if (seed.Kind == WebSeedKind.Http)
        {
            foreach (int piece in job.Pieces)
            {
                var url = WebSeedLayout.HttpSeedUrl(seed.Url, job.InfoHash, piece);
                await WebSeedFetcher.FetchAsync(http, url, 0, job.Manager.GetPieceSize(piece), -1, ranged: false, sink, limiter, Policy, static _ => { }, run)
                    .ConfigureAwait(false);
            }
            return;
        }
        foreach (var r in job.Ranges)
        {
            if (r.Url is null) sink.Zeros(r.Length);
            else
                await WebSeedFetcher.FetchAsync(http, r.Url, r.Offset, r.Length, r.FileLength, ranged: true, sink, limiter, Policy, static _ => { }, run)
                    .ConfigureAwait(false);
        }
    }

    /// <summary>What a worker does next (on the loop): a run to fetch, a wait, or stop.</summary>
    private WebSeedJob Next(WebSeed seed, CancellationToken run)
    {
        if (run != _run || run.IsCancellationRequested || !_host.Downloading || seed.Health.IsDropped || _host.ConnectionsPerSeed <= 0)
            return WebSeedJob.Stop;
        if (seed.Workers > _host.ConnectionsPerSeed)
        {
            seed.Workers--; // counted here, so that only the surplus stops
            return WebSeedJob.Surplus;
        }
        var now = _host.Time.GetUtcNow();
        if (!seed.Health.IsReady(now)) return WebSeedJob.WaitFor(seed.Health.RetryAt - now);
        if (_host.PendingDiskBytes > _host.MaxPendingDiskBytes) return WebSeedJob.WaitFor(DiskBusyWait);
        var pieces = _host.Pieces;
        var list = _scratch;
        list.Clear();
        long maxBytes = Math.Clamp(seed.Download.Rate * 2 / Math.Max(1, seed.Workers), MinRunBytes, MaxRunBytes);
        int? from = _host.Sequential ? (int)Math.Min(int.MaxValue, (pieces.StreamPosition ?? 0) / Math.Max(1, _host.Meta.PieceLength)) : seed.Cursor;
        if (!pieces.ReserveRun(seed, from, maxPieces: 4096, maxBytes, list))
        {
            int p = pieces.ReserveEndgamePiece(seed);
            if (p < 0) return WebSeedJob.WaitFor(NothingToDoWait);
            list.Add(p);
        }
        if (!_host.Sequential) seed.Cursor = list[^1] + 1 < pieces.PieceCount ? list[^1] + 1 : 0;
        WebSeedRange[] ranges = [];
        if (seed.Layout is { } layout)
        {
            // A run of consecutive pieces is one byte range of the torrent; an endgame piece is a run of one.
            _rangeScratch.Clear();
            long start = list[0] * _host.Meta.PieceLength;
            long length = 0;
            foreach (int p in list) length += pieces.GetPieceSize(p);
            layout.Map(start, length, _rangeScratch);
            ranges = [.. _rangeScratch];
        }
        seed.Busy++;
        return new WebSeedJob([.. list], ranges, pieces, run, _host.InfoHash.ToArray(), _host.DownloadLimiter);
    }

    /// <summary>A whole piece arrived from a seed (on the loop): its blocks go where a peer's would.</summary>
    private void Deliver(WebSeed seed, WebSeedJob job, int piece, byte[]?[] blocks)
    {
        if (job.Run != _run || job.Run.IsCancellationRequested || !ReferenceEquals(job.Manager, _host.Pieces) || seed.Health.IsDropped)
        {
            foreach (var b in blocks) if (b is not null) Peers.BlockBuffers.Return(b);
            return;
        }
        job.Delivered.Add(piece);
        int size = job.Manager.GetPieceSize(piece);
        for (int b = 0; b < blocks.Length; b++)
        {
            int length = Math.Min(PieceManager.BlockSize, size - b * PieceManager.BlockSize);
            _host.Block(seed, piece, b * PieceManager.BlockSize, length, blocks[b]!);
        }
        seed.Download.Add(size);
        seed.Health.Succeeded();
        _host.Activate();
    }

    /// <summary>A run ended (on the loop): what was not delivered is given back; a failure demotes or drops the seed.</summary>
    private void Finish(WebSeed seed, WebSeedJob job, WebSeedException? error)
    {
        if (job.Run != _run) return;
        seed.Busy--;
        if (ReferenceEquals(job.Manager, _host.Pieces))
        {
            foreach (int piece in job.Pieces)
            {
                if (job.Delivered.Contains(piece)) continue;
                int size = job.Manager.GetPieceSize(piece);
                for (int begin = 0; begin < size; begin += PieceManager.BlockSize) job.Manager.ReleaseRequest(seed, piece, begin);
            }
        }
        if (error is null || job.Run.IsCancellationRequested) return;
        var now = _host.Time.GetUtcNow();
        seed.Health.Failed(now, error.Kind, error.Message, error.RetryAfter);
        if (seed.Health.DroppedBecause is { } why)
            Dropped(seed, why);
        else
            _host.Log(PluginLogLevel.Information, $"web seed {seed.Url}: {error.Message}; retrying in {(seed.Health.RetryAt - now).TotalSeconds:0.#} s");
    }

    private void Dropped(WebSeed seed, string why)
    {
        seed.Drop?.Cancel();
        _host.Log(PluginLogLevel.Warning, $"web seed {seed.Url} dropped: {why}; its pieces come from other sources");
    }

    /// <summary>A piece that <paramref name="seed"/> alone sent failed its hash check (on the loop).</summary>
    public void BadPiece(WebSeed seed, int piece)
    {
        bool before = seed.Health.IsDropped;
        seed.Health.BadPiece(_host.Time.GetUtcNow(), piece);
        if (seed.Health.DroppedBecause is { } why)
        {
            if (!before) Dropped(seed, why);
        }
        else
            _host.Log(PluginLogLevel.Warning, $"web seed {seed.Url} sent piece {piece} with wrong data; demoted until {seed.Health.RetryAt:HH:mm:ss}");
    }

    /// <summary>The seeds as the interface and the RPC show them (on the loop).</summary>
    public List<WebSeedSnapshot> Snapshot()
    {
        var now = _host.Time.GetUtcNow();
        return _seeds.ConvertAll(s => new WebSeedSnapshot
        {
            Url = s.Url,
            Kind = s.Kind,
            State = s.State(now),
            DownloadRate = s.Download.Rate,
            Downloaded = s.Download.Total,
            Connections = s.Busy,
            LastError = s.Health.DroppedBecause ?? s.Health.LastError,
            RetryAt = s.State(now) == WebSeedState.Backoff ? s.Health.RetryAt : null,
        });
    }

    /// <summary>Web seeds sending to us now (Transmission's webseedsSendingToUs).</summary>
    public int SendingToUs => _seeds.Count(s => s.Download.Rate > 0);
}

/// <summary>A worker's next step: a run of pieces to fetch, a wait, or stop.</summary>
internal sealed class WebSeedJob
{
    public static readonly WebSeedJob Stop = new() { Exit = true };

    /// <summary>Stop: the worker is beyond the connections per seed (already uncounted).</summary>
    public static readonly WebSeedJob Surplus = new() { Exit = true };

    private WebSeedJob() { }

    public WebSeedJob(int[] pieces, WebSeedRange[] ranges, PieceManager manager, CancellationToken run, byte[] infoHash, RateLimiter limiter)
    {
        Pieces = pieces;
        Ranges = ranges;
        Manager = manager;
        Run = run;
        InfoHash = infoHash;
        Limiter = limiter;
    }

    public static WebSeedJob WaitFor(TimeSpan wait) => new() { Wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait };

    public bool Exit { get; private init; }
    public TimeSpan? Wait { get; private init; }
    public int[] Pieces { get; } = [];
    public WebSeedRange[] Ranges { get; } = [];
    public PieceManager Manager { get; } = null!;
    public CancellationToken Run { get; }
    public byte[] InfoHash { get; } = [];
    public RateLimiter Limiter { get; } = null!;

    /// <summary>Pieces handed to the loop (touched on the loop only).</summary>
    public HashSet<int> Delivered { get; } = [];
}
