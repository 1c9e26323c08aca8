using System.Text.Json;
using RTorrent.Engine.Client;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Transmission;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>Transmission's conventions as units: status, error, eta, ratio, tracker URLs, media types, arguments and ids.</summary>
public class ConventionsTests
{
    private static TorrentSnapshot Snapshot(TorrentState state, long size = 1000, long done = 0, long down = 0, long up = 0, long uploaded = 0,
        TrackerProblem? problem = null, string? error = null, SeedRatioMode mode = SeedRatioMode.Global, double? own = null) => new()
    {
        Id = "0123456789abcdef0123456789abcdef01234567",
        Name = "t",
        State = state,
        SavePath = "/d",
        Size = size,
        TotalSize = size,
        Done = done,
        DownloadRate = down,
        UploadRate = up,
        Uploaded = uploaded,
        PieceCount = 4,
        TrackerProblem = problem,
        Error = error,
        SeedRatioMode = mode,
        SeedRatioLimit = own,
    };

    [Theory]
    [InlineData(TorrentState.Stopped, 0)]
    [InlineData(TorrentState.Error, 0)]
    [InlineData(TorrentState.Checking, 2)]
    [InlineData(TorrentState.FetchingMetadata, 4)]
    [InlineData(TorrentState.Downloading, 4)]
    [InlineData(TorrentState.Seeding, 6)]
    public void Status_numbers_are_transmissions(TorrentState state, int status) => Assert.Equal(status, Units.Status(Snapshot(state)));

    [Fact]
    public void Queued_is_a_download_or_seed_wait_by_completeness()
    {
        Assert.Equal(3, Units.Status(Snapshot(TorrentState.Queued, done: 10)));
        Assert.Equal(5, Units.Status(Snapshot(TorrentState.Queued, done: 1000)));
        // Every file skipped: nothing is wanted, so it waits to seed; a magnet without metadata waits to download.
        Assert.Equal(5, Units.Status(Snapshot(TorrentState.Queued, size: 0) with { TotalSize = 1000 }));
        Assert.Equal(3, Units.Status(Snapshot(TorrentState.Queued, size: 0) with { TotalSize = 0 }));
    }

    [Fact]
    public void Errors_are_local_then_tracker_error_then_warning()
    {
        var local = Snapshot(TorrentState.Error, error: "disk full", problem: new TrackerProblem(true, "unregistered"));
        Assert.Equal((3, "disk full"), (Units.Error(local), Units.ErrorString(local)));
        var refused = Snapshot(TorrentState.Downloading, problem: new TrackerProblem(true, "unregistered torrent"));
        Assert.Equal((2, "unregistered torrent"), (Units.Error(refused), Units.ErrorString(refused)));
        var warned = Snapshot(TorrentState.Seeding, problem: new TrackerProblem(false, "slow down"));
        Assert.Equal((1, "slow down"), (Units.Error(warned), Units.ErrorString(warned)));
        // A note on a stopped torrent (why it stopped) is not an error.
        var note = Snapshot(TorrentState.Stopped, error: "seed ratio limit reached");
        Assert.Equal((0, ""), (Units.Error(note), Units.ErrorString(note)));
    }

    [Fact]
    public void Eta_is_seconds_or_minus_two_when_unknown_or_minus_one_when_not_available()
    {
        Assert.Equal(9, Units.Eta(Snapshot(TorrentState.Downloading, done: 100, down: 100), null));
        Assert.Equal(-2, Units.Eta(Snapshot(TorrentState.Downloading, done: 100), null));
        Assert.Equal(-2, Units.Eta(Snapshot(TorrentState.FetchingMetadata, down: 100), null));
        Assert.Equal(-1, Units.Eta(Snapshot(TorrentState.Stopped, done: 100, down: 100), null));
        Assert.Equal(-1, Units.Eta(Snapshot(TorrentState.Seeding, done: 1000, up: 100), null)); // no ratio goal
        Assert.Equal(15, Units.Eta(Snapshot(TorrentState.Seeding, done: 1000, up: 100, uploaded: 500), 2.0)); // 1500 bytes left to 2.0
        Assert.Equal(-2, Units.Eta(Snapshot(TorrentState.Seeding, done: 1000, uploaded: 500), 2.0));
        Assert.Equal(0, Units.Eta(Snapshot(TorrentState.Seeding, done: 1000, uploaded: 5000, mode: SeedRatioMode.Custom, own: 1), null));
        Assert.Equal(-1, Units.Eta(Snapshot(TorrentState.Seeding, done: 1000, up: 10, mode: SeedRatioMode.Unlimited), 2.0));
    }

    [Fact]
    public void EtaIdle_counts_down_the_idle_limit_of_a_seed_uploading_nothing_and_waits_for_the_minimum()
    {
        var now = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var seed = Snapshot(TorrentState.Seeding) with
        {
            StartedAt = now.AddMinutes(-20), ActivityAt = now.AddMinutes(-10), SeedingSince = now.AddMinutes(-20),
        };
        FieldScope Scope(int? idle, int min = 0) => new() { Now = now, SessionIdleLimit = idle, SessionMinSeedingTime = min };
        Assert.Equal(-1, Units.EtaIdle(seed, Scope(null))); // no idle limit
        Assert.Equal(20 * 60, Units.EtaIdle(seed, Scope(30))); // idle 10 of 30 minutes
        Assert.Equal(40 * 60, Units.EtaIdle(seed, Scope(30, min: 60))); // 20 of 60 minutes seeded
        Assert.Equal(5 * 60, Units.EtaIdle(seed with { SeedIdleMode = SeedRatioMode.Custom, SeedIdleLimit = 15 }, Scope(30)));
        Assert.Equal(-1, Units.EtaIdle(seed with { SeedIdleMode = SeedRatioMode.Unlimited }, Scope(30)));
        Assert.Equal(-1, Units.EtaIdle(seed with { UploadRate = 10 }, Scope(30))); // uploading: not idle
        Assert.Equal(-1, Units.EtaIdle(seed with { State = TorrentState.Stopped }, Scope(30)));
    }

    [Fact]
    public void Ratios_follow_tr_getRatio_and_dates_are_unix_seconds_or_zero()
    {
        Assert.Equal(0.5, Units.Ratio(50, 100));
        Assert.Equal(-2, Units.Ratio(50, 0));
        Assert.Equal(-1, Units.Ratio(0, 0));
        Assert.Equal(0, Units.UnixSeconds(null));
        Assert.Equal(0, Units.UnixSeconds(DateTimeOffset.UnixEpoch.AddSeconds(-5)));
        Assert.Equal(1_700_000_000, Units.UnixSeconds(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)));
        Assert.Equal(12, Units.ToKBps(12_999));
    }

    [Theory]
    [InlineData("http://tracker.example.org/announce", "http://tracker.example.org/scrape")]
    [InlineData("https://t.example.com:443/x/announce.php?passkey=1", "https://t.example.com:443/x/scrape.php?passkey=1")]
    [InlineData("udp://tracker.opentrackr.org:1337/announce", "udp://tracker.opentrackr.org:1337/announce")]
    [InlineData("http://example.com/tracker", "")]
    public void Scrape_urls_follow_the_announce_convention(string announce, string scrape) => Assert.Equal(scrape, Trackers.ScrapeOf(announce));

    [Theory]
    [InlineData("udp://tracker.opentrackr.org:1337/announce", "opentrackr")]
    [InlineData("http://tracker.example.co.uk/announce", "example")]
    [InlineData("http://127.0.0.1:6969/announce", "127.0.0.1")]
    [InlineData("http://[::1]:6969/announce", "::1")]
    [InlineData("http://localhost/announce", "localhost")]
    public void Site_names_are_the_registered_name(string url, string site) => Assert.Equal(site, Trackers.SiteName(url));

    [Fact]
    public void Tracker_lists_round_trip_with_a_blank_line_between_tiers()
    {
        IReadOnlyList<IReadOnlyList<string>> tiers = [["a", "b"], ["c"]];
        string text = Trackers.ToTrackerList(tiers);
        Assert.Equal("a\nb\n\nc\n", text);
        Assert.Equal(tiers, Trackers.ParseTrackerList(text));
        Assert.Equal([["a"], ["b"]], Trackers.ParseTrackerList("\r\n a \r\n\r\n\r\nb"));
        Assert.Equal("", Trackers.ToTrackerList([]));
    }

    [Fact]
    public void Media_types_go_by_extension_and_octet_stream_otherwise()
    {
        Assert.Equal("video/x-matroska", MimeTypes.Of("Show/S01E01.MKV"));
        Assert.Equal("application/octet-stream", MimeTypes.Of("data.unknownext"));
        Assert.Equal("application/octet-stream", MimeTypes.Of("noextension"));
        Assert.Equal("application/octet-stream", MimeTypes.PrimaryOf(null));
    }

    private static Arguments Args(string json) => new(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Arguments_take_libtransmissions_conversions_and_name_the_key_otherwise()
    {
        var a = Args("""{"b1":1,"b2":"false","b3":true,"i1":5,"i2":5.0,"i3":false,"d1":"1.5","d2":2,"s":"x","l":[1,2.0]}""");
        Assert.True(a.TryGetBool("b1", out bool b1) && b1);
        Assert.True(a.TryGetBool("b2", out bool b2) && !b2);
        Assert.True(a.TryGetLong("i2", out long i2) && i2 == 5);
        Assert.True(a.TryGetLong("i3", out long i3) && i3 == 0);
        Assert.True(a.TryGetDouble("d1", out double d1) && d1 == 1.5);
        Assert.True(a.TryGetDouble("d2", out double d2) && d2 == 2);
        Assert.True(a.TryGetLongList("l", out var list) && list.SequenceEqual([1L, 2L]));
        Assert.False(a.TryGetString("missing", out _));
        Assert.Equal("'b1' must be a string; 1 is a number", Assert.Throws<RpcException>(() => a.TryGetString("b1", out _)).Message);
        Assert.Equal("'i1' must be true or false; 5 is a number", Assert.Throws<RpcException>(() => a.TryGetBool("i1", out _)).Message);
        Assert.Equal("'s' must be a whole number; \"x\" is a string", Assert.Throws<RpcException>(() => a.TryGetLong("s", out _)).Message);
        Assert.Equal("'d1' must be a whole number; \"1.5\" is a string", Assert.Throws<RpcException>(() => a.TryGetLong("d1", out _)).Message);
        Assert.Equal("'s' must be a list of numbers; \"x\" is a string", Assert.Throws<RpcException>(() => a.TryGetLongList("s", out _)).Message);
    }

    [Fact]
    public void Ids_parse_every_form_transmission_takes()
    {
        Assert.True(IdSelection.Parse(Args("{}")).IsAll);
        Assert.True(IdSelection.Parse(Args("""{"ids":null}""")).IsAll);
        Assert.True(IdSelection.Parse(Args("""{"ids":"recently-active"}""")).IsRecentlyActive);
        Assert.Equal([7L], IdSelection.Parse(Args("""{"ids":7}""")).Items);
        Assert.Equal([3L], IdSelection.Parse(Args("""{"id":3}""")).Items);
        Assert.Equal(["abc"], IdSelection.Parse(Args("""{"ids":"abc"}""")).Items);
        Assert.Equal([1L, "ab", 2L], IdSelection.Parse(Args("""{"ids":[1,"ab",2]}""")).Items);
        Assert.StartsWith("'ids' must list torrent ids", Assert.Throws<RpcException>(() => IdSelection.Parse(Args("""{"ids":[[1]]}"""))).Message);
        Assert.StartsWith("'ids' must be a torrent id", Assert.Throws<RpcException>(() => IdSelection.Parse(Args("""{"ids":true}"""))).Message);
        Assert.Equal("no torrent with id 4", IdSelection.UnknownMessage([4L]));
        Assert.Equal("no torrents with id 4, 'ab'", IdSelection.UnknownMessage([4L, "ab"]));
    }
}
