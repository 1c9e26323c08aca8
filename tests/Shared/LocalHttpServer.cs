using System.Net;
using System.Net.Sockets;

namespace RTorrent.Testing;

/// <summary>An HTTP server on 127.0.0.1 answering every GET with what the test set (status and body); counts requests.</summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private volatile byte[] _body = [];
    private volatile int _status = 200;
    private int _requests;

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
                var body = _body;
                context.Response.StatusCode = _status;
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
