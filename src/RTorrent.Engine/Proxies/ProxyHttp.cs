using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Proxies;

/// <summary>
/// HTTP requests through a proxy with .NET's own proxy support (SocketsHttpHandler speaks SOCKS4a, SOCKS5 and HTTP
/// proxies, and forwards http:// requests through an HTTP proxy as proxies expect rather than tunnelling them). A
/// request through a proxy never falls back to a direct connection; host names go to the proxy to look up.
/// </summary>
public static class ProxyHttp
{
    /// <summary>The <see cref="IWebProxy"/> for <paramref name="proxy"/>.</summary>
    public static IWebProxy WebProxy(ProxyServer proxy)
    {
        string scheme = proxy.Kind switch
        {
            // Plain SOCKS4 would make .NET resolve names itself (a DNS leak): 4a sends them to the proxy.
            ProxyKind.Socks4 => "socks4a",
            ProxyKind.Socks5 => "socks5",
            ProxyKind.Http => "http",
            _ => throw new ArgumentException("no proxy", nameof(proxy)),
        };
        string host = IPAddress.TryParse(proxy.Host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : proxy.Host;
        return new WebProxy(new Uri($"{scheme}://{host}:{proxy.Port}"))
        {
            // Requests to this machine's and the LAN's addresses go through the proxy too: proxy-only means only.
            BypassProxyOnLocal = false,
            Credentials = proxy.Username is null ? null : new NetworkCredential(proxy.Username, proxy.Password ?? ""),
        };
    }

    /// <summary>Points <paramref name="handler"/> at <paramref name="proxy"/>; with null, leaves it as it is.</summary>
    public static SocketsHttpHandler Through(this SocketsHttpHandler handler, ProxyServer? proxy)
    {
        if (proxy is null) return handler;
        handler.Proxy = WebProxy(proxy);
        handler.UseProxy = true;
        // Basic credentials are sent after the proxy's 407 challenge; let the handler answer it.
        handler.DefaultProxyCredentials = handler.Proxy.Credentials;
        return handler;
    }
}
