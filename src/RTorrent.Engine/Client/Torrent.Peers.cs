using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

public sealed partial class Torrent : IPeerConnectionHandler
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
        var connection = new PeerConnection(hs.Socket, hs.RemoteEndPoint, hs.Outgoing, pieceCount, this, _host.Loop,
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

        // What we have first (BEP 3: bitfield only as the first message, and not at all when empty), then the
        // extended handshake.
        var have = _pieces.HaveField;
        if (!have.NoneSet)
        {
            int n = have.ByteLength;
            connection.EnqueueWith(5 + n, m =>
            {
                MessageWriter.WriteHeader(m.Span, MessageId.Bitfield, n);
                have.WriteTo(m.Span[5..]);
            });
        }
        peer.SentBitfieldOrHave = true;
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

    // ------------------------------------------------------------------ incoming messages (loop)

    void IPeerConnectionHandler.OnMessages(PeerConnection connection, List<PeerMessage> batch)
    {
        var peer = FindPeer(connection);
        if (peer is null || connection.IsClosed)
        {
            PeerMessageReader.ReturnBlocks(batch);
            return;
        }
        var now = _host.Time.GetUtcNow();
        peer.LastReceived = now;
        for (int i = 0; i < batch.Count; i++)
        {
            var m = batch[i];
            try
            {
                Handle(peer, ref m, now);
            }
            catch (PeerProtocolException e)
            {
                PeerMessageReader.ReturnBlocks(batch, i + 1);
                Disconnect(peer, e.Message);
                return;
            }
        }
        RequestMore(peer);
        Uploads.Serve(peer);
    }

    private Peer? FindPeer(PeerConnection connection)
    {
        foreach (var p in _peers) if (ReferenceEquals(p.Connection, connection)) return p;
        return null;
    }

    private void Handle(Peer peer, ref PeerMessage m, DateTimeOffset now)
    {
        // The bitfield must come before other core messages; extension and DHT-port messages may precede it.
        bool first = !peer.GotFirstMessage;
        if (m.Id is not ((MessageId)255 or MessageId.Extended or MessageId.Port)) peer.GotFirstMessage = true;
        switch (m.Id)
        {
            case (MessageId)255: // keep-alive
                break;
            case MessageId.Choke:
                if (!peer.PeerChoking)
                {
                    peer.PeerChoking = true;
                    // Without the fast extension a choke discards every pending request.
                    foreach (var r in peer.Outstanding.TakeAll()) _pieces.ReleaseRequest(peer, r.Piece, r.Begin);
                    // A piece on parole waits for its one peer; one that chokes us cannot finish it, so another takes it.
                    foreach (int piece in _pieces.ParoledBy(peer)) _pieces.EndParole(piece);
                }
                break;
            case MessageId.Unchoke:
                peer.PeerChoking = false;
                peer.LastBlockAt = now;
                break;
            case MessageId.Interested:
                if (!peer.PeerInterested)
                {
                    peer.PeerInterested = true;
                    Uploads.OnInterested(peer);
                }
                break;
            case MessageId.NotInterested:
                peer.PeerInterested = false;
                break;
            case MessageId.Have:
                OnHave(peer, m.Index);
                break;
            case MessageId.Bitfield:
                if (!first) throw new PeerProtocolException("BITFIELD after other messages");
                OnBitfield(peer, m.Payload!);
                break;
            case MessageId.Request:
                Uploads.OnRequest(peer, m.Index, m.Begin, m.Length);
                break;
            case MessageId.Cancel:
                Uploads.OnCancel(peer, m.Index, m.Begin, m.Length);
                break;
            case MessageId.Piece:
                OnBlock(peer, m.Index, m.Begin, m.Length, m.Payload!, now);
                break;
            case MessageId.Port:
                if (m.Index is > 0 and <= 65535 && !(_metainfo?.IsPrivate ?? false))
                    _host.OnDhtNodeHint(new IPEndPoint(peer.EndPoint.Address, m.Index));
                break;
            case MessageId.Extended:
                Extensions.OnMessage(peer, m.Index, m.Payload!);
                break;
        }
    }

    private void OnHave(Peer peer, int piece)
    {
        if (_metainfo is null)
        {
            if ((peer.PendingHaves ??= []).Count < 1_000_000) peer.PendingHaves.Add(piece);
            return;
        }
        if ((uint)piece >= (uint)Meta.PieceCount) throw new PeerProtocolException($"HAVE for piece {piece} of {Meta.PieceCount}");
        if (!peer.PeerPieces.Set(piece)) return;
        if (!peer.CountedAsSeed)
        {
            if (peer.PeerPieces.AllSet)
            {
                peer.PeerPieces.Clear(piece);
                _pieces.PeerBecameSeed(peer.PeerPieces);
                peer.PeerPieces.Set(piece);
                peer.CountedAsSeed = true;
                MarkSeed(peer);
            }
            else _pieces.PeerHas(piece);
        }
        if (!peer.AmInterested && _pieces.NeededField[piece]) SetInterested(peer, true);
    }

    private void OnBitfield(Peer peer, byte[] payload)
    {
        if (_metainfo is null)
        {
            peer.PendingBitfield = payload;
            return;
        }
        if (!peer.PeerPieces.TryReadFrom(payload))
            throw new PeerProtocolException($"BITFIELD of {payload.Length} bytes for {Meta.PieceCount} pieces");
        peer.CountedAsSeed = peer.PeerPieces.AllSet;
        _pieces.PeerBitfield(peer.PeerPieces, add: true);
        if (peer.CountedAsSeed) MarkSeed(peer);
        UpdateInterest(peer);
    }

    private void MarkSeed(Peer peer)
    {
        if (_pool.Get(peer.EndPoint) is { } k) k.IsSeed = true;
        if (IsComplete) Disconnect(peer, "both seeds");
    }

    private void UpdateInterest(Peer peer)
    {
        bool want = peer.PeerPieces.Intersects(_pieces.NeededField);
        if (want != peer.AmInterested) SetInterested(peer, want);
    }

    private void SetInterested(Peer peer, bool interested)
    {
        peer.AmInterested = interested;
        Span<byte> b = stackalloc byte[5];
        MessageWriter.WriteSimple(b, interested ? MessageId.Interested : MessageId.NotInterested);
        peer.Connection.Enqueue(b);
    }

    /// <summary>
    /// The metadata arrived while peers were connected: give each its real bitfield from what it sent before, so no
    /// connection is lost.
    /// </summary>
    internal void RebindPeersAfterMetadata()
    {
        foreach (var peer in _peers.ToArray())
        {
            peer.PeerPieces = new Bitfield(Meta.PieceCount);
            try
            {
                if (peer.PendingBitfield is { } bf) OnBitfield(peer, bf);
                foreach (int h in peer.PendingHaves ?? []) OnHave(peer, h);
            }
            catch (PeerProtocolException e)
            {
                Disconnect(peer, e.Message);
            }
            peer.PendingBitfield = null;
            peer.PendingHaves = null;
        }
    }

    // ------------------------------------------------------------------ downloading

    private void OnBlock(Peer peer, int piece, int begin, int length, byte[] data, DateTimeOffset now)
    {
        if (_metainfo is null)
        {
            ArrayPool<byte>.Shared.Return(data);
            return;
        }
        bool requested = peer.Outstanding.Remove(piece, begin);
        var cancelScratch = _cancelScratch ??= new List<IBlockRequester>(4);
        cancelScratch.Clear();
        var outcome = _pieces.BlockReceived(peer, piece, begin, length, data, cancelScratch, out var completed);
        switch (outcome)
        {
            case BlockOutcome.Stored:
            case BlockOutcome.PieceComplete:
                peer.Download.Add(length);
                _download.Add(length);
                peer.LastBlockAt = now;
                if (peer.Snubbed)
                {
                    peer.Snubbed = false;
                    peer.PipelineDepth = 16;
                }
                break;
            default:
                ArrayPool<byte>.Shared.Return(data);
                Wasted += length;
                if (requested) peer.LastBlockAt = now;
                break;
        }
        Span<byte> c = stackalloc byte[MessageWriter.RequestLength];
        foreach (var other in cancelScratch)
        {
            var op = (Peer)other;
            if (op.Outstanding.Remove(piece, begin))
            {
                MessageWriter.WriteRequest(c, MessageId.Cancel, piece, begin, length);
                op.Connection.Enqueue(c);
            }
        }
        if (completed is not null) Completion.Complete(completed);
    }

    /// <summary>Asks a peer for more blocks if its pipeline has room.</summary>
    private void RequestMore(Peer peer)
    {
        if (peer.PeerChoking || !peer.AmInterested || State != TorrentState.Downloading || peer.Connection.IsClosed) return;
        if ((_completion?.PendingDiskBytes ?? 0) > _host.Config.MaxPendingDiskBytes) return;
        int depth = PipelineDepth(peer);
        int room = depth - peer.Outstanding.Count;
        // Top up in batches: fewer, larger writes, and fewer picker calls.
        if (room <= 0 || (peer.Outstanding.Count > 0 && room < Math.Min(8, depth / 4))) return;
        var list = _requestScratch ??= new List<BlockRequest>(256);
        list.Clear();
        _pieces.StreamPosition = Sequential ? _pieces.StreamPosition ?? 0 : null;
        try
        {
            _pieces.PickBlocks(peer, peer, _picker, room, list);
        }
        catch (Exception e) when (_picker is not RarestFirstPicker)
        {
            Log(PluginLogLevel.Error, $"picker '{Options.Picker}' failed ({e.Message}); using rarest-first");
            _picker = new RarestFirstPicker();
            _pieces.PickBlocks(peer, peer, _picker, room, list);
        }
        if (list.Count == 0)
        {
            if (!peer.PeerPieces.Intersects(_pieces.NeededField)) SetInterested(peer, false);
            return;
        }
        int n = list.Count;
        peer.Connection.EnqueueWith(n * MessageWriter.RequestLength, m =>
        {
            var span = m.Span;
            for (int i = 0; i < n; i++)
            {
                var r = list[i];
                MessageWriter.WriteRequest(span[(i * MessageWriter.RequestLength)..], MessageId.Request, r.Piece, r.Begin, r.Length);
            }
        });
        foreach (var r in list) peer.Outstanding.Add(r);
    }

    private int PipelineDepth(Peer peer)
    {
        if (peer.Snubbed) return 1;
        int cap = Math.Min(peer.PeerReqq, _host.Config.MaxRequestsPerPeer);
        long rate = peer.Download.Rate;
        if (rate == 0) return Math.Min(cap, 64);
        int byRate = (int)Math.Min(int.MaxValue, rate * _host.Config.RequestQueueSeconds / PieceManager.BlockSize);
        return Math.Clamp(byRate, 16, cap);
    }

    private void CheckPeerTimeouts(Peer peer, DateTimeOffset now)
    {
        if (peer.Outstanding.Count > 0 && !peer.PeerChoking && now - peer.LastBlockAt > _host.Config.SnubTimeout && !peer.Snubbed)
        {
            // Snubbed: its blocks go to others; it keeps one request to prove itself.
            peer.Snubbed = true;
            Span<byte> c = stackalloc byte[MessageWriter.RequestLength];
            foreach (var r in peer.Outstanding.TakeAll())
            {
                _pieces.ReleaseRequest(peer, r.Piece, r.Begin);
                MessageWriter.WriteRequest(c, MessageId.Cancel, r.Piece, r.Begin, r.Length);
                peer.Connection.Enqueue(c);
            }
            foreach (int piece in _pieces.ParoledBy(peer)) _pieces.EndParole(piece);
            Log(PluginLogLevel.Debug, $"{peer.EndPoint} snubbed us");
        }
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
        foreach (var p in _peers.ToArray())
        {
            if (p.IsSeed) Disconnect(p, "both seeds");
            else if (p.AmInterested) SetInterested(p, false);
        }
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

    // ------------------------------------------------------------------ uploading

    void IPeerConnectionHandler.OnSendBufferLow(PeerConnection connection)
    {
        if (FindPeer(connection) is { } peer) Uploads.Serve(peer);
    }


    // ------------------------------------------------------------------ closing

    void IPeerConnectionHandler.OnClosed(PeerConnection connection, string reason)
    {
        var peer = FindPeer(connection);
        if (peer is null) return;
        _peers.Remove(peer);
        _host.ConnectionClosed();
        foreach (var r in peer.Outstanding.TakeAll()) _pieces.ReleaseRequest(peer, r.Piece, r.Begin);
        foreach (int piece in _pieces.ParoledBy(peer)) _pieces.EndParole(piece);
        if (peer.CountedAsSeed) _pieces.PeerBitfield(peer.PeerPieces, add: false);
        else if (!peer.PeerPieces.NoneSet) _pieces.PeerBitfield(peer.PeerPieces, add: false);
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

