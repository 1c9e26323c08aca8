using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RTorrent.Engine.Proxies;

/// <summary>
/// The bytes of SOCKS5 (RFC 1928) and its user name and password login (RFC 1929): requests written into spans,
/// replies read from them. No I/O here; <see cref="ProxyConnector"/> and <see cref="Socks5UdpRelay"/> do that.
/// </summary>
internal static class Socks5Protocol
{
    public const byte Version = 5;
    public const byte NoAuthentication = 0;
    public const byte UsernamePassword = 2;
    public const byte NoAcceptableMethod = 0xFF;
    public const byte Connect = 1;
    public const byte UdpAssociate = 3;
    private const byte AtypIPv4 = 1, AtypDomain = 3, AtypIPv6 = 4;

    /// <summary>The longest address a SOCKS5 message can carry: a 255-byte name with its length byte and the port.</summary>
    public const int MaxAddressLength = 1 + 1 + 255 + 2;

    /// <summary>The greeting: version and the methods we offer (user and password only when we have them).</summary>
    public static int WriteGreeting(Span<byte> buffer, bool withPassword)
    {
        buffer[0] = Version;
        if (!withPassword)
        {
            buffer[1] = 1;
            buffer[2] = NoAuthentication;
            return 3;
        }
        buffer[1] = 2;
        buffer[2] = NoAuthentication;
        buffer[3] = UsernamePassword;
        return 4;
    }

    /// <summary>Reads the method the proxy chose from its 2-byte answer.</summary>
    public static byte ReadMethodChoice(ReadOnlySpan<byte> answer, bool withPassword)
    {
        if (answer[0] != Version) throw new ProxyException($"not a SOCKS5 proxy (it answered version {answer[0]})");
        byte method = answer[1];
        if (method == NoAcceptableMethod)
            throw new ProxyException(withPassword ? "the SOCKS5 proxy accepts none of our login methods" : "the SOCKS5 proxy wants a login (set a user name and password)");
        if (method != NoAuthentication && !(method == UsernamePassword && withPassword))
            throw new ProxyException($"the SOCKS5 proxy chose a login method we did not offer ({method})");
        return method;
    }

    /// <summary>RFC 1929's login request; names and passwords of 1-255 bytes of UTF-8.</summary>
    public static byte[] LoginRequest(string username, string password)
    {
        var user = Encoding.UTF8.GetBytes(username);
        var pass = Encoding.UTF8.GetBytes(password);
        if (user.Length is 0 or > 255) throw new ProxyException("the SOCKS5 user name must be 1-255 bytes");
        if (pass.Length > 255) throw new ProxyException("the SOCKS5 password must be at most 255 bytes");
        var request = new byte[3 + user.Length + pass.Length];
        request[0] = 1;
        request[1] = (byte)user.Length;
        user.CopyTo(request, 2);
        request[2 + user.Length] = (byte)pass.Length;
        pass.CopyTo(request, 3 + user.Length);
        return request;
    }

    /// <summary>Checks RFC 1929's 2-byte login answer.</summary>
    public static void ReadLoginAnswer(ReadOnlySpan<byte> answer)
    {
        if (answer[0] != 1) throw new ProxyException($"the SOCKS5 proxy answered the login with version {answer[0]}");
        if (answer[1] != 0) throw new ProxyException("the SOCKS5 proxy refused the user name or password");
    }

    /// <summary>A CONNECT or UDP ASSOCIATE request for <paramref name="target"/>; returns its length.</summary>
    public static int WriteRequest(Span<byte> buffer, byte command, EndPoint target)
    {
        buffer[0] = Version;
        buffer[1] = command;
        buffer[2] = 0;
        return 3 + WriteAddress(buffer[3..], target);
    }

    /// <summary>
    /// Writes an address as SOCKS5 carries it (type, address, port): an IP address as such, a host name as a name for the
    /// proxy to look up (so we never look it up ourselves: no DNS leak).
    /// </summary>
    public static int WriteAddress(Span<byte> buffer, EndPoint target)
    {
        int at;
        int port;
        switch (target)
        {
            case IPEndPoint ip:
                var address = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
                buffer[0] = address.AddressFamily == AddressFamily.InterNetwork ? AtypIPv4 : AtypIPv6;
                address.TryWriteBytes(buffer[1..], out int written);
                at = 1 + written;
                port = ip.Port;
                break;
            case DnsEndPoint dns:
                string host = AsciiHost(dns.Host);
                int length = host.Length;
                if (length is 0 or > 255) throw new ProxyException($"a host name of {length} bytes cannot go through SOCKS5");
                buffer[0] = AtypDomain;
                buffer[1] = (byte)length;
                Encoding.ASCII.GetBytes(host, buffer[2..]);
                at = 2 + length;
                port = dns.Port;
                break;
            default:
                throw new ArgumentException($"cannot send {target} through SOCKS5", nameof(target));
        }
        BinaryPrimitives.WriteUInt16BigEndian(buffer[at..], (ushort)port);
        return at + 2;
    }

    /// <summary>A host name as DNS carries it: international names in their xn-- form.</summary>
    public static string AsciiHost(string host)
    {
        foreach (char c in host)
            if (!char.IsAscii(c))
            {
                try { return new System.Globalization.IdnMapping().GetAscii(host); }
                catch (ArgumentException e) { throw new ProxyException($"'{host}' is not a valid host name", e); }
            }
        return host;
    }

    /// <summary>
    /// How many more bytes the reply needs after its first 5 (version, code, reserved, address type, first address
    /// byte): the rest of the bound address and the port. Throws for a refusal, with the RFC's reason.
    /// </summary>
    public static int ReplyRemainder(ReadOnlySpan<byte> head)
    {
        if (head[0] != Version) throw new ProxyException($"not a SOCKS5 reply (version {head[0]})");
        if (head[1] != 0) throw new ProxyException($"the SOCKS5 proxy refused: {ReplyText(head[1])}");
        return head[3] switch
        {
            AtypIPv4 => 4 - 1 + 2,
            AtypIPv6 => 16 - 1 + 2,
            AtypDomain => head[4] + 2,
            _ => throw new ProxyException($"the SOCKS5 proxy answered with an unknown address type {head[3]}"),
        };
    }

    /// <summary>The bound address of a complete reply (where UDP ASSOCIATE wants our datagrams).</summary>
    public static EndPoint ReadBoundAddress(ReadOnlySpan<byte> reply)
    {
        if (!TryReadAddress(reply[3..], out var endPoint, out _)) throw new ProxyException("the SOCKS5 reply's address is cut short");
        return endPoint;
    }

    /// <summary>Reads an address as <see cref="WriteAddress"/> writes it; false when it is cut short or of an unknown type.</summary>
    public static bool TryReadAddress(ReadOnlySpan<byte> data, out EndPoint endPoint, out int length)
    {
        endPoint = null!;
        length = 0;
        if (data.Length < 1) return false;
        switch (data[0])
        {
            case AtypIPv4:
                if (data.Length < 7) return false;
                endPoint = new IPEndPoint(new IPAddress(data.Slice(1, 4)), BinaryPrimitives.ReadUInt16BigEndian(data[5..]));
                length = 7;
                return true;
            case AtypIPv6:
                if (data.Length < 19) return false;
                endPoint = new IPEndPoint(new IPAddress(data.Slice(1, 16)), BinaryPrimitives.ReadUInt16BigEndian(data[17..]));
                length = 19;
                return true;
            case AtypDomain:
                if (data.Length < 2 || data.Length < 2 + data[1] + 2 || data[1] == 0) return false;
                int n = data[1];
                endPoint = new DnsEndPoint(Encoding.ASCII.GetString(data.Slice(2, n)), BinaryPrimitives.ReadUInt16BigEndian(data[(2 + n)..]));
                length = 2 + n + 2;
                return true;
            default:
                return false;
        }
    }

    /// <summary>RFC 1928's reply codes in words.</summary>
    public static string ReplyText(byte code) => code switch
    {
        1 => "general failure",
        2 => "not allowed by its rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => $"reply code {code}",
    };

    /// <summary>
    /// The UDP header (RFC 1928 section 7) before a datagram sent through the relay: reserved, fragment 0, the target.
    /// </summary>
    public static int WriteUdpHeader(Span<byte> buffer, EndPoint target)
    {
        buffer[0] = 0;
        buffer[1] = 0;
        buffer[2] = 0;
        return 3 + WriteAddress(buffer[3..], target);
    }

    /// <summary>
    /// Reads the UDP header of a datagram from the relay: the sender and where its payload starts. False for a
    /// fragment (we never ask for fragmentation and drop them, as most clients do) or a malformed header.
    /// </summary>
    public static bool TryReadUdpHeader(ReadOnlySpan<byte> datagram, out EndPoint from, out int payloadOffset)
    {
        from = null!;
        payloadOffset = 0;
        if (datagram.Length < 4 || datagram[0] != 0 || datagram[1] != 0 || datagram[2] != 0) return false;
        if (!TryReadAddress(datagram[3..], out from, out int length)) return false;
        payloadOffset = 3 + length;
        return true;
    }
}
