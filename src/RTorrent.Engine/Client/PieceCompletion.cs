using RTorrent.Abstractions;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>Where a completed piece is checked and stored: <see cref="TorrentData"/>, or a fake in tests.</summary>
internal interface IPieceStore
{
    /// <summary>SHA-1 of a piece given as its blocks, compared with the torrent's hash.</summary>
    bool Verify(int piece, byte[]?[] blocks, int pieceSize);

    /// <summary>Writes a verified piece given as its blocks.</summary>
    ValueTask WritePieceAsync(int piece, byte[]?[] blocks, int pieceSize, CancellationToken ct);
}

/// <summary>What piece completion reads and does on its torrent (on the loop).</summary>
internal interface IPieceCompletionHost
{
    /// <summary>The store to hash and write with (taken on the loop when a piece completes).</summary>
    IPieceStore Store { get; }

    /// <summary>Where the results come back.</summary>
    SynchronizationContext Loop { get; }

    /// <summary>Cancelled when the torrent stops: writes in flight end.</summary>
    CancellationToken RunToken { get; }

    /// <summary>Downloading or seeding: the results of a torrent that stopped meanwhile are thrown away.</summary>
    bool Active { get; }

    /// <summary>The swarm's piece state (replaced when the metadata arrives, so read each time).</summary>
    PieceManager Pieces { get; }

    void Log(PluginLogLevel level, string message);

    /// <summary>Writing failed: the torrent stops with this reason.</summary>
    void Fail(string reason);

    /// <summary>Bans a peer (unless it is banned already) and drops its connection.</summary>
    void Ban(Peer peer, string reason);

    /// <summary>A piece of <paramref name="bytes"/> failed its hash check (counted as a failure and as waste).</summary>
    void HashFailed(int bytes);

    /// <summary>A piece is verified and written: tell the peers, and see whether the download is complete.</summary>
    void PieceVerified(int piece);

    /// <summary>
    /// BEP 52: ask a v2 peer for the block hashes of a failed piece (answered through
    /// <see cref="PieceCompletion.BlockHashesReceived"/> or <see cref="PieceCompletion.BlockHashesUnavailable"/>).
    /// False when the torrent has no v2 hashes for it or no v2 peer to ask.
    /// </summary>
    bool TryWantBlockHashes(int piece);

    /// <summary>The torrent's v2 hashes (to hash blocks the way the piece layer does), or null.</summary>
    Metainfo.V2PieceHashes? V2 { get; }

    /// <summary>A piece that a web seed alone sent failed its hash check: the seed is demoted or dropped.</summary>
    void WebSeedBadPiece(WebSeeds.WebSeed seed, int piece) { }
}

/// <summary>
/// What happens to a piece whose last block arrived: it is hashed from memory and written off the loop, then on the
/// loop it either becomes ours (the peers are told) or is downloaded again. A piece from one peer that fails names that
/// peer, who is banned; a piece that failed with several senders names nobody: it goes on parole (one peer next time)
/// and the <see cref="SmartBan"/> finds the liar once it verifies. Made when a torrent first completes a piece.
/// </summary>
internal sealed class PieceCompletion(IPieceCompletionHost host)
{
    private long _pendingDiskBytes;
    private SmartBan? _smartBan; // made at the first piece that fails with several senders
    private Dictionary<int, PartialPiece>? _awaitingBlockHashes; // failed v2 pieces kept whole until their block hashes come

    /// <summary>Bytes of pieces handed to the disk and not yet written (read from any thread).</summary>
    public long PendingDiskBytes => Interlocked.Read(ref _pendingDiskBytes);

    /// <summary>Hashes and writes a piece whose blocks have all arrived (on the loop; the work runs on the pool).</summary>
    public void Complete(PartialPiece piece)
    {
        var store = host.Store;
        int size = piece.Size;
        Interlocked.Add(ref _pendingDiskBytes, size);
        var ct = host.RunToken;
        var loop = host.Loop;
        _ = Task.Run(async () =>
        {
            bool ok = false;
            Exception? error = null;
            try
            {
                ok = store.Verify(piece.Index, piece.Data, size);
                if (ok) await store.WritePieceAsync(piece.Index, piece.Data, size, ct).ConfigureAwait(false);
            }
            catch (Exception e) { error = e; }
            finally { Interlocked.Add(ref _pendingDiskBytes, -size); }
            loop.Post(_ => Done(piece, ok, error), null);
        }, CancellationToken.None);
    }

    private void Done(PartialPiece piece, bool hashOk, Exception? error)
    {
        // Senders are peers and web seeds; a web seed is never banned (it has no address to ban), it is demoted.
        var senders = piece.From.OfType<IBlockRequester>().Distinct().ToArray();
        bool active = host.Active;
        // While the blocks are still here: remember who sent what in a piece that failed with several senders, or,
        // when such a piece now verifies, find who had sent blocks that differ from the good ones.
        IReadOnlyList<Peer> liars = [];
        if (error is null && active)
        {
            if (!hashOk && senders.Length > 1) (_smartBan ??= new()).RecordFailure(piece);
            else if (hashOk && _smartBan is { Count: > 0 } smartBan) liars = smartBan.FindLiars(piece);
        }
        var pieces = host.Pieces;
        if (!active)
        {
            piece.ReleaseData();
            pieces.PieceFailed(piece.Index, parole: false);
            return;
        }
        if (error is not null and not OperationCanceledException)
        {
            piece.ReleaseData();
            pieces.PieceFailed(piece.Index, parole: false);
            host.Fail($"writing piece {piece.Index} failed: {error.Message}");
            return;
        }
        if (!hashOk)
        {
            host.HashFailed(piece.Size);
            bool sole = senders.Length == 1;
            host.Log(PluginLogLevel.Warning, $"piece {piece.Index} failed its hash check (from {string.Join(", ", senders.Select(c => c is Peer p ? p.EndPoint.ToString() : c.ToString()))})");
            if (sole && senders[0] is Peer peer) host.Ban(peer, $"sent piece {piece.Index} with bad data");
            else if (sole && senders[0] is WebSeeds.WebSeed seed) host.WebSeedBadPiece(seed, piece.Index);
            else if (!sole && host.V2 is not null && host.TryWantBlockHashes(piece.Index))
            {
                // BEP 52: the piece's block hashes will say which 16 KiB blocks are bad; keep the blocks until then
                // (the piece stays out of the picker, as while it was being hashed).
                (_awaitingBlockHashes ??= [])[piece.Index] = piece;
                return;
            }
            piece.ReleaseData();
            pieces.PieceFailed(piece.Index, parole: !sole);
            return;
        }
        piece.ReleaseData();
        foreach (var liar in liars) host.Ban(liar, $"sent wrong blocks of piece {piece.Index}");
        pieces.PieceVerified(piece.Index);
        host.PieceVerified(piece.Index);
    }

    /// <summary>
    /// The block hashes of a failed piece arrived, proven against its hash: the blocks whose SHA-256 differs are bad,
    /// their senders are banned, and only they are downloaded again. When every block matches (a hybrid whose v1 hash
    /// failed over its pad bytes, say) the piece goes on parole as before.
    /// </summary>
    public void BlockHashesReceived(int index, byte[] leaves)
    {
        if (_awaitingBlockHashes is null || !_awaitingBlockHashes.Remove(index, out var piece)) return;
        var pieces = host.Pieces;
        if (!host.Active || host.V2 is not { } v2)
        {
            piece.ReleaseData();
            pieces.PieceFailed(index, parole: false);
            return;
        }
        int data = v2.DataLength(index);
        var bad = new bool[piece.BlockCount];
        int badCount = 0;
        Span<byte> leaf = stackalloc byte[Metainfo.MerkleTree.HashSize];
        for (int b = 0; b < piece.BlockCount && b * Metainfo.MerkleTree.BlockSize < data; b++)
        {
            if ((b + 1) * Metainfo.MerkleTree.HashSize > leaves.Length || piece.Data[b] is not { } block) continue;
            int length = Math.Min(Metainfo.MerkleTree.BlockSize, data - b * Metainfo.MerkleTree.BlockSize);
            System.Security.Cryptography.SHA256.HashData(block.AsSpan(0, length), leaf);
            if (leaf.SequenceEqual(leaves.AsSpan(b * Metainfo.MerkleTree.HashSize, Metainfo.MerkleTree.HashSize))) continue;
            bad[b] = true;
            badCount++;
            if (piece.From[b] is Peer sender) host.Ban(sender, $"sent a bad 16 KiB block ({b}) of piece {index}");
            else if (piece.From[b] is WebSeeds.WebSeed seed) host.WebSeedBadPiece(seed, index);
        }
        if (badCount == 0)
        {
            BlockHashesUnavailable(index, piece);
            return;
        }
        host.Log(PluginLogLevel.Information, $"piece {index}: {badCount} bad block(s) found by their v2 hashes; only they are downloaded again");
        pieces.PieceFailedKeeping(piece, bad);
    }

    /// <summary>No block hashes for a failed piece (refused, timed out, no v2 peer): it goes on parole as a v1 piece would.</summary>
    public void BlockHashesUnavailable(int index)
    {
        if (_awaitingBlockHashes is null || !_awaitingBlockHashes.Remove(index, out var piece)) return;
        BlockHashesUnavailable(index, piece);
    }

    private void BlockHashesUnavailable(int index, PartialPiece piece)
    {
        piece.ReleaseData(); // the smart ban already remembers who sent what (recorded when the piece failed)
        host.Pieces.PieceFailed(index, parole: host.Active);
    }

    /// <summary>Failed pieces kept for their block hashes (tests).</summary>
    public int AwaitingBlockHashes => _awaitingBlockHashes?.Count ?? 0;
}
