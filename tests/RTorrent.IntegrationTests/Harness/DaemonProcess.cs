using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Native;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// A real <c>rtorrent daemon</c> on a session folder of the test's, with its RPC on 127.0.0.1 and everything else kept
/// on this machine (no DHT, no local discovery multicast). Talks to it as clients do: RTorrent's own protocol through
/// the session's socket (<see cref="Attach"/>) and Transmission's RPC over HTTP (<see cref="TransmissionAsync"/>).
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private string? _sessionId;

    private DaemonProcess(RunningProcess process, string home, string session, string downloads, int rpcPort)
    {
        Process = process;
        Home = home;
        Session = session;
        Downloads = downloads;
        RpcPort = rpcPort;
    }

    /// <summary>The process.</summary>
    public RunningProcess Process { get; }

    /// <summary>The HOME-like folder its XDG variables point into.</summary>
    public string Home { get; }

    /// <summary>The session folder.</summary>
    public string Session { get; }

    /// <summary>The default download folder.</summary>
    public string Downloads { get; }

    /// <summary>The RPC's TCP port on 127.0.0.1.</summary>
    public int RpcPort { get; }

    /// <summary>Transmission's RPC URL.</summary>
    public string TransmissionUrl => $"http://127.0.0.1:{RpcPort}/transmission/rpc";

    /// <summary>The session's socket.</summary>
    public string SocketPath => Path.Combine(Session, RemoteTarget.SocketFileName);

    /// <summary>Writes a loopback-only settings.json into <paramref name="session"/> (keeping fields already there).</summary>
    public static void WriteSettings(string session, string downloads, Action<JsonObject>? edit = null)
    {
        Directory.CreateDirectory(session);
        string path = Path.Combine(session, SettingsStore.FileName);
        var json = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : [];
        json["listenPort"] = 0;
        json["dhtEnabled"] = false;
        json["lsdEnabled"] = false;
        json["portForwardingEnabled"] = false; // no SSDP or NAT-PMP to the machine's real network
        json["downloadDirectory"] = downloads;
        edit?.Invoke(json);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Starts a daemon on <paramref name="session"/> (settings written first unless <paramref name="writeSettings"/>
    /// is false) and waits until it says it is ready.
    /// </summary>
    public static async Task<DaemonProcess> StartAsync(TempFolder tmp, ITestOutputHelper? log, string name = "daemon",
        string? session = null, bool writeSettings = true, IReadOnlyDictionary<string, string>? environment = null, params string[] extra)
    {
        string home = tmp.Sub("home");
        session ??= tmp.Sub("session");
        string downloads = tmp.Sub("downloads");
        if (writeSettings) WriteSettings(session, downloads);
        int rpcPort = FreePorts.Tcp();
        var env = RTorrentCli.ProgramEnvironment(home);
        if (environment is not null)
            foreach (var (k, v) in environment) env[k] = v;
        var process = RunningProcess.Start(name, RTorrentCli.DotnetHostPath,
            [RTorrentCli.DllPath, "daemon", "--session", session, "--rpc", $"127.0.0.1:{rpcPort}", .. extra], log, env);
        var daemon = new DaemonProcess(process, home, session, downloads, rpcPort);
        try
        {
            await process.WaitForLineAsync(l => l.Contains("daemon ready", StringComparison.Ordinal), Limits.Startup, "the daemon to be ready");
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
        return daemon;
    }

    /// <summary>RTorrent's own protocol through the session's socket, as the interface attaches.</summary>
    public RemoteBackend Attach() => new(RemoteTarget.ForSession(Session));

    /// <summary>
    /// Calls Transmission's RPC with <paramref name="method"/> and <paramref name="arguments"/> (a JSON object or
    /// null), doing the session-id handshake; returns the whole response envelope.
    /// </summary>
    public async Task<JsonObject> TransmissionAsync(string method, object? arguments = null, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["method"] = method };
        if (arguments is not null) body["arguments"] = JsonSerializer.SerializeToNode(arguments);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, TransmissionUrl)
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            if (_sessionId is not null) request.Headers.Add("X-Transmission-Session-Id", _sessionId);
            using var response = await _http.SendAsync(request, cancellationToken);
            if ((int)response.StatusCode == 409)
            {
                _sessionId = response.Headers.GetValues("X-Transmission-Session-Id").First();
                continue;
            }
            response.EnsureSuccessStatusCode();
            return JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!.AsObject();
        }
        throw new InvalidOperationException("the daemon kept answering 409");
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> StopAsync()
    {
        Process.SendSignal(Posix.SIGTERM);
        return await Process.WaitForExitAsync(Limits.Shutdown);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Process.DisposeAsync();
    }
}
