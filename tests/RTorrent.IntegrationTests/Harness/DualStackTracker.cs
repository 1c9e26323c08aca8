using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Bencode;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// A small HTTP tracker on any address, IPv6 included (Debian's opentracker is built IPv4-only: "V4 Tracker is V4
/// only!"). It tracks every info-hash announced to it: the peer is the address the announce came from with its
/// <c>port=</c>, and the answer lists the others compactly, IPv4 ones in <c>peers</c> and IPv6 ones in <c>peers6</c>
/// (BEP 7). Each announce's query string is kept for the test to read.
/// </summary>
internal sealed class DualStackTracker : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<IPEndPoint, byte>> _swarms = new();
    private readonly ConcurrentQueue<Announce> _announces = new();

    /// <summary>One announce as received.</summary>
    public sealed record Announce(IPEndPoint From, string InfoHashHex, string Query, IReadOnlyDictionary<string, string> Parameters);

    public DualStackTracker(IPAddress address)
    {
        _listener = new TcpListener(address, 0);
        if (address.AddressFamily == AddressFamily.InterNetworkV6) _listener.Server.DualMode = false;
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _loop = Task.Run(AcceptAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>http://[addr]:port/announce (or addr:port for IPv4).</summary>
    public string AnnounceUrl => $"http://{EndPoint}/announce";

    public IReadOnlyList<Announce> Announces => [.. _announces];

    /// <summary>The peers it knows for a torrent.</summary>
    public IReadOnlyList<IPEndPoint> PeersOf(string infoHashHex) =>
        _swarms.TryGetValue(infoHashHex.ToLowerInvariant(), out var s) ? [.. s.Keys] : [];

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                var stream = client.GetStream();
                var buffer = new byte[8192];
                int n = 0;
                while (n < buffer.Length)
                {
                    int read = await stream.ReadAsync(buffer.AsMemory(n), timeout.Token);
                    if (read == 0) break;
                    n += read;
                    if (Encoding.ASCII.GetString(buffer, 0, n).Contains("\r\n\r\n", StringComparison.Ordinal)) break;
                }
                var requestLine = Encoding.ASCII.GetString(buffer, 0, n).Split("\r\n")[0];
                var target = requestLine.Split(' ')[1];
                var from = (IPEndPoint)client.Client.RemoteEndPoint!;
                byte[] body = target.StartsWith("/announce", StringComparison.Ordinal) ? Answer(target, from) : Encoding.ASCII.GetBytes("d14:failure reason9:not founde");
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(head, timeout.Token);
                await stream.WriteAsync(body, timeout.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or IndexOutOfRangeException) { }
        }
    }

    private byte[] Answer(string target, IPEndPoint from)
    {
        int q = target.IndexOf('?');
        string query = q < 0 ? "" : target[(q + 1)..];
        var parameters = new Dictionary<string, string>();
        byte[]? hash = null;
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq], value = eq < 0 ? "" : part[(eq + 1)..];
            if (key == "info_hash") hash = System.Web.HttpUtility.UrlDecodeToBytes(value);
            else parameters[key] = Uri.UnescapeDataString(value);
        }
        if (hash is not { Length: 20 } || !parameters.TryGetValue("port", out var portText) || !int.TryParse(portText, out int port))
            return Encoding.ASCII.GetBytes("d14:failure reason13:bad announcee");
        string hex = Convert.ToHexStringLower(hash);
        var address = from.Address.IsIPv4MappedToIPv6 ? from.Address.MapToIPv4() : from.Address;
        var peer = new IPEndPoint(address, port);
        _announces.Enqueue(new Announce(peer, hex, query, parameters));
        var swarm = _swarms.GetOrAdd(hex, _ => new());
        var others = swarm.Keys.Where(p => !p.Equals(peer)).ToList();
        if (parameters.GetValueOrDefault("event") == "stopped") swarm.TryRemove(peer, out _);
        else swarm[peer] = 0;
        return BencodeWriter.Encode(new BDictionary
        {
            ["interval"] = new BInteger(60),
            ["min interval"] = new BInteger(5),
            ["peers"] = new BString(Compact(others, AddressFamily.InterNetwork)),
            ["peers6"] = new BString(Compact(others, AddressFamily.InterNetworkV6)),
        });
    }

    private static byte[] Compact(IEnumerable<IPEndPoint> peers, AddressFamily family)
    {
        var bytes = new List<byte>();
        foreach (var p in peers.Where(p => p.AddressFamily == family))
        {
            bytes.AddRange(p.Address.GetAddressBytes());
            bytes.Add((byte)(p.Port >> 8));
            bytes.Add((byte)p.Port);
        }
        return [.. bytes];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
