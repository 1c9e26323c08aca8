using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;
using RTorrent.Engine.Plugins;

namespace RTorrent.Engine.Feeds;

/// <summary>How a <see cref="FeedManager"/> runs.</summary>
public sealed record FeedManagerOptions
{
    /// <summary>Where feeds.json and feeds-history.json live; null keeps both in memory only.</summary>
    public string? SessionDirectory { get; init; }

    /// <summary>The clock (tests fake it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The log.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Limits on torrent sources.</summary>
    public PluginGuardOptions Guard { get; init; } = PluginGuardOptions.Default;

    /// <summary>How often feeds.json is checked for changes made by hand.</summary>
    public TimeSpan ConfigCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Where warnings for the user go besides the log (the session log), or null.</summary>
    public Action<PluginLogLevel, string>? Report { get; init; }
}

/// <summary>
/// Polls the feeds on their schedules, applies the download rules and adds what they take (issue 18, part 5).
/// </summary>
/// <remarks>
/// <para>
/// One timer on <see cref="FeedManagerOptions.Time"/> wakes the manager when the next feed is due (and every
/// <see cref="FeedManagerOptions.ConfigCheckInterval"/> to notice a feeds.json edited by hand). Polls and configuration
/// changes run one at a time. A feed is read by its torrent source (<c>rss</c> or a plugin's) behind a
/// <see cref="GuardedTorrentSource"/>.
/// </para>
/// <para>
/// Each item not yet in the <see cref="FeedHistory"/> is offered to the rules in order; the first enabled rule for the
/// feed whose include pattern matches (an empty one matches all) and whose exclude pattern does not takes it. With the
/// smart filter on, an item whose episode the rule already took is skipped: the first item seen with an episode wins,
/// whatever its quality (qBittorrent's smart filter does the same; write the quality you want into the include
/// pattern). A PROPER or REPACK of a taken episode is taken once more. An item whose add fails is tried again at the
/// next poll. What was taken is saved before the poll ends, so a restart takes nothing twice.
/// </para>
/// </remarks>
public sealed class FeedManager : IAsyncDisposable
{
    private readonly FeedManagerOptions _options;
    private readonly Func<string, ITorrentSourceFactory?> _findSource;
    private readonly IFeedTarget _target;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _timer;
    private readonly List<FeedState> _feeds = [];
    private FeedHistory _history = new();
    private FeedConfig _config = new();
    private string? _configError;
    private (DateTime, long)? _configStamp;
    private Task _running = Task.CompletedTask;
    private bool _started;

    /// <summary>Creates a manager; nothing happens until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Where and how.</param>
    /// <param name="findSource">The torrent source registered under a name (any case), or null.</param>
    /// <param name="target">Where taken items are added.</param>
    public FeedManager(FeedManagerOptions options, Func<string, ITorrentSourceFactory?> findSource, IFeedTarget target)
    {
        _options = options;
        _findSource = findSource;
        _target = target;
        _timer = options.Time.CreateTimer(_ => Kick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Raised after each poll of a feed, with its new status (on the polling task's thread).</summary>
    public event Action<FeedStatus>? Polled;

    /// <summary>The work in progress (a poll round or a configuration change); tests await it.</summary>
    internal Task Running
    {
        get { lock (_lock) return _running; }
    }

    /// <summary>
    /// Loads feeds.json and the history, and polls every enabled feed at once (qBittorrent refreshes its feeds at start).
    /// A feeds.json that cannot be read leaves no feeds and says why in <see cref="FeedsSnapshot.ConfigError"/>.
    /// </summary>
    public Task StartAsync()
    {
        if (_options.SessionDirectory is { } dir)
        {
            try
            {
                _history = FeedHistory.Load(dir);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                // Keep the damaged file for the user to look at; a fresh history is written beside it at the next take.
                Warn($"feeds: the history could not be read ({e.Message}); starting with an empty one");
                TryMoveAside(Path.Combine(dir, FeedHistory.FileName));
            }
            TryReloadConfig(force: true);
        }
        lock (_lock) _started = true;
        Kick();
        return Task.CompletedTask;
    }

    /// <summary>The feeds, their last polls and items, and the rules.</summary>
    public FeedsSnapshot GetSnapshot()
    {
        lock (_lock) return new FeedsSnapshot([.. _feeds.Select(f => f.Status())], _config, _configError);
    }

    /// <summary>The configuration in force.</summary>
    public FeedConfig Config
    {
        get { lock (_lock) return _config; }
    }

    /// <summary>The episodes a rule's smart filter took, oldest first.</summary>
    public IReadOnlyList<string> TakenEpisodes(string rule)
    {
        lock (_lock) return _history.EpisodesOf(rule);
    }

    /// <summary>
    /// Replaces the feeds and rules: validated, written to feeds.json (atomically) and applied. Feeds that are new or
    /// changed are polled at once; unchanged ones keep their schedule and items.
    /// </summary>
    /// <exception cref="FormatException">The configuration is invalid; the message lists why.</exception>
    public async Task SetConfigAsync(FeedConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = config.Validate();
        if (errors.Count > 0) throw new FormatException(string.Join("; ", errors));
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_options.SessionDirectory is { } dir)
            {
                await config.SaveAsync(dir, cancellationToken).ConfigureAwait(false);
                _configStamp = Stamp(Path.Combine(dir, FeedConfig.FileName));
            }
            await ApplyAsync(config).ConfigureAwait(false);
            lock (_lock) _configError = null;
        }
        finally
        {
            _gate.Release();
        }
        Kick();
    }

    /// <summary>Polls one feed (by name, any case), or all enabled feeds when null, now; returns when done.</summary>
    /// <exception cref="ArgumentException">No feed has that name.</exception>
    public async Task RefreshAsync(string? feed = null, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var now = _options.Time.GetUtcNow();
            bool found = false;
            foreach (var f in _feeds)
            {
                if (feed is not null && !f.Definition.Name.Equals(feed, StringComparison.OrdinalIgnoreCase)) continue;
                found = true;
                if (f.Definition.Enabled || feed is not null) f.NextPoll = now;
                if (feed is not null) f.ForceOnce = true;
            }
            if (!found && feed is not null) throw new ArgumentException($"No feed is named '{feed}'.");
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await PollDueAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        Reschedule();
    }

    /// <summary>Forgets the episodes a rule took, so its smart filter takes them again.</summary>
    public async Task ClearRuleHistoryAsync(string rule, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_lock) _history.ClearRule(rule);
            await SaveHistoryAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts a round of due work in the background, unless one is running (it reschedules when done).</summary>
    private void Kick()
    {
        lock (_lock)
        {
            if (!_started || _stop.IsCancellationRequested) return;
            if (!_running.IsCompleted) return;
            _running = Task.Run(RoundAsync);
        }
    }

    private async Task RoundAsync()
    {
        try
        {
            await _gate.WaitAsync(_stop.Token).ConfigureAwait(false);
            try
            {
                TryReloadConfig(force: false);
                if (_applyPending is { } pending)
                {
                    _applyPending = null;
                    await ApplyAsync(pending).ConfigureAwait(false);
                }
                await PollDueAsync(_stop.Token).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            _options.Logger.LogError(e, "feeds: a poll round failed");
            _options.Report?.Invoke(PluginLogLevel.Error, $"feeds: a poll round failed: {e.GetType().Name}: {e.Message}");
        }
        Reschedule();
    }

    private FeedConfig? _applyPending;

    /// <summary>Polls every feed that is due, one after the other.</summary>
    private async Task PollDueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            FeedState? due;
            lock (_lock)
            {
                var now = _options.Time.GetUtcNow();
                due = _feeds.FirstOrDefault(f => (f.Definition.Enabled || f.ForceOnce) && f.NextPoll <= now);
            }
            if (due is null) return;
            await PollAsync(due, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PollAsync(FeedState feed, CancellationToken cancellationToken)
    {
        var def = feed.Definition;
        string? error = null;
        TorrentSourceResult? result = null;
        try
        {
            feed.Source ??= CreateSource(def);
            result = await feed.Source.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (feed.Source.LastDropped > 0)
                _options.Logger.LogDebug("feed {Feed}: {Count} items without a title or a link were dropped", def.Name, feed.Source.LastDropped);
        }
        catch (TorrentSourceException e)
        {
            error = e.Message;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }

        var items = result is null ? null : await ApplyRulesAsync(feed, result.Items, cancellationToken).ConfigureAwait(false);
        FeedStatus status;
        lock (_lock)
        {
            var now = _options.Time.GetUtcNow();
            feed.LastPoll = now;
            feed.NextPoll = now + TimeSpan.FromMinutes(def.IntervalMinutes);
            feed.ForceOnce = false;
            feed.Error = error;
            if (result is not null)
            {
                feed.Title = result.Title;
                feed.Items = items!;
            }
            status = feed.Status();
        }
        if (error is not null)
        {
            if (error != feed.LastReportedError) Warn($"feed {def.Name}: {error}");
            else _options.Logger.LogDebug("feed {Feed}: {Error}", def.Name, error);
        }
        feed.LastReportedError = error;
        await SaveHistoryAsync().ConfigureAwait(false);
        try
        {
            Polled?.Invoke(status);
        }
        catch (Exception e)
        {
            _options.Logger.LogDebug(e, "feeds: a Polled handler threw");
        }
    }

    private GuardedTorrentSource CreateSource(FeedDefinition def)
    {
        var factory = _findSource(def.Source) ?? throw new TorrentSourceException($"no torrent source is named '{def.Source}' (is its plugin installed?)");
        var source = GuardedTorrentSource.Create(factory, def.Source, new TorrentSourceContext
        {
            FeedName = def.Name,
            Address = def.Url,
            MaxItems = _options.Guard.MaxItemsPerRead,
        }, _options.Guard, _options.Time);
        source.Disabled += (_, fault) => Warn($"feed {def.Name}: {fault.Reason}; the source is disabled for this feed until it is edited or the program restarts");
        return source;
    }

    private async Task<List<FeedItemStatus>> ApplyRulesAsync(FeedState feed, IReadOnlyList<TorrentSourceItem> items, CancellationToken cancellationToken)
    {
        var def = feed.Definition;
        FeedConfig config;
        lock (_lock) config = _config;
        var rules = config.Rules.Where(r => r.Enabled && r.AppliesTo(def.Name))
            .Select(r => (Rule: r, Include: FeedPattern.Parse(r.MustContain, r.UseRegex), Exclude: FeedPattern.Parse(r.MustNotContain, r.UseRegex)))
            .ToList();
        var result = new List<FeedItemStatus>(items.Count);
        foreach (var item in items)
        {
            var episode = EpisodeId.Parse(item.Title);
            var status = new FeedItemStatus
            {
                Title = item.Title,
                Id = item.Id,
                Episode = episode is null ? null : string.Join(",", episode.Episodes) + (episode.IsRepack ? " repack" : ""),
                Published = item.Published,
                Size = item.Size,
                Seeders = item.Seeders,
            };
            bool taken;
            lock (_lock) taken = _history.HasItem(def.Url, item.Id);
            if (taken)
            {
                result.Add(feed.AddedThisRun.TryGetValue(item.Id, out var by)
                    ? status with { State = FeedItemState.Added, Rule = by }
                    : status with { State = FeedItemState.Taken });
                continue;
            }
            var match = rules.FirstOrDefault(r => (r.Include.IsEmpty || r.Include.Matches(item.Title)) && !r.Exclude.Matches(item.Title));
            if (match.Rule is null)
            {
                result.Add(status);
                continue;
            }
            var rule = match.Rule;
            if (rule.SmartFilter && episode is not null)
            {
                string? already;
                lock (_lock) already = episode.Keys.FirstOrDefault(k => _history.HasEpisode(rule.Name, k));
                if (already is not null)
                {
                    result.Add(status with { State = FeedItemState.Skipped, Rule = rule.Name, Message = $"{already.Replace("-repack", " (repack)")} already taken" });
                    continue;
                }
            }
            try
            {
                var name = await _target.AddAsync(new FeedAddRequest(def.Name, rule.Name, item, rule.SavePath, rule.Category, rule.AddPaused), cancellationToken).ConfigureAwait(false);
                lock (_lock)
                {
                    _history.AddItem(def.Url, item.Id);
                    if (rule.SmartFilter && episode is not null)
                    {
                        foreach (var key in episode.Keys) _history.AddEpisode(rule.Name, key);
                        // A repack also counts as the episode itself: a later plain release of it is not taken.
                        if (episode.IsRepack) foreach (var key in episode.Episodes) _history.AddEpisode(rule.Name, key);
                    }
                    feed.AddedThisRun[item.Id] = rule.Name;
                }
                _options.Logger.LogInformation("feed {Feed}: rule {Rule} added {Title}", def.Name, rule.Name, item.Title);
                result.Add(status with { State = FeedItemState.Added, Rule = rule.Name, Message = name });
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                var message = e is TorrentSourceException ? e.Message : $"{e.Message}";
                Warn($"feed {def.Name}: rule {rule.Name} could not add {item.Title}: {message}");
                result.Add(status with { State = FeedItemState.Failed, Rule = rule.Name, Message = message });
            }
        }
        return result;
    }

    private async Task SaveHistoryAsync()
    {
        if (_options.SessionDirectory is not { } dir) return;
        Task save;
        lock (_lock)
        {
            if (!_history.IsDirty) return;
            save = _history.SaveAsync(dir);
        }
        try
        {
            await save.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Warn($"feeds: the history could not be saved: {e.Message}");
        }
    }

    /// <summary>Reads feeds.json again when it changed on disk (or at start); a bad file keeps the previous configuration.</summary>
    private void TryReloadConfig(bool force)
    {
        if (_options.SessionDirectory is not { } dir) return;
        var path = Path.Combine(dir, FeedConfig.FileName);
        var stamp = Stamp(path);
        if (!force && stamp == _configStamp) return;
        _configStamp = stamp;
        try
        {
            var config = FeedConfig.Load(dir);
            lock (_lock) _configError = null;
            if (force) ApplyAsync(config).GetAwaiter().GetResult(); // at start nothing runs yet: nothing to dispose
            else _applyPending = config;
            if (!force) _options.Logger.LogInformation("feeds: {File} changed; {Feeds} feeds and {Rules} rules now", FeedConfig.FileName, config.Feeds.Count, config.Rules.Count);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            lock (_lock) _configError = e.Message;
            Warn($"feeds: {e.Message}; the previous feeds and rules stay in force");
        }
    }

    private static (DateTime, long)? Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : null;
    }

    /// <summary>Makes <paramref name="config"/> the one in force: changed feeds get a fresh state and are due now.</summary>
    private async Task ApplyAsync(FeedConfig config)
    {
        var dropped = new List<GuardedTorrentSource>();
        lock (_lock)
        {
            var now = _options.Time.GetUtcNow();
            var old = _feeds.ToDictionary(f => f.Definition.Name, StringComparer.OrdinalIgnoreCase);
            _feeds.Clear();
            foreach (var def in config.Feeds)
            {
                if (old.Remove(def.Name, out var same) && same.Definition == def)
                {
                    _feeds.Add(same);
                    continue;
                }
                if (same?.Source is { } s) dropped.Add(s);
                var state = new FeedState(def) { NextPoll = now };
                if (same is not null && same.Definition.Url == def.Url && same.Definition.Source == def.Source)
                {
                    // Only the interval or the switch changed: keep what was read, and the schedule from the last poll.
                    state.Items = same.Items;
                    state.Title = same.Title;
                    state.LastPoll = same.LastPoll;
                    state.NextPoll = same.LastPoll is { } last ? last + TimeSpan.FromMinutes(def.IntervalMinutes) : now;
                    state.Source = same.Source;
                    state.Error = same.Error;
                    if (same.Source is { } kept) dropped.Remove(kept);
                }
                _feeds.Add(state);
            }
            foreach (var gone in old.Values) if (gone.Source is { } s) dropped.Add(s);
            _config = config;
        }
        foreach (var source in dropped) await source.DisposeAsync().ConfigureAwait(false);
    }

    private void Reschedule()
    {
        lock (_lock)
        {
            if (_stop.IsCancellationRequested) return;
            var now = _options.Time.GetUtcNow();
            DateTimeOffset? next = _options.SessionDirectory is null ? null : now + _options.ConfigCheckInterval;
            foreach (var f in _feeds)
                if (f.Definition.Enabled && (next is null || f.NextPoll < next)) next = f.NextPoll;
            if (next is null)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }
            var due = next.Value - now;
            _timer.Change(due < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : due, Timeout.InfiniteTimeSpan);
        }
    }

    private void Warn(string message)
    {
        _options.Logger.LogWarning("{Message}", message);
        _options.Report?.Invoke(PluginLogLevel.Warning, message);
    }

    private static void TryMoveAside(string path)
    {
        try { File.Move(path, path + ".damaged", overwrite: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Stops polling (a poll in progress is cancelled), saves the history and releases the sources.</summary>
    public async ValueTask DisposeAsync()
    {
        Task running;
        lock (_lock)
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            running = _running;
        }
        _timer.Dispose();
        try { await running.ConfigureAwait(false); } catch (Exception e) { _options.Logger.LogDebug("feeds at close: {Error}", e.Message); }
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await SaveHistoryAsync().ConfigureAwait(false);
            List<GuardedTorrentSource> sources;
            lock (_lock) sources = [.. _feeds.Select(f => f.Source).OfType<GuardedTorrentSource>()];
            foreach (var s in sources) await s.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One feed's state; guarded by the manager's lock.</summary>
    private sealed class FeedState(FeedDefinition definition)
    {
        public FeedDefinition Definition { get; } = definition;
        public GuardedTorrentSource? Source { get; set; }
        public DateTimeOffset NextPoll { get; set; }
        public DateTimeOffset? LastPoll { get; set; }
        public bool ForceOnce { get; set; }
        public string? Error { get; set; }
        public string? LastReportedError { get; set; }
        public string? Title { get; set; }
        public IReadOnlyList<FeedItemStatus> Items { get; set; } = [];
        /// <summary>Items this run added, with the rule that took them (shown as added, not "taken before").</summary>
        public Dictionary<string, string> AddedThisRun { get; } = new(StringComparer.Ordinal);

        public FeedStatus Status() => new()
        {
            Definition = Definition,
            Title = Title,
            LastPoll = LastPoll,
            NextPoll = Definition.Enabled ? NextPoll : null,
            Error = Error,
            Items = Items,
        };
    }
}
