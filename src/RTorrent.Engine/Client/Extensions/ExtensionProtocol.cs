using System.Net;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client.Extensions;

/// <summary>What the extension protocol reads of its torrent and session when it writes a handshake.</summary>
internal interface IExtensionProtocolHost
{
    EngineConfig Config { get; }

    /// <summary>Our TCP listen port ('p').</summary>
    int ListenPort { get; }

    /// <summary>The torrent's metainfo, once known: its info dictionary's size is offered to peers ('metadata_size').</summary>
    TorrentMetainfo? Metainfo { get; }

    /// <summary>BEP 21: we want nothing more of this torrent (finished, and not super-seeding, which hides that).</summary>
    bool UploadOnly { get; }

    /// <summary>A peer said it is upload-only (or no longer is): the torrent decides whether to keep it.</summary>
    void PeerUploadOnlyChanged(Peer peer);
}

/// <summary>
/// The extension protocol (BEP 10) of one torrent: the extensions it speaks under our message ids (ut_metadata, ut_pex),
/// our extended handshake, what a peer's handshake tells us (its ids, client, request queue, listen port), and the
/// routing of extension messages to the extension that registered the id.
/// </summary>
internal sealed class ExtensionProtocol : IExtensionMessages
{
    /// <summary>
    /// libtorrent's "upload_only" extension message (one byte, 1 or 0): how a peer says it became upload-only, or no
    /// longer is, after the handshake. We send it to peers that name it and re-send the handshake to the others.
    /// </summary>
    public const string UploadOnlyName = "upload_only";

    /// <summary>Our message id for <see cref="UploadOnlyName"/>.</summary>
    public const int UploadOnlyLocalId = 3;

    private readonly IExtensionProtocolHost host;
    private readonly PeerPool pool;

    // upload_only is handled here, not registered: every torrent of a large session would hold a delegate for it.
    public ExtensionProtocol(IExtensionProtocolHost host, PeerPool pool)
    {
        this.host = host;
        this.pool = pool;
    }

    // Two or three entries for the life of the torrent: an array is smaller than the two dictionaries it replaced, and
    // every torrent of a large session holds one.
    private Extension[] _extensions = [];

    private readonly record struct Extension(string Name, int LocalId, Action<Peer, ReadOnlyMemory<byte>> Handler);

    /// <summary>Raised on the loop after a peer's extended handshake arrived and was applied to it.</summary>
    public event Action<Peer>? HandshakeReceived;

    /// <summary>Speaks <paramref name="name"/> under our id <paramref name="localId"/>; its messages go to <paramref name="handler"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not 1..255 (0 is the handshake).</exception>
    public void Register(string name, int localId, Action<Peer, ReadOnlyMemory<byte>> handler)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(localId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(localId, 255);
        if (localId == UploadOnlyLocalId || name == UploadOnlyName)
            throw new ArgumentException($"Id {UploadOnlyLocalId} and the name '{UploadOnlyName}' are the protocol's own.", nameof(localId));
        var kept = _extensions.Where(e => e.Name != name && e.LocalId != localId);
        _extensions = [.. kept, new Extension(name, localId, handler)];
    }

    /// <summary>Sends our extended handshake (after the bitfield, when the peer speaks BEP 10).</summary>
    public void SendHandshake(Peer peer)
    {
        var config = host.Config;
        var extensions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in _extensions) extensions[e.Name] = e.LocalId;
        extensions[UploadOnlyName] = UploadOnlyLocalId;
        var hs = new ExtensionHandshake
        {
            Extensions = extensions,
            Client = config.ClientName,
            ListenPort = host.ListenPort,
            RequestQueue = config.MaxIncomingRequests,
            YourIp = peer.EndPoint.Address,
            MetadataSize = host.Metainfo is { } meta && meta.InfoBytes.Length > 0 ? meta.InfoBytes.Length : null,
            UploadOnly = host.UploadOnly,
        }.Encode();
        Send(peer, 0, hs);
        peer.SentUploadOnly = host.UploadOnly;
    }

    /// <summary>
    /// Our upload-only state changed (the wanted files finished, more were wanted, super-seeding turned on or off):
    /// every peer that speaks BEP 10 and heard otherwise is told, by the upload_only message if it names it, else by
    /// a new extended handshake (BEP 10 allows repeating it).
    /// </summary>
    public void BroadcastUploadOnly(IReadOnlyList<Peer> peers)
    {
        bool now = host.UploadOnly;
        foreach (var peer in peers)
        {
            if (!peer.Features.HasFlag(PeerFeatures.Extensions) || peer.SentUploadOnly == now || peer.Connection.IsClosed) continue;
            if (peer.TheirExtensions.TryGetValue(UploadOnlyName, out int theirId))
            {
                Send(peer, theirId, [now ? (byte)1 : (byte)0]);
                peer.SentUploadOnly = now;
            }
            else
            {
                SendHandshake(peer);
            }
        }
    }

    private void OnUploadOnlyMessage(Peer peer, ReadOnlyMemory<byte> payload)
    {
        if (payload.IsEmpty) throw new PeerProtocolException("empty upload_only message");
        SetUploadOnly(peer, payload.Span[0] != 0);
    }

    private void SetUploadOnly(Peer peer, bool uploadOnly)
    {
        if (peer.UploadOnly == uploadOnly) return;
        peer.UploadOnly = uploadOnly;
        host.PeerUploadOnlyChanged(peer);
    }

    /// <summary>Sends an extension message with the peer's id for it.</summary>
    public static void Send(Peer peer, int theirId, ReadOnlySpan<byte> payload)
    {
        var copy = payload.ToArray();
        peer.Connection.EnqueueWith(6 + copy.Length, m =>
        {
            MessageWriter.WriteHeader(m.Span, MessageId.Extended, 1 + copy.Length);
            m.Span[5] = (byte)theirId;
            copy.CopyTo(m.Span[6..]);
        });
    }

    /// <summary>An EXTENDED message arrived (on the loop): the handshake, or a message for one of our extensions.</summary>
    /// <exception cref="PeerProtocolException">The handshake or the extension's message is malformed.</exception>
    public void OnMessage(Peer peer, int id, byte[] payload)
    {
        if (id == 0)
        {
            OnHandshake(peer, ExtensionHandshake.Decode(payload));
            return;
        }
        if (id == UploadOnlyLocalId)
        {
            OnUploadOnlyMessage(peer, payload);
            return;
        }
        foreach (var e in _extensions)
        {
            if (e.LocalId != id) continue;
            e.Handler(peer, payload);
            return;
        }
        // Unknown extension ids are ignored (BEP 10).
    }

    private void OnHandshake(Peer peer, ExtensionHandshake hs)
    {
        foreach (var (name, theirId) in hs.Extensions)
        {
            if (theirId == 0) peer.TheirExtensions.Remove(name);
            else peer.TheirExtensions[name] = theirId;
        }
        ExtensionHandshake.CheckAccumulated(peer.TheirExtensions.Count);
        if (hs.RequestQueue is { } q) peer.PeerReqq = Math.Clamp(q, 1, host.Config.MaxRequestsPerPeer);
        if (hs.Client is { Length: > 0 } c) peer.Client = c;
        if (hs.ListenPort is { } port)
        {
            peer.ListenPort = port;
            // An incoming peer's listen port lets PEX and reconnects reach it.
            if (!peer.Connection.IsOutgoing && pool.Add(new IPEndPoint(peer.EndPoint.Address, port), peer.Source) is { } known)
                known.Connected = true;
        }
        if (hs.MetadataSize is { } ms) peer.MetadataSize = ms;
        HandshakeReceived?.Invoke(peer);
        if (hs.UploadOnly is { } uploadOnly) SetUploadOnly(peer, uploadOnly);
    }
}
