using RTorrent.Engine.Storage;
using RTorrent.Engine.Session;
using RTorrent.Engine.Client;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

public class FormattingTests
{
    [Theory]
    [InlineData(0, "0B")]
    [InlineData(999, "999B")]
    [InlineData(1000, "1.0K")]
    [InlineData(1536, "1.5K")]
    [InlineData(10 * 1024, "10K")]
    [InlineData(999 * 1024, "999K")]
    [InlineData(1023 * 1024, "1.0M")]
    [InlineData(512L * 1024 * 1024, "512M")]
    [InlineData(8L * 1024 * 1024 * 1024, "8.0G")]
    [InlineData(5L * 1024 * 1024 * 1024 * 1024, "5.0T")]
    public void Compact_sizes_fit_four_characters(long bytes, string expected)
    {
        string text = Units.CompactSize(bytes);
        Assert.Equal(expected, text);
        Assert.True(text.Length <= 4);
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.50 KiB")]
    [InlineData(52 * 1024 * 1024 + 300 * 1024, "52.3 MiB")]
    [InlineData(4L * 1024 * 1024 * 1024, "4.00 GiB")]
    public void Sizes_have_binary_units(long bytes, string expected) => Assert.Equal(expected, Units.Size(bytes));

    [Fact]
    public void Rates_and_limits_read_in_words()
    {
        Assert.Equal("-", Units.CompactRate(0));
        Assert.Equal("none", Units.Limit(0));
        Assert.Equal("50.0 KiB/s", Units.Limit(50 * 1024));
        Assert.Equal("", Units.LimitForEditing(0));
        Assert.Equal("500", Units.LimitForEditing(500 * 1024));
        Assert.Equal("1.5", Units.LimitForEditing(1536));
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("none", 0)]
    [InlineData("unlimited", 0)]
    [InlineData("0", 0)]
    [InlineData("500", 500 * 1024)]
    [InlineData("500K", 500 * 1024)]
    [InlineData("500 KiB/s", 500 * 1024)]
    [InlineData("1.5M", 1536 * 1024)]
    [InlineData("2mb", 2 * 1024 * 1024)]
    [InlineData("1G", 1024L * 1024 * 1024)]
    [InlineData("4096B", 4096)]
    public void Limits_typed_by_users_parse(string text, long expected)
    {
        Assert.True(Units.TryParseLimit(text, out long value, out string? error), error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("-5")]
    [InlineData("1e30G")]
    [InlineData("NaN")]
    public void Bad_limits_are_refused_with_a_reason(string text)
    {
        Assert.False(Units.TryParseLimit(text, out _, out string? error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Theory]
    [InlineData(0.0, 10, "[..........]")]
    [InlineData(0.52, 10, "[#####.....]")]
    [InlineData(0.999, 10, "[#########.]")]
    [InlineData(1.0, 10, "[##########]")]
    [InlineData(double.NaN, 4, "[....]")]
    public void Progress_bars_fill_only_at_completion(double fraction, int width, string expected) =>
        Assert.Equal(expected, TorrentText.Bar(fraction, width));

    [Fact]
    public void Percentages_round_down_so_100_means_done()
    {
        Assert.Equal("99%", TorrentText.Percent(0.9999));
        Assert.Equal("100%", TorrentText.Percent(1));
        Assert.Equal("52%", TorrentText.Percent(0.52));
        Assert.Equal("[#####.....]  52%", TorrentText.BarWithPercent(0.52, 17));
        Assert.Equal("52%", TorrentText.BarWithPercent(0.52, 7));
    }

    [Theory]
    [InlineData(45, "45s")]
    [InlineData(303, "5m03s")]
    [InlineData(24 * 60 + 53, "24m")]
    [InlineData(2 * 3600 + 5 * 60, "2h05m")]
    [InlineData(14 * 3600 + 5, "14h")]
    [InlineData(3 * 86400 + 4 * 3600, "3d04h")]
    [InlineData(12 * 86400, "12d")]
    [InlineData(150 * 86400, ">99d")]
    public void Eta_fits_five_characters(int seconds, string expected)
    {
        string text = TorrentText.Eta(TimeSpan.FromSeconds(seconds));
        Assert.Equal(expected, text);
        Assert.True(text.Length <= 5);
    }

    [Fact]
    public void Unknown_values_read_as_a_dash()
    {
        Assert.Equal("-", TorrentText.Eta(null));
        Assert.Equal("-", TorrentText.Ratio(double.NaN));
        Assert.Equal("-", TorrentText.Ratio(double.PositiveInfinity));
        Assert.Equal("0.52", TorrentText.Ratio(0.5211));
        Assert.Equal("150", TorrentText.Ratio(150.2));
        Assert.Equal("-", TorrentText.Date(null));
    }

    [Fact]
    public void States_read_in_words_with_the_reason_for_errors()
    {
        TorrentSnapshot t = FakeBackend.Snapshot("a", 100, 0.45, TorrentState.Checking);
        Assert.Equal("checking 45%", TorrentText.State(t));
        Assert.Equal("paused", TorrentText.State(t with { State = TorrentState.Stopped }));
        Assert.Equal("seeding", TorrentText.State(t with { State = TorrentState.Seeding }));
        Assert.Equal("queued dl", TorrentText.State(t with { State = TorrentState.Queued }));
        Assert.Equal("queued seed", TorrentText.State(t with { State = TorrentState.Queued, Done = t.Size }));
        Assert.Equal("[F] seeding", TorrentText.State(t with { State = TorrentState.Seeding, IsForced = true }));
        Assert.Equal("paused", TorrentText.State(t with { State = TorrentState.Stopped, IsForced = true }));
        Assert.Equal("downloading", TorrentText.State(t with { State = TorrentState.Downloading }));
        Assert.Equal("metadata", TorrentText.State(t with { State = TorrentState.FetchingMetadata }));
        Assert.Equal("error: disk full", TorrentText.State(t with { State = TorrentState.Error, Error = "disk\nfull" }));
        Assert.Equal("error", TorrentText.State(t with { State = TorrentState.Error, Error = null }));
    }

    [Fact]
    public void Text_is_cut_with_a_mark_and_wrapped_at_spaces()
    {
        Assert.Equal("abc", TorrentText.Fit("abc", 5));
        Assert.Equal("abcd~", TorrentText.Fit("abcdefgh", 5));
        Assert.Equal("", TorrentText.Fit("abc", 0));
        string[] lines = [.. TorrentText.Wrap("one two three four five six seven", 14, 4)];
        Assert.Equal(["one two three", "    four five", "    six seven"], lines);
        Assert.All(lines, l => Assert.True(l.Length <= 14));
    }

    [Fact]
    public void The_status_line_drops_minor_parts_before_rates_and_free_space()
    {
        var session = new SessionSnapshot
        {
            Torrents = [],
            DownloadRate = 1536 * 1024,
            UploadRate = 34 * 1024,
            DownloadLimit = 500 * 1024,
            ListenPort = 6881,
            Connections = 12,
            DhtNodes = 340,
        };
        string wide = StatusLine.Build(session, 120L << 30, 200);
        Assert.Equal("Down 1.5M/s (max 500K)  Up 34K/s  port 6881  12 conns  DHT 340  120G free", wide);
        string narrow = StatusLine.Build(session, 120L << 30, 50);
        Assert.True(narrow.Length <= 50, narrow);
        Assert.StartsWith("Down 1.5M/s (max 500K)  Up 34K/s", narrow);
        Assert.EndsWith("120G free", narrow);
        Assert.Contains("DHT off", StatusLine.Build(session with { DhtNodes = null }, null, 200));
        Assert.DoesNotContain("blocked", wide); // the blocklist is off
        Assert.Equal("Down 1.5M/s (max 500K)  Up 34K/s  port 6881  12 conns  DHT 340  17 blocked  120G free",
            StatusLine.Build(session with { BlockedAttempts = 17 }, 120L << 30, 200));
        Assert.Contains("disk ?", StatusLine.Build(session, null, 200));
    }

    [Fact]
    public void The_status_line_shows_what_the_router_maps_to_the_port_or_that_it_did_not()
    {
        var session = new SessionSnapshot { Torrents = [], ListenPort = 6890, Connections = 3, DhtNodes = 20 };
        Assert.Equal("Down 0B/s  Up 0B/s  port 6890  3 conns  DHT 20  1.0G free", StatusLine.Build(session, 1L << 30, 200)); // off: nothing
        var mapped = new RTorrent.Engine.PortMapping.PortMappingStatus
        {
            State = RTorrent.Engine.PortMapping.PortMappingState.Mapped, Method = "UPnP", ExternalAddress = "203.0.113.7",
            ExternalTcpPort = 6890, ExternalUdpPort = 6890,
        };
        Assert.Equal("Down 0B/s  Up 0B/s  port 6890 mapped 203.0.113.7:6890 UPnP  3 conns  DHT 20  1.0G free",
            StatusLine.Build(session with { PortMapping = mapped }, 1L << 30, 200));
        Assert.Contains("port 6890 mapped 203.0.113.7:40000/udp 40001 NAT-PMP", StatusLine.Build(session with
        {
            PortMapping = mapped with { Method = "NAT-PMP", ExternalTcpPort = 40000, ExternalUdpPort = 40001 },
        }, null, 200));
        Assert.Contains("port 6890 mapping...", StatusLine.Build(session with { PortMapping = new() { State = RTorrent.Engine.PortMapping.PortMappingState.Mapping } }, null, 200));
        // Failed: the port says so, and the reason comes last, the first part dropped when the line is short.
        var failed = session with
        {
            PortMapping = new() { State = RTorrent.Engine.PortMapping.PortMappingState.Failed, Error = "UPnP: no UPnP gateway answered SSDP discovery" },
        };
        Assert.Equal("Down 0B/s  Up 0B/s  port 6890 not mapped  3 conns  DHT 20  mapping: UPnP: no UPnP gateway answered SSDP discovery  1.0G free",
            StatusLine.Build(failed, 1L << 30, 200));
        Assert.Equal("Down 0B/s  Up 0B/s  port 6890 not mapped  3 conns  DHT 20  1.0G free", StatusLine.Build(failed, 1L << 30, 80));
    }

    [Fact]
    public void The_status_line_over_several_daemons_keeps_every_name_and_drops_reasons_then_totals_first()
    {
        DateTimeOffset now = new(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);
        var session = new SessionSnapshot
        {
            Torrents = [],
            DownloadRate = 1258291,
            UploadRate = 300 * 1024,
            Hosts =
            [
                new HostStatus("seedbox", true, 1258291, 300 * 1024, 12, null, null),
                new HostStatus("nas", false, 0, 0, 3, "connection refused", now.AddSeconds(8)),
                new HostStatus("backup", true, 0, 0, 1, "slow to answer", null),
            ],
        };
        Assert.Equal("Total \u21931.2M \u2191300K  |  seedbox \u21931.2M \u2191300K  nas: disconnected (connection refused), retry 8s  backup: slow",
            StatusLine.BuildHosts(session, now, 200, unicode: true));
        Assert.Equal("seedbox Dn 1.2M Up 300K  nas: disconnected, retry 8s  backup: slow", StatusLine.BuildHosts(session, now, 80));
        Assert.Equal("seedbox Dn 1.2M Up 300K  nas: retry 8s  backup: slow", StatusLine.BuildHosts(session, now, 60));
        string narrow = StatusLine.BuildHosts(session, now, 40);
        Assert.Equal(40, narrow.Length);
        Assert.StartsWith("seedbox Dn 1.2M Up 300K  nas: retry 8s", narrow);
        Assert.Contains("nas: disconnected, retrying", StatusLine.BuildHosts(session, now.AddSeconds(9), 80));
    }

    [Fact]
    public void The_status_line_of_an_unreachable_daemon_cuts_the_reason_not_the_countdown()
    {
        DateTimeOffset now = new(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal("Disconnected: connection refused  retry in 8s", StatusLine.BuildUnavailable("connection refused", now.AddSeconds(7.2), now, 80));
        string cut = StatusLine.BuildUnavailable("the daemon at seedbox.example.org:9091 is not answering: connection timed out", now.AddSeconds(95), now, 60);
        Assert.Equal(60, cut.Length);
        Assert.EndsWith("~  retry in 1m35s", cut);
        Assert.Equal("Disconnected: connection refused  retrying", StatusLine.BuildUnavailable("connection refused", null, now, 80));
    }

    [Theory]
    [InlineData("xterm-256color", null, "en_US.UTF-8", true, true)]
    [InlineData("screen-256color", null, "C.UTF-8", true, true)]
    [InlineData("vt100", null, "en_US.UTF-8", false, false)]
    [InlineData("vt220", null, null, false, false)]
    [InlineData("linux", null, "en_US.UTF-8", false, true)]
    [InlineData("xterm-256color", "1", "en_US.UTF-8", true, false)]
    [InlineData("xterm", null, "POSIX", false, true)]
    [InlineData("dumb", null, null, false, false)]
    public void The_terminal_profile_follows_term_no_color_and_locale(string term, string? noColor, string? locale, bool unicode, bool color)
    {
        TerminalProfile p = TerminalProfile.From(term, noColor, locale);
        Assert.Equal(unicode, p.Unicode);
        Assert.Equal(color, p.Color);
        Assert.All(p.SparkLevels + p.SortAscending + p.SortDescending, c => Assert.True(unicode || c < 128));
    }

    [Fact]
    public void Free_space_is_read_for_folders_that_do_not_exist_yet()
    {
        string missing = Path.Combine(Path.GetTempPath(), "rtorrent-no-such-" + Guid.NewGuid().ToString("N"), "deeper");
        Assert.True(DiskSpace.FreeBytes(missing) > 0);
        Assert.Null(DiskSpace.FreeBytes(""));
    }
}
