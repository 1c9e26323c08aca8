using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client.Extensions;

/// <summary>A torrent as its BEP 10 extensions see it: a list of peers on fake connections and a clock.</summary>
internal sealed class FakeExtensionTorrent : IMetadataHost, IExtensionProtocolHost
{
    public FakeExtensionTorrent(byte[] infoBytes, bool known)
    {
        InfoBytes = infoBytes;
        InfoHash = new InfoHash(SHA1.HashData(infoBytes));
        Metainfo = known ? TorrentMetainfo.FromInfoDictionary(infoBytes, []) : null;
        Pool = new PeerPool(_ => false);
        Extensions = new ExtensionProtocol(this, Pool);
    }

    public byte[] InfoBytes { get; }
    public ManualTimeProvider Time { get; } = new();
    public PeerPool Pool { get; }
    public List<Peer> Peers { get; } = [];
    public List<(PluginLogLevel Level, string Message)> Logged { get; } = [];
    public List<(Peer Peer, string Reason)> Disconnected { get; } = [];
    public byte[]? Fetched { get; private set; }

    public InfoHash InfoHash { get; }
    public MagnetLink? Magnet => null;
    public TorrentMetainfo? Metainfo { get; }
    public ExtensionProtocol Extensions { get; }
    public IReadOnlyList<Peer> ConnectedPeers => Peers;
    public DateTimeOffset Now => Time.GetUtcNow();
    public EngineConfig Config { get; } = new() { MaxRequestsPerPeer = 300 };
    public int ListenPort => 51413;
    public bool UploadOnly { get; set; }
    public List<Peer> UploadOnlyChanges { get; } = [];
    public void PeerUploadOnlyChanged(Peer peer) => UploadOnlyChanges.Add(peer);

    public event Action<Peer>? PeerDisconnected;
    public event Action<DateTimeOffset>? Ticked;

    public void Log(PluginLogLevel level, string message) => Logged.Add((level, message));
    public void Disconnect(Peer peer, string reason) => Disconnected.Add((peer, reason));
    public void MetadataFetched(byte[] infoBytes) => Fetched = infoBytes;

    /// <summary>A connected peer; with <paramref name="metadataSize"/>, it has sent its handshake offering ut_metadata.</summary>
    public Peer Connect(long? metadataSize = null, bool outgoing = true)
    {
        var peer = TestPeers.Create(Time, outgoing: outgoing);
        Peers.Add(peer);
        if (metadataSize is { } size)
            Extensions.OnMessage(peer, 0, new ExtensionHandshake
            {
                Extensions = new() { [MetadataExchange.Name] = 3 },
                MetadataSize = size,
            }.Encode());
        return peer;
    }

    public void Leave(Peer peer)
    {
        Peers.Remove(peer);
        PeerDisconnected?.Invoke(peer);
    }

    public void Tick(TimeSpan after)
    {
        Time.Advance(after);
        Ticked?.Invoke(Now);
    }

    /// <summary>A v1 info dictionary of <paramref name="pieces"/> pieces (20 bytes of hash each, so 1,000 make two metadata pieces).</summary>
    public static byte[] InfoDictionary(int pieces)
    {
        var hashes = new byte[pieces * 20];
        new Random(5).NextBytes(hashes);
        return BencodeWriter.Encode(new BDictionary
        {
            ["length"] = new BInteger(pieces * 16384L),
            ["name"] = new BString("payload.bin"),
            ["piece length"] = new BInteger(16384),
            ["pieces"] = new BString(hashes),
        });
    }
}

/// <summary>ut_metadata messages as they go over the wire: a bencoded header, then the piece's bytes for data messages.</summary>
internal static class MetadataMessages
{
    public static byte[] Request(long piece) => BencodeWriter.Encode(new BDictionary { ["msg_type"] = new BInteger(0), ["piece"] = new BInteger(piece) });

    public static byte[] Reject(long piece) => BencodeWriter.Encode(new BDictionary { ["msg_type"] = new BInteger(2), ["piece"] = new BInteger(piece) });

    public static byte[] Data(long piece, long totalSize, ReadOnlySpan<byte> bytes) =>
    [
        .. BencodeWriter.Encode(new BDictionary
        {
            ["msg_type"] = new BInteger(1),
            ["piece"] = new BInteger(piece),
            ["total_size"] = new BInteger(totalSize),
        }),
        .. bytes,
    ];

    /// <summary>The ut_metadata messages a peer was sent: (type, piece, trailing bytes).</summary>
    public static List<(long Type, long Piece, byte[] Trailer)> SentTo(Peer peer)
    {
        var list = new List<(long, long, byte[])>();
        foreach (var m in peer.Wire().Sent)
        {
            if (m.Id != MessageId.Extended || m.Index == 0) continue;
            var d = (BDictionary)BencodeReader.Decode(m.Payload!, out int used, new BencodeReaderOptions { Strict = false });
            list.Add((d.GetInteger("msg_type") ?? -1, d.GetInteger("piece") ?? -1, m.Payload![used..]));
        }
        return list;
    }
}
