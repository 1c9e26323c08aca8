using System.Buffers;

namespace RTorrent.Engine.Metainfo;

/// <summary>A .torrent file that failed validation. The message says what is wrong, for the user.</summary>
public sealed class TorrentFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public TorrentFormatException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Which BitTorrent versions a torrent carries (BEP 52).</summary>
[Flags]
public enum TorrentVersions
{
    /// <summary>No info dictionary known yet (a magnet link).</summary>
    None = 0,
    /// <summary>v1: SHA-1 pieces.</summary>
    V1 = 1,
    /// <summary>v2: SHA-256 merkle trees.</summary>
    V2 = 2,
    /// <summary>Both (a hybrid torrent).</summary>
    Hybrid = V1 | V2,
}

/// <summary>A parsed and validated .torrent (metainfo, BEP 3), with every path sanitized.</summary>
public sealed class TorrentMetainfo
{
    /// <summary>The v1 info-hash (SHA-1 of the info dictionary's bytes), if the torrent has a v1 part.</summary>
    public InfoHash? InfoHashV1 { get; init; }

    /// <summary>The v2 info-hash (SHA-256 of the info dictionary's bytes, 32 bytes), if the torrent has a v2 part.</summary>
    public byte[]? InfoHashV2 { get; init; }

    /// <summary>The 20-byte hash used on the wire and in the DHT: v1, or v2 truncated.</summary>
    public InfoHash WireHash => InfoHashV1 ?? new InfoHash(InfoHashV2.AsSpan(0, 20));

    /// <summary>Which versions the torrent has.</summary>
    public required TorrentVersions Versions { get; init; }

    /// <summary>
    /// Whether the engine can download it: always (v1, v2 and hybrid). A v2-only torrent has no
    /// <see cref="PieceHashes"/>; its <see cref="PieceCount"/> counts v2 pieces (each file starts a new piece, the
    /// space up to it is a pad entry in <see cref="Files"/>), checked through <see cref="V2"/>.
    /// </summary>
    public bool IsUsable => Versions != TorrentVersions.None;

    /// <summary>The v2 pieces' files, layers and merkle checks (v2 and hybrid torrents), else null.</summary>
    internal V2PieceHashes? V2 { get; set; }

    /// <summary>The v2 info-hash truncated to 20 bytes (what v2 peers and the DHT use), or null for v1 torrents.</summary>
    public InfoHash? InfoHashV2Truncated => InfoHashV2 is { } h ? new InfoHash(h.AsSpan(0, 20)) : null;

    /// <summary>Sanitized name (file name of a single-file torrent, folder name of a multi-file one).</summary>
    public required string Name { get; init; }

    /// <summary>Whether the info dictionary has a 'files' list (files live under a folder named <see cref="Name"/>).</summary>
    public required bool IsMultiFile { get; init; }

    /// <summary>Nominal piece length in bytes.</summary>
    public required long PieceLength { get; init; }

    /// <summary>Number of pieces.</summary>
    public required int PieceCount { get; init; }

    /// <summary>The concatenated 20-byte SHA-1 piece hashes (v1).</summary>
    public required ReadOnlyMemory<byte> PieceHashes { get; init; }

    /// <summary>All files in order, pad files included (see <see cref="TorrentFileEntry.IsPadding"/>).</summary>
    public required IReadOnlyList<TorrentFileEntry> Files { get; init; }

    /// <summary>Sum of the lengths of the user's files (pad files left out).</summary>
    public required long TotalSize { get; init; }

    /// <summary>Length of the byte stream the pieces cover (pad files included).</summary>
    public required long TotalLength { get; init; }

    /// <summary>Trackers by tier (BEP 12); 'announce' alone becomes one tier. Empty when there are none.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers { get; init; } = [];

    /// <summary>Web seeds (BEP 19 'url-list').</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>BEP 17 'httpseeds': servers answering <c>?info_hash=&amp;piece=</c> requests (docs/WEB-SEEDS.md).</summary>
    public IReadOnlyList<string> HttpSeeds { get; init; } = [];

    /// <summary>
    /// The torrent's 'name' exactly as spelled (UTF-8 decoded, not sanitized): the folder or file name a web seed
    /// serves it under (BEP 19); null when unknown.
    /// </summary>
    public string? OriginalName { get; init; }

    /// <summary>DHT nodes from the 'nodes' key (host, port).</summary>
    public IReadOnlyList<(string Host, int Port)> DhtNodes { get; init; } = [];

    /// <summary>Private torrent (BEP 27): peers only from its trackers.</summary>
    public bool IsPrivate { get; init; }

    /// <summary>'creation date'.</summary>
    public DateTimeOffset? CreationDate { get; init; }

    /// <summary>'comment'.</summary>
    public string? Comment { get; init; }

    /// <summary>'created by'.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>'source' inside info (private trackers use it to make info-hashes unique).</summary>
    public string? Source { get; init; }

    /// <summary>The info dictionary's exact bytes, as in the file (served to peers as metadata, BEP 9).</summary>
    public required ReadOnlyMemory<byte> InfoBytes { get; init; }

    /// <summary>The whole .torrent as read (empty when built from metadata received from peers).</summary>
    public ReadOnlyMemory<byte> RawBytes { get; internal set; }

    /// <summary>
    /// A .torrent file for this torrent: the original bytes when it was read from one, otherwise the trackers and the
    /// info dictionary's exact bytes (never re-encoded, so the info-hash stays the same).
    /// </summary>
    public ReadOnlyMemory<byte> ToTorrentFile()
    {
        // Piece layers received from peers (BEP 52) are kept in the saved file, so a restart need not ask again.
        if (!RawBytes.IsEmpty && (V2 is null || V2.ReceivedLayers == 0)) return RawBytes;
        var w = new ArrayBufferWriter<byte>(InfoBytes.Length + 256);
        w.Write("d"u8);
        if (AnnounceTiers.Count > 0 && AnnounceTiers[0].Count > 0)
        {
            Bencode.BencodeWriter.WriteString(w, "announce"u8);
            Bencode.BencodeWriter.WriteString(w, System.Text.Encoding.UTF8.GetBytes(AnnounceTiers[0][0]));
            Bencode.BencodeWriter.WriteString(w, "announce-list"u8);
            var tiers = new Bencode.BList(AnnounceTiers.Select(t => (Bencode.BValue)new Bencode.BList(t.Select(u => (Bencode.BValue)new Bencode.BString(u)))));
            Bencode.BencodeWriter.Write(w, tiers);
        }
        Bencode.BencodeWriter.WriteString(w, "info"u8);
        w.Write(InfoBytes.Span);
        if (V2 is { } v2 && v2.KnownLayers().Any())
        {
            // Keys sort after "info"; the layers' own keys are sorted by the writer.
            var layers = new Bencode.BDictionary();
            foreach (var (file, layer) in v2.KnownLayers()) layers.Set(new Bencode.BString(file.PiecesRoot), new Bencode.BString(layer));
            Bencode.BencodeWriter.WriteString(w, "piece layers"u8);
            Bencode.BencodeWriter.Write(w, layers);
        }
        w.Write("e"u8);
        return w.WrittenMemory;
    }

    /// <summary>Notes about what sanitizing changed or what was ignored, for the user.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The SHA-1 of piece <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetPieceHash(int index) => PieceHashes.Span.Slice(index * 20, 20);

    /// <summary>Size of piece <paramref name="index"/> (the last one may be shorter).</summary>
    public int GetPieceSize(int index) =>
        index == PieceCount - 1 ? (int)(TotalLength - PieceLength * (PieceCount - 1)) : (int)PieceLength;

    /// <summary>Parses and validates a .torrent held in memory.</summary>
    /// <exception cref="TorrentFormatException">The data is not a usable torrent; the message says why.</exception>
    public static TorrentMetainfo Parse(ReadOnlyMemory<byte> data) => MetainfoParser.Parse(data);

    /// <summary>Parses and validates a .torrent held in memory, sanitizing paths with the given rules.</summary>
    /// <exception cref="TorrentFormatException">The data is not a usable torrent; the message says why.</exception>
    public static TorrentMetainfo Parse(ReadOnlyMemory<byte> data, PathSanitizerOptions pathOptions) => MetainfoParser.Parse(data, pathOptions);

    /// <summary>Largest .torrent file accepted, in bytes (64 MiB; see the parser for why).</summary>
    public const int MaxFileSize = MetainfoParser.MaxTorrentFileSize;

    /// <summary>Most pieces a torrent may have (2^21, as libtorrent).</summary>
    public const int MaxPieces = MetainfoParser.MaxPieces;

    /// <summary>Most file entries a torrent may have, pad files included.</summary>
    public const int MaxFiles = MetainfoParser.MaxFiles;

    /// <summary>Most elements (folders and name) in one file's path or symlink target (see the parser for why).</summary>
    public const int MaxPathDepth = MetainfoParser.MaxPathDepth;

    /// <summary>Reads, parses and validates a .torrent file.</summary>
    /// <exception cref="TorrentFormatException">The file is not a usable torrent; the message says why.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static TorrentMetainfo Load(string path) => MetainfoParser.Load(path);

    /// <summary>
    /// Builds the metainfo from an info dictionary received from peers (BEP 9), with the trackers known from the
    /// magnet link.
    /// </summary>
    public static TorrentMetainfo FromInfoDictionary(ReadOnlyMemory<byte> infoBytes, IReadOnlyList<IReadOnlyList<string>> trackers) =>
        MetainfoParser.FromInfoDictionary(infoBytes, trackers);
}
