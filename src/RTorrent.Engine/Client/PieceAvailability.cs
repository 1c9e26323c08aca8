using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>
/// Which pieces the connected peers can give a torrent, and what it holds unverified: Transmission's
/// <c>availability</c>, <c>desiredAvailable</c> and <c>haveUnchecked</c>. Built on the engine loop, read anywhere.
/// </summary>
/// <param name="Peers">
/// One number per piece: how many connected peers have it, or -1 for a piece the torrent has verified (Transmission's
/// convention). Empty while a magnet link's metadata is unknown.
/// </param>
/// <param name="DesiredAvailable">
/// Bytes the torrent still wants (pieces not verified, of files not skipped, less blocks already received) that at
/// least one connected peer has. 0 while the torrent is not running.
/// </param>
/// <param name="UncheckedBytes">Bytes received in pieces not yet complete and verified.</param>
public sealed record PieceAvailability(IReadOnlyList<int> Peers, long DesiredAvailable, long UncheckedBytes)
{
    /// <summary>Nothing known (no metadata yet).</summary>
    public static PieceAvailability None { get; } = new([], 0, 0);

    /// <summary>Reads <paramref name="pieces"/> (on the loop). <paramref name="running"/>: peers count only while the torrent runs.</summary>
    internal static PieceAvailability From(PieceManager pieces, bool running)
    {
        int count = pieces.PieceCount;
        if (count == 0) return None;
        var received = new Dictionary<int, long>();
        long unchecked_ = 0;
        foreach (var partial in pieces.Partials)
        {
            long bytes = 0;
            for (int b = 0; b < partial.BlockCount; b++)
                if (partial.Data[b] is not null) bytes += partial.BlockLength(b);
            received[partial.Index] = bytes;
            unchecked_ += bytes;
        }
        var peers = new int[count];
        long desired = 0;
        var have = pieces.Have;
        for (int p = 0; p < count; p++)
        {
            if (have[p])
            {
                peers[p] = -1;
                continue;
            }
            int n = running ? pieces.GetAvailability(p) : 0;
            peers[p] = n;
            if (n > 0 && pieces.GetPriority(p) != RTorrent.Abstractions.Priority.Skip)
                desired += pieces.GetPieceSize(p) - received.GetValueOrDefault(p);
        }
        return new PieceAvailability(peers, desired, unchecked_);
    }
}
