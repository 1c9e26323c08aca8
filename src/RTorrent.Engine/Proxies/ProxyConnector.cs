using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RTorrent.Engine.Proxies;

/// <summary>
/// Opens a TCP connection to a target through a proxy: connects to the proxy, asks it for a tunnel (SOCKS5 CONNECT,
/// SOCKS4a CONNECT or HTTP CONNECT) and hands back the socket, which from then on carries the target's bytes as a
/// direct connection would. Host names are passed to the proxy to look up, never looked up here.
/// </summary>
public static class ProxyConnector
{
    /// <summary>An HTTP proxy's answer to CONNECT is headers only; more than this is not a proxy we want to talk to.</summary>
    internal const int MaxHttpAnswer = 8 * 1024;

    /// <summary>Connects to <paramref name="target"/> through <paramref name="proxy"/>.</summary>
    /// <param name="proxy">The proxy.</param>
    /// <param name="target">An address, or a host name for the proxy to resolve.</param>
    /// <param name="cancellationToken">Stops connecting (the caller's timeout); the socket is then closed.</param>
    /// <exception cref="ProxyException">The proxy refused or failed.</exception>
    /// <exception cref="SocketException">The proxy could not be reached.</exception>
    public static async Task<Socket> ConnectAsync(ProxyServer proxy, EndPoint target, CancellationToken cancellationToken)
    {
        var socket = await ConnectToProxyAsync(proxy, cancellationToken).ConfigureAwait(false);
        try
        {
            switch (proxy.Kind)
            {
                case ProxyKind.Socks5:
                    await Socks5HandshakeAsync(socket, proxy, Socks5Protocol.Connect, target, cancellationToken).ConfigureAwait(false);
                    break;
                case ProxyKind.Socks4:
                    await Socks4aHandshakeAsync(socket, proxy, target, cancellationToken).ConfigureAwait(false);
                    break;
                case ProxyKind.Http:
                    await HttpConnectAsync(socket, proxy, target, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new ArgumentException("no proxy to connect through", nameof(proxy));
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A TCP connection to the proxy itself.</summary>
    internal static async Task<Socket> ConnectToProxyAsync(ProxyServer proxy, CancellationToken cancellationToken)
    {
        var at = proxy.EndPoint;
        var socket = at is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp); // dual mode: the proxy's name may resolve to either family
        socket.NoDelay = true;
        try
        {
            await socket.ConnectAsync(at, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ProxyException($"cannot reach the {proxy}: {e.SocketErrorCode}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Greets a SOCKS5 proxy, logs in if it asks, and sends one request; returns the reply's bound address (for UDP
    /// ASSOCIATE: where to send datagrams).
    /// </summary>
    internal static async Task<EndPoint> Socks5HandshakeAsync(Socket socket, ProxyServer proxy, byte command, EndPoint target, CancellationToken ct)
    {
        bool withPassword = proxy.Username is not null;
        var buffer = new byte[3 + Socks5Protocol.MaxAddressLength];
        int n = Socks5Protocol.WriteGreeting(buffer, withPassword);
        await SendAsync(socket, buffer.AsMemory(0, n), ct).ConfigureAwait(false);
        await ReceiveExactlyAsync(socket, buffer.AsMemory(0, 2), ct).ConfigureAwait(false);
        if (Socks5Protocol.ReadMethodChoice(buffer, withPassword) == Socks5Protocol.UsernamePassword)
        {
            await SendAsync(socket, Socks5Protocol.LoginRequest(proxy.Username!, proxy.Password ?? ""), ct).ConfigureAwait(false);
            await ReceiveExactlyAsync(socket, buffer.AsMemory(0, 2), ct).ConfigureAwait(false);
            Socks5Protocol.ReadLoginAnswer(buffer);
        }
        n = Socks5Protocol.WriteRequest(buffer, command, target);
        await SendAsync(socket, buffer.AsMemory(0, n), ct).ConfigureAwait(false);
        await ReceiveExactlyAsync(socket, buffer.AsMemory(0, 5), ct).ConfigureAwait(false);
        int rest = Socks5Protocol.ReplyRemainder(buffer);
        await ReceiveExactlyAsync(socket, buffer.AsMemory(5, rest), ct).ConfigureAwait(false);
        return Socks5Protocol.ReadBoundAddress(buffer.AsSpan(0, 5 + rest));
    }

    private static async Task Socks4aHandshakeAsync(Socket socket, ProxyServer proxy, EndPoint target, CancellationToken ct)
    {
        var request = Socks4Protocol.ConnectRequest(target, proxy.Username);
        await SendAsync(socket, request, ct).ConfigureAwait(false);
        var answer = new byte[Socks4Protocol.ReplyLength];
        await ReceiveExactlyAsync(socket, answer, ct).ConfigureAwait(false);
        Socks4Protocol.ReadReply(answer);
    }

    private static async Task HttpConnectAsync(Socket socket, ProxyServer proxy, EndPoint target, CancellationToken ct)
    {
        await SendAsync(socket, HttpConnectProtocol.Request(target, proxy.Username, proxy.Password), ct).ConfigureAwait(false);
        // Byte by byte: whatever follows the proxy's headers is the target's and must stay in the socket for the
        // connection's own reader. A few hundred bytes once per connection.
        var answer = new byte[MaxHttpAnswer];
        int length = 0;
        while (true)
        {
            if (length == answer.Length) throw new ProxyException($"the HTTP proxy's answer to CONNECT is longer than {MaxHttpAnswer} bytes");
            int n = await socket.ReceiveAsync(answer.AsMemory(length, 1), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) throw new ProxyException("the HTTP proxy closed the connection during CONNECT");
            length++;
            if (length >= 4 && answer.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8)) break;
        }
        HttpConnectProtocol.ReadAnswer(answer.AsSpan(0, length));
    }

    private static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
            if (n <= 0) throw new ProxyException("the proxy closed the connection");
            data = data[n..];
        }
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        while (!buffer.IsEmpty)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) throw new ProxyException("the proxy closed the connection during its handshake");
            buffer = buffer[n..];
        }
    }
}

/// <summary>SOCKS4a's CONNECT request and reply.</summary>
internal static class Socks4Protocol
{
    public const int ReplyLength = 8;

    /// <summary>
    /// A CONNECT request: an IPv4 target as its address; anything else (a name, an IPv6 address in text) as SOCKS4a's
    /// name after the user id, with the address 0.0.0.1 that marks it.
    /// </summary>
    public static byte[] ConnectRequest(EndPoint target, string? userId)
    {
        var user = Encoding.UTF8.GetBytes(userId ?? "");
        if (user.AsSpan().Contains((byte)0)) throw new ProxyException("a SOCKS4 user id cannot contain a NUL");
        (byte[]? ip, string? name, int port) = target switch
        {
            IPEndPoint e when (e.Address.IsIPv4MappedToIPv6 ? e.Address.MapToIPv4() : e.Address) is { AddressFamily: AddressFamily.InterNetwork } v4 => (v4.GetAddressBytes(), (string?)null, e.Port),
            IPEndPoint e => (null, e.Address.ToString(), e.Port),
            DnsEndPoint d => (null, Socks5Protocol.AsciiHost(d.Host), d.Port),
            _ => throw new ArgumentException($"cannot send {target} through SOCKS4a", nameof(target)),
        };
        var nameBytes = name is null ? [] : Encoding.ASCII.GetBytes(name);
        if (name is not null && (nameBytes.Length == 0 || nameBytes.Length > 255)) throw new ProxyException("a host name of that length cannot go through SOCKS4a");
        var request = new byte[8 + user.Length + 1 + (name is null ? 0 : nameBytes.Length + 1)];
        request[0] = 4;
        request[1] = 1;
        request[2] = (byte)(port >> 8);
        request[3] = (byte)port;
        if (ip is not null) ip.CopyTo(request, 4);
        else request[7] = 1;
        user.CopyTo(request, 8);
        if (name is not null) nameBytes.CopyTo(request, 8 + user.Length + 1);
        return request;
    }

    public static void ReadReply(ReadOnlySpan<byte> reply)
    {
        if (reply[0] != 0) throw new ProxyException($"not a SOCKS4 reply (version {reply[0]})");
        switch (reply[1])
        {
            case 0x5A: return;
            case 0x5B: throw new ProxyException("the SOCKS4 proxy refused or failed the connection");
            case 0x5C: throw new ProxyException("the SOCKS4 proxy could not reach our identd");
            case 0x5D: throw new ProxyException("the SOCKS4 proxy's identd check failed for our user id");
            default: throw new ProxyException($"the SOCKS4 proxy answered code {reply[1]}");
        }
    }
}

/// <summary>An HTTP proxy's CONNECT request and the status line of its answer.</summary>
internal static class HttpConnectProtocol
{
    public static byte[] Request(EndPoint target, string? username, string? password)
    {
        string authority = target switch
        {
            IPEndPoint { Address.AddressFamily: AddressFamily.InterNetworkV6 } e when !e.Address.IsIPv4MappedToIPv6 => $"[{e.Address}]:{e.Port}",
            IPEndPoint e => $"{(e.Address.IsIPv4MappedToIPv6 ? e.Address.MapToIPv4() : e.Address)}:{e.Port}",
            DnsEndPoint d => $"{Socks5Protocol.AsciiHost(d.Host)}:{d.Port}",
            _ => throw new ArgumentException($"cannot send {target} through an HTTP proxy", nameof(target)),
        };
        if (authority.AsSpan().IndexOfAny("\r\n ") >= 0) throw new ProxyException("a host name cannot contain spaces or line breaks");
        var text = new StringBuilder().Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\nHost: ").Append(authority).Append("\r\n");
        if (username is not null)
        {
            if ((username + password).AsSpan().IndexOfAny("\r\n") >= 0) throw new ProxyException("a proxy user name or password cannot contain line breaks");
            text.Append("Proxy-Authorization: Basic ").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"))).Append("\r\n");
        }
        text.Append("\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Checks the status line: 2xx is a tunnel; anything else an error with the proxy's reason.</summary>
    public static void ReadAnswer(ReadOnlySpan<byte> answer)
    {
        int end = answer.IndexOf("\r\n"u8);
        var line = Encoding.ASCII.GetString(end < 0 ? answer : answer[..end]);
        var parts = line.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1].Length != 3 || !int.TryParse(parts[1], out int status))
            throw new ProxyException($"not an HTTP proxy answer: '{Printable(line)}'");
        if (status is < 200 or > 299)
            throw new ProxyException(status == 407
                ? "the HTTP proxy wants a login (407): set or check the proxy user name and password"
                : $"the HTTP proxy refused the tunnel: {status} {Printable(parts.Length > 2 ? parts[2] : "")}");
    }

    private static string Printable(string s)
    {
        var sb = new StringBuilder(Math.Min(s.Length, 200));
        foreach (char c in s.AsSpan(0, Math.Min(s.Length, 200))) sb.Append(char.IsControl(c) ? '?' : c);
        return sb.ToString();
    }
}
