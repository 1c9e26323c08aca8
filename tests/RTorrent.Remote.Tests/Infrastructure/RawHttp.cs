using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace RTorrent.Remote.Tests.Infrastructure;

/// <summary>An HTTP response as it came off the wire.</summary>
internal sealed record HttpAnswer(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    /// <summary>The body as JSON (fails the test when it is not valid JSON).</summary>
    public JsonElement Json
    {
        get
        {
            using var doc = JsonDocument.Parse(Body);
            return doc.RootElement.Clone();
        }
    }

    /// <summary>The <c>result</c> string of an RPC envelope.</summary>
    public string? Result => Json.GetProperty("result").GetString();

    public override string ToString() => $"{Status} {Text}";
}

/// <summary>
/// Hand-written HTTP/1.x over a plain socket (TCP or Unix), so that nothing is added to the request behind the test's
/// back (no Host, no Connection, no Expect). Each request uses a connection of its own, closed by the server
/// (<c>Connection: close</c>), and is bounded in time.
/// </summary>
internal static class RawHttp
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Sends <paramref name="method"/> <paramref name="path"/> with exactly <paramref name="headers"/> (plus
    /// Content-Length when there is a body, and Connection: close).
    /// </summary>
    public static Task<HttpAnswer> SendAsync(EndPoint server, string method, string path, IEnumerable<(string Name, string Value)> headers,
        byte[]? body = null, string version = "HTTP/1.1")
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(path).Append(' ').Append(version).Append("\r\n");
        foreach (var (name, value) in headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        if (body is not null) head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        head.Append("Connection: close\r\n\r\n");
        byte[] bytes = [.. Encoding.ASCII.GetBytes(head.ToString()), .. body ?? []];
        return SendBytesAsync(server, bytes);
    }

    /// <summary>Sends <paramref name="request"/> as is and reads the response until the server closes.</summary>
    public static async Task<HttpAnswer> SendBytesAsync(EndPoint server, byte[] request)
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = server is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cts.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(request, cts.Token);
        await stream.FlushAsync(cts.Token);
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0) break;
                received.Write(buffer, 0, n);
                // Stop as soon as a complete response is in (the server may keep the connection open).
                if (TryParse(received.ToArray(), closed: false, out _)) break;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no complete response within {Timeout.TotalSeconds} s; got: {Encoding.UTF8.GetString(received.ToArray())}");
        }
        var all = received.ToArray();
        return TryParse(all, closed: true, out var answer) ? answer!
            : throw new InvalidDataException($"not a complete HTTP response: '{Encoding.UTF8.GetString(all)}'");
    }

    private static bool TryParse(byte[] data, bool closed, out HttpAnswer? answer)
    {
        answer = null;
        int end = IndexOf(data, "\r\n\r\n"u8, 0);
        if (end < 0) return false;
        string[] lines = Encoding.ASCII.GetString(data, 0, end).Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        int code = int.Parse(status[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var before) ? before + ", " + value : value;
        }
        int bodyStart = end + 4;
        byte[] body;
        if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            using var decoded = new MemoryStream();
            int pos = bodyStart;
            while (true)
            {
                int lineEnd = IndexOf(data, "\r\n"u8, pos);
                if (lineEnd < 0) return false;
                int size = Convert.ToInt32(Encoding.ASCII.GetString(data, pos, lineEnd - pos).Split(';')[0].Trim(), 16);
                pos = lineEnd + 2;
                if (size == 0) break;
                if (data.Length < pos + size + 2) return false;
                decoded.Write(data, pos, size);
                pos += size + 2;
            }
            body = decoded.ToArray();
        }
        else if (headers.TryGetValue("Content-Length", out var cl))
        {
            int length = int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture);
            if (data.Length < bodyStart + length) return false;
            body = data.AsSpan(bodyStart, length).ToArray();
        }
        else if (code is 204 or 304 or (>= 100 and < 200))
        {
            body = [];
        }
        else
        {
            if (!closed) return false; // the body runs until the server closes
            body = data.AsSpan(bodyStart).ToArray();
        }
        answer = new HttpAnswer(code, headers, body);
        return true;
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> what, int from)
    {
        int i = data.AsSpan(from).IndexOf(what);
        return i < 0 ? -1 : i + from;
    }
}
