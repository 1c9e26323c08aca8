using RTorrent.Abstractions;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>
/// The torrent's parts and what each sees of it. A part gets a narrow interface, implemented here explicitly, so it can
/// be tested with a fake; parts only a torrent with peers needs are made when first used, so an idle torrent holds a
/// null reference for each.
/// </summary>
public sealed partial class Torrent : IUploadHost, IMetadataHost, IExtensionProtocolHost
{
    private UploadServer? _uploads;

    /// <summary>Serving peers' requests and choking (made when a peer first talks to us).</summary>
    private UploadServer Uploads => _uploads ??= new UploadServer(this, _upload);

    /// <summary>Rechokes so far (tests: a torrent with peers is still rechoked every 10 seconds).</summary>
    internal int Rechokes => _uploads?.Rechokes ?? 0;

    // ---------------------------------------------------------------- upload serving

    PieceManager IUploadHost.Pieces => _pieces;
    IReadOnlyList<Peer> IUploadHost.Peers => _peers;
    bool IUploadHost.Seeding => State == TorrentState.Seeding;
    EngineConfig IUploadHost.Config => _host.Config;
    DateTimeOffset IUploadHost.Now => Now;
    SynchronizationContext IUploadHost.Loop => _host.Loop;
    CancellationToken IUploadHost.RunToken => _runCts.Token;
    Func<int, CancellationToken, ValueTask<byte[]>> IUploadHost.PieceReader => Data.ReadPieceAsync;
    void IUploadHost.Fail(string reason) => Fail(reason);

    // ---------------------------------------------------------------- extensions (BEP 10)

    EngineConfig IExtensionProtocolHost.Config => _host.Config;
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
