using System.Security.Cryptography.X509Certificates;

namespace RTorrent.Remote.Native;

/// <summary>
/// Where a daemon is: the Unix socket in a session folder (same machine, same user), or a URL
/// (<c>http://host:9091</c>, <c>https://user:password@seedbox.example:9091</c>, or behind a reverse proxy with a path
/// prefix such as <c>https://seedbox.example/rtorrent/</c>).
/// </summary>
public sealed record RemoteTarget
{
    /// <summary>The socket's file name in a session folder.</summary>
    public const string SocketFileName = "rpc.sock";

    /// <summary>A Unix socket path, or null for a URL target.</summary>
    public string? SocketPath { get; init; }

    /// <summary>The daemon's base URL (scheme, host, port and any path prefix, ending in '/'), or null for a socket.</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>Basic-auth user, or null.</summary>
    public string? User { get; init; }

    /// <summary>Basic-auth password, or null.</summary>
    public string? Password { get; init; }

    /// <summary>
    /// A certificate to trust for HTTPS besides the system's (the daemon's own self-signed certificate, or the CA that
    /// issued it); null to trust only the system's.
    /// </summary>
    public X509Certificate2? TrustedCertificate { get; init; }

    /// <summary>How it is shown: the socket path, or <c>host:port</c>.</summary>
    public string Name => SocketPath ?? (BaseUrl is { } u ? (u.IsDefaultPort ? u.Host : $"{u.Host}:{u.Port}") : "?");

    /// <summary>The socket of a session folder.</summary>
    public static RemoteTarget ForSession(string sessionDirectory) =>
        new() { SocketPath = Path.Combine(Path.GetFullPath(sessionDirectory), SocketFileName) };

    /// <summary>
    /// Reads a <c>--connect</c> value: an http or https URL, or <c>host:port</c> (taken as http). User and password in
    /// the URL are taken out of it. A path ending in <c>/transmission/rpc</c>, <c>/rtorrent/rpc</c> or
    /// <c>/transmission/web/</c> is cut back to the daemon's base.
    /// </summary>
    /// <exception cref="FormatException">Not a usable URL (the message says why).</exception>
    public static RemoteTarget Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string text = value.Trim();
        if (!text.Contains("://", StringComparison.Ordinal)) text = "http://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) ||
            string.IsNullOrEmpty(uri.Host))
            throw new FormatException($"'{value}' is not an http:// or https:// address of a daemon (e.g. http://seedbox:9091)");
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            int colon = uri.UserInfo.IndexOf(':');
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        string path = uri.AbsolutePath;
        foreach (string tail in new[] { "/transmission/rpc", "/rtorrent/rpc", "/transmission/web/", "/transmission/web", "/transmission/" })
            if (path.EndsWith(tail, StringComparison.Ordinal))
            {
                path = path[..^tail.Length];
                break;
            }
        if (!path.EndsWith('/')) path += "/";
        var builder = new UriBuilder(uri.Scheme, uri.Host, uri.Port, path);
        return new RemoteTarget { BaseUrl = builder.Uri, User = user, Password = password };
    }
}
