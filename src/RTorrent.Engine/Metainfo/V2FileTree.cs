using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Metainfo;

/// <summary>One file of a BEP 52 'file tree', before sanitizing.</summary>
internal sealed record V2File(
    IReadOnlyList<ReadOnlyMemory<byte>> Path,
    long Length,
    ReadOnlyMemory<byte> PiecesRoot,
    string Attributes,
    IReadOnlyList<ReadOnlyMemory<byte>>? SymlinkTarget);

/// <summary>Reads and checks the v2 parts of a torrent (BEP 52): the file tree and the piece layers.</summary>
internal static class V2FileTree
{
    /// <summary>v2 hashes each 16 KiB block; piece layers sit above them.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Parses the file tree into files in tree order (keys sorted, as canonical bencode has them).</summary>
    public static List<V2File> Parse(BValue? tree)
    {
        if (tree is null) throw new TorrentFormatException("The v2 torrent has no 'file tree'.");
        if (tree is not BDictionary root) throw new TorrentFormatException("The v2 'file tree' is not a dictionary.");
        if (root.Count == 0) throw new TorrentFormatException("The v2 'file tree' is empty: the torrent has no files.");
        var files = new List<V2File>();
        Walk(root, [], files);
        return files;
    }

    // Recursion depth is bounded by the bencode decoder's depth limit (the tree cannot be deeper than the input).
    private static void Walk(BDictionary directory, List<ReadOnlyMemory<byte>> path, List<V2File> files)
    {
        if (directory.Count == 0)
            throw new TorrentFormatException($"The v2 file tree has an empty directory '{Show(path)}'.");
        foreach (var (key, value) in directory)
        {
            if (key.Bytes.IsEmpty)
                throw new TorrentFormatException(path.Count == 0
                    ? "The v2 file tree has a file or directory with an empty name at its top level."
                    : $"The v2 file tree has a file or directory with an empty name in '{Show(path)}'.");
            if (value is not BDictionary node)
                throw new TorrentFormatException($"The v2 file tree entry '{Show([.. path, key.Bytes])}' is not a dictionary.");
            var childPath = new List<ReadOnlyMemory<byte>>(path) { key.Bytes };
            if (node.TryGetValue([], out var leaf))
            {
                if (node.Count != 1)
                    throw new TorrentFormatException($"The v2 file tree entry '{Show(childPath)}' is both a file and a directory.");
                files.Add(ParseFile(leaf, childPath));
            }
            else
            {
                Walk(node, childPath, files);
            }
        }
    }

    private static V2File ParseFile(BValue leaf, List<ReadOnlyMemory<byte>> path)
    {
        var where = Show(path);
        if (leaf is not BDictionary d) throw new TorrentFormatException($"The v2 file '{where}' is not a dictionary.");
        var lengthValue = d["length"];
        if (lengthValue is not BInteger lengthInt)
            throw new TorrentFormatException($"The v2 file '{where}' has no integer 'length'.");
        long length = lengthInt.Value;
        if (length < 0) throw new TorrentFormatException($"The v2 file '{where}' has a negative length ({length}).");
        if (length > MetainfoParser.MaxFileLength)
            throw new TorrentFormatException($"The v2 file '{where}' is too large ({length} bytes).");
        var attr = d.GetText("attr") ?? "";
        if (attr.Contains('p'))
            throw new TorrentFormatException($"The v2 file '{where}' has the pad attribute, which v2 file trees must not use.");
        if (attr.Contains('l'))
        {
            var target = d["symlink path"] as BList;
            if (target is null || target.Any(e => e is not BString))
                throw new TorrentFormatException($"The v2 file '{where}' is a symlink without a valid 'symlink path'.");
            return new V2File(path, 0, default, attr, [.. target.Cast<BString>().Select(s => s.Bytes)]);
        }
        ReadOnlyMemory<byte> root = default;
        if (length > 0)
        {
            if (d["pieces root"] is not BString r || r.Bytes.Length != 32)
                throw new TorrentFormatException($"The v2 file '{where}' has no 32-byte 'pieces root'.");
            if (!r.Bytes.Span.ContainsAnyExcept((byte)0))
                throw new TorrentFormatException($"The v2 file '{where}' has an all-zero 'pieces root'.");
            root = r.Bytes;
        }
        return new V2File(path, length, root, attr, null);
    }

    /// <summary>
    /// Checks the top-level 'piece layers' against the files: keys are 32-byte pieces roots, values hold one 32-byte
    /// hash per piece and hash up to their file's root. Layers may be missing (peers can supply them); wrong ones are
    /// refused.
    /// </summary>
    /// <returns>How many multi-piece files have no layer.</returns>
    public static int CheckPieceLayers(BValue? layers, IReadOnlyList<V2File> files, long pieceLength) =>
        CheckPieceLayers(layers, files, pieceLength, null);

    /// <summary>As <see cref="CheckPieceLayers(BValue?, IReadOnlyList{V2File}, long)"/>, collecting the good layers by pieces root (hex).</summary>
    public static int CheckPieceLayers(BValue? layers, IReadOnlyList<V2File> files, long pieceLength, Dictionary<string, ReadOnlyMemory<byte>>? found)
    {
        var byRoot = new Dictionary<string, V2File>();
        foreach (var f in files)
            if (f.Length > pieceLength) byRoot.TryAdd(Convert.ToHexString(f.PiecesRoot.Span), f);
        if (layers is null) return byRoot.Count;
        if (layers is not BDictionary dict) throw new TorrentFormatException("'piece layers' is not a dictionary.");

        int count = 0;
        foreach (var (key, value) in dict)
        {
            if (key.Bytes.Length != 32)
                throw new TorrentFormatException($"A 'piece layers' key is {key.Bytes.Length} bytes, not a 32-byte pieces root.");
            if (value is not BString layer)
                throw new TorrentFormatException("A 'piece layers' value is not a string of hashes.");
            if (layer.Bytes.Length % 32 != 0)
                throw new TorrentFormatException($"A piece layer is {layer.Bytes.Length} bytes, not a multiple of 32.");
            if (!byRoot.TryGetValue(Convert.ToHexString(key.Bytes.Span), out var file)) continue;
            long pieces = (file.Length + pieceLength - 1) / pieceLength;
            if (layer.Bytes.Length / 32 != pieces)
                throw new TorrentFormatException(
                    $"The piece layer of '{Show(file.Path)}' has {layer.Bytes.Length / 32} hashes; the file has {pieces} pieces.");
            if (!RootOfLayer(layer.Bytes.Span, pieceLength).AsSpan().SequenceEqual(file.PiecesRoot.Span))
                throw new TorrentFormatException($"The piece layer of '{Show(file.Path)}' does not hash to the file's 'pieces root'.");
            if (found?.TryAdd(Convert.ToHexString(key.Bytes.Span), layer.Bytes) != false) count++;
        }
        return byRoot.Count - count;
    }

    /// <summary>
    /// The merkle root over a piece layer, padded to a power of two with the hash of an all-zero piece (BEP 52: leaves
    /// past the end of the file are zero).
    /// </summary>
    public static byte[] RootOfLayer(ReadOnlySpan<byte> layer, long pieceLength) => MerkleTree.RootOfLayer(layer, pieceLength);

    private static string Show(IEnumerable<ReadOnlyMemory<byte>> path) =>
        string.Join('/', path.Select(p => System.Text.Encoding.UTF8.GetString(p.Span)));
}
