using System.Net;
using System.Net.Sockets;
using System.Text;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>torrent-add from a path, base64 metainfo, a magnet link, a bare hash and a URL, with its options and refusals.</summary>
public sealed class TorrentAddTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Adding_by_path_then_again_by_metainfo_answers_added_then_duplicate_with_id_name_and_hash()
    {
        var (path, meta, _) = await _h.MakeTorrentAsync("dup.bin");
        var added = await _h.OkAsync("torrent-add", Args(("filename", path), ("paused", true)));
        var a = added.Arguments.GetProperty("torrent-added");
        Assert.Equal(["id", "name", "hashString"], a.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("dup.bin", meta.WireHash.ToHex()), (a.GetProperty("name").GetString(), a.GetProperty("hashString").GetString()));
        var again = await _h.OkAsync("torrent-add", Args(("metainfo", Convert.ToBase64String(await File.ReadAllBytesAsync(path)))));
        var d = again.Arguments.GetProperty("torrent-duplicate");
        Assert.Equal(a.GetRawText(), d.GetRawText());
        Assert.False(again.Arguments.TryGetProperty("torrent-added", out _));
        Assert.Single(_h.Engine.Torrents);
    }

    [Fact]
    public async Task Options_apply_download_dir_paused_labels_peer_limit_and_file_choices()
    {
        var (path, meta) = await _h.MakePaddedTorrentAsync("options");
        string dir = Path.Combine(_h.Root, "other");
        var added = await _h.OkAsync("torrent-add", Args(("filename", path), ("download-dir", dir), ("paused", true), ("labels", new[] { " tv ", "hd" }),
            ("peer-limit", 12), ("files-unwanted", new[] { 0 }), ("priority-high", new[] { 2 }), ("priority-low", new[] { 1 }), ("bandwidthPriority", 0)));
        long id = added.Arguments.GetProperty("torrent-added").GetProperty("id").GetInt64();
        var t = await _h.GetAsync(id, "downloadDir", "status", "labels", "peer-limit", "wanted", "priorities");
        Assert.Equal(dir, t.GetProperty("downloadDir").GetString());
        Assert.True(Directory.Exists(dir));
        Assert.Equal(0, t.GetProperty("status").GetInt32());
        Assert.Equal(["tv", "hd"], t.GetProperty("labels").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(12, t.GetProperty("peer-limit").GetInt32());
        Assert.Equal([0, 1, 1], t.GetProperty("wanted").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([0, -1, 1], t.GetProperty("priorities").EnumerateArray().Select(e => e.GetInt32()));
        _ = meta;
    }

    [Fact]
    public async Task Without_paused_the_session_setting_decides_whether_it_starts()
    {
        var (p1, _, _) = await _h.MakeTorrentAsync("starts.bin", inDownloads: true);
        var reply = await _h.OkAsync("torrent-add", Args(("filename", p1)));
        long id = reply.Arguments.GetProperty("torrent-added").GetProperty("id").GetInt64();
        await _h.WaitForAsync(id, t => t.GetProperty("status").GetInt32() == 6, "seeding", "status");
        await _h.OkAsync("session-set", Args(("start-added-torrents", false)));
        var (p2, _, _) = await _h.MakeTorrentAsync("waits.bin", inDownloads: true);
        reply = await _h.OkAsync("torrent-add", Args(("filename", p2)));
        Assert.Equal(0, (await _h.GetAsync(reply.Arguments.GetProperty("torrent-added").GetProperty("id").GetInt64(), "status")).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_magnet_link_or_a_bare_hash_is_added_as_a_magnet_and_file_choices_for_it_are_refused()
    {
        string hash = "0123456789abcdef0123456789abcdef01234567";
        var reply = await _h.OkAsync("torrent-add", Args(("filename", $"magnet:?xt=urn:btih:{hash}&dn=from-magnet"), ("paused", true)));
        Assert.Equal("from-magnet", reply.Arguments.GetProperty("torrent-added").GetProperty("name").GetString());
        long id = reply.Arguments.GetProperty("torrent-added").GetProperty("id").GetInt64();
        var t = await _h.GetAsync(id, "metadataPercentComplete", "files", "pieces", "file-count", "percentDone", "sizeWhenDone");
        Assert.Equal((0.0, 0, "", 0), (t.GetProperty("metadataPercentComplete").GetDouble(), t.GetProperty("files").GetArrayLength(),
            t.GetProperty("pieces").GetString(), t.GetProperty("file-count").GetInt32()));

        var bare = await _h.OkAsync("torrent-add", Args(("filename", "fedcba9876543210fedcba9876543210fedcba98"), ("paused", true)));
        Assert.Equal("fedcba9876543210fedcba9876543210fedcba98", bare.Arguments.GetProperty("torrent-added").GetProperty("hashString").GetString());

        var refused = await _h.CallAsync("torrent-add", Args(("filename", "magnet:?xt=urn:btih:1111111111111111111111111111111111111111"),
            ("files-unwanted", new[] { 0 })));
        Assert.StartsWith("files-wanted, files-unwanted and priority-* cannot be applied to a magnet link", refused.Result);
        Assert.Equal(2, _h.Engine.Torrents.Count);
    }

    [Theory]
    [InlineData("metainfo", "bm90IGEgdG9ycmVudA==", "invalid or corrupt torrent file")]
    [InlineData("metainfo", "***", "invalid or corrupt torrent file")]
    [InlineData("filename", "/nonexistent/file.torrent", "unrecognized info: '/nonexistent/file.torrent' is not a file on the daemon's machine, an http(s) URL or a magnet link")]
    [InlineData("filename", "magnet:?dn=nohash", "unrecognized info: not a usable magnet link")]
    public async Task Unusable_input_is_refused_with_transmissions_message(string key, string value, string expected)
    {
        var reply = await _h.CallAsync("torrent-add", Args((key, value)));
        Assert.StartsWith(expected, reply.Result);
        Assert.Empty(_h.Engine.Torrents);
    }

    [Fact]
    public async Task Refusals_come_before_anything_is_added()
    {
        var (path, _, _) = await _h.MakeTorrentAsync("refused.bin");
        Assert.Equal("download directory path is not absolute", (await _h.CallAsync("torrent-add", Args(("filename", path), ("download-dir", "rel")))).Result);
        Assert.Equal("labels cannot contain comma (,) character", (await _h.CallAsync("torrent-add", Args(("filename", path), ("labels", new[] { "a,b" })))).Result);
        Assert.Equal("labels cannot be empty", (await _h.CallAsync("torrent-add", Args(("filename", path), ("labels", new[] { " " })))).Result);
        Assert.StartsWith("bandwidthPriority 1: RTorrent has no bandwidth priorities", (await _h.CallAsync("torrent-add", Args(("filename", path), ("bandwidthPriority", 1)))).Result);
        Assert.StartsWith("file index out of range", (await _h.CallAsync("torrent-add", Args(("filename", path), ("files-unwanted", new[] { 4 })))).Result);
        Assert.Equal("'paused' must be true or false; \"no\" is a string", (await _h.CallAsync("torrent-add", Args(("filename", path), ("paused", "no")))).Result);
        Assert.StartsWith("peer-limit must be 1 or more", (await _h.CallAsync("torrent-add", Args(("filename", path), ("peer-limit", 0)))).Result);
        var (padded, _) = await _h.MakePaddedTorrentAsync("lost-priority");
        Assert.StartsWith("file 0 is not wanted: RTorrent keeps no priority", (await _h.CallAsync("torrent-add",
            Args(("filename", padded), ("files-unwanted", new[] { 0 }), ("priority-high", new[] { 0 })))).Result);
        Assert.Empty(_h.Engine.Torrents);
    }

    [Fact]
    public async Task A_url_is_fetched_with_its_cookies_following_redirects_and_a_redirect_to_a_magnet_adds_the_magnet()
    {
        var (path, meta, _) = await _h.MakeTorrentAsync("web.bin");
        byte[] torrent = await File.ReadAllBytesAsync(path);
        string? cookieSeen = null;
        await using var web = TinyHttpServer.Start(request =>
        {
            if (request.Path == "/redirect") return TinyHttpServer.Redirect("/file.torrent");
            if (request.Path == "/magnet") return TinyHttpServer.Redirect("magnet:?xt=urn:btih:2222222222222222222222222222222222222222&dn=redirected");
            if (request.Path == "/file.torrent")
            {
                cookieSeen = request.Header("Cookie");
                return TinyHttpServer.Ok(torrent);
            }
            if (request.Path == "/huge") return TinyHttpServer.Ok(new byte[11 * 1024 * 1024]);
            return TinyHttpServer.NotFound();
        });
        var reply = await _h.OkAsync("torrent-add", Args(("filename", web.Url("/redirect")), ("cookies", "uid=1; pass=secret"), ("paused", true)));
        Assert.Equal(meta.WireHash.ToHex(), reply.Arguments.GetProperty("torrent-added").GetProperty("hashString").GetString());
        Assert.Equal("uid=1; pass=secret", cookieSeen);
        var magnet = await _h.OkAsync("torrent-add", Args(("filename", web.Url("/magnet")), ("paused", true)));
        Assert.Equal("redirected", magnet.Arguments.GetProperty("torrent-added").GetProperty("name").GetString());
        Assert.Equal("Couldn't fetch torrent: Not Found (404)", (await _h.CallAsync("torrent-add", Args(("filename", web.Url("/missing"))))).Result);
        Assert.Equal("Couldn't fetch torrent: the file is larger than 10 MiB", (await _h.CallAsync("torrent-add", Args(("filename", web.Url("/huge"))))).Result);
        Assert.Equal(2, _h.Engine.Torrents.Count);
    }
}

/// <summary>A minimal HTTP/1.1 server on 127.0.0.1 for the URL tests: one request per connection.</summary>
internal sealed class TinyHttpServer : IAsyncDisposable
{
    internal sealed record Request(string Path, Dictionary<string, string> Headers)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
    }

    internal sealed record Response(int Status, string Reason, byte[] Body, string? Location = null);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private TinyHttpServer(Func<Request, Response> handle)
    {
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (OperationCanceledException) { return; }
                catch (SocketException) { return; }
                _ = ServeAsync(client, handle);
            }
        });
    }

    public static TinyHttpServer Start(Func<Request, Response> handle) => new(handle);

    public string Url(string path) => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}";

    public static Response Ok(byte[] body) => new(200, "OK", body);
    public static Response NotFound() => new(404, "Not Found", []);
    public static Response Redirect(string location) => new(302, "Found", [], location);

    private static async Task ServeAsync(TcpClient client, Func<Request, Response> handle)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true);
                string? line = await reader.ReadLineAsync();
                if (line is null) return;
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                string? h;
                while (!string.IsNullOrEmpty(h = await reader.ReadLineAsync()))
                {
                    int colon = h.IndexOf(':');
                    if (colon > 0) headers[h[..colon].Trim()] = h[(colon + 1)..].Trim();
                }
                var response = handle(new Request(line.Split(' ')[1], headers));
                var head = new StringBuilder($"HTTP/1.1 {response.Status} {response.Reason}\r\nContent-Length: {response.Body.Length}\r\nConnection: close\r\n");
                if (response.Location is not null) head.Append($"Location: {response.Location}\r\n");
                head.Append("\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
                await stream.WriteAsync(response.Body);
            }
            catch (IOException) { /* the client went away (e.g. it refused a body too large) */ }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
    }
}
