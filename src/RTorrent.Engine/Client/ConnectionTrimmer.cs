namespace RTorrent.Engine.Client;

/// <summary>
/// Chooses which connections to close when a peer limit is lowered while torrents run: the least useful first (the
/// slowest to us, then the slowest from us, then the newest), and for the session-wide limit always from the torrent
/// that has the most connections, so no torrent is starved to spare another.
/// </summary>
internal static class ConnectionTrimmer
{
    /// <summary>Open peers, least worth keeping first.</summary>
    public static List<Peer> WorstFirst(IEnumerable<Peer> peers) =>
        [.. peers.Where(p => !p.Connection.IsClosed)
            .OrderBy(p => p.Download.Rate)
            .ThenBy(p => p.Upload.Rate)
            .ThenByDescending(p => p.ConnectedAt)];

    /// <summary>
    /// What to close so that at most <paramref name="limit"/> connections remain in all: one at a time from whichever
    /// owner has the most left (ties to the earlier owner), taking its items in the order given (worst first).
    /// </summary>
    public static List<TItem> PlanGlobal<TItem>(IReadOnlyList<IReadOnlyList<TItem>> worstFirstByOwner, int limit)
    {
        var left = worstFirstByOwner.Select(l => l.Count).ToArray();
        var taken = new int[left.Length];
        int total = left.Sum();
        var close = new List<TItem>();
        while (total > Math.Max(0, limit))
        {
            int most = 0;
            for (int i = 1; i < left.Length; i++) if (left[i] > left[most]) most = i;
            close.Add(worstFirstByOwner[most][taken[most]]);
            taken[most]++;
            left[most]--;
            total--;
        }
        return close;
    }
}
