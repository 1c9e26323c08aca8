using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

public class UdpTrackerClientTests
{
    private static readonly InfoHash Hash = InfoHash.FromHex("0123456789abcdef0123456789abcdef01234567");
    private static readonly byte[] PeerId = "-RT0100-abcdefghijkl"u8.ToArray();

    private static TrackerAnnounceRequest Request(AnnounceEvent ev = AnnounceEvent.Started) => new()
    {
        InfoHash = Hash, PeerId = PeerId, Port = 6881, Uploaded = 11, Downloaded = 22, Left = 33, Event = ev, NumWant = 50, Key = 0xCAFE,
    };

    /// <summary>Short waits so retransmission tests run fast; the schedule's shape is what is tested.</summary>
    private static UdpTrackerClient Client(FakeUdpTracker tracker, int maxRetransmissions = 8, TimeProvider? time = null, int baseMs = 5000) =>
        new(new Uri(tracker.AnnounceUrl),
            new UdpTrackerClientOptions { BaseTimeout = TimeSpan.FromMilliseconds(baseMs), MaxRetransmissions = maxRetransmissions }, time);

    [Fact]
    public async Task Connect_then_announce_sends_every_field_and_reads_ipv4_peers()
    {
        using var tracker = new FakeUdpTracker();
        tracker.Peers.AddRange([new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1111), new IPEndPoint(IPAddress.Loopback, 2222)]);
        using var client = Client(tracker);
        var r = await client.AnnounceAsync(Request(), CancellationToken.None);

        Assert.Equal(tracker.Peers, r.Peers);
        Assert.Equal(TimeSpan.FromSeconds(1800), r.Interval);
        Assert.Equal((3, 4), (r.Seeders, r.Leechers));

        var packets = tracker.Received;
        Assert.Equal(2, packets.Count);
        Assert.True(packets[0].IsConnect);
        var announce = packets[1];
        Assert.True(announce.IsAnnounce);
        Assert.Equal(tracker.IssuedConnectionIds[0], announce.ConnectionId);
        Assert.Equal(Hash, announce.InfoHash);
        Assert.Equal(PeerId, announce.PeerId);
        Assert.Equal((22L, 33L, 11L), (announce.Downloaded, announce.Left, announce.Uploaded));
        Assert.Equal(2, announce.Event); // started
        Assert.Equal(0xCAFEu, announce.Key);
        Assert.Equal(50, announce.NumWant);
        Assert.Equal(6881, announce.Port);
    }

    [Fact]
    public async Task Ipv6_tracker_gives_18_byte_peers()
    {
        using var tracker = new FakeUdpTracker(ipv6: true);
        tracker.Peers.AddRange([new IPEndPoint(IPAddress.Parse("2001:db8::7"), 7777), new IPEndPoint(IPAddress.IPv6Loopback, 8888)]);
        using var client = Client(tracker);
        var r = await client.AnnounceAsync(Request(), CancellationToken.None);
        Assert.Equal(tracker.Peers, r.Peers);
    }

    [Fact]
    public async Task Scrape_reads_counts_for_every_hash_in_chunks()
    {
        using var tracker = new FakeUdpTracker { Seeders = 9, Leechers = 8, Completed = 7 };
        using var client = Client(tracker);
        var hashes = Enumerable.Range(0, 100).Select(i => new InfoHash([.. Enumerable.Repeat((byte)i, 20)])).ToArray();
        var r = await client.ScrapeAsync(hashes, CancellationToken.None);
        Assert.Equal(100, r.Files.Count);
        Assert.All(hashes, h => Assert.Equal(new ScrapeCounts(9, 8, 7), r.Files[h]));
        Assert.Equal(2, tracker.Count(p => p.IsScrape)); // 74 + 26
        Assert.Equal(1, tracker.Count(p => p.IsConnect));
    }

    [Fact]
    public async Task Error_action_is_a_tracker_failure_with_its_message()
    {
        using var tracker = new FakeUdpTracker { AnnounceError = "Requested download is not authorized for use with this tracker." };
        using var client = Client(tracker);
        var e = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Equal("Requested download is not authorized for use with this tracker.", e.Message);
    }

    [Fact]
    public async Task Lost_packets_are_retransmitted_with_the_same_transaction_id()
    {
        using var tracker = new FakeUdpTracker();
        int connects = 0, announces = 0;
        tracker.Handler = p =>
        {
            if (p.IsConnect && ++connects <= 1) return [];
            if (p.IsAnnounce && ++announces <= 2) return [];
            return tracker.Standard(p);
        };
        using var client = Client(tracker, baseMs: 50);
        var r = await client.AnnounceAsync(Request(), CancellationToken.None);
        Assert.NotNull(r.Interval);
        var received = tracker.Received;
        var connectPackets = received.Where(p => p.IsConnect).ToList();
        var announcePackets = received.Where(p => p.IsAnnounce).ToList();
        Assert.Equal(2, connectPackets.Count);
        Assert.Equal(3, announcePackets.Count);
        Assert.Single(connectPackets.Select(p => p.TransactionId).Distinct());
        Assert.Single(announcePackets.Select(p => p.TransactionId).Distinct());
    }

    [Fact]
    public async Task Retransmission_follows_the_doubling_schedule_and_then_gives_up()
    {
        using var tracker = new FakeUdpTracker { Handler = _ => [] };
        var time = new ManualTimeProvider();
        using var client = Client(tracker, maxRetransmissions: 3, time: time, baseMs: 15_000);
        var announce = client.AnnounceAsync(Request(), CancellationToken.None);

        // 15 s, 30 s, 60 s, 120 s: a send at the start of each wait, and nothing earlier.
        int[] waits = [15, 30, 60, 120];
        for (int n = 0; n < waits.Length; n++)
        {
            await TestWait.UntilAsync(() => tracker.Received.Count == n + 1, $"send {n + 1}");
            await TestWait.UntilAsync(() => time.PendingTimers == 1, $"wait {n + 1} to start"); // the wait is relative to its start
            int fired = time.Fired;
            time.Advance(TimeSpan.FromSeconds(waits[n]) - TimeSpan.FromMilliseconds(1));
            Assert.Equal(fired, time.Fired); // the wait's timer did not come due: nothing can resend
            Assert.Equal(n + 1, tracker.Received.Count);
            Assert.False(announce.IsCompleted);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }
        var e = await Assert.ThrowsAsync<TrackerException>(() => announce);
        Assert.Equal(TrackerErrorKind.Timeout, e.Kind);
        Assert.Contains("4 attempts", e.Message);
        Assert.All(tracker.Received, p => Assert.True(p.IsConnect));
    }

    [Fact]
    public async Task Answers_with_a_wrong_transaction_id_are_ignored()
    {
        using var tracker = new FakeUdpTracker();
        tracker.Handler = p => p.IsConnect
            ? [FakeUdpTracker.ConnectAnswer(p.TransactionId + 1, 111), .. tracker.Standard(p)]
            : tracker.Standard(p);
        using var client = Client(tracker);
        await client.AnnounceAsync(Request(), CancellationToken.None);
        var announce = Assert.Single(tracker.Received, p => p.IsAnnounce);
        Assert.NotEqual(111, announce.ConnectionId);
        Assert.Equal(tracker.IssuedConnectionIds[0], announce.ConnectionId);
    }

    [Fact]
    public async Task Answers_with_a_wrong_length_are_ignored()
    {
        using var tracker = new FakeUdpTracker();
        tracker.Peers.Add(new IPEndPoint(IPAddress.Loopback, 5000));
        tracker.Handler = p =>
        {
            var standard = tracker.Standard(p).ToList();
            if (!p.IsAnnounce) return standard;
            var good = standard[0];
            // A peer list that is not whole entries, and an answer cut inside its header.
            return [[.. good, 1, 2, 3], good[..15], good];
        };
        using var client = Client(tracker);
        var r = await client.AnnounceAsync(Request(), CancellationToken.None);
        Assert.Equal(tracker.Peers, r.Peers);
    }

    [Fact]
    public async Task A_bare_announce_header_is_a_refusal_as_opentracker_sends_it()
    {
        using var tracker = new FakeUdpTracker();
        tracker.Handler = p => p.IsAnnounce ? [tracker.Standard(p).First()[..8]] : tracker.Standard(p);
        using var client = Client(tracker);
        var e = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request(), CancellationToken.None));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Contains("not on its list", e.Message);
        Assert.Equal(1, tracker.Count(p => p.IsAnnounce));
    }

    [Fact]
    public async Task Answers_from_another_endpoint_are_ignored()
    {
        using var tracker = new FakeUdpTracker();
        using var spoofer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        spoofer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = Client(tracker, baseMs: 5_000);
        tracker.Handler = p =>
        {
            if (p.IsConnect)
            {
                // A forged answer with the right transaction id from the wrong port arrives first.
                spoofer.SendTo(FakeUdpTracker.ConnectAnswer(p.TransactionId, 666), p.From);
                Thread.Sleep(50);
            }
            return tracker.Standard(p);
        };
        await client.AnnounceAsync(Request(), CancellationToken.None);
        var announce = Assert.Single(tracker.Received, p => p.IsAnnounce);
        Assert.NotEqual(666, announce.ConnectionId);
    }

    [Fact]
    public async Task Connection_id_is_reused_for_a_minute_then_renewed()
    {
        using var tracker = new FakeUdpTracker();
        var time = new ManualTimeProvider();
        using var client = Client(tracker, time: time);
        await client.AnnounceAsync(Request(), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(59));
        await client.AnnounceAsync(Request(AnnounceEvent.None), CancellationToken.None);
        await client.ScrapeAsync([Hash], CancellationToken.None);
        Assert.Equal(1, tracker.Count(p => p.IsConnect));
        time.Advance(TimeSpan.FromSeconds(2));
        await client.AnnounceAsync(Request(AnnounceEvent.None), CancellationToken.None);
        Assert.Equal(2, tracker.Count(p => p.IsConnect));
        var announces = tracker.Received.Where(p => p.IsAnnounce).ToList();
        Assert.Equal(tracker.IssuedConnectionIds[1], announces[^1].ConnectionId);
    }

    [Fact]
    public async Task A_rejected_connection_id_is_dropped_and_the_next_request_reconnects()
    {
        using var tracker = new FakeUdpTracker();
        using var client = Client(tracker);
        await client.AnnounceAsync(Request(), CancellationToken.None);
        tracker.AnnounceError = "Connection ID missmatch.";
        await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request(AnnounceEvent.None), CancellationToken.None));
        tracker.AnnounceError = null;
        await client.AnnounceAsync(Request(AnnounceEvent.None), CancellationToken.None);
        Assert.Equal(2, tracker.Count(p => p.IsConnect));
    }

    [Fact]
    public async Task Cancellation_ends_the_wait()
    {
        using var tracker = new FakeUdpTracker { Handler = _ => [] };
        using var client = Client(tracker, baseMs: 60_000);
        using var cts = new CancellationTokenSource();
        var announce = client.AnnounceAsync(Request(), cts.Token);
        await TestWait.UntilAsync(() => tracker.Received.Count == 1, "the connect");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => announce);
    }

    [Fact]
    public async Task Concurrent_announces_share_one_socket()
    {
        using var tracker = new FakeUdpTracker();
        using var client = Client(tracker);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.AnnounceAsync(Request(), CancellationToken.None)));
        Assert.Single(tracker.Received.Select(p => p.From).Distinct());
        Assert.Equal(20, tracker.Count(p => p.IsAnnounce));
    }

    [Fact]
    public async Task Concurrent_announces_needing_a_connection_id_share_one_connect()
    {
        using var tracker = new FakeUdpTracker();
        var time = new ManualTimeProvider();
        using var client = Client(tracker, time: time);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.AnnounceAsync(Request(), CancellationToken.None)));
        Assert.Equal(1, tracker.Count(p => p.IsConnect));
        time.Advance(TimeSpan.FromMinutes(2)); // the connection id expired: all of them need a new one at once
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.AnnounceAsync(Request(), CancellationToken.None)));
        Assert.Equal(2, tracker.Count(p => p.IsConnect));
        Assert.Equal(40, tracker.Count(p => p.IsAnnounce));
    }

    [Fact]
    public async Task A_shared_connect_everyone_gave_up_on_is_abandoned_and_the_next_request_connects_anew()
    {
        int connects = 0;
        using var tracker = new FakeUdpTracker();
        tracker.Handler = p => p.IsConnect && ++connects == 1 ? [] : tracker.Standard(p);
        using var client = Client(tracker, baseMs: 60_000);
        using var cts = new CancellationTokenSource();
        var first = client.AnnounceAsync(Request(), cts.Token);
        await TestWait.UntilAsync(() => tracker.Count(p => p.IsConnect) == 1, "the first connect");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        var r = await client.AnnounceAsync(Request(), CancellationToken.None);
        Assert.NotNull(r.Interval);
        Assert.Equal(2, tracker.Count(p => p.IsConnect));
    }

    [Theory]
    [InlineData("udp://tracker.example/announce")]
    [InlineData("http://tracker.example:80/announce")]
    public void Urls_without_a_port_or_of_another_scheme_are_refused(string url)
    {
        Assert.Throws<ArgumentException>(() => new UdpTrackerClient(new Uri(url)));
    }
}
