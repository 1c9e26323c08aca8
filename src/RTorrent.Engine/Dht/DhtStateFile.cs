using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Dht;

/// <summary>What a DHT node keeps across restarts: its ID, the external address the ID was made for, and nodes.</summary>
/// <param name="NodeId">Our node ID.</param>
/// <param name="ExternalAddress">The external address the ID was derived from (BEP 42), if known.</param>
/// <param name="Nodes">Nodes to bootstrap from next time (good ones first).</param>
public sealed record DhtState(NodeId NodeId, IPAddress? ExternalAddress, IReadOnlyList<DhtNodeInfo> Nodes);

/// <summary>
/// Reads and writes <c>dht.dat</c>: a bencoded dictionary <c>id</c> (20 bytes), optional <c>ip</c> (4 or 16
/// bytes), <c>nodes</c> (compact IPv4 node info) and <c>nodes6</c> (compact IPv6 node info). Bencode because the
/// rest of the session is bencode and libtorrent keeps its DHT state the same way. Written atomically (temporary
/// file, then rename), so a crash leaves the old file or the new one, never half of one.
/// </summary>
public static class DhtStateFile
{
    /// <summary>At most this many nodes are saved (and loaded).</summary>
    public const int MaxNodes = 256;

    /// <summary>Encodes a state.</summary>
    public static byte[] Encode(DhtState state)
    {
        var d = new BDictionary
        {
            ["id"] = new BString(state.NodeId.ToArray()),
        };
        if (state.ExternalAddress is { } ip) d["ip"] = new BString(AddressClass.Normalize(ip).GetAddressBytes());
        var nodes = state.Nodes.Take(MaxNodes).ToList();
        var v4 = Compact.NodesToArray(nodes, AddressFamily.InterNetwork);
        var v6 = Compact.NodesToArray(nodes, AddressFamily.InterNetworkV6);
        if (v4.Length > 0) d["nodes"] = new BString(v4);
        if (v6.Length > 0) d["nodes6"] = new BString(v6);
        return BencodeWriter.Encode(d);
    }

    /// <summary>Decodes a state; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static DhtState Decode(ReadOnlyMemory<byte> data)
    {
        var d = BencodeReader.DecodeDictionary(data, new BencodeReaderOptions { MaxInputLength = 1 << 20, MaxDepth = 4 });
        if (d.Get<BString>("id") is not { } id || id.Bytes.Length != NodeId.Length)
            throw new FormatException("DHT state has no 20-byte 'id'.");
        IPAddress? ip = null;
        if (d.Get<BString>("ip") is { } ipBytes)
        {
            if (ipBytes.Bytes.Length is not (4 or 16)) throw new FormatException("DHT state 'ip' is neither 4 nor 16 bytes.");
            ip = new IPAddress(ipBytes.Bytes.Span);
        }
        var nodes = new List<DhtNodeInfo>();
        if (d.Get<BString>("nodes") is { } n4 && !Compact.TryReadNodes(n4.Bytes.Span, AddressFamily.InterNetwork, nodes))
            throw new FormatException("DHT state 'nodes' is not a whole number of 26-byte entries.");
        if (d.Get<BString>("nodes6") is { } n6 && !Compact.TryReadNodes(n6.Bytes.Span, AddressFamily.InterNetworkV6, nodes))
            throw new FormatException("DHT state 'nodes6' is not a whole number of 38-byte entries.");
        nodes.RemoveAll(n => !AddressClass.IsUsable(n.EndPoint));
        if (nodes.Count > MaxNodes) nodes.RemoveRange(MaxNodes, nodes.Count - MaxNodes);
        return new DhtState(new NodeId(id.Bytes.Span), ip, nodes);
    }

    /// <summary>Loads the state file; null when it does not exist.</summary>
    /// <exception cref="FormatException">The file is damaged.</exception>
    public static async Task<DhtState?> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path)) return null;
        var info = new FileInfo(path);
        if (info.Length > 1 << 20) throw new FormatException($"DHT state file {path} is {info.Length} bytes: too large to be one.");
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Decode(bytes);
    }

    /// <summary>Saves the state file atomically: a temporary file beside it, flushed, then renamed over it.</summary>
    public static async Task SaveAsync(string path, DhtState state, CancellationToken cancellationToken = default)
    {
        var bytes = Encode(state);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var temp = path + ".tmp";
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
