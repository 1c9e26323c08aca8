using System.Net;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Peers;

/// <summary>The BEP 10 extended handshake (extended message id 0).</summary>
internal sealed record ExtensionHandshake
{
    /// <summary>Extension name to the message id the sender wants to receive it under; 0 means disabled.</summary>
    public Dictionary<string, int> Extensions { get; init; } = new(StringComparer.Ordinal);
    /// <summary>Client name and version ('v').</summary>
    public string? Client { get; init; }
    /// <summary>The sender's listen port ('p').</summary>
    public int? ListenPort { get; init; }
    /// <summary>How many outstanding requests the sender accepts ('reqq').</summary>
    public int? RequestQueue { get; init; }
    /// <summary>Our address as the sender sees it ('yourip').</summary>
    public IPAddress? YourIp { get; init; }
    /// <summary>Size of the info dictionary (BEP 9 'metadata_size').</summary>
    public long? MetadataSize { get; init; }
    /// <summary>
    /// BEP 21 'upload_only': the sender wants nothing more (a seed, or a partial seed done with the files it wants).
    /// Written only when true (as libtorrent); read as null when absent.
    /// </summary>
    public bool? UploadOnly { get; init; }

    /// <summary>Largest metadata we accept (libtorrent uses 4 MiB by default; real torrents fit easily).</summary>
    public const long MaxMetadataSize = 16 * 1024 * 1024;

    /// <summary>
    /// Most extensions a handshake may name in 'm'. Real clients name a handful (libtorrent about ten); every name is
    /// kept for the life of the connection, so a peer naming thousands is refused.
    /// </summary>
    public const int MaxExtensions = 128;

    /// <summary>
    /// Issue 14: names from every extended handshake a peer sends are merged, so repeated handshakes with new names
    /// would grow its table without end; past <see cref="MaxExtensions"/> in all the peer is refused.
    /// </summary>
    /// <exception cref="PeerProtocolException">More than <see cref="MaxExtensions"/> names known for the peer.</exception>
    public static void CheckAccumulated(int namesKnown)
    {
        if (namesKnown > MaxExtensions)
            throw new PeerProtocolException($"extended handshakes named {namesKnown} extensions in all; the limit is {MaxExtensions}");
    }

    public byte[] Encode()
    {
        var m = new BDictionary();
        foreach (var (name, id) in Extensions) m[name] = new BInteger(id);
        var d = new BDictionary { ["m"] = m };
        if (Client is not null) d["v"] = new BString(Client);
        if (ListenPort is { } p) d["p"] = new BInteger(p);
        if (RequestQueue is { } q) d["reqq"] = new BInteger(q);
        if (YourIp is { } ip) d["yourip"] = new BString(ip.GetAddressBytes());
        if (MetadataSize is { } ms) d["metadata_size"] = new BInteger(ms);
        if (UploadOnly == true) d["upload_only"] = new BInteger(1);
        return BencodeWriter.Encode(d);
    }

    /// <summary>Decodes a handshake; unknown keys are ignored, wrong types are treated as absent.</summary>
    /// <exception cref="PeerProtocolException">Not a bencoded dictionary.</exception>
    public static ExtensionHandshake Decode(ReadOnlyMemory<byte> payload)
    {
        BDictionary d;
        try
        {
            d = BencodeReader.DecodeDictionary(payload, new BencodeReaderOptions { Strict = false, MaxDepth = 16, MaxItems = 10_000 });
        }
        catch (BencodeException e)
        {
            throw new PeerProtocolException("malformed extended handshake: " + e.Message);
        }
        var ext = new Dictionary<string, int>(StringComparer.Ordinal);
        if (d.Get<BDictionary>("m") is { } m)
        {
            if (m.Count > MaxExtensions)
                throw new PeerProtocolException($"extended handshake names {m.Count} extensions; the limit is {MaxExtensions}");
            foreach (var (k, v) in m)
                if (v is BInteger i && i.Value is >= 0 and <= 255) ext[k.Text] = (int)i.Value;
        }
        string? client = d.Get<BString>("v") is { } v2 && v2.Bytes.Length <= 100 ? v2.Text : null;
        int? port = d.GetInteger("p") is { } p2 && p2 is > 0 and <= 65535 ? (int)p2 : null;
        int? reqq = d.GetInteger("reqq") is { } r && r > 0 ? (int)Math.Min(r, 100_000) : null;
        IPAddress? yourIp = d.Get<BString>("yourip") is { } y && (y.Bytes.Length == 4 || y.Bytes.Length == 16) ? new IPAddress(y.Bytes.Span) : null;
        long? metadataSize = d.GetInteger("metadata_size") is { } s && s > 0 ? s : null;
        bool? uploadOnly = d.GetInteger("upload_only") is { } u ? u != 0 : null;
        return new ExtensionHandshake
        {
            Extensions = ext,
            Client = client,
            ListenPort = port,
            RequestQueue = reqq,
            YourIp = yourIp,
            MetadataSize = metadataSize,
            UploadOnly = uploadOnly,
        };
    }
}
