using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>
/// One connected peer as the torrent sees it, on the engine loop: choke and interest state in both directions, the
/// pieces it has, our requests to it and its requests to us, rates. The socket side is <see cref="PeerConnection"/>.
/// </summary>
internal sealed class Peer : IBlockRequester, IPeerView
{
    /// <summary>
    /// The connection speaks BEP 52 v2: it was made with the torrent's truncated v2 info-hash (always for a v2-only
    /// torrent). Only such peers may send and are sent hash requests, as libtorrent has it.
    /// </summary>
    public bool IsV2 { get; init; }

    public Peer(IPeerWire connection, byte[] peerId, PeerFeatures features, int pieceCount, string source, DateTimeOffset now,
        TimeProvider time)
    {
        Download = new RateMeter(time);
        Upload = new RateMeter(time);
        Connection = connection;
        PeerId = peerId;
        Features = features;
        PeerPieces = new Bitfield(pieceCount);
        Source = source;
        ConnectedAt = now;
        LastReceived = now;
        LastSent = now;
        LastBlockAt = now;
        Client = PeerIds.DescribeClient(peerId);
    }

    public IPeerWire Connection { get; }

    /// <summary>
    /// Both handshakes set the BEP 6 bit (we always do): HAVE ALL / HAVE NONE, REJECT REQUEST, SUGGEST PIECE and
    /// ALLOWED FAST are spoken, a choke no longer drops requests, and every request gets a block or a reject.
    /// </summary>
    public bool SupportsFast => (Features & PeerFeatures.Fast) != 0;
    public IPEndPoint EndPoint => Connection.RemoteEndPoint;
    public byte[] PeerId { get; }
    public PeerFeatures Features { get; }
    public string Client { get; set; }
    public string Source { get; }
    public DateTimeOffset ConnectedAt { get; }

    // state, BEP 3 names
    public bool AmChoking = true;
    public bool AmInterested;
    public bool PeerChoking = true;
    public bool PeerInterested;

    public Bitfield PeerPieces { get; set; }

    /// <summary>BITFIELD received before the metadata was known (magnet links): applied once it is.</summary>
    public byte[]? PendingBitfield;

    /// <summary>HAVE ALL received before the metadata was known (BEP 6): the peer is a seed once we know the size.</summary>
    public bool PendingHaveAll;

    /// <summary>HAVEs received before the metadata was known.</summary>
    public PendingHaves? PendingHaves;
    public bool CountedAsSeed;
    public bool GotFirstMessage;

    /// <summary>Our requests to the peer, oldest first.</summary>
    public readonly RequestQueue Outstanding = new();

    /// <summary>The peer's requests to us, in order.</summary>
    public readonly Queue<BlockRequest> Incoming = new();

    /// <summary>The peer's request queue limit from its extended handshake (BEP 10 'reqq'); 250 if unknown.</summary>
    public int PeerReqq = 250;

    public bool Snubbed;
    public DateTimeOffset LastReceived;
    public DateTimeOffset LastSent;
    public DateTimeOffset LastBlockAt;
    public DateTimeOffset LastUnchoked;
    public DateTimeOffset? OptimisticSince;

    public readonly RateMeter Download;
    public readonly RateMeter Upload;

    /// <summary>
    /// Messages from the peer that broke the protocol but were dropped rather than ending the connection, such as a
    /// REQUEST for a block larger than 16 KiB (issue 14).
    /// </summary>
    public int ProtocolViolations;

    /// <summary>Block requests that found our queue for the peer full (<see cref="Peers.IncomingRequestLimit"/>).</summary>
    public int RequestsPastQueue;

    /// <summary>Block requests refused because we choke the peer, since it was last unchoked (<see cref="Peers.IncomingRequestLimit"/>).</summary>
    public int RequestsWhileChoked;

    // fast extension (BEP 6)

    /// <summary>Our allowed-fast set for this peer (BEP 6 canonical set): its requests for these are served while choked.</summary>
    public int[] AllowedFastOut = [];

    /// <summary>Pieces the peer lets us request while it chokes us (its ALLOWED FAST messages), at most <see cref="FastExtension.MaxAllowedFastIn"/>.</summary>
    public readonly List<int> AllowedFastIn = [];

    /// <summary>Pieces the peer suggested (SUGGEST PIECE), newest last, at most <see cref="FastExtension.MaxSuggestions"/>.</summary>
    public readonly List<int> Suggested = [];

    /// <summary>Requests we cancelled that the peer may still answer with a REJECT (BEP 6), newest last, bounded.</summary>
    public readonly Queue<BlockRequest> CancelledAwaitingAnswer = new();

    /// <summary>When the peer last choked us (a fast peer's choke keeps our requests until it rejects them, or this times out).</summary>
    public DateTimeOffset ChokedAt;

    // extension protocol (BEP 10)
    public Dictionary<string, int> TheirExtensions { get; } = new(StringComparer.Ordinal);
    public int? ListenPort;
    public long? MetadataSize;

    /// <summary>BEP 21: the peer said it wants nothing (a seed or a partial seed); it will never be interested in us.</summary>
    public bool UploadOnly;

    /// <summary>BEP 16: the pieces we showed the peer while super-seeding; null when it may have any.</summary>
    public SuperSeedState? SuperSeed;

    /// <summary>What we last told the peer of our own upload-only state (null before our extended handshake).</summary>
    public bool? SentUploadOnly;

    // IPeerView
    IBitfieldView IPeerView.Pieces => PeerPieces;
    public bool IsSeed => PeerPieces.AllSet;
    public long DownloadRate => Download.Rate;
    public IReadOnlyCollection<int> AllowedFast => AllowedFastIn;

    /// <summary>Progress of the peer as a fraction of the torrent.</summary>
    public double Progress => PeerPieces.Length == 0 ? 0 : (double)PeerPieces.TrueCount / PeerPieces.Length;

    public override string ToString() => $"{EndPoint} {Client}";
}
