using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Remote.Security;

namespace RTorrent.Remote.Hosting;

/// <summary>How the RPC is served.</summary>
public sealed record RpcServerOptions
{
    /// <summary>TCP endpoints (port 0 picks a free one; see <see cref="RpcServer.TcpEndPoints"/>).</summary>
    public IReadOnlyList<IPEndPoint> TcpEndPoints { get; init; } = [];

    /// <summary>The Unix socket to serve on (made owner-only), or null.</summary>
    public string? UnixSocketPath { get; init; }

    /// <summary>Serve TCP over HTTPS with this certificate (with its private key); null for plain HTTP.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>A folder with a web client served at <c>/transmission/web/</c>, or null.</summary>
    public string? WebHome { get; init; }

    /// <summary>Access rules.</summary>
    public RpcSecurityOptions Security { get; init; } = new();

    /// <summary>The clock (login delays).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}

/// <summary>
/// The daemon's HTTP server (ASP.NET Core's Kestrel): Transmission's RPC at <c>/transmission/rpc</c>, RTorrent's own
/// protocol at <c>/rtorrent/rpc</c> (what an attached interface speaks), and optionally a web client at
/// <c>/transmission/web/</c>; on TCP endpoints and on a Unix socket in the session folder. Every request passes the
/// <see cref="RpcGate"/> first.
/// </summary>
public sealed class RpcServer : IAsyncDisposable
{
    /// <summary>Transmission's RPC path.</summary>
    public const string TransmissionPath = "/transmission/rpc";

    /// <summary>RTorrent's own protocol.</summary>
    public const string NativePath = "/rtorrent/rpc";

    /// <summary>Where a web client is served.</summary>
    public const string WebPath = "/transmission/web";

    private readonly WebApplication _app;
    private readonly string? _socketPath;

    private RpcServer(WebApplication app, RpcGate gate, string? socketPath, IReadOnlyList<IPEndPoint> bound)
    {
        _app = app;
        Gate = gate;
        _socketPath = socketPath;
        TcpEndPoints = bound;
    }

    /// <summary>The checks every request passes (and the session id clients must send).</summary>
    public RpcGate Gate { get; }

    /// <summary>The TCP endpoints actually listened on (ports resolved).</summary>
    public IReadOnlyList<IPEndPoint> TcpEndPoints { get; }

    /// <summary>
    /// Starts serving. Returns once every endpoint listens.
    /// </summary>
    /// <exception cref="IOException">An endpoint could not be bound (in use, no permission); the message says which.</exception>
    /// <exception cref="InvalidOperationException">
    /// The options are unsafe (see <see cref="RpcSecurityOptions.RefuseBinding"/>) or unusable (an address allow-list
    /// entry that is no address); the message says which.
    /// </exception>
    public static async Task<RpcServer> StartAsync(RpcServerOptions options, IRpcHandler transmission, IRpcHandler native,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Security.RefuseBinding(options.TcpEndPoints) is { } refusal) throw new InvalidOperationException(refusal);
        RpcGate gate;
        try
        {
            gate = new RpcGate(options.Security, options.Time);
        }
        catch (FormatException e)
        {
            // The daemon reports InvalidOperationException in one line; a FormatException escaped it with a stack trace.
            throw new InvalidOperationException($"rpcAddressAllowList: {e.Message}", e);
        }
        ILogger logger = options.LoggerFactory.CreateLogger("rtorrent.rpc");

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "rtorrent" });
        builder.Services.AddSingleton(options.LoggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore();
        if (options.Certificate is not null) builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = CreateBoundListenSocket);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.Security.MaxRequestBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Limits.MaxConcurrentConnections = 256;
            foreach (IPEndPoint ep in options.TcpEndPoints)
                k.Listen(ep, l =>
                {
                    if (options.Certificate is not null) l.UseHttps(options.Certificate);
                });
            if (options.UnixSocketPath is { } socket) k.ListenUnixSocket(socket);
        });

        var app = builder.Build();
        var staticFiles = options.WebHome is { } home ? StaticFilesFor(home, app.Services) : null;
        app.Run(async context =>
        {
            string path = context.Request.Path.Value ?? "/";
            // transmission-remote posts to /transmission/rpc/ (Transmission matches the path by its start).
            if (path == TransmissionPath + "/") path = TransmissionPath;
            bool rpc = path == TransmissionPath || path == NativePath;
            if (!await gate.AdmitAsync(context, needsSessionId: rpc).ConfigureAwait(false)) return;
            if (path == TransmissionPath) await RpcMessages.HandleAsync(context, transmission, logger).ConfigureAwait(false);
            else if (path == NativePath) await RpcMessages.HandleAsync(context, native, logger).ConfigureAwait(false);
            else if (staticFiles is not null && (path == "/" || path == "/transmission" || path == "/transmission/" || path == WebPath))
                context.Response.Redirect(WebPath + "/", permanent: true);
            else if (staticFiles is not null && path.StartsWith(WebPath + "/", StringComparison.Ordinal))
                await staticFiles(context).ConfigureAwait(false);
            else
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
            }
        });

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            string where = string.Join(", ", options.TcpEndPoints.Select(ep => ep.ToString()).Concat(
                options.UnixSocketPath is null ? [] : [options.UnixSocketPath]));
            throw new IOException($"cannot serve the RPC on {where}: {Inner(e).Message}", e);
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var bound = new List<IPEndPoint>();
        foreach (string address in addresses)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme.StartsWith("http+unix", StringComparison.Ordinal)) continue;
            if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip)) bound.Add(new IPEndPoint(ip, uri.Port));
        }
        return new RpcServer(app, gate, options.UnixSocketPath, bound);
    }

    private static Exception Inner(Exception e) => e.InnerException is { } inner && e is not SocketException ? Inner(inner) : e;

    /// <summary>
    /// Kestrel's own socket, except for the Unix socket: that one is bound under a temporary name, made owner-only
    /// (0600), and only then renamed into place, so no other user can connect in the moment between bind and chmod.
    /// </summary>
    private static Socket CreateBoundListenSocket(EndPoint endPoint)
    {
        if (endPoint is not UnixDomainSocketEndPoint unix) return SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        string path = unix.ToString();
        string temporary = Path.Combine(Path.GetDirectoryName(path) ?? ".", $".rpc-{Environment.ProcessId}.sock");
        File.Delete(temporary);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(temporary));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temporary, path, overwrite: true);
            return socket;
        }
        catch
        {
            socket.Dispose();
            File.Delete(temporary);
            throw;
        }
    }

    private static RequestDelegate StaticFilesFor(string webHome, IServiceProvider services)
    {
        if (!Directory.Exists(webHome)) throw new DirectoryNotFoundException($"the web client folder {webHome} does not exist");
        var files = new PhysicalFileProvider(Path.GetFullPath(webHome));
        // The app's own services: the static-file middlewares need its IWebHostEnvironment and logging.
        var branch = new ApplicationBuilder(services);
        branch.UsePathBase(WebPath);
        branch.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        branch.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
        branch.Run(c =>
        {
            c.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return branch.Build();
    }

    /// <summary>Stops serving (requests under way get a moment to finish) and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
        {
            try { await _app.StopAsync(cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { /* a stuck request does not hold the shutdown */ }
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_socketPath is not null)
        {
            try { File.Delete(_socketPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* gone already */ }
        }
    }
}
