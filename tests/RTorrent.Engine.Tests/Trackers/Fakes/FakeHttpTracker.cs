using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Tests.Trackers.Fakes;

/// <summary>A request as the fake tracker saw it: the raw target and the query decoded to bytes.</summary>
internal sealed class FakeHttpRequest
{
    public required string Target { get; init; }
    public required string Path { get; init; }
    public required IReadOnlyList<KeyValuePair<string, byte[]>> Query { get; init; }

    /// <summary>When it arrived, by the tracker's <see cref="FakeHttpTracker.Clock"/>.</summary>
    public DateTimeOffset At { get; init; }

    public byte[]? Bytes(string name) => Query.FirstOrDefault(q => q.Key == name).Value;

    public string? Text(string name) => Bytes(name) is { } b ? Encoding.UTF8.GetString(b) : null;

    public IEnumerable<byte[]> All(string name) => Query.Where(q => q.Key == name).Select(q => q.Value);
}

/// <summary>What the fake tracker answers.</summary>
internal sealed record FakeHttpResponse
{
    public int Status { get; init; } = 200;
    public string Reason { get; init; } = "OK";
    public byte[] Body { get; init; } = [];
    public string ContentType { get; init; } = "text/plain";
    public string? Location { get; init; }

    /// <summary>Declared Content-Length when it should lie (truncated answers).</summary>
    public long? ContentLength { get; init; }

    /// <summary>Send no Content-Length: the body ends when the connection closes.</summary>
    public bool OmitContentLength { get; init; }

    /// <summary>Never answer (until the tracker is disposed).</summary>
    public bool Hang { get; init; }

    /// <summary>Answer nothing and reset the connection (as opentracker sometimes does), instead of closing it.</summary>
    public bool Reset { get; init; }

    public static FakeHttpResponse Bencoded(BValue value) => new() { Body = BencodeWriter.Encode(value) };

    public static FakeHttpResponse Raw(string body, int status = 200, string reason = "OK", string contentType = "text/plain") =>
        new() { Body = Encoding.UTF8.GetBytes(body), Status = status, Reason = reason, ContentType = contentType };
}

/// <summary>
/// An HTTP tracker on 127.0.0.1 (free port) that writes raw HTTP/1.1 answers, so tests can send anything: garbage,
/// truncated bodies, HTML error pages, or nothing at all.
/// </summary>
internal sealed class FakeHttpTracker : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly ConcurrentQueue<FakeHttpRequest> _requests = new();
    private int _connections;
    private int _serving;
    private int _maxServing;

    public FakeHttpTracker(Func<FakeHttpRequest, FakeHttpResponse>? handler = null)
    {
        Handler = handler ?? (_ => FakeHttpResponse.Bencoded(new BDictionary { ["interval"] = new BInteger(1800), ["peers"] = new BString(ReadOnlyMemory<byte>.Empty) }));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public Func<FakeHttpRequest, FakeHttpResponse> Handler { get; set; }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public string AnnounceUrl => BaseUrl + "/announce";

    public IReadOnlyList<FakeHttpRequest> Requests => [.. _requests];

    public int RequestCount => _requests.Count;

    /// <summary>Keep connections open for further requests (HTTP/1.1 keep-alive) instead of closing after each answer.</summary>
    public bool KeepAlive { get; set; }

    /// <summary>
    /// Close each connection after answering without a <c>Connection: close</c> header, as opentracker does: a client
    /// that keeps the connection for its next request finds it closed.
    /// </summary>
    public bool ClosesSilently { get; set; }

    /// <summary>Stamps each request's <see cref="FakeHttpRequest.At"/>.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>TCP connections accepted so far.</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>The most requests that were being answered at once (a request counts from its head until its answer is written).</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxServing);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            client.NoDelay = true;
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            do
            {
                if (!await ServeOneAsync(client, stream)) return;
            }
            while (KeepAlive);
        }
        catch (Exception)
        {
            // The client went away or the tracker is shutting down.
        }
    }

    /// <summary>Reads one request and answers it; false when the connection is done.</summary>
    private async Task<bool> ServeOneAsync(TcpClient client, NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!EndsWithBlankLine(head))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0) return false;
            head.Add(one[0]);
            if (head.Count > 64 * 1024) return false;
        }
        int serving = Interlocked.Increment(ref _serving);
        for (int max = Volatile.Read(ref _maxServing); serving > max; max = Volatile.Read(ref _maxServing))
            if (Interlocked.CompareExchange(ref _maxServing, serving, max) == max) break;
        try
        {
            string requestLine = Encoding.ASCII.GetString([.. head]).Split("\r\n")[0];
            string target = requestLine.Split(' ')[1];
            var request = Parse(target, Clock.GetUtcNow());
            _requests.Enqueue(request);
            var response = Handler(request);
            if (response.Reset)
            {
                client.Client.LingerState = new LingerOption(true, 0); // close with RST
                client.Client.Close();
                return false;
            }
            if (response.Hang)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
                return false;
            }
            bool keep = KeepAlive && !response.OmitContentLength && response.ContentLength is null;
            var sb = new StringBuilder();
            sb.Append($"HTTP/1.1 {response.Status} {response.Reason}\r\n");
            sb.Append($"Content-Type: {response.ContentType}\r\n");
            if (!response.OmitContentLength) sb.Append($"Content-Length: {response.ContentLength ?? response.Body.Length}\r\n");
            if (response.Location is not null) sb.Append($"Location: {response.Location}\r\n");
            sb.Append(keep ? "Connection: keep-alive\r\n\r\n" : ClosesSilently ? "\r\n" : "Connection: close\r\n\r\n");
            // One write: a head and a body written apart meet Nagle and delayed ACKs on a kept-alive connection (40 ms each).
            await stream.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()).Concat(response.Body).ToArray(), _stop.Token);
            await stream.FlushAsync(_stop.Token);
            if (keep) return true;
            client.Client.Shutdown(SocketShutdown.Send);
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _serving);
        }
    }

    private static bool EndsWithBlankLine(List<byte> b) =>
        b.Count >= 4 && b[^4] == '\r' && b[^3] == '\n' && b[^2] == '\r' && b[^1] == '\n';

    private static FakeHttpRequest Parse(string target, DateTimeOffset at)
    {
        int q = target.IndexOf('?');
        string path = q >= 0 ? target[..q] : target;
        var query = new List<KeyValuePair<string, byte[]>>();
        if (q >= 0)
        {
            foreach (var part in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = part.IndexOf('=');
                string name = eq >= 0 ? part[..eq] : part;
                string value = eq >= 0 ? part[(eq + 1)..] : "";
                query.Add(new(name, PercentDecode(value)));
            }
        }
        return new FakeHttpRequest { Target = target, Path = path, Query = query, At = at };
    }

    private static byte[] PercentDecode(string value)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length)
            {
                bytes.Add(Convert.ToByte(value.Substring(i + 1, 2), 16));
                i += 2;
            }
            else if (value[i] > 127)
            {
                throw new InvalidOperationException($"Unescaped non-ASCII character in query: {value}");
            }
            else
            {
                bytes.Add((byte)value[i]);
            }
        }
        return [.. bytes];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _accepting; } catch (Exception) { }
        _stop.Dispose();
    }
}
