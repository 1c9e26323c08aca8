using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class HttpTrackerClientTests
{
    private static readonly InfoHash Hash = InfoHash.FromHex("00ff2025263f3d2b7e2e5f41e9c3a0b1c2d3e4f5");
    private static readonly byte[] PeerId = "-RT0100-\0\u0001%&=+?/#~ab"u8.ToArray()[..20];

    private static TrackerAnnounceRequest Request(AnnounceEvent ev = AnnounceEvent.Started) => new()
    {
        InfoHash = Hash, PeerId = PeerId, Port = 51413, Uploaded = 1, Downloaded = 2, Left = 3, Event = ev, NumWant = 80, Key = 7,
    };

    private static HttpTrackerClient Client(string url, TimeSpan? timeout = null, int maxBytes = 2 * 1024 * 1024) =>
        new(new Uri(url), new HttpTrackerClientOptions { RequestTimeout = timeout ?? TimeSpan.FromSeconds(15), MaxResponseBytes = maxBytes });

    [Fact]
    public async Task Announce_sends_raw_bytes_and_reads_compact_ipv4_and_ipv6_peers()
    {
        var v4 = new IPEndPoint(IPAddress.Parse("10.0.0.9"), 7000);
        var v6 = new IPEndPoint(IPAddress.Parse("fe80::1234"), 7001);
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Bencoded(new BDictionary
        {
            ["interval"] = new BInteger(900),
            ["min interval"] = new BInteger(60),
            ["complete"] = new BInteger(1),
            ["incomplete"] = new BInteger(2),
            ["peers"] = new BString(CompactPeers.Encode([v4], AddressFamily.InterNetwork)),
            ["peers6"] = new BString(CompactPeers.Encode([v6], AddressFamily.InterNetworkV6)),
        }));
        var response = await Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None);

        Assert.Equal([v4, v6], response.Peers);
        Assert.Equal(TimeSpan.FromSeconds(900), response.Interval);
        Assert.Equal(TimeSpan.FromSeconds(60), response.MinInterval);
        Assert.Equal((1, 2), (response.Seeders, response.Leechers));

        var request = Assert.Single(tracker.Requests);
        Assert.Equal("/announce", request.Path);
        Assert.Equal(Hash.ToArray(), request.Bytes("info_hash"));
        Assert.Equal(PeerId, request.Bytes("peer_id"));
        Assert.Equal("51413", request.Text("port"));
        Assert.Equal("started", request.Text("event"));
        Assert.Equal("80", request.Text("numwant"));
        Assert.Equal("1", request.Text("compact"));
    }

    [Fact]
    public async Task Passkey_query_is_kept_and_tracker_id_is_sent_back()
    {
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Bencoded(new BDictionary
        {
            ["interval"] = new BInteger(900), ["tracker id"] = new BString("T-42"), ["peers"] = new BString(""),
        }));
        var client = Client(tracker.BaseUrl + "/x/announce.php?passkey=s3cr%2Bt");
        var first = await client.AnnounceAsync(Request(), CancellationToken.None);
        await client.AnnounceAsync(Request(AnnounceEvent.None) with { TrackerId = first.TrackerId }, CancellationToken.None);

        var requests = tracker.Requests;
        Assert.All(requests, r => Assert.StartsWith("/x/announce.php?passkey=s3cr%2Bt&info_hash=", r.Target));
        Assert.Null(requests[0].Text("trackerid"));
        Assert.Equal("T-42", requests[1].Text("trackerid"));
        Assert.Null(requests[1].Text("event"));
    }

    [Fact]
    public async Task Dictionary_peers_and_warning()
    {
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Bencoded(new BDictionary
        {
            ["interval"] = new BInteger(900),
            ["warning message"] = new BString("ratio low"),
            ["peers"] = new BList { new BDictionary { ["ip"] = new BString("2001:db8::2"), ["port"] = new BInteger(9) } },
        }));
        var r = await Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("2001:db8::2"), 9)], r.Peers);
        Assert.Equal("ratio low", r.WarningMessage);
    }

    [Fact]
    public async Task Failure_reason_is_the_message()
    {
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Raw("d14:failure reason9:torrent?!e"));
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Equal("torrent?!", e.Message);
    }

    [Fact]
    public async Task Failure_reason_with_an_error_status_still_shows_the_reason()
    {
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Raw("d14:failure reason11:bad passkeye", 403, "Forbidden"));
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Equal("bad passkey", e.Message);
    }

    [Fact]
    public async Task Http_500_with_an_html_page()
    {
        await using var tracker = new FakeHttpTracker(_ =>
            FakeHttpResponse.Raw("<html><title>Oops</title></html>", 500, "Internal Server Error", "text/html"));
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.HttpStatus, e.Kind);
        Assert.Equal("The tracker answered HTTP 500 Internal Server Error.", e.Message);
    }

    [Fact]
    public async Task Html_page_with_status_200()
    {
        await using var tracker = new FakeHttpTracker(_ =>
            FakeHttpResponse.Raw("<html><head><title>Cloudflare: checking your browser</title></head></html>", contentType: "text/html"));
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
        Assert.Contains("Cloudflare: checking your browser", e.Message);
    }

    [Fact]
    public async Task Garbage_body()
    {
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Body = [0xff, 0x00, 0x13, 0x37] });
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
        Assert.Contains("not bencode", e.Message);
    }

    [Fact]
    public async Task Body_shorter_than_its_content_length()
    {
        var full = BencodeWriter.Encode(new BDictionary { ["interval"] = new BInteger(900), ["peers"] = new BString(new byte[60]) });
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Body = full[..20], ContentLength = full.Length });
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
    }

    [Fact]
    public async Task Body_without_content_length_ends_with_the_connection()
    {
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse
        {
            Body = [.. "d8:intervali5e5:peers6:"u8, 127, 0, 0, 1, 0x1a, 0xe1, (byte)'e'],
            OmitContentLength = true,
        });
        var r = await Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 6881)], r.Peers);
    }

    [Fact]
    public async Task Truncated_bencode()
    {
        var full = BencodeWriter.Encode(new BDictionary { ["interval"] = new BInteger(900), ["peers"] = new BString(new byte[60]) });
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Body = full[..30] });
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public async Task Oversized_answer_is_refused()
    {
        var big = BencodeWriter.Encode(new BDictionary { ["interval"] = new BInteger(900), ["peers"] = new BString(new byte[6 * 20000]) });
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Body = big });
        var e = await Assert.ThrowsAsync<TrackerException>(() =>
            Client(tracker.AnnounceUrl, maxBytes: 64 * 1024).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
        Assert.Contains("larger than 64 KiB", e.Message);
    }

    [Fact]
    public async Task Oversized_answer_without_content_length_is_refused_while_reading()
    {
        var big = BencodeWriter.Encode(new BDictionary { ["interval"] = new BInteger(900), ["peers"] = new BString(new byte[6 * 20000]) });
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Body = big, OmitContentLength = true });
        var e = await Assert.ThrowsAsync<TrackerException>(() =>
            Client(tracker.AnnounceUrl, maxBytes: 100_000).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Contains("larger than", e.Message);
    }

    [Fact]
    public async Task A_connection_the_tracker_resets_before_answering_is_tried_once_more()
    {
        // opentracker resets a few connections in a hundred without answering; the announce must not be lost.
        int seen = 0;
        await using var tracker = new FakeHttpTracker(_ => Interlocked.Increment(ref seen) == 1
            ? new FakeHttpResponse { Reset = true }
            : FakeHttpResponse.Bencoded(new BDictionary { ["interval"] = new BInteger(900), ["peers"] = new BString("") }));

        var response = await Client(tracker.AnnounceUrl).AnnounceAsync(Request(AnnounceEvent.Stopped), CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(900), response.Interval);
        Assert.Equal(2, tracker.RequestCount);
        Assert.All(tracker.Requests, r => Assert.Equal("stopped", r.Text("event")));
    }

    [Fact]
    public async Task A_tracker_that_keeps_resetting_is_a_network_error_after_one_retry()
    {
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Reset = true });
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.Network, e.Kind);
        Assert.Equal(2, tracker.RequestCount);
    }

    [Fact]
    public async Task Slow_tracker_times_out_with_a_clear_message()
    {
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Hang = true });
        var e = await Assert.ThrowsAsync<TrackerException>(() =>
            Client(tracker.AnnounceUrl, TimeSpan.FromMilliseconds(300)).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.Timeout, e.Kind);
        Assert.Contains("did not answer within", e.Message);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_a_tracker_error()
    {
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Hang = true });
        using var cts = new CancellationTokenSource();
        var announce = Client(tracker.AnnounceUrl).AnnounceAsync(Request(), cts.Token);
        await TestWait.UntilAsync(() => tracker.RequestCount == 1, "the request to arrive");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => announce);
    }

    [Fact]
    public async Task Connection_refused_is_a_network_error()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var e = await Assert.ThrowsAsync<TrackerException>(() =>
            Client($"http://127.0.0.1:{port}/announce").AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.Network, e.Kind);
        Assert.Contains("connection refused", e.Message);
    }

    [Fact]
    public async Task Redirect_to_a_non_http_scheme_is_not_followed()
    {
        await using var tracker = new FakeHttpTracker(_ => new FakeHttpResponse { Status = 302, Reason = "Found", Location = "file:///etc/passwd" });
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
        Assert.Contains("redirected to a file: URL", e.Message);
        Assert.Equal(1, tracker.RequestCount);
    }

    [Fact]
    public async Task Redirect_to_http_is_followed()
    {
        await using var target = new FakeHttpTracker(_ => FakeHttpResponse.Raw("d8:intervali77e5:peers0:e"));
        await using var tracker = new FakeHttpTracker(r => new FakeHttpResponse { Status = 301, Reason = "Moved", Location = target.BaseUrl + r.Target });
        var r = await Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(77), r.Interval);
        Assert.Equal(Hash.ToArray(), Assert.Single(target.Requests).Bytes("info_hash"));
    }

    [Fact]
    public async Task Redirect_loops_end()
    {
        await using var tracker = new FakeHttpTracker(r => new FakeHttpResponse { Status = 302, Reason = "Found", Location = r.Target });
        var e = await Assert.ThrowsAsync<TrackerException>(() => Client(tracker.AnnounceUrl).AnnounceAsync(Request(), CancellationToken.None));
        Assert.Contains("redirected more than 5 times", e.Message);
        Assert.Equal(6, tracker.RequestCount);
    }

    [Fact]
    public async Task Scrape_uses_the_scrape_url_and_reads_counts()
    {
        await using var tracker = new FakeHttpTracker(r =>
        {
            var body = "d5:filesd20:"u8.ToArray().Concat(Hash.ToArray())
                .Concat("d8:completei4e10:downloadedi6e10:incompletei5eeee"u8.ToArray()).ToArray();
            return r.Path == "/scrape.php" ? new FakeHttpResponse { Body = body } : FakeHttpResponse.Raw("not found", 404, "Not Found");
        });
        var client = Client(tracker.BaseUrl + "/announce.php?pk=9");
        Assert.True(client.CanScrape);
        var result = await client.ScrapeAsync([Hash], CancellationToken.None);
        Assert.Equal(new ScrapeCounts(4, 5, 6), result.Files[Hash]);
        var request = Assert.Single(tracker.Requests);
        Assert.Equal("9", request.Text("pk"));
        Assert.Equal(Hash.ToArray(), request.Bytes("info_hash"));
    }

    [Fact]
    public async Task Scrape_is_unsupported_without_the_convention()
    {
        var client = Client("http://127.0.0.1:1/tracker");
        Assert.False(client.CanScrape);
        var e = await Assert.ThrowsAsync<TrackerException>(() => client.ScrapeAsync([Hash], CancellationToken.None));
        Assert.Equal(TrackerErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void Only_http_and_https_urls_are_accepted()
    {
        Assert.Throws<ArgumentException>(() => new HttpTrackerClient(new Uri("udp://t:1/announce")));
        Assert.Throws<ArgumentException>(() => new HttpTrackerClient(new Uri("wss://t/announce")));
    }
}
