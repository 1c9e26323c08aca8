using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Metainfo;

// BEP 52 torrents (v2-only and hybrid), laid out as libtorrent 2.0's create_torrent lays them, so the same files and
// piece length give the same info-hashes:
// - files in file-tree order: element by element, by their UTF-8 bytes (a v2 file tree is a bencoded dictionary, so
//   that is the only order it has; a hybrid's v1 list must follow it);
// - every file starts a piece: each file's pieces are hashed on their own (a v2 piece never spans two files);
// - a hybrid's v1 'files' list has a pad file ('attr' "p", path ".pad/N") after every file whose length is not a
//   multiple of the piece length, the last one included; a single file is written with 'length' and no pad;
// - 'piece layers' holds the layer of every file longer than one piece.
public static partial class TorrentCreator
{
    private sealed record V2Piece(int File, long Offset, int Size);

    private static async Task<CreatedTorrent> CreateV2Async(
        string full, bool multiFile, List<SourceFile> files, long total, TorrentCreatorOptions options,
        IProgress<TorrentCreationProgress>? progress, List<string> skipped, CancellationToken cancellationToken)
    {
        bool hybrid = options.Version == TorrentVersions.Hybrid;
        long pieceLength = options.PieceLength ?? ChoosePieceLength(total);
        if (pieceLength < MerkleTree.BlockSize || pieceLength > MetainfoParser.MaxPieceLength || (pieceLength & (pieceLength - 1)) != 0)
            throw new ArgumentException($"Piece length {pieceLength} cannot make a v2 torrent: it needs a power of two from 16 KiB to 1 GiB.", nameof(options));
        files.Sort((a, b) => CompareTreeOrder(a.Elements, b.Elements));

        var pieces = new List<V2Piece>();
        var firstPiece = new int[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            firstPiece[i] = pieces.Count;
            if (files[i].LinkTarget is not null) continue;
            for (long at = 0; at < files[i].Length; at += pieceLength)
            {
                pieces.Add(new V2Piece(i, at, (int)Math.Min(pieceLength, files[i].Length - at)));
                if (pieces.Count > MetainfoParser.MaxPieces)
                    throw new ArgumentException($"More than {MetainfoParser.MaxPieces} pieces; choose a larger piece length.", nameof(options));
            }
        }

        var (v2Hashes, v1Hashes) = await HashV2PiecesAsync(files, pieces, pieceLength, hybrid, padLast: multiFile,
            options.Parallelism ?? Environment.ProcessorCount, progress, total, cancellationToken).ConfigureAwait(false);

        var name = options.Name ?? Path.GetFileName(full);
        var tree = new BDictionary();
        var layers = new BDictionary();
        var v1List = new BList();
        for (int i = 0; i < files.Count; i++)
        {
            var f = files[i];
            var leaf = new BDictionary { ["length"] = new BInteger(f.Length) };
            if (f.Attr.Length > 0) leaf["attr"] = new BString(f.Attr);
            if (f.LinkTarget is { } target) leaf["symlink path"] = new BList(target.Select(e => new BString(e)));
            if (f.Length > 0)
            {
                int count = (int)((f.Length + pieceLength - 1) / pieceLength);
                var layer = v2Hashes.AsMemory(firstPiece[i] * MerkleTree.HashSize, count * MerkleTree.HashSize);
                // A file of one piece has no layer: its piece's hash (over its own blocks) is its root.
                var root = count == 1 ? layer.ToArray() : MerkleTree.RootOfLayer(layer.Span, pieceLength);
                leaf["pieces root"] = new BString(root);
                if (count > 1) layers.Set(new BString(root), new BString(layer));
            }
            string[] elements = multiFile ? f.Elements : [name];
            var folder = tree;
            foreach (var element in elements.AsSpan(0, elements.Length - 1))
            {
                if (folder[element] is not BDictionary sub) folder[element] = sub = new BDictionary();
                folder = sub;
            }
            folder[elements[^1]] = new BDictionary { [""] = leaf };

            if (hybrid && multiFile)
            {
                var entry = new BDictionary { ["length"] = new BInteger(f.Length), ["path"] = new BList(f.Elements.Select(e => new BString(e))) };
                if (f.Attr.Length > 0) entry["attr"] = new BString(f.Attr);
                if (f.LinkTarget is { } t) entry["symlink path"] = new BList(t.Select(e => new BString(e)));
                v1List.Add(entry);
                long pad = (pieceLength - f.Length % pieceLength) % pieceLength;
                if (pad > 0)
                {
                    var size = pad.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    v1List.Add(new BDictionary { ["attr"] = new BString("p"), ["length"] = new BInteger(pad), ["path"] = new BList([new BString(".pad"), new BString(size)]) });
                }
            }
        }

        var info = new BDictionary
        {
            ["file tree"] = tree,
            ["meta version"] = new BInteger(2),
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(pieceLength),
        };
        if (hybrid)
        {
            if (multiFile) info["files"] = v1List;
            else
            {
                info["length"] = new BInteger(total);
                if (files[0].Attr.Length > 0) info["attr"] = new BString(files[0].Attr);
            }
            info["pieces"] = new BString(v1Hashes!);
        }
        if (options.IsPrivate) info["private"] = new BInteger(1);
        if (!string.IsNullOrEmpty(options.Source)) info["source"] = new BString(options.Source);

        var bytes = BencodeWriter.Encode(MakeTop(options, info, layers));
        return new CreatedTorrent(bytes, TorrentMetainfo.Parse(bytes), skipped);
    }

    /// <summary>File-tree order: element by element, each by its UTF-8 bytes (as bencode sorts dictionary keys).</summary>
    internal static int CompareTreeOrder(string[] a, string[] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = System.Text.Encoding.UTF8.GetBytes(a[i]).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(b[i]));
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }

    /// <summary>
    /// Hashes every v2 piece (its merkle root over 16 KiB blocks) and, for a hybrid, its v1 SHA-1 over the piece and the
    /// pad that follows it (zeros up to the piece length, except after the last file of a single-file torrent).
    /// </summary>
    private static async Task<(byte[] V2, byte[]? V1)> HashV2PiecesAsync(
        List<SourceFile> files, List<V2Piece> pieces, long pieceLength, bool hybrid, bool padLast, int parallelism,
        IProgress<TorrentCreationProgress>? progress, long total, CancellationToken cancellationToken)
    {
        int pieceCount = pieces.Count;
        var v2 = new byte[pieceCount * MerkleTree.HashSize];
        var v1 = hybrid ? new byte[pieceCount * 20] : null;
        var tracker = new ProgressTracker(progress, total, pieceCount);
        int next = -1;
        int workers = Math.Clamp(parallelism, 1, Math.Max(1, pieceCount));
        int blocksPerPiece = (int)(pieceLength / MerkleTree.BlockSize);

        void Work()
        {
            // Reads of at most 4 MiB (a multiple of 16 KiB, so blocks never straddle two reads).
            int bufferSize = (int)Math.Min(pieceLength, MaxReadSize);
            var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
            var leaves = ArrayPool<byte>.Shared.Rent(blocksPerPiece * MerkleTree.HashSize);
            using var sha1 = hybrid ? IncrementalHash.CreateHash(HashAlgorithmName.SHA1) : null;
            SafeFileHandle? handle = null;
            int handleFile = -1;
            try
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < pieceCount)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var piece = pieces[index];
                    var file = files[piece.File];
                    if (handleFile != piece.File)
                    {
                        handle?.Dispose();
                        handle = File.OpenHandle(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
                        handleFile = piece.File;
                    }
                    int leafCount = 0;
                    for (int done = 0; done < piece.Size;)
                    {
                        int chunk = Math.Min(piece.Size - done, bufferSize);
                        for (int filled = 0; filled < chunk;)
                        {
                            int read = RandomAccess.Read(handle!, buffer.AsSpan(filled, chunk - filled), piece.Offset + done + filled);
                            if (read <= 0) throw new IOException($"'{file.FullPath}' became shorter while it was hashed.");
                            filled += read;
                        }
                        leafCount += MerkleTree.HashBlocks(buffer.AsSpan(0, chunk), leaves.AsSpan(leafCount * MerkleTree.HashSize));
                        sha1?.AppendData(buffer, 0, chunk);
                        done += chunk;
                    }
                    MerkleTree.Root(leaves, leafCount, MerkleTree.PieceWidth(file.Length, pieceLength), 0, v2.AsSpan(index * MerkleTree.HashSize, MerkleTree.HashSize));
                    if (sha1 is not null)
                    {
                        bool lastOfStream = index == pieceCount - 1 && !padLast;
                        if (!lastOfStream)
                        {
                            buffer.AsSpan(0, bufferSize).Clear();
                            for (long pad = pieceLength - piece.Size; pad > 0; pad -= bufferSize)
                                sha1.AppendData(buffer, 0, (int)Math.Min(pad, bufferSize));
                        }
                        sha1.GetHashAndReset(v1!.AsSpan(index * 20, 20));
                    }
                    tracker.Add(piece.Size);
                }
            }
            finally
            {
                handle?.Dispose();
                ArrayPool<byte>.Shared.Return(buffer);
                ArrayPool<byte>.Shared.Return(leaves);
            }
        }

        var tasks = new Task[workers];
        for (int w = 0; w < workers; w++)
            tasks[w] = Task.Factory.StartNew(Work, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAll(tasks).ConfigureAwait(false);
        tracker.Finish();
        return (v2, v1);
    }
}
