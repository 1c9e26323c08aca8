using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>What availability tracking reads and does on its torrent (on the loop).</summary>
internal interface IAvailabilityHost
{
    /// <summary>Null while a magnet's metadata is fetched: what peers announce waits for it.</summary>
    TorrentMetainfo? Metainfo { get; }

    /// <summary>The torrent's info-hash (the allowed-fast set is made from it).</summary>
    InfoHash InfoHash { get; }

    /// <summary>The swarm's piece state (replaced when the metadata arrives, so read each time).</summary>
    PieceManager Pieces { get; }

    /// <summary>Every wanted piece is ours: seeds have nothing for us.</summary>
    bool IsComplete { get; }

    IReadOnlyList<Peer> Peers { get; }

    void Disconnect(Peer peer, string reason);

    /// <summary>The peer announced pieces (<paramref name="piece"/>, or -1 for its bitfield), after they were counted.</summary>
    void PeerAnnounced(Peer peer, int piece);
}

/// <summary>
/// Pieces between us and the connected peers: theirs (BITFIELD and HAVE, counted in the torrent's availability, kept
/// aside until a magnet's metadata says how many pieces there are), ours (the bitfield a new peer gets first and the
/// HAVE every peer gets when a piece verifies), and whether we are interested in each peer, which follows both.
/// Seeds are remembered in the pool; two seeds part. Made when a torrent first connects to a peer.
/// </summary>
internal sealed class AvailabilityTracker(IAvailabilityHost host, PeerPool pool) : IAvailabilityMessages
{
    /// <summary>A HAVE arrived.</summary>
    /// <exception cref="PeerProtocolException">No such piece.</exception>
    public void OnHave(Peer peer, int piece)
    {
        if (host.Metainfo is not { } meta)
        {
            (peer.PendingHaves ??= new()).Add(piece); // a bit per piece: bounded whatever the peer sends
            return;
        }
        if ((uint)piece >= (uint)meta.PieceCount) throw new PeerProtocolException($"HAVE for piece {piece} of {meta.PieceCount}");
        if (!peer.PeerPieces.Set(piece)) return;
        host.PeerAnnounced(peer, piece);
        var pieces = host.Pieces;
        if (!peer.CountedAsSeed)
        {
            if (peer.PeerPieces.AllSet)
            {
                // Counted piece by piece until now: its count moves to the seed counter.
                peer.PeerPieces.Clear(piece);
                pieces.PeerBecameSeed(peer.PeerPieces);
                peer.PeerPieces.Set(piece);
                peer.CountedAsSeed = true;
                MarkSeed(peer);
            }
            else pieces.PeerHas(piece);
        }
        if (!peer.AmInterested && pieces.NeededField[piece]) SetInterested(peer, true);
    }

    /// <summary>A BITFIELD arrived (the dispatcher has checked it came first).</summary>
    /// <exception cref="PeerProtocolException">Its length does not fit the torrent.</exception>
    public void OnBitfield(Peer peer, byte[] payload)
    {
        if (host.Metainfo is not { } meta)
        {
            peer.PendingBitfield = payload;
            return;
        }
        if (!peer.PeerPieces.TryReadFrom(payload))
            throw new PeerProtocolException($"BITFIELD of {payload.Length} bytes for {meta.PieceCount} pieces");
        peer.CountedAsSeed = peer.PeerPieces.AllSet;
        host.Pieces.PeerBitfield(peer.PeerPieces, add: true);
        host.PeerAnnounced(peer, -1);
        if (peer.CountedAsSeed) MarkSeed(peer);
        UpdateInterest(peer);
        SendAllowedFast(peer);
    }

    /// <summary>HAVE ALL (BEP 6, checked by the dispatcher to come first): the peer is a seed.</summary>
    public void OnHaveAll(Peer peer)
    {
        if (host.Metainfo is null)
        {
            peer.PendingHaveAll = true;
            return;
        }
        peer.PeerPieces.SetAll();
        peer.CountedAsSeed = true;
        host.Pieces.PeerBitfield(peer.PeerPieces, add: true);
        MarkSeed(peer);
        UpdateInterest(peer);
    }

    /// <summary>HAVE NONE (BEP 6): the peer has nothing yet; it hears which pieces it may take while choked.</summary>
    public void OnHaveNone(Peer peer)
    {
        if (host.Metainfo is null) return;
        SendAllowedFast(peer);
    }

    /// <summary>
    /// BEP 6: the peer's allowed-fast set (made once), and an ALLOWED FAST for each of its pieces we have and it lacks,
    /// once we know what it has. Pieces of the set we verify later are offered by <see cref="AnnounceHave"/>.
    /// </summary>
    private void SendAllowedFast(Peer peer)
    {
        if (!peer.SupportsFast || host.Metainfo is not { } meta || peer.Connection.IsClosed) return;
        if (peer.AllowedFastOut.Length == 0)
            peer.AllowedFastOut = FastExtension.AllowedFastFor(peer.EndPoint.Address, host.InfoHash, meta.PieceCount);
        var have = host.Pieces.HaveField;
        Span<byte> m = stackalloc byte[MessageWriter.HaveLength];
        foreach (int piece in peer.AllowedFastOut)
        {
            if (!have[piece] || peer.PeerPieces[piece]) continue;
            MessageWriter.WriteIndex(m, MessageId.AllowedFast, piece);
            peer.Connection.Enqueue(m);
        }
    }
    private void MarkSeed(Peer peer)
    {
        if (pool.Get(peer.EndPoint) is { } k) k.IsSeed = true;
        if (host.IsComplete) host.Disconnect(peer, "both seeds");
    }

    /// <summary>Interested exactly when the peer has a piece we need (after our wants changed).</summary>
    public void UpdateInterest(Peer peer)
    {
        bool want = peer.PeerPieces.Intersects(host.Pieces.NeededField);
        if (want != peer.AmInterested) SetInterested(peer, want);
        if (!want) DropIfRedundant(peer);
    }

    /// <summary>
    /// BEP 21: an upload-only peer will never want anything of us, so once we want nothing of it either (we are done
    /// with what we want, or it has none of it) the connection serves nobody and its slot goes to another peer, as
    /// libtorrent does. Before the metadata is known it may still give us that, and before its first message we do
    /// not know what it has: it stays.
    /// </summary>
    /// <returns>Whether the peer was dropped.</returns>
    public bool DropIfRedundant(Peer peer)
    {
        if (!peer.UploadOnly || host.Metainfo is null || peer.Connection.IsClosed) return false;
        if (host.IsComplete) host.Disconnect(peer, "both upload-only");
        else if (peer.GotFirstMessage && !peer.AmInterested) host.Disconnect(peer, "upload-only peer has nothing we need");
        else return false;
        return true;
    }

    /// <summary>Sends INTERESTED or NOT INTERESTED.</summary>
    public static void SetInterested(Peer peer, bool interested)
    {
        peer.AmInterested = interested;
        Span<byte> b = stackalloc byte[MessageWriter.SimpleLength];
        MessageWriter.WriteSimple(b, interested ? MessageId.Interested : MessageId.NotInterested);
        peer.Connection.Enqueue(b);
    }

    /// <summary>
    /// What we have, as a new connection's first message (BEP 3: the bitfield comes first, and not at all when it is
    /// empty). A peer that speaks BEP 6 gets exactly one of HAVE NONE (nothing, or no metadata yet), HAVE ALL (a seed)
    /// or the bitfield, as the spec requires.
    /// </summary>
    public void SendBitfield(Peer peer)
    {
        var have = host.Pieces.HaveField;
        if (peer.SupportsFast && (host.Metainfo is null || have.NoneSet || have.AllSet))
        {
            Span<byte> b = stackalloc byte[MessageWriter.SimpleLength];
            MessageWriter.WriteSimple(b, host.Metainfo is not null && have.AllSet ? MessageId.HaveAll : MessageId.HaveNone);
            peer.Connection.Enqueue(b);
            return;
        }
        if (!have.NoneSet)
        {
            int n = have.ByteLength;
            peer.Connection.EnqueueWith(5 + n, m =>
            {
                MessageWriter.WriteHeader(m.Span, MessageId.Bitfield, n);
                have.WriteTo(m.Span[5..]);
            });
        }
    }

    /// <summary>A piece verified: every peer hears it, and interest ends in peers that have nothing else we need.</summary>
    public void AnnounceHave(int piece)
    {
        var needed = host.Pieces.NeededField;
        Span<byte> have = stackalloc byte[MessageWriter.HaveLength];
        MessageWriter.WriteHave(have, piece);
        Span<byte> fast = stackalloc byte[MessageWriter.HaveLength];
        MessageWriter.WriteIndex(fast, MessageId.AllowedFast, piece);
        foreach (var p in host.Peers.ToArray())
        {
            p.Connection.Enqueue(have);
            // BEP 6: a piece of the peer's allowed-fast set it lacks is now ours to offer.
            if (p.AllowedFastOut.Length > 0 && Array.IndexOf(p.AllowedFastOut, piece) >= 0 && !p.PeerPieces[piece]) p.Connection.Enqueue(fast);
            if (p.AmInterested && !p.PeerPieces.Intersects(needed))
            {
                SetInterested(p, false);
                DropIfRedundant(p);
            }
        }
    }

    /// <summary>The download completed: seeds are dropped (neither side wants anything), interest ends everywhere.</summary>
    public void OnComplete()
    {
        foreach (var p in host.Peers.ToArray())
        {
            if (p.IsSeed) host.Disconnect(p, "both seeds");
            else if (p.UploadOnly) host.Disconnect(p, "both upload-only");
            else if (p.AmInterested) SetInterested(p, false);
        }
    }

    /// <summary>
    /// The metadata arrived while peers were connected: give each its real bitfield from what it sent before, so no
    /// connection is lost.
    /// </summary>
    public void RebindAfterMetadata()
    {
        int pieceCount = host.Metainfo!.PieceCount;
        foreach (var peer in host.Peers.ToArray())
        {
            peer.PeerPieces = new Bitfield(pieceCount);
            try
            {
                if (peer.PendingHaveAll) OnHaveAll(peer);
                else if (peer.PendingBitfield is { } bf) OnBitfield(peer, bf);
                else if (peer.GotFirstMessage) SendAllowedFast(peer); // HAVE NONE, or nothing, came before the metadata
                foreach (int h in peer.PendingHaves ?? []) OnHave(peer, h);
            }
            catch (PeerProtocolException e)
            {
                host.Disconnect(peer, e.Message);
            }
            peer.PendingBitfield = null;
            peer.PendingHaveAll = false;
            peer.PendingHaves = null;
        }
    }

    /// <summary>A peer left: its pieces no longer count.</summary>
    public void OnPeerLeft(Peer peer)
    {
        if (peer.CountedAsSeed || !peer.PeerPieces.NoneSet) host.Pieces.PeerBitfield(peer.PeerPieces, add: false);
    }
}
