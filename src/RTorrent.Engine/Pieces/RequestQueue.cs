namespace RTorrent.Engine.Pieces;

/// <summary>
/// Our outstanding requests to one peer. Peers answer in order almost always, so removal from the head is O(1);
/// an out-of-order answer leaves a hole that is skipped later. Allocation-free once grown.
/// </summary>
internal sealed class RequestQueue
{
    private BlockRequest[] _items = new BlockRequest[64];
    private bool[] _live = new bool[64];
    private int _head, _tail; // ring indexes; _tail - _head (mod) = slots used

    public int Count { get; private set; }

    private int Slots => (_tail - _head + _items.Length) % _items.Length;

    public void Add(BlockRequest request)
    {
        if (Slots + 1 >= _items.Length) Grow();
        _items[_tail] = request;
        _live[_tail] = true;
        _tail = (_tail + 1) % _items.Length;
        Count++;
    }

    /// <summary>Removes the request for (piece, begin); false if it was not outstanding.</summary>
    public bool Remove(int piece, int begin)
    {
        for (int i = _head; i != _tail; i = (i + 1) % _items.Length)
        {
            if (!_live[i]) continue;
            ref var r = ref _items[i];
            if (r.Piece == piece && r.Begin == begin)
            {
                _live[i] = false;
                Count--;
                TrimHead();
                return true;
            }
        }
        return false;
    }

    public bool Contains(int piece, int begin)
    {
        for (int i = _head; i != _tail; i = (i + 1) % _items.Length)
            if (_live[i] && _items[i].Piece == piece && _items[i].Begin == begin) return true;
        return false;
    }

    /// <summary>Removes and returns every outstanding request (choke, snub, disconnect).</summary>
    public List<BlockRequest> TakeAll()
    {
        var all = new List<BlockRequest>(Count);
        for (int i = _head; i != _tail; i = (i + 1) % _items.Length)
            if (_live[i]) all.Add(_items[i]);
        _head = _tail = 0;
        Count = 0;
        return all;
    }

    private void TrimHead()
    {
        while (_head != _tail && !_live[_head]) _head = (_head + 1) % _items.Length;
    }

    private void Grow()
    {
        int used = Slots;
        var items = new BlockRequest[_items.Length * 2];
        var live = new bool[_items.Length * 2];
        for (int k = 0; k < used; k++)
        {
            int i = (_head + k) % _items.Length;
            items[k] = _items[i];
            live[k] = _live[i];
        }
        _items = items;
        _live = live;
        _head = 0;
        _tail = used;
    }
}
