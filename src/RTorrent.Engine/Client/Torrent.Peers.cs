using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

public sealed partial class Torrent
{
    /// <summary>The extension protocol (BEP 10): the extensions this torrent speaks and the peers' handshakes.</summary>
    internal ExtensionProtocol Extensions { get; }

    /// <summary>Raised on the loop when a peer left.</summary>
    internal event Action<Peer>? PeerDisconnected;

    internal IReadOnlyList<Peer> ConnectedPeers => _peers;

    internal int ConnectionCount => _peers.Count + _halfOpen;

    /// <summary>What our handshake advertises: extensions always; the DHT when it runs and the torrent is public.</summary>
    private PeerFeatures OurFeatures =>
        PeerFeatures.Extensions | (_host.DhtPort is not null && !(_metainfo?.IsPrivate ?? false) ? PeerFeatures.Dht : PeerFeatures.None);

    /// <summary>Connected to the swarm: downloading, seeding or fetching metadata.</summary>
    internal bool IsRunning => State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;

    // ------------------------------------------------------------------ connecting

    /// <summary>
    /// Starts connection attempts to known peers while the torrent has room. Returns whether candidates are waiting
    /// for the session's connection budget (then the next tick tries again); peers that are backing off are woken
    /// for on the engine's schedule, so a torrent whose peers all failed costs nothing until one may be tried.
    /// </summary>
    private bool ConnectMore(DateTimeOffset now)
    {
        if (!IsRunning || _pool.Count == 0) return false;
        int room = MaxConnectionsLimit - _peers.Count - _halfOpen;
        if (room <= 0) return false; // a connection closing ticks the torrent again
        // A seed needs no seeds.
        var candidates = _pool.Candidates(now, room, skipSeeds: IsComplete, out var nextAttempt);
        if (nextAttempt is { } at) _host.WakeAt(this, at);
        foreach (var known in candidates)
        {
            if (!_host.HasConnectionRoom || !_host.TryBeginConnect()) return true;
            known.Connecting = true;
            _halfOpen++;
            _host.Activate(this);
            _ = ConnectAsync(known, _runCts.Token).ContinueWith(
                t => _host.Logger.LogError(t.Exception, "connecting to {Peer} failed", known.EndPoint),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        return false;
    }

    private async Task ConnectAsync(KnownPeer known, CancellationToken ct)
    {
        HandshakeResult? result = null;
        string? error = null;
        var features = OurFeatures;
        try
        {
            result = await Task.Run(() => PeerHandshaker.ConnectAsync(known.EndPoint, InfoHash, _host.PeerId,
                features, TimeSpan.FromSeconds(10), _host.Config.Encryption, ct), ct);
        }
        catch (Exception e) when (e is SocketException or TimeoutException or PeerProtocolException or IOException or OperationCanceledException)
        {
            error = e is SocketException se ? se.SocketErrorCode.ToString() : e.Message;
        }
        finally
        {
            _host.EndConnect();
        }
        // Back on the loop (the await resumed on it).
        _halfOpen--;
        known.Connecting = false;
        if (result is null)
        {
            PeerPool.Failed(known, _host.Time.GetUtcNow());
            return;
        }
        if (!IsRunning || ct.IsCancellationRequested)
        {
            result.Socket.Dispose();
            return;
        }
        Attach(result, known);
    }

    /// <summary>An incoming connection for this torrent passed its handshake (called on the loop).</summary>
    internal async Task AcceptIncomingAsync(HandshakeResult handshake)
    {
        bool ok = IsRunning
                  && _peers.Count < MaxConnectionsLimit
                  && _host.HasConnectionRoom;
        var known = _pool.Get(handshake.RemoteEndPoint);
        if (known is { Banned: true }) ok = false;
        if (!ok)
        {
            handshake.Socket.Dispose();
            return;
        }
        try
        {
            await PeerHandshaker.AnswerAsync(handshake, _host.PeerId, OurFeatures, _runCts.Token);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            handshake.Socket.Dispose();
            return;
        }
        Attach(handshake, known);
    }

    private void Attach(HandshakeResult hs, KnownPeer? known)
    {
        var now = _host.Time.GetUtcNow();
        if (hs.PeerId.AsSpan().SequenceEqual(_host.PeerId))
        {
            if (known is not null) known.IsSelf = true;
            hs.Socket.Dispose();
            return;
        }
        // One connection per peer. The same peer id twice means we dialled each other at the same moment; both
        // ends must keep the same one, so keep the connection opened by the side with the smaller peer id.
        foreach (var p in _peers.ToArray())
        {
            if (p.EndPoint.Equals(hs.RemoteEndPoint))
            {
                hs.Socket.Dispose();
                return;
            }
            if (!p.PeerId.AsSpan().SequenceEqual(hs.PeerId)) continue;
            bool weAreSmaller = _host.PeerId.AsSpan().SequenceCompareTo(hs.PeerId) < 0;
            bool keepNew = hs.Outgoing == weAreSmaller;
            bool keepOld = p.Connection.IsOutgoing == weAreSmaller;
            if (keepNew && !keepOld)
            {
                Disconnect(p, "duplicate connection");
                break;
            }
            hs.Socket.Dispose();
            return;
        }
        if (known is { Banned: true })
        {
            hs.Socket.Dispose();
            return;
        }
        int pieceCount = _metainfo?.PieceCount ?? 0;
        var connection = new PeerConnection(hs.Socket, hs.RemoteEndPoint, hs.Outgoing, pieceCount, Dispatcher, _host.Loop,
            _host.DownloadThrottle(this), _host.UploadThrottle(this), hs.Ciphers, _host.Logger);
        var upload = UploadLimiter;
        connection.CanSendInline = () => upload.IsUnlimited && (upload.Parent?.IsUnlimited ?? true);
        var peer = new Peer(connection, hs.PeerId, hs.Features, pieceCount, known?.Source ?? "incoming", now, _host.Time);
        if (known is not null)
        {
            known.Connected = true;
            known.Failures = 0;
        }
        _peers.Add(peer);
        _host.ConnectionOpened();
        _host.Activate(this); // ticked every second while it has peers
        connection.Start(hs.Leftover);

        // What we have first, then the extended handshake.
        Availability.SendBitfield(peer);
        if (hs.Features.HasFlag(PeerFeatures.Extensions)) Extensions.SendHandshake(peer);
        if (hs.Features.HasFlag(PeerFeatures.Dht) && OurFeatures.HasFlag(PeerFeatures.Dht) && _host.DhtPort is { } dhtPort)
        {
            Span<byte> port = stackalloc byte[7];
            MessageWriter.WritePort(port, dhtPort);
            connection.Enqueue(port);
        }
        Log(PluginLogLevel.Debug, $"connected to {peer.EndPoint} ({peer.Client}, {(hs.Outgoing ? "out" : "in")}" +
            $"{(hs.Ciphers.IsEncrypted ? ", RC4" : hs.Ciphers.ViaMse ? ", MSE handshake, plaintext" : "")})");
    }

    /// <summary>Drops a peer for misbehaving.</summary>
    internal void Disconnect(Peer peer, string reason) => peer.Connection.Close(reason);

    private void CheckPeerTimeouts(Peer peer, DateTimeOffset now)
    {
        Requests.CheckSnub(peer, now);
        if (now - peer.LastReceived > TimeSpan.FromMinutes(3))
        {
            Disconnect(peer, "idle for 3 minutes");
            return;
        }
        if (now - peer.LastSent > TimeSpan.FromSeconds(90) && peer.Connection.QueuedBytes == 0)
        {
            peer.LastSent = now;
            peer.Connection.Enqueue([0, 0, 0, 0]);
        }
    }

    private void OnDownloadComplete()
    {
        if (State != TorrentState.Downloading) return;
        State = TorrentState.Seeding;
        CompletedAt ??= _host.Time.GetUtcNow();
        Log(PluginLogLevel.Information, "download complete; seeding");
        _availability?.OnComplete();
        _pieces.Reset();
        if (!_completedEventSent)
        {
            _completedEventSent = true;
            foreach (var s in _sources)
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                        await s.OnEventAsync(TorrentEvent.Completed, cts.Token);
                    }
                    catch (Exception) { /* trackers report their own errors in their status */ }
                });
            }
        }
        _ = SaveResumeAfterFlushAsync();
        _host.OnTorrentChanged(this);
    }

    // ------------------------------------------------------------------ closing

    /// <summary>A peer's connection closed (on the loop): it leaves the torrent and everything it held is given back.</summary>
    private void OnPeerClosed(Peer peer, string reason)
    {
        _peers.Remove(peer);
        _host.ConnectionClosed();
        _requests?.OnPeerLeft(peer);
        _availability?.OnPeerLeft(peer);
        var known = _pool.Get(peer.EndPoint);
        if (known is not null)
        {
            known.Connected = false;
            // A peer that hung up quickly without giving anything is tried again later, not at once.
            if (_host.Time.GetUtcNow() - peer.ConnectedAt < TimeSpan.FromSeconds(30) && peer.Download.Total == 0)
                PeerPool.Failed(known, _host.Time.GetUtcNow());
            else known.NextAttempt = _host.Time.GetUtcNow() + TimeSpan.FromSeconds(10);
        }
        PeerDisconnected?.Invoke(peer);
        _host.Activate(this); // the next tick connects another peer, or takes the torrent off the tick list
        Log(PluginLogLevel.Debug, $"disconnected {peer.EndPoint}: {reason}");
        _uploads?.OnPeerLeft(peer);
    }
}

