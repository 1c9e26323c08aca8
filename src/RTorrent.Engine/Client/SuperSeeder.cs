using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>What super-seeding reads of its torrent (on the loop).</summary>
internal interface ISuperSeedHost
{
    /// <summary>Availability of each piece among the connected peers.</summary>
    PieceManager Pieces { get; }

    IReadOnlyList<Peer> Peers { get; }

    DateTimeOffset Now { get; }

    /// <summary>Every piece has been seen at a peer: the initial seeding is done.</summary>
    void EveryPieceSeen();
}

/// <summary>
/// BEP 16 super-seeding for a torrent's first seeding. A peer that connects meanwhile gets no bitfield (we look like a
/// peer with nothing) and then one piece at a time, by HAVE: the one least available (pieces nobody has and nobody
/// was given first, in order; then the fewest peers having or given it). Its requests for pieces it was not given are
/// ignored. It gets its next piece once the piece it was given is seen at another peer (that peer announced it: the
/// piece has spread without us), so every byte we upload adds a piece to the swarm rather than a copy.
/// </summary>
/// <remarks>
/// <para>Decisions where BEP 16 is silent: a peer whose bitfield already holds its piece gets another at once (it took
/// nothing from us). A peer waits for the spread only while some other connected peer lacks the piece, and at most
/// <see cref="MaxWait"/>: in a swarm of one, or of peers that do not talk to each other, strict waiting would stall
/// (libtorrent's default is not strict at all: the next piece as soon as the peer has its own). Super-seeding ends by
/// itself once every piece has been seen at some peer: a full copy is out in the swarm and plain seeding is faster
/// from then on. When it ends, every peer it held back gets HAVE for every piece it was not told of.</para>
/// <para>Costs: a reveal is O(1) while never-given pieces remain and at most <see cref="ScanLimit"/> pieces after;
/// a HAVE walks the peers only when some wait for that piece.</para>
/// </remarks>
internal sealed class SuperSeeder(ISuperSeedHost host, int pieceCount)
{
    /// <summary>Longest a peer waits for its piece to be seen elsewhere before it gets the next.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    /// <summary>Pieces looked at for one reveal once every piece was given to someone.</summary>
    private const int ScanLimit = 4096;

    private readonly Bitfield _seen = new(pieceCount);
    private readonly int[] _given = new int[pieceCount];
    private int _fresh;
    private int _scanFrom;
    private int _waiting;
    private bool _ended;

    /// <summary>Pieces handed out so far (tests).</summary>
    public int Reveals { get; private set; }

    /// <summary>
    /// A new connection: it gets no bitfield and its first piece. A peer that speaks BEP 6 must hear one of BITFIELD,
    /// HAVE ALL or HAVE NONE first: it gets HAVE NONE.
    /// </summary>
    public void Open(Peer peer)
    {
        if (peer.SupportsFast)
        {
            Span<byte> none = stackalloc byte[Peers.MessageWriter.SimpleLength];
            Peers.MessageWriter.WriteSimple(none, Peers.MessageId.HaveNone);
            peer.Connection.Enqueue(none);
        }
        peer.SuperSeed = new SuperSeedState(pieceCount);
        Reveal(peer);
    }

    /// <summary>Whether the peer may have <paramref name="piece"/> from us (peers connected before super-seeding may have any).</summary>
    public static bool MayServe(Peer peer, int piece) => peer.SuperSeed is not { } s || s.Given[piece];

    /// <summary>The peer's bitfield arrived (counted in the availability already).</summary>
    public void OnBitfield(Peer peer)
    {
        var pieces = peer.PeerPieces;
        for (int p = pieces.NextSet(0); p >= 0; p = pieces.NextSet(p + 1)) See(p);
        // It had its piece already: it took nothing from us, so it gets another at once.
        if (peer.SuperSeed is { Piece: >= 0 } s && pieces[s.Piece]) Reveal(peer);
        CheckEnded();
    }

    /// <summary>A HAVE from <paramref name="peer"/>.</summary>
    public void OnHave(Peer peer, int piece)
    {
        See(piece);
        if (peer.SuperSeed is { } s && s.Piece == piece && !s.Waiting)
        {
            s.Waiting = true;
            s.Since = host.Now;
            _waiting++;
            if (!OthersLack(peer, piece)) Reveal(peer);
        }
        if (_waiting > 0)
        {
            foreach (var other in host.Peers)
                if (other != peer && other.SuperSeed is { Waiting: true } o && o.Piece == piece) Reveal(other); // it spread
        }
        CheckEnded();
    }

    /// <summary>A peer left: peers waiting on a piece only it could have spread may now be unable to; the tick sees to them.</summary>
    public void OnPeerLeft(Peer peer)
    {
        if (peer.SuperSeed is { Waiting: true }) _waiting--;
        peer.SuperSeed = null;
    }

    /// <summary>Once a second: a waiting peer whose piece nobody else lacks, or that waited <see cref="MaxWait"/>, gets the next.</summary>
    public void Tick(DateTimeOffset now)
    {
        if (_waiting == 0) return;
        foreach (var peer in host.Peers.ToArray())
            if (peer.SuperSeed is { Waiting: true } s && (now - s.Since >= MaxWait || !OthersLack(peer, s.Piece))) Reveal(peer);
    }

    /// <summary>Super-seeding ends: each held-back peer hears every piece it was not told of.</summary>
    public void End()
    {
        _ended = true;
        Span<byte> have = stackalloc byte[MessageWriter.HaveLength];
        foreach (var peer in host.Peers)
        {
            if (peer.SuperSeed is not { } s) continue;
            peer.SuperSeed = null;
            for (int p = 0; p < pieceCount; p++)
            {
                if (s.Given[p] || peer.PeerPieces[p]) continue;
                MessageWriter.WriteHave(have, p);
                peer.Connection.Enqueue(have);
            }
        }
        _waiting = 0;
    }

    private void See(int piece) => _seen.Set(piece);

    private void CheckEnded()
    {
        if (!_ended && _seen.AllSet)
        {
            _ended = true;
            host.EveryPieceSeen();
        }
    }

    private bool OthersLack(Peer peer, int piece)
    {
        foreach (var other in host.Peers)
            if (other != peer && !other.Connection.IsClosed && !other.PeerPieces[piece]) return true;
        return false;
    }

    private void Reveal(Peer peer)
    {
        if (peer.SuperSeed is not { } s) return;
        if (s.Waiting)
        {
            s.Waiting = false;
            _waiting--;
        }
        int piece = Pick(peer, s);
        s.Piece = piece;
        if (piece < 0) return; // it has, or was given, everything
        s.Given.Set(piece);
        _given[piece]++;
        Reveals++;
        Span<byte> have = stackalloc byte[MessageWriter.HaveLength];
        MessageWriter.WriteHave(have, piece);
        peer.Connection.Enqueue(have);
    }

    private int Pick(Peer peer, SuperSeedState s)
    {
        while (_fresh < pieceCount && (_given[_fresh] > 0 || _seen[_fresh])) _fresh++;
        if (_fresh < pieceCount) return _fresh; // nobody has it, so neither has this peer
        int best = -1;
        long bestScore = long.MaxValue;
        var pieces = host.Pieces;
        for (int i = 0, p = _scanFrom; i < Math.Min(pieceCount, ScanLimit); i++, p = p + 1 == pieceCount ? 0 : p + 1)
        {
            if (peer.PeerPieces[p] || s.Given[p]) continue;
            long score = (long)pieces.GetAvailability(p) + _given[p];
            if (score < bestScore)
            {
                best = p;
                bestScore = score;
            }
        }
        _scanFrom = (_scanFrom + ScanLimit) % Math.Max(1, pieceCount);
        if (best < 0 && pieceCount > ScanLimit)
        {
            // Nothing in this window: any piece the peer lacks and was not given (rare: near the end of its copy).
            for (int p = 0; p < pieceCount; p++) if (!peer.PeerPieces[p] && !s.Given[p]) return p;
        }
        return best;
    }
}

/// <summary>A super-seeded peer: the pieces it was given and the one it is on.</summary>
internal sealed class SuperSeedState(int pieceCount)
{
    public readonly Bitfield Given = new(pieceCount);
    public int Piece = -1;
    public bool Waiting;
    public DateTimeOffset Since;
}
