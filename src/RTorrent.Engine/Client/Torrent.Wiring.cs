using System.Net;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>
/// The torrent's parts and what each sees of it. A part gets a narrow interface, implemented here explicitly, so it can
/// be tested with a fake and never reaches past its job; parts only a torrent with peers needs are made when first
/// used, so an idle torrent (ten thousand of them in a large session) holds a null reference for each.
/// </summary>
public sealed partial class Torrent : IPeerSourcesHost, IConnectorHost, IPeerMessageHost, IAvailabilityHost, IRequestHost,
    IUploadHost, IPieceCompletionHost, IMetadataHost, IExtensionProtocolHost, ISuperSeedHost
{
    private PeerConnector? _connector;
    private PeerMessageDispatcher? _dispatcher;
    private AvailabilityTracker? _availability;
    private RequestScheduler? _requests;
    private UploadServer? _uploads;
    private PieceCompletion? _completion;

    /// <summary>Dialling, admitting and keeping connections (made when there is a first peer to dial or admit).</summary>
    private PeerConnector Connector => _connector ??= new PeerConnector(this, _pool, _host.Connections);

    /// <summary>The wire messages of every connection go through it to the parts below (made at the first peer).</summary>
    private PeerMessageDispatcher Dispatcher => _dispatcher ??= new PeerMessageDispatcher(this, Availability, Requests, Uploads, Extensions, V2Messages);

    /// <summary>What the peers have, what we tell them we have, and our interest in each (made at the first peer).</summary>
    private AvailabilityTracker Availability => _availability ??= new AvailabilityTracker(this, _pool);

    /// <summary>Requesting blocks (made when a torrent first talks to a peer).</summary>
    private RequestScheduler Requests => _requests ??= new RequestScheduler(this, _download);

    /// <summary>Hashing, writing and judging completed pieces (made when the first piece completes).</summary>
    private PieceCompletion Completion => _completion ??= new PieceCompletion(this);

    /// <summary>Serving peers' requests and choking (made when a peer first talks to us).</summary>
    private UploadServer Uploads => _uploads ??= new UploadServer(this, _upload);

    /// <summary>Rechokes so far (tests: a torrent with peers is still rechoked every 10 seconds).</summary>
    internal int Rechokes => _uploads?.Rechokes ?? 0;

    /// <summary>The torrent's peer sources: trackers, DHT, PEX, LSD and plugins.</summary>
    private TorrentPeerSources Sources { get; }

    // ---------------------------------------------------------------- peer sources

    CancellationToken IPeerSourcesHost.RunToken => _runCts.Token;
    SynchronizationContext IPeerSourcesHost.Loop => _host.Loop;
    void IPeerSourcesHost.Log(PluginLogLevel level, string message) => Log(level, message);

    // ---------------------------------------------------------------- connecting

    bool IConnectorHost.IsRunning => IsRunning;
    int IConnectorHost.MaxConnections => MaxConnectionsLimit;
    IReadOnlyList<Peer> IConnectorHost.Peers => _peers;
    DateTimeOffset IConnectorHost.Now => Now;
    byte[] IConnectorHost.PeerId => _host.PeerId;
    CancellationToken IConnectorHost.RunToken => _runCts.Token;
    ILogger IConnectorHost.Logger => _host.Logger;
    void IConnectorHost.Log(PluginLogLevel level, string message) => Log(level, message);
    void IConnectorHost.Activate() => _host.Activate(this);
    void IConnectorHost.WakeAt(DateTimeOffset at) => _host.WakeAt(this, at);
    void IConnectorHost.Open(HandshakeResult handshake, KnownPeer? known) => Open(handshake, known);

    Task<HandshakeResult> IConnectorHost.DialAsync(IPEndPoint endPoint, CancellationToken ct)
    {
        var features = OurFeatures;
        var config = _host.Config;
        var peerId = _host.PeerId;
        var hash = InfoHash;
        Metainfo.InfoHash? upgrade = V2WireHash is { } v2 && v2 != InfoHash ? v2 : null; // a hybrid's v2 peers may upgrade (BEP 52)
        var transports = config.Transports;
        var proxy = config.Proxy.ForPeers; // through a proxy: TCP only, uTP would leave directly (docs/PROXIES.md)
        var utp = transports.UtpOutgoing && proxy is null ? _host.Utp : null;
        return Task.Run(() => PeerHandshaker.DialAsync(endPoint, utp, transports.TcpOutgoing, hash, peerId, features, TimeSpan.FromSeconds(10),
            config.Encryption, ct, upgrade, proxy), ct);
    }

    Task IConnectorHost.AnswerAsync(HandshakeResult handshake, CancellationToken ct) =>
        PeerHandshaker.AnswerAsync(handshake, _host.PeerId, OurFeatures, ct);

    // ---------------------------------------------------------------- wire-message dispatch

    IReadOnlyList<Peer> IPeerMessageHost.Peers => _peers;
    DateTimeOffset IPeerMessageHost.Now => Now;
    bool IPeerMessageHost.MetadataKnown => _metainfo is not null;
    void IPeerMessageHost.OnPeerClosed(Peer peer, string reason) => OnPeerClosed(peer, reason);

    void IPeerMessageHost.OnDhtPort(Peer peer, int port)
    {
        if (!(_metainfo?.IsPrivate ?? false)) _host.OnDhtNodeHint(new IPEndPoint(peer.EndPoint.Address, port));
    }

    // ---------------------------------------------------------------- availability

    PieceManager IAvailabilityHost.Pieces => _pieces;
    IReadOnlyList<Peer> IAvailabilityHost.Peers => _peers;
    void IAvailabilityHost.Disconnect(Peer peer, string reason) => Disconnect(peer, reason);

    void IAvailabilityHost.PeerAnnounced(Peer peer, int piece)
    {
        if (_superSeeder is not { } s) return;
        if (piece < 0) s.OnBitfield(peer);
        else s.OnHave(peer, piece);
    }

    // ---------------------------------------------------------------- super-seeding (BEP 16)

    PieceManager ISuperSeedHost.Pieces => _pieces;
    IReadOnlyList<Peer> ISuperSeedHost.Peers => _peers;
    DateTimeOffset ISuperSeedHost.Now => Now;
    void ISuperSeedHost.EveryPieceSeen() => EndSuperSeeding("every piece has been seen in the swarm; seeding normally");

    // ---------------------------------------------------------------- requesting

    PieceManager IRequestHost.Pieces => _pieces;
    bool IRequestHost.Downloading => State == TorrentState.Downloading && CanVerifyPieces;
    EngineConfig IRequestHost.Config => _host.Config;
    long IRequestHost.PendingDiskBytes => _completion?.PendingDiskBytes ?? 0;

    IPiecePicker IRequestHost.Picker
    {
        get => _picker;
        set => _picker = value;
    }

    string IRequestHost.PickerName => Options.Picker;
    void IRequestHost.Log(PluginLogLevel level, string message) => Log(level, message);
    void IRequestHost.Wasted(int bytes) => Wasted += bytes;
    void IRequestHost.PieceComplete(PartialPiece piece) => Completion.Complete(piece);

    // ---------------------------------------------------------------- upload serving

    PieceManager IUploadHost.Pieces => _pieces;
    IReadOnlyList<Peer> IUploadHost.Peers => _peers;
    bool IUploadHost.Seeding => State == TorrentState.Seeding;
    EngineConfig IUploadHost.Config => _host.Config;
    DateTimeOffset IUploadHost.Now => Now;
    SynchronizationContext IUploadHost.Loop => _host.Loop;
    CancellationToken IUploadHost.RunToken => _runCts.Token;
    Func<long, Memory<byte>, CancellationToken, ValueTask> IUploadHost.DataReader => Data.ReadAsync;
    PieceReadCache IUploadHost.ReadCache => _host.ReadCache;
    void IUploadHost.Fail(string reason) => Fail(reason);

    // ---------------------------------------------------------------- piece completion

    IPieceStore IPieceCompletionHost.Store => Data;
    SynchronizationContext IPieceCompletionHost.Loop => _host.Loop;
    CancellationToken IPieceCompletionHost.RunToken => _runCts.Token;
    bool IPieceCompletionHost.Active => State is TorrentState.Downloading or TorrentState.Seeding;
    PieceManager IPieceCompletionHost.Pieces => _pieces;
    void IPieceCompletionHost.Log(PluginLogLevel level, string message) => Log(level, message);
    void IPieceCompletionHost.Fail(string reason) => Fail(reason);

    void IPieceCompletionHost.Ban(Peer peer, string reason)
    {
        if (_pool.IsBanned(peer.EndPoint)) return;
        var listensOn = peer.Connection.IsOutgoing || peer.ListenPort is not { } port ? peer.EndPoint : new IPEndPoint(peer.EndPoint.Address, port);
        _pool.Ban(peer.EndPoint, listensOn, peer.Source);
        Log(PluginLogLevel.Warning, $"banned {peer.EndPoint}: {reason}");
        Disconnect(peer, "banned: " + reason);
    }

    void IPieceCompletionHost.HashFailed(int bytes)
    {
        HashFailures++;
        Wasted += bytes;
    }

    void IPieceCompletionHost.PieceVerified(int piece)
    {
        _host.OnPieceVerified(this, piece);
        Availability.AnnounceHave(piece);
        if (IsComplete) OnDownloadComplete();
    }

    // ---------------------------------------------------------------- extensions (BEP 10)

    EngineConfig IExtensionProtocolHost.Config => _host.Config;
    bool IExtensionProtocolHost.UploadOnly => IsUploadOnly;
    void IExtensionProtocolHost.PeerUploadOnlyChanged(Peer peer) => Availability.DropIfRedundant(peer);
    int IExtensionProtocolHost.ListenPort => _host.ListenPort;
    IReadOnlyList<Peer> IMetadataHost.ConnectedPeers => _peers;
    ExtensionProtocol IMetadataHost.Extensions => Extensions;
    DateTimeOffset IMetadataHost.Now => Now;
    void IMetadataHost.Log(PluginLogLevel level, string message) => Log(level, message);
    void IMetadataHost.Disconnect(Peer peer, string reason) => Disconnect(peer, reason);
    void IMetadataHost.MetadataFetched(byte[] infoBytes) => _ = OnMetadataFetchedAsync(infoBytes);

    event Action<Peer>? IMetadataHost.PeerDisconnected
    {
        add => PeerDisconnected += value;
        remove => PeerDisconnected -= value;
    }

    event Action<DateTimeOffset>? IMetadataHost.Ticked
    {
        add => Ticked += value;
        remove => Ticked -= value;
    }
}
