using RTorrent.Abstractions;

namespace RTorrent.Engine.Pieces;

/// <summary>
/// Every piece kept sorted by (priority class, availability) in one array, libtorrent-style: the array is cut into
/// buckets by sort key, and a change of a piece's availability by one swaps it with the boundary element of its
/// bucket and moves the boundary, which is O(1). Pieces no longer needed (had or skipped) sit in a class after all
/// the others, so the needed pieces are always a prefix.
/// </summary>
/// <remarks>
/// Seeds are not counted per piece: they add the same amount to every piece, which changes nobody's order.
/// Availability above <see cref="AvailabilityCap"/> sorts as the cap: "very common" is common enough.
/// </remarks>
internal sealed class PieceOrder
{
    /// <summary>Availability values above this sort together.</summary>
    public const int AvailabilityCap = 255;

    private const int Stride = AvailabilityCap + 1;
    private const int ClassNotNeeded = 3;
    private const int ClassCount = 4;

    private readonly int[] _order;          // pieces, sorted by key
    private readonly int[] _position;       // piece -> index in _order
    private readonly int[] _availability;   // per piece, not counting seeds
    private readonly byte[] _class;         // 0 high, 1 normal, 2 low, 3 not needed
    private readonly int[] _bucketStart;    // key -> first index in _order; _bucketStart[keyCount] = length

    /// <summary>Every piece at availability 0, in the normal class, or in the class of pieces not needed when <paramref name="needed"/> is false.</summary>
    public PieceOrder(int pieceCount, Random random, bool needed = true)
    {
        _order = new int[pieceCount];
        _position = new int[pieceCount];
        _availability = new int[pieceCount];
        _class = new byte[pieceCount];
        _bucketStart = new int[Stride * ClassCount + 1];
        byte cls = needed ? (byte)1 : (byte)ClassNotNeeded;
        for (int i = 0; i < pieceCount; i++)
        {
            _order[i] = i;
            _class[i] = cls;
        }
        random.Shuffle(_order);
        for (int i = 0; i < pieceCount; i++) _position[_order[i]] = i;
        // Everything starts in bucket (normal, 0), or (not needed, 0).
        int start = Stride * cls;
        for (int k = 0; k < _bucketStart.Length; k++) _bucketStart[k] = k <= start ? 0 : pieceCount;
    }

    public int PieceCount => _order.Length;

    /// <summary>The sum of every piece's availability (0 when no peer's pieces are counted).</summary>
    public long CountedAvailability { get; private set; }

    /// <summary>Pieces still needed, best first.</summary>
    public ReadOnlySpan<int> Needed => _order.AsSpan(0, _bucketStart[Stride * ClassNotNeeded]);

    public int GetAvailability(int piece) => _availability[piece];

    /// <summary>0 high, 1 normal, 2 low, 3 not needed.</summary>
    internal int GetClass(int piece) => _class[piece];

    public void Increment(int piece)
    {
        int a = _availability[piece]++;
        CountedAvailability++;
        if (a < AvailabilityCap) MoveUp(piece, Key(_class[piece], a));
    }

    public void Decrement(int piece)
    {
        int a = _availability[piece];
        if (a == 0) throw new InvalidOperationException($"Availability of piece {piece} would go below zero.");
        _availability[piece] = a - 1;
        CountedAvailability--;
        if (a <= AvailabilityCap) MoveDown(piece, Key(_class[piece], a));
    }

    /// <summary>Moves a piece to the class for <paramref name="priority"/> or to "not needed" when <paramref name="needed"/> is false.</summary>
    public void SetClass(int piece, Priority priority, bool needed)
    {
        byte target = !needed || priority == Priority.Skip ? (byte)ClassNotNeeded
            : priority >= Priority.High ? (byte)0
            : priority >= Priority.Normal ? (byte)1 : (byte)2;
        byte current = _class[piece];
        if (current == target) return;
        int avail = Math.Min(_availability[piece], AvailabilityCap);
        int key = Key(current, avail);
        int targetKey = Key(target, avail);
        while (key < targetKey) MoveUp(piece, key++);
        while (key > targetKey) MoveDown(piece, key--);
        _class[piece] = target;
    }

    private static int Key(int cls, int availability) => cls * Stride + availability;

    // Moves a piece from bucket key to key + 1: swap it with the last element of its bucket, then shrink the bucket.
    private void MoveUp(int piece, int key)
    {
        int last = _bucketStart[key + 1] - 1;
        Swap(_position[piece], last);
        _bucketStart[key + 1]--;
    }

    // Moves a piece from bucket key to key - 1: swap it with the first element of its bucket, then grow the one below.
    private void MoveDown(int piece, int key)
    {
        int first = _bucketStart[key];
        Swap(_position[piece], first);
        _bucketStart[key]++;
    }

    private void Swap(int i, int j)
    {
        if (i == j) return;
        int a = _order[i], b = _order[j];
        _order[i] = b;
        _order[j] = a;
        _position[b] = i;
        _position[a] = j;
    }

    /// <summary>Checks the invariants (tests only): sorted by key, positions consistent.</summary>
    internal void Validate()
    {
        for (int i = 0; i < _order.Length; i++)
        {
            int p = _order[i];
            if (_position[p] != i) throw new InvalidOperationException("position mismatch");
            int key = Key(_class[p], Math.Min(_availability[p], AvailabilityCap));
            if (i < _bucketStart[key] || i >= _bucketStart[key + 1]) throw new InvalidOperationException($"piece {p} at {i} outside bucket {key}");
        }
    }
}
