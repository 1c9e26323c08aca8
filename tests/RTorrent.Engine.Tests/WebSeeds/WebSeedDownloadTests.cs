using System.Net;
using System.Text;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Client;
using RTorrent.Engine.WebSeeds;
using RTorrent.Testing;
using Xunit.Abstractions;

namespace RTorrent.Engine.Tests.WebSeeds;

/// <summary>
/// Torrents whose only sources are web seeds on 127.0.0.1 (scripted servers: honest, lying, busy, hostile), downloaded
/// by a real engine with short waits (<see cref="WebSeedPolicy"/>). Every wait is bounded and waits on the engine's
/// events or the state it reports.
/// </summary>
public sealed class WebSeedDownloadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly WebSeedPolicy FastPolicy = new()
    {
        BaseBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        StallTimeout = TimeSpan.FromSeconds(2),
    };

    private readonly string _root = TestPaths.NewTempDir("rt-webseed");
    private readonly List<IAsyncDisposable> _disposables = [];
    private ClientEngine _engine = null!;

    private string Served => Path.Combine(_root, "served");
    private string Save => Path.Combine(_root, "save");

    public async Task InitializeAsync()
    {
        _engine = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback, WebSeedPolicy = FastPolicy },
            new ClientEngineOptions { Catalog = new TestCatalog(), LoggerFactory = new TestLoggerFactory(output, "") });
        await _engine.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        foreach (var d in _disposables) await d.DisposeAsync();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private ScriptedWebServer Server(Func<ScriptedRequest, Stream, CancellationToken, Task<bool>> handler)
    {
        var s = new ScriptedWebServer(handler);
        _disposables.Add(s);
        return s;
    }

    private ScriptedWebServer Honest() => Server((r, s, ct) => ScriptedWebServer.ServeFileAsync(Served, r, s, ct));

    private async Task<Torrent> DownloadAsync(TorrentMetainfo meta)
    {
        Directory.CreateDirectory(Save);
        return await _engine.AddAsync(meta, new TorrentOptions { SavePath = Save });
    }

    private async Task WaitCompleteAsync(Torrent t)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Changed(Torrent x)
        {
            if (ReferenceEquals(x, t) && x.State == TorrentState.Seeding) done.TrySetResult();
        }
        _engine.TorrentChanged += Changed;
        try
        {
            if (await _engine.Loop.InvokeAsync(() => t.State) == TorrentState.Seeding) return;
            await done.Task.WaitAsync(Bound);
        }
        catch (TimeoutException)
        {
            var d = await _engine.GetDetailsAsync(t);
            throw new TimeoutException($"not complete: {d.Summary.PiecesHave}/{d.Summary.PieceCount}\n"
                + string.Join('\n', d.WebSeeds.Select(w => $"{w.Url} {w.State} {w.LastError}")) + "\n"
                + string.Join('\n', d.Log.Select(l => l.Message)));
        }
        finally { _engine.TorrentChanged -= Changed; }
    }

    private async Task<WebSeedSnapshot> SeedAsync(Torrent t, string url) =>
        (await _engine.GetDetailsAsync(t)).WebSeeds.Single(w => w.Url == url);

    /// <summary>Waits (bounded, polling the engine's own report) until a seed reaches a state.</summary>
    private async Task<WebSeedSnapshot> WaitSeedAsync(Torrent t, string url, Func<WebSeedSnapshot, bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            var s = await SeedAsync(t, url);
            if (condition(s)) return s;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"web seed {url}: {s.State} {s.LastError}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_single_file_torrent_downloads_byte_exact_from_its_only_web_seed()
    {
        var server = Honest();
        var (meta, payload) = WebSeedTorrents.Create(Served, "one.bin", 32 * 1024, [new SeedFile("", 1_000_003)], urlList: [server.Url]);
        var t = await DownloadAsync(meta);
        await WaitCompleteAsync(t);
        Assert.Equal(payload, await File.ReadAllBytesAsync(Path.Combine(Save, "one.bin")));
        var seed = await SeedAsync(t, server.Url);
        Assert.Equal(payload.Length, seed.Downloaded);
        Assert.Null(seed.LastError);
    }

    [Fact]
    public async Task A_multi_file_torrent_with_pad_files_and_pieces_across_files_downloads_byte_exact()
    {
        var server = Honest();
        var (meta, payload) = WebSeedTorrents.Create(Served, "multi dir", 16 * 1024,
        [
            new SeedFile("a b/first.bin", 100_001), new SeedFile("", 15_583, Pad: true), new SeedFile("empty", 0),
            new SeedFile("c/d/#second?.bin", 7), new SeedFile("third.bin", 250_000),
        ], urlList: [server.Url.TrimEnd('/')]); // no slash: added, as libtorrent does
        var t = await DownloadAsync(meta);
        await WaitCompleteAsync(t);
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, Save));
        Assert.False(Directory.Exists(Path.Combine(Save, "multi dir", ".pad")), "pad files are never written");
    }

    [Fact]
    public async Task A_lying_server_beside_an_honest_one_is_dropped_and_the_download_completes()
    {
        var honest = Honest();
        var liar = Server((r, s, ct) => ScriptedWebServer.ServeFileAsync(Served, r, s, ct, body => { for (int i = 0; i < body.Length; i += 997) body[i] ^= 0x5A; }));
        var (meta, payload) = WebSeedTorrents.Create(Served, "lie", 16 * 1024, [new SeedFile("x.bin", 3_000_000)], urlList: [liar.Url, honest.Url]);
        var t = await DownloadAsync(meta);
        await WaitCompleteAsync(t);
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, Save));
        var lying = await SeedAsync(t, liar.Url);
        Assert.Equal(WebSeedState.Dropped, lying.State);
        Assert.Equal("sent 2 pieces with wrong data", lying.LastError);
        var s = (await _engine.GetSnapshotAsync()).Torrents.Single();
        Assert.True(s.HashFailures >= 2);
    }

    [Fact]
    public async Task A_server_that_answers_503_recovers_and_is_not_dropped()
    {
        int busy = 3;
        var server = Server(async (r, s, ct) =>
        {
            if (Interlocked.Decrement(ref busy) >= 0)
            {
                await ScriptedWebServer.WriteHeadAsync(s, 503, "Service Unavailable", ct, "Retry-After: 0", "Content-Length: 0");
                return true;
            }
            return await ScriptedWebServer.ServeFileAsync(Served, r, s, ct);
        });
        var (meta, payload) = WebSeedTorrents.Create(Served, "busy", 16 * 1024, [new SeedFile("x.bin", 500_000)], urlList: [server.Url]);
        var t = await DownloadAsync(meta);
        await WaitCompleteAsync(t);
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, Save));
        var seed = await SeedAsync(t, server.Url);
        Assert.NotEqual(WebSeedState.Dropped, seed.State);
        Assert.Equal("HTTP 503 Service Unavailable", seed.LastError);
    }

    [Fact]
    public async Task Redirects_are_followed_to_another_server()
    {
        var honest = Honest();
        var hops = Server(async (r, s, ct) =>
        {
            // /hop/N/... -> /hop/N-1/... -> the honest server.
            var parts = r.Path.Split('/', 4); // "", "hop", N, rest
            int n = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
            var next = n == 0 ? honest.Url + parts[3] : $"/hop/{n - 1}/{parts[3]}";
            await ScriptedWebServer.WriteHeadAsync(s, 302, "Found", ct, "Location: " + next, "Content-Length: 0");
            return true;
        });
        var (meta, payload) = WebSeedTorrents.Create(Served, "hop", 16 * 1024, [new SeedFile("x.bin", 400_000)], urlList: [hops.Url + "hop/3/"]);
        var t = await DownloadAsync(meta);
        await WaitCompleteAsync(t);
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, Save));
        Assert.Null((await SeedAsync(t, hops.Url + "hop/3/")).LastError);
        Assert.True(honest.Requests > 0);
    }

    [Fact]
    public async Task A_redirect_loop_drops_the_seed_with_a_clear_error()
    {
        var loop = Server(async (r, s, ct) =>
        {
            await ScriptedWebServer.WriteHeadAsync(s, 307, "Temporary Redirect", ct, "Location: " + (r.Path.StartsWith("/a/") ? "/b/" + r.Path[3..] : "/a/" + r.Path[3..]), "Content-Length: 0");
            return true;
        });
        var (meta, _) = WebSeedTorrents.Create(Served, "loop", 16 * 1024, [new SeedFile("x.bin", 40_000)], urlList: [loop.Url + "a/"]);
        var t = await DownloadAsync(meta);
        var looped = await WaitSeedAsync(t, loop.Url + "a/", w => w.State == WebSeedState.Dropped);
        Assert.Equal($"redirect loop at {loop.Url}a/loop/x.bin (3 times in a row)", looped.LastError);
        Assert.Equal(3 * 2, loop.Requests);
        Assert.Equal(0, (await _engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
    }

    [Fact]
    public async Task Too_many_redirects_drop_the_seed()
    {
        var chain = Server(async (r, s, ct) =>
        {
            await ScriptedWebServer.WriteHeadAsync(s, 301, "Moved", ct, $"Location: /r{r.Number}{r.Path}", "Content-Length: 0");
            return true;
        });
        var (meta, _) = WebSeedTorrents.Create(Served, "far", 16 * 1024, [new SeedFile("x.bin", 40_000)], urlList: [chain.Url]);
        var t = await DownloadAsync(meta);
        var seed = await WaitSeedAsync(t, chain.Url, w => w.State == WebSeedState.Dropped);
        Assert.Equal("more than 5 redirects (3 times in a row)", seed.LastError);
        Assert.Equal(3 * 6, chain.Requests); // three attempts of the first request and five redirects each, no more
        Assert.Equal(0, (await _engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
    }

    [Fact]
    public async Task A_wrong_content_length_is_refused_before_reading_and_the_seed_is_dropped()
    {
        var wrong = Server(async (r, s, ct) =>
        {
            long n = r.RangeEnd!.Value - r.RangeStart!.Value + 1;
            await ScriptedWebServer.WriteHeadAsync(s, 206, "Partial Content", ct, $"Content-Length: {n * 1000}", "Connection: close");
            await s.WriteAsync(new byte[64 * 1024], ct);
            return false;
        });
        var (meta, _) = WebSeedTorrents.Create(Served, "len", 16 * 1024, [new SeedFile("x.bin", 600_000)], urlList: [wrong.Url]);
        var t = await DownloadAsync(meta);
        var seed = await WaitSeedAsync(t, wrong.Url, w => w.State == WebSeedState.Dropped);
        Assert.Equal("answered 600000000 bytes for 600000 asked (3 times in a row)", seed.LastError);
        Assert.Equal(0, seed.Downloaded);
        Assert.Equal(0, (await _engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
        Assert.Equal(3, wrong.Requests);
    }

    [Fact]
    public async Task An_endless_body_is_read_only_as_far_as_the_range_and_the_seed_is_dropped()
    {
        var endless = Server(async (r, s, ct) =>
        {
            // The right bytes, then no end: no length, no chunks, the connection never closes by itself.
            await ScriptedWebServer.WriteHeadAsync(s, 206, "Partial Content", ct, "Connection: close");
            var all = await File.ReadAllBytesAsync(Path.Combine(Served, r.Path.TrimStart('/')), ct);
            await s.WriteAsync(all.AsMemory((int)r.RangeStart!.Value, (int)(r.RangeEnd!.Value - r.RangeStart.Value + 1)), ct);
            var chunk = new byte[64 * 1024];
            while (!ct.IsCancellationRequested) await s.WriteAsync(chunk, ct); // until the client hangs up
            return false;
        });
        var (meta, _) = WebSeedTorrents.Create(Served, "endless", 16 * 1024, [new SeedFile("x.bin", 200_000)], urlList: [endless.Url]);
        var t = await DownloadAsync(meta);
        var seed = await WaitSeedAsync(t, endless.Url, w => w.State == WebSeedState.Dropped);
        // The first answer's pieces but the last were handed on (and verified: the bytes were right); the last piece
        // waits until the body is known to end, which it never does, so it is asked for again, alone, and refused again.
        Assert.Equal("the answer goes on past the 3392 bytes asked for (3 times in a row)", seed.LastError);
        Assert.Equal(3, endless.Requests);
        Assert.Equal(12, (await _engine.GetSnapshotAsync()).Torrents.Single().PiecesHave);
        // Each answer was read to its range and one byte more, then hung up on: what the server pushed is socket buffers.
        Assert.True(endless.BytesSent < 3 * 32 * 1024 * 1024, $"{endless.BytesSent} bytes sent");
        Assert.Equal(["endless"], Directory.GetFileSystemEntries(Save).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_stalled_request_fails_after_the_stall_timeout_and_its_pieces_are_fetched_again()
    {
        var server = Server(async (r, s, ct) =>
        {
            if (r.Number > 1) return await ScriptedWebServer.ServeFileAsync(Served, r, s, ct);
            // The first request gets its headers and then nothing, for ever.
            await ScriptedWebServer.WriteHeadAsync(s, 206, "Partial Content", ct, $"Content-Length: {r.RangeEnd - r.RangeStart + 1}");
            await s.FlushAsync(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return false;
        });
        var (meta, payload) = WebSeedTorrents.Create(Served, "stall", 16 * 1024, [new SeedFile("x.bin", 300_000)], urlList: [server.Url]);
        var t = await DownloadAsync(meta);
        await WaitCompleteAsync(t); // only once the stalled request gave its pieces back
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, Save));
        var seed = await SeedAsync(t, server.Url);
        Assert.Equal("stalled: nothing for 2 s", seed.LastError);
        Assert.NotEqual(WebSeedState.Dropped, seed.State);
    }

    [Fact]
    public async Task A_bep17_http_seed_serves_pieces_by_info_hash_and_index()
    {
        TorrentMetainfo? meta = null;
        byte[] payload = [];
        int busyOnce = 1;
        var server = Server(async (r, s, ct) =>
        {
            var q = r.Query.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            var raw = Encoding.ASCII.GetBytes(q["info_hash"]);
            var hash = WebUtility.UrlDecodeToBytes(raw, 0, raw.Length)!;
            if (!hash.AsSpan().SequenceEqual(meta!.WireHash.ToArray()))
            {
                await ScriptedWebServer.WriteHeadAsync(s, 404, "Not Found", ct, "Content-Length: 0");
                return true;
            }
            if (Interlocked.Decrement(ref busyOnce) >= 0)
            {
                await ScriptedWebServer.WriteHeadAsync(s, 503, "Busy", ct, "Content-Length: 1");
                await s.WriteAsync("0"u8.ToArray(), ct); // BEP 17: the body is the seconds to wait
                return true;
            }
            int piece = int.Parse(q["piece"], System.Globalization.CultureInfo.InvariantCulture);
            var size = meta.GetPieceSize(piece);
            await ScriptedWebServer.WriteHeadAsync(s, 200, "OK", ct, $"Content-Length: {size}");
            await s.WriteAsync(payload.AsMemory((int)(piece * meta.PieceLength), size), ct);
            return true;
        });
        (meta, payload) = WebSeedTorrents.Create(Served, "bep17", 16 * 1024, [new SeedFile("a.bin", 70_000), new SeedFile("b.bin", 33_333)],
            httpSeeds: [server.Url + "seed.php"]);
        var t = await DownloadAsync(meta);
        await WaitCompleteAsync(t);
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, Save));
        var seed = await SeedAsync(t, server.Url + "seed.php");
        Assert.Equal(WebSeedKind.Http, seed.Kind);
        Assert.Equal("HTTP 503 Busy", seed.LastError);
    }

    [Fact]
    public async Task A_seed_that_is_sending_counts_as_sending_to_us_and_shows_active()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = Server(async (r, s, ct) =>
        {
            if (r.RangeStart >= 1024 * 1024) await release.Task.WaitAsync(ct); // the second half waits for the test
            return await ScriptedWebServer.ServeFileAsync(Served, r, s, ct);
        });
        var (meta, payload) = WebSeedTorrents.Create(Served, "rate", 16 * 1024, [new SeedFile("x.bin", 2 * 1024 * 1024)], urlList: [server.Url]);
        var t = await DownloadAsync(meta);
        try
        {
            var deadline = DateTime.UtcNow + Bound;
            TorrentSnapshot summary;
            while ((summary = (await _engine.GetSnapshotAsync()).Torrents.Single()).WebSeedsSendingToUs != 1)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("the seed never counted as sending");
                await Task.Delay(50);
            }
            Assert.True(summary.PiecesHave >= 64);
            var seed = await SeedAsync(t, server.Url);
            Assert.Equal(WebSeedState.Active, seed.State);
            Assert.True(seed.DownloadRate > 0 && seed.Connections >= 1, $"{seed.DownloadRate} B/s, {seed.Connections} requests");
        }
        finally { release.TrySetResult(); }
        await WaitCompleteAsync(t);
        Assert.Equal(payload, WebSeedTorrents.ReadBack(meta, Save));
    }

    [Fact]
    public async Task Web_seeds_show_in_the_snapshot_and_stop_with_the_torrent()
    {
        var server = Honest();
        var (meta, _) = WebSeedTorrents.Create(Served, "show", 16 * 1024, [new SeedFile("x.bin", 50_000)], urlList: [server.Url]);
        var paused = await _engine.AddAsync(meta, new TorrentOptions { SavePath = Save }, start: false);
        var d = await _engine.GetDetailsAsync(paused);
        var only = Assert.Single(d.WebSeeds);
        Assert.Equal((server.Url, WebSeedKind.Url, WebSeedState.Idle), (only.Url, only.Kind, only.State));
        Assert.Equal([server.Url], d.Summary.WebSeeds);
        Assert.Equal(0, server.Requests);
        await paused.StartAsync();
        await WaitCompleteAsync(paused);
        Assert.Equal(WebSeedState.Idle, (await SeedAsync(paused, server.Url)).State);
    }
}
