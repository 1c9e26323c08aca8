using System.Net.Sockets;
using System.Text;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Native;
using RTorrent.Remote.Security;
using RTorrent.Remote.Tests.Infrastructure;
using RTorrent.Testing;

namespace RTorrent.Remote.Tests.Native;

/// <summary>The native protocol over a fake backend: what exactly reaches the backend, and every refusal's answer.</summary>
public class NativeProtocolTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private string _folder = null!;
    private string _socket = null!;
    private FakeBackend _fake = null!;
    private NativeDaemon _daemon = null!;
    private WireRecorder _wire = null!;
    private RemoteBackend _client = null!;

    public async Task InitializeAsync()
    {
        _folder = TestPaths.NewTempDir("rt-proto");
        _socket = Path.Combine(_folder, "rpc.sock");
        _fake = new FakeBackend();
        _daemon = await NativeDaemon.StartAsync(_fake, _socket);
        _wire = new WireRecorder(_socket);
        _client = new RemoteBackend(new RemoteTarget { SocketPath = _socket }, handler: _wire);
    }

    public async Task DisposeAsync()
    {
        // Null-tolerant: InitializeAsync may have failed half way.
        _client?.Dispose();
        if (_daemon is not null) await _daemon.DisposeAsync();
        if (_folder is not null) Directory.Delete(_folder, true);
    }

    private async Task<string?> RawAsync(string json)
    {
        var answer = await RawHttp.SendAsync(new UnixDomainSocketEndPoint(_socket), "POST", RpcServer.NativePath,
            [("Host", "localhost"), (RpcGate.SessionIdHeader, _daemon.Server.Gate.SessionId)], Encoding.UTF8.GetBytes(json));
        Assert.Equal(200, answer.Status);
        return answer.Result;
    }

    [Fact]
    public async Task A_torrent_file_travels_as_its_contents_through_a_private_temporary_file()
    {
        string data = Path.Combine(_folder, "payload.bin");
        await File.WriteAllBytesAsync(data, Enumerable.Range(0, 50_000).Select(i => (byte)i).ToArray());
        var created = await TorrentCreator.CreateAsync(data, new TorrentCreatorOptions { PieceLength = 16 * 1024 });
        string torrent = Path.Combine(_folder, "payload.torrent");
        await File.WriteAllBytesAsync(torrent, created.TorrentFile);

        string id = await _client.AddTorrentAsync("  " + torrent + " ", "/srv/downloads", start: true, "rarest-first", "file").WaitAsync(Limit);
        Assert.Equal("00112233445566778899aabbccddeeff00112233", id);
        var add = _fake.LastAdd!.Value;
        Assert.NotEqual(torrent, add.PathOrMagnet);
        Assert.Equal(created.TorrentFile, add.FileBytes);
        Assert.Equal("/srv/downloads", add.SaveDirectory);
        Assert.True(add.Start);
        Assert.Equal("rarest-first", add.Picker);
        Assert.Equal("file", add.Storage);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, _fake.LastAddFileMode);
        Assert.False(File.Exists(add.PathOrMagnet));
    }

    [Fact]
    public async Task A_magnet_link_travels_as_it_is()
    {
        string magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x";
        await _client.AddTorrentAsync(" " + magnet, "", start: false, null, null).WaitAsync(Limit);
        var add = _fake.LastAdd!.Value;
        Assert.Equal(magnet, add.PathOrMagnet);
        Assert.Null(add.FileBytes);
        Assert.Equal("", add.SaveDirectory);
        Assert.False(add.Start);
        Assert.Null(add.Picker);
        Assert.Null(add.Storage);
    }

    [Fact]
    public async Task Operations_reach_the_backend_with_their_arguments()
    {
        await _client.StartAsync("t1");
        await _client.StopAsync("t1");
        await _client.RecheckAsync("t1");
        await _client.RemoveAsync("t1", deleteData: true);
        await _client.SetFilePriorityAsync("t1", [0, 2, 5], Priority.Low);
        await _client.SetTorrentLimitsAsync("t1", 100, 200);
        await _client.SetGlobalLimitsAsync(300, 400);
        await _client.SetSequentialAsync("t1", true);
        Assert.Equal(
            ["start t1", "stop t1", "recheck t1", "remove t1 True", "priority t1 0,2,5 Low", "limits t1 100 200", "global 300 400", "sequential t1 True"],
            _fake.Calls);
        Assert.Equal(12345, await _client.GetFreeSpaceAsync("/anywhere"));
        Assert.Equal("fake log", Assert.Single(await _client.GetSessionLogAsync()).Message);
    }

    [Fact]
    public async Task Details_arrive_with_every_piece_state()
    {
        _fake.Set(FakeBackend.Torrent("t1"));
        var remote = await _client.GetDetailsAsync("t1").WaitAsync(Limit);
        var local = await _fake.GetDetailsAsync("t1");
        Assert.NotNull(remote);
        Assert.Equal(local!.Pieces, remote.Pieces);
        Assert.Equal(local.Summary, remote.Summary);
        Assert.Equal(local.Files, remote.Files);
        Assert.Null(await _client.GetDetailsAsync("t2").WaitAsync(Limit));
    }

    [Fact]
    public async Task Refusals_and_bugs_in_the_backend_come_back_as_InvalidOperationException()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.StartAsync("bad-id"));
        Assert.Equal("That torrent is no longer in the session.", refused.Message);
        var bug = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.GetFreeSpaceAsync("crash"));
        Assert.Equal("internal error in free-space: a bug", bug.Message);
        // And the connection is fine.
        Assert.Equal(12345, await _client.GetFreeSpaceAsync("/"));
    }

    [Theory]
    [InlineData("""{"method":"start"}""", "arguments of start are not valid")]
    [InlineData("""{"method":"start","arguments":{}}""", "arguments of start are not valid")]
    [InlineData("""{"method":"start","arguments":{"id":5}}""", "arguments of start are not valid")]
    [InlineData("""{"method":"remove","arguments":{"deleteData":true}}""", "arguments of remove are not valid")]
    [InlineData("""{"method":"file-priority","arguments":{"id":"x","files":[0],"priority":"bogus"}}""", "arguments of file-priority are not valid")]
    [InlineData("""{"method":"file-priority","arguments":{"id":"x","files":"all"}}""", "arguments of file-priority are not valid")]
    [InlineData("""{"method":"torrent-limits","arguments":{"download":1}}""", "id is missing")]
    [InlineData("""{"method":"session","arguments":{"since":"yesterday"}}""", "arguments of session are not valid")]
    [InlineData("""{"method":"add","arguments":{}}""", "give either a torrent or a magnet link")]
    [InlineData("""{"method":"add","arguments":{"torrent":"ZGQ=","magnet":"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"}}""", "give either a torrent or a magnet link")]
    [InlineData("""{"method":"add","arguments":{"torrent":"not base64!"}}""", "arguments of add are not valid")]
    [InlineData("""{"method":"settings-set","arguments":{"listenPort":"high"}}""", "arguments of settings-set are not valid")]
    [InlineData("""{"method":"free-space","arguments":{}}""", "arguments of free-space are not valid")]
    [InlineData("""{"method":"frobnicate","arguments":{"id":"x"}}""", "method name not recognized")]
    [InlineData("""{"method":"Start","arguments":{"id":"x"}}""", "method name not recognized")]
    public async Task Missing_or_wrong_arguments_get_a_result_naming_the_problem(string request, string result)
    {
        string? answer = await RawAsync(request);
        Assert.StartsWith(result, answer, StringComparison.Ordinal);
        Assert.Empty(_fake.Calls);
    }

    [Fact]
    public async Task A_torrent_that_does_not_parse_is_refused_before_anything_touches_the_disk()
    {
        string? answer = await RawAsync("""{"method":"add","arguments":{"torrent":"ZGQ="}}""");
        Assert.NotEqual("success", answer);
        Assert.Null(_fake.LastAdd);
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        Assert.Equal("success", await RawAsync("""{"method":"start","arguments":{"id":"t9","colour":"blue"},"extra":[1]}"""));
        Assert.Equal(["start t9"], _fake.Calls);
    }

    [Fact]
    public async Task Stop_daemon_is_refused_by_a_daemon_that_does_not_allow_it()
    {
        // The client knows from hello and does not even ask.
        await _client.ConnectAsync().WaitAsync(Limit);
        Assert.False(_client.Info.CanStopDaemon);
        int requests = _wire.Requests;
        await Assert.ThrowsAsync<NotSupportedException>(() => _client.StopDaemonAsync());
        Assert.Equal(requests, _wire.Requests);

        // A daemon whose hello claims otherwise still checks its backend.
        Assert.Equal("this daemon cannot be stopped through the RPC", await RawAsync("""{"method":"stop-daemon"}"""));
        string socket2 = Path.Combine(_folder, "other.sock");
        await using var lying = await NativeDaemon.StartAsync(_fake, socket2, () => new HelloResult { CanStopDaemon = true });
        using var client2 = new RemoteBackend(new RemoteTarget { SocketPath = socket2 }, handler: new WireRecorder(socket2));
        await client2.ConnectAsync().WaitAsync(Limit);
        Assert.True(client2.Info.CanStopDaemon);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => client2.StopDaemonAsync());
        Assert.Equal("this daemon cannot be stopped through the RPC", e.Message);
        Assert.DoesNotContain("stop-daemon", _fake.Calls);
    }

    [Fact]
    public async Task A_daemon_with_another_protocol_version_is_refused()
    {
        string socket2 = Path.Combine(_folder, "future.sock");
        await using var future = await NativeDaemon.StartAsync(_fake, socket2, () => new HelloResult { Protocol = NativeProtocol.Version + 1 });
        using var client2 = new RemoteBackend(new RemoteTarget { SocketPath = socket2 }, handler: new WireRecorder(socket2));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => client2.ConnectAsync().WaitAsync(Limit));
        Assert.Contains($"protocol {NativeProtocol.Version + 1}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_session_id_is_learnt_from_the_first_409_and_reused()
    {
        await _client.GetSessionAsync().WaitAsync(Limit);
        await _client.GetSessionAsync().WaitAsync(Limit);
        // hello, session, session: each once, and the 409 before the first was answered by a resend.
        Assert.Equal(4, _wire.Requests);
        Assert.Single(_wire.Answers(NativeProtocol.Methods.Hello));
        Assert.Equal(2, _wire.Answers(NativeProtocol.Methods.Session).Count);
    }

    [Fact]
    public async Task Session_totals_come_with_every_answer_even_an_empty_delta()
    {
        _fake.Set(FakeBackend.Torrent("a"));
        _fake.DownloadLimit = 5;
        var first = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(5, first.DownloadLimit);
        _fake.DownloadLimit = 6;
        var second = await _client.GetSessionAsync().WaitAsync(Limit);
        Assert.Equal(6, second.DownloadLimit);
        Assert.Equal(6890, second.ListenPort);
        Assert.Same(first.Torrents[0], second.Torrents[0]);
    }
}
