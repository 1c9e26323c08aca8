using RTorrent.Engine.Client;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// Transmission's torrent ids: small integers, stable while the daemon runs and never reused in that run (a torrent
/// removed and added again gets a new one), given in the order torrents enter the session. RTorrent's own id is the
/// info-hash; this maps between the two and remembers removals for <c>ids: "recently-active"</c>'s <c>removed</c>.
/// </summary>
/// <remarks>
/// Ids are given when the engine reports a torrent (added, restored, changed) and, for one not seen yet, when a
/// request first meets it. A torrent leaves when the engine reports it is no longer in the session. Thread-safe.
/// </remarks>
public sealed class TorrentIds : IDisposable
{
    /// <summary>How long removals are remembered (Transmission answers removals of the last 60 seconds; clients poll more often).</summary>
    public static readonly TimeSpan RemovalMemory = TimeSpan.FromMinutes(10);

    private const int MaxRemovalsKept = 100_000;

    private readonly ClientEngine _engine;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _byHash = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<int, string> _byId = [];
    private readonly Queue<(int Id, DateTimeOffset At)> _removed = new();
    private int _next;

    /// <summary>Follows <paramref name="engine"/>'s torrents.</summary>
    public TorrentIds(ClientEngine engine, TimeProvider? time = null)
    {
        _engine = engine;
        _time = time ?? TimeProvider.System;
        _engine.TorrentChanged += OnTorrentChanged;
        foreach (var t in engine.Torrents) GetOrAssign(t.InfoHash.ToHex());
    }

    /// <summary>The id of the torrent with info-hash <paramref name="hash"/> (hex), given now if it has none.</summary>
    public int GetOrAssign(string hash)
    {
        lock (_lock)
        {
            if (_byHash.TryGetValue(hash, out int id)) return id;
            id = ++_next;
            _byHash[hash] = id;
            _byId[id] = hash;
            return id;
        }
    }

    /// <summary>
    /// The id of each of <paramref name="hashes"/>, in one lock; a torrent without one gets one only when
    /// <paramref name="inSession"/> says it is still in the session (a snapshot may be a moment old), else -1.
    /// </summary>
    public void GetOrAssign(IReadOnlyList<TorrentSnapshot> torrents, Span<int> ids, Func<string, bool> inSession)
    {
        List<int>? missing = null;
        lock (_lock)
        {
            for (int i = 0; i < torrents.Count; i++)
            {
                if (_byHash.TryGetValue(torrents[i].Id, out int id)) ids[i] = id;
                else (missing ??= []).Add(i);
            }
        }
        if (missing is null) return;
        foreach (int i in missing) ids[i] = inSession(torrents[i].Id) ? GetOrAssign(torrents[i].Id) : -1;
    }

    /// <summary>The info-hash (hex) of torrent <paramref name="id"/>, if it is in the session.</summary>
    public bool TryGetHash(long id, out string hash)
    {
        lock (_lock)
        {
            if (id is > 0 and <= int.MaxValue && _byId.TryGetValue((int)id, out var h))
            {
                hash = h;
                return true;
            }
        }
        hash = "";
        return false;
    }

    /// <summary>Ids of torrents that left the session within <paramref name="window"/> of now.</summary>
    public IReadOnlyList<int> RemovedWithin(TimeSpan window)
    {
        var since = _time.GetUtcNow() - window;
        lock (_lock) return _removed.Where(r => r.At >= since).Select(r => r.Id).ToArray();
    }

    /// <summary>Forgets <paramref name="hash"/> now (the caller removed it), recording the removal.</summary>
    public void Retire(string hash)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_byHash.Remove(hash, out int id)) return;
            _byId.Remove(id);
            _removed.Enqueue((id, now));
            while (_removed.Count > MaxRemovalsKept || (_removed.Count > 0 && now - _removed.Peek().At > RemovalMemory)) _removed.Dequeue();
        }
    }

    private void OnTorrentChanged(Torrent torrent)
    {
        // On the engine loop: a dictionary lookup or two.
        string hash = torrent.InfoHash.ToHex();
        if (ReferenceEquals(_engine.Find(hash), torrent)) GetOrAssign(hash);
        else Retire(hash);
    }

    /// <summary>Stops following the engine.</summary>
    public void Dispose() => _engine.TorrentChanged -= OnTorrentChanged;
}
