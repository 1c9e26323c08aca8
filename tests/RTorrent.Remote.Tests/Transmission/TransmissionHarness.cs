using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Native;
using RTorrent.Remote.Transmission;
using RTorrent.Testing;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>An answer of the Transmission RPC: its result and its arguments.</summary>
internal sealed record Reply(string Result, JsonElement Arguments, string Raw)
{
    public bool Ok => Result == "success";

    public JsonElement Torrents => Arguments.GetProperty("torrents");

    public override string ToString() => Raw;
}

/// <summary>
/// A real session (loopback, no DHT/PEX/LSD/trackers/plugins) with the Transmission RPC served over HTTP on
/// 127.0.0.1, called as clients call it: the session-id handshake first, then JSON requests. The journal takes a
/// fresh snapshot on every request.
/// </summary>
internal sealed class TransmissionHarness : IAsyncDisposable
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http = new() { Timeout = Limit };
    private string? _sessionId;

    private TransmissionHarness() { }

    public string Root { get; private set; } = null!;
    public string SessionDir { get; private set; } = null!;
    public string Downloads { get; private set; } = null!;
    public ClientSession Session { get; private set; } = null!;
    public SessionSettings Settings { get; private set; } = null!;
    public TransmissionRpcHandler Handler { get; private set; } = null!;
    public RpcServer Server { get; private set; } = null!;
    public Uri Url { get; private set; } = null!;
    public TaskCompletionSource StopRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClientEngine Engine => Session.Engine;

    public static async Task<TransmissionHarness> StartAsync(Func<EngineSettings, EngineSettings>? settings = null, TimeSpan? relocationWait = null)
    {
        var h = new TransmissionHarness();
        try
        {
            await h.InitializeAsync(settings, relocationWait);
            return h;
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync(Func<EngineSettings, EngineSettings>? edit, TimeSpan? relocationWait)
    {
        Root = TestPaths.NewTempDir("rt-tr");
        SessionDir = Path.Combine(Root, "session");
        Downloads = Path.Combine(Root, "downloads");
        var saved = new EngineSettings
        {
            SessionDirectory = SessionDir,
            DownloadDirectory = Downloads,
            ListenPort = 0,
            DhtEnabled = false,
            PexEnabled = false,
            LsdEnabled = false,
            PortForwardingEnabled = false,
        };
        if (edit is not null) saved = edit(saved);
        Session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = SessionDir,
            Engine = SessionOptions.EngineConfigFrom(saved) with { ListenAddress = IPAddress.Loopback, ListenPort = 0 },
            LoadPlugins = false,
            EnableDht = false,
            DhtUsePublicRouters = false,
            DisabledPeerSources = ["dht", "pex", "lsd", "tracker"],
        }).WaitAsync(Limit);
        Settings = new SessionSettings(saved, Session);
        var backend = new SessionBackend(Session, Settings, new BackendInfo(BackendKind.Daemon, SessionDir, CanStopDaemon: true));
        Handler = new TransmissionRpcHandler(new TransmissionContext
        {
            Session = Session,
            Settings = Settings,
            Backend = backend,
            Journal = new SnapshotJournal(backend, TimeProvider.System, TimeSpan.Zero),
            StopDaemon = () =>
            {
                StopRequested.TrySetResult();
                return Task.CompletedTask;
            },
            ProgramVersion = "9.8.7",
            RelocationAnswerWait = relocationWait ?? TimeSpan.FromSeconds(20),
            FetchTimeout = TimeSpan.FromSeconds(5),
        });
        Server = await RpcServer.StartAsync(new RpcServerOptions { TcpEndPoints = [new IPEndPoint(IPAddress.Loopback, 0)] }, Handler,
            new Infrastructure.FakeHandler()).WaitAsync(Limit);
        Url = new Uri($"http://{Server.TcpEndPoints[0]}{RpcServer.TransmissionPath}");
    }

    /// <summary>Calls <paramref name="method"/> with <paramref name="arguments"/> (any object JSON can take, or null).</summary>
    public Task<Reply> CallAsync(string method, object? arguments = null)
    {
        var body = new Dictionary<string, object?> { ["method"] = method };
        if (arguments is not null) body["arguments"] = arguments;
        return RawAsync(JsonSerializer.Serialize(body));
    }

    /// <summary>Sends <paramref name="body"/> as it is.</summary>
    public async Task<Reply> RawAsync(string body)
    {
        for (int attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Url)
            {
                Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            if (_sessionId is not null) request.Headers.Add("X-Transmission-Session-Id", _sessionId);
            using var response = await _http.SendAsync(request).WaitAsync(Limit);
            if ((int)response.StatusCode == 409)
            {
                _sessionId = response.Headers.GetValues("X-Transmission-Session-Id").First();
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string raw = await response.Content.ReadAsStringAsync();
            using var doc = JsonDocument.Parse(raw);
            return new Reply(doc.RootElement.GetProperty("result").GetString()!, doc.RootElement.GetProperty("arguments").Clone(), raw);
        }
        throw new InvalidOperationException("the server kept answering 409");
    }

    /// <summary>The session id the client uses (after the first call).</summary>
    public string? SessionId => _sessionId;

    /// <summary>Calls and asserts success.</summary>
    public async Task<Reply> OkAsync(string method, object? arguments = null)
    {
        var reply = await CallAsync(method, arguments);
        Assert.True(reply.Ok, $"{method} answered: {reply.Result}");
        return reply;
    }

    /// <summary>torrent-get of one torrent by id with <paramref name="fields"/>.</summary>
    public async Task<JsonElement> GetAsync(long id, params string[] fields)
    {
        var reply = await OkAsync("torrent-get", new Dictionary<string, object?> { ["ids"] = new[] { id }, ["fields"] = fields });
        return Assert.Single(reply.Torrents.EnumerateArray());
    }

    /// <summary>Adds a .torrent by path; returns its id.</summary>
    public async Task<long> AddAsync(string torrentPath, bool paused = true, string? downloadDir = null)
    {
        var args = new Dictionary<string, object?> { ["filename"] = torrentPath, ["paused"] = paused };
        if (downloadDir is not null) args["download-dir"] = downloadDir;
        var reply = await OkAsync("torrent-add", args);
        return reply.Arguments.GetProperty("torrent-added").GetProperty("id").GetInt64();
    }

    /// <summary>Polls torrent-get until <paramref name="condition"/> holds for torrent <paramref name="id"/> (bounded).</summary>
    public async Task<JsonElement> WaitForAsync(long id, Func<JsonElement, bool> condition, string what, params string[] fields)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var t = await GetAsync(id, fields);
            if (condition(t)) return t;
            if (DateTime.UtcNow > deadline) Assert.Fail($"torrent {id} never got {what}: {t}");
            await Task.Delay(50);
        }
    }

    /// <summary>A file of random bytes in root/source and a .torrent of it in root/torrents (data optionally copied into downloads).</summary>
    public async Task<(string TorrentPath, TorrentMetainfo Meta, byte[] Data)> MakeTorrentAsync(string name, int size = 100_000, bool inDownloads = false,
        string? tracker = null)
    {
        var bytes = new byte[size];
        new Random(name.GetHashCode(StringComparison.Ordinal)).NextBytes(bytes);
        string source = Path.Combine(Root, "source");
        Directory.CreateDirectory(source);
        string data = Path.Combine(source, name);
        await File.WriteAllBytesAsync(data, bytes);
        var created = await TorrentCreator.CreateAsync(data, new TorrentCreatorOptions
        {
            PieceLength = 16 * 1024,
            OmitCreationDate = true,
            Trackers = tracker is null ? [] : [[tracker]],
        });
        string torrents = Path.Combine(Root, "torrents");
        Directory.CreateDirectory(torrents);
        string path = Path.Combine(torrents, name + ".torrent");
        await File.WriteAllBytesAsync(path, created.TorrentFile);
        if (inDownloads)
        {
            Directory.CreateDirectory(Downloads);
            await File.WriteAllBytesAsync(Path.Combine(Downloads, name), bytes);
        }
        return (path, created.Metainfo, bytes);
    }

    /// <summary>
    /// A multi-file torrent with BEP 47 padding files between its files (written by hand: our creator makes none):
    /// a.bin (20 000 bytes), a pad to the 16 KiB piece boundary, b.bin (5 000), a pad, c.bin (30 000). Its files are
    /// written into <paramref name="saveDirectory"/> when given.
    /// </summary>
    public async Task<(string TorrentPath, TorrentMetainfo Meta)> MakePaddedTorrentAsync(string name, string? saveDirectory = null)
    {
        const int piece = 16 * 1024;
        (string Path, int Length, bool Pad)[] files =
        [
            ("a.bin", 20_000, false), (".pad/12768", 2 * piece - 20_000, true), ("b.bin", 5_000, false),
            (".pad/11384", piece - 5_000, true), ("c.bin", 30_000, false),
        ];
        var rng = new Random(7);
        var list = new BList();
        using var all = new MemoryStream();
        foreach (var (path, length, pad) in files)
        {
            var bytes = new byte[length];
            if (!pad) rng.NextBytes(bytes);
            all.Write(bytes);
            var entry = new BDictionary { ["length"] = new BInteger(length), ["path"] = new BList(path.Split('/').Select(p => (BValue)new BString(p))) };
            if (pad) entry["attr"] = new BString("p");
            list.Add(entry);
            if (pad || saveDirectory is null) continue;
            string target = Path.Combine(saveDirectory, name, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllBytesAsync(target, bytes);
        }
        var stream = all.ToArray();
        var hashes = new MemoryStream();
        for (int offset = 0; offset < stream.Length; offset += piece)
            hashes.Write(System.Security.Cryptography.SHA1.HashData(stream.AsSpan(offset, Math.Min(piece, stream.Length - offset))));
        var info = new BDictionary
        {
            ["files"] = list,
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(piece),
            ["pieces"] = new BString(hashes.ToArray()),
        };
        var torrent = BencodeWriter.Encode(new BDictionary { ["info"] = info });
        string torrents = Path.Combine(Root, "torrents");
        Directory.CreateDirectory(torrents);
        string torrentPath = Path.Combine(torrents, name + ".torrent");
        await File.WriteAllBytesAsync(torrentPath, torrent);
        return (torrentPath, TorrentMetainfo.Parse(torrent));
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (Server is not null) await Server.DisposeAsync();
        Handler?.Dispose();
        if (Session is not null) await Session.DisposeAsync();
        if (Root is null) return;
        try { Directory.Delete(Root, true); }
        catch (IOException) { /* left in /tmp */ }
    }
}

/// <summary>Builds argument objects with Transmission's dashed names.</summary>
internal static class A
{
    public static Dictionary<string, object?> Args(params (string Key, object? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Waits (bounded) for something another thread does.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Gave up waiting for: {what}");
            await Task.Delay(10);
        }
    }
}
