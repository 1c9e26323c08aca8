namespace RTorrent.Engine.Client;

/// <summary>
/// Tit-for-tat (BEP 3): every rechoke, the interested peers that give us the most (while downloading) or take the
/// most (while seeding, so data spreads fastest) keep their slots; one more slot goes to a random peer, rotated every
/// 30 seconds, so newcomers get a chance to prove themselves.
/// </summary>
internal static class ChokeScheduler
{
    public static readonly TimeSpan RechokeInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan OptimisticInterval = TimeSpan.FromSeconds(30);

    /// <summary>Decides who is unchoked; returns the peers whose choke state must change.</summary>
    /// <param name="random">Picks the optimistic peer (tests pass a seeded one).</param>
    public static void Rechoke(IReadOnlyList<Peer> peers, int slots, bool seeding, DateTimeOffset now,
        List<Peer> toUnchoke, List<Peer> toChoke, Random? random = null)
    {
        var interested = new List<Peer>(peers.Count);
        foreach (var p in peers)
            if (p.PeerInterested && !p.Connection.IsClosed) interested.Add(p);

        // Rank: rate in the direction that matters; ties by who has waited longest.
        interested.Sort((a, b) =>
        {
            long ra = seeding ? a.Upload.Rate : a.Download.Rate;
            long rb = seeding ? b.Upload.Rate : b.Download.Rate;
            int c = rb.CompareTo(ra);
            return c != 0 ? c : a.LastUnchoked.CompareTo(b.LastUnchoked);
        });

        var keep = new HashSet<Peer>();
        int regular = Math.Max(slots - 1, 1);
        foreach (var p in interested)
        {
            if (keep.Count >= regular) break;
            if (p.OptimisticSince is null) keep.Add(p);
        }

        // The optimistic slot: keep the current one for 30 s, then pick a random choked interested peer.
        Peer? optimistic = interested.FirstOrDefault(p => p.OptimisticSince is { } since && now - since < OptimisticInterval);
        if (optimistic is null || keep.Contains(optimistic))
        {
            foreach (var p in interested) p.OptimisticSince = null;
            var pool = interested.Where(p => !keep.Contains(p)).ToList();
            optimistic = pool.Count > 0 ? pool[(random ?? Random.Shared).Next(pool.Count)] : null;
            if (optimistic is not null) optimistic.OptimisticSince = now;
        }
        if (optimistic is not null) keep.Add(optimistic);

        foreach (var p in peers)
        {
            bool unchoke = keep.Contains(p);
            if (unchoke && p.AmChoking) toUnchoke.Add(p);
            else if (!unchoke && !p.AmChoking) toChoke.Add(p);
            if (!unchoke && p.OptimisticSince is not null && !ReferenceEquals(p, optimistic)) p.OptimisticSince = null;
        }
    }
}
