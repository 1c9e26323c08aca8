using System.Buffers.Binary;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client;

/// <summary>What the v2 hash exchange reads and does on its torrent (on the loop).</summary>
internal interface IV2HashHost
{
    /// <summary>The torrent's v2 hashes, or null (v1 torrent, or a magnet without metadata yet).</summary>
    V2PieceHashes? V2 { get; }

    IReadOnlyList<Peer> Peers { get; }

    DateTimeOffset Now { get; }

    void Log(PluginLogLevel level, string message);

    /// <summary>Every piece layer is known now: pieces can be checked; keep the layers (resume) and start requesting.</summary>
    void LayersComplete();

    /// <summary>Block hashes of a piece arrived and are proven against the piece's hash (base layer 0).</summary>
    void BlockHashesReceived(int piece, byte[] leaves);

    /// <summary>A request for a piece's block hashes was refused or timed out.</summary>
    void BlockHashesUnavailable(int piece);

    /// <summary>We have piece <paramref name="piece"/> (verified).</summary>
    bool HavePiece(int piece);

    /// <summary>
    /// Reads a piece we have from disk and hashes its file data into one leaf per block, zero leaves after the data, up
    /// to the piece's leaf width (off the loop; the result comes back on it). Null when it cannot be read.
    /// </summary>
    Task<byte[]?> ReadBlockHashesAsync(int piece, int width);
}

/// <summary>What is done with BEP 52 hash messages (<see cref="V2HashExchange"/>).</summary>
internal interface IV2HashMessages
{
    /// <exception cref="PeerProtocolException">The peer does not speak v2, or the message is malformed.</exception>
    void OnHashRequest(Peer peer, byte[] payload);

    /// <exception cref="PeerProtocolException">Hashes we did not ask for, or whose proof fails.</exception>
    void OnHashes(Peer peer, byte[] payload);

    void OnHashReject(Peer peer, byte[] payload);
}

/// <summary>
/// BEP 52's hash request (21), hashes (22) and hash reject (23) for one torrent.
/// <para>Serving: a file's tree is built from its piece layer up (once, kept) and any range at the piece layer or
/// above is answered with the uncle hashes that prove it up to the requested proof layer; ranges below the piece layer
/// (block hashes) and files without a layer are rejected. Requests are checked as libtorrent checks them (known pieces
/// root, base below the root, range inside the layer, proof below the root, at most 512 hashes).</para>
/// <para>Requesting: a torrent whose piece layers are missing (a magnet, a .torrent without 'piece layers') asks v2
/// peers for each file's layer in chunks of at most 512 hashes with the proof up to the pieces root, so every answer
/// is checked on its own; a wrong proof or hashes never asked for drop the peer. After a hash failure with several
/// senders, the piece's block hashes (base layer 0, proven against the piece's hash) say which 16 KiB blocks are bad.</para>
/// </summary>
internal sealed class V2HashExchange(IV2HashHost host) : IV2HashMessages
{
    /// <summary>Most hashes answered or asked for in one message (libtorrent asks for 512 piece hashes at a time).</summary>
    public const int MaxCount = 512;

    /// <summary>Hash requests outstanding per peer.</summary>
    private const int MaxOutstandingPerPeer = 4;

    /// <summary>An unanswered request is given to another peer after this long.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);

    private sealed record Pending(Peer Peer, int File, int Base, int Index, int Count, int Proof, DateTimeOffset SentAt, int Piece);

    private readonly List<Pending> _pending = [];
    private readonly Dictionary<int, byte[][]> _trees = [];              // file -> layers from the piece layer up
    private readonly Dictionary<int, (byte[] Layer, bool[] Done)> _incoming = []; // file -> layer being received
    private readonly Queue<int> _blockHashWanted = [];                  // pieces whose block hashes are wanted
    private readonly Dictionary<Peer, int> _blockReads = [];             // block-hash answers being read from disk, per peer

    /// <summary>Block-hash answers read from disk at once for one peer; more are rejected.</summary>
    private const int MaxBlockReadsPerPeer = 2;

    /// <summary>Hash requests sent and not answered (tests).</summary>
    public int PendingCount => _pending.Count;

    // ------------------------------------------------------------------ requesting

    /// <summary>Asks v2 peers for missing layers and wanted block hashes; retries what timed out (on the loop).</summary>
    public void Pump()
    {
        if (host.V2 is not { } v2) return;
        var now = host.Now;
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            var p = _pending[i];
            if (now - p.SentAt < RequestTimeout && !p.Peer.Connection.IsClosed) continue;
            _pending.RemoveAt(i);
            if (p.Base == 0) host.BlockHashesUnavailable(p.Piece);
        }
        while (_blockHashWanted.Count > 0)
        {
            int piece = _blockHashWanted.Peek();
            var f = v2.FileOf(piece);
            var peer = f is null ? null : PickPeer(piece);
            _blockHashWanted.Dequeue();
            if (f is null || peer is null)
            {
                host.BlockHashesUnavailable(piece); // the peers that had it left
                continue;
            }
            int bpp = v2.BlocksPerPiece;
            int k = piece - (int)(f.Offset / v2.PieceLength);
            // Proof up to the layer below the piece: the block hashes' own subtree hashes to the piece's hash.
            int count = Math.Min(bpp, (int)MerkleTree.NextPowerOfTwo(MerkleTree.BlockCount(f.Length)));
            Send(peer, new Pending(peer, f.Index, 0, k * bpp, count, MerkleTree.Log2(count) - 1, now, piece), f);
        }
        if (v2.Complete) return;
        foreach (var f in v2.MissingLayers())
        {
            int pieces = v2.PiecesOf(f);
            if (!_incoming.TryGetValue(f.Index, out var inc))
                _incoming[f.Index] = inc = (new byte[pieces * MerkleTree.HashSize], new bool[(pieces + MaxCount - 1) / MaxCount]);
            int pieceLayer = MerkleTree.Log2(v2.BlocksPerPiece);
            int layers = FileLayers(v2, f);
            for (int chunk = 0; chunk < inc.Done.Length; chunk++)
            {
                if (inc.Done[chunk] || _pending.Any(p => p.File == f.Index && p.Base == pieceLayer && p.Index == chunk * MaxCount)) continue;
                var peer = PickPeer(null);
                if (peer is null) return;
                int index = chunk * MaxCount;
                // At least two hashes: libtorrent 2.0.8 proves a single hash with one uncle too few.
                int count = (int)Math.Clamp(MerkleTree.NextPowerOfTwo(pieces - index), 2, MaxCount);
                Send(peer, new Pending(peer, f.Index, pieceLayer, index, count, layers - pieceLayer - 1, now, -1), f);
            }
        }
    }

    /// <summary>A piece failed with blocks from several peers: ask for its block hashes to find the bad blocks.</summary>
    /// <returns>False when there is nothing to ask: a piece of one block (it has one sender), or no v2 peer has it.</returns>
    public bool WantBlockHashes(int piece)
    {
        if (host.V2?.FileOf(piece) is not { } f || Math.Min(host.V2.BlocksPerPiece, MerkleTree.BlockCount(f.Length)) < 2
            || PickPeer(piece) is null)
            return false;
        if (!_blockHashWanted.Contains(piece)) _blockHashWanted.Enqueue(piece);
        Pump();
        return true;
    }

    /// <summary>Whether some connected peer can be asked for hashes.</summary>
    public bool HasV2Peer => host.Peers.Any(p => p.IsV2 && !p.Connection.IsClosed);

    private Peer? PickPeer(int? piece)
    {
        Peer? best = null;
        int least = int.MaxValue;
        foreach (var p in host.Peers)
        {
            if (!p.IsV2 || p.Connection.IsClosed) continue;
            if (piece is { } pc && !p.PeerPieces[pc]) continue;
            int n = _pending.Count(x => ReferenceEquals(x.Peer, p));
            if (n < MaxOutstandingPerPeer && n < least)
            {
                best = p;
                least = n;
            }
        }
        return best;
    }

    private void Send(Peer peer, Pending request, TorrentFileEntry file)
    {
        _pending.Add(request);
        Span<byte> m = stackalloc byte[5 + PeerMessageReader.V2HashHeaderLength];
        MessageWriter.WriteHeader(m, MessageId.HashRequest, PeerMessageReader.V2HashHeaderLength);
        WriteHeader(m[5..], file.PiecesRoot.Span, request.Base, request.Index, request.Count, request.Proof);
        peer.Connection.Enqueue(m);
    }

    private static void WriteHeader(Span<byte> d, ReadOnlySpan<byte> root, int @base, int index, int count, int proof)
    {
        root.CopyTo(d);
        BinaryPrimitives.WriteInt32BigEndian(d[32..], @base);
        BinaryPrimitives.WriteInt32BigEndian(d[36..], index);
        BinaryPrimitives.WriteInt32BigEndian(d[40..], count);
        BinaryPrimitives.WriteInt32BigEndian(d[44..], proof);
    }

    /// <summary>log2 of the file's leaf count: the root is at this layer, the blocks at 0.</summary>
    private static int FileLayers(V2PieceHashes v2, TorrentFileEntry f) =>
        MerkleTree.Log2(MerkleTree.NextPowerOfTwo(MerkleTree.BlockCount(f.Length)));

    /// <summary>Uncle hashes that follow <paramref name="count"/> hashes proven up to <paramref name="proof"/> layers above the base.</summary>
    public static int UncleCount(int count, int proof) => Math.Max(0, proof - MerkleTree.Log2(MerkleTree.NextPowerOfTwo(count)) + 1);

    // ------------------------------------------------------------------ messages

    public void OnHashRequest(Peer peer, byte[] payload)
    {
        if (!peer.IsV2) throw new PeerProtocolException("HASH REQUEST from a peer that is not on the v2 protocol");
        var (root, @base, index, count, proof) = ReadHeader(payload);
        var v2 = host.V2;
        var f = v2?.FileByRoot(root);
        if (v2 is null || f is null || !Valid(v2, f, @base, index, count, proof) || count > MaxCount)
        {
            Reject(peer, payload);
            return;
        }
        if (@base < MerkleTree.Log2(v2.PieceWidth(f)) || (v2.PiecesOf(f) == 1 && @base < FileLayers(v2, f)))
        {
            _ = AnswerBlockHashesAsync(peer, payload, v2, f, @base, index, count, proof);
            return;
        }
        if (!TryGetHashes(v2, f, @base, index, count, proof, out var hashes))
        {
            Reject(peer, payload);
            return;
        }
        SendHashes(peer, payload, hashes);
    }

    /// <summary>
    /// Hashes under the piece layer (block hashes, or any layer of a file of one piece): read from the piece on disk,
    /// when the range lies in one piece we have; the uncles come from the piece's own tree, then the file's.
    /// </summary>
    private async Task AnswerBlockHashesAsync(Peer peer, byte[] payload, V2PieceHashes v2, TorrentFileEntry f, int @base, int index, int count, int proof)
    {
        int width = v2.PieceWidth(f);
        int widthLog = MerkleTree.Log2(width);
        long leafStart = (long)index << @base, leafEnd = ((long)index + count) << @base;
        int k = (int)(leafStart / width);
        int piece = (int)(f.Offset / v2.PieceLength) + k;
        _blockReads.TryGetValue(peer, out int reading);
        if (k != (leafEnd - 1) / width || !host.HavePiece(piece) || reading >= MaxBlockReadsPerPeer
            || (widthLog < FileLayers(v2, f) && v2.LayerOf(f.Index) is null))
        {
            Reject(peer, payload);
            return;
        }
        _blockReads[peer] = reading + 1;
        byte[]? leaves;
        try { leaves = await host.ReadBlockHashesAsync(piece, width); }
        finally
        {
            if (--_blockReads[peer] == 0) _blockReads.Remove(peer);
        }
        if (peer.Connection.IsClosed) return;
        Span<byte> expected = stackalloc byte[MerkleTree.HashSize];
        if (leaves is null || !v2.TryGetPieceHash(piece, expected))
        {
            Reject(peer, payload);
            return;
        }
        // The piece's levels: leaves up to its hash (which must be the one we know: never serve hashes of bad data).
        var levels = new List<byte[]> { leaves };
        for (int w = width; w > 1; w /= 2)
        {
            var below = levels[^1];
            var up = new byte[w / 2 * MerkleTree.HashSize];
            for (int i = 0; i < w / 2; i++)
                MerkleTree.HashPair(below.AsSpan(2 * i * 32, 32), below.AsSpan((2 * i + 1) * 32, 32), up.AsSpan(i * 32, 32));
            levels.Add(up);
        }
        if (!levels[^1].AsSpan().SequenceEqual(expected))
        {
            Reject(peer, payload);
            return;
        }
        int uncles = UncleCount(count, proof);
        var result = new byte[(count + uncles) * MerkleTree.HashSize];
        int local = index - k * (width >> @base);
        levels[@base].AsSpan(local * 32, count * 32).CopyTo(result);
        int at = count * 32;
        int first = @base + MerkleTree.Log2(MerkleTree.NextPowerOfTwo(count));
        byte[][]? tree = null;
        for (int layer = first; layer < first + uncles; layer++, at += 32)
        {
            int node = index >> (layer - @base);
            if (layer < widthLog)
            {
                levels[layer].AsSpan(((node - k * (width >> layer)) ^ 1) * 32, 32).CopyTo(result.AsSpan(at));
                continue;
            }
            if (tree is null && !_trees.TryGetValue(f.Index, out tree))
                _trees[f.Index] = tree = BuildTree(v2.LayerOf(f.Index)!, v2.PiecesOf(f), widthLog);
            tree[layer - widthLog].AsSpan((node ^ 1) * 32, 32).CopyTo(result.AsSpan(at));
        }
        SendHashes(peer, payload, result);
    }

    private static void SendHashes(Peer peer, byte[] payload, byte[] hashes)
    {
        int length = PeerMessageReader.V2HashHeaderLength + hashes.Length;
        peer.Connection.EnqueueWith(5 + length, buffer =>
        {
            var d = buffer.Span;
            MessageWriter.WriteHeader(d, MessageId.Hashes, length);
            payload.AsSpan(0, PeerMessageReader.V2HashHeaderLength).CopyTo(d[5..]);
            hashes.CopyTo(d[(5 + PeerMessageReader.V2HashHeaderLength)..]);
        });
    }

    private static void Reject(Peer peer, byte[] request)
    {
        Span<byte> m = stackalloc byte[5 + PeerMessageReader.V2HashHeaderLength];
        MessageWriter.WriteHeader(m, MessageId.HashReject, PeerMessageReader.V2HashHeaderLength);
        request.AsSpan(0, PeerMessageReader.V2HashHeaderLength).CopyTo(m[5..]);
        peer.Connection.Enqueue(m);
    }

    /// <summary>libtorrent's checks: a base below the root, a range inside its layer, a proof below the root.</summary>
    private static bool Valid(V2PieceHashes v2, TorrentFileEntry f, int @base, int index, int count, int proof)
    {
        if (@base < 0 || index < 0 || count <= 0 || count > 8192 || proof < 0) return false;
        int layers = FileLayers(v2, f);
        if (@base >= layers) return false;
        long size = MerkleTree.NextPowerOfTwo(MerkleTree.BlockCount(f.Length)) >> @base;
        if (index >= size || index + (long)count > size) return false;
        return proof < layers - @base;
    }

    /// <summary>The requested hashes and their uncles, from the file's tree above its piece layer.</summary>
    private bool TryGetHashes(V2PieceHashes v2, TorrentFileEntry f, int @base, int index, int count, int proof, out byte[] result)
    {
        result = [];
        int pieceLayer = MerkleTree.Log2(v2.BlocksPerPiece);
        if (@base < pieceLayer || v2.LayerOf(f.Index) is not { } layer) return false;
        if (!_trees.TryGetValue(f.Index, out var tree)) _trees[f.Index] = tree = BuildTree(layer, v2.PiecesOf(f), pieceLayer);
        var level = tree[@base - pieceLayer];
        int uncles = UncleCount(count, proof);
        result = new byte[(count + uncles) * MerkleTree.HashSize];
        level.AsSpan(index * MerkleTree.HashSize, count * MerkleTree.HashSize).CopyTo(result);
        int at = count * MerkleTree.HashSize;
        int first = @base + MerkleTree.Log2(MerkleTree.NextPowerOfTwo(count));
        for (int layerIndex = first; layerIndex < first + uncles; layerIndex++)
        {
            int node = index >> (layerIndex - @base);
            tree[layerIndex - pieceLayer].AsSpan((node ^ 1) * MerkleTree.HashSize, MerkleTree.HashSize).CopyTo(result.AsSpan(at));
            at += MerkleTree.HashSize;
        }
        return true;
    }

    /// <summary>Every layer from the piece layer (padded with zero pieces) to the root.</summary>
    private static byte[][] BuildTree(byte[] layer, int pieces, int pieceLayer)
    {
        int width = (int)MerkleTree.NextPowerOfTwo(pieces);
        var levels = new List<byte[]>();
        var level = new byte[width * MerkleTree.HashSize];
        layer.CopyTo(level, 0);
        for (int i = pieces; i < width; i++) MerkleTree.ZeroHash(pieceLayer).CopyTo(level.AsSpan(i * MerkleTree.HashSize));
        levels.Add(level);
        while (width > 1)
        {
            width /= 2;
            var up = new byte[width * MerkleTree.HashSize];
            for (int i = 0; i < width; i++)
                MerkleTree.HashPair(level.AsSpan(2 * i * MerkleTree.HashSize, 32), level.AsSpan((2 * i + 1) * MerkleTree.HashSize, 32), up.AsSpan(i * MerkleTree.HashSize, 32));
            levels.Add(up);
            level = up;
        }
        return [.. levels];
    }

    public void OnHashes(Peer peer, byte[] payload)
    {
        if (!peer.IsV2) throw new PeerProtocolException("HASHES from a peer that is not on the v2 protocol");
        var (root, @base, index, count, proof) = ReadHeader(payload);
        var v2 = host.V2;
        var f = v2?.FileByRoot(root);
        int at = _pending.FindIndex(p => ReferenceEquals(p.Peer, peer) && f is not null && p.File == f.Index && p.Base == @base
            && p.Index == index && p.Count == count && p.Proof == proof);
        if (v2 is null || f is null || at < 0) throw new PeerProtocolException("HASHES that were not asked for");
        var request = _pending[at];
        _pending.RemoveAt(at);
        int uncles = UncleCount(count, proof);
        var hashes = payload.AsSpan(PeerMessageReader.V2HashHeaderLength);
        if (hashes.Length != (count + uncles) * MerkleTree.HashSize)
            throw new PeerProtocolException($"HASHES with {hashes.Length / 32} hashes where {count} and {uncles} uncles were asked for");

        // Up from the hashes through the uncles: the piece layer's chunks must reach the pieces root, block hashes the piece's hash.
        Span<byte> node = stackalloc byte[MerkleTree.HashSize];
        var work = hashes[..(count * MerkleTree.HashSize)].ToArray();
        MerkleTree.Root(work, count, count, 0, node);
        int position = index >> MerkleTree.Log2(count);
        var uncleHashes = hashes[(count * MerkleTree.HashSize)..];
        for (int u = 0; u < uncles; u++, position >>= 1)
        {
            var uncle = uncleHashes.Slice(u * MerkleTree.HashSize, MerkleTree.HashSize);
            if ((position & 1) == 0) MerkleTree.HashPair(node, uncle, node);
            else MerkleTree.HashPair(uncle, node, node);
        }
        if (@base == 0)
        {
            Span<byte> expected = stackalloc byte[MerkleTree.HashSize];
            if (!v2.TryGetPieceHash(request.Piece, expected) || !node.SequenceEqual(expected))
                throw new PeerProtocolException($"HASHES for piece {request.Piece} whose proof does not match the piece's hash");
            host.BlockHashesReceived(request.Piece, hashes[..(count * MerkleTree.HashSize)].ToArray());
            return;
        }
        if (!node.SequenceEqual(f.PiecesRoot.Span))
            throw new PeerProtocolException($"HASHES for '{f.Path}' whose proof does not match its pieces root");
        if (!_incoming.TryGetValue(f.Index, out var inc)) return; // already complete
        int pieces = v2.PiecesOf(f);
        int real = Math.Min(count, pieces - index);
        hashes.Slice(0, real * MerkleTree.HashSize).CopyTo(inc.Layer.AsSpan(index * MerkleTree.HashSize));
        inc.Done[index / MaxCount] = true;
        if (inc.Done.All(d => d))
        {
            _incoming.Remove(f.Index);
            if (!v2.TrySetLayer(f.Index, inc.Layer))
                throw new PeerProtocolException($"the piece layer of '{f.Path}' does not hash to its pieces root");
            host.Log(PluginLogLevel.Debug, $"piece layer of '{f.Path}' received from {peer.EndPoint}");
            if (v2.Complete) host.LayersComplete();
        }
    }

    public void OnHashReject(Peer peer, byte[] payload)
    {
        if (!peer.IsV2) throw new PeerProtocolException("HASH REJECT from a peer that is not on the v2 protocol");
        var (root, @base, index, count, proof) = ReadHeader(payload);
        var f = host.V2?.FileByRoot(root);
        int at = _pending.FindIndex(p => ReferenceEquals(p.Peer, peer) && f is not null && p.File == f.Index && p.Base == @base
            && p.Index == index && p.Count == count && p.Proof == proof);
        if (at < 0) return; // a reject of nothing we asked for changes nothing
        var request = _pending[at];
        _pending.RemoveAt(at);
        if (request.Base == 0) host.BlockHashesUnavailable(request.Piece);
    }

    /// <summary>The peer left: its requests go to others at the next pump.</summary>
    public void OnPeerLeft(Peer peer)
    {
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            if (!ReferenceEquals(_pending[i].Peer, peer)) continue;
            if (_pending[i].Base == 0) host.BlockHashesUnavailable(_pending[i].Piece);
            _pending.RemoveAt(i);
        }
    }

    private static (byte[] Root, int Base, int Index, int Count, int Proof) ReadHeader(byte[] p) => (
        p.AsSpan(0, 32).ToArray(),
        BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(32)),
        BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(36)),
        BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(40)),
        BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(44)));
}
