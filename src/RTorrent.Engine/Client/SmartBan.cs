using System.Buffers.Binary;
using System.Security.Cryptography;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>
/// Finds who sent bad data when a piece failed its hash check with blocks from several peers (libtorrent's "smart
/// ban"). The failure itself cannot name the culprit, so it only remembers a digest of each block and its sender;
/// when the piece later verifies, every remembered block is compared with the good one, and the peers whose blocks
/// differ are the liars. Counting a strike against every contributor instead lets one liar, which mixes its blocks
/// into many pieces, get every honest seeder it shares pieces with banned.
/// </summary>
internal sealed class SmartBan
{
    /// <summary>Failed attempts remembered per piece (older ones are dropped; one is usually enough).</summary>
    private const int MaxAttemptsPerPiece = 4;

    private readonly Dictionary<int, List<Attempt>> _failed = [];

    private sealed record Attempt(Peer?[] Senders, ulong[] Digests);

    /// <summary>Pieces with remembered failures.</summary>
    public int Count => _failed.Count;

    /// <summary>Remembers who sent each block of a piece that failed (call while its block data is still there).</summary>
    public void RecordFailure(PartialPiece piece)
    {
        var senders = new Peer?[piece.BlockCount];
        var digests = new ulong[piece.BlockCount];
        for (int b = 0; b < piece.BlockCount; b++)
        {
            if (piece.Data[b] is not { } data || piece.From[b] is not Peer sender) continue;
            senders[b] = sender;
            digests[b] = Digest(data.AsSpan(0, piece.BlockLength(b)));
        }
        if (!_failed.TryGetValue(piece.Index, out var attempts)) _failed[piece.Index] = attempts = [];
        if (attempts.Count == MaxAttemptsPerPiece) attempts.RemoveAt(0);
        attempts.Add(new Attempt(senders, digests));
    }

    /// <summary>
    /// The piece verified: the peers that sent, in an earlier failed attempt, a block different from the good one
    /// (call while its block data is still there). Forgets the piece's failures.
    /// </summary>
    public IReadOnlyList<Peer> FindLiars(PartialPiece verified)
    {
        if (!_failed.Remove(verified.Index, out var attempts)) return [];
        var liars = new List<Peer>();
        var good = new ulong[verified.BlockCount];
        for (int b = 0; b < verified.BlockCount; b++)
            if (verified.Data[b] is { } data) good[b] = Digest(data.AsSpan(0, verified.BlockLength(b)));
        foreach (var attempt in attempts)
        {
            for (int b = 0; b < attempt.Senders.Length && b < good.Length; b++)
            {
                if (attempt.Senders[b] is { } sender && attempt.Digests[b] != good[b] && !liars.Contains(sender))
                    liars.Add(sender);
            }
        }
        return liars;
    }

    private static ulong Digest(ReadOnlySpan<byte> block)
    {
        Span<byte> sha = stackalloc byte[20];
        SHA1.HashData(block, sha);
        return BinaryPrimitives.ReadUInt64LittleEndian(sha);
    }
}
