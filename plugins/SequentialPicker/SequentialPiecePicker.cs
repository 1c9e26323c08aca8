using RTorrent.Abstractions;

namespace RTorrent.Plugins.SequentialPicker;

/// <summary>
/// Downloads a torrent front to back, for watching a video (or reading an archive) while it downloads.
/// </summary>
/// <remarks>
/// <para>The ranking for a peer, best first, among the pieces we want and the peer has:</para>
/// <list type="number">
/// <item>The urgent window: the <c>W</c> pieces starting at the playback position
/// (<see cref="ISwarmView.StreamPosition"/>; without one, the first piece we still want), strictly in order.
/// <c>W</c> covers <see cref="SequentialPickerOptions.WindowBytes"/>. The window comes before file priorities: it is
/// what the user is watching right now.</item>
/// <item>Everything else by priority band (high, then normal, then low), and within a band in order from the end of
/// the window onwards, then wrapping around to the pieces before the position (a seek backwards fills them last).</item>
/// </list>
/// <para>
/// The rest is in order rather than rarest-first because a user who picks "sequential" wants every file to become
/// usable front to back, as in qBittorrent's sequential mode; the urgent window then only decides what matters most
/// near the playback position. The cost is swarm health: if everybody downloads in order, rare pieces stay rare. Use
/// the default rarest-first picker for torrents you do not watch while downloading.
/// </para>
/// <para>
/// Each call walks the wanted bitfield with <see cref="IBitfieldView.NextSet"/> and stops as soon as the span is
/// full, so it costs about O(span) when the peer has what we want and O(pieces) at worst; it allocates nothing.
/// </para>
/// </remarks>
public sealed class SequentialPiecePicker : IPiecePicker
{
    private readonly PiecePickerContext _context;
    private readonly int _window;

    /// <summary>Creates the picker for one torrent.</summary>
    public SequentialPiecePicker(PiecePickerContext context, SequentialPickerOptions? options = null)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _window = (options ?? new SequentialPickerOptions()).WindowPieces(context.PieceLength);
    }

    /// <summary>Pieces in the urgent window.</summary>
    public int WindowPieces => _window;

    /// <inheritdoc />
    public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
    {
        var pieceCount = swarm.PieceCount;
        if (ranked.IsEmpty || pieceCount == 0) return 0;
        var wanted = swarm.Wanted;
        var start = StartPiece(swarm, pieceCount);
        if (start < 0) return 0; // nothing wanted
        var windowEnd = (int)Math.Min((long)start + _window, pieceCount);
        var count = 0;

        // 1. The urgent window, strictly in order.
        for (var p = wanted.NextSet(start); p >= 0 && p < windowEnd && count < ranked.Length; p = wanted.NextSet(p + 1))
            if (peer.Pieces[p]) ranked[count++] = p;

        // 2. The rest, by priority band, in order from the window's end, wrapping to the start.
        for (var band = 0; band < 3 && count < ranked.Length; band++)
        {
            count = AddBand(swarm, peer, ranked, count, band, windowEnd, pieceCount);
            if (start > 0 && count < ranked.Length) count = AddBand(swarm, peer, ranked, count, band, 0, start);
        }
        return count;
    }

    /// <summary>The playback position's piece, else the first piece we want; -1 when nothing is wanted.</summary>
    private int StartPiece(ISwarmView swarm, int pieceCount)
    {
        if (swarm.StreamPosition is { } position && position >= 0 && _context.PieceLength > 0)
        {
            var piece = position / _context.PieceLength;
            if (piece < pieceCount)
            {
                // The window starts at the position even when pieces there are done (the viewer is buffered);
                // but if nothing at or after it is wanted, fall back to the first wanted piece.
                if (swarm.Wanted.NextSet((int)piece) >= 0) return (int)piece;
            }
        }
        return swarm.Wanted.NextSet(0);
    }

    private static int AddBand(ISwarmView swarm, IPeerView peer, Span<int> ranked, int count, int band, int from, int to)
    {
        var wanted = swarm.Wanted;
        for (var p = from < to ? wanted.NextSet(from) : -1; p >= 0 && p < to && count < ranked.Length; p = wanted.NextSet(p + 1))
            if (BandOf(swarm.GetPriority(p)) == band && peer.Pieces[p]) ranked[count++] = p;
        return count;
    }

    /// <summary>0 for high (and above), 1 for normal (and between normal and high), 2 for low.</summary>
    private static int BandOf(Priority priority) => priority >= Priority.High ? 0 : priority >= Priority.Normal ? 1 : 2;
}
