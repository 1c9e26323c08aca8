using System.Text;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Tests.Storage;

namespace RTorrent.Engine.Tests.Settings;

public class SettingsTests : IDisposable
{
    private readonly TempDir _tmp = new("rt-settings");

    public void Dispose() => _tmp.Dispose();

    private static EngineSettings Parse(string json) => SettingsStore.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Defaults_are_valid_and_sensible()
    {
        var s = new EngineSettings();
        Assert.Empty(s.Validate());
        Assert.Equal(6890, s.ListenPort);
        Assert.Equal(8, s.UploadSlots);
        Assert.Equal(0, s.DownloadRateLimit);
        Assert.Equal("rarest-first", s.DefaultPicker);
        Assert.Equal("file", s.DefaultStorage);
        Assert.Equal(128, s.MaxOpenFiles);
        Assert.True(Path.IsPathFullyQualified(s.DownloadDirectory));
        Assert.True(Path.IsPathFullyQualified(s.SessionDirectory));
    }

    [Fact]
    public async Task Missing_file_gives_defaults_for_that_session_folder()
    {
        var s = await SettingsStore.LoadAsync(_tmp.Sub("session"));
        Assert.Equal(new EngineSettings { SessionDirectory = Path.GetFullPath(_tmp.Sub("session")) }, s);
        Assert.False(File.Exists(_tmp.Sub("session", "settings.json")), "loading must not write");
    }

    [Fact]
    public async Task Saves_atomically_and_loads_back_equal()
    {
        var s = new EngineSettings
        {
            SessionDirectory = _tmp.Sub("session"),
            ListenPort = 0,
            ListenOnIPv6 = false,
            UploadRateLimit = 125_000,
            DownloadDirectory = "/srv/torrents",
            WatchDirectory = "/srv/watch",
            DhtBootstrapNodes = ["[2001:db8::1]:6881", "node.example:1"],
            DisabledPeerSources = ["lsd"],
            SeedRatioLimit = 2.5,
            Preallocate = true,
            Encryption = RTorrent.Engine.Peers.Encryption.EncryptionMode.Required,
        };
        await SettingsStore.SaveAsync(s);
        var text = await File.ReadAllTextAsync(_tmp.Sub("session", "settings.json"));
        Assert.Contains("\"uploadRateLimit\": 125000", text);
        Assert.Contains("\"encryption\": \"required\"", text);
        Assert.DoesNotContain("sessionDirectory", text);
        Assert.Empty(Directory.GetFiles(_tmp.Sub("session"), "*.tmp"));

        var back = await SettingsStore.LoadAsync(_tmp.Sub("session"));
        Assert.Equal(s with { SessionDirectory = Path.GetFullPath(s.SessionDirectory) }, back);
        Assert.NotEqual(back, back with { DisabledPeerSources = ["dht"] });
        Assert.Equal(back, back with { DisabledPeerSources = ["lsd"] });
    }

    [Fact]
    public void Unknown_fields_comments_and_trailing_commas_are_fine_and_absent_fields_default()
    {
        var s = Parse("""
            // edited by hand
            {
              "listenPort": 51413,
              "someFutureSetting": { "nested": [1, 2] },
              "pexEnabled": false, /* off */
            }
            """);
        Assert.Equal(51413, s.ListenPort);
        Assert.False(s.PexEnabled);
        Assert.Equal(8, s.UploadSlots);
        Assert.Equal(EngineSettings.DefaultDhtBootstrapNodes, s.DhtBootstrapNodes);
        Assert.Equal(new EngineSettings(), Parse("\uFEFF{}"));
    }

    [Theory]
    [InlineData("""{ "listenPort": "6881" }""", "listenPort: expected a whole number (not null) (line 1)")]
    [InlineData("""{ "listenPort": 1.5 }""", "listenPort: expected a whole number")]
    [InlineData("""{ "dhtEnabled": "yes" }""", "dhtEnabled: expected true or false")]
    [InlineData("""{ "downloadDirectory": null }""", "downloadDirectory: expected a string (not null)")]
    [InlineData("""{ "dhtBootstrapNodes": "a:1" }""", "dhtBootstrapNodes: expected a list of strings")]
    [InlineData("""{ "seedRatioLimit": true }""", "seedRatioLimit: expected a number or null")]
    [InlineData("""{ "maxOpenFiles": 1e3 }""", "maxOpenFiles: expected a whole number")]
    [InlineData("""{ "encryption": "always" }""", "encryption: expected one of \"disabled\", \"enabled\", \"preferred\", \"required\"")]
    [InlineData("""
        {
          "uploadSlots": 4,
          "listenPort": 99999999999
        }
        """, "listenPort: expected a whole number (not null) (line 3)")]
    [InlineData("""{ "listenPort": 1 """, "not valid JSON")]
    [InlineData("""[1, 2]""", "not valid JSON")]
    public void Type_errors_name_the_field(string json, string expected)
    {
        var e = Assert.Throws<SettingsException>(() => Parse(json));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("settings.json is not valid: ", e.Message);
    }

    [Fact]
    public void Out_of_range_values_are_all_reported_by_field()
    {
        var e = Assert.Throws<SettingsException>(() => Parse("""
            { "listenPort": 70000, "uploadSlots": 0, "downloadRateLimit": -1, "downloadDirectory": "relative/dir",
              "listenOnIPv4": false, "listenOnIPv6": false, "dhtBootstrapNodes": ["nohost", "h:0", "[::1]:6881", "::1:6881"],
              "seedRatioLimit": -2, "maxOpenFiles": 0, "defaultPicker": " ", "encryption": 7 }
            """));
        Assert.Equal(
        [
            "listenPort: must be 0 (any free port) or 1-65535, not 70000",
            "listenOnIPv4: listenOnIPv4 and listenOnIPv6 cannot both be false",
            "uploadSlots: must be at least 1, not 0",
            "downloadRateLimit: must be 0 (unlimited) or more, not -1",
            "downloadDirectory: must be an absolute path, not 'relative/dir'",
            "dhtBootstrapNodes: 'nohost' is not host:port (IPv6 as [address]:port)",
            "dhtBootstrapNodes: 'h:0' is not host:port (IPv6 as [address]:port)",
            "dhtBootstrapNodes: '::1:6881' is not host:port (IPv6 as [address]:port)",
            "defaultPicker: must name a piece picker",
            "seedRatioLimit: must be null (no limit) or a number of 0 or more, not -2",
            "maxOpenFiles: must be 1-65536, not 0",
            "encryption: must be disabled, enabled, preferred or required, not 7",
        ], e.Errors);
    }

    [Fact]
    public async Task Port_forwarding_is_on_by_default_as_in_transmission_and_round_trips()
    {
        Assert.True(Parse("{}").PortForwardingEnabled);
        var s = new EngineSettings { SessionDirectory = _tmp.Sub("session"), PortForwardingEnabled = false };
        await SettingsStore.SaveAsync(s);
        Assert.Contains("\"portForwardingEnabled\": false", await File.ReadAllTextAsync(_tmp.Sub("session", "settings.json")));
        var back = await SettingsStore.LoadAsync(_tmp.Sub("session"));
        Assert.False(back.PortForwardingEnabled);
        Assert.NotEqual(back, back with { PortForwardingEnabled = true });
        Assert.True(SessionOptions.FromSettings(back with { PortForwardingEnabled = true }).PortForwarding);
        Assert.False(new SessionOptions().PortForwarding); // a session made in code asks no router
    }

    [Fact]
    public async Task Blocklist_settings_round_trip_and_bad_values_are_reported_by_field()
    {
        var s = new EngineSettings
        {
            SessionDirectory = _tmp.Sub("session"),
            BlocklistEnabled = true,
            BlocklistUrl = "https://example.com/level1.gz",
            BlocklistFile = "/etc/rtorrent/block.p2p",
            BlocklistRefreshHours = 6,
        };
        await SettingsStore.SaveAsync(s);
        var text = await File.ReadAllTextAsync(_tmp.Sub("session", "settings.json"));
        Assert.Contains("\"blocklistUrl\": \"https://example.com/level1.gz\"", text);
        Assert.Contains("\"blocklistRefreshHours\": 6", text);
        var back = await SettingsStore.LoadAsync(_tmp.Sub("session"));
        Assert.Equal(s with { SessionDirectory = Path.GetFullPath(s.SessionDirectory) }, back);
        Assert.NotEqual(back, back with { BlocklistUrl = null });
        // Off, no source and a day between refreshes when absent.
        var defaults = Parse("{}");
        Assert.Equal((false, null, null, 24), (defaults.BlocklistEnabled, defaults.BlocklistUrl, defaults.BlocklistFile, defaults.BlocklistRefreshHours));

        var e = Assert.Throws<SettingsException>(() => Parse("""
            { "blocklistUrl": "ftp://example.com/list", "blocklistFile": "block.p2p", "blocklistRefreshHours": -1 }
            """));
        Assert.Equal(
        [
            "blocklistUrl: must be an http:// or https:// address or null, not 'ftp://example.com/list'",
            "blocklistFile: must be an absolute path or null, not 'block.p2p'",
            "blocklistRefreshHours: must be 0 (only at start and on request) to 8760 (a year), not -1",
        ], e.Errors);
        Assert.StartsWith("settings.json is not valid: blocklistEnabled: expected true or false", Assert.Throws<SettingsException>(() => Parse("""{ "blocklistEnabled": "yes" }""")).Message);
    }

    [Fact]
    public async Task Invalid_settings_are_never_saved()
    {
        var s = new EngineSettings { SessionDirectory = _tmp.Sub("session"), ListenPort = -1 };
        var e = await Assert.ThrowsAsync<SettingsException>(() => SettingsStore.SaveAsync(s));
        Assert.Contains("listenPort", e.Message);
        Assert.False(File.Exists(_tmp.Sub("session", "settings.json")));
    }

    [Fact]
    public async Task A_broken_file_on_disk_names_the_file()
    {
        Directory.CreateDirectory(_tmp.Sub("session"));
        await File.WriteAllTextAsync(_tmp.Sub("session", "settings.json"), """{ "maxConnections": "many" }""");
        var e = await Assert.ThrowsAsync<SettingsException>(() => SettingsStore.LoadAsync(_tmp.Sub("session")));
        Assert.StartsWith($"{Path.GetFullPath(_tmp.Sub("session", "settings.json"))} is not valid: maxConnections: expected a whole number", e.Message);
    }

    [Fact]
    public void Default_folders_follow_xdg()
    {
        string? Env(Dictionary<string, string> vars, string name) => vars.GetValueOrDefault(name);
        if (OperatingSystem.IsWindows()) return; // XDG does not apply
        var home = _tmp.Sub("home");
        var none = new Dictionary<string, string> { ["HOME"] = home };
        Assert.Equal(Path.Combine(home, "Downloads"), DefaultPaths.GetDownloadDirectory(n => Env(none, n)));
        if (OperatingSystem.IsLinux())
            Assert.Equal(Path.Combine(home, ".local", "share", "rtorrent"), DefaultPaths.GetSessionDirectory(n => Env(none, n)));

        var xdg = new Dictionary<string, string> { ["HOME"] = home, ["XDG_DATA_HOME"] = "/data", ["XDG_DOWNLOAD_DIR"] = "/dl/" };
        Assert.Equal("/data/rtorrent", DefaultPaths.GetSessionDirectory(n => Env(xdg, n)));
        Assert.Equal("/dl", DefaultPaths.GetDownloadDirectory(n => Env(xdg, n)));

        var relative = new Dictionary<string, string> { ["HOME"] = home, ["XDG_DATA_HOME"] = "data", ["XDG_DOWNLOAD_DIR"] = "dl" };
        Assert.Equal(Path.Combine(home, "Downloads"), DefaultPaths.GetDownloadDirectory(n => Env(relative, n)));

        Directory.CreateDirectory(Path.Combine(home, ".config"));
        File.WriteAllText(Path.Combine(home, ".config", "user-dirs.dirs"),
            "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOWNLOAD_DIR=\"$HOME/Téléchargements\"\n");
        Assert.Equal(Path.Combine(home, "Téléchargements"), DefaultPaths.GetDownloadDirectory(n => Env(none, n)));
    }
}

public class SettingsDocumentTests
{
    [Fact]
    public void Every_setting_but_the_session_folder_is_in_the_json_shape()
    {
        var record = typeof(EngineSettings).GetProperties().Where(p => p.CanWrite).Select(p => (p.Name, p.PropertyType)).ToHashSet();
        var document = typeof(SettingsDocument).GetProperties().Select(p => (p.Name, p.PropertyType)).ToHashSet();
        record.Remove((nameof(EngineSettings.SessionDirectory), typeof(string)));
        Assert.Equal(record.OrderBy(p => p.Name), document.OrderBy(p => p.Name));
    }

    [Fact]
    public async Task Limits_kept_while_switched_off_default_to_transmissions_and_round_trip()
    {
        using var _tmp = new TempDir("rt-settings");
        var defaults = new EngineSettings();
        Assert.Equal((100_000L, 100_000L, 2.0), (defaults.DownloadRateLimitWhenOn, defaults.UploadRateLimitWhenOn, defaults.SeedRatioLimitWhenOn));
        var s = defaults with
        {
            SessionDirectory = _tmp.Sub("kept"),
            DownloadRateLimitWhenOn = 250_000,
            UploadRateLimitWhenOn = 0,
            SeedRatioLimitWhenOn = 1.5,
        };
        Assert.NotEqual(defaults with { SessionDirectory = s.SessionDirectory }, s);
        await SettingsStore.SaveAsync(s);
        var text = await File.ReadAllTextAsync(_tmp.Sub("kept", "settings.json"));
        Assert.Contains("\"downloadRateLimitWhenOn\": 250000", text);
        Assert.Equal(s with { SessionDirectory = Path.GetFullPath(s.SessionDirectory) }, await SettingsStore.LoadAsync(_tmp.Sub("kept")));
        Assert.Equal(
            ["downloadRateLimitWhenOn: must be 0 (none kept) or more, not -1", "seedRatioLimitWhenOn: must be a number of 0 or more, not NaN"],
            (defaults with { DownloadRateLimitWhenOn = -1, SeedRatioLimitWhenOn = double.NaN }).Validate());
    }

    [Fact]
    public async Task Turtle_mode_its_schedule_and_the_hooks_round_trip_and_are_validated()
    {
        using var _tmp = new TempDir("rt-settings");
        var defaults = new EngineSettings();
        Assert.Equal((false, 50_000L, 50_000L, false, 540, 1020, 127, 600),
            (defaults.AltSpeedEnabled, defaults.AltDownloadRateLimit, defaults.AltUploadRateLimit, defaults.AltSpeedScheduleEnabled,
                defaults.AltSpeedScheduleBegin, defaults.AltSpeedScheduleEnd, defaults.AltSpeedScheduleDays, defaults.HookTimeoutSeconds));
        var s = defaults with
        {
            SessionDirectory = _tmp.Sub("turtle"),
            AltSpeedEnabled = true,
            AltDownloadRateLimit = 10_000,
            AltUploadRateLimit = 0,
            AltSpeedScheduleEnabled = true,
            AltSpeedScheduleBegin = 1320,
            AltSpeedScheduleEnd = 360,
            AltSpeedScheduleDays = 65,
            AddedHook = "/usr/local/bin/added",
            CompletedHook = "/usr/local/bin/done",
            CompletedHookEnabled = true,
            RemovedHook = "/usr/local/bin/removed",
            RemovedHookEnabled = true,
            HookTimeoutSeconds = 30,
        };
        Assert.NotEqual(defaults with { SessionDirectory = s.SessionDirectory }, s);
        await SettingsStore.SaveAsync(s);
        var text = await File.ReadAllTextAsync(_tmp.Sub("turtle", "settings.json"));
        Assert.Contains("\"altSpeedScheduleDays\": 65", text);
        Assert.Contains("\"completedHook\": \"/usr/local/bin/done\"", text);
        Assert.Equal(s with { SessionDirectory = Path.GetFullPath(s.SessionDirectory) }, await SettingsStore.LoadAsync(_tmp.Sub("turtle")));
        Assert.Equal(
        [
            "altDownloadRateLimit: must be 0 (unlimited) or more, not -1",
            "altSpeedScheduleBegin: must be 0-1439 (minutes after midnight), not 1440",
            "altSpeedScheduleDays: must be 0-127 (Sunday 1, Monday 2, ... Saturday 64), not 128",
            "addedHook: must be an absolute path to a program or null, not 'hook.sh'",
            "completedHookEnabled: needs completedHook (the program to run)",
            "hookTimeoutSeconds: must be 1-86400, not 0",
        ], (defaults with
        {
            AltDownloadRateLimit = -1, AltSpeedScheduleBegin = 1440, AltSpeedScheduleDays = 128, AddedHook = "hook.sh",
            CompletedHookEnabled = true, HookTimeoutSeconds = 0,
        }).Validate());
    }
}
