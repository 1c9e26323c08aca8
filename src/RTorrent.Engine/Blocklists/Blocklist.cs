using System.Net;

namespace RTorrent.Engine.Blocklists;

/// <summary>
/// The session's blocklist in force: the rules (an immutable <see cref="IpRangeSet"/>, swapped whole on reload so a
/// lookup never sees half a list), whether it is switched on, and the count of attempts it refused. Thread-safe and
/// lock-free: the listener's accept loop, the engine loop and the DHT's receive thread all ask it.
/// </summary>
/// <remarks>
/// What counts as a blocked attempt: an incoming connection refused, a peer address given by any source (tracker, DHT,
/// PEX, LSD, plugins, magnet links, by hand) dropped, a known peer not dialled, a DHT packet from a blocked node
/// ignored and a DHT node not queried. The count is since the program started.
/// </remarks>
public sealed class Blocklist
{
    private IpRangeSet _rules = IpRangeSet.Empty;
    private volatile bool _enabled;
    private long _blocked;

    /// <summary>The rules in force (kept while the list is switched off).</summary>
    public IpRangeSet Rules => Volatile.Read(ref _rules);

    /// <summary>Whether the rules apply.</summary>
    public bool Enabled
    {
        get => _enabled;
        set
        {
            if (_enabled == value) return;
            _enabled = value;
            Changed?.Invoke();
        }
    }

    /// <summary>Merged ranges in the list (Transmission's blocklist-size).</summary>
    public int RuleCount => Rules.Count;

    /// <summary>Attempts refused since the program started.</summary>
    public long BlockedCount => Interlocked.Read(ref _blocked);

    /// <summary>Raised (on the thread that changed it) after the rules were replaced or the list was switched on or off.</summary>
    public event Action? Changed;

    /// <summary>Puts new rules in force at once.</summary>
    public void Replace(IpRangeSet rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Volatile.Write(ref _rules, rules);
        Changed?.Invoke();
    }

    /// <summary>Whether the address is blocked now (not counted). Allocates nothing.</summary>
    public bool IsBlocked(IPAddress address) => _enabled && Volatile.Read(ref _rules).Contains(address);

    /// <summary>Whether the address is blocked; a blocked one is counted as a refused attempt.</summary>
    public bool Refuse(IPAddress address)
    {
        if (!IsBlocked(address)) return false;
        Interlocked.Increment(ref _blocked);
        return true;
    }
}
