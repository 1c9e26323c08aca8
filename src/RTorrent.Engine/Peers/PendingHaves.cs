using System.Collections;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Peers;

/// <summary>
/// Issue 14: HAVEs a peer sends before a magnet's metadata is known, kept until it is. A list held every message
/// (up to a million, 4 MiB per peer, repeats included); a bit per possible piece holds at most 256 KiB however many
/// HAVEs arrive, and a piece no torrent can have (at or past <see cref="MetainfoParser.MaxPieces"/>) drops the peer.
/// </summary>
internal sealed class PendingHaves : IEnumerable<int>
{
    private ulong[] _bits = new ulong[4];

    /// <summary>Distinct pieces noted.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes the set holds now (at most <see cref="MetainfoParser.MaxPieces"/> / 8).</summary>
    public int Bytes => _bits.Length * sizeof(ulong);

    /// <exception cref="PeerProtocolException">The piece cannot exist in any torrent we accept.</exception>
    public void Add(int piece)
    {
        if ((uint)piece >= MetainfoParser.MaxPieces)
            throw new PeerProtocolException($"HAVE for piece {piece}; no torrent has more than {MetainfoParser.MaxPieces}");
        int word = piece >> 6;
        if (word >= _bits.Length)
            Array.Resize(ref _bits, Math.Min(MetainfoParser.MaxPieces / 64, Math.Max(word + 1, _bits.Length * 2)));
        ulong mask = 1UL << (piece & 63);
        if ((_bits[word] & mask) != 0) return;
        _bits[word] |= mask;
        Count++;
    }

    /// <summary>The pieces, in ascending order.</summary>
    public IEnumerator<int> GetEnumerator()
    {
        for (int w = 0; w < _bits.Length; w++)
            for (ulong bits = _bits[w]; bits != 0; bits &= bits - 1)
                yield return (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
