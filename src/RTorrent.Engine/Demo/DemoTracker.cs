using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Demo;

/// <summary>
/// A minimal HTTP tracker for the demo, on 127.0.0.1: it remembers who announced each info-hash and answers with
/// compact peer lists. Raw sockets rather than HttpListener keep it dependency-free and small.
/// </summary>
public sealed class DemoTracker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Dictionary<string, Dictionary<IPEndPoint, bool>> _swarms = [];
    private readonly CancellationTokenSource _cts = new();

    /// <summary>The announce URL.</summary>
    public string AnnounceUrl { get; private set; } = "";

    /// <summary>Starts listening.</summary>
    public void Start()
    {
        _listener.Start();
        AnnounceUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/announce";
        _ = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_cts.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[8192];
                int n = 0;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                while (n < buffer.Length)
                {
                    int r = await stream.ReadAsync(buffer.AsMemory(n), timeout.Token);
                    if (r == 0) break;
                    n += r;
                    if (Encoding.ASCII.GetString(buffer, 0, n).Contains("\r\n\r\n")) break;
                }
                var request = Encoding.ASCII.GetString(buffer, 0, n);
                var target = request.Split(' ', 3) is { Length: >= 2 } parts ? parts[1] : "/";
                var body = Answer(target, ((IPEndPoint)client.Client.RemoteEndPoint!).Address);
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(head, timeout.Token);
                await stream.WriteAsync(body, timeout.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
        }
    }

    private byte[] Answer(string target, IPAddress from)
    {
        int q = target.IndexOf('?');
        var query = q < 0 ? "" : target[(q + 1)..];
        string? hash = null;
        int port = 0;
        bool stopped = false, seed = false;
        foreach (var kv in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (k, v) = kv.IndexOf('=') is int eq and >= 0 ? (kv[..eq], kv[(eq + 1)..]) : (kv, "");
            switch (k)
            {
                case "info_hash": hash = Convert.ToHexString(DecodePercent(v)); break;
                case "port": int.TryParse(v, out port); break;
                case "event": stopped = v == "stopped"; break;
                case "left": seed = v == "0"; break;
            }
        }
        if (hash is null || port is <= 0 or > 65535)
            return BencodeWriter.Encode(new BDictionary { ["failure reason"] = new BString("info_hash and port are required") });
        var me = new IPEndPoint(from, port);
        List<IPEndPoint> peers;
        int complete, incomplete;
        lock (_swarms)
        {
            if (!_swarms.TryGetValue(hash, out var swarm)) _swarms[hash] = swarm = [];
            if (stopped) swarm.Remove(me);
            else swarm[me] = seed;
            peers = swarm.Keys.Where(p => !p.Equals(me)).ToList();
            complete = swarm.Values.Count(s => s);
            incomplete = swarm.Count - complete;
        }
        return BencodeWriter.Encode(new BDictionary
        {
            ["complete"] = new BInteger(complete),
            ["incomplete"] = new BInteger(incomplete),
            ["interval"] = new BInteger(60),
            ["min interval"] = new BInteger(10),
            ["peers"] = new BString(CompactPeers.Encode(peers, AddressFamily.InterNetwork)),
        });
    }

    private static byte[] DecodePercent(string s)
    {
        var bytes = new List<byte>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '%' && i + 2 < s.Length && Uri.IsHexDigit(s[i + 1]) && Uri.IsHexDigit(s[i + 2]))
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.Add(s[i] == '+' ? (byte)' ' : (byte)s[i]);
        }
        return bytes.ToArray();
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _cts.Cancel();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
