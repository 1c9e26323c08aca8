using System.Net;
using System.Text.Json;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Session;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Native;
using RTorrent.Remote.Tests.Infrastructure;
using RTorrent.Testing;

namespace RTorrent.Remote.Tests.Native;

/// <summary>
/// RTorrent's own protocol end to end: a real session (no DHT, PEX, LSD, trackers or plugins; peers on 127.0.0.1),
/// served on a Unix socket, driven through <see cref="RemoteBackend"/> exactly as an attached interface does.
/// </summary>
public class NativeSessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private string _root = null!;
    private string _sessionDir = null!;
    private string _downloads = null!;
    private ClientSession _session = null!;
    private SessionSettings _settings = null!;
    private SessionBackend _backend = null!;
    private NativeDaemon _daemon = null!;
    private WireRecorder _wire = null!;
    private RemoteBackend _client = null!;
    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        _root = TestPaths.NewTempDir("rt-native");
        _sessionDir = Path.Combine(_root, "session");
        _downloads = Path.Combine(_root, "downloads");
        var saved = new EngineSettings
        {
            SessionDirectory = _sessionDir,
            DownloadDirectory = _downloads,
            ListenPort = 0,
            DhtEnabled = false,
            PexEnabled = false,
            LsdEnabled = false,
        };
        _session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = _sessionDir,
            Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, ListenPort = 0, DefaultSavePath = _downloads },
            LoadPlugins = false,
            EnableDht = false,
            DhtUsePublicRouters = false,
            DisabledPeerSources = ["dht", "pex", "lsd", "tracker"],
        }).WaitAsync(Limit);
        _settings = new SessionSettings(saved, _session);
        _backend = new SessionBackend(_session, _settings, new BackendInfo(BackendKind.Daemon, _sessionDir, CanStopDaemon: true))
        {
            StopDaemon = () =>
            {
                _stopRequested.TrySetResult();
                return Task.CompletedTask;
            },
        };
        string socket = RemoteTarget.ForSession(_sessionDir).SocketPath!;
        _daemon = await NativeDaemon.StartAsync(_backend, socket, () => new HelloResult
        {
            ProgramVersion = "test",
            HostName = "test-host",
            SessionDirectory = _sessionDir,
            Pickers = _backend.PickerNames,
            Storages = _backend.StorageNames,
            Plugins = _backend.Plugins,
            CanStopDaemon = true,
        });
        _wire = new WireRecorder(socket);
        _client = new RemoteBackend(RemoteTarget.ForSession(_sessionDir), handler: _wire);
    }

    public async Task DisposeAsync()
    {
        // Null-tolerant: InitializeAsync may have failed half way.
        _client?.Dispose();
        if (_daemon is not null) await _daemon.DisposeAsync();
        if (_session is not null) await _session.DisposeAsync();
        if (_root is null) return;
        try { Directory.Delete(_root, true); }
        catch (IOException) { /* left in /tmp */ }
    }

    /// <summary>Writes a file of <paramref name="size"/> bytes in root/source and a .torrent of it in root/client.</summary>
    private async Task<(string TorrentPath, string DataPath, TorrentMetainfo Meta)> MakeTorrentAsync(string name, int size = 100_000)
    {
        string source = Path.Combine(_root, "source");
        Directory.CreateDirectory(source);
        string data = Path.Combine(source, name);
        var bytes = new byte[size];
        new Random(name.GetHashCode(StringComparison.Ordinal)).NextBytes(bytes);
        await File.WriteAllBytesAsync(data, bytes);
        var created = await TorrentCreator.CreateAsync(data, new TorrentCreatorOptions { PieceLength = 16 * 1024, OmitCreationDate = true });
        string clientDir = Path.Combine(_root, "client");
        Directory.CreateDirectory(clientDir);
        string torrent = Path.Combine(clientDir, name + ".torrent");
        await File.WriteAllBytesAsync(torrent, created.TorrentFile);
        return (torrent, data, created.Metainfo);
    }

    private static string Magnet(string hex, string name) => $"magnet:?xt=urn:btih:{hex}&dn={name}";

    private async Task<TorrentSnapshot> WaitForAsync(string id, Func<TorrentSnapshot, bool> condition)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var session = await _client.GetSessionAsync().WaitAsync(Limit);
            var t = session.Torrents.Single(x => x.Id == id);
            if (condition(t)) return t;
            if (DateTime.UtcNow > deadline) Assert.Fail($"{id} never got there: {t}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Hello_tells_who_the_daemon_is()
    {
        var hello = await _client.ConnectAsync().WaitAsync(Limit);
        Assert.Equal(NativeProtocol.Version, hello.Protocol);
        Assert.Equal("test-host", hello.HostName);
        Assert.Equal(_sessionDir, hello.SessionDirectory);
        Assert.Contains("rarest-first", hello.Pickers);
        Assert.Equal(_backend.PickerNames, _client.PickerNames);
        Assert.Equal(_backend.StorageNames, _client.StorageNames);
        Assert.Equal(BackendKind.Daemon, _client.Info.Kind);
        Assert.Equal(RemoteTarget.ForSession(_sessionDir).SocketPath, _client.Info.Name);
        Assert.True(_client.Info.CanStopDaemon);
    }

    [Fact]
    public async Task Torrents_added_by_file_and_by_magnet_arrive_whole_first_and_then_as_changes()
    {
        var (torrentPath, _, meta) = await MakeTorrentAsync("first.bin");
        string fileId = await _client.AddTorrentAsync(torrentPath, _downloads, start: false, null, null).WaitAsync(Limit);
        Assert.Equal(meta.WireHash.ToHex(), fileId);
        Assert.NotNull(_session.Engine.Find(fileId));
        string hex = "0123456789abcdef0123456789abcdef01234567";
        string magnetId = await _client.AddTorrentAsync(Magnet(hex, "by-magnet"), "", start: false, null, null).WaitAsync(Limit);
        Assert.Equal(hex, magnetId);
        // The daemon kept a copy of the .torrent in its session (the file on the client's side is not needed).
        Assert.True(File.Exists(Path.Combine(_sessionDir, fileId + ".torrent")));

        var first = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.True(_wire.LastSession.GetProperty("full").GetBoolean());
        Assert.Equal(new[] { fileId, magnetId }.Order(), first.Torrents.Select(t => t.Id).Order());
        var byId = first.Torrents.ToDictionary(t => t.Id);
        Assert.Equal("first.bin", byId[fileId].Name);
        Assert.Equal(_downloads, byId[fileId].SavePath);
        Assert.Equal(TorrentState.Stopped, byId[fileId].State);
        Assert.Equal(meta.PieceCount, byId[fileId].PieceCount);
        Assert.Equal("by-magnet", byId[magnetId].Name);
        Assert.Equal(_downloads, byId[magnetId].SavePath); // "" means the daemon's default folder

        // Nothing changed: an empty delta, and the very same snapshot instances.
        var second = await _client.GetSessionAsync().WaitAsync(Limit);
        var delta = _wire.LastSession;
        Assert.False(delta.GetProperty("full").GetBoolean());
        Assert.Equal(0, delta.GetProperty("session").GetProperty("torrents").GetArrayLength());
        Assert.Equal(0, delta.GetProperty("removed").GetArrayLength());
        Assert.True(delta.GetProperty("version").GetInt64() > 0);
        foreach (var t in second.Torrents) Assert.Same(byId[t.Id], t);
        Assert.Equal(first.Torrents.Select(t => t.Id), second.Torrents.Select(t => t.Id));

        // One changes: only it travels; the other keeps its instance.
        await _client.SetTorrentLimitsAsync(fileId, 1000, 2000).WaitAsync(Limit);
        var third = await _client.GetSessionAsync().WaitAsync(Limit);
        var changes = _wire.LastSession.GetProperty("session").GetProperty("torrents");
        Assert.Equal(1, changes.GetArrayLength());
        Assert.Equal(fileId, changes[0].GetProperty("id").GetString());
        var limited = third.Torrents.Single(t => t.Id == fileId);
        Assert.Equal(1000, limited.DownloadLimit);
        Assert.Equal(2000, limited.UploadLimit);
        Assert.Same(byId[magnetId], third.Torrents.Single(t => t.Id == magnetId));
        Assert.Equal(first.Torrents.Select(t => t.Id), third.Torrents.Select(t => t.Id)); // order kept

        // One goes: the delta says so.
        await _client.RemoveAsync(magnetId, deleteData: false).WaitAsync(Limit);
        var fourth = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal([fileId], fourth.Torrents.Select(t => t.Id));
        Assert.False(_wire.LastSession.GetProperty("full").GetBoolean());
        Assert.Equal([magnetId], _wire.LastSession.GetProperty("removed").EnumerateArray().Select(e => e.GetString()));
        Assert.Null(_session.Engine.Find(magnetId));
    }

    [Fact]
    public async Task Details_log_and_free_space_come_from_the_daemon()
    {
        var (torrentPath, _, meta) = await MakeTorrentAsync("details.bin");
        string id = await _client.AddTorrentAsync(torrentPath, _downloads, start: false, null, null).WaitAsync(Limit);

        var details = await _client.GetDetailsAsync(id).WaitAsync(Limit);
        Assert.NotNull(details);
        var local = (await _backend.GetDetailsAsync(id))!;
        Assert.Equal(id, details.Summary.Id);
        Assert.Equal(local.Summary, details.Summary);
        Assert.Equal(local.Files, details.Files);
        Assert.Equal(local.Pieces, details.Pieces);
        Assert.Equal(meta.PieceCount, details.Pieces.Length);
        Assert.Equal("details.bin", Assert.Single(details.Files).Path);
        Assert.Null(await _client.GetDetailsAsync("ffffffffffffffffffffffffffffffffffffffff").WaitAsync(Limit));

        // A session-level event: a saved torrent that cannot be restored.
        await File.WriteAllTextAsync(Path.Combine(_sessionDir, new string('a', 40) + ".torrent"), "not bencode");
        await _session.RestoreAsync();
        var log = await _client.GetSessionLogAsync().WaitAsync(Limit);
        var entry = Assert.Single(log, e => e.Message.Contains("could not restore " + new string('a', 40), StringComparison.Ordinal));
        Assert.Equal(PluginLogLevel.Error, entry.Level);
        Assert.Equal(_session.Log, log);

        long? free = await _client.GetFreeSpaceAsync(_root).WaitAsync(Limit);
        Assert.NotNull(free);
        Assert.True(free > 0);
        Assert.NotNull(await _client.GetFreeSpaceAsync(Path.Combine(_root, "not", "yet", "made")).WaitAsync(Limit));
        Assert.Null(await _client.GetFreeSpaceAsync("").WaitAsync(Limit));
    }

    [Fact]
    public async Task Settings_round_trip_and_are_saved_to_settings_json()
    {
        var before = await _client.GetSettingsAsync().WaitAsync(Limit);
        Assert.Equal(SessionBackend.ToEditable(_settings.Current), before);

        var changed = before with
        {
            UploadSlots = 5,
            MaxConnections = 123,
            DownloadLimit = 50_000,
            UploadLimit = 60_000,
            WatchFolder = Path.Combine(_root, "watch"),
            Dht = true,
            Encryption = EncryptionMode.Required,
        };
        await _client.SaveSettingsAsync(changed).WaitAsync(Limit);
        Assert.Equal(changed, await _client.GetSettingsAsync().WaitAsync(Limit));

        var stored = await SettingsStore.LoadAsync(_sessionDir);
        Assert.Equal(5, stored.UploadSlots);
        Assert.Equal(123, stored.MaxConnections);
        Assert.Equal(50_000, stored.DownloadRateLimit);
        Assert.Equal(Path.Combine(_root, "watch"), stored.WatchDirectory);
        Assert.True(stored.DhtEnabled);
        Assert.Equal(EncryptionMode.Required, stored.Encryption);
        // Limits apply at once.
        var session = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(50_000, session.DownloadLimit);
        Assert.Equal(60_000, session.UploadLimit);

        // A refused value: the daemon's reason, and nothing changes.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SaveSettingsAsync(changed with { UploadSlots = 0 }).WaitAsync(Limit));
        Assert.Contains("uploadSlots", e.Message, StringComparison.Ordinal);
        Assert.Equal(5, (await SettingsStore.LoadAsync(_sessionDir)).UploadSlots);
        Assert.Equal(changed, await _client.GetSettingsAsync().WaitAsync(Limit));
    }

    [Fact]
    public async Task Turtle_mode_its_schedule_and_the_hooks_go_through_the_native_protocol_and_show_in_the_snapshot()
    {
        string hook = Path.Combine(_root, "done.sh");
        var before = await _client.GetSettingsAsync().WaitAsync(Limit);
        Assert.False(before.AltSpeedEnabled);
        var changed = before with
        {
            AltSpeedEnabled = true,
            AltDownloadLimit = 30_000,
            AltUploadLimit = 7_000,
            AltSpeedScheduleBegin = 60,
            AltSpeedScheduleEnd = 120,
            AltSpeedScheduleDays = 3,
            CompletedHook = hook,
        };
        await _client.SaveSettingsAsync(changed).WaitAsync(Limit);
        Assert.Equal(changed, await _client.GetSettingsAsync().WaitAsync(Limit));
        var session = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.True(session.AltSpeedEnabled);
        Assert.Equal((30_000L, 7_000L), (session.DownloadLimit, session.UploadLimit));
        var stored = await SettingsStore.LoadAsync(_sessionDir);
        Assert.Equal((true, 60, 120, 3, hook, true), (stored.AltSpeedEnabled, stored.AltSpeedScheduleBegin, stored.AltSpeedScheduleEnd,
            stored.AltSpeedScheduleDays, stored.CompletedHook, stored.CompletedHookEnabled));

        // An empty hook switches it off and keeps the program in settings.json; turtle mode off brings the normal limits back.
        await _client.SaveSettingsAsync(changed with { CompletedHook = "", AltSpeedEnabled = false }).WaitAsync(Limit);
        stored = await SettingsStore.LoadAsync(_sessionDir);
        Assert.Equal((hook, false), (stored.CompletedHook, stored.CompletedHookEnabled));
        Assert.Equal("", (await _client.GetSettingsAsync().WaitAsync(Limit)).CompletedHook);
        session = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.False(session.AltSpeedEnabled);
        Assert.Equal(stored.DownloadRateLimit, session.DownloadLimit);
    }

    [Fact]
    public async Task Global_limits_apply_and_persist()
    {
        await _client.SetGlobalLimitsAsync(3000, 4000).WaitAsync(Limit);
        var session = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(3000, session.DownloadLimit);
        Assert.Equal(4000, session.UploadLimit);
        Assert.Equal(3000, _settings.Current.DownloadRateLimit);
        var stored = await SettingsStore.LoadAsync(_sessionDir);
        Assert.Equal(3000, stored.DownloadRateLimit);
        Assert.Equal(4000, stored.UploadRateLimit);

        await _client.SetGlobalLimitsAsync(0, 0).WaitAsync(Limit);
        session = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(0, session.DownloadLimit);
        Assert.Equal(0, session.UploadLimit);
    }

    [Fact]
    public async Task Forced_start_queue_moves_and_queue_settings_reach_the_daemon()
    {
        var ids = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var (torrentPath, _, _) = await MakeTorrentAsync($"queue{i}.bin");
            ids.Add(await _client.AddTorrentAsync(torrentPath, _downloads, start: false, null, null).WaitAsync(Limit));
        }
        var settings = await _client.GetSettingsAsync().WaitAsync(Limit);
        Assert.Null(settings.MaxActiveDownloads);
        Assert.Equal(30, settings.QueueStalledMinutes);
        await _client.SaveSettingsAsync(settings with { MaxActiveDownloads = 1 }).WaitAsync(Limit);
        Assert.Equal(new QueueLimits { MaxDownloads = 1, StalledAfter = TimeSpan.FromMinutes(30) }, _session.Engine.Config.Queue);
        Assert.True((await SettingsStore.LoadAsync(_sessionDir)).DownloadQueueEnabled);

        await _client.StartAsync(ids[0]).WaitAsync(Limit);
        await _client.StartAsync(ids[1]).WaitAsync(Limit);
        await WaitForAsync(ids[0], t => t.State == TorrentState.Downloading);
        await WaitForAsync(ids[1], t => t.State == TorrentState.Queued);

        await _client.MoveInQueueAsync(ids[1], QueueMove.Top).WaitAsync(Limit);
        await WaitForAsync(ids[1], t => t.State == TorrentState.Downloading && t.QueuePosition == 0);
        await WaitForAsync(ids[0], t => t.State == TorrentState.Queued);

        await _client.StartNowAsync(ids[0]).WaitAsync(Limit);
        var forced = await WaitForAsync(ids[0], t => t.State == TorrentState.Downloading);
        Assert.True(forced.IsForced);
    }

    [Fact]
    public async Task Start_stop_recheck_file_priority_and_sequential_reach_the_torrent()
    {
        var (torrentPath, dataPath, meta) = await MakeTorrentAsync("ops.bin");
        string id = await _client.AddTorrentAsync(torrentPath, _downloads, start: false, null, null).WaitAsync(Limit);
        var stopped = (await _client.GetSessionAsync().WaitAsync(Limit)).Torrents.Single();
        Assert.Equal(TorrentState.Stopped, stopped.State);
        Assert.Equal(0, stopped.PiecesHave);

        await _client.StartAsync(id).WaitAsync(Limit);
        await WaitForAsync(id, t => t.State == TorrentState.Downloading);
        await _client.StopAsync(id).WaitAsync(Limit);
        await WaitForAsync(id, t => t.State == TorrentState.Stopped);

        // The data appears on the daemon's disk; a recheck finds it.
        File.Copy(dataPath, Path.Combine(_downloads, "ops.bin"));
        await _client.RecheckAsync(id).WaitAsync(Limit);
        var checkedT = await WaitForAsync(id, t => t.PiecesHave == meta.PieceCount);
        Assert.Equal(1.0, checkedT.Progress);

        await _client.SetFilePriorityAsync(id, [0], Priority.High).WaitAsync(Limit);
        Assert.Equal(Priority.High, Assert.Single((await _client.GetDetailsAsync(id).WaitAsync(Limit))!.Files).Priority);
        await _client.SetFilePriorityAsync(id, [0], Priority.Skip).WaitAsync(Limit);
        Assert.Equal(Priority.Skip, Assert.Single((await _client.GetDetailsAsync(id).WaitAsync(Limit))!.Files).Priority);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SetFilePriorityAsync(id, [7], Priority.High).WaitAsync(Limit));
        Assert.Equal(Priority.Skip, Assert.Single((await _client.GetDetailsAsync(id).WaitAsync(Limit))!.Files).Priority);

        // Sequential download needs its picker plugin, which this session does not load: the engine's own refusal.
        var sequential = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SetSequentialAsync(id, true).WaitAsync(Limit));
        Assert.Contains("'sequential' picker", sequential.Message, StringComparison.Ordinal);
        Assert.False((await WaitForAsync(id, _ => true)).Sequential);
    }

    [Fact]
    public async Task The_backends_refusals_come_back_as_InvalidOperationException_with_its_message()
    {
        const string unknown = "ffffffffffffffffffffffffffffffffffffffff";
        const string gone = "That torrent is no longer in the session.";
        Assert.Equal(gone, (await Assert.ThrowsAsync<InvalidOperationException>(() => _client.StartAsync(unknown))).Message);
        Assert.Equal(gone, (await Assert.ThrowsAsync<InvalidOperationException>(() => _client.StopAsync(unknown))).Message);
        Assert.Equal(gone, (await Assert.ThrowsAsync<InvalidOperationException>(() => _client.RecheckAsync(unknown))).Message);
        Assert.Equal(gone, (await Assert.ThrowsAsync<InvalidOperationException>(() => _client.RemoveAsync(unknown, true))).Message);
        Assert.Equal(gone, (await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SetTorrentLimitsAsync(unknown, 1, 1))).Message);
        Assert.Equal(gone, (await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SetSequentialAsync(unknown, true))).Message);
        Assert.Equal(gone, (await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SetFilePriorityAsync(unknown, [0], Priority.Low))).Message);

        // Adding: a file the client does not have, a file that is no torrent, a broken magnet link, a duplicate.
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.AddTorrentAsync(Path.Combine(_root, "nope.torrent"), "", true, null, null));
        Assert.StartsWith("No such file", missing.Message, StringComparison.Ordinal);
        string junk = Path.Combine(_root, "junk.torrent");
        await File.WriteAllTextAsync(junk, "this is not a torrent");
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.AddTorrentAsync(junk, "", true, null, null));
        var badMagnet = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.AddTorrentAsync("magnet:?xt=urn:btih:xyz", "", true, null, null));
        Assert.StartsWith("Not a usable torrent", badMagnet.Message, StringComparison.Ordinal);
        var (torrentPath, _, _) = await MakeTorrentAsync("twice.bin");
        await _client.AddTorrentAsync(torrentPath, _downloads, false, null, null);
        var twice = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.AddTorrentAsync(torrentPath, _downloads, false, null, null));
        Assert.Contains("already added", twice.Message, StringComparison.Ordinal);
        var noPicker = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.AddTorrentAsync(Magnet(new string('b', 40), "x"), "", false, "no-such-picker", null));
        Assert.Contains("no-such-picker", noPicker.Message, StringComparison.Ordinal);

        // None of that made the daemon look unreachable.
        var session = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.Single(session.Torrents);
    }

    [Fact]
    public async Task Stop_daemon_calls_the_daemons_stop()
    {
        await _client.ConnectAsync().WaitAsync(Limit);
        await _client.StopDaemonAsync().WaitAsync(Limit);
        await _stopRequested.Task.WaitAsync(Limit);
    }

    [Fact]
    public async Task Piece_states_travel_compactly_and_intact()
    {
        var (torrentPath, dataPath, meta) = await MakeTorrentAsync("pieces.bin", 200_000);
        Directory.CreateDirectory(_downloads);
        File.Copy(dataPath, Path.Combine(_downloads, "pieces.bin"));
        string id = await _client.AddTorrentAsync(torrentPath, _downloads, start: false, null, null).WaitAsync(Limit);
        await _client.GetDetailsAsync(id).WaitAsync(Limit);
        var pieces = _wire.Answers(NativeProtocol.Methods.Details)[^1].GetProperty("details").GetProperty("pieces");
        Assert.Equal(JsonValueKind.String, pieces.ValueKind);
        Assert.Equal(meta.PieceCount, pieces.GetBytesFromBase64().Length);
        var details = (await _client.GetDetailsAsync(id).WaitAsync(Limit))!;
        Assert.All(details.Pieces, p => Assert.Equal(PieceDisplayState.Have, p));
    }

    [Fact]
    public async Task Categories_and_tags_are_set_edited_and_shown_through_the_daemon_as_an_attached_interface_does()
    {
        var (torrentPath, dataPath, _) = await MakeTorrentAsync("cat.bin");
        Directory.CreateDirectory(_downloads);
        File.Copy(dataPath, Path.Combine(_downloads, "cat.bin"));
        string id = await _client.AddTorrentAsync(torrentPath, _downloads, start: true, null, null).WaitAsync(Limit);
        await WaitForAsync(id, t => t.State == TorrentState.Seeding);
        Assert.Empty(await _client.GetCategoriesAsync().WaitAsync(Limit));

        string shows = Path.Combine(_root, "shows");
        await _client.SaveCategoryAsync(new Category { Name = "shows", SavePath = shows, SeedingTimeLimit = 90 }).WaitAsync(Limit);
        var listed = Assert.Single(await _client.GetCategoriesAsync().WaitAsync(Limit));
        Assert.Equal(new Category { Name = "shows", SavePath = shows, SeedingTimeLimit = 90 }, listed);

        await _client.SetCategoryAsync(id, "shows").WaitAsync(Limit);
        await _client.SetTagsAsync(id, [" new ", "hd", "new"]).WaitAsync(Limit);
        var t = await WaitForAsync(id, t => t.Category == "shows" && t.Labels.Count == 2);
        Assert.Equal(shows, t.SavePath);
        Assert.Equal(["new", "hd"], t.Labels);
        Assert.True(File.Exists(Path.Combine(shows, "cat.bin")));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SetTagsAsync(id, ["a,b"]));
        Assert.Contains("comma", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.SaveCategoryAsync(new Category { Name = ".." }));

        await _client.RemoveCategoryAsync("shows").WaitAsync(Limit);
        t = await WaitForAsync(id, t => t.Category.Length == 0);
        Assert.Equal(shows, t.SavePath); // the data stays
        Assert.Empty(await _client.GetCategoriesAsync().WaitAsync(Limit));
    }

    [Fact]
    public async Task Feeds_are_set_refreshed_and_read_through_the_native_protocol()
    {
        await using var http = new LocalHttpServer();
        string magnet = Magnet("0123456789abcdef0123456789abcdef01234567", "Show.Name.S01E02");
        var url = http.ServeAt("/feed.xml", $"<rss><channel><title>Remote feed</title><item><title>Show.Name.S01E02.1080p</title><guid>1</guid><link>{System.Security.SecurityElement.Escape(magnet)}</link></item></channel></rss>");
        await _client.ConnectAsync().WaitAsync(Limit);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => _client.SetFeedsAsync(new RTorrent.Engine.Feeds.FeedConfig
        {
            Feeds = [new RTorrent.Engine.Feeds.FeedDefinition { Name = "tv", Url = "ftp://nope" }],
        }).WaitAsync(Limit));
        Assert.Contains("url must be an http or https address", refused.Message);

        await _client.SetFeedsAsync(new RTorrent.Engine.Feeds.FeedConfig
        {
            Feeds = [new RTorrent.Engine.Feeds.FeedDefinition { Name = "tv", Url = url, IntervalMinutes = 15 }],
            Rules = [new RTorrent.Engine.Feeds.FeedRule { Name = "show", MustContain = "show name", SmartFilter = true, AddPaused = true }],
        }).WaitAsync(Limit);
        Assert.True(File.Exists(Path.Combine(_sessionDir, RTorrent.Engine.Feeds.FeedConfig.FileName)));
        await Assert.ThrowsAnyAsync<Exception>(() => _client.RefreshFeedAsync("nobody").WaitAsync(Limit));

        await _client.RefreshFeedAsync("tv").WaitAsync(Limit);
        RTorrent.Engine.Feeds.FeedsSnapshot feeds;
        var deadline = DateTime.UtcNow + Limit;
        do
        {
            feeds = await _client.GetFeedsAsync().WaitAsync(Limit);
            if (feeds.Feeds[0].LastPoll is not null) break;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);
        var feed = Assert.Single(feeds.Feeds);
        Assert.Equal(("tv", 15, "Remote feed"), (feed.Definition.Name, feed.Definition.IntervalMinutes, feed.Title));
        var item = Assert.Single(feed.Items);
        Assert.Equal((RTorrent.Engine.Feeds.FeedItemState.Added, "show", "S01E02"), (item.State, item.Rule, item.Episode));
        Assert.Equal("show name", Assert.Single(feeds.Config.Rules).MustContain);
        Assert.NotNull(_session.Engine.Find("0123456789abcdef0123456789abcdef01234567"));
    }
}
