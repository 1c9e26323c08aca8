using System.Net;
using System.Net.Sockets;

namespace RTorrent.Testing;

/// <summary>
/// An HTTP server on 127.0.0.1 answering every GET with what the test set (status and body), or with what it set for
/// that path (<see cref="ServeAt"/>); counts requests, in all and per path.
/// </summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private volatile byte[] _body = [];
    private volatile int _status = 200;
    private int _requests;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (byte[] Body, int Status, string? Location)> _paths = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _perPath = new();

    public LocalHttpServer()
    {
        // A free port: bind, read, release (HttpListener cannot be asked for port 0).
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/list.txt";
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5) { }
        }
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; private set; }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The server's root, <c>http://127.0.0.1:PORT</c> (no trailing slash).</summary>
    public string Root => Url[..Url.IndexOf('/', "http://".Length)];

    /// <summary>Requests for one path (<c>/feed.xml</c>).</summary>
    public int RequestsFor(string path) => _perPath.TryGetValue(path, out var n) ? n : 0;

    /// <summary>Answers GETs of <paramref name="path"/> (<c>/feed.xml</c>) with this body; returns its URL.</summary>
    public string ServeAt(string path, byte[] body, int status = 200)
    {
        _paths[path] = (body, status, null);
        return Root + path;
    }

    /// <summary>Answers GETs of <paramref name="path"/> with this text (UTF-8); returns its URL.</summary>
    public string ServeAt(string path, string body, int status = 200) => ServeAt(path, System.Text.Encoding.UTF8.GetBytes(body), status);

    /// <summary>Answers GETs of <paramref name="path"/> with a 302 to <paramref name="location"/>; returns its URL.</summary>
    public string RedirectAt(string path, string location)
    {
        _paths[path] = ([], 302, location);
        return Root + path;
    }

    public void Serve(byte[] body, int status = 200)
    {
        _body = body;
        _status = status;
    }

    public void Serve(string body, int status = 200) => Serve(System.Text.Encoding.UTF8.GetBytes(body), status);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            Interlocked.Increment(ref _requests);
            try
            {
                var path = context.Request.Url?.AbsolutePath ?? "/";
                _perPath.AddOrUpdate(path, 1, (_, n) => n + 1);
                var body = _body;
                int status = _status;
                if (_paths.TryGetValue(path, out var set))
                {
                    body = set.Body;
                    status = set.Status;
                    if (set.Location is { } location) context.Response.RedirectLocation = location;
                }
                context.Response.StatusCode = status;
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
