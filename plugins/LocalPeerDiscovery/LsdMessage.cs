using System.Buffers;
using System.Text;

namespace RTorrent.Plugins.LocalPeerDiscovery;

/// <summary>A BEP 14 announce: who listens on which port for which torrents.</summary>
/// <param name="Port">The TCP port the announcing client accepts peers on.</param>
/// <param name="InfoHashes">Lower-case hex info-hashes (40 characters each), at least one.</param>
/// <param name="Cookie">The sender's cookie, or null; a client ignores announces carrying its own.</param>
public sealed record LsdAnnounce(int Port, IReadOnlyList<string> InfoHashes, string? Cookie);

/// <summary>Writes and reads BEP 14 announce messages ("BT-SEARCH * HTTP/1.1" over UDP multicast).</summary>
public static class LsdMessage
{
    /// <summary>
    /// Largest message we send. BEP 14 asks announces with several info-hashes to stay under 1400 bytes so that they
    /// are never fragmented.
    /// </summary>
    public const int MaxMessageBytes = 1400;

    /// <summary>Largest message we accept: anything bigger is not an LSD announce.</summary>
    public const int MaxReceiveBytes = 8192;

    private const string RequestLine = "BT-SEARCH * HTTP/1.1";

    /// <summary>
    /// Builds announces for <paramref name="infoHashes"/>, as many per message as fit in
    /// <see cref="MaxMessageBytes"/>.
    /// </summary>
    /// <param name="host">The Host header: the group and port, e.g. <c>239.192.152.143:6771</c> or <c>[ff15::efc0:988f]:6771</c>.</param>
    /// <param name="port">Our listen port.</param>
    /// <param name="infoHashes">Info-hashes in hex (40 characters).</param>
    /// <param name="cookie">Our cookie, or null.</param>
    public static IReadOnlyList<byte[]> Format(string host, int port, IEnumerable<string> infoHashes, string? cookie)
    {
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "A port is 1 to 65535.");
        var head = $"{RequestLine}\r\nHost: {host}\r\nPort: {port}\r\n";
        var tail = (cookie is null ? "" : $"cookie: {cookie}\r\n") + "\r\n\r\n";
        var messages = new List<byte[]>();
        var body = new StringBuilder();
        foreach (var hash in infoHashes)
        {
            if (hash.Length != 40 || !IsHex(hash)) throw new ArgumentException($"'{hash}' is not a 40-character hex info-hash.", nameof(infoHashes));
            var line = $"Infohash: {hash.ToLowerInvariant()}\r\n";
            if (body.Length > 0 && head.Length + body.Length + line.Length + tail.Length > MaxMessageBytes)
            {
                messages.Add(Encoding.ASCII.GetBytes(head + body + tail));
                body.Clear();
            }
            body.Append(line);
        }
        if (body.Length > 0) messages.Add(Encoding.ASCII.GetBytes(head + body + tail));
        return messages;
    }

    /// <summary>
    /// Reads an announce. Lenient where real clients differ (header case, LF or CRLF line ends, spaces, extra
    /// headers), strict about what we use: the request line, a port of 1 to 65535 and well-formed info-hashes.
    /// Info-hashes that are not 40 hex characters are skipped; a message with none is rejected.
    /// </summary>
    /// <returns>The announce, or null when the datagram is not a usable BEP 14 announce.</returns>
    public static LsdAnnounce? TryParse(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty || datagram.Length > MaxReceiveBytes) return null;
        foreach (var b in datagram)
            if (b >= 0x80 || (b < 0x20 && b is not (byte)'\r' and not (byte)'\n' and not (byte)'\t')) return null;

        var text = Encoding.ASCII.GetString(datagram);
        var lines = text.Split('\n');
        if (!lines[0].TrimEnd('\r').Trim().Equals(RequestLine, StringComparison.OrdinalIgnoreCase)) return null;

        int? port = null;
        string? cookie = null;
        var hashes = new List<string>();
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0) break; // end of headers
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var name = line.AsSpan(0, colon).Trim();
            var value = line.AsSpan(colon + 1).Trim();
            if (name.Equals("Port", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, System.Globalization.NumberStyles.None, null, out var p) || p is < 1 or > 65535) return null;
                port = p;
            }
            else if (name.Equals("Infohash", StringComparison.OrdinalIgnoreCase))
            {
                if (value.Length == 40 && IsHex(value))
                {
                    var hash = value.ToString().ToLowerInvariant();
                    if (!hashes.Contains(hash)) hashes.Add(hash);
                }
            }
            else if (name.Equals("cookie", StringComparison.OrdinalIgnoreCase))
            {
                cookie = value.ToString();
            }
        }
        return port is null || hashes.Count == 0 ? null : new LsdAnnounce(port.Value, hashes, cookie);
    }

    private static readonly SearchValues<char> HexChars = SearchValues.Create("0123456789abcdefABCDEF");

    private static bool IsHex(ReadOnlySpan<char> s) => !s.ContainsAnyExcept(HexChars);
}
