using System.Net;

namespace RTorrent.Engine.Peers;

/// <summary>
/// Issue 14: incoming connections whose handshake is not read yet. 200 connections that sent half a handshake and
/// stayed silent kept every real peer out. A new connection is always taken: if its address already has
/// <see cref="PerAddress"/> half-open, the oldest of those is dropped; else if <see cref="Total"/> are half-open, the
/// oldest of all is. So silent connections can delay a new peer by nothing, and one address cannot push out others
/// until the total is full. Thread-safe (the accept loops and the handshakes run on the thread pool).
/// </summary>
internal sealed class HalfOpenConnections
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Entry> _byAge = new();
    private readonly Dictionary<IPAddress, int> _perAddress = new();

    public HalfOpenConnections(int perAddress, int total)
    {
        PerAddress = Math.Max(1, perAddress);
        Total = Math.Max(1, total);
    }

    public int PerAddress { get; }
    public int Total { get; }

    /// <summary>Half-open connections now.</summary>
    public int Count
    {
        get { lock (_lock) return _byAge.Count; }
    }

    /// <summary>Half-open connections dropped to make room so far.</summary>
    public int Evicted { get; private set; }

    /// <summary>One half-open connection; <see cref="Cancellation"/> is cancelled when it is dropped for a newer one.</summary>
    public sealed class Entry(IPAddress address)
    {
        public IPAddress Address { get; } = address;
        public CancellationTokenSource Cancellation { get; } = new();
        internal LinkedListNode<Entry>? Node;
    }

    /// <summary>Takes a new connection from <paramref name="address"/>; the one it pushed out, if any, is cancelled.</summary>
    public Entry Add(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var entry = new Entry(address);
        Entry? evicted = null;
        lock (_lock)
        {
            if (_perAddress.GetValueOrDefault(address) >= PerAddress)
            {
                for (var n = _byAge.First; n is not null; n = n.Next)
                    if (n.Value.Address.Equals(address)) { evicted = n.Value; break; }
            }
            else if (_byAge.Count >= Total) evicted = _byAge.First!.Value;
            if (evicted is not null)
            {
                RemoveLocked(evicted);
                Evicted++;
            }
            entry.Node = _byAge.AddLast(entry);
            _perAddress[address] = _perAddress.GetValueOrDefault(address) + 1;
        }
        try { evicted?.Cancellation.Cancel(); } catch (ObjectDisposedException) { }
        return entry;
    }

    /// <summary>The connection's handshake was read, or it failed: it no longer counts.</summary>
    public void Remove(Entry entry)
    {
        lock (_lock) RemoveLocked(entry);
    }

    private void RemoveLocked(Entry entry)
    {
        if (entry.Node is null) return;
        _byAge.Remove(entry.Node);
        entry.Node = null;
        int left = _perAddress[entry.Address] - 1;
        if (left == 0) _perAddress.Remove(entry.Address);
        else _perAddress[entry.Address] = left;
    }
}
