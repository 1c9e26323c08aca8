using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RTorrent.Engine.Tests.WebSeeds;

/// <summary>A request as <see cref="ScriptedWebServer"/> read it.</summary>
internal sealed record ScriptedRequest(string Path, string Query, long? RangeStart, long? RangeEnd, int Number);

/// <summary>
/// A raw HTTP/1.1 server on 127.0.0.1 (port 0) whose answers the test writes byte by byte: honest files, wrong bytes,
/// wrong lengths, endless bodies, redirects, 503s. Keep-alive while the handler says so; counts requests and bytes.
/// </summary>
internal sealed class ScriptedWebServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly List<Task> _connections = [];
    private int _requests;
    private long _bytesSent;

    /// <param name="handler">Writes the answer; returns whether the connection stays open for another request.</param>
    public ScriptedWebServer(Func<ScriptedRequest, Stream, CancellationToken, Task<bool>> handler)
    {
        Handler = handler;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptAsync();
    }

    public Func<ScriptedRequest, Stream, CancellationToken, Task<bool>> Handler { get; set; }
    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/";
    public int Requests => Volatile.Read(ref _requests);
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            lock (_connections) _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = new CountingStream(client.GetStream(), this);
        var buffer = new byte[16 * 1024];
        int have = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int end;
                while ((end = IndexOfHeaderEnd(buffer, have)) < 0)
                {
                    if (have == buffer.Length) return; // headers too long for a test
                    int n = await stream.ReadAsync(buffer.AsMemory(have), _stop.Token);
                    if (n == 0) return;
                    have += n;
                }
                var head = Encoding.ASCII.GetString(buffer, 0, end);
                Buffer.BlockCopy(buffer, end + 4, buffer, 0, have - end - 4);
                have -= end + 4;
                var request = Parse(head, Interlocked.Increment(ref _requests));
                if (!await Handler(request, stream, _stop.Token)) return;
                await stream.FlushAsync(_stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private static int IndexOfHeaderEnd(byte[] b, int count)
    {
        for (int i = 0; i + 3 < count; i++)
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') return i;
        return -1;
    }

    private static ScriptedRequest Parse(string head, int number)
    {
        var lines = head.Split("\r\n");
        var target = lines[0].Split(' ')[1];
        int q = target.IndexOf('?');
        string path = Uri.UnescapeDataString(q < 0 ? target : target[..q]);
        string query = q < 0 ? "" : target[(q + 1)..];
        long? start = null, last = null;
        foreach (var line in lines.Skip(1))
        {
            if (!line.StartsWith("Range:", StringComparison.OrdinalIgnoreCase)) continue;
            var spec = line["Range:".Length..].Trim();
            var parts = spec["bytes=".Length..].Split('-');
            start = long.Parse(parts[0], CultureInfo.InvariantCulture);
            last = long.Parse(parts[1], CultureInfo.InvariantCulture);
        }
        return new ScriptedRequest(path, query, start, last, number);
    }

    /// <summary>Writes an answer's status line and headers.</summary>
    public static Task WriteHeadAsync(Stream s, int status, string reason, CancellationToken ct, params string[] headers)
    {
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\n");
        foreach (var h in headers) sb.Append(h).Append("\r\n");
        sb.Append("\r\n");
        return s.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()), ct).AsTask();
    }

    /// <summary>
    /// Answers a ranged GET from the files under <paramref name="root"/> as a correct server would (206 with
    /// Content-Range), after <paramref name="change"/> (a liar's edit) has had the bytes; 404 for a missing file.
    /// </summary>
    public static async Task<bool> ServeFileAsync(string root, ScriptedRequest r, Stream s, CancellationToken ct, Action<byte[]>? change = null)
    {
        var path = Path.Combine(root, r.Path.TrimStart('/'));
        if (!File.Exists(path))
        {
            await WriteHeadAsync(s, 404, "Not Found", ct, "Content-Length: 0");
            return true;
        }
        var all = await File.ReadAllBytesAsync(path, ct);
        long start = r.RangeStart ?? 0, last = r.RangeEnd ?? all.Length - 1;
        var body = all.AsSpan((int)start, (int)(last - start + 1)).ToArray();
        change?.Invoke(body);
        await WriteHeadAsync(s, 206, "Partial Content", ct, $"Content-Range: bytes {start}-{last}/{all.Length}", $"Content-Length: {body.Length}");
        await s.WriteAsync(body, ct);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accept; } catch (Exception) { }
        Task[] open;
        lock (_connections) open = [.. _connections];
        try { await Task.WhenAll(open).WaitAsync(TimeSpan.FromSeconds(10)); } catch (Exception) { }
        _stop.Dispose();
    }

    /// <summary>Counts what the server writes (the hostile tests bound it).</summary>
    private sealed class CountingStream(Stream inner, ScriptedWebServer owner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Interlocked.Add(ref owner._bytesSent, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Interlocked.Add(ref owner._bytesSent, buffer.Length);
        }
    }
}
