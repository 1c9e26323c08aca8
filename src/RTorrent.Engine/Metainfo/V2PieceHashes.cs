using System.Buffers;

namespace RTorrent.Engine.Metainfo;

/// <summary>
/// The v2 (BEP 52) side of a torrent's pieces: which file each piece lies in (a v2 piece never spans files: the
/// parser lays every file from a piece boundary, with pad space after it), the piece layers known so far (from the
/// .torrent's 'piece layers', or received from peers and proven against the file's pieces root), and the merkle check
/// of a piece's blocks. One per parsed torrent; layers are only ever added, each once, and read from any thread.
/// </summary>
internal sealed class V2PieceHashes
{
    private readonly TorrentMetainfo _meta;
    private readonly int[] _pieceFile;      // piece -> index in Files, -1 for a piece of pad only
    private readonly byte[]?[] _layers;     // by file index; null until known (files of one piece need none)
    private int _missing;                   // files of more than one piece without a layer
    private int _received;                  // layers set after parsing (received from peers)

    /// <summary>Layers received from peers since the torrent was parsed (they belong in its saved .torrent).</summary>
    public int ReceivedLayers => Volatile.Read(ref _received);

    public V2PieceHashes(TorrentMetainfo meta, IReadOnlyDictionary<int, ReadOnlyMemory<byte>> layers)
    {
        _meta = meta;
        _pieceFile = new int[meta.PieceCount];
        Array.Fill(_pieceFile, -1);
        _layers = new byte[]?[meta.Files.Count];
        foreach (var f in meta.Files)
        {
            if (f.IsPadding || f.Length == 0 || f.PiecesRoot.IsEmpty) continue;
            int first = (int)(f.Offset / meta.PieceLength);
            int count = PiecesOf(f);
            for (int k = 0; k < count && first + k < _pieceFile.Length; k++) _pieceFile[first + k] = f.Index;
            if (count > 1)
            {
                if (layers.TryGetValue(f.Index, out var layer)) _layers[f.Index] = layer.ToArray();
                else _missing++;
            }
        }
    }

    public long PieceLength => _meta.PieceLength;

    /// <summary>Blocks per piece (a power of two).</summary>
    public int BlocksPerPiece => (int)(_meta.PieceLength / MerkleTree.BlockSize);

    /// <summary>Every piece layer is known: every piece can be checked.</summary>
    public bool Complete => Volatile.Read(ref _missing) == 0;

    /// <summary>Number of pieces of file <paramref name="f"/>.</summary>
    public int PiecesOf(TorrentFileEntry f) => (int)((f.Length + _meta.PieceLength - 1) / _meta.PieceLength);

    /// <summary>The file a piece lies in, or null for a piece of pad only.</summary>
    public TorrentFileEntry? FileOf(int piece) =>
        (uint)piece < (uint)_pieceFile.Length && _pieceFile[piece] >= 0 ? _meta.Files[_pieceFile[piece]] : null;

    /// <summary>The file whose 'pieces root' is <paramref name="root"/>, or null.</summary>
    public TorrentFileEntry? FileByRoot(ReadOnlySpan<byte> root)
    {
        foreach (var f in _meta.Files)
            if (!f.IsPadding && f.Length > 0 && f.PiecesRoot.Span.SequenceEqual(root)) return f;
        return null;
    }

    /// <summary>The known layer of a file (one 32-byte hash per piece), or null.</summary>
    public byte[]? LayerOf(int fileIndex) => Volatile.Read(ref _layers[fileIndex]);

    /// <summary>Files that need a layer and have none yet.</summary>
    public IEnumerable<TorrentFileEntry> MissingLayers() =>
        _meta.Files.Where(f => !f.IsPadding && f.Length > _meta.PieceLength && LayerOf(f.Index) is null);

    /// <summary>Sets a file's layer once it hashes to the file's pieces root. False (and nothing set) otherwise.</summary>
    public bool TrySetLayer(int fileIndex, byte[] layer)
    {
        var f = _meta.Files[fileIndex];
        if (f.IsPadding || f.Length <= _meta.PieceLength || layer.Length != PiecesOf(f) * MerkleTree.HashSize) return false;
        if (!MerkleTree.RootOfLayer(layer, _meta.PieceLength).AsSpan().SequenceEqual(f.PiecesRoot.Span)) return false;
        if (Interlocked.CompareExchange(ref _layers[fileIndex], layer, null) is null)
        {
            Interlocked.Decrement(ref _missing);
            Interlocked.Increment(ref _received);
        }
        return true;
    }

    /// <summary>All known layers by file index (for writing 'piece layers' into a .torrent).</summary>
    public IEnumerable<(TorrentFileEntry File, byte[] Layer)> KnownLayers()
    {
        foreach (var f in _meta.Files)
            if (LayerOf(f.Index) is { } l) yield return (f, l);
    }

    /// <summary>Bytes of file data in piece <paramref name="piece"/> (its pad space left out).</summary>
    public int DataLength(int piece)
    {
        if (FileOf(piece) is not { } f) return 0;
        long start = (long)piece * _meta.PieceLength;
        return (int)Math.Min(_meta.GetPieceSize(piece), f.Offset + f.Length - start);
    }

    /// <summary>
    /// The hash a piece must have: its node of the file's piece layer, or for a file of one piece its pieces root.
    /// False when the layer is not known yet (or the piece is pad only).
    /// </summary>
    public bool TryGetPieceHash(int piece, Span<byte> hash)
    {
        if (FileOf(piece) is not { } f) return false;
        if (f.Length <= _meta.PieceLength)
        {
            f.PiecesRoot.Span.CopyTo(hash);
            return true;
        }
        if (LayerOf(f.Index) is not { } layer) return false;
        int k = piece - (int)(f.Offset / _meta.PieceLength);
        layer.AsSpan(k * MerkleTree.HashSize, MerkleTree.HashSize).CopyTo(hash);
        return true;
    }

    /// <summary>Leaves in the hash of a piece of file <paramref name="f"/>.</summary>
    public int PieceWidth(TorrentFileEntry f) => MerkleTree.PieceWidth(f.Length, _meta.PieceLength);

    /// <summary>
    /// Checks a piece from its block leaf hashes (<paramref name="count"/> of them at the start of
    /// <paramref name="leaves"/>, which is overwritten). Null when its hash is not known yet.
    /// </summary>
    public bool? CheckLeaves(int piece, Span<byte> leaves, int count)
    {
        Span<byte> expected = stackalloc byte[MerkleTree.HashSize];
        if (!TryGetPieceHash(piece, expected)) return FileOf(piece) is null ? true : null;
        Span<byte> root = stackalloc byte[MerkleTree.HashSize];
        MerkleTree.Root(leaves, count, PieceWidth(FileOf(piece)!), 0, root);
        return root.SequenceEqual(expected);
    }

    /// <summary>
    /// Hashes the file data of a piece given as 16 KiB blocks into <paramref name="leaves"/> (one hash per block with
    /// data). Returns the number of leaves.
    /// </summary>
    public int HashBlocks(int piece, byte[]?[] blocks, Span<byte> leaves)
    {
        int data = DataLength(piece), n = 0;
        for (int at = 0; at < data; at += MerkleTree.BlockSize, n++)
            System.Security.Cryptography.SHA256.HashData(
                blocks[n].AsSpan(0, Math.Min(MerkleTree.BlockSize, data - at)), leaves.Slice(n * MerkleTree.HashSize, MerkleTree.HashSize));
        return n;
    }

    /// <summary>Checks a piece given as its blocks. Null when its hash is not known yet.</summary>
    public bool? Verify(int piece, byte[]?[] blocks)
    {
        var leaves = ArrayPool<byte>.Shared.Rent(Math.Max(1, blocks.Length) * MerkleTree.HashSize);
        try
        {
            int n = HashBlocks(piece, blocks, leaves);
            return CheckLeaves(piece, leaves, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(leaves);
        }
    }
}
