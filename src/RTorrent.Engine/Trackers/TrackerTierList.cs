namespace RTorrent.Engine.Trackers;

/// <summary>
/// Trackers in tiers as BEP 12 orders them: each tier is shuffled once when loaded, announces try the trackers in
/// order (tier by tier, front to back), and a tracker that answers moves to the front of its tier so it is tried
/// first next time. Thread-safe.
/// </summary>
/// <typeparam name="T">Whatever stands for a tracker (its URL, or its state).</typeparam>
public sealed class TrackerTierList<T> where T : notnull
{
    private readonly Lock _lock = new();
    private readonly List<T>[] _tiers;

    /// <summary>Loads tiers (empty tiers are dropped) and shuffles each one.</summary>
    /// <param name="tiers">Trackers by tier, first tier first.</param>
    /// <param name="random">The shuffle's randomness; <see cref="Random.Shared"/> when null.</param>
    public TrackerTierList(IEnumerable<IEnumerable<T>> tiers, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        random ??= Random.Shared;
        _tiers = [.. tiers.Select(t => t.ToList()).Where(t => t.Count > 0)];
        foreach (var tier in _tiers)
        {
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tier);
            random.Shuffle(span);
        }
    }

    /// <summary>Number of (non-empty) tiers.</summary>
    public int TierCount => _tiers.Length;

    /// <summary>The trackers of one tier in their current order (a copy).</summary>
    public IReadOnlyList<T> GetTier(int tier)
    {
        lock (_lock) return [.. _tiers[tier]];
    }

    /// <summary>Every tracker with its tier, in the order announces try them (a copy).</summary>
    public IReadOnlyList<(T Tracker, int Tier)> InOrder()
    {
        lock (_lock)
        {
            var result = new List<(T, int)>();
            for (int t = 0; t < _tiers.Length; t++)
                foreach (var tracker in _tiers[t]) result.Add((tracker, t));
            return result;
        }
    }

    /// <summary>The tier of a tracker, or -1.</summary>
    public int TierOf(T tracker)
    {
        lock (_lock)
        {
            for (int t = 0; t < _tiers.Length; t++)
                if (_tiers[t].Contains(tracker)) return t;
            return -1;
        }
    }

    /// <summary>Moves a tracker that answered to the front of its tier. Returns false if it is not in the list.</summary>
    public bool Promote(T tracker)
    {
        lock (_lock)
        {
            foreach (var tier in _tiers)
            {
                int i = tier.IndexOf(tracker);
                if (i < 0) continue;
                if (i > 0)
                {
                    tier.RemoveAt(i);
                    tier.Insert(0, tracker);
                }
                return true;
            }
            return false;
        }
    }
}
