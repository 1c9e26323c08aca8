using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Peers;

/// <summary>
/// BEP 6 (fast extension) constants and the canonical allowed-fast set. What the engine does with the messages is in
/// the dispatcher, <c>RequestScheduler</c>, <c>UploadServer</c> and <c>AvailabilityTracker</c>; the decisions are in
/// docs/FAST-EXTENSION.md.
/// </summary>
internal static class FastExtension
{
    /// <summary>Pieces in the allowed-fast set we give each peer (the spec's k; libtorrent defaults to 5, the spec's examples use 7 to 10).</summary>
    public const int AllowedFastSetSize = 10;

    /// <summary>ALLOWED FAST pieces kept per peer; more are ignored (a peer cannot make us hold more by sending more).</summary>
    public const int MaxAllowedFastIn = 32;

    /// <summary>SUGGEST PIECE hints kept per peer; a new one pushes the oldest out.</summary>
    public const int MaxSuggestions = 16;

    /// <summary>Requests we cancelled that are remembered so the peer's REJECT for them is not a violation.</summary>
    public const int MaxCancelledRemembered = 256;

    /// <summary>
    /// REJECTs for blocks we never asked for (counted in <c>Peer.ProtocolViolations</c> with other dropped misdeeds)
    /// before the peer is dropped: the spec says SHOULD close; a few are forgiven because a reject may cross a cancel
    /// we no longer remember.
    /// </summary>
    public const int MaxProtocolViolations = 100;

    /// <summary>
    /// Counts a message that broke the protocol but is not worth closing the connection for by itself (a REJECT for a
    /// block we never asked for, a REQUEST for more than 16 KiB); past <see cref="MaxProtocolViolations"/> it is.
    /// </summary>
    /// <exception cref="PeerProtocolException">The peer broke the protocol too often.</exception>
    public static void Violation(Client.Peer peer, string what)
    {
        if (++peer.ProtocolViolations > MaxProtocolViolations)
            throw new PeerProtocolException($"more than {MaxProtocolViolations} protocol violations, the last: {what}");
    }

    /// <summary>
    /// The allowed-fast set we give a peer at <paramref name="address"/>: the spec's canonical set, of
    /// min(<see cref="AllowedFastSetSize"/>, half the pieces) so a small torrent is never mostly free. IPv6 peers get
    /// none: the spec defines the set for IPv4 addresses only.
    /// </summary>
    public static int[] AllowedFastFor(IPAddress address, InfoHash infoHash, int pieceCount)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return [];
        int k = Math.Min(AllowedFastSetSize, pieceCount / 2);
        if (k <= 0) return [];
        Span<byte> ip = stackalloc byte[4];
        address.TryWriteBytes(ip, out _);
        Span<byte> hash = stackalloc byte[20];
        infoHash.CopyTo(hash);
        return Generate(k, pieceCount, hash, ip);
    }

    /// <summary>
    /// BEP 6's canonical allowed-fast set: SHA-1 of the peer's /24 (IPv4, network order) and the info-hash, then SHA-1
    /// of each hash in turn; each hash gives five big-endian 32-bit numbers, taken modulo the piece count, kept when
    /// new, until <paramref name="k"/> pieces are found.
    /// </summary>
    /// <param name="k">Pieces in the set; at most <paramref name="pieceCount"/>, or the loop could not end.</param>
    /// <param name="pieceCount">Pieces in the torrent.</param>
    /// <param name="infoHash">The 20-byte info-hash.</param>
    /// <param name="ipv4">The peer's IPv4 address, network order.</param>
    public static int[] Generate(int k, int pieceCount, ReadOnlySpan<byte> infoHash, ReadOnlySpan<byte> ipv4)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, pieceCount);
        var set = new int[k];
        int n = 0;
        Span<byte> x = stackalloc byte[24];
        ipv4[..3].CopyTo(x);
        x[3] = 0; // 0xFFFFFF00 & ip: peers of one /24 get one set
        infoHash[..20].CopyTo(x[4..]);
        Span<byte> digest = stackalloc byte[20], next = stackalloc byte[20];
        SHA1.HashData(x, digest);
        while (true)
        {
            for (int i = 0; i < 5 && n < k; i++)
            {
                uint y = BinaryPrimitives.ReadUInt32BigEndian(digest[(i * 4)..]);
                int index = (int)(y % (uint)pieceCount);
                if (Array.IndexOf(set, index, 0, n) < 0) set[n++] = index;
            }
            if (n == k) return set;
            SHA1.HashData(digest, next);
            next.CopyTo(digest);
        }
    }
}
