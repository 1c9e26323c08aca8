namespace RTorrent.Engine.Trackers;

/// <summary>Settings of <see cref="TrackerPeerSource"/>. The defaults follow libtorrent and Transmission.</summary>
public sealed record TrackerPeerSourceOptions
{
    /// <summary>The defaults.</summary>
    public static TrackerPeerSourceOptions Default { get; } = new();

    /// <summary>
    /// Our IPv6 address for HTTP trackers' <c>ipv6=</c> (BEP 7), asked at each announce; null sends none. The session
    /// sets it to <see cref="LocalIPv6Address.Get"/> while it listens on IPv6.
    /// </summary>
    public Func<System.Net.IPAddress?>? IPv6Address { get; init; }

    /// <summary>Peers asked for per announce (<c>numwant</c>; default 200, as libtorrent).</summary>
    public int NumWant { get; init; } = 200;

    /// <summary>
    /// Longest time one announce to one tracker may take before it counts as failed and the next tracker is tried
    /// (default 60 s: an HTTP request has its own 30 s limit; a UDP tracker gets sends at 0, 15 and 45 s).
    /// </summary>
    public TimeSpan AnnounceTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long stopping waits for the <c>stopped</c> announces (default 5 s): shutdown never hangs on a tracker.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The announce interval when a tracker gives none (default 30 min).</summary>
    public TimeSpan DefaultInterval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The shortest regular interval accepted from a tracker (default 1 min): a tracker cannot make us hammer it.</summary>
    public TimeSpan MinimumInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest regular interval accepted from a tracker (default 4 h): a tracker cannot silence a torrent.</summary>
    public TimeSpan MaximumInterval { get; init; } = TimeSpan.FromHours(4);

    /// <summary>
    /// The shortest time between announces when the tracker sets no <c>min interval</c>; early announces asked for by
    /// <see cref="TrackerPeerSource.RequestMorePeers"/> wait at least this long after the previous one (default 2 min).
    /// </summary>
    public TimeSpan DefaultMinInterval { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Wait after a tracker's first failure; doubles with each further failure (default 15 s).</summary>
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest wait between retries of a failing tracker, before jitter (default 30 min).</summary>
    public TimeSpan RetryCap { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Random extra added to each retry wait and scrape interval, as a fraction of it (default 0.25).</summary>
    public double Jitter { get; init; } = 0.25;

    /// <summary>How often trackers are scraped for seeder and leecher counts (default 30 min).</summary>
    public TimeSpan ScrapeInterval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>When the first scrape happens after the first announce is due (default 1 min).</summary>
    public TimeSpan FirstScrapeDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// False (the default) follows BEP 12 to the letter: one tracker at a time, the next tier only when a whole tier
    /// fails. True announces to one tracker in every tier at once, as Transmission and qBittorrent do by default.
    /// </summary>
    public bool AnnounceToAllTiers { get; init; }
}
