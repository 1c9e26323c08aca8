using RTorrent.Engine.Client;
using RTorrent.Engine.Session;

namespace RTorrent.Remote.Native;

/// <summary>
/// Remembers which torrents changed, and when, between snapshots of a session, so that clients polling every half
/// second get only what changed: an idle daemon with thousands of torrents answers an attached interface with a few
/// hundred bytes instead of megabytes. Transmission's <c>ids: "recently-active"</c> is answered from it too.
/// </summary>
/// <remarks>
/// <para>
/// A change is a snapshot that is not equal (record equality) to the torrent's previous one. Engine snapshots keep the
/// same list instances while nothing changes, and values that would tick every second (time seeding) are kept as a
/// base and a start time, so an idle torrent's snapshots compare equal.
/// </para>
/// <para>
/// Snapshots are taken when a client asks, at most every <see cref="MaxAge"/>: several clients polling at once share
/// one. Removals are remembered for <see cref="RemovalMemory"/>; a client whose last version is older than that (or
/// from another daemon run, see <see cref="Instance"/>) gets the whole list again.
/// </para>
/// </remarks>
public sealed class SnapshotJournal
{
    /// <summary>How long removals are remembered for delta answers.</summary>
    public static readonly TimeSpan RemovalMemory = TimeSpan.FromMinutes(10);

    private const int MaxRemovalsKept = 100_000;

    private readonly ITorrentBackend _backend;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly List<Removal> _removals = [];
    private View? _view;
    private long _version;
    private long _horizon;

    /// <summary>Journals <paramref name="backend"/>'s session.</summary>
    public SnapshotJournal(ITorrentBackend backend, TimeProvider? time = null, TimeSpan? maxAge = null)
    {
        _backend = backend;
        _time = time ?? TimeProvider.System;
        MaxAge = maxAge ?? TimeSpan.FromMilliseconds(200);
    }

    /// <summary>Identifies this daemon run: versions from another run mean nothing here.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N");

    /// <summary>A snapshot this recent is reused instead of asking the engine again.</summary>
    public TimeSpan MaxAge { get; }

    /// <summary>
    /// Makes the next <see cref="GetAsync"/> take a new snapshot: a client that just changed something (added, stopped,
    /// moved a torrent) and asks again at once must see its change, not a snapshot from before it.
    /// </summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _invalidations);
        Volatile.Write(ref _view, null);
    }

    private long _invalidations;

    /// <summary>The session now (or at most <see cref="MaxAge"/> ago), with what changed.</summary>
    public async Task<View> GetAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _view) is { } fresh && _time.GetUtcNow() - fresh.TakenAt < MaxAge) return fresh;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have refreshed while this one waited.
            if (Volatile.Read(ref _view) is { } shared && _time.GetUtcNow() - shared.TakenAt < MaxAge) return shared;
            long invalidations = Volatile.Read(ref _invalidations);
            SessionSnapshot session = await _backend.GetSessionAsync(cancellationToken).ConfigureAwait(false);
            DateTimeOffset now = _time.GetUtcNow();
            long version = ++_version;
            // An idle session costs a lookup and a reference comparison per torrent: the engine hands out the same
            // snapshot instance while a torrent does not change, and nothing O(N) is allocated unless something moved
            // (ten thousand torrents polled twice a second by an attached interface).
            bool moved = _changes is null;
            int known = 0, before = _entries.Count;
            foreach (TorrentSnapshot t in session.Torrents)
            {
                if (_entries.TryGetValue(t.Id, out Entry? e))
                {
                    known++;
                    if (ReferenceEquals(e.Snapshot, t)) continue;
                    if (!e.Snapshot.Equals(t))
                    {
                        e.Version = version;
                        e.ChangedAt = now;
                        moved = true;
                    }
                    e.Snapshot = t; // equal: keep the newest instance, nothing to report
                }
                else
                {
                    _entries[t.Id] = new Entry { Snapshot = t, Version = version, ChangedAt = now };
                    moved = true;
                }
            }
            if (known != before)
            {
                // Ids are unique: fewer found than were known means some left.
                var seen = new HashSet<string>(session.Torrents.Count, StringComparer.Ordinal);
                foreach (TorrentSnapshot t in session.Torrents) seen.Add(t.Id);
                foreach (string id in _entries.Keys.Where(id => !seen.Contains(id)).ToArray())
                {
                    _entries.Remove(id);
                    _removals.Add(new Removal(id, version, now));
                }
                moved = true;
            }
            int forget = 0;
            while (forget < _removals.Count && (now - _removals[forget].At > RemovalMemory || _removals.Count - forget > MaxRemovalsKept)) forget++;
            if (forget > 0)
            {
                _horizon = _removals[forget - 1].Version;
                _removals.RemoveRange(0, forget);
                moved = true;
            }
            if (moved)
            {
                _changes = _entries.Values.Select(e => (e.Snapshot.Id, e.Version, e.ChangedAt)).ToArray();
                _removalList = _removals.ToArray();
            }
            var view = new View(this, session, version, _horizon, now, _changes!, _removalList);
            // A change made while this snapshot was taken may be missing from it: then it is not shared.
            if (invalidations == Volatile.Read(ref _invalidations)) Volatile.Write(ref _view, view);
            return view;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Each torrent's id, version and change time as of the last snapshot that moved anything (shared by views).</summary>
    private (string Id, long Version, DateTimeOffset ChangedAt)[]? _changes;

    /// <summary>The removals remembered, as of the last snapshot that moved anything (shared by views).</summary>
    private Removal[] _removalList = [];

    private sealed class Entry
    {
        public required TorrentSnapshot Snapshot;
        public long Version;
        public DateTimeOffset ChangedAt;
    }

    /// <summary>A removed torrent: its id, the version and the time its removal was seen.</summary>
    public readonly record struct Removal(string Id, long Version, DateTimeOffset At);

    /// <summary>One snapshot of the session and what changed up to it. Immutable.</summary>
    public sealed class View
    {
        private readonly (string Id, long Version, DateTimeOffset ChangedAt)[] _changes;
        private readonly Removal[] _removals;
        private readonly long _horizon;

        internal View(SnapshotJournal journal, SessionSnapshot session, long version, long horizon, DateTimeOffset takenAt,
            (string, long, DateTimeOffset)[] changes, Removal[] removals)
        {
            Instance = journal.Instance;
            Session = session;
            Version = version;
            _horizon = horizon;
            TakenAt = takenAt;
            _changes = changes;
            _removals = removals;
        }

        /// <summary>The daemon run.</summary>
        public string Instance { get; }

        /// <summary>The whole session.</summary>
        public SessionSnapshot Session { get; }

        /// <summary>This snapshot's version (grows by one per snapshot taken).</summary>
        public long Version { get; }

        /// <summary>When it was taken.</summary>
        public DateTimeOffset TakenAt { get; }

        /// <summary>
        /// Whether a client that saw <paramref name="version"/> of <paramref name="instance"/> can be answered with
        /// changes only (otherwise it needs the whole list).
        /// </summary>
        public bool CanAnswerSince(string? instance, long version) =>
            instance == Instance && version > 0 && version >= _horizon && version <= Version;

        /// <summary>Ids of torrents whose snapshot changed after <paramref name="version"/> (new ones included).</summary>
        public IEnumerable<string> ChangedSince(long version) => _changes.Where(c => c.Version > version).Select(c => c.Id);

        /// <summary>Whether two views share one list of changes (tests: an unchanged session builds none).</summary>
        internal bool SharesChangesWith(View other) => ReferenceEquals(_changes, other._changes);

        /// <summary>Ids removed after <paramref name="version"/>.</summary>
        public IEnumerable<string> RemovedSince(long version) => _removals.Where(r => r.Version > version).Select(r => r.Id);

        /// <summary>Ids of torrents that changed within <paramref name="window"/> of this snapshot (Transmission's recently-active).</summary>
        public IEnumerable<string> ChangedWithin(TimeSpan window) => _changes.Where(c => TakenAt - c.ChangedAt <= window).Select(c => c.Id);

        /// <summary>Ids removed within <paramref name="window"/> of this snapshot.</summary>
        public IEnumerable<string> RemovedWithin(TimeSpan window) => _removals.Where(r => TakenAt - r.At <= window).Select(r => r.Id);
    }
}
