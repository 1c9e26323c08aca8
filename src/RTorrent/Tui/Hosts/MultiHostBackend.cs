using System.Globalization;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;

namespace RTorrent.Tui.Hosts;

/// <summary>How <see cref="MultiHostBackend"/> waits for its hosts.</summary>
public sealed record MultiHostOptions
{
    /// <summary>
    /// The longest one refresh waits for a host's snapshot (and a torrent's details). A host still silent by then
    /// keeps being asked in the background; the refresh goes on without it.
    /// </summary>
    public TimeSpan HostTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a host that answered before and has gone quiet (no answer, but no error either) keeps its torrents in
    /// the list, marked slow, before they leave it as for a disconnected host.
    /// </summary>
    public TimeSpan SlowGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock for both (tests move it by hand).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Several sessions (daemons, one per <c>--connect</c>) shown as one: the torrent list is every host's torrents, with
/// ids made unique (<c>"&lt;hostIndex&gt;/&lt;id&gt;"</c>, mapped back on every call) and <see cref="TorrentSnapshot.Host"/>
/// set, and the session snapshot sums the hosts and says how each one is in <see cref="SessionSnapshot.Hosts"/>.
/// </summary>
/// <remarks>
/// <para>
/// The hosts are asked in parallel, each for at most <see cref="MultiHostOptions.HostTimeout"/>. A host that throws
/// (<see cref="BackendUnavailableException"/> or anything else) is shown as disconnected with its message and
/// <see cref="BackendUnavailableException.RetryAt"/>, and its torrents leave the list until it answers again. A host
/// that does not answer in time is not asked again while its question is open, so it delays one refresh at most; its
/// late answer is used by the next refresh. This backend never throws from <see cref="GetSessionAsync"/> because of a
/// host.
/// </para>
/// <para>
/// What belongs to one host goes to that host: <see cref="IHostedBackend.Host"/> gives its backend (settings, adding,
/// stopping its daemon, free space). Called on this backend directly, adding goes to the first host, the session log
/// is every host's (each line marked with its host), global limits are set on every host, the plugin list is every
/// host's (folders as <c>host:folder</c>), and the pickers and storages are those every host has. The hosts are not
/// disposed by this backend: whoever made them does that.
/// </para>
/// </remarks>
public sealed class MultiHostBackend : ITorrentBackend, IHostedBackend
{
    private readonly HostState[] _hosts;
    private readonly Dictionary<string, HostState> _byName;
    private readonly MultiHostOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Shows <paramref name="hosts"/> as one session.</summary>
    /// <param name="hosts">Each host's name (unique; shown in the Host column and the status line) and backend, in order.</param>
    /// <param name="options">Time bounds; the defaults suit an interface refreshing twice a second.</param>
    /// <exception cref="ArgumentException">No hosts, or two with the same name.</exception>
    public MultiHostBackend(IReadOnlyList<(string Name, ITorrentBackend Backend)> hosts, MultiHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        if (hosts.Count == 0) throw new ArgumentException("At least one host is needed.", nameof(hosts));
        _options = options ?? new MultiHostOptions();
        _time = _options.Time;
        _hosts = new HostState[hosts.Count];
        _byName = new Dictionary<string, HostState>(StringComparer.Ordinal);
        for (int i = 0; i < hosts.Count; i++)
        {
            (string name, ITorrentBackend backend) = hosts[i];
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            ArgumentNullException.ThrowIfNull(backend);
            var state = new HostState(new HostView(i, name, backend));
            if (!_byName.TryAdd(name, state)) throw new ArgumentException($"Two hosts are named {name}; give each a name of its own.", nameof(hosts));
            _hosts[i] = state;
        }
        HostNames = [.. _hosts.Select(h => h.View.Name)];
        Info = new BackendInfo(BackendKind.Multiple, string.Join(", ", HostNames), _hosts.Any(h => h.View.Info.CanStopDaemon));
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> HostNames { get; }

    /// <inheritdoc/>
    public string? HostOf(string id) => Find(id)?.Name;

    /// <inheritdoc/>
    public ITorrentBackend Host(string name) =>
        _byName.TryGetValue(name, out HostState? state) ? state.View : throw new ArgumentException($"No host is named {name}.", nameof(name));

    /// <summary>Kind <see cref="BackendKind.Multiple"/>, the hosts' names, and whether any of their daemons can be stopped.</summary>
    public BackendInfo Info { get; }

    private HostView? Find(string id)
    {
        int slash = id.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(id.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int index)) return null;
        return index < _hosts.Length ? _hosts[index].View : null;
    }

    private HostView Route(string id) => Find(id) ?? throw new InvalidOperationException("That torrent is no longer in the session.");

    /// <inheritdoc/>
    public async Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
    {
        Task<HostPoll>[] polls = new Task<HostPoll>[_hosts.Length];
        for (int i = 0; i < _hosts.Length; i++) polls[i] = PollAsync(_hosts[i], cancellationToken);
        HostPoll[] results = await Task.WhenAll(polls).ConfigureAwait(false);
        return Merge(results);
    }

    private async Task<HostPoll> PollAsync(HostState host, CancellationToken cancellationToken)
    {
        Task<SessionSnapshot> fetch;
        DateTimeOffset started;
        lock (host)
        {
            if (host.Pending is null)
            {
                host.Pending = Call(host.View);
                host.PendingSince = _time.GetUtcNow();
            }
            fetch = host.Pending;
            started = host.PendingSince;
        }
        if (!fetch.IsCompleted)
        {
            // The bound counts from when the question was asked: a host already silent through an earlier refresh
            // is not waited for again.
            TimeSpan left = started + _options.HostTimeout - _time.GetUtcNow();
            if (left > TimeSpan.Zero)
            {
                try
                {
                    await fetch.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception)
                {
                    // Timed out, or the host failed: both are read from the state below.
                }
            }
        }
        return Settle(host, fetch);
    }

    private static Task<SessionSnapshot> Call(HostView view)
    {
        try
        {
            // Not the caller's token: the question stays open for the next refresh when this one stops waiting.
            return view.GetSessionAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            return Task.FromException<SessionSnapshot>(e);
        }
    }

    private HostPoll Settle(HostState host, Task<SessionSnapshot> fetch)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (host)
        {
            if (ReferenceEquals(host.Pending, fetch) && fetch.IsCompleted)
            {
                host.Pending = null;
                if (fetch.IsCompletedSuccessfully)
                {
                    host.Last = fetch.Result;
                    host.LastAnswer = now;
                    host.Status = new HostStatus(host.View.Name, true, host.Last.DownloadRate, host.Last.UploadRate, host.Last.Torrents.Count, null, null);
                }
                else
                {
                    Exception e = fetch.Exception is { } failed ? failed.InnerException ?? failed : new OperationCanceledException("The question was cancelled.");
                    host.Last = null;
                    host.Status = new HostStatus(host.View.Name, false, 0, 0, host.Status?.Torrents ?? 0, Describe(e),
                        (e as BackendUnavailableException)?.RetryAt);
                }
            }
            else if (!fetch.IsCompleted && ReferenceEquals(host.Pending, fetch))
            {
                TimeSpan silent = now - (host.LastAnswer ?? host.PendingSince);
                if (host.Last is not null && silent < _options.SlowGrace)
                {
                    host.Status = new HostStatus(host.View.Name, true, host.Last.DownloadRate, host.Last.UploadRate, host.Last.Torrents.Count,
                        SlowProblem, null);
                }
                else
                {
                    host.Last = null;
                    string problem = host.LastAnswer is null ? "no answer yet"
                        : $"not answering for {(int)silent.TotalSeconds}s";
                    host.Status = new HostStatus(host.View.Name, false, 0, 0, host.Status?.Torrents ?? 0, problem, null);
                }
            }
            // Otherwise another refresh settled this answer already: report the state as it is.
            return new HostPoll(host.Last, host.Status ?? new HostStatus(host.View.Name, false, 0, 0, 0, "no answer yet", null));
        }
    }

    /// <summary>The problem of a host that answered before and is slow now (its torrents stay a while).</summary>
    internal const string SlowProblem = "slow to answer";

    private static string Describe(Exception e) => TorrentText.OneLine(e.Message);

    private static SessionSnapshot Merge(HostPoll[] polls)
    {
        var torrents = new List<TorrentSnapshot>(polls.Sum(p => p.Snapshot?.Torrents.Count ?? 0));
        long down = 0, up = 0;
        int connections = 0;
        int? dht = null;
        long? blocked = null;
        int rules = 0;
        var downLimits = new List<long>();
        var upLimits = new List<long>();
        var ports = new HashSet<int>();
        bool turtle = false;
        foreach (HostPoll p in polls)
        {
            if (p.Snapshot is not { } s) continue;
            torrents.AddRange(s.Torrents);
            down += s.DownloadRate;
            up += s.UploadRate;
            connections += s.Connections;
            if (s.DhtNodes is { } n) dht = (dht ?? 0) + n;
            if (s.BlockedAttempts is { } b) blocked = (blocked ?? 0) + b;
            rules = Math.Max(rules, s.BlocklistRules);
            downLimits.Add(s.DownloadLimit);
            upLimits.Add(s.UploadLimit);
            ports.Add(s.ListenPort);
            turtle |= s.AltSpeedEnabled;
        }
        return new SessionSnapshot
        {
            Torrents = torrents,
            DownloadRate = down,
            UploadRate = up,
            // Global limits are set on every host alike (SetGlobalLimitsAsync), so they normally agree; when they do
            // not, the largest is what the throttle keys step from.
            DownloadLimit = downLimits.Count > 0 ? downLimits.Max() : 0,
            UploadLimit = upLimits.Count > 0 ? upLimits.Max() : 0,
            ListenPort = ports.Count == 1 ? ports.First() : 0,
            Connections = connections,
            DhtNodes = dht,
            AltSpeedEnabled = turtle, // any host in turtle mode
            BlockedAttempts = blocked,
            BlocklistRules = rules,
            Hosts = [.. polls.Select(p => p.Status)],
        };
    }

    /// <inheritdoc/>
    public async Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default)
    {
        if (Find(id) is not { } view) return null;
        try
        {
            return await view.GetDetailsAsync(id, CancellationToken.None).WaitAsync(_options.HostTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new BackendUnavailableException($"{view.Name} is not answering.", null, e);
        }
    }

    /// <summary>Every host's log, each line starting with its host's name in brackets, oldest first.</summary>
    public async Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default)
    {
        Task<IReadOnlyList<LogEntry>>[] reads = [.. _hosts.Select(h => ReadLogAsync(h.View, cancellationToken))];
        IReadOnlyList<LogEntry>[] logs = await Task.WhenAll(reads).ConfigureAwait(false);
        // Stable: lines of one host that share a time keep their order.
        return [.. logs.SelectMany(l => l).OrderBy(e => e.Time)];
    }

    private async Task<IReadOnlyList<LogEntry>> ReadLogAsync(HostView view, CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyList<LogEntry> entries = await view.GetSessionLogAsync(CancellationToken.None)
                .WaitAsync(_options.HostTimeout, _time, cancellationToken).ConfigureAwait(false);
            return [.. entries.Select(e => e with { Message = $"[{view.Name}] {e.Message}" })];
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            string why = e is TimeoutException ? "not answering" : Describe(e);
            return [new LogEntry(_time.GetUtcNow(), PluginLogLevel.Warning, $"[{view.Name}] cannot read its log: {why}")];
        }
    }

    /// <summary>Adds to the first host; <see cref="IHostedBackend.Host"/> adds to another.</summary>
    public Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default) =>
        _hosts[0].View.AddTorrentAsync(pathOrMagnet, saveDirectory, start, picker, storage, cancellationToken);

    /// <inheritdoc/>
    public Task StartAsync(string id, CancellationToken cancellationToken = default) => Route(id).StartAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task StopAsync(string id, CancellationToken cancellationToken = default) => Route(id).StopAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task StartNowAsync(string id, CancellationToken cancellationToken = default) => Route(id).StartNowAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task MoveInQueueAsync(string id, RTorrent.Engine.Client.QueueMove move, CancellationToken cancellationToken = default) =>
        Route(id).MoveInQueueAsync(id, move, cancellationToken);

    /// <inheritdoc/>
    public Task RecheckAsync(string id, CancellationToken cancellationToken = default) => Route(id).RecheckAsync(id, cancellationToken);

    /// <inheritdoc/>
    public Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default) =>
        Route(id).RemoveAsync(id, deleteData, cancellationToken);

    /// <inheritdoc/>
    public Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default) =>
        Route(id).SetFilePriorityAsync(id, fileIndexes, priority, cancellationToken);

    /// <inheritdoc/>
    public Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Route(id).SetTorrentLimitsAsync(id, downloadLimit, uploadLimit, cancellationToken);

    /// <summary>Sets the same limits on every host; says which hosts refused (the others keep the new limits).</summary>
    public async Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default)
    {
        var failures = new List<string>();
        Task[] sets = [.. _hosts.Select(async h =>
        {
            try
            {
                await h.View.SetGlobalLimitsAsync(downloadLimit, uploadLimit, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lock (failures) failures.Add($"{h.View.Name}: {Describe(e)}");
            }
        })];
        await Task.WhenAll(sets).ConfigureAwait(false);
        if (failures.Count > 0) throw new InvalidOperationException("Limits not set on " + string.Join("; ", failures));
    }

    /// <inheritdoc/>
    public Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) =>
        Route(id).SetSequentialAsync(id, sequential, cancellationToken);

    /// <inheritdoc/>
    public Task SetSuperSeedingAsync(string id, bool on, CancellationToken cancellationToken = default) =>
        Route(id).SetSuperSeedingAsync(id, on, cancellationToken);

    /// <summary>Every host's categories by name (the first host's when two have one of the same name).</summary>
    public async Task<IReadOnlyList<RTorrent.Engine.Client.Category>> GetCategoriesAsync(CancellationToken cancellationToken = default)
    {
        var all = new Dictionary<string, RTorrent.Engine.Client.Category>(StringComparer.Ordinal);
        foreach (HostState h in _hosts)
        {
            try
            {
                foreach (var c in await h.View.GetCategoriesAsync(cancellationToken).ConfigureAwait(false)) all.TryAdd(c.Name, c);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A host that is down has no categories to offer now.
            }
        }
        return [.. all.Values.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>A category is saved on every host (its folders are each host's own paths); says which hosts refused.</summary>
    public Task SaveCategoryAsync(RTorrent.Engine.Client.Category category, CancellationToken cancellationToken = default) =>
        OnEveryHostAsync(h => h.SaveCategoryAsync(category, cancellationToken), "Category not saved on ", cancellationToken);

    /// <summary>A category is removed from every host that has it.</summary>
    public Task RemoveCategoryAsync(string name, CancellationToken cancellationToken = default) =>
        OnEveryHostAsync(async h =>
        {
            if ((await h.GetCategoriesAsync(cancellationToken).ConfigureAwait(false)).Any(c => c.Name == name))
                await h.RemoveCategoryAsync(name, cancellationToken).ConfigureAwait(false);
        }, "Category not removed on ", cancellationToken);

    private async Task OnEveryHostAsync(Func<HostView, Task> action, string failed, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        Task[] runs = [.. _hosts.Select(async h =>
        {
            try
            {
                await action(h.View).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lock (failures) failures.Add($"{h.View.Name}: {Describe(e)}");
            }
        })];
        await Task.WhenAll(runs).ConfigureAwait(false);
        if (failures.Count > 0) throw new InvalidOperationException(failed + string.Join("; ", failures));
    }

    /// <inheritdoc/>
    public Task SetCategoryAsync(string id, string? category, CancellationToken cancellationToken = default) =>
        Route(id).SetCategoryAsync(id, category, cancellationToken);

    /// <inheritdoc/>
    public Task SetTagsAsync(string id, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        Route(id).SetTagsAsync(id, tags, cancellationToken);

    /// <summary>The pickers every host has, in the first host's order.</summary>
    public IReadOnlyList<string> PickerNames => Common(h => h.PickerNames);

    /// <summary>The storages every host has, in the first host's order.</summary>
    public IReadOnlyList<string> StorageNames => Common(h => h.StorageNames);

    private List<string> Common(Func<ITorrentBackend, IReadOnlyList<string>> names)
    {
        IEnumerable<string> common = names(_hosts[0].View);
        foreach (HostState h in _hosts.Skip(1)) common = common.Intersect(names(h.View), StringComparer.Ordinal);
        return [.. common];
    }

    /// <summary>Every host's plugins, their folders written <c>host:folder</c>.</summary>
    public IReadOnlyList<PluginInfo> Plugins =>
        [.. _hosts.SelectMany(h => h.View.Plugins.Select(p => p with { Folder = $"{h.View.Name}:{p.Folder}" }))];

    /// <summary>Settings belong to one host: read them through <see cref="IHostedBackend.Host"/>.</summary>
    public Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) =>
        Task.FromException<EditableSettings>(new NotSupportedException("Several daemons are shown: choose one to see its settings."));

    /// <summary>Settings belong to one host: save them through <see cref="IHostedBackend.Host"/>.</summary>
    public Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default) =>
        Task.FromException(new NotSupportedException("Several daemons are shown: choose one to change its settings."));

    /// <summary>Null: which host's disk is meant cannot be told; ask one host through <see cref="IHostedBackend.Host"/>.</summary>
    public Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default) => Task.FromResult<long?>(null);

    /// <summary>Refused: stop one host's daemon through <see cref="IHostedBackend.Host"/>.</summary>
    public Task StopDaemonAsync(CancellationToken cancellationToken = default) =>
        Task.FromException(new NotSupportedException("Several daemons are shown: choose which one to stop."));

    private sealed class HostState(HostView view)
    {
        public HostView View { get; } = view;
        public Task<SessionSnapshot>? Pending { get; set; }
        public DateTimeOffset PendingSince { get; set; }
        public SessionSnapshot? Last { get; set; }
        public DateTimeOffset? LastAnswer { get; set; }
        public HostStatus? Status { get; set; }
    }

    private sealed record HostPoll(SessionSnapshot? Snapshot, HostStatus Status);
}
