using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RTorrent.Engine.Metainfo;

/// <summary>Why a magnet URI was refused (named after libtorrent's errors).</summary>
public enum MagnetError
{
    /// <summary>The text does not start with <c>magnet:?</c>.</summary>
    UnsupportedProtocol,
    /// <summary>No <c>xt=urn:btih:</c> or <c>xt=urn:btmh:</c> parameter.</summary>
    MissingInfoHash,
    /// <summary>A btih or btmh value that is not a hash.</summary>
    InvalidInfoHash,
    /// <summary>A bad percent escape in <c>xt</c>.</summary>
    InvalidEscape,
    /// <summary>The URI is longer than <see cref="MagnetLink.MaxLength"/>.</summary>
    TooLong,
}

/// <summary>A magnet URI that cannot be used; the message says why.</summary>
public sealed class MagnetFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public MagnetFormatException(MagnetError error, string message) : base(message) => Error = error;

    /// <summary>What is wrong.</summary>
    public MagnetError Error { get; }
}

/// <summary>
/// A magnet URI (BEP 9, BEP 53; <c>urn:btmh</c> from BEP 52): what it takes to find a torrent's metadata.
/// Parse with <see cref="Parse"/>, write with <see cref="ToString"/>; build from a torrent with <see cref="FromTorrent"/>
/// or with an object initializer.
/// </summary>
/// <remarks>
/// Parsing follows libtorrent: parameter names are case-insensitive and may carry a <c>.N</c> suffix (<c>tr.1</c>);
/// unknown parameters and <c>xt</c> namespaces are ignored; a bad escape in <c>tr</c>, <c>ws</c> or <c>dn</c> drops (or for
/// <c>dn</c> cuts) that value, but one in <c>xt</c> fails the URI; only http, https and udp trackers are kept, each in
/// its own tier; with several btih values the last one wins.
/// </remarks>
public sealed class MagnetLink
{
    /// <summary>Highest file index a <c>so</c> parameter may select (libtorrent's bound).</summary>
    public const int MaxSelectedFileIndex = 10000;

    /// <summary>
    /// Longest magnet URI accepted, in characters: 64 Ki, what a <c>.magnet</c> file in a watch folder may hold. Real
    /// links are a few hundred characters, a few KiB with a long tracker list; the bound keeps what one link can make
    /// the engine do (trackers, peers and DHT nodes to contact) in proportion to something sane.
    /// </summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>The v1 info-hash (<c>xt=urn:btih:</c>, hex or base32).</summary>
    public InfoHash? InfoHashV1 { get; init; }

    /// <summary>The v2 info-hash, 32 bytes (<c>xt=urn:btmh:1220...</c>).</summary>
    public byte[]? InfoHashV2 { get; init; }

    /// <summary>The 20-byte hash for the wire and the DHT: v1, or v2 truncated.</summary>
    public InfoHash WireHash => InfoHashV1 ?? new InfoHash(InfoHashV2.AsSpan(0, 20));

    /// <summary>Display name (<c>dn</c>), not sanitized: it is only a hint until the metadata arrives.</summary>
    public string? Name { get; init; }

    /// <summary>Trackers (<c>tr</c>) by tier; a parsed link puts each tracker in its own tier.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Trackers { get; init; } = [];

    /// <summary>Web seeds (<c>ws</c>).</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>Peers to contact directly (<c>x.pe</c>).</summary>
    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];

    /// <summary>DHT bootstrap nodes (<c>dht</c>, host and port).</summary>
    public IReadOnlyList<(string Host, int Port)> DhtNodes { get; init; } = [];

    /// <summary>
    /// File indices to download (BEP 53 <c>so</c>), ascending; null when the link has no <c>so</c> (download all). An
    /// empty list means a <c>so</c> was given but selected nothing.
    /// </summary>
    public IReadOnlyList<int>? SelectedFiles { get; init; }

    /// <summary>Total size in bytes (<c>xl</c>), if given.</summary>
    public long? ExactLength { get; init; }

    /// <summary>Parses a magnet URI.</summary>
    /// <exception cref="MagnetFormatException">The URI is not a usable magnet link; the message says why.</exception>
    public static MagnetLink Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        const string prefix = "magnet:?";
        if (!uri.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            throw new MagnetFormatException(MagnetError.UnsupportedProtocol, "Not a magnet link: it must start with 'magnet:?'.");
        if (uri.Length > MaxLength)
            throw new MagnetFormatException(MagnetError.TooLong,
                $"The magnet link is {uri.Length} characters long; the limit is {MaxLength} (MagnetLink.MaxLength).");

        InfoHash? v1 = null;
        byte[]? v2 = null;
        string? name = null;
        long? length = null;
        var trackers = new List<IReadOnlyList<string>>();
        var webSeeds = new List<string>();
        var peers = new List<IPEndPoint>();
        var nodes = new List<(string, int)>();
        // 'so' ranges are marked on a difference array (+1 where a range starts, -1 after it ends) and expanded once at
        // the end: a range costs the same whatever it covers, so a link repeating 0-10000 costs work in proportion
        // to its length, not 10001 indices per repetition.
        int[]? selection = null;

        foreach (var parameter in uri[prefix.Length..].Split('&'))
        {
            int eq = parameter.IndexOf('=');
            if (eq <= 0) continue;
            var key = NormalizeKey(parameter[..eq]);
            var raw = parameter[(eq + 1)..];
            switch (key)
            {
                case "xt":
                    if (!TryUnescape(raw, plusIsSpace: false, out var xt, out _))
                        throw new MagnetFormatException(MagnetError.InvalidEscape, "The magnet link's 'xt' has a bad % escape.");
                    if (xt.StartsWith("urn:btih:", StringComparison.OrdinalIgnoreCase)) v1 = ParseBtih(xt[9..]);
                    else if (xt.StartsWith("urn:btmh:", StringComparison.OrdinalIgnoreCase)) v2 = ParseBtmh(xt[9..]);
                    break;
                case "dn":
                    // A bad escape keeps what was decoded before it, like libtorrent.
                    TryUnescape(raw, plusIsSpace: true, out _, out var partial);
                    name = partial;
                    break;
                case "tr":
                    if (TryUnescape(raw, plusIsSpace: false, out var tr, out _) && IsTrackerUrl(tr)) trackers.Add([tr]);
                    break;
                case "ws":
                    if (TryUnescape(raw, plusIsSpace: false, out var ws, out _) && ws.Length > 0) webSeeds.Add(ws);
                    break;
                case "x.pe":
                    if (TryUnescape(raw, plusIsSpace: false, out var pe, out _) && TryParsePeer(pe, out var peer)) peers.Add(peer);
                    break;
                case "dht":
                    if (TryUnescape(raw, plusIsSpace: false, out var dht, out _) && TryParseNode(dht, out var node)) nodes.Add(node);
                    break;
                case "so":
                    if (IsSelection(raw)) MarkSelection(raw, selection ??= new int[MaxSelectedFileIndex + 2]);
                    break;
                case "xl":
                    if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var xl)) length = xl;
                    break;
            }
        }

        if (v1 is null && v2 is null)
            throw new MagnetFormatException(MagnetError.MissingInfoHash, "The magnet link has no info-hash ('xt=urn:btih:' or 'xt=urn:btmh:').");
        return new MagnetLink
        {
            InfoHashV1 = v1,
            InfoHashV2 = v2,
            Name = name,
            Trackers = trackers,
            WebSeeds = webSeeds,
            Peers = peers,
            DhtNodes = nodes,
            SelectedFiles = selection is null ? null : ExpandSelection(selection),
            ExactLength = length,
        };
    }

    /// <summary>Parses a magnet URI, or says why it cannot.</summary>
    public static bool TryParse(string uri, out MagnetLink? link, out string? error)
    {
        try
        {
            link = Parse(uri);
            error = null;
            return true;
        }
        catch (MagnetFormatException e)
        {
            link = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Whether the text looks like a magnet URI (to choose between a file name and a link).</summary>
    public static bool LooksLikeMagnet(string text) => text.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase);

    /// <summary>The magnet link of a torrent: its hashes, name, trackers and web seeds.</summary>
    public static MagnetLink FromTorrent(TorrentMetainfo torrent) => new()
    {
        InfoHashV1 = torrent.InfoHashV1,
        InfoHashV2 = torrent.InfoHashV2,
        Name = torrent.Name,
        Trackers = torrent.AnnounceTiers,
        WebSeeds = torrent.WebSeeds,
        ExactLength = null,
    };

    /// <summary>The URI, written like libtorrent's <c>make_magnet_uri</c> (lower-case percent escapes).</summary>
    public override string ToString()
    {
        if (InfoHashV1 is null && InfoHashV2 is null) throw new InvalidOperationException("A magnet link needs an info-hash.");
        var sb = new StringBuilder("magnet:?");
        var separator = "";
        if (InfoHashV1 is { } h1)
        {
            sb.Append("xt=urn:btih:").Append(h1.ToHex());
            separator = "&";
        }
        if (InfoHashV2 is { } h2)
        {
            if (h2.Length != 32) throw new InvalidOperationException("A v2 info-hash has 32 bytes.");
            sb.Append(separator).Append("xt=urn:btmh:1220").Append(Convert.ToHexStringLower(h2));
        }
        if (!string.IsNullOrEmpty(Name)) sb.Append("&dn=").Append(Escape(Name));
        if (ExactLength is { } xl) sb.Append("&xl=").Append(xl.ToString(CultureInfo.InvariantCulture));
        foreach (var tier in Trackers)
            foreach (var tr in tier) sb.Append("&tr=").Append(Escape(tr));
        foreach (var ws in WebSeeds) sb.Append("&ws=").Append(Escape(ws));
        foreach (var pe in Peers) sb.Append("&x.pe=").Append(pe.ToString());
        foreach (var (host, port) in DhtNodes) sb.Append("&dht=").Append(host).Append(':').Append(port.ToString(CultureInfo.InvariantCulture));
        if (SelectedFiles is { } selected) sb.Append("&so=").Append(FormatSelection(selected));
        return sb.ToString();
    }

    private static string NormalizeKey(string key)
    {
        key = key.ToLowerInvariant();
        // "tr.1" is "tr"; "x.pe" is its own name (the suffix must be all digits).
        int dot = key.LastIndexOf('.');
        if (dot > 0 && dot < key.Length - 1 && key.AsSpan(dot + 1).IndexOfAnyExceptInRange('0', '9') < 0) key = key[..dot];
        return key;
    }

    private static InfoHash ParseBtih(string value)
    {
        Span<byte> hash = stackalloc byte[20];
        if (value.Length == 40 && Convert.FromHexString(value, hash, out _, out int written) == System.Buffers.OperationStatus.Done && written == 20)
            return new InfoHash(hash);
        if (value.Length == 32 && TryDecodeBase32(value, hash)) return new InfoHash(hash);
        throw new MagnetFormatException(MagnetError.InvalidInfoHash,
            "The magnet link's btih info-hash is neither 40 hex digits nor 32 base32 characters.");
    }

    private static byte[] ParseBtmh(string value)
    {
        // A multihash: 0x12 (sha2-256), 0x20 (32 bytes), then the digest.
        if (value.Length == 68 && value.StartsWith("1220", StringComparison.Ordinal))
        {
            var hash = new byte[32];
            if (Convert.FromHexString(value.AsSpan(4), hash, out _, out int written) == System.Buffers.OperationStatus.Done && written == 32)
                return hash;
        }
        throw new MagnetFormatException(MagnetError.InvalidInfoHash,
            "The magnet link's btmh info-hash is not '1220' followed by 64 hex digits (a SHA-256 multihash).");
    }

    /// <summary>RFC 4648 base32, any case; '1' is read as 'I' like libtorrent does.</summary>
    private static bool TryDecodeBase32(string text, Span<byte> output)
    {
        ulong buffer = 0;
        int bits = 0, written = 0;
        foreach (var ch in text)
        {
            int c = char.ToUpperInvariant(ch);
            int v = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= '2' and <= '7' => c - '2' + 26,
                '1' => 'I' - 'A',
                _ => -1,
            };
            if (v < 0) return false;
            buffer = (buffer << 5) | (uint)v;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                output[written++] = (byte)(buffer >> bits);
            }
        }
        return written == output.Length;
    }

    private static bool IsTrackerUrl(string url) =>
        (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && url.Length > 7)
        || (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && url.Length > 8)
        || (url.StartsWith("udp://", StringComparison.OrdinalIgnoreCase) && url.Length > 6);

    private static bool TryParsePeer(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is 0 or > 65535)
            return false;
        var host = text[..colon];
        IPAddress? address;
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            if (!IPAddress.TryParse(host[1..^1], out address) || address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        }
        else if (!IPAddress.TryParse(host, out address) || address.AddressFamily != AddressFamily.InterNetwork || host.Count(c => c == '.') != 3)
        {
            return false;
        }
        endpoint = new IPEndPoint(address, port);
        return true;
    }

    private static bool TryParseNode(string text, out (string, int) node)
    {
        node = default;
        int colon = text.LastIndexOf(':');
        // libtorrent keeps ports 1..65534 only.
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is 0 or >= 65535)
            return false;
        node = (text[..colon], port);
        return true;
    }

    /// <summary>
    /// Whether a BEP 53 <c>so</c> value is usable: indices and <c>a-b</c> ranges separated by commas. A value with
    /// anything else is ignored whole.
    /// </summary>
    private static bool IsSelection(string value) => value.AsSpan().IndexOfAnyExcept("0123456789-,") < 0;

    /// <summary>
    /// Marks the indices and ranges of a <c>so</c> value on <paramref name="edges"/> (+1 at a range's first index, -1
    /// after its last), in constant work per range. Inverted or open ranges and indices above
    /// <see cref="MaxSelectedFileIndex"/> are skipped.
    /// </summary>
    private static void MarkSelection(string value, int[] edges)
    {
        foreach (var token in value.AsSpan().Split(','))
        {
            var text = value.AsSpan(token);
            if (text.IsEmpty) continue;
            ParseWork.Add(1);
            int dash = text.IndexOf('-');
            int first, last;
            if (dash < 0)
            {
                if (!TryIndex(text, out first)) continue;
                last = first;
            }
            else if (!TryIndex(text[..dash], out first) || !TryIndex(text[(dash + 1)..], out last) || first > last)
            {
                continue;
            }
            edges[first]++;
            edges[last + 1]--;
        }

        static bool TryIndex(ReadOnlySpan<char> s, out int index) =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index <= MaxSelectedFileIndex;
    }

    /// <summary>The indices covered by at least one marked range, ascending: one pass over the index range.</summary>
    private static SelectedFileList ExpandSelection(int[] edges)
    {
        ParseWork.Add(edges.Length);
        var member = new bool[MaxSelectedFileIndex + 1];
        var selected = new List<int>();
        int covering = 0;
        for (int i = 0; i <= MaxSelectedFileIndex; i++)
        {
            covering += edges[i];
            if (covering > 0)
            {
                selected.Add(i);
                member[i] = true;
            }
        }
        return new SelectedFileList([.. selected], member);
    }

    /// <summary>
    /// The file indices a parsed link selects: ascending, and <see cref="Contains"/> answers without a scan. The engine
    /// applies a selection by asking Contains once per file of the torrent (LINQ's Contains hands the question to
    /// <see cref="ICollection{T}.Contains"/>); scanning a list there cost files x selected indices, 300,000 x 10,001
    /// for metadata a stranger can publish.
    /// </summary>
    private sealed class SelectedFileList(int[] indices, bool[] member) : IReadOnlyList<int>, ICollection<int>
    {
        public int this[int index] => indices[index];

        public int Count => indices.Length;

        public bool IsReadOnly => true;

        public bool Contains(int item)
        {
            ParseWork.Add(1);
            return (uint)item < (uint)member.Length && member[item];
        }

        public void CopyTo(int[] array, int arrayIndex) => indices.CopyTo(array, arrayIndex);

        public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)indices).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        void ICollection<int>.Add(int item) => throw new NotSupportedException("A magnet link's selection is read-only.");

        void ICollection<int>.Clear() => throw new NotSupportedException("A magnet link's selection is read-only.");

        bool ICollection<int>.Remove(int item) => throw new NotSupportedException("A magnet link's selection is read-only.");
    }

    private static string FormatSelection(IReadOnlyList<int> selected)
    {
        var sorted = selected.Distinct().Order().ToList();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? sorted[i].ToString(CultureInfo.InvariantCulture) : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    /// <summary>Percent-decodes (UTF-8); on a bad escape returns false with what was decoded before it.</summary>
    private static bool TryUnescape(string text, bool plusIsSpace, out string result, out string partial)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        bool ok = true;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '%')
            {
                if (i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
                {
                    bytes.Add((byte)Convert.ToInt32(text.Substring(i + 1, 2), 16));
                    i += 2;
                    continue;
                }
                ok = false;
                break;
            }
            if (c == '+' && plusIsSpace) bytes.Add((byte)' ');
            else if (c < 0x80) bytes.Add((byte)c);
            else
            {
                Rune rune;
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) rune = new Rune(c, text[++i]);
                else rune = char.IsSurrogate(c) ? Rune.ReplacementChar : new Rune(c);
                int n = rune.EncodeToUtf8(utf8);
                for (int k = 0; k < n; k++) bytes.Add(utf8[k]);
            }
        }
        partial = Encoding.UTF8.GetString(bytes.ToArray());
        result = ok ? partial : "";
        return ok;
    }

    /// <summary>Percent-encodes everything but letters, digits and <c>-_.!~*'()</c>, with lower-case hex (as libtorrent).</summary>
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length * 3 / 2);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'!' or (byte)'~' or (byte)'*' or (byte)'\'' or (byte)'(' or (byte)')')
                sb.Append((char)b);
            else
                sb.Append('%').Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
