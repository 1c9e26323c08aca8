using RTorrent.Engine.Settings;

namespace RTorrent.Engine.Session;

/// <summary>
/// Values given on the command line for one run (<c>--port</c>, <c>--download</c>, <c>--rpc</c>, <c>--web-home</c>):
/// they win over settings.json while the program runs and are never written into it.
/// </summary>
public sealed record RunOverrides
{
    /// <summary>The peer listen port for this run.</summary>
    public int? ListenPort { get; init; }

    /// <summary>The default download folder for this run.</summary>
    public string? DownloadDirectory { get; init; }

    /// <summary>The RPC endpoints for this run.</summary>
    public IReadOnlyList<string>? RpcBind { get; init; }

    /// <summary>The web client folder for this run.</summary>
    public string? RpcWebHome { get; init; }

    /// <summary>No overrides.</summary>
    public static RunOverrides None { get; } = new();

    /// <summary>The settings in force: <paramref name="saved"/> with the overrides on top.</summary>
    public EngineSettings Apply(EngineSettings saved) => saved with
    {
        ListenPort = ListenPort ?? saved.ListenPort,
        DownloadDirectory = DownloadDirectory ?? saved.DownloadDirectory,
        RpcBind = RpcBind ?? saved.RpcBind,
        RpcWebHome = RpcWebHome ?? saved.RpcWebHome,
    };

    /// <summary>
    /// What to write to settings.json after a change turned <paramref name="before"/> (in force) into
    /// <paramref name="after"/>: an overridden field the change left alone keeps its saved value; one the user changed
    /// is saved as changed.
    /// </summary>
    public EngineSettings ToSaved(EngineSettings saved, EngineSettings before, EngineSettings after) => after with
    {
        ListenPort = ListenPort is not null && after.ListenPort == before.ListenPort ? saved.ListenPort : after.ListenPort,
        DownloadDirectory = DownloadDirectory is not null && after.DownloadDirectory == before.DownloadDirectory
            ? saved.DownloadDirectory : after.DownloadDirectory,
        RpcBind = RpcBind is not null && ReferenceEquals(after.RpcBind, before.RpcBind) ? saved.RpcBind : after.RpcBind,
        RpcWebHome = RpcWebHome is not null && after.RpcWebHome == before.RpcWebHome ? saved.RpcWebHome : after.RpcWebHome,
    };
}

/// <summary>
/// A running session's settings: the one place that validates a change, writes settings.json and applies at once what
/// can change while the engine runs (rate limits). The interface's settings dialog, the throttle keys and the RPC's
/// <c>session-set</c> all change settings through it, so two of them can never overwrite each other's change.
/// </summary>
/// <remarks>
/// Rate limits, connection limits, the seed ratio limit, the blocklist and port forwarding apply at once; what cannot change while the engine runs
/// (the listen port, DHT/PEX/LSD, encryption, the read cache) is saved and applies at the next start, as the settings
/// dialog says.
/// </remarks>
public sealed class SessionSettings
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ClientSession? _session;
    private readonly RunOverrides _overrides;
    private readonly bool _persist;
    private EngineSettings _saved;
    private EngineSettings _current;

    /// <summary>Keeps <paramref name="saved"/> (as read from settings.json) for <paramref name="session"/>.</summary>
    /// <param name="saved">The settings as stored.</param>
    /// <param name="session">The session whose engine gets the live changes; null to only keep and save them.</param>
    /// <param name="overrides">Command-line values for this run, never saved.</param>
    /// <param name="persist">Write settings.json on change (off for throw-away sessions such as the demo).</param>
    public SessionSettings(EngineSettings saved, ClientSession? session, RunOverrides? overrides = null, bool persist = true)
    {
        _saved = saved;
        _session = session;
        _overrides = overrides ?? RunOverrides.None;
        _persist = persist;
        _current = _overrides.Apply(saved);
        // Its hooks run and its schedule switches turtle mode from now on.
        _session?.Attach(this);
    }

    /// <summary>The settings in force now.</summary>
    public EngineSettings Current => Volatile.Read(ref _current);

    /// <summary>The command-line values of this run.</summary>
    public RunOverrides Overrides => _overrides;

    /// <summary>Raised after a change was saved and applied (on the thread that made it).</summary>
    public event Action<EngineSettings>? Changed;

    /// <summary>
    /// Changes the settings: <paramref name="change"/> gets the settings in force and returns the new ones, which are
    /// validated, saved (without this run's overrides) and applied. Changes are serialised.
    /// </summary>
    /// <exception cref="SettingsException">A value is not valid; nothing changed.</exception>
    public async Task<EngineSettings> UpdateAsync(Func<EngineSettings, EngineSettings> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var before = _current;
            var after = change(before);
            var errors = after.Validate();
            if (errors.Count > 0) throw new SettingsException("settings", errors);
            var toSave = _overrides.ToSaved(_saved, before, after);
            if (_persist) await SettingsStore.SaveAsync(toSave, CancellationToken.None).ConfigureAwait(false);
            _saved = toSave;
            Volatile.Write(ref _current, after);
            if (_session is not null) await ApplyLiveAsync(before, after).ConfigureAwait(false);
            Changed?.Invoke(after);
            return after;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ApplyLiveAsync(EngineSettings before, EngineSettings after)
    {
        var engine = _session!.Engine;
        // The limits in force: the turtle ones while turtle mode is on (the normal ones are kept for when it is off).
        if (before.EffectiveDownloadRateLimit != after.EffectiveDownloadRateLimit || before.EffectiveUploadRateLimit != after.EffectiveUploadRateLimit)
            await engine.SetGlobalLimitsAsync(after.EffectiveDownloadRateLimit, after.EffectiveUploadRateLimit).ConfigureAwait(false);
        if (before.MaxConnections != after.MaxConnections || before.MaxConnectionsPerTorrent != after.MaxConnectionsPerTorrent)
            await engine.SetConnectionLimitsAsync(after.MaxConnections, after.MaxConnectionsPerTorrent).ConfigureAwait(false);
        if (before.DiskReadCacheSize != after.DiskReadCacheSize)
            await engine.SetReadCacheSizeAsync(after.DiskReadCacheSize).ConfigureAwait(false);
        if (before.WebSeedConnections != after.WebSeedConnections)
            await engine.SetWebSeedConnectionsAsync(after.WebSeedConnections).ConfigureAwait(false);
        if (!Nullable.Equals(before.SeedRatioLimit, after.SeedRatioLimit))
            await engine.SetSeedRatioLimitAsync(after.SeedRatioLimit).ConfigureAwait(false);
        if (before.SeedingRules != after.SeedingRules)
            await engine.SetSeedingRulesAsync(after.SeedingRules).ConfigureAwait(false);
        if (before.BlocklistEnabled != after.BlocklistEnabled || before.BlocklistUrl != after.BlocklistUrl ||
            before.BlocklistFile != after.BlocklistFile || before.BlocklistRefreshHours != after.BlocklistRefreshHours)
            await _session.BlocklistUpdater.ApplyAsync(Engine.Blocklists.BlocklistSources.From(after)).ConfigureAwait(false);
        if (before.PortForwardingEnabled != after.PortForwardingEnabled)
            await _session.SetPortForwardingAsync(after.PortForwardingEnabled).ConfigureAwait(false);
        if (before.Transports != after.Transports)
            await engine.SetTransportsAsync(after.Transports).ConfigureAwait(false);
        if (before.QueueLimits != after.QueueLimits)
            await engine.SetQueueLimitsAsync(after.QueueLimits).ConfigureAwait(false);
    }
}
