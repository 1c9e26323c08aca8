namespace RTorrent.Engine.Client;

/// <summary>
/// What lets an idle torrent cost nothing: the engine ticks only the torrents on its tick list and wakes the others
/// when something they scheduled is due (<see cref="ClientEngine"/>); a snapshot of a torrent that did not change
/// since the last one is the last one.
/// </summary>
public sealed partial class Torrent
{
    /// <summary>Grows whenever something a snapshot shows may have changed (see <see cref="BuildSnapshot"/>).</summary>
    private long _changeStamp;

    private TorrentSnapshot? _cachedSnapshot;
    private SnapshotKey _cachedKey;

    /// <summary>On the engine's tick list (set by the engine, on the loop).</summary>
    internal bool OnTickList { get; set; }

    /// <summary>When the engine's schedule wakes the torrent next (set by the engine, on the loop); MaxValue for never.</summary>
    internal DateTimeOffset WakeDue { get; set; } = DateTimeOffset.MaxValue;

    /// <summary>Something a snapshot shows may have changed: the next snapshot is built again.</summary>
    internal void Changed() => Interlocked.Increment(ref _changeStamp);

    /// <summary>The totals from earlier runs changed (resume data): snapshot, seed limit and resume save look again.</summary>
    private void TotalsChanged()
    {
        Changed();
        RecheckSeedLimit();
    }

    /// <summary>
    /// The engine took the torrent off its tick list (no peers, no transfer): its last snapshot (built while it ran) is
    /// stale, and what only a torrent with peers needs is given back: the pieces read for serving and the scratch lists.
    /// </summary>
    internal void LeftTickList()
    {
        Changed();
        _uploads?.DropCache();
        _requests?.DropScratch();
    }

    /// <summary>
    /// Snapshot for the UI (call on the loop). A torrent off the engine's tick list has no peers and no transfer, so
    /// its snapshot changes only through what <see cref="Changed"/> records, the session's settings, the peers its
    /// sources found and its trackers' answers: while none of those moved, the last snapshot is returned (ten thousand
    /// idle torrents cost a comparison each, twice a second per attached interface, instead of a new record each).
    /// </summary>
    internal TorrentSnapshot BuildSnapshot()
    {
        if (OnTickList || State is TorrentState.Checking or TorrentState.FetchingMetadata)
        {
            _cachedSnapshot = null;
            return BuildSnapshotFresh();
        }
        var problem = Sources.TrackerProblem;
        var key = new SnapshotKey(Interlocked.Read(ref _changeStamp), Activity.Version, _host.Config, _pieces,
            _pieces.HaveField.TrueCount, _pool.Count);
        if (_cachedSnapshot is { } cached && key.Same(_cachedKey) && Equals(cached.TrackerProblem, problem)) return cached;
        var fresh = BuildSnapshotFresh(problem);
        _cachedSnapshot = fresh;
        _cachedKey = key;
        return fresh;
    }

    /// <summary>What an idle torrent's snapshot depends on besides its change stamp.</summary>
    private readonly record struct SnapshotKey(long Stamp, int Activity, EngineConfig? Config, object? Pieces, int Have, int Known)
    {
        /// <summary>Equal, the settings and the piece manager by reference (each is replaced when it changes).</summary>
        public bool Same(SnapshotKey other) =>
            Stamp == other.Stamp && Activity == other.Activity && ReferenceEquals(Config, other.Config)
            && ReferenceEquals(Pieces, other.Pieces) && Have == other.Have && Known == other.Known;
    }
}
