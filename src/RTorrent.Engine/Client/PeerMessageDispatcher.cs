using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client;

/// <summary>What the download side does with the wire's messages (<see cref="RequestScheduler"/>).</summary>
internal interface IDownloadMessages
{
    /// <summary>The peer choked us (it was not choking before).</summary>
    void OnChoked(Peer peer);

    /// <summary>A block arrived; its pooled buffer is handed over.</summary>
    void OnBlock(Peer peer, int piece, int begin, int length, byte[] data, DateTimeOffset now);

    /// <summary>After a batch: ask the peer for more if its pipeline has room.</summary>
    void RequestMore(Peer peer);

    /// <summary>BEP 6 REJECT REQUEST: the block goes back to the picker.</summary>
    /// <exception cref="PeerProtocolException">Out of range, or too many rejects for blocks we never asked for.</exception>
    void OnRejected(Peer peer, int piece, int begin, int length);

    /// <summary>BEP 6 SUGGEST PIECE: a hint, kept (bounded) for the next requests.</summary>
    /// <exception cref="PeerProtocolException">No such piece.</exception>
    void OnSuggest(Peer peer, int piece);

    /// <summary>BEP 6 ALLOWED FAST: the piece may be requested while the peer chokes us.</summary>
    /// <exception cref="PeerProtocolException">No such piece.</exception>
    void OnAllowedFast(Peer peer, int piece);
}

/// <summary>What the upload side does with the wire's messages (<see cref="UploadServer"/>).</summary>
internal interface IUploadMessages
{
    /// <summary>The peer became interested.</summary>
    void OnInterested(Peer peer);

    /// <exception cref="PeerProtocolException">The request is not inside the torrent.</exception>
    void OnRequest(Peer peer, int piece, int begin, int length);

    void OnCancel(Peer peer, int piece, int begin, int length);

    /// <summary>After a batch, or when the peer's send buffer drained: send what it asked for.</summary>
    void Serve(Peer peer);
}

/// <summary>What is done with the pieces a peer announces (<see cref="AvailabilityTracker"/>).</summary>
internal interface IAvailabilityMessages
{
    /// <exception cref="PeerProtocolException">No such piece.</exception>
    void OnHave(Peer peer, int piece);

    /// <exception cref="PeerProtocolException">The bitfield does not fit the torrent.</exception>
    void OnBitfield(Peer peer, byte[] payload);

    /// <summary>BEP 6 HAVE ALL (instead of a bitfield): the peer is a seed.</summary>
    void OnHaveAll(Peer peer);

    /// <summary>BEP 6 HAVE NONE (instead of a bitfield).</summary>
    void OnHaveNone(Peer peer);
}

/// <summary>What is done with extension messages (<see cref="Extensions.ExtensionProtocol"/>).</summary>
internal interface IExtensionMessages
{
    /// <exception cref="PeerProtocolException">The message is malformed.</exception>
    void OnMessage(Peer peer, int id, byte[] payload);
}

/// <summary>What the dispatcher reads and does on its torrent (on the loop).</summary>
internal interface IPeerMessageHost
{
    IReadOnlyList<Peer> Peers { get; }
    DateTimeOffset Now { get; }

    /// <summary>Blocks that arrive before a magnet's metadata cannot be placed: they are dropped.</summary>
    bool MetadataKnown { get; }

    /// <summary>The peer runs a DHT node on this UDP port (BEP 5 PORT).</summary>
    void OnDhtPort(Peer peer, int port);

    /// <summary>The peer's connection closed: it leaves the torrent.</summary>
    void OnPeerClosed(Peer peer, string reason);
}

/// <summary>
/// Wire-message dispatch for one torrent's connections: each batch a connection decoded is checked against the peer it
/// came from (BITFIELD only first, keep-alives only refresh the idle clock), the choke and interest flags are kept,
/// and each message goes to the side that handles it: availability, downloading, uploading or an extension. A
/// protocol error drops the peer and hands the rest of the batch's blocks back to the pool. After each batch the peer
/// is asked for more and served.
/// </summary>
internal sealed class PeerMessageDispatcher(IPeerMessageHost host, IAvailabilityMessages availability,
    IDownloadMessages downloads, IUploadMessages uploads, IExtensionMessages extensions, IV2HashMessages? v2Hashes = null)
    : IPeerConnectionHandler
{
    /// <summary>The peer on this connection, or null once it left.</summary>
    private Peer? Find(IPeerWire connection)
    {
        foreach (var p in host.Peers) if (ReferenceEquals(p.Connection, connection)) return p;
        return null;
    }

    public void OnMessages(IPeerWire connection, List<PeerMessage> batch)
    {
        var peer = Find(connection);
        if (peer is null || connection.IsClosed)
        {
            PeerMessageReader.ReturnBlocks(batch);
            return;
        }
        var now = host.Now;
        peer.LastReceived = now;
        for (int i = 0; i < batch.Count; i++)
        {
            try
            {
                Handle(peer, batch[i], now);
            }
            catch (PeerProtocolException e)
            {
                PeerMessageReader.ReturnBlocks(batch, i + 1);
                peer.Connection.Close(e.Message);
                return;
            }
        }
        downloads.RequestMore(peer);
        uploads.Serve(peer);
    }

    private void Handle(Peer peer, PeerMessage m, DateTimeOffset now)
    {
        // The bitfield (or HAVE ALL / HAVE NONE) must come before other core messages; extension and DHT-port
        // messages may precede it, and so may the fast extension's hints (libtorrent sends them after, others need not).
        bool first = !peer.GotFirstMessage;
        if (m.Id is not (PeerMessage.KeepAlive or MessageId.Extended or MessageId.Port or MessageId.SuggestPiece or MessageId.AllowedFast))
            peer.GotFirstMessage = true;
        if (m.Id is >= MessageId.SuggestPiece and <= MessageId.AllowedFast && !peer.SupportsFast)
            throw new PeerProtocolException($"fast-extension message {m.Id} from a peer that did not set the fast extension bit");
        switch (m.Id)
        {
            case PeerMessage.KeepAlive:
                break;
            case MessageId.Choke:
                if (!peer.PeerChoking)
                {
                    peer.PeerChoking = true;
                    peer.ChokedAt = now;
                    downloads.OnChoked(peer);
                }
                break;
            case MessageId.Unchoke:
                peer.PeerChoking = false;
                peer.LastBlockAt = now; // the snub clock starts now, not when the last block came
                break;
            case MessageId.Interested:
                if (!peer.PeerInterested)
                {
                    peer.PeerInterested = true;
                    uploads.OnInterested(peer);
                }
                break;
            case MessageId.NotInterested:
                peer.PeerInterested = false;
                break;
            case MessageId.Have:
                availability.OnHave(peer, m.Index);
                break;
            case MessageId.Bitfield:
                if (!first) throw new PeerProtocolException("BITFIELD after other messages");
                availability.OnBitfield(peer, m.Payload!);
                break;
            case MessageId.HaveAll or MessageId.HaveNone:
                if (!first) throw new PeerProtocolException($"{m.Id} after other messages");
                if (m.Id == MessageId.HaveAll) availability.OnHaveAll(peer);
                else availability.OnHaveNone(peer);
                break;
            case MessageId.RejectRequest:
                downloads.OnRejected(peer, m.Index, m.Begin, m.Length);
                break;
            case MessageId.SuggestPiece:
                if (host.MetadataKnown) downloads.OnSuggest(peer, m.Index); // cannot be checked or used before
                break;
            case MessageId.AllowedFast:
                if (host.MetadataKnown) downloads.OnAllowedFast(peer, m.Index);
                break;
            case MessageId.Request:
                uploads.OnRequest(peer, m.Index, m.Begin, m.Length);
                break;
            case MessageId.Cancel:
                uploads.OnCancel(peer, m.Index, m.Begin, m.Length);
                break;
            case MessageId.Piece:
                if (host.MetadataKnown) downloads.OnBlock(peer, m.Index, m.Begin, m.Length, m.Payload!, now);
                else BlockBuffers.Return(m.Payload!);
                break;
            case MessageId.Port:
                if (m.Index is > 0 and <= 65535) host.OnDhtPort(peer, m.Index);
                break;
            case MessageId.Extended:
                extensions.OnMessage(peer, m.Index, m.Payload!);
                break;
            case MessageId.HashRequest or MessageId.Hashes or MessageId.HashReject:
                // BEP 52: only on a connection made with the v2 info-hash (libtorrent drops the peer otherwise).
                if (v2Hashes is null || !peer.IsV2) throw new PeerProtocolException($"{m.Id} on a connection that is not on the v2 protocol");
                if (!host.MetadataKnown)
                {
                    if (m.Id == MessageId.Hashes) throw new PeerProtocolException("HASHES before the metadata (never asked for)");
                    if (m.Id == MessageId.HashRequest) v2Hashes.OnHashRequest(peer, m.Payload!); // rejected: no tree yet
                    break;
                }
                if (m.Id == MessageId.HashRequest) v2Hashes.OnHashRequest(peer, m.Payload!);
                else if (m.Id == MessageId.Hashes) v2Hashes.OnHashes(peer, m.Payload!);
                else v2Hashes.OnHashReject(peer, m.Payload!);
                break;
        }
    }

    public void OnSendBufferLow(IPeerWire connection)
    {
        if (Find(connection) is { } peer) uploads.Serve(peer);
    }

    public void OnClosed(IPeerWire connection, string reason)
    {
        if (Find(connection) is { } peer) host.OnPeerClosed(peer, reason);
    }
}
