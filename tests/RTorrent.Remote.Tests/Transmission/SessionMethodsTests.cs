using System.Text.Json;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Settings;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>session-get, session-set, session-stats, free-space, port-test, blocklist-update, session-close, and the envelope's errors.</summary>
public sealed class SessionMethodsTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync(s => s with { SeedRatioLimit = null });

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Session_get_answers_every_field_with_rpc_17_and_a_version_clients_read_as_transmission_4()
    {
        var get = await _h.OkAsync("session-get");
        var a = get.Arguments;
        Assert.Equal(17, a.GetProperty("rpc-version").GetInt32());
        Assert.Equal(14, a.GetProperty("rpc-version-minimum").GetInt32());
        Assert.Equal("5.3.0", a.GetProperty("rpc-version-semver").GetString());
        string version = a.GetProperty("version").GetString()!;
        Assert.Equal("4.0.6 (RTorrent 9.8.7)", version);
        // Sonarr and Radarr take the first number outside parentheses and need 2.40 or later.
        var parsed = System.Text.RegularExpressions.Regex.Match(version, @"(?<!\(|(\d|\.)+)(\d|\.)+(?!\)|(\d|\.)+)").Value;
        Assert.True(Version.Parse(parsed) >= new Version(2, 40));
        Assert.Equal(_h.Downloads, a.GetProperty("download-dir").GetString());
        Assert.Equal(_h.SessionDir, a.GetProperty("config-dir").GetString());
        Assert.Equal(_h.SessionId, a.GetProperty("session-id").GetString());
        Assert.Equal(_h.Engine.ListenPort, a.GetProperty("peer-port").GetInt32());
        Assert.True(a.GetProperty("peer-port-random-on-start").GetBoolean()); // listenPort 0: a free port at each start
        Assert.False(a.GetProperty("dht-enabled").GetBoolean());
        Assert.Equal("tolerated", a.GetProperty("encryption").GetString());
        Assert.False(a.GetProperty("speed-limit-down-enabled").GetBoolean());
        Assert.Equal(100, a.GetProperty("speed-limit-down").GetInt32()); // kept while off: Transmission's default
        Assert.False(a.GetProperty("seedRatioLimited").GetBoolean());
        Assert.Equal(2.0, a.GetProperty("seedRatioLimit").GetDouble());
        Assert.Equal(8, a.GetProperty("cache-size-mb").GetInt32());
        Assert.True(a.GetProperty("utp-enabled").GetBoolean());
        Assert.True(a.GetProperty("tcp-enabled").GetBoolean());
        Assert.False(a.GetProperty("alt-speed-enabled").GetBoolean());
        Assert.False(a.GetProperty("blocklist-enabled").GetBoolean());
        Assert.Equal(0, a.GetProperty("blocklist-size").GetInt32());
        Assert.False(a.GetProperty("download-queue-enabled").GetBoolean());
        Assert.False(a.GetProperty("port-forwarding-enabled").GetBoolean());
        Assert.Equal(1000, a.GetProperty("units").GetProperty("speed-bytes").GetInt32());
        Assert.True(a.GetProperty("download-dir-free-space").GetInt64() > 0);
        Assert.Equal(76, a.EnumerateObject().Count()); // Transmission's 59, RTorrent's four seeding rules, two address families and eleven proxy fields

        var some = await _h.OkAsync("session-get", Args(("fields", new object[] { "version", "peer-port", "no-such-field", 7 })));
        Assert.Equal(["version", "peer-port"], some.Arguments.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Idle_seeding_limit_and_the_seeding_rules_are_live_saved_and_checked()
    {
        var a = (await _h.OkAsync("session-get")).Arguments;
        Assert.False(a.GetProperty("idle-seeding-limit-enabled").GetBoolean());
        Assert.Equal(30, a.GetProperty("idle-seeding-limit").GetInt32());
        Assert.Equal("stop", a.GetProperty("seeding-limit-action").GetString());

        await _h.OkAsync("session-set", Args(("idle-seeding-limit-enabled", true), ("idle-seeding-limit", 45), ("seeding-time-limit-enabled", true),
            ("seeding-time-limit", 600), ("min-seeding-time", 120), ("seeding-limit-action", "removeWithData")));
        Assert.Equal(new Engine.Client.SeedingRules
        {
            IdleLimitMinutes = 45, SeedingTimeLimitMinutes = 600, MinSeedingTimeMinutes = 120, Action = Engine.Client.SeedingLimitAction.RemoveWithData,
        }, _h.Engine.Config.SeedingRules);
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((true, 45, true, 600, 120), (saved.IdleSeedingLimitEnabled, saved.IdleSeedingLimit, saved.SeedingTimeLimitEnabled,
            saved.SeedingTimeLimit, saved.MinSeedingTime));
        a = (await _h.OkAsync("session-get", Args(("fields", new[] { "idle-seeding-limit", "idle-seeding-limit-enabled", "seeding-limit-action" })))).Arguments;
        Assert.Equal((45, true, "removeWithData"), (a.GetProperty("idle-seeding-limit").GetInt32(),
            a.GetProperty("idle-seeding-limit-enabled").GetBoolean(), a.GetProperty("seeding-limit-action").GetString()));

        // Off keeps the value; bad values are named and change nothing.
        await _h.OkAsync("session-set", Args(("idle-seeding-limit-enabled", false)));
        Assert.Null(_h.Engine.Config.SeedingRules.IdleLimitMinutes);
        Assert.Equal(45, _h.Settings.Current.IdleSeedingLimit);
        var reply = await _h.CallAsync("session-set", Args(("idle-seeding-limit", 0), ("min-seeding-time", -5), ("seeding-limit-action", "delete")));
        Assert.Contains("idle-seeding-limit: must be 1-", reply.Result);
        Assert.Contains("min-seeding-time: must be 0 (none)", reply.Result);
        Assert.Contains("seeding-limit-action: must be stop, remove or removeWithData, not 'delete'", reply.Result);
        Assert.Equal((45, 120), (_h.Settings.Current.IdleSeedingLimit, _h.Settings.Current.MinSeedingTime));
    }

    [Fact]
    public async Task Proxy_settings_are_saved_the_password_never_read_back_and_bad_values_named()
    {
        var a = (await _h.OkAsync("session-get")).Arguments;
        Assert.Equal("none", a.GetProperty("proxy-type").GetString());
        Assert.Equal("none", a.GetProperty("proxy-in-use").GetString());

        await _h.OkAsync("session-set", Args(("proxy-type", "socks5"), ("proxy-host", "10.8.0.1"), ("proxy-port", 9050),
            ("proxy-username", "me"), ("proxy-password", "hunter2"), ("proxy-only", true), ("proxy-dht", false)));
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((Engine.Proxies.ProxyKind.Socks5, "10.8.0.1", 9050, "me", "hunter2", true, false),
            (saved.ProxyType, saved.ProxyHost, saved.ProxyPort, saved.ProxyUsername, saved.ProxyPassword, saved.ProxyOnly, saved.ProxyDht));
        a = (await _h.OkAsync("session-get")).Arguments;
        Assert.Equal(("socks5", "10.8.0.1", 9050, "me", "(set)", true), (a.GetProperty("proxy-type").GetString(), a.GetProperty("proxy-host").GetString(),
            a.GetProperty("proxy-port").GetInt32(), a.GetProperty("proxy-username").GetString(), a.GetProperty("proxy-password").GetString(),
            a.GetProperty("proxy-only").GetBoolean()));
        Assert.DoesNotContain("hunter2", a.GetRawText());
        // Read when the session starts: the running one still goes direct, and says so.
        Assert.Equal("none", a.GetProperty("proxy-in-use").GetString());

        var reply = await _h.CallAsync("session-set", Args(("proxy-type", "socks6"), ("proxy-port", 70000)));
        Assert.Contains("proxy-type: must be none, socks4, socks5 or http, not 'socks6'", reply.Result);
        Assert.Contains("proxy-port: must be 1-65535, not 70000", reply.Result);
        reply = await _h.CallAsync("session-set", Args(("proxy-type", "none")));
        Assert.Contains("proxyOnly: needs a proxy", reply.Result); // proxy-only stays on: turning the proxy off alone is refused
        Assert.Equal(Engine.Proxies.ProxyKind.Socks5, _h.Settings.Current.ProxyType);
    }

    [Fact]
    public async Task Session_set_applies_limits_at_once_keeps_a_limit_switched_off_and_saves_settings_json_honestly()
    {
        Assert.Equal("success", (await _h.CallAsync("session-set", Args(("speed-limit-down", 300), ("speed-limit-down-enabled", true),
            ("peer-limit-global", 77), ("peer-limit-per-torrent", 11), ("seedRatioLimit", 1.5), ("seedRatioLimited", true)))).Result);
        Assert.Equal(300_000, _h.Engine.Config.DownloadLimit);
        Assert.Equal((77, 11), (_h.Engine.Config.MaxConnections, _h.Engine.Config.MaxConnectionsPerTorrent));
        Assert.Equal(1.5, _h.Engine.Config.SeedRatioLimit);
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((300_000L, 300_000L), (saved.DownloadRateLimit, saved.DownloadRateLimitWhenOn));

        // Off: nothing applied, nothing claimed in settings.json, the value kept for later.
        await _h.OkAsync("session-set", Args(("speed-limit-down-enabled", false), ("seedRatioLimited", false)));
        Assert.Equal(0, _h.Engine.Config.DownloadLimit);
        Assert.Null(_h.Engine.Config.SeedRatioLimit);
        saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((0L, 300_000L, (double?)null, 1.5), (saved.DownloadRateLimit, saved.DownloadRateLimitWhenOn, saved.SeedRatioLimit, saved.SeedRatioLimitWhenOn));
        var get = (await _h.OkAsync("session-get")).Arguments;
        Assert.Equal((300, false, 1.5, false), (get.GetProperty("speed-limit-down").GetInt32(), get.GetProperty("speed-limit-down-enabled").GetBoolean(),
            get.GetProperty("seedRatioLimit").GetDouble(), get.GetProperty("seedRatioLimited").GetBoolean()));

        // A value set while off is kept; switching on brings it in force.
        await _h.OkAsync("session-set", Args(("speed-limit-down", 40)));
        Assert.Equal(0, _h.Engine.Config.DownloadLimit);
        await _h.OkAsync("session-set", Args(("speed-limit-down-enabled", true)));
        Assert.Equal(40_000, _h.Engine.Config.DownloadLimit);

        // A limit of 0 kB/s would stop downloading: refused, the limit stays.
        var zero = await _h.CallAsync("session-set", Args(("speed-limit-down", 0)));
        Assert.StartsWith("speed-limit-down: a limit of 0 kB/s would stop", zero.Result);
        Assert.Equal(40_000, _h.Engine.Config.DownloadLimit);
    }

    [Fact]
    public async Task Session_set_of_what_needs_a_restart_is_saved_and_shown_and_the_port_follows_random_on_start()
    {
        string newDir = Path.Combine(_h.Root, "elsewhere");
        await _h.OkAsync("session-set", Args(("download-dir", newDir), ("start-added-torrents", false), ("dht-enabled", true),
            ("pex-enabled", true), ("lpd-enabled", true), ("encryption", "required"), ("cache-size-mb", 16), ("peer-port", 51413)));
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal(newDir, saved.DownloadDirectory);
        Assert.False(saved.StartAddedTorrents);
        Assert.True(saved.DhtEnabled && saved.PexEnabled && saved.LsdEnabled);
        Assert.Equal(EncryptionMode.Required, saved.Encryption);
        Assert.Equal(16L * 1024 * 1024, saved.DiskReadCacheSize);
        Assert.Equal(51413, saved.ListenPort);
        var get = (await _h.OkAsync("session-get")).Arguments;
        Assert.Equal(51413, get.GetProperty("peer-port").GetInt32());
        Assert.False(get.GetProperty("peer-port-random-on-start").GetBoolean());
        Assert.Equal("required", get.GetProperty("encryption").GetString());

        await _h.OkAsync("session-set", Args(("peer-port-random-on-start", true)));
        Assert.Equal(0, (await SettingsStore.LoadAsync(_h.SessionDir)).ListenPort);
        await _h.OkAsync("session-set", Args(("peer-port-random-on-start", false)));
        Assert.Equal(_h.Engine.ListenPort, (await SettingsStore.LoadAsync(_h.SessionDir)).ListenPort);
        await _h.OkAsync("session-set", Args(("encryption", "tolerated")));
        Assert.Equal(EncryptionMode.Enabled, _h.Settings.Current.Encryption);
    }

    [Fact]
    public async Task Session_set_of_the_address_families_is_saved_and_both_off_is_refused()
    {
        var get = (await _h.OkAsync("session-get")).Arguments;
        Assert.True(get.GetProperty("ipv4-enabled").GetBoolean() && get.GetProperty("ipv6-enabled").GetBoolean());
        await _h.OkAsync("session-set", Args(("ipv6-enabled", false)));
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.True(saved.ListenOnIPv4);
        Assert.False(saved.ListenOnIPv6);
        Assert.False((await _h.OkAsync("session-get")).Arguments.GetProperty("ipv6-enabled").GetBoolean());

        var both = await _h.CallAsync("session-set", Args(("ipv4-enabled", false)));
        Assert.False(both.Ok);
        Assert.Contains("listenOnIPv4 and listenOnIPv6 cannot both be false", both.Result);
        Assert.True((await SettingsStore.LoadAsync(_h.SessionDir)).ListenOnIPv4);
    }

    [Fact]
    public async Task Utp_enabled_and_tcp_enabled_switch_both_directions_of_their_transport_and_act_at_once()
    {
        await _h.OkAsync("session-set", Args(("utp-enabled", false)));
        var c = _h.Settings.Current;
        Assert.Equal((false, false, true, true), (c.EnableIncomingUtp, c.EnableOutgoingUtp, c.EnableIncomingTcp, c.EnableOutgoingTcp));
        Assert.False(_h.Engine.Config.Transports.UtpOutgoing);
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.False(saved.EnableIncomingUtp);
        var get = (await _h.OkAsync("session-get", Args(("fields", new[] { "utp-enabled", "tcp-enabled" })))).Arguments;
        Assert.False(get.GetProperty("utp-enabled").GetBoolean());
        Assert.True(get.GetProperty("tcp-enabled").GetBoolean());

        // Both transports off would leave no way to reach a peer: refused, nothing changed.
        var reply = await _h.CallAsync("session-set", Args(("tcp-enabled", false)));
        Assert.False(reply.Ok);
        Assert.Contains("cannot all be false", reply.Result);
        Assert.True(_h.Settings.Current.EnableOutgoingTcp);

        await _h.OkAsync("session-set", Args(("utp-enabled", true)));
        Assert.True(_h.Engine.Config.Transports.UtpIncoming);
        Assert.True(_h.Engine.Config.Transports.UtpOutgoing);
    }

    [Fact]
    public async Task Session_set_applies_what_it_can_and_names_every_key_it_could_not()
    {
        var reply = await _h.CallAsync("session-set", Args(("alt-speed-time-day", 200), ("rename-partial-files", true), ("speed-limit-up", 25),
            ("speed-limit-up-enabled", true), ("blocklist-enabled", false), ("queue-stalled-minutes", 30), ("encryption", "sometimes"),
            ("peer-limit-global", 0), ("some-future-key", 5), ("version", "1.0")));
        Assert.False(reply.Ok);
        Assert.Contains("alt-speed-time-day: must be 0-127 (Sunday 1, Monday 2, ... Saturday 64), not 200", reply.Result);
        Assert.Contains("rename-partial-files: RTorrent writes incomplete files under their final names", reply.Result);
        Assert.Contains("encryption: must be required, preferred or tolerated", reply.Result);
        Assert.Contains("peer-limit-global: must be 1 or more, not 0", reply.Result);
        // Fixed values given as they are, read-only fields and unknown keys are not refusals.
        Assert.DoesNotContain("blocklist-enabled", reply.Result);
        Assert.DoesNotContain("queue-stalled", reply.Result);
        Assert.DoesNotContain("version", reply.Result);
        Assert.DoesNotContain("some-future-key", reply.Result);
        // What could be applied was.
        Assert.Equal(25_000, _h.Engine.Config.UploadLimit);
        Assert.Equal(500, _h.Engine.Config.MaxConnections);
    }

    [Fact]
    public async Task Session_set_with_a_wrong_type_or_a_relative_folder_changes_nothing()
    {
        var before = _h.Settings.Current;
        var wrong = await _h.CallAsync("session-set", Args(("speed-limit-up", 10), ("speed-limit-up-enabled", "yes please")));
        Assert.Equal("'speed-limit-up-enabled' must be true or false; \"yes please\" is a string", wrong.Result);
        var relative = await _h.CallAsync("session-set", Args(("download-dir", "relative/path"), ("speed-limit-up", 10)));
        Assert.Equal("download directory path is not absolute", relative.Result);
        Assert.Equal(before, _h.Settings.Current);
        // libtransmission's conversions are taken: 1/0 and "true" for booleans, a numeric string for a real.
        await _h.OkAsync("session-set", Args(("speed-limit-up", 10), ("speed-limit-up-enabled", 1), ("seedRatioLimited", "true"), ("seedRatioLimit", "0.5")));
        Assert.Equal((10_000L, 0.5), (_h.Engine.Config.UploadLimit, _h.Engine.Config.SeedRatioLimit));
    }

    [Fact]
    public async Task Session_stats_counts_torrents_and_reports_this_run_and_all_runs()
    {
        var (path, _, _) = await _h.MakeTorrentAsync("stats.bin", inDownloads: true);
        long id = await _h.AddAsync(path, paused: false);
        await _h.WaitForAsync(id, t => t.GetProperty("status").GetInt32() == 6, "seeding", "status");
        var (other, _, _) = await _h.MakeTorrentAsync("paused.bin");
        await _h.AddAsync(other, paused: true);
        var stats = (await _h.OkAsync("session-stats")).Arguments;
        Assert.Equal((2, 1, 1), (stats.GetProperty("torrentCount").GetInt32(), stats.GetProperty("activeTorrentCount").GetInt32(),
            stats.GetProperty("pausedTorrentCount").GetInt32()));
        Assert.Equal(0, stats.GetProperty("downloadSpeed").GetInt64());
        foreach (var name in new[] { "current-stats", "cumulative-stats" })
        {
            var s = stats.GetProperty(name);
            Assert.Equal(2, s.GetProperty("filesAdded").GetInt64());
            Assert.Equal(1, s.GetProperty("sessionCount").GetInt64());
            Assert.Equal(0, s.GetProperty("uploadedBytes").GetInt64());
            Assert.True(s.GetProperty("secondsActive").GetInt64() >= 0);
        }
    }

    [Fact]
    public async Task Free_space_answers_free_and_total_bytes_and_refuses_without_an_absolute_path()
    {
        var reply = await _h.OkAsync("free-space", Args(("path", _h.Root)));
        Assert.Equal(_h.Root, reply.Arguments.GetProperty("path").GetString());
        long free = reply.Arguments.GetProperty("size-bytes").GetInt64(), total = reply.Arguments.GetProperty("total_size").GetInt64();
        Assert.True(free > 0 && total >= free, reply.Raw);
        Assert.Equal("directory path argument is missing", (await _h.CallAsync("free-space")).Result);
        Assert.Equal("directory path is not absolute", (await _h.CallAsync("free-space", Args(("path", "tmp")))).Result);
        Assert.Equal("'path' must be a string; 5 is a number", (await _h.CallAsync("free-space", Args(("path", 5)))).Result);
    }

    [Fact]
    public async Task Port_test_and_blocklist_update_answer_honest_errors_and_session_close_stops_the_daemon()
    {
        var port = await _h.CallAsync("port-test");
        Assert.StartsWith("port-test: RTorrent cannot test whether port", port.Result);
        Assert.False(port.Arguments.TryGetProperty("port-is-open", out _));
        Assert.Equal("blocklist-update: no blocklist is set (blocklistUrl or blocklistFile)", (await _h.CallAsync("blocklist-update")).Result);
        Assert.False(_h.StopRequested.Task.IsCompleted);
        await _h.OkAsync("session-close");
        await _h.StopRequested.Task.WaitAsync(TransmissionHarness.Limit);
    }

    [Theory]
    [InlineData("""{"method":"torrent-fly","tag":5}""", "method name not recognized", 5)]
    [InlineData("""{"arguments":{}}""", "no method name", null)]
    [InlineData("""{"method":"torrent-get","arguments":{"fields":"name"},"tag":6}""", "no fields specified", 6)]
    [InlineData("""{"method":"torrent-get","arguments":{"fields":["id"],"ids":{"a":1}}}""", "'ids' must be a torrent id, a list of ids and info-hashes, or \"recently-active\"; {\"a\":1} is none of them", null)]
    [InlineData("""{"method":"torrent-set","arguments":{"ids":[1],"files-wanted":"all"}}""", "'files-wanted' must be a list of numbers; \"all\" is a string", null)]
    [InlineData("""{"method":"torrent-add","arguments":{}}""", "no filename or metainfo specified", null)]
    [InlineData("""{"method":"group-set","arguments":{"savePath":"/x"}}""", "group-set needs a 'name'", null)]
    public async Task Unknown_methods_and_bad_arguments_get_transmissions_answers_with_the_tag(string body, string result, int? tag)
    {
        var reply = await _h.RawAsync(body);
        Assert.Equal(result, reply.Result);
        using var doc = JsonDocument.Parse(reply.Raw);
        Assert.Equal(tag, doc.RootElement.TryGetProperty("tag", out var t) ? t.GetInt32() : null);
    }

    [Fact]
    public async Task Turtle_mode_and_its_schedule_are_set_and_read_through_session_set_and_get_and_saved()
    {
        var before = (await _h.OkAsync("session-get")).Arguments;
        Assert.Equal((50, 50), (before.GetProperty("alt-speed-down").GetInt32(), before.GetProperty("alt-speed-up").GetInt32()));
        Assert.Equal((540, 1020, 127), (before.GetProperty("alt-speed-time-begin").GetInt32(), before.GetProperty("alt-speed-time-end").GetInt32(),
            before.GetProperty("alt-speed-time-day").GetInt32()));
        Assert.False(before.GetProperty("alt-speed-time-enabled").GetBoolean());

        Assert.Equal("success", (await _h.CallAsync("session-set", Args(("speed-limit-down", 900), ("speed-limit-down-enabled", true),
            ("alt-speed-down", 20), ("alt-speed-up", 5), ("alt-speed-enabled", true)))).Result);
        // In force at once: the turtle limits; the normal one kept.
        Assert.Equal((20_000L, 5_000L), (_h.Engine.Config.DownloadLimit, _h.Engine.Config.UploadLimit));
        var get = (await _h.OkAsync("session-get")).Arguments;
        Assert.True(get.GetProperty("alt-speed-enabled").GetBoolean());
        Assert.Equal(900, get.GetProperty("speed-limit-down").GetInt32());
        Assert.Equal(20, get.GetProperty("alt-speed-down").GetInt32());

        // A schedule that is never on (no days) switches turtle mode off at once: a new schedule applies when it is set.
        Assert.Equal("success", (await _h.CallAsync("session-set", Args(("alt-speed-time-begin", 1380), ("alt-speed-time-end", 360),
            ("alt-speed-time-day", 0), ("alt-speed-time-enabled", true)))).Result);
        // The schedule's switch is its own change, made after this answer: wait until it is applied to the engine too.
        await A.UntilAsync(() => !_h.Settings.Current.AltSpeedEnabled && _h.Engine.Config.DownloadLimit == 900_000,
            "the schedule switching turtle mode off and the normal limit back in force");
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((true, 1380, 360, 0, false), (saved.AltSpeedScheduleEnabled, saved.AltSpeedScheduleBegin, saved.AltSpeedScheduleEnd,
            saved.AltSpeedScheduleDays, saved.AltSpeedEnabled));
        Assert.Equal((20_000L, 5_000L), (saved.AltDownloadRateLimit, saved.AltUploadRateLimit));

        var refused = await _h.CallAsync("session-set", Args(("alt-speed-time-begin", 1440), ("alt-speed-down", -1)));
        Assert.Contains("alt-speed-time-begin: must be 0-1439 (minutes after midnight), not 1440", refused.Result);
        Assert.Contains("alt-speed-down: must be 0 (unlimited) or more kB/s, not -1", refused.Result);
    }

    [Fact]
    public async Task Transmissions_script_fields_set_the_added_and_completed_hooks()
    {
        string script = Path.Combine(_h.SessionDir, "done.sh");
        Assert.Equal("success", (await _h.CallAsync("session-set", Args(("script-torrent-done-filename", script),
            ("script-torrent-done-enabled", true), ("script-torrent-added-filename", script)))).Result);
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((script, true, script, false), (saved.CompletedHook, saved.CompletedHookEnabled, saved.AddedHook, saved.AddedHookEnabled));
        var get = (await _h.OkAsync("session-get")).Arguments;
        Assert.True(get.GetProperty("script-torrent-done-enabled").GetBoolean());
        Assert.Equal(script, get.GetProperty("script-torrent-done-filename").GetString());
        Assert.False(get.GetProperty("script-torrent-added-enabled").GetBoolean());
        Assert.Equal(script, get.GetProperty("script-torrent-added-filename").GetString()); // kept while off

        // Off keeps the program; a relative path and switching on with no program are refused.
        await _h.OkAsync("session-set", Args(("script-torrent-done-enabled", false)));
        Assert.Equal((script, false), (_h.Settings.Current.CompletedHook, _h.Settings.Current.CompletedHookEnabled));
        var relative = await _h.CallAsync("session-set", Args(("script-torrent-done-filename", "done.sh")));
        Assert.Contains("script-torrent-done-filename: must be an absolute path, not 'done.sh'", relative.Result);
        await _h.OkAsync("session-set", Args(("script-torrent-added-filename", "")));
        var none = await _h.CallAsync("session-set", Args(("script-torrent-added-enabled", true)));
        Assert.Contains("addedHookEnabled: needs addedHook (the program to run)", none.Result);
        var seedingNone = await _h.CallAsync("session-set", Args(("script-torrent-done-seeding-enabled", true)));
        Assert.Contains("seedingDoneHookEnabled: needs seedingDoneHook (the program to run)", seedingNone.Result);

        // The seeding-done hook: Transmission's script-torrent-done-seeding-*.
        await _h.OkAsync("session-set", Args(("script-torrent-done-seeding-filename", script), ("script-torrent-done-seeding-enabled", true)));
        Assert.Equal((script, true), (_h.Settings.Current.SeedingDoneHook, _h.Settings.Current.SeedingDoneHookEnabled));
        saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((script, true), (saved.SeedingDoneHook, saved.SeedingDoneHookEnabled));
        get = (await _h.OkAsync("session-get")).Arguments;
        Assert.True(get.GetProperty("script-torrent-done-seeding-enabled").GetBoolean());
        Assert.Equal(script, get.GetProperty("script-torrent-done-seeding-filename").GetString());
        var seedingRelative = await _h.CallAsync("session-set", Args(("script-torrent-done-seeding-filename", "x.sh")));
        Assert.Contains("script-torrent-done-seeding-filename: must be an absolute path, not 'x.sh'", seedingRelative.Result);
    }
}
