using System.Net;

namespace RTorrent.Engine.Dht;

/// <summary>
/// Learns our external address from the <c>ip</c> field other nodes put in their answers (BEP 42). One vote per
/// voter (an IP, or IP and port for local addresses) among the last <see cref="Window"/> voters; an address is
/// believed once it has the required votes and more than any other. Bounded: at most <see cref="Window"/> votes.
/// </summary>
internal sealed class ExternalAddressVoter
{
    public const int Window = 64;

    private readonly int _required;
    private readonly Dictionary<IPEndPoint, IPAddress> _votes = [];
    private readonly Queue<IPEndPoint> _order = new();

    public ExternalAddressVoter(int required, IPAddress? initial)
    {
        _required = Math.Max(1, required);
        Current = initial is null ? null : AddressClass.Normalize(initial);
    }

    /// <summary>The address most voters agree on, once enough do.</summary>
    public IPAddress? Current { get; private set; }

    /// <summary>Records a vote; returns true when it changed <see cref="Current"/>.</summary>
    public bool Vote(IPEndPoint voter, IPAddress voted)
    {
        var key = SourceRateLimiter.KeyOf(voter);
        voted = AddressClass.Normalize(voted);
        if (!_votes.ContainsKey(key))
        {
            _order.Enqueue(key);
            if (_order.Count > Window) _votes.Remove(_order.Dequeue());
        }
        _votes[key] = voted;

        var tally = _votes.Values.GroupBy(a => a).Select(g => (Address: g.Key, Count: g.Count()))
            .OrderByDescending(t => t.Count).ToList();
        var (best, count) = tally[0];
        if (count < _required || (tally.Count > 1 && tally[1].Count == count)) return false;
        if (best.Equals(Current)) return false;
        Current = best;
        return true;
    }
}
