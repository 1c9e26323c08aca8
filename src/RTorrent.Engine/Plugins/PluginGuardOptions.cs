namespace RTorrent.Engine.Plugins;

/// <summary>
/// Limits the engine puts on plugin components. The defaults are generous for healthy code and strict enough that a
/// stuck plugin is noticed within a minute or two; tests shrink them.
/// </summary>
public sealed record PluginGuardOptions
{
    /// <summary>The defaults.</summary>
    public static PluginGuardOptions Default { get; } = new();

    /// <summary>
    /// A picker call that takes longer than this counts as slow. The engine loop serves every peer and torrent, so a
    /// picker gets milliseconds, not seconds.
    /// </summary>
    public TimeSpan PickerCallBudget { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A picker is disabled after this many slow calls (one slow call may be JIT or a GC pause).</summary>
    public int PickerMaxSlowCalls { get; init; } = 3;

    /// <summary>A single picker call longer than this disables the picker at once.</summary>
    public TimeSpan PickerHangBudget { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Timeout of each awaited peer-source call (start, stop, event, dispose).</summary>
    public TimeSpan PeerSourceCallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A synchronous peer-source call (<c>RequestMorePeers</c>, <c>GetStatus</c>) longer than this disables the source.</summary>
    public TimeSpan PeerSourceSyncCallBudget { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Most peers taken from one <c>AddPeers</c> call; the rest are dropped.</summary>
    public int MaxPeersPerReport { get; init; } = 1000;

    /// <summary>Timeout of each storage read, write, probe and close.</summary>
    public TimeSpan StorageCallTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Timeout of storage calls that may move a lot of data: flush, preallocating prepare, move, delete, dispose.</summary>
    public TimeSpan StorageLongCallTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Timeout of one torrent source read (a feed download and parse); creating and disposing get the same.</summary>
    public TimeSpan TorrentSourceReadTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Most items kept from one torrent source read; the rest are dropped (and counted).</summary>
    public int MaxItemsPerRead { get; init; } = 1000;

    /// <summary>Longest text (id, title, links) kept from a torrent source item; longer text is cut.</summary>
    public int MaxItemTextLength { get; init; } = 2048;
}
