using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client;

// BEP 52: the torrent's side of the v2 hash exchange (V2HashExchange) and of block-level verification.
public sealed partial class Torrent : IV2HashHost
{
    private V2HashExchange? _v2Hashes;

    /// <summary>Hash requests, hashes and rejects (made at the first v2 peer or the first missing layer).</summary>
    private V2HashExchange V2Hashes => _v2Hashes ??= new V2HashExchange(this);

    /// <summary>The v2 hash messages' handler for the dispatcher, or null for a torrent that is v1 only.</summary>
    private IV2HashMessages? V2Messages => HasV2 ? V2Hashes : null;

    /// <summary>The torrent (or its magnet link) has a v2 part.</summary>
    private bool HasV2 => _metainfo?.InfoHashV2 is not null || Magnet?.InfoHashV2 is not null;

    /// <summary>The v2 info-hash truncated to 20 bytes: what v2 peers put in their handshake.</summary>
    internal InfoHash? V2WireHash =>
        (_metainfo?.InfoHashV2 ?? Magnet?.InfoHashV2) is { } h ? new InfoHash(h.AsSpan(0, 20)) : null;

    /// <summary>
    /// Pieces can be checked: a v1 or hybrid torrent always (SHA-1), a v2-only torrent once every piece layer is known
    /// (from the .torrent, or from peers for a magnet link).
    /// </summary>
    private bool CanVerifyPieces => _metainfo is { } m && (m.V2 is not { } v2 || v2.Complete || m.Versions.HasFlag(TorrentVersions.V1));

    /// <summary>On each tick and when a v2 peer arrives: ask for missing layers and block hashes.</summary>
    private void PumpV2Hashes()
    {
        if (_metainfo?.V2 is not { } v2) return;
        if (!v2.Complete || (_v2Hashes?.PendingCount ?? 0) > 0) V2Hashes.Pump();
    }

    V2PieceHashes? IV2HashHost.V2 => _metainfo?.V2;
    IReadOnlyList<Peer> IV2HashHost.Peers => _peers;
    DateTimeOffset IV2HashHost.Now => Now;
    void IV2HashHost.Log(PluginLogLevel level, string message) => Log(level, message);

    void IV2HashHost.LayersComplete()
    {
        Log(PluginLogLevel.Information, "every piece layer received from peers and proven against the files' roots");
        Changed();
        // The session keeps the .torrent with the layers, so a restart does not ask for them again.
        _ = SaveLayersAsync();
        foreach (var p in _peers) Requests.RequestMore(p);
    }

    private async Task SaveLayersAsync()
    {
        try { await _host.OnMetadataReceivedAsync(this); }
        catch (Exception e) { Log(PluginLogLevel.Warning, $"saving the .torrent with its piece layers failed: {e.Message}"); }
    }

    void IV2HashHost.BlockHashesReceived(int piece, byte[] leaves) => Completion.BlockHashesReceived(piece, leaves);

    void IV2HashHost.BlockHashesUnavailable(int piece) => Completion.BlockHashesUnavailable(piece);

    bool IPieceCompletionHost.TryWantBlockHashes(int piece)
    {
        if (_metainfo?.V2 is not { } v2 || v2.FileOf(piece) is null || !V2Hashes.HasV2Peer) return false;
        Span<byte> hash = stackalloc byte[MerkleTree.HashSize];
        if (!v2.TryGetPieceHash(piece, hash)) return false;
        return V2Hashes.WantBlockHashes(piece);
    }

    V2PieceHashes? IPieceCompletionHost.V2 => _metainfo?.V2;

    bool IV2HashHost.HavePiece(int piece) => _metainfo is not null && (uint)piece < (uint)_metainfo.PieceCount && _pieces.HaveField[piece];

    async Task<byte[]?> IV2HashHost.ReadBlockHashesAsync(int piece, int width)
    {
        if (_metainfo?.V2 is not { } v2 || Storage is null) return null;
        var data = Data;
        long offset = piece * _metainfo.PieceLength;
        int size = _metainfo.GetPieceSize(piece);
        int inFile = v2.DataLength(piece);
        var ct = _runCts.Token;
        try
        {
            return await Task.Run(async () =>
            {
                var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
                try
                {
                    await data.ReadAsync(offset, buffer.AsMemory(0, size), ct).ConfigureAwait(false);
                    var leaves = new byte[width * MerkleTree.HashSize]; // zero leaves after the file's data
                    MerkleTree.HashBlocks(buffer.AsSpan(0, inFile), leaves);
                    return leaves;
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                }
            }, ct);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
