using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Security;
using RTorrent.Testing;

namespace RTorrent.Remote.Tests.Infrastructure;

/// <summary>
/// A small RPC handler for the server tests: <c>echo</c> answers with what it got, <c>hello</c> as a native daemon
/// would, <c>boom</c> throws, <c>refuse</c> refuses, <c>half</c> writes half an answer and throws; anything else is
/// Transmission's "method name not recognized".
/// </summary>
internal sealed class FakeHandler : IRpcHandler
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<string> HandleAsync(RpcCall call, Utf8JsonWriter arguments, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        switch (call.Method)
        {
            case "echo":
                arguments.WriteStartObject();
                arguments.WriteString("method", call.Method);
                arguments.WriteBoolean("local", call.IsLocalSocket);
                arguments.WritePropertyName("arguments");
                call.Arguments.WriteTo(arguments);
                arguments.WriteEndObject();
                return ValueTask.FromResult("success");
            case "hello":
                arguments.WriteStartObject();
                arguments.WriteNumber("protocol", RTorrent.Remote.Native.NativeProtocol.Version);
                arguments.WriteString("programVersion", "test");
                arguments.WriteEndObject();
                return ValueTask.FromResult("success");
            case "boom":
                throw new InvalidOperationException("kaboom");
            case "refuse":
                throw new RpcException("no thanks");
            case "half":
                arguments.WriteStartObject();
                arguments.WritePropertyName("partial");
                arguments.WriteStartArray();
                arguments.WriteNumberValue(1);
                throw new InvalidOperationException("broke halfway");
            case "half-refuse":
                arguments.WriteStartObject();
                arguments.WriteString("partial", "yes");
                throw new RpcException("refused halfway");
            default:
                return ValueTask.FromResult("method name not recognized");
        }
    }
}

/// <summary>A real <see cref="RpcServer"/> on 127.0.0.1 (port chosen by the system) and optionally a Unix socket, in a temp folder.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(RpcServer server, string folder, FakeHandler transmission, FakeHandler native, string? socketPath)
    {
        Server = server;
        Folder = folder;
        Transmission = transmission;
        Native = native;
        SocketPath = socketPath;
    }

    public RpcServer Server { get; }
    public string Folder { get; }
    public FakeHandler Transmission { get; }
    public FakeHandler Native { get; }
    public string? SocketPath { get; }

    public IPEndPoint Tcp => Server.TcpEndPoints.Single();
    public EndPoint Unix => new UnixDomainSocketEndPoint(SocketPath ?? throw new InvalidOperationException("no socket"));
    public string SessionId => Server.Gate.SessionId;
    public string HostHeader => $"127.0.0.1:{Tcp.Port}";

    /// <summary>Starts a server; <paramref name="configure"/> adjusts the options (TCP on 127.0.0.1:0 by default).</summary>
    public static async Task<TestServer> StartAsync(Func<RpcServerOptions, RpcServerOptions>? configure = null, bool unixSocket = false,
        string? folder = null)
    {
        folder ??= TestPaths.NewTempDir("rt-rpc");
        string? socket = unixSocket ? Path.Combine(folder, "rpc.sock") : null;
        var options = new RpcServerOptions { TcpEndPoints = [new IPEndPoint(IPAddress.Loopback, 0)], UnixSocketPath = socket };
        if (configure is not null) options = configure(options);
        var transmission = new FakeHandler();
        var native = new FakeHandler();
        try
        {
            var server = await RpcServer.StartAsync(options, transmission, native).WaitAsync(TimeSpan.FromSeconds(30));
            return new TestServer(server, folder, transmission, native, socket);
        }
        catch
        {
            Directory.Delete(folder, true);
            throw;
        }
    }

    public static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    /// <summary>Posts <paramref name="json"/> to an RPC path with the right Host and session id unless told otherwise.</summary>
    public Task<HttpAnswer> PostAsync(string json, string? host = "", string? sessionId = "", string? authorization = null,
        string path = RpcServer.TransmissionPath, EndPoint? via = null)
    {
        var headers = new List<(string, string)>();
        if (host is not null) headers.Add(("Host", host.Length == 0 ? HostHeader : host));
        if (sessionId is not null) headers.Add((RpcGate.SessionIdHeader, sessionId.Length == 0 ? SessionId : sessionId));
        if (authorization is not null) headers.Add(("Authorization", authorization));
        headers.Add(("Content-Type", "application/json"));
        return RawHttp.SendAsync(via ?? Tcp, "POST", path, headers, Encoding.UTF8.GetBytes(json));
    }

    /// <summary>GETs <paramref name="path"/> with the right Host (and nothing else).</summary>
    public Task<HttpAnswer> GetAsync(string path, params (string, string)[] extra) =>
        RawHttp.SendAsync(Tcp, "GET", path, [("Host", HostHeader), .. extra]);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(Folder, true); }
        catch (IOException) { /* left in /tmp */ }
    }
}
