using System.Net;

namespace RTorrent.Engine.Client.Extensions;

/// <summary>
/// Issue 14: the addresses one PEX peer may make us dial. A peer advertising thousands of addresses made us dial
/// 2,420 hosts in two minutes, which would let anyone use us to scan or flood third parties. Each peer's messages
/// add at most <see cref="MaxPerPeer"/> distinct addresses over its connection; the rest are ignored.
/// </summary>
internal sealed class PexAddressBudget
{
    /// <summary>Distinct addresses learned from one peer, over its whole connection.</summary>
    public const int MaxPerPeer = 50;

    private readonly HashSet<IPEndPoint> _learned = [];

    /// <summary>Addresses taken from this peer so far.</summary>
    public int Count => _learned.Count;

    /// <summary>Of <paramref name="added"/>, the addresses still within the budget (new ones first come, first kept).</summary>
    public List<IPEndPoint> Admit(IEnumerable<IPEndPoint> added)
    {
        var result = new List<IPEndPoint>();
        foreach (var ep in added)
        {
            if (_learned.Contains(ep)) continue; // already handed on
            if (_learned.Count >= MaxPerPeer) break;
            _learned.Add(ep);
            result.Add(ep);
        }
        return result;
    }
}
