namespace RTorrent.Engine.Trackers;

/// <summary>The <c>event</c> of an announce (BEP 3). The numeric values are the UDP tracker codes (BEP 15).</summary>
public enum AnnounceEvent
{
    /// <summary>A regular announce.</summary>
    None = 0,
    /// <summary>The download has just completed.</summary>
    Completed = 1,
    /// <summary>The first announce of a session to this tracker.</summary>
    Started = 2,
    /// <summary>The torrent is being stopped.</summary>
    Stopped = 3,
}
