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
}

/// <summary>
/// The extension protocol (BEP 10) of one torrent: the extensions it speaks under our message ids (ut_metadata, ut_pex),
/// our extended handshake, what a peer's handshake tells us (its ids, client, request queue, listen port), and the
/// routing of extension messages to the extension that registered the id.
/// </summary>
internal sealed class ExtensionProtocol(IExtensionProtocolHost host, PeerPool pool) : IExtensionMessages
{
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
        var kept = _extensions.Where(e => e.Name != name && e.LocalId != localId);
        _extensions = [.. kept, new Extension(name, localId, handler)];
    }

    /// <summary>Sends our extended handshake (after the bitfield, when the peer speaks BEP 10).</summary>
    public void SendHandshake(Peer peer)
    {
        var config = host.Config;
        var extensions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in _extensions) extensions[e.Name] = e.LocalId;
        var hs = new ExtensionHandshake
        {
            Extensions = extensions,
            Client = config.ClientName,
            ListenPort = host.ListenPort,
            RequestQueue = config.MaxIncomingRequests,
            YourIp = peer.EndPoint.Address,
            MetadataSize = host.Metainfo is { } meta && meta.InfoBytes.Length > 0 ? meta.InfoBytes.Length : null,
        }.Encode();
        Send(peer, 0, hs);
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
    }
}
