using RTorrent.Engine.Client;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.WebSeeds;

/// <summary>
/// One web seed of a torrent (on the torrent's loop): its URL and protocol, its health, its rate. To the piece
/// bookkeeping it is a requester that has every piece, like a peer, so blocks it was given are nobody else's until
/// endgame, and a piece it sent alone that fails names it.
/// </summary>
internal sealed class WebSeed : IBlockRequester
{
    private readonly Bitfield _all;

    public WebSeed(string url, WebSeedKind kind, WebSeedLayout? layout, int pieceCount, WebSeedPolicy policy, TimeProvider time)
    {
        Url = url;
        Kind = kind;
        Layout = layout;
        Health = new WebSeedHealth(policy);
        Download = new RateMeter(time);
        _all = new Bitfield(pieceCount);
        _all.SetAll();
    }

    public string Url { get; }
    public WebSeedKind Kind { get; }

    /// <summary>BEP 19 file layout (null for a BEP 17 seed, which is asked by piece).</summary>
    public WebSeedLayout? Layout { get; }

    public WebSeedHealth Health { get; set; }
    public RateMeter Download { get; }

    /// <summary>Cancelled when the torrent stops or the seed is dropped (one per run of the torrent).</summary>
    public CancellationTokenSource? Drop { get; set; }

    /// <summary>Workers running (each keeps one request in flight).</summary>
    public int Workers { get; set; }

    /// <summary>Requests in flight.</summary>
    public int Busy { get; set; }

    /// <summary>Where the next run starts looking (spreads several seeds over the torrent), or null for the picker's order.</summary>
    public int? Cursor { get; set; }

    public Bitfield PeerPieces => _all;

    public WebSeedState State(DateTimeOffset now) =>
        Health.IsDropped ? WebSeedState.Dropped
        : !Health.IsReady(now) ? WebSeedState.Backoff
        : Busy > 0 ? WebSeedState.Active
        : WebSeedState.Idle;

    public override string ToString() => Url;
}
