using RTorrent.Abstractions;

namespace RTorrent.Plugins.Conformance;

/// <summary>A mutable bitfield for tests; implements the read-only <see cref="IBitfieldView"/> pickers see.</summary>
public sealed class FakeBitfield : IBitfieldView
{
    private readonly bool[] _bits;

    /// <summary>Creates a bitfield of <paramref name="length"/> bits, all clear.</summary>
    public FakeBitfield(int length) => _bits = new bool[length];

    /// <summary>Creates a bitfield with the given bits set.</summary>
    public static FakeBitfield Of(int length, IEnumerable<int> set)
    {
        var b = new FakeBitfield(length);
        foreach (var i in set) b[i] = true;
        return b;
    }

    /// <summary>Creates a bitfield with every bit set.</summary>
    public static FakeBitfield All(int length) => Of(length, Enumerable.Range(0, length));

    /// <inheritdoc />
    public int Length => _bits.Length;

    /// <inheritdoc />
    public int TrueCount => _bits.Count(b => b);

    /// <inheritdoc cref="IBitfieldView.this" />
    public bool this[int index]
    {
        get => _bits[index];
        set => _bits[index] = value;
    }

    /// <inheritdoc />
    public int NextSet(int start)
    {
        for (var i = Math.Max(0, start); i < _bits.Length; i++)
            if (_bits[i]) return i;
        return -1;
    }
}

/// <summary>
/// A swarm for picker tests: set what we have, file priorities per piece, availability and the stream position;
/// <see cref="Wanted"/> is derived (priority above skip and not had), as the engine does.
/// </summary>
public sealed class FakeSwarm : ISwarmView
{
    private readonly int[] _availability;
    private readonly Priority[] _priorities;

    /// <summary>Creates a swarm of <paramref name="pieceCount"/> pieces: none had, all normal priority, availability 0.</summary>
    public FakeSwarm(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        PieceCount = pieceCount;
        _availability = new int[pieceCount];
        _priorities = Enumerable.Repeat(Priority.Normal, pieceCount).ToArray();
        Have = new FakeBitfield(pieceCount);
        InProgress = new FakeBitfield(pieceCount);
    }

    /// <inheritdoc />
    public int PieceCount { get; }

    /// <summary>Pieces we have (mutable).</summary>
    public FakeBitfield Have { get; }

    IBitfieldView ISwarmView.Have => Have;

    /// <summary>Pieces in progress (mutable).</summary>
    public FakeBitfield InProgress { get; }

    IBitfieldView ISwarmView.InProgress => InProgress;

    /// <inheritdoc />
    public IBitfieldView Wanted => new WantedView(this);

    /// <inheritdoc />
    public long? StreamPosition { get; set; }

    /// <inheritdoc />
    public bool IsEndgame { get; set; }

    /// <inheritdoc />
    public ReadOnlySpan<int> PiecesByAvailability =>
        Enumerable.Range(0, PieceCount).OrderBy(p => _availability[p]).ThenBy(p => p).ToArray();

    /// <inheritdoc />
    public int GetAvailability(int piece) => _availability[piece];

    /// <summary>Sets how many peers have a piece.</summary>
    public void SetAvailability(int piece, int peers) => _availability[piece] = peers;

    /// <inheritdoc />
    public Priority GetPriority(int piece) => _priorities[piece];

    /// <summary>Sets a piece's priority.</summary>
    public void SetPriority(int piece, Priority priority) => _priorities[piece] = priority;

    /// <summary>Sets the priority of a range of pieces (for example a file's).</summary>
    public void SetPriority(int firstPiece, int lastPiece, Priority priority)
    {
        for (var p = firstPiece; p <= lastPiece; p++) _priorities[p] = priority;
    }
}

/// <summary>A live view of a <see cref="FakeSwarm"/>'s wanted pieces: priority above skip and not had.</summary>
internal sealed class WantedView(FakeSwarm swarm) : IBitfieldView
{
    public int Length => swarm.PieceCount;

    public int TrueCount
    {
        get
        {
            var n = 0;
            for (var p = 0; p < swarm.PieceCount; p++) if (this[p]) n++;
            return n;
        }
    }

    public bool this[int index] => swarm.GetPriority(index) != Priority.Skip && !swarm.Have[index];

    public int NextSet(int start)
    {
        for (var p = Math.Max(0, start); p < swarm.PieceCount; p++)
            if (this[p]) return p;
        return -1;
    }
}

/// <summary>A peer for picker tests.</summary>
public sealed class FakePeer : IPeerView
{
    /// <summary>Creates a peer that has the given pieces.</summary>
    public FakePeer(FakeBitfield pieces) => Pieces = pieces;

    /// <summary>A peer with every piece.</summary>
    public static FakePeer Seed(int pieceCount) => new(FakeBitfield.All(pieceCount));

    /// <summary>Pieces the peer has (mutable).</summary>
    public FakeBitfield Pieces { get; }

    IBitfieldView IPeerView.Pieces => Pieces;

    /// <inheritdoc />
    public bool IsSeed => Pieces.TrueCount == Pieces.Length;

    /// <inheritdoc />
    public long DownloadRate { get; set; }

    /// <inheritdoc />
    public IReadOnlyCollection<int> AllowedFast { get; set; } = [];
}
