using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using RTorrent.Engine.Session;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Native;

namespace RTorrent.Remote.Tests.Infrastructure;

/// <summary>A daemon's RPC side over any <see cref="ITorrentBackend"/>: journal, native handler and a server on a Unix socket.</summary>
internal sealed class NativeDaemon : IAsyncDisposable
{
    private NativeDaemon(RpcServer server, SnapshotJournal journal)
    {
        Server = server;
        Journal = journal;
    }

    public RpcServer Server { get; }
    public SnapshotJournal Journal { get; }

    /// <summary>Serves <paramref name="backend"/> on <paramref name="socketPath"/>; every session request takes a fresh snapshot.</summary>
    public static async Task<NativeDaemon> StartAsync(ITorrentBackend backend, string socketPath, Func<HelloResult>? hello = null)
    {
        var journal = new SnapshotJournal(backend, TimeProvider.System, TimeSpan.Zero);
        hello ??= () => new HelloResult
        {
            ProgramVersion = "test",
            HostName = "test-host",
            Pickers = backend.PickerNames,
            Storages = backend.StorageNames,
            Plugins = backend.Plugins,
            CanStopDaemon = backend.Info.CanStopDaemon,
        };
        var native = new NativeRpcHandler(backend, journal, hello);
        var server = await RpcServer.StartAsync(new RpcServerOptions { UnixSocketPath = socketPath }, new FakeHandler(), native)
            .WaitAsync(TimeSpan.FromSeconds(30));
        return new NativeDaemon(server, journal);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// The client's HTTP handler: to a Unix socket (as RemoteBackend's own), counting connection attempts, and keeping
/// each exchange (method sent, JSON answered) so tests can see what travelled.
/// </summary>
internal sealed class WireRecorder : DelegatingHandler
{
    private readonly Lock _lock = new();
    private readonly List<(string Method, JsonElement? Answer)> _exchanges = [];
    private readonly StrongBox<int> _connects;

    public WireRecorder(string socketPath) : this(socketPath, new StrongBox<int>())
    {
    }

    private WireRecorder(string socketPath, StrongBox<int> connects) : base(UnixHandler(socketPath, connects))
    {
        _connects = connects;
    }

    private static SocketsHttpHandler UnixHandler(string socketPath, StrongBox<int> connects) => new()
    {
        UseProxy = false,
        UseCookies = false,
        ConnectCallback = async (_, ct) =>
        {
            Interlocked.Increment(ref connects.Value);
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Connection attempts (successful or not).</summary>
    public int Connects => Volatile.Read(ref _connects.Value);

    /// <summary>Requests sent.</summary>
    public int Requests
    {
        get
        {
            lock (_lock) return _exchanges.Count;
        }
    }

    /// <summary>The answers to <paramref name="method"/> (their <c>arguments</c>), oldest first.</summary>
    public IReadOnlyList<JsonElement> Answers(string method)
    {
        lock (_lock) return _exchanges.Where(e => e.Method == method && e.Answer is not null).Select(e => e.Answer!.Value).ToArray();
    }

    /// <summary>The last answer to <c>session</c>.</summary>
    public JsonElement LastSession => Answers(NativeProtocol.Methods.Session)[^1];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string method = "?";
        if (request.Content is not null)
        {
            using var sent = JsonDocument.Parse(await request.Content.ReadAsByteArrayAsync(cancellationToken));
            method = sent.RootElement.GetProperty("method").GetString() ?? "?";
        }
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch
        {
            lock (_lock) _exchanges.Add((method, null));
            throw;
        }
        JsonElement? answer = null;
        if (response.StatusCode == System.Net.HttpStatusCode.OK)
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            answer = doc.RootElement.GetProperty("arguments").Clone();
        }
        lock (_lock) _exchanges.Add((method, answer));
        return response;
    }
}
