namespace RTorrent.Engine.Trackers;

/// <summary>One tracker URL of one torrent and what we know about it. Mutable fields are guarded by the source's lock.</summary>
internal sealed class TrackerEndpoint(string url, int tier, int index, ITrackerClient? client, string? unusableReason,
    TrackerGate? gate = null)
{
    public const string NotContacted = "not contacted";
    public const string Updating = "updating";
    public const string Working = "working";
    public const string Error = "error";
    public const string Unsupported = "unsupported";
    public const string Stopped = "stopped";

    public string Url { get; } = url;

    /// <summary>Tier in the torrent's list (0 = first), for display.</summary>
    public int Tier { get; set; } = tier;

    /// <summary>Position in the torrent's list, for a stable display order.</summary>
    public int Index { get; set; } = index;

    /// <summary>Null when the URL cannot be used (<see cref="UnusableReason"/> says why).</summary>
    public ITrackerClient? Client { get; } = client;

    public string? UnusableReason { get; } = unusableReason;

    /// <summary>The tracker's queue, pacing and health, shared by every torrent on it; null when the URL cannot be used.</summary>
    public TrackerGate? Gate { get; } = gate;

    public AnnounceLane Lane { get; set; } = null!;

    public string State = unusableReason is null ? NotContacted : Unsupported;
    public string? Message = unusableReason;
    public string? ScrapeMessage;
    public DateTimeOffset? LastSuccess;
    public DateTimeOffset? RetryAt;
    public int Failures;

    /// <summary>The last announce was refused by the tracker itself (a 'failure reason'), not lost on the way.</summary>
    public bool Refused;

    /// <summary>A <c>started</c> announce succeeded this session: later announces are regular ones.</summary>
    public bool StartedSent;

    /// <summary>The tracker may list us (a started announce reached it, or may have): it gets <c>stopped</c>.</summary>
    public bool MayListUs;

    public string? TrackerId;
    public TimeSpan? MinInterval;
    public int? Seeders;
    public int? Leechers;
    public int? Downloaded;
    public DateTimeOffset? CountsUpdated;
    public int PeersReported;
}

/// <summary>
/// Trackers that are announced to as one: the whole tier list (BEP 12), or a single tier when announcing to all
/// tiers. Exactly one tracker of a lane is in use at a time. Mutable fields are guarded by the source's lock.
/// </summary>
internal sealed class AnnounceLane(TrackerTierList<TrackerEndpoint> trackers)
{
    public TrackerTierList<TrackerEndpoint> Trackers { get; } = trackers;

    public WakeSignal Wake { get; } = new();

    public DateTimeOffset DueAt = DateTimeOffset.MaxValue;

    /// <summary>
    /// Early announces asked for (more peers, or forced by the user). Cleared when a round starts; one asked for
    /// during a round survives the round's own rescheduling.
    /// </summary>
    public bool MorePeersAsked;
    public bool ForceAsked;

    /// <summary>The tracker that answered the last announce, or null.</summary>
    public TrackerEndpoint? Current;

    public DateTimeOffset? LastAnnounce;

    /// <summary>The current tracker's min interval (or the default).</summary>
    public TimeSpan MinInterval;

    /// <summary>Completion events asked for and delivered; a completed announce is due while asked &gt; delivered.</summary>
    public int CompletedAsked;
    public int CompletedDelivered;

    public bool CompletedPending => CompletedAsked > CompletedDelivered;
}
