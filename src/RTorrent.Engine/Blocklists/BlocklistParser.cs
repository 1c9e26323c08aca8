using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RTorrent.Engine.Blocklists;

/// <summary>A line of a blocklist that was skipped, and why.</summary>
/// <param name="Line">1-based line number in the (decompressed) text.</param>
/// <param name="Reason">What is wrong with it.</param>
public sealed record BlocklistError(long Line, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"line {Line}: {Reason}";
}

/// <summary>What reading one blocklist gave.</summary>
public sealed record BlocklistParseResult
{
    /// <summary>Lines read.</summary>
    public long Lines { get; init; }

    /// <summary>Rules (ranges, blocks, addresses) taken, before merging.</summary>
    public int Rules { get; init; }

    /// <summary>Malformed lines skipped (all of them; <see cref="Errors"/> keeps the first ones).</summary>
    public long Malformed { get; init; }

    /// <summary>The first malformed lines, at most <see cref="BlocklistParser.MaxErrorsKept"/>.</summary>
    public IReadOnlyList<BlocklistError> Errors { get; init; } = [];

    /// <summary>Why reading stopped early (a limit was reached), or null when the whole stream was read.</summary>
    public string? StoppedEarly { get; init; }
}

/// <summary>
/// Reads blocklists line by line from a stream, gzip or plain (told apart by gzip's magic bytes 1f 8b), in the formats
/// in use (see docs/BLOCKLISTS.md):
/// <list type="bullet">
/// <item>PeerGuardian text (P2P): <c>description:1.2.3.0-1.2.3.255</c></item>
/// <item>eMule DAT: <c>001.002.003.000 - 001.002.003.255 , 000 , description</c> (an access level above 127 means
/// "allowed", as eMule and qBittorrent read it, and the line is skipped)</item>
/// <item>CIDR: <c>1.2.3.0/24</c>, <c>2001:db8::/32</c></item>
/// <item>a range <c>first-last</c> or a single address, IPv4 or IPv6</item>
/// </list>
/// Empty lines and lines starting with <c>#</c> or <c>//</c> are comments. A malformed line is counted, reported with
/// its number (the first <see cref="MaxErrorsKept"/>) and skipped; nothing in the input can make the parser throw
/// except the stream's own I/O errors. Memory is bounded: lines are read into one buffer (longer than
/// <see cref="MaxLineLength"/> are skipped as malformed) and at most <see cref="MaxRules"/> rules are taken.
/// </summary>
public static class BlocklistParser
{
    /// <summary>Malformed lines reported by number; more are only counted.</summary>
    public const int MaxErrorsKept = 100;

    /// <summary>Longest line read; a longer one is skipped as malformed.</summary>
    public const int MaxLineLength = 1024;

    /// <summary>
    /// Most rules taken from all the lists of one load: 4 million (the largest public lists hold under a million).
    /// Bounds memory at about 32 MB for IPv4 and 128 MB for IPv6.
    /// </summary>
    public const int MaxRules = 4_000_000;

    /// <summary>Highest eMule access level that blocks (eMule and qBittorrent: above 127 is allowed).</summary>
    public const int EmuleBlockingLevel = 127;

    /// <summary>Reads <paramref name="stream"/> (plain or gzip) into <paramref name="builder"/>.</summary>
    public static BlocklistParseResult Parse(Stream stream, IpRangeSetBuilder builder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(builder);
        var input = OpenMaybeGzip(stream);
        try
        {
            return ParseText(input, builder, cancellationToken);
        }
        finally
        {
            if (!ReferenceEquals(input, stream)) input.Dispose();
        }
    }

    /// <summary>Parses plain text (tests and tools).</summary>
    public static BlocklistParseResult Parse(string text, IpRangeSetBuilder builder) =>
        Parse(new MemoryStream(Encoding.UTF8.GetBytes(text)), builder);

    /// <summary>The stream itself, or a gzip reader over it when it starts with gzip's magic bytes.</summary>
    private static Stream OpenMaybeGzip(Stream stream)
    {
        var buffered = stream.CanSeek ? stream : new BufferedStream(stream, 64 * 1024);
        Span<byte> magic = stackalloc byte[2];
        int n = 0;
        if (buffered.CanSeek)
        {
            long at = buffered.Position;
            while (n < 2)
            {
                int r = buffered.Read(magic[n..]);
                if (r == 0) break;
                n += r;
            }
            buffered.Position = at;
            return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(buffered, CompressionMode.Decompress, leaveOpen: true) : buffered;
        }
        return new PeekStream(buffered) is var peek && peek.StartsWithGzip()
            ? new GZipStream(peek, CompressionMode.Decompress, leaveOpen: true)
            : peek;
    }

    private static BlocklistParseResult ParseText(Stream input, IpRangeSetBuilder builder, CancellationToken ct)
    {
        using var reader = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
        var buffer = new char[64 * 1024];
        int start = 0, end = 0; // unread text is buffer[start..end]
        long line = 0, malformed = 0;
        int rules = 0;
        var errors = new List<BlocklistError>();
        bool skipping = false; // inside an over-long line: drop until its newline
        string? stopped = null;

        void Error(long at, string reason)
        {
            malformed++;
            if (errors.Count < MaxErrorsKept) errors.Add(new BlocklistError(at, reason));
        }
        ErrorSink sink = Error; // one delegate for the whole stream, not one per line

        while (true)
        {
            int nl = buffer.AsSpan(start, end - start).IndexOf('\n');
            if (nl < 0)
            {
                // Need more text: keep the partial line at the front of the buffer.
                if (start > 0)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }
                if (end - start > MaxLineLength)
                {
                    if (!skipping)
                    {
                        line++;
                        Error(line, $"longer than {MaxLineLength} characters");
                    }
                    skipping = true;
                    start = end = 0;
                }
                int read = reader.Read(buffer, end, buffer.Length - end);
                if (read == 0)
                {
                    if (end > start && !skipping)
                    {
                        line++;
                        ParseLine(buffer.AsSpan(start, end - start), line, builder, ref rules, sink);
                    }
                    break;
                }
                end += read;
                continue;
            }
            var text = buffer.AsSpan(start, nl);
            start += nl + 1;
            if (skipping)
            {
                skipping = false;
                continue;
            }
            line++;
            if (text.Length > MaxLineLength)
            {
                Error(line, $"longer than {MaxLineLength} characters");
                continue;
            }
            ParseLine(text, line, builder, ref rules, sink);
            if (builder.Count >= MaxRules)
            {
                stopped = $"stopped at line {line}: more than {MaxRules:N0} rules";
                break;
            }
            if ((line & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
        }
        return new BlocklistParseResult { Lines = line, Rules = rules, Malformed = malformed, Errors = errors, StoppedEarly = stopped };
    }

    private delegate void ErrorSink(long line, string reason);

    private static void ParseLine(ReadOnlySpan<char> text, long line, IpRangeSetBuilder builder, ref int rules, ErrorSink error)
    {
        text = text.Trim();
        if (text.IsEmpty || text[0] == '#' || text.StartsWith("//")) return;
        var reason = TryParseRule(text, builder, out bool added);
        if (reason is not null)
        {
            error(line, $"{reason}: '{Shorten(text)}'");
            return;
        }
        if (added) rules++;
    }

    private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 80 ? text.ToString() : string.Concat(text[..77], "...");

    /// <summary>Parses one non-comment line; returns why it is malformed, or null.</summary>
    private static string? TryParseRule(ReadOnlySpan<char> text, IpRangeSetBuilder builder, out bool added)
    {
        added = false;
        // eMule DAT: "first - last , level , description" (a PeerGuardian description may hold commas too: only a
        // range before the first comma makes the line eMule's).
        int comma = text.IndexOf(',');
        if (comma >= 0)
        {
            var rangePart = text[..comma].Trim();
            int dash = rangePart.IndexOf('-');
            if (dash > 0 && TryParseAddress(rangePart[..dash].Trim(), out var a) && TryParseAddress(rangePart[(dash + 1)..].Trim(), out var b))
            {
                var rest = text[(comma + 1)..];
                int comma2 = rest.IndexOf(',');
                var levelPart = (comma2 >= 0 ? rest[..comma2] : rest).Trim();
                if (!int.TryParse(levelPart, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int level))
                    return "the access level is not a number (eMule DAT: first - last , level , description)";
                if (level > EmuleBlockingLevel) return null; // an "allow" entry: not blocked
                return AddRange(a, b, builder, ref added);
            }
        }

        // CIDR: "address/prefix" (a description with '/' belongs to a range line, which has a '-').
        int slash = text.IndexOf('/');
        if (slash >= 0 && text.IndexOf('-') < 0)
        {
            var addressPart = text[..slash].Trim();
            var prefixPart = text[(slash + 1)..].Trim();
            if (!TryParseAddress(addressPart, out var network)) return "not an IP address before '/'";
            if (!int.TryParse(prefixPart, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int prefix))
                return "the prefix length after '/' is not a number";
            int bits = network.IsV4 ? 32 : 128;
            if (prefix > bits) return $"a prefix of /{prefix} is longer than {bits} bits";
            if (network.IsV4)
            {
                uint mask = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
                builder.Add(network.V4 & mask, network.V4 | ~mask);
            }
            else
            {
                UInt128 mask = prefix == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefix);
                builder.Add(network.V6 & mask, network.V6 | ~mask);
            }
            added = true;
            return null;
        }

        // A range "first-last", maybe after "description:" (PeerGuardian text), or one address.
        int lastDash = text.LastIndexOf('-');
        if (lastDash < 0)
        {
            if (!TryParseAddress(text, out var single)) return "not an IP address, range or CIDR block";
            return AddRange(single, single, builder, ref added);
        }
        var last = text[(lastDash + 1)..].Trim();
        var before = text[..lastDash].TrimEnd();
        if (!TryParseAddress(last, out var lastAddress)) return "the range's last address is not an IP address";
        // The first address follows the description's last ':' for IPv4; IPv6 addresses hold ':' themselves, so try
        // the whole text and then each ':' from the left.
        int colon = before.LastIndexOf(':');
        bool otherFamily = false;
        if (colon >= 0 && TryParseAddress(before[(colon + 1)..].Trim(), out var first))
        {
            if (first.IsV4 == lastAddress.IsV4) return AddRange(first, lastAddress, builder, ref added);
            otherFamily = true;
        }
        if (TryParseAddress(before.Trim(), out first)) return AddRange(first, lastAddress, builder, ref added);
        for (int i = before.IndexOf(':'); i >= 0 && i < before.Length; )
        {
            if (TryParseAddress(before[(i + 1)..].Trim(), out first))
            {
                if (first.IsV4 == lastAddress.IsV4) return AddRange(first, lastAddress, builder, ref added);
                otherFamily = true;
            }
            int next = before[(i + 1)..].IndexOf(':');
            if (next < 0) break;
            i += next + 1;
        }
        if (otherFamily) return "a range cannot mix IPv4 and IPv6";
        return "the range's first address is not an IP address";
    }

    private static string? AddRange(Address a, Address b, IpRangeSetBuilder builder, ref bool added)
    {
        if (a.IsV4 != b.IsV4) return "a range cannot mix IPv4 and IPv6";
        if (a.IsV4)
        {
            if (a.V4 > b.V4) return "the range's first address is after its last";
            builder.Add(a.V4, b.V4);
        }
        else
        {
            if (a.V6 > b.V6) return "the range's first address is after its last";
            builder.Add(a.V6, b.V6);
        }
        added = true;
        return null;
    }

    /// <summary>An address of either family; IPv4-mapped IPv6 addresses are IPv4.</summary>
    private readonly record struct Address(bool IsV4, uint V4, UInt128 V6);

    /// <summary>
    /// IPv4 as four decimal parts 0-255 (leading zeros are decimal, as eMule writes "001.002.003.000", never octal), or
    /// any IPv6 text <see cref="IPAddress"/> reads (without a scope).
    /// </summary>
    private static bool TryParseAddress(ReadOnlySpan<char> s, out Address address)
    {
        address = default;
        if (s.IsEmpty) return false;
        if (s.IndexOf(':') < 0)
        {
            uint value = 0;
            int part = 0, digits = 0, partValue = 0;
            foreach (char c in s)
            {
                if (c == '.')
                {
                    if (digits == 0 || part == 3) return false;
                    value = (value << 8) | (uint)partValue;
                    part++;
                    digits = partValue = 0;
                }
                else if (c is >= '0' and <= '9')
                {
                    if (++digits > 3) return false;
                    partValue = partValue * 10 + (c - '0');
                    if (partValue > 255) return false;
                }
                else return false;
            }
            if (part != 3 || digits == 0) return false;
            address = new Address(true, (value << 8) | (uint)partValue, UInt128.Zero);
            return true;
        }
        if (s.IndexOf('%') >= 0 || !IPAddress.TryParse(s, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6) return false;
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        address = IpRangeSet.IsIPv4Mapped(bytes)
            ? new Address(true, BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]), UInt128.Zero)
            : new Address(false, 0, BinaryPrimitives.ReadUInt128BigEndian(bytes));
        return true;
    }

    /// <summary>A forward-only stream that lets its first two bytes be looked at (gzip's magic) and then reads them again.</summary>
    private sealed class PeekStream(Stream inner) : Stream
    {
        private readonly byte[] _head = new byte[2];
        private int _headLength, _headRead;

        public bool StartsWithGzip()
        {
            while (_headLength < 2)
            {
                int r = inner.Read(_head, _headLength, 2 - _headLength);
                if (r == 0) break;
                _headLength += r;
            }
            return _headLength == 2 && _head[0] == 0x1f && _head[1] == 0x8b;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_headRead < _headLength && buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, _headLength - _headRead);
                _head.AsSpan(_headRead, n).CopyTo(buffer);
                _headRead += n;
                return n;
            }
            return inner.Read(buffer);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
