using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

public sealed partial class Torrent : IPeerConnectionHandler
{
    /// <summary>Our extension message ids (BEP 10); names added here are advertised in the extended handshake.</summary>
    internal readonly Dictionary<string, int> LocalExtensions = new(StringComparer.Ordinal);

    /// <summary>Who sent the blocks of pieces that failed with several senders, until they verify.</summary>
    private SmartBan? _smartBan; // made at the first piece that fails with several senders

    /// <summary>Handlers for extension messages by our local id.</summary>
    internal readonly Dictionary<int, Action<Peer, ReadOnlyMemory<byte>>> ExtensionHandlers = [];

    /// <summary>Raised on the loop after a peer's extended handshake arrived.</summary>
    internal event Action<Peer>? PeerExtensionHandshake;

    /// <summary>Raised on the loop when a peer connected (after its handshake).</summary>
    internal event Action<Peer>? PeerConnected;

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
            _host.DownloadThrottle(this), _host.UploadThrottle(this), hs.Ciphers);
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
        if (hs.Features.HasFlag(PeerFeatures.Extensions)) SendExtendedHandshake(peer);
        if (hs.Features.HasFlag(PeerFeatures.Dht) && OurFeatures.HasFlag(PeerFeatures.Dht) && _host.DhtPort is { } dhtPort)
        {
            Span<byte> port = stackalloc byte[7];
            MessageWriter.WritePort(port, dhtPort);
            connection.Enqueue(port);
        }
        PeerConnected?.Invoke(peer);
        Log(PluginLogLevel.Debug, $"connected to {peer.EndPoint} ({peer.Client}, {(hs.Outgoing ? "out" : "in")}" +
            $"{(hs.Ciphers.IsEncrypted ? ", RC4" : hs.Ciphers.ViaMse ? ", MSE handshake, plaintext" : "")})");
    }

    private void SendExtendedHandshake(Peer peer)
    {
        var hs = new ExtensionHandshake
        {
            Extensions = new Dictionary<string, int>(LocalExtensions),
            Client = _host.Config.ClientName,
            ListenPort = _host.ListenPort,
            RequestQueue = _host.Config.MaxIncomingRequests,
            YourIp = peer.EndPoint.Address,
            MetadataSize = _metainfo is { } meta && meta.InfoBytes.Length > 0 ? meta.InfoBytes.Length : null,
        }.Encode();
        SendExtended(peer, 0, hs);
    }

    /// <summary>Sends an extension message (BEP 10) with the peer's id for it.</summary>
    internal void SendExtended(Peer peer, int theirId, ReadOnlySpan<byte> payload)
    {
        var copy = payload.ToArray();
        peer.Connection.EnqueueWith(6 + copy.Length, m =>
        {
            MessageWriter.WriteHeader(m.Span, MessageId.Extended, 1 + copy.Length);
            m.Span[5] = (byte)theirId;
            copy.CopyTo(m.Span[6..]);
        });
    }

    /// <summary>Drops a peer for misbehaving.</summary>
    internal void Disconnect(Peer peer, string reason) => peer.Connection.Close(reason);

    // ------------------------------------------------------------------ incoming messages (loop)

    void IPeerConnectionHandler.OnMessages(PeerConnection connection, List<PeerMessage> batch)
    {
        var peer = FindPeer(connection);
        try
        {
            if (peer is null || connection.IsClosed)
            {
                foreach (var m in batch) if (m.Id == MessageId.Piece && m.Payload is { } b) ArrayPool<byte>.Shared.Return(b);
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
                    for (int j = i + 1; j < batch.Count; j++)
                        if (batch[j].Id == MessageId.Piece && batch[j].Payload is { } b) ArrayPool<byte>.Shared.Return(b);
                    Disconnect(peer, e.Message);
                    return;
                }
            }
            RequestMore(peer);
            ServeRequests(peer);
        }
        finally
        {
            connection.ReturnBatch(batch);
        }
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
                    UnchokeIfRoom(peer, now);
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
                OnRequest(peer, m.Index, m.Begin, m.Length);
                break;
            case MessageId.Cancel:
                OnCancel(peer, m.Index, m.Begin, m.Length);
                break;
            case MessageId.Piece:
                OnBlock(peer, m.Index, m.Begin, m.Length, m.Payload!, now);
                break;
            case MessageId.Port:
                if (m.Index is > 0 and <= 65535 && !(_metainfo?.IsPrivate ?? false))
                    _host.OnDhtNodeHint(new IPEndPoint(peer.EndPoint.Address, m.Index));
                break;
            case MessageId.Extended:
                OnExtended(peer, m.Index, m.Payload!);
                break;
        }
    }

    private void OnHave(Peer peer, int piece)
    {
        if (_metainfo is null)
        {
            (peer.PendingHaves ??= new()).Add(piece);
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

    private void OnExtended(Peer peer, int id, byte[] payload)
    {
        if (id == 0)
        {
            var hs = ExtensionHandshake.Decode(payload);
            peer.ExtendedHandshakeReceived = true;
            foreach (var (name, theirId) in hs.Extensions)
            {
                if (theirId == 0) peer.TheirExtensions.Remove(name);
                else peer.TheirExtensions[name] = theirId;
            }
            ExtensionHandshake.CheckAccumulated(peer.TheirExtensions.Count);
            if (hs.RequestQueue is { } q) peer.PeerReqq = Math.Clamp(q, 1, _host.Config.MaxRequestsPerPeer);
            if (hs.Client is { Length: > 0 } c) peer.Client = c;
            if (hs.ListenPort is { } port)
            {
                peer.ListenPort = port;
                // An incoming peer's listen port lets PEX and reconnects reach it.
                if (!peer.Connection.IsOutgoing) _pool.Add(new IPEndPoint(peer.EndPoint.Address, port), peer.Source)?.Let(k => k.Connected = true);
            }
            if (hs.MetadataSize is { } ms) peer.MetadataSize = ms;
            PeerExtensionHandshake?.Invoke(peer);
            return;
        }
        if (ExtensionHandlers.TryGetValue(id, out var handler)) handler(peer, payload);
        // Unknown extension ids are ignored (BEP 10).
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
        if (completed is not null) VerifyAndWrite(completed);
    }

    /// <summary>Asks a peer for more blocks if its pipeline has room.</summary>
    private void RequestMore(Peer peer)
    {
        if (peer.PeerChoking || !peer.AmInterested || State != TorrentState.Downloading || peer.Connection.IsClosed) return;
        if (Interlocked.Read(ref _pendingDiskBytes) > _host.Config.MaxPendingDiskBytes) return;
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

    // ------------------------------------------------------------------ hashing and writing

    private void VerifyAndWrite(PartialPiece piece)
    {
        var data = Data;
        int size = piece.Size;
        Interlocked.Add(ref _pendingDiskBytes, size);
        var ct = _runCts.Token;
        var loop = _host.Loop;
        _ = Task.Run(async () =>
        {
            bool ok = false;
            Exception? error = null;
            try
            {
                ok = data.Verify(piece.Index, piece.Data, size);
                if (ok) await data.WritePieceAsync(piece.Index, piece.Data, size, ct).ConfigureAwait(false);
            }
            catch (Exception e) { error = e; }
            finally { Interlocked.Add(ref _pendingDiskBytes, -size); }
            loop.Post(() => PieceDone(piece, ok, error));
        }, CancellationToken.None);
    }

    private void PieceDone(PartialPiece piece, bool hashOk, Exception? error)
    {
        var contributors = piece.From.Where(f => f is not null).Distinct().Cast<Peer>().ToArray();
        // While the blocks are still here: remember who sent what in a piece that failed with several senders, or,
        // when such a piece now verifies, find who had sent blocks that differ from the good ones.
        IReadOnlyList<Peer> liars = [];
        if (error is null && State is TorrentState.Downloading or TorrentState.Seeding)
        {
            if (!hashOk && contributors.Length > 1) (_smartBan ??= new()).RecordFailure(piece);
            else if (hashOk && _smartBan is { Count: > 0 } smartBan) liars = smartBan.FindLiars(piece);
        }
        piece.ReleaseData();
        if (State is not (TorrentState.Downloading or TorrentState.Seeding))
        {
            _pieces.PieceFailed(piece.Index, parole: false);
            return;
        }
        if (error is not null and not OperationCanceledException)
        {
            _pieces.PieceFailed(piece.Index, parole: false);
            Fail($"writing piece {piece.Index} failed: {error.Message}");
            return;
        }
        if (!hashOk)
        {
            HashFailures++;
            Wasted += piece.Size;
            bool sole = contributors.Length == 1;
            Log(PluginLogLevel.Warning, $"piece {piece.Index} failed its hash check (from {string.Join(", ", contributors.Select(c => c.EndPoint))})");
            // A piece from one peer names it. A mixed piece names nobody: it goes on parole (one peer next time) and
            // the smart ban finds the liar once the piece verifies.
            if (sole)
            {
                contributors[0].Strikes += 2;
                if (!IsBanned(contributors[0])) Ban(contributors[0], $"sent piece {piece.Index} with bad data");
            }
            _pieces.PieceFailed(piece.Index, parole: !sole);
            return;
        }
        foreach (var liar in liars)
            if (!IsBanned(liar)) Ban(liar, $"sent wrong blocks of piece {piece.Index}");
        _pieces.PieceVerified(piece.Index);
        foreach (var c in contributors) if (c.Strikes > 0 && piece.Parole is not null) c.Strikes--;
        // Tell everyone; interest may end for peers that have nothing else we need.
        Span<byte> have = stackalloc byte[MessageWriter.HaveLength];
        MessageWriter.WriteHave(have, piece.Index);
        foreach (var p in _peers)
        {
            p.Connection.Enqueue(have);
            if (p.AmInterested && !p.PeerPieces.Intersects(_pieces.NeededField)) SetInterested(p, false);
        }
        if (IsComplete) OnDownloadComplete();
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

    private bool IsBanned(Peer peer) => _pool.Get(peer.EndPoint) is { Banned: true };

    private void Ban(Peer peer, string reason)
    {
        var key = peer.Connection.IsOutgoing || peer.ListenPort is null
            ? peer.EndPoint
            : new IPEndPoint(peer.EndPoint.Address, peer.ListenPort.Value);
        foreach (var ep in new[] { peer.EndPoint, key })
        {
            var known = _pool.Add(ep, peer.Source) ?? _pool.Get(ep);
            if (known is not null) known.Banned = true;
        }
        // On the internet a cheater's whole address is banned; on loopback and private networks many honest peers
        // share one address, so only its endpoints are.
        if (!IsLocalAddress(peer.EndPoint.Address))
            foreach (var k in _pool.All) if (k.EndPoint.Address.Equals(peer.EndPoint.Address)) k.Banned = true;
        Log(PluginLogLevel.Warning, $"banned {peer.EndPoint}: {reason}");
        Disconnect(peer, "banned: " + reason);
    }

    internal static bool IsLocalAddress(IPAddress a)
    {
        if (IPAddress.IsLoopback(a)) return true;
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
        }
        return a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6UniqueLocal;
    }

    // ------------------------------------------------------------------ uploading

    private void OnRequest(Peer peer, int piece, int begin, int length)
    {
        if (_metainfo is null) return;
        if ((uint)piece >= (uint)Meta.PieceCount || begin < 0 || length <= 0
            || (long)begin + length > Meta.GetPieceSize(piece))
            throw new PeerProtocolException($"bad REQUEST piece {piece} begin {begin} length {length}");
        // Blocks are at most 16 KiB (libtorrent refuses larger too): a larger one is dropped and counted, not served.
        if (length > PeerConnection.MaxBlockLength)
        {
            peer.ProtocolViolations++;
            return;
        }
        if (peer.AmChoking || !_pieces.HaveField[piece]) return; // BEP 3: ignore, the peer may not know yet
        if (peer.Incoming.Count >= _host.Config.MaxIncomingRequests) { IncomingRequestLimit.Overflowed(peer, _host.Config.MaxIncomingRequests); return; }
        peer.Incoming.Enqueue(new BlockRequest(piece, begin, length));
    }

    private void OnCancel(Peer peer, int piece, int begin, int length)
    {
        if (peer.Incoming.Count == 0) return;
        int n = peer.Incoming.Count;
        for (int i = 0; i < n; i++)
        {
            var r = peer.Incoming.Dequeue();
            if (r.Piece != piece || r.Begin != begin || r.Length != length) peer.Incoming.Enqueue(r);
        }
    }

    void IPeerConnectionHandler.OnSendBufferLow(PeerConnection connection)
    {
        if (FindPeer(connection) is { } peer) ServeRequests(peer);
    }

    /// <summary>Sends queued blocks while the peer's send buffer has room; reads pieces into the cache as needed.</summary>
    private void ServeRequests(Peer peer)
    {
        var now = _host.Time.GetUtcNow();
        while (peer.Incoming.Count > 0 && !peer.AmChoking && !peer.Connection.IsClosed
               && peer.Connection.QueuedBytes < PeerConnection.SendHighWater)
        {
            var r = peer.Incoming.Peek();
            if (ReadCache.TryGet(r.Piece, out var data))
            {
                peer.Incoming.Dequeue();
                peer.Connection.EnqueuePiece(r.Piece, r.Begin, data.Span.Slice(r.Begin, r.Length));
                peer.Upload.Add(r.Length);
                _upload.Add(r.Length);
                peer.LastSent = now;
                continue;
            }
            LoadForServing(peer, r.Piece);
            break;
        }
        ReadAhead(peer);
    }

    /// <summary>
    /// Pieces read from disk at once for serving, across all peers of this torrent. Measured seeding 1 GiB to one
    /// libtorrent peer: 4 left the peer's 500 requests waiting on reads most of the time, 24 was no better than 12.
    /// The scan below looks at the next 256 requests, so with 1 MiB pieces (64 blocks) it reads about 4 pieces ahead
    /// of the one being sent; walking further (up to 12 distinct pieces of a 2,000-request queue) measured no faster
    /// (3.53 s vs 3.48 s for 1 GiB, interleaved) and held more memory, so the cheaper scan stays.
    /// </summary>
    private const int ServeReadsInFlight = 12;

    /// <summary>
    /// Starts reading the next pieces this peer has asked for, so the disk read of one piece overlaps the sending of
    /// the one before: without it, every new piece stalls the peer's pipe for a read (measured: ~10% of seeding speed).
    /// </summary>
    private void ReadAhead(Peer peer)
    {
        // Never read ahead more than half the cache holds, or big pieces would evict each other before being sent.
        long byCapacity = Math.Max(1, ReadCache.Capacity / Math.Max(1, Meta.PieceLength) / 2);
        int budget = (int)Math.Min(ServeReadsInFlight, byCapacity) - ReadCache.LoadingCount;
        int last = -1, scanned = 0;
        foreach (var r in peer.Incoming)
        {
            if (budget <= 0 || ++scanned > 256) break;
            if (r.Piece == last) continue;
            last = r.Piece;
            if (ReadCache.Contains(r.Piece) || ReadCache.IsLoading(r.Piece)) continue;
            LoadForServing(peer, r.Piece);
            budget--;
        }
    }

    private void LoadForServing(Peer peer, int piece)
    {
        var dataIo = Data;
        ReadCache.Load(piece, (p, ct) => dataIo.ReadPieceAsync(p, ct), Meta.GetPieceSize(piece), _host.Loop,
            loaded => { if (loaded) ServeRequests(peer); },
            e => Fail($"reading piece {piece} failed: {e.Message}"), _runCts.Token);
    }

    private void UnchokeIfRoom(Peer peer, DateTimeOffset now)
    {
        if (!peer.AmChoking) return;
        int unchoked = _peers.Count(p => !p.AmChoking);
        if (unchoked < Math.Max(1, _host.Config.UploadSlots)) SetChoke(peer, false, now);
    }

    private void SetChoke(Peer peer, bool choke, DateTimeOffset now)
    {
        if (peer.AmChoking == choke) return;
        peer.AmChoking = choke;
        if (choke) peer.Incoming.Clear();
        else peer.LastUnchoked = now;
        Span<byte> b = stackalloc byte[5];
        MessageWriter.WriteSimple(b, choke ? MessageId.Choke : MessageId.Unchoke);
        peer.Connection.Enqueue(b);
    }

    /// <summary>Rechokes so far (tests: a torrent with peers is still rechoked every 10 seconds).</summary>
    internal int Rechokes { get; private set; }

    private void Rechoke(DateTimeOffset now)
    {
        Rechokes++;
        var unchoke = new List<Peer>();
        var choke = new List<Peer>();
        ChokeScheduler.Rechoke(_peers, _host.Config.UploadSlots, State == TorrentState.Seeding, now, unchoke, choke);
        foreach (var p in choke) SetChoke(p, true, now);
        foreach (var p in unchoke) SetChoke(p, false, now);
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
        if (!peer.AmChoking && peer.PeerInterested) Rechoke(_host.Time.GetUtcNow());
    }
}

internal static class ObjectExtensions
{
    /// <summary>Runs an action on a value (Kotlin's let) and returns it.</summary>
    public static T Let<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
