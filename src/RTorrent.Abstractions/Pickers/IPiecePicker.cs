namespace RTorrent.Abstractions;

/// <summary>Creates piece pickers; registered by a plugin (or built into the engine).</summary>
public interface IPiecePickerFactory : IPluginComponent
{
    /// <summary>Creates the picker for one torrent. Called on the engine loop; must not block.</summary>
    IPiecePicker Create(PiecePickerContext context);
}

/// <summary>The fixed facts about a torrent that a picker may need.</summary>
/// <param name="PieceCount">Number of pieces.</param>
/// <param name="PieceLength">Nominal piece length in bytes (the last piece may be shorter).</param>
/// <param name="TotalLength">Length of the torrent's byte stream, padding included.</param>
/// <param name="Files">The torrent's files in order, with the pieces each one spans.</param>
public sealed record PiecePickerContext(int PieceCount, long PieceLength, long TotalLength, IReadOnlyList<PickerFileSpan> Files);

/// <summary>Where one file lies in the torrent's piece space.</summary>
/// <param name="Path">Relative path, '/'-separated.</param>
/// <param name="Offset">Byte offset of the file in the torrent's byte stream.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="FirstPiece">First piece that holds bytes of the file.</param>
/// <param name="LastPiece">Last piece that holds bytes of the file (equal to <paramref name="FirstPiece"/> - 1 for empty files).</param>
/// <param name="IsPadding">A BEP 47 pad file: never downloaded, never written.</param>
public sealed record PickerFileSpan(string Path, long Offset, long Length, int FirstPiece, int LastPiece, bool IsPadding);

/// <summary>
/// Decides which pieces to download from a peer next. The engine keeps the swarm's state (availability, which
/// blocks are requested and received, endgame, timeouts, cancels); a picker only ranks pieces.
/// </summary>
/// <remarks>
/// <para>
/// Called on the engine loop, often (every time a peer has room for more requests): it must be fast and must not
/// block or allocate much. The engine checks what comes back: an index out of range, a piece the peer does not have,
/// a piece we have or do not want, a duplicate, or a count larger than the span is a fault. A picker that faults,
/// throws, or repeatedly takes longer than the engine's time budget (tens of milliseconds) is replaced by the
/// default picker for that torrent and the user is told why.
/// </para>
/// <para>
/// One instance serves one torrent and is only ever called from the engine loop, so it needs no locking. Pieces in
/// <see cref="ISwarmView.InProgress"/> may be returned (the engine then requests their remaining free blocks); a
/// picker that prefers finishing started pieces ranks them first. When the peer chokes us the engine only requests
/// pieces in <see cref="IPeerView.AllowedFast"/>, whatever the ranking.
/// </para>
/// </remarks>
public interface IPiecePicker
{
    /// <summary>
    /// Writes up to <c>ranked.Length</c> piece indexes into <paramref name="ranked"/>, best first, and returns how
    /// many were written. Only pieces that are wanted (<see cref="ISwarmView.Wanted"/>, which excludes pieces we
    /// have) and that the peer has may be returned, each at most once; the engine requests free blocks from them in
    /// this order. Returning 0 means nothing from this peer is worth downloading now.
    /// </summary>
    /// <param name="swarm">The torrent's swarm state; valid only during this call.</param>
    /// <param name="peer">The peer to pick for; valid only during this call.</param>
    /// <param name="ranked">Where to write piece indexes; its length is the most the engine can use now.</param>
    int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked);
}

/// <summary>A read-only bitfield (one bit per piece).</summary>
public interface IBitfieldView
{
    /// <summary>Number of bits.</summary>
    int Length { get; }

    /// <summary>Number of set bits.</summary>
    int TrueCount { get; }

    /// <summary>Whether bit <paramref name="index"/> is set.</summary>
    bool this[int index] { get; }

    /// <summary>Index of the first set bit at or after <paramref name="start"/>, or -1.</summary>
    int NextSet(int start);
}

/// <summary>Priority of a file or piece. Skipped pieces are never downloaded.</summary>
public enum Priority : byte
{
    /// <summary>Do not download.</summary>
    Skip = 0,
    /// <summary>Download after everything else.</summary>
    Low = 1,
    /// <summary>The default.</summary>
    Normal = 4,
    /// <summary>Download before normal pieces.</summary>
    High = 7,
}

/// <summary>The engine's view of the swarm, read-only for pickers. Valid only during the call it is passed to.</summary>
public interface ISwarmView
{
    /// <summary>Number of pieces.</summary>
    int PieceCount { get; }

    /// <summary>How many connected peers have the piece.</summary>
    int GetAvailability(int piece);

    /// <summary>Verified pieces we have.</summary>
    IBitfieldView Have { get; }

    /// <summary>
    /// The pieces a picker may return now: priority above <see cref="Priority.Skip"/>, not had, and with blocks still
    /// free to request (in endgame: every piece not yet verified). A piece whose blocks are all requested from other
    /// peers drops out of this set until a request is cancelled or times out.
    /// </summary>
    IBitfieldView Wanted { get; }

    /// <summary>
    /// Pieces with at least one block requested or received but not yet verified. Preferring these keeps few pieces
    /// open at once, so pieces complete (and can be shared) sooner.
    /// </summary>
    IBitfieldView InProgress { get; }

    /// <summary>Priority of a piece: the highest priority of the files it touches.</summary>
    Priority GetPriority(int piece);

    /// <summary>
    /// The pieces still needed (not had, not skipped), ordered by priority (high first), then by availability
    /// (rarest first); pieces that tie are in random order. Kept up to date in O(1) per HAVE, so walking a prefix
    /// of it is cheap. Pieces in it may still be absent from <see cref="Wanted"/> (all their blocks requested).
    /// </summary>
    ReadOnlySpan<int> PiecesByAvailability { get; }

    /// <summary>Byte offset the user is streaming from (set by "sequential" / playback), or null.</summary>
    long? StreamPosition { get; }

    /// <summary>Whether the engine is in endgame (every wanted block requested at least once).</summary>
    bool IsEndgame { get; }
}

/// <summary>What a picker may know about the peer it picks for.</summary>
public interface IPeerView
{
    /// <summary>Pieces the peer has.</summary>
    IBitfieldView Pieces { get; }

    /// <summary>Whether the peer has every piece.</summary>
    bool IsSeed { get; }

    /// <summary>Recent download rate from this peer in bytes per second.</summary>
    long DownloadRate { get; }

    /// <summary>Pieces the peer allows us to request while choked (BEP 6 allowed-fast set); may be empty.</summary>
    IReadOnlyCollection<int> AllowedFast { get; }
}
