using System.Security.Cryptography;

namespace RTorrent.Engine.Metainfo;

/// <summary>
/// BEP 52's per-file merkle trees: SHA-256 over 16 KiB blocks (the last one of a file may be shorter and is hashed as
/// it is), padded to a power of two with all-zero leaves, each node the SHA-256 of its two children.
/// </summary>
/// <remarks>
/// A piece's hash (a node of the "piece layer") is the root over the piece's blocks padded to the piece's block count;
/// a file of at most one piece has no piece layer: its pieces root is the root over its blocks padded only to the next
/// power of two (<see cref="PieceWidth"/>).
/// </remarks>
public static class MerkleTree
{
    /// <summary>Bytes per leaf block.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Bytes per hash.</summary>
    public const int HashSize = 32;

    /// <summary>Tallest tree kept in <see cref="ZeroHashes"/>: 2^50 bytes / 16 KiB = 2^36 leaves, with room.</summary>
    private const int MaxHeight = 64;

    /// <summary>ZeroHashes[h] is the root of a subtree of 2^h all-zero leaves (leaf = 32 zero bytes).</summary>
    private static readonly byte[][] ZeroHashes = MakeZeroHashes();

    private static byte[][] MakeZeroHashes()
    {
        var z = new byte[MaxHeight][];
        z[0] = new byte[HashSize];
        Span<byte> pair = stackalloc byte[64];
        for (int h = 1; h < MaxHeight; h++)
        {
            z[h - 1].CopyTo(pair);
            z[h - 1].CopyTo(pair[32..]);
            z[h] = SHA256.HashData(pair);
        }
        return z;
    }

    /// <summary>The root of 2^<paramref name="height"/> zero leaves.</summary>
    public static ReadOnlySpan<byte> ZeroHash(int height) => ZeroHashes[height];

    /// <summary>Smallest power of two at least <paramref name="n"/> (1 for 0).</summary>
    public static long NextPowerOfTwo(long n)
    {
        long w = 1;
        while (w < n) w <<= 1;
        return w;
    }

    /// <summary>log2 of a power of two.</summary>
    public static int Log2(long powerOfTwo) => System.Numerics.BitOperations.Log2((ulong)powerOfTwo);

    /// <summary>Number of 16 KiB blocks in <paramref name="length"/> bytes.</summary>
    public static long BlockCount(long length) => (length + BlockSize - 1) / BlockSize;

    /// <summary>
    /// How many leaves the hash of a piece of a file covers: the piece's block count, or for a file of at most one
    /// piece, its own block count rounded up to a power of two (BEP 52: such a file's root is its whole tree).
    /// </summary>
    public static int PieceWidth(long fileLength, long pieceLength) =>
        fileLength <= pieceLength ? (int)NextPowerOfTwo(BlockCount(fileLength)) : (int)(pieceLength / BlockSize);

    /// <summary>Hashes each 16 KiB block of <paramref name="data"/> into consecutive 32-byte leaves.</summary>
    /// <returns>Number of leaves written.</returns>
    public static int HashBlocks(ReadOnlySpan<byte> data, Span<byte> leaves)
    {
        int n = 0;
        for (int at = 0; at < data.Length; at += BlockSize, n++)
            SHA256.HashData(data.Slice(at, Math.Min(BlockSize, data.Length - at)), leaves.Slice(n * HashSize, HashSize));
        return n;
    }

    /// <summary>
    /// Root over <paramref name="count"/> hashes in <paramref name="level"/> (which is overwritten), padded with zero
    /// subtrees of height <paramref name="padHeight"/> up to <paramref name="width"/> (a power of two) hashes.
    /// </summary>
    public static void Root(Span<byte> level, int count, long width, int padHeight, Span<byte> root)
    {
        if (count == 0)
        {
            ZeroHashes[padHeight + Log2(width)].CopyTo(root);
            return;
        }
        if (width == 1)
        {
            if (count == 1) level[..HashSize].CopyTo(root);
            else ZeroHashes[padHeight].CopyTo(root);
            return;
        }
        int height = padHeight;
        long w = width;
        Span<byte> pair = stackalloc byte[64];
        // Pairs of real hashes are reduced in place; past the real hashes everything is a zero subtree.
        while (w > 1)
        {
            int next = (count + 1) / 2;
            for (int i = 0; i < next; i++)
            {
                var left = level.Slice(2 * i * HashSize, HashSize);
                left.CopyTo(pair);
                if (2 * i + 1 < count) level.Slice((2 * i + 1) * HashSize, HashSize).CopyTo(pair[32..]);
                else ZeroHashes[height].CopyTo(pair[32..]);
                SHA256.HashData(pair, level.Slice(i * HashSize, HashSize));
            }
            count = next;
            w /= 2;
            height++;
        }
        level[..HashSize].CopyTo(root);
    }

    /// <summary>Root over leaves hashed from <paramref name="data"/>, padded to <paramref name="width"/> leaves.</summary>
    public static byte[] RootOfData(ReadOnlySpan<byte> data, int width)
    {
        int blocks = (int)BlockCount(data.Length);
        var leaves = new byte[Math.Max(1, blocks) * HashSize];
        int n = HashBlocks(data, leaves);
        var root = new byte[HashSize];
        Root(leaves, n, width, 0, root);
        return root;
    }

    /// <summary>
    /// The pieces root of a file from its piece layer: the layer's hashes padded with zero pieces (subtrees of
    /// pieceLength / 16 KiB zero leaves) to a power of two.
    /// </summary>
    public static byte[] RootOfLayer(ReadOnlySpan<byte> layer, long pieceLength)
    {
        int count = layer.Length / HashSize;
        var level = layer.ToArray();
        var root = new byte[HashSize];
        Root(level, count, NextPowerOfTwo(count), Log2(pieceLength / BlockSize), root);
        return root;
    }

    /// <summary>Hash of two children.</summary>
    public static void HashPair(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> parent)
    {
        Span<byte> pair = stackalloc byte[64];
        left.CopyTo(pair);
        right.CopyTo(pair[32..]);
        SHA256.HashData(pair, parent);
    }
}
