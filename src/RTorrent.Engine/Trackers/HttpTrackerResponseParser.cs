using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// Reads HTTP tracker answers (BEP 3, 23, 7, 24, 31, 48). Anything that is not a proper answer becomes a
/// <see cref="TrackerException"/> whose message says what was wrong; nothing else is ever thrown.
/// </summary>
/// <remarks>
/// Known keys with the wrong type are refused rather than guessed at, so a broken tracker is visible to the user.
/// Within a dictionary peer list, single bad entries (no port, host names instead of addresses) are skipped: one odd
/// peer should not cost the others.
/// </remarks>
public static class HttpTrackerResponseParser
{
    private static readonly BencodeReaderOptions ReaderOptions = BencodeReaderOptions.Lenient with
    {
        MaxDepth = 16,
        MaxItems = 1_000_000,
    };

    /// <summary>Parses an announce answer.</summary>
    /// <exception cref="TrackerException">A <c>failure reason</c>, or a body that is not a valid answer.</exception>
    public static TrackerAnnounceResponse ParseAnnounce(ReadOnlyMemory<byte> body)
    {
        var d = DecodeDictionary(body);
        ThrowIfFailure(d);

        var peers = new HashSet<IPEndPoint>();
        switch (Get<BValue>(d, "peers"))
        {
            case null:
                break;
            case BString compact:
                if (!CompactPeers.TryParse(compact.Bytes.Span, AddressFamily.InterNetwork, peers))
                    throw Invalid($"'peers' has {compact.Bytes.Length} bytes, not a multiple of 6");
                break;
            case BList list:
                ReadDictionaryPeers(list, peers);
                break;
            case var other:
                throw Invalid($"'peers' is {Describe(other)}, expected a string or a list");
        }
        if (Get<BString>(d, "peers6") is { } peers6 &&
            !CompactPeers.TryParse(peers6.Bytes.Span, AddressFamily.InterNetworkV6, peers))
            throw Invalid($"'peers6' has {peers6.Bytes.Length} bytes, not a multiple of 18");

        IPAddress? external = null;
        if (Get<BString>(d, "external ip") is { } ext && ext.Bytes.Length is 4 or 16)
            external = new IPAddress(ext.Bytes.Span);

        return new TrackerAnnounceResponse
        {
            Peers = [.. peers],
            Interval = Seconds(Get<BInteger>(d, "interval")),
            MinInterval = Seconds(Get<BInteger>(d, "min interval")),
            TrackerId = Get<BString>(d, "tracker id") is { Bytes.Length: > 0 } id ? id.Text : null,
            WarningMessage = Get<BString>(d, "warning message") is { } w ? TrackerText.Clean(w.Bytes.Span) : null,
            Seeders = Count(Get<BInteger>(d, "complete")),
            Leechers = Count(Get<BInteger>(d, "incomplete")),
            Downloaded = Count(Get<BInteger>(d, "downloaded")),
            ExternalAddress = external,
        };
    }

    /// <summary>Parses a scrape answer (<c>files</c>: info-hash → counts).</summary>
    /// <exception cref="TrackerException">A <c>failure reason</c>, or a body that is not a valid answer.</exception>
    public static TrackerScrapeResponse ParseScrape(ReadOnlyMemory<byte> body)
    {
        var d = DecodeDictionary(body);
        ThrowIfFailure(d);
        var files = Get<BDictionary>(d, "files") ?? throw Invalid("the scrape answer has no 'files'");
        var result = new Dictionary<InfoHash, ScrapeCounts>();
        foreach (var (key, value) in files)
        {
            if (key.Bytes.Length != InfoHash.Length) continue;
            if (value is not BDictionary counts) throw Invalid($"a 'files' entry is {Describe(value)}, expected a dictionary");
            result.TryAdd(new InfoHash(key.Bytes.Span), new ScrapeCounts(
                Count(Get<BInteger>(counts, "complete")) ?? 0,
                Count(Get<BInteger>(counts, "incomplete")) ?? 0,
                Count(Get<BInteger>(counts, "downloaded")) ?? 0));
        }
        return new TrackerScrapeResponse { Files = result };
    }

    /// <summary>
    /// The tracker's <c>failure reason</c> as an exception if the body is a bencoded dictionary that has one
    /// (trackers send them with HTTP error statuses too), else null.
    /// </summary>
    internal static TrackerException? TryReadFailure(ReadOnlyMemory<byte> body)
    {
        try
        {
            var d = BencodeReader.Decode(body, ReaderOptions) as BDictionary;
            if (d is null) return null;
            ThrowIfFailure(d);
            return null;
        }
        catch (TrackerException e) when (e.Kind == TrackerErrorKind.TrackerFailure)
        {
            return e;
        }
        catch (Exception e) when (e is BencodeException or TrackerException)
        {
            return null;
        }
    }

    /// <summary>Decodes the body as a dictionary, naming the kind of garbage if it is not one.</summary>
    internal static BDictionary DecodeDictionary(ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        int start = 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') start++;
        if (start == span.Length) throw Invalid("the tracker sent an empty answer", prefix: false);
        if (span[start] == (byte)'<') throw new TrackerException(TrackerErrorKind.InvalidResponse, DescribeHtml(span));
        if (span[start] != (byte)'d')
            throw Invalid($"the tracker's answer is not bencode: it starts with \"{Snippet(span[start..])}\"", prefix: false);
        try
        {
            return (BDictionary)BencodeReader.Decode(body[start..], ReaderOptions);
        }
        catch (BencodeException e) when (e.Error == BencodeError.UnexpectedEnd)
        {
            throw new TrackerException(TrackerErrorKind.InvalidResponse,
                $"The tracker's answer is truncated ({body.Length} bytes; {e.Message}).", e);
        }
        catch (BencodeException e)
        {
            throw new TrackerException(TrackerErrorKind.InvalidResponse, $"The tracker's answer is not valid bencode: {e.Message}.", e);
        }
    }

    private static void ThrowIfFailure(BDictionary d)
    {
        if (!d.TryGetValue("failure reason"u8, out var reason)) return;
        string text = reason is BString s && s.Bytes.Length > 0
            ? TrackerText.Clean(s.Bytes.Span)
            : "The tracker refused the request without a readable reason.";
        TimeSpan? retryIn = d.TryGetValue("retry in"u8, out var r) && r is BInteger { Value: > 0 } minutes
            ? TimeSpan.FromMinutes(Math.Min(minutes.Value, 7 * 24 * 60))
            : null;
        throw new TrackerException(TrackerErrorKind.TrackerFailure, text) { RetryIn = retryIn };
    }

    private static void ReadDictionaryPeers(BList list, HashSet<IPEndPoint> peers)
    {
        foreach (var item in list)
        {
            if (item is not BDictionary peer) continue;
            if (peer.Get<BString>("ip") is not { } ip || peer.Get<BInteger>("port") is not { Value: > 0 and <= ushort.MaxValue } port)
                continue;
            // Only literal addresses: BEP 3 allows host names here, but resolving one per peer is not worth it and no
            // tracker in use sends them. IPAddress.TryParse also takes "1" or "1.2", hence the shape checks.
            string text = ip.Text;
            bool shaped = text.Contains(':') || text.Count(c => c == '.') == 3;
            if (!shaped || !IPAddress.TryParse(text, out var address)) continue;
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            peers.Add(new IPEndPoint(address, (int)port.Value));
        }
    }

    private static T? Get<T>(BDictionary d, string key) where T : BValue
    {
        if (!d.TryGetValue(Encoding.ASCII.GetBytes(key), out var value)) return null;
        if (value is T typed) return typed;
        string expected = typeof(T) == typeof(BInteger) ? "an integer"
            : typeof(T) == typeof(BString) ? "a string"
            : typeof(T) == typeof(BList) ? "a list"
            : typeof(T) == typeof(BDictionary) ? "a dictionary" : "a value";
        throw Invalid($"'{key}' is {Describe(value)}, expected {expected}");
    }

    private static TimeSpan? Seconds(BInteger? value) =>
        value is { Value: > 0 } v ? TimeSpan.FromSeconds(Math.Min(v.Value, int.MaxValue)) : null;

    private static int? Count(BInteger? value) =>
        value is { Value: >= 0 } v ? (int)Math.Min(v.Value, int.MaxValue) : null;

    private static string Describe(BValue value) => value switch
    {
        BInteger => "an integer",
        BString => "a string",
        BList => "a list",
        BDictionary => "a dictionary",
        _ => "an unknown value",
    };

    private static TrackerException Invalid(string what, bool prefix = true) =>
        new(TrackerErrorKind.InvalidResponse,
            prefix ? $"The tracker's answer is malformed: {what}." : char.ToUpperInvariant(what[0]) + what[1..] + ".");

    private static string DescribeHtml(ReadOnlySpan<byte> span)
    {
        string text = Encoding.UTF8.GetString(span[..Math.Min(span.Length, 8192)]);
        int t = text.IndexOf("<title", StringComparison.OrdinalIgnoreCase);
        if (t >= 0)
        {
            int open = text.IndexOf('>', t);
            int close = open < 0 ? -1 : text.IndexOf("</title", open, StringComparison.OrdinalIgnoreCase);
            if (close > open)
            {
                string title = TrackerText.Clean(text[(open + 1)..close]);
                if (title.Length > 0) return $"The tracker sent a web page instead of a tracker answer: \"{title}\".";
            }
        }
        return "The tracker sent a web page instead of a tracker answer.";
    }

    /// <summary>The first bytes as printable ASCII (others as '.'), for error messages.</summary>
    internal static string Snippet(ReadOnlySpan<byte> bytes, int max = 40)
    {
        var sb = new StringBuilder(max + 1);
        foreach (byte b in bytes[..Math.Min(bytes.Length, max)]) sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        if (bytes.Length > max) sb.Append('…');
        return sb.ToString();
    }
}
