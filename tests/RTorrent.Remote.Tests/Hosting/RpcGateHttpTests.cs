using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Security;
using RTorrent.Remote.Tests.Infrastructure;

namespace RTorrent.Remote.Tests.Hosting;

/// <summary>
/// Each access rule proven over raw HTTP against a real server: the session-id handshake (CSRF), the Host check
/// (DNS rebinding, CVE-2018-5702), the address allow-list, basic authentication with slowed-down failures, the body cap,
/// and the refusal to serve an open address without credentials.
/// </summary>
public class RpcGateHttpTests
{
    private const string Echo = """{"method":"echo","arguments":{"x":1},"tag":5}""";
    private static readonly string Hash = RpcPassword.Hash("secret", 1000);

    // ------------------------------------------------------------------ session id

    [Fact]
    public async Task A_request_without_the_session_id_gets_409_with_the_id_and_the_id_then_works()
    {
        await using var server = await TestServer.StartAsync();
        var first = await server.PostAsync(Echo, sessionId: null);
        Assert.Equal(409, first.Status);
        string? id = first.Header(RpcGate.SessionIdHeader);
        Assert.Equal(server.SessionId, id);
        Assert.Equal(48, id!.Length);
        Assert.Contains(RpcGate.SessionIdHeader, first.Header("Access-Control-Expose-Headers"), StringComparison.Ordinal);
        Assert.Equal(0, server.Transmission.Calls);

        var second = await server.PostAsync(Echo, sessionId: id);
        Assert.Equal(200, second.Status);
        Assert.Equal("success", second.Result);
        Assert.Equal(1, server.Transmission.Calls);
    }

    [Theory]
    [InlineData("wrong")]
    [InlineData("")]
    [InlineData(" ")]
    public async Task A_wrong_session_id_gets_409(string id)
    {
        await using var server = await TestServer.StartAsync();
        var answer = await RawHttp.SendAsync(server.Tcp, "POST", RpcServer.TransmissionPath,
            [("Host", server.HostHeader), (RpcGate.SessionIdHeader, id)], Encoding.UTF8.GetBytes(Echo));
        Assert.Equal(409, answer.Status);
        Assert.Equal(server.SessionId, answer.Header(RpcGate.SessionIdHeader));
        Assert.Equal(0, server.Transmission.Calls);
    }

    [Fact]
    public async Task The_session_id_is_case_sensitive_and_every_request_needs_it()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Equal(200, (await server.PostAsync(Echo)).Status);
        string flipped = new(server.SessionId.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)).ToArray());
        Assert.NotEqual(server.SessionId, flipped);
        Assert.Equal(409, (await server.PostAsync(Echo, sessionId: flipped)).Status);
        Assert.Equal(409, (await server.PostAsync(Echo, sessionId: server.SessionId + "x")).Status);
        Assert.Equal(409, (await server.PostAsync(Echo, sessionId: null, path: RpcServer.NativePath)).Status);
        Assert.Equal(200, (await server.PostAsync(Echo, path: RpcServer.NativePath)).Status);
        Assert.Equal(1, server.Native.Calls);
    }

    [Fact]
    public async Task Each_server_run_has_its_own_session_id()
    {
        await using var a = await TestServer.StartAsync();
        await using var b = await TestServer.StartAsync();
        Assert.NotEqual(a.SessionId, b.SessionId);
        Assert.Equal(409, (await b.PostAsync(Echo, sessionId: a.SessionId)).Status);
    }

    // ------------------------------------------------------------------ Host header

    [Fact]
    public async Task A_foreign_host_name_gets_421_before_anything_else()
    {
        await using var server = await TestServer.StartAsync();
        foreach (string host in new[] { "evil.example", "evil.example:" + server.Tcp.Port, "localhost.evil.example", "other.example.com" })
        {
            var answer = await server.PostAsync(Echo, host: host);
            Assert.Equal(421, answer.Status);
            Assert.Contains("DNS rebinding", answer.Text, StringComparison.Ordinal);
            // A rebinding page must not learn the session id either.
            Assert.Null(answer.Header(RpcGate.SessionIdHeader));
            Assert.Equal(421, (await server.PostAsync(Echo, host: host, sessionId: null)).Status);
        }
        Assert.Equal(0, server.Transmission.Calls);
    }

    [Fact]
    public async Task Localhost_names_addresses_and_listed_names_are_answered()
    {
        await using var server = await TestServer.StartAsync(o => o with
        {
            Security = o.Security with { HostAllowList = ["seedbox.example", "*.example.com"] },
        });
        int port = server.Tcp.Port;
        string[] allowed =
        [
            "localhost", $"localhost:{port}", "localhost.", $"localhost.:{port}", "127.0.0.1", $"127.0.0.1:{port}", "[::1]", $"[::1]:{port}",
            "seedbox.example", $"SEEDBOX.example:{port}", "a.example.com", $"deep.sub.example.com:{port}",
        ];
        foreach (string host in allowed)
        {
            var answer = await server.PostAsync(Echo, host: host);
            Assert.True(answer.Status == 200, $"{host}: {answer}");
        }
        Assert.Equal(421, (await server.PostAsync(Echo, host: "example.com")).Status);
        Assert.Equal(421, (await server.PostAsync(Echo, host: "www.seedbox.example")).Status);
        Assert.Equal(allowed.Length, server.Transmission.Calls);
    }

    [Fact]
    public async Task A_request_without_Host_gets_421()
    {
        await using var server = await TestServer.StartAsync();
        // HTTP/1.0 may leave Host out, and Kestrel lets it through: the gate must not.
        var answer = await RawHttp.SendAsync(server.Tcp, "POST", RpcServer.TransmissionPath,
            [(RpcGate.SessionIdHeader, server.SessionId)], Encoding.UTF8.GetBytes(Echo), version: "HTTP/1.0");
        Assert.Equal(421, answer.Status);
        Assert.Equal(0, server.Transmission.Calls);
    }

    [Fact]
    public async Task With_the_host_check_off_any_name_is_answered()
    {
        await using var server = await TestServer.StartAsync(o => o with { Security = o.Security with { HostAllowListEnabled = false } });
        Assert.Equal(200, (await server.PostAsync(Echo, host: "evil.example")).Status);
    }

    // ------------------------------------------------------------------ address allow-list

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("::1")]
    [InlineData("127.0.0.2")]
    [InlineData("128.*.*.*")]
    public async Task A_client_not_on_the_address_list_gets_403(string entry)
    {
        await using var server = await TestServer.StartAsync(o => o with { Security = o.Security with { AddressAllowList = [entry] } });
        var answer = await server.PostAsync(Echo);
        Assert.Equal(403, answer.Status);
        Assert.Contains("rpcAddressAllowList", answer.Text, StringComparison.Ordinal);
        Assert.Null(answer.Header(RpcGate.SessionIdHeader));
        Assert.Equal(403, (await server.GetAsync("/transmission/web/")).Status);
        Assert.Equal(0, server.Transmission.Calls);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.*.*.*")]
    [InlineData("*.*.*.1")]
    [InlineData("127.0.0.0/8")]
    [InlineData("0.0.0.0/0")]
    [InlineData("*")]
    public async Task A_client_on_the_address_list_is_answered(string entry)
    {
        await using var server = await TestServer.StartAsync(o => o with { Security = o.Security with { AddressAllowList = ["10.0.0.0/8", entry] } });
        Assert.Equal(200, (await server.PostAsync(Echo)).Status);
    }

    [Fact]
    public async Task The_default_list_allows_loopback()
    {
        await using var server = await TestServer.StartAsync();
        Assert.True(server.Server.TcpEndPoints.All(ep => IPAddress.IsLoopback(ep.Address)));
        Assert.Equal(200, (await server.PostAsync(Echo)).Status);
    }

    [Fact]
    public async Task With_the_list_off_any_address_is_answered()
    {
        await using var server = await TestServer.StartAsync(o => o with
        {
            Security = o.Security with { AddressAllowListEnabled = false, AddressAllowList = ["10.0.0.0/8"] },
        });
        Assert.Equal(200, (await server.PostAsync(Echo)).Status);
    }

    [Fact]
    public async Task A_bad_address_entry_stops_the_start_with_a_message_naming_it()
    {
        // InvalidOperationException, as for the other unusable options: the daemon reports those in one line.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestServer.StartAsync(o => o with { Security = o.Security with { AddressAllowList = ["192.168.1.0/24", "192.168.1"] } }));
        Assert.StartsWith("rpcAddressAllowList: '192.168.1'", e.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(e.InnerException);
    }

    // ------------------------------------------------------------------ basic authentication

    private static Task<TestServer> StartWithPasswordAsync(ManualClock clock, bool unixSocket = false) =>
        TestServer.StartAsync(o => o with { Security = o.Security with { Username = "admin", PasswordHash = Hash }, Time = clock }, unixSocket);

    /// <summary>Sends a request that will fail authentication and lets its delay pass on the clock.</summary>
    private static async Task<HttpAnswer> FailLoginAsync(TestServer server, ManualClock clock, string? authorization, TimeSpan delay)
    {
        var pending = server.PostAsync(Echo, authorization: authorization);
        Assert.Equal(delay, await clock.WaitForTimerAsync());
        clock.Advance(delay);
        return await pending;
    }

    [Fact]
    public async Task Without_credentials_the_answer_is_401_with_a_Basic_challenge()
    {
        var clock = new ManualClock();
        await using var server = await StartWithPasswordAsync(clock);
        var answer = await FailLoginAsync(server, clock, null, TimeSpan.FromMilliseconds(500));
        Assert.Equal(401, answer.Status);
        Assert.StartsWith("Basic realm=", answer.Header("WWW-Authenticate"), StringComparison.Ordinal);
        Assert.Null(answer.Header(RpcGate.SessionIdHeader));
        Assert.Equal(0, server.Transmission.Calls);
    }

    [Fact]
    public async Task A_wrong_password_gets_401_and_the_right_one_200()
    {
        var clock = new ManualClock();
        await using var server = await StartWithPasswordAsync(clock);
        var wrong = await FailLoginAsync(server, clock, TestServer.Basic("admin", "nope"), TimeSpan.FromMilliseconds(500));
        Assert.Equal(401, wrong.Status);
        var wrongUser = await FailLoginAsync(server, clock, TestServer.Basic("root", "secret"), TimeSpan.FromSeconds(1));
        Assert.Equal(401, wrongUser.Status);

        var right = await server.PostAsync(Echo, authorization: TestServer.Basic("admin", "secret"));
        Assert.Equal(200, right.Status);
        Assert.Equal("success", right.Result);
        // The session-id check still applies after the password.
        var noId = await server.PostAsync(Echo, authorization: TestServer.Basic("admin", "secret"), sessionId: null);
        Assert.Equal(409, noId.Status);
        Assert.Equal(server.SessionId, noId.Header(RpcGate.SessionIdHeader));
        Assert.Equal(1, server.Transmission.Calls);
    }

    [Fact]
    public async Task A_wrong_password_is_answered_only_after_a_delay_that_doubles_and_a_success_resets_it()
    {
        var clock = new ManualClock();
        await using var server = await StartWithPasswordAsync(clock);
        string wrong = TestServer.Basic("admin", "guess");

        foreach (TimeSpan expected in new[] { TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4) })
        {
            var pending = server.PostAsync(Echo, authorization: wrong);
            // The server now waits on our clock: nothing can answer until it moves.
            Assert.Equal(expected, await clock.WaitForTimerAsync());
            Assert.False(pending.IsCompleted);
            clock.Advance(expected - TimeSpan.FromMilliseconds(1));
            Assert.Equal(1, clock.PendingTimers);
            Assert.False(pending.IsCompleted);
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(401, (await pending).Status);
        }

        var right = await server.PostAsync(Echo, authorization: TestServer.Basic("admin", "secret"));
        Assert.Equal(200, right.Status);
        Assert.Equal(0, clock.PendingTimers);

        var afterReset = await FailLoginAsync(server, clock, wrong, TimeSpan.FromMilliseconds(500));
        Assert.Equal(401, afterReset.Status);
    }

    // ------------------------------------------------------------------ body cap

    [Fact]
    public async Task A_body_over_the_cap_gets_413_and_the_server_keeps_serving()
    {
        const int cap = 4096;
        await using var server = await TestServer.StartAsync(o => o with { Security = o.Security with { MaxRequestBytes = cap } });

        // Exactly the cap is fine (JSON allows the trailing spaces).
        byte[] atCap = Encoding.UTF8.GetBytes(Echo.PadRight(cap));
        var ok = await RawHttp.SendAsync(server.Tcp, "POST", RpcServer.TransmissionPath,
            [("Host", server.HostHeader), (RpcGate.SessionIdHeader, server.SessionId)], atCap);
        Assert.Equal(200, ok.Status);

        // Announced too large: refused before the body is sent.
        string head = $"POST {RpcServer.TransmissionPath} HTTP/1.1\r\nHost: {server.HostHeader}\r\n{RpcGate.SessionIdHeader}: {server.SessionId}\r\n" +
                      $"Content-Length: {cap + 1}\r\nConnection: close\r\n\r\n";
        var announced = await RawHttp.SendBytesAsync(server.Tcp, Encoding.ASCII.GetBytes(head));
        Assert.Equal(413, announced.Status);

        // Chunked, without a length: refused once the cap is passed.
        string chunkedHead = $"POST {RpcServer.TransmissionPath} HTTP/1.1\r\nHost: {server.HostHeader}\r\n{RpcGate.SessionIdHeader}: {server.SessionId}\r\n" +
                             "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        byte[] chunk = Encoding.ASCII.GetBytes(new string(' ', cap + 1));
        byte[] request = [.. Encoding.ASCII.GetBytes(chunkedHead), .. Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"), .. chunk];
        var chunked = await RawHttp.SendBytesAsync(server.Tcp, request);
        Assert.Equal(413, chunked.Status);

        Assert.Equal(200, (await server.PostAsync(Echo)).Status);
        Assert.Equal(2, server.Transmission.Calls);
    }

    // ------------------------------------------------------------------ refusing to bind

    [Fact]
    public async Task Serving_an_open_address_without_credentials_is_refused_with_a_clear_message()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(o => o with
        {
            TcpEndPoints = [new IPEndPoint(IPAddress.Any, 0)],
        }));
        Assert.Contains("0.0.0.0", e.Message, StringComparison.Ordinal);
        Assert.Contains("without a user and password", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_credentials_an_open_address_is_served()
    {
        var clock = new ManualClock();
        await using var server = await TestServer.StartAsync(o => o with
        {
            TcpEndPoints = [new IPEndPoint(IPAddress.Any, 0)],
            Security = o.Security with { Username = "admin", PasswordHash = Hash },
            Time = clock,
        });
        var bound = server.Tcp;
        Assert.Equal(IPAddress.Any, bound.Address);
        Assert.NotEqual(0, bound.Port);
        // Reached over loopback only.
        var answer = await RawHttp.SendAsync(new IPEndPoint(IPAddress.Loopback, bound.Port), "POST", RpcServer.TransmissionPath,
            [("Host", $"127.0.0.1:{bound.Port}"), (RpcGate.SessionIdHeader, server.SessionId), ("Authorization", TestServer.Basic("admin", "secret"))],
            Encoding.UTF8.GetBytes(Echo));
        Assert.Equal(200, answer.Status);
    }

    [Fact]
    public async Task A_port_in_use_is_an_IOException_naming_the_endpoint()
    {
        await using var first = await TestServer.StartAsync();
        var e = await Assert.ThrowsAsync<IOException>(() => TestServer.StartAsync(o => o with { TcpEndPoints = [first.Tcp] }));
        Assert.Contains(first.Tcp.ToString(), e.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ Unix socket

    [Fact]
    public async Task The_Unix_socket_is_owner_only_and_needs_no_password_but_still_the_session_id()
    {
        var clock = new ManualClock();
        await using var server = await StartWithPasswordAsync(clock, unixSocket: true);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.SocketPath!));
        Assert.Empty(Directory.GetFiles(server.Folder, ".rpc-*"));

        var noId = await server.PostAsync(Echo, host: "localhost", sessionId: null, via: server.Unix);
        Assert.Equal(409, noId.Status);
        Assert.Equal(server.SessionId, noId.Header(RpcGate.SessionIdHeader));
        var answer = await server.PostAsync(Echo, host: "localhost", via: server.Unix);
        Assert.Equal(200, answer.Status);
        Assert.True(answer.Json.GetProperty("arguments").GetProperty("local").GetBoolean());
        // The Host check still applies there.
        Assert.Equal(421, (await server.PostAsync(Echo, host: "evil.example", via: server.Unix)).Status);
        Assert.Equal(0, clock.PendingTimers);

        // Over TCP the same server wants the password.
        var tcp = await FailLoginAsync(server, clock, null, TimeSpan.FromMilliseconds(500));
        Assert.Equal(401, tcp.Status);
        var tcpRight = await server.PostAsync(Echo, authorization: TestServer.Basic("admin", "secret"));
        Assert.False(tcpRight.Json.GetProperty("arguments").GetProperty("local").GetBoolean());
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced_and_the_socket_is_removed_on_stop()
    {
        string folder = RTorrent.Testing.TestPaths.NewTempDir("rt-rpc");
        try
        {
            string path = Path.Combine(folder, "rpc.sock");
            // What a killed daemon leaves behind: a socket file nobody listens on. (.NET removes the file it bound
            // when the socket closes, so it is bound under another name and moved into place first.)
            using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                stale.Bind(new UnixDomainSocketEndPoint(path + ".tmp"));
                File.Move(path + ".tmp", path);
            }
            Assert.True(File.Exists(path));
            await Assert.ThrowsAnyAsync<SocketException>(() =>
                RawHttp.SendAsync(new UnixDomainSocketEndPoint(path), "GET", "/", [("Host", "localhost")]));

            var server = await RpcServer.StartAsync(new RpcServerOptions { UnixSocketPath = path }, new FakeHandler(), new FakeHandler())
                .WaitAsync(TimeSpan.FromSeconds(30));
            try
            {
                var answer = await RawHttp.SendAsync(new UnixDomainSocketEndPoint(path), "POST", RpcServer.TransmissionPath,
                    [("Host", "localhost"), (RpcGate.SessionIdHeader, server.Gate.SessionId)], Encoding.UTF8.GetBytes(Echo));
                Assert.Equal(200, answer.Status);
                Assert.Empty(server.TcpEndPoints);
            }
            finally
            {
                await server.DisposeAsync();
            }
            Assert.False(File.Exists(path));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
