using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Tui.Hosts;

namespace RTorrent.Tests.Tui;

public class MultiHostBackendTests
{
    private const string Magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(2);
    private static readonly string Ubuntu = FakeBackend.IdFor("ubuntu-24.04.iso");

    private readonly ManualClock _clock = new();

    /// <summary>seedbox: ubuntu (downloading) and debian (seeding); nas: the same ubuntu torrent and fedora.</summary>
    private static (FakeBackend Seedbox, FakeBackend Nas) TwoHosts()
    {
        var seedbox = new FakeBackend { DhtNodes = 300 };
        seedbox.AddTorrent(FakeBackend.Snapshot("ubuntu-24.04.iso", 6L << 30, 0.5, TorrentState.Downloading, down: 1000, up: 100, peers: 4));
        seedbox.AddTorrent(FakeBackend.Snapshot("debian-12.iso", 650L << 20, 1, TorrentState.Seeding, up: 50, peers: 2));
        var nas = new FakeBackend { DhtNodes = null };
        nas.AddTorrent(FakeBackend.Snapshot("ubuntu-24.04.iso", 6L << 30, 1, TorrentState.Seeding, up: 7, peers: 1));
        nas.AddTorrent(FakeBackend.Snapshot("fedora-40.iso", 2L << 30, 0.1, TorrentState.Stopped));
        return (seedbox, nas);
    }

    private MultiHostBackend Merge(ITorrentBackend seedbox, ITorrentBackend nas) =>
        new([("seedbox", seedbox), ("nas", nas)], new MultiHostOptions { HostTimeout = Bound, SlowGrace = TimeSpan.FromSeconds(10), Time = _clock });

    private static Task<SessionSnapshot> Within(Task<SessionSnapshot> task) => task.WaitAsync(TimeSpan.FromSeconds(20));

    [Fact]
    public async Task Ids_are_unique_across_hosts_and_every_call_goes_back_to_the_torrent_s_host()
    {
        (FakeBackend seedbox, FakeBackend nas) = TwoHosts();
        MultiHostBackend multi = Merge(seedbox, nas);

        SessionSnapshot s = await multi.GetSessionAsync();
        Assert.Equal(4, s.Torrents.Select(t => t.Id).Distinct().Count()); // the same torrent on two hosts is two rows
        Assert.Equal(["0/" + Ubuntu, "1/" + Ubuntu], s.Torrents.Where(t => t.Name == "ubuntu-24.04.iso").Select(t => t.Id));
        Assert.Equal(["seedbox", "seedbox", "nas", "nas"], s.Torrents.Select(t => t.Host));
        Assert.Equal("nas", multi.HostOf("1/" + Ubuntu));

        await multi.StartAsync("1/" + Ubuntu);
        await multi.SetTorrentLimitsAsync("1/" + Ubuntu, 10, 20);
        await multi.SetSequentialAsync("0/" + Ubuntu, true);
        await multi.SetFilePriorityAsync("0/" + Ubuntu, [0], Priority.High);
        await multi.RemoveAsync("1/" + FakeBackend.IdFor("fedora-40.iso"), deleteData: true);
        Assert.Equal([$"start {Ubuntu}", $"limits {Ubuntu} 10 20", $"remove {FakeBackend.IdFor("fedora-40.iso")} data=True"], nas.Calls);
        Assert.Equal([$"sequential {Ubuntu} True", $"priority {Ubuntu} [0] High"], seedbox.Calls);

        TorrentDetails? details = await multi.GetDetailsAsync("1/" + Ubuntu);
        Assert.Equal("1/" + Ubuntu, details!.Summary.Id);
        Assert.Equal("nas", details.Summary.Host);
        Assert.Equal(10, details.Summary.DownloadLimit); // nas's copy, limited above

        Assert.Null(await multi.GetDetailsAsync("7/" + Ubuntu));
        Assert.Null(await multi.GetDetailsAsync(Ubuntu));
        Assert.Null(multi.HostOf(Ubuntu));
        await Assert.ThrowsAsync<InvalidOperationException>(() => multi.StopAsync("9/" + Ubuntu));
    }

    [Fact]
    public async Task The_session_sums_the_hosts_and_says_how_each_one_is()
    {
        (FakeBackend seedbox, FakeBackend nas) = TwoHosts();
        await seedbox.SetGlobalLimitsAsync(0, 4096);
        MultiHostBackend multi = Merge(seedbox, nas);

        SessionSnapshot s = await multi.GetSessionAsync();
        Assert.Equal(1000, s.DownloadRate);
        Assert.Equal(157, s.UploadRate);
        Assert.Equal(7, s.Connections);
        Assert.Equal(300, s.DhtNodes); // the host without DHT adds nothing
        Assert.Equal(4096, s.UploadLimit); // the largest, which the throttle keys step from
        Assert.Equal(
            [new HostStatus("seedbox", true, 1000, 150, 2, null, null), new HostStatus("nas", true, 0, 7, 2, null, null)],
            s.Hosts);
        Assert.Equal(new BackendInfo(BackendKind.Multiple, "seedbox, nas", false), multi.Info);
    }

    [Fact]
    public async Task A_host_that_throws_shows_disconnected_and_its_torrents_leave_until_it_answers_again()
    {
        (FakeBackend seedbox, FakeBackend nasFake) = TwoHosts();
        var nas = new FlakyBackend(nasFake);
        MultiHostBackend multi = Merge(seedbox, nas);
        Assert.Equal(4, (await multi.GetSessionAsync()).Torrents.Count);

        DateTimeOffset retry = _clock.GetUtcNow().AddSeconds(8);
        nas.Failure = new BackendUnavailableException("the daemon at nas:9091 is not answering: connection refused", retry);
        SessionSnapshot s = await multi.GetSessionAsync();
        Assert.Equal(["seedbox", "seedbox"], s.Torrents.Select(t => t.Host));
        Assert.Equal(150, s.UploadRate);
        Assert.Equal(new HostStatus("nas", false, 0, 0, 2, "the daemon at nas:9091 is not answering: connection refused", retry), s.Hosts![1]);
        Assert.True(s.Hosts[0].Connected);

        nas.Failure = new InvalidOperationException("the daemon speaks another protocol version");
        s = await multi.GetSessionAsync();
        Assert.Equal(new HostStatus("nas", false, 0, 0, 2, "the daemon speaks another protocol version", null), s.Hosts![1]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => multi.GetDetailsAsync("1/" + Ubuntu));

        nas.Failure = null;
        s = await multi.GetSessionAsync();
        Assert.Equal(4, s.Torrents.Count);
        Assert.True(s.Hosts![1].Connected);
    }

    [Fact]
    public async Task A_silent_host_delays_one_refresh_by_the_bound_at_most_and_its_late_answer_is_used()
    {
        (FakeBackend seedbox, FakeBackend nasFake) = TwoHosts();
        var nas = new GatedBackend(nasFake);
        nas.Close();
        MultiHostBackend multi = Merge(seedbox, nas);

        Task<SessionSnapshot> first = multi.GetSessionAsync();
        Assert.False(first.IsCompleted); // waiting for nas, within the bound
        _clock.Advance(Bound);
        SessionSnapshot s = await Within(first);
        Assert.Equal(["seedbox", "seedbox"], s.Torrents.Select(t => t.Host));
        Assert.Equal(new HostStatus("nas", false, 0, 0, 0, "no answer yet", null), s.Hosts![1]);

        // nas is still silent: the next refresh does not wait for it again, nor ask it a second question.
        Task<SessionSnapshot> second = multi.GetSessionAsync();
        Assert.True(second.IsCompletedSuccessfully);
        Assert.Equal(2, (await second).Torrents.Count);
        Assert.Equal(1, nas.Questions); // its first question is still open

        nas.Open();
        s = await Within(multi.GetSessionAsync());
        Assert.Equal(4, s.Torrents.Count);
        Assert.True(s.Hosts![1].Connected);
    }

    [Fact]
    public async Task A_host_that_goes_quiet_keeps_its_rows_a_while_marked_slow_then_they_leave()
    {
        (FakeBackend seedbox, FakeBackend nasFake) = TwoHosts();
        var nas = new GatedBackend(nasFake);
        MultiHostBackend multi = Merge(seedbox, nas);
        Assert.Equal(4, (await multi.GetSessionAsync()).Torrents.Count);

        nas.Close();
        Task<SessionSnapshot> slow = multi.GetSessionAsync();
        _clock.Advance(Bound);
        SessionSnapshot s = await Within(slow);
        Assert.Equal(4, s.Torrents.Count);
        Assert.Equal(new HostStatus("nas", true, 0, 7, 2, "slow to answer", null), s.Hosts![1]);

        _clock.Advance(TimeSpan.FromSeconds(10));
        s = await Within(multi.GetSessionAsync());
        Assert.Equal(2, s.Torrents.Count);
        Assert.Equal(new HostStatus("nas", false, 0, 0, 2, "not answering for 12s", null), s.Hosts![1]);

        nas.Open();
        s = await Within(multi.GetSessionAsync());
        Assert.Equal(new HostStatus("nas", true, 0, 7, 2, null, null), s.Hosts![1]);
        Assert.Equal((2, 4), (nas.Questions, s.Torrents.Count));
    }

    [Fact]
    public async Task Details_of_a_silent_host_are_bounded_too()
    {
        (FakeBackend seedbox, FakeBackend nasFake) = TwoHosts();
        var nas = new SlowDetails(nasFake);
        MultiHostBackend multi = Merge(seedbox, nas);
        Task<TorrentDetails?> details = multi.GetDetailsAsync("1/" + Ubuntu);
        Assert.False(details.IsCompleted);
        _clock.Advance(Bound);
        var e = await Assert.ThrowsAsync<BackendUnavailableException>(() => details.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("nas is not answering.", e.Message);
    }

    [Fact]
    public async Task Adding_goes_to_the_chosen_host_and_returns_the_merged_id()
    {
        (FakeBackend seedbox, FakeBackend nas) = TwoHosts();
        MultiHostBackend multi = Merge(seedbox, nas);

        string id = await multi.Host("nas").AddTorrentAsync(Magnet, "/srv/torrents", start: true, picker: null, storage: null);
        Assert.StartsWith("1/", id);
        Assert.Equal("nas", multi.HostOf(id));
        Assert.Equal(Magnet, Assert.Single(nas.Added).Source);
        Assert.Empty(seedbox.Added);
        Assert.Contains(id, (await multi.GetSessionAsync()).Torrents.Select(t => t.Id));

        id = await multi.AddTorrentAsync(Magnet, "", start: false, picker: null, storage: null);
        Assert.Equal("seedbox", multi.HostOf(id)); // without a choice, the first host
        Assert.Throws<ArgumentException>(() => multi.Host("laptop"));
    }

    [Fact]
    public async Task The_log_limits_plugins_and_daemon_stops_are_per_host()
    {
        (FakeBackend seedbox, FakeBackend nas) = TwoHosts();
        seedbox.SessionLog(PluginLogLevel.Information, "listening on 6881");
        nas.SessionLog(PluginLogLevel.Warning, "disk almost full");
        nas.Info = new BackendInfo(BackendKind.Daemon, "nas:9091", true);
        seedbox.StorageNames = ["file"];
        MultiHostBackend multi = Merge(seedbox, nas);

        Assert.Equal(["[seedbox] listening on 6881", "[nas] disk almost full"], (await multi.GetSessionLogAsync()).Select(e => e.Message));
        await multi.SetGlobalLimitsAsync(1024, 2048);
        Assert.Equal("global 1024 2048", Assert.Single(seedbox.Calls));
        Assert.Equal("global 1024 2048", Assert.Single(nas.Calls));
        Assert.Equal(["file"], multi.StorageNames); // what every host has
        Assert.Contains(multi.Plugins, p => p.Folder == "nas:/opt/rtorrent/plugins/pickers");
        Assert.True(multi.Info.CanStopDaemon);

        await Assert.ThrowsAsync<NotSupportedException>(() => multi.StopDaemonAsync());
        await Assert.ThrowsAsync<NotSupportedException>(() => multi.GetSettingsAsync());
        await multi.Host("nas").StopDaemonAsync();
        Assert.Equal("stop-daemon", nas.Calls[^1]);
        Assert.DoesNotContain("stop-daemon", seedbox.Calls);
    }

    [Fact]
    public void Hosts_need_names_of_their_own()
    {
        var e = Assert.Throws<ArgumentException>(() => new MultiHostBackend([("nas", new FakeBackend()), ("nas", new FakeBackend())]));
        Assert.Contains("Two hosts are named nas", e.Message);
        Assert.Throws<ArgumentException>(() => new MultiHostBackend([]));
    }

    /// <summary>A host whose details never come.</summary>
    private sealed class SlowDetails(FakeBackend inner) : DelegatingBackend(inner)
    {
        public override Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default) =>
            new TaskCompletionSource<TorrentDetails?>().Task;
    }
}
