using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client;

public sealed partial class Torrent
{
    /// <summary>The extension protocol (BEP 10): the extensions this torrent speaks and the peers' handshakes.</summary>
    internal ExtensionProtocol Extensions { get; }

    /// <summary>Raised on the loop when a peer left.</summary>
    internal event Action<Peer>? PeerDisconnected;

    internal IReadOnlyList<Peer> ConnectedPeers => _peers;

    /// <summary>Connections open and being made (tests).</summary>
    internal int ConnectionCount => _peers.Count + (_connector?.HalfOpen ?? 0);

    /// <summary>What our handshake advertises: extensions and the fast extension always; the DHT when it runs and the torrent is public.</summary>
    private PeerFeatures OurFeatures =>
        PeerFeatures.Extensions | PeerFeatures.Fast | (_host.DhtPort is not null && !(_metainfo?.IsPrivate ?? false) ? PeerFeatures.Dht : PeerFeatures.None)
        | (HasV2 ? PeerFeatures.V2 : PeerFeatures.None);

    /// <summary>Connected to the swarm: downloading, seeding or fetching metadata.</summary>
    internal bool IsRunning => State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;

    // ------------------------------------------------------------------ connecting

    /// <summary>Dials known peers while there is room (see <see cref="PeerConnector.ConnectMore"/>); an empty pool costs nothing.</summary>
    private bool ConnectMore(DateTimeOffset now) => IsRunning && _pool.Count > 0 && Connector.ConnectMore(now);

    /// <summary>An incoming connection for this torrent passed its handshake (called on the loop).</summary>
    internal Task AcceptIncomingAsync(HandshakeResult handshake) => Connector.AcceptAsync(handshake);

    /// <summary>An admitted connection becomes a peer: it is read and written from now on, and hears what we have.</summary>
    private void Open(HandshakeResult hs, KnownPeer? known)
    {
        var now = Now;
        int pieceCount = _metainfo?.PieceCount ?? 0;
        var connection = new PeerConnection(hs.Stream, hs.RemoteEndPoint, hs.Outgoing, pieceCount, Dispatcher, _host.Loop,
            Throttle(DownloadLimiter), Throttle(UploadLimiter), hs.Ciphers, _host.Logger);
        var upload = UploadLimiter;
        connection.CanSendInline = () => upload.IsUnlimited && (upload.Parent?.IsUnlimited ?? true);
        var peer = new Peer(connection, hs.PeerId, hs.Features, pieceCount, known?.Source ?? "incoming", now, _host.Time)
        {
            IsV2 = V2WireHash is { } v2 && hs.InfoHash == v2,
        };
        _peers.Add(peer);
        _host.Connections.Opened();
        _host.Activate(this); // ticked every second while it has peers
        connection.Start(hs.Leftover);

        // What we have first (while super-seeding: nothing, then one piece), then the extended handshake.
        if (_superSeeder is { } superSeeder) superSeeder.Open(peer);
        else Availability.SendBitfield(peer);
        if (hs.Features.HasFlag(PeerFeatures.Extensions)) Extensions.SendHandshake(peer);
        if (hs.Features.HasFlag(PeerFeatures.Dht) && OurFeatures.HasFlag(PeerFeatures.Dht) && _host.DhtPort is { } dhtPort)
        {
            Span<byte> port = stackalloc byte[7];
            MessageWriter.WritePort(port, dhtPort);
            connection.Enqueue(port);
        }
        if (peer.IsV2) PumpV2Hashes();
        Log(PluginLogLevel.Debug, $"connected to {peer.EndPoint} ({peer.Client}{(peer.SupportsFast ? ", fast" : "")}, {(hs.Outgoing ? "out" : "in")}" +
            $"{(hs.Ciphers.IsEncrypted ? ", RC4" : hs.Ciphers.ViaMse ? ", MSE handshake, plaintext" : "")})");
    }

    /// <summary>Drops a peer for misbehaving.</summary>
    internal void Disconnect(Peer peer, string reason) => peer.Connection.Close(reason);

    // ------------------------------------------------------------------ closing

    /// <summary>A peer's connection closed (on the loop): it leaves the torrent and everything it held is given back.</summary>
    private void OnPeerClosed(Peer peer, string reason)
    {
        _peers.Remove(peer);
        _host.Connections.Closed();
        _requests?.OnPeerLeft(peer);
        _availability?.OnPeerLeft(peer);
        _superSeeder?.OnPeerLeft(peer);
        _connector?.OnPeerLeft(peer);
        _v2Hashes?.OnPeerLeft(peer);
        PeerDisconnected?.Invoke(peer);
        _host.Activate(this); // the next tick connects another peer, or takes the torrent off the tick list
        Log(PluginLogLevel.Debug, $"disconnected {peer.EndPoint}: {reason}");
        _uploads?.OnPeerLeft(peer);
    }
}

