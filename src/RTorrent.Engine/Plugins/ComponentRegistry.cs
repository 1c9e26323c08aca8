using System.Collections.Immutable;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// Every piece picker, peer source, storage backend and torrent source the program knows: the engine's built-ins (registered first,
/// through <see cref="RegisterBuiltIns"/>) and those of loaded plugins. Names are unique per kind and looked up
/// without regard to case. Thread-safe: reads take an immutable snapshot and never lock.
/// </summary>
public sealed class ComponentRegistry
{
    private readonly Lock _gate = new();
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Raised after components were added, replaced (hot reload) or removed; on the thread that changed them.</summary>
    public event EventHandler<ComponentsChangedEventArgs>? Changed;

    /// <summary>Piece pickers in registration order (built-ins first).</summary>
    public IReadOnlyList<RegisteredComponent<IPiecePickerFactory>> Pickers => _snapshot.Pickers;

    /// <summary>Peer sources in registration order (built-ins first).</summary>
    public IReadOnlyList<RegisteredComponent<IPeerSourceFactory>> PeerSources => _snapshot.PeerSources;

    /// <summary>Storage backends in registration order (built-ins first).</summary>
    public IReadOnlyList<RegisteredComponent<IStorageFactory>> Storages => _snapshot.Storages;

    /// <summary>Torrent sources (feed readers) in registration order (built-ins first).</summary>
    public IReadOnlyList<RegisteredComponent<ITorrentSourceFactory>> TorrentSources => _snapshot.TorrentSources;

    /// <summary>The torrent source registered under <paramref name="name"/> (any case), or null.</summary>
    public RegisteredComponent<ITorrentSourceFactory>? GetTorrentSource(string name) => Find(_snapshot.TorrentSources, name);

    /// <summary>The picker registered under <paramref name="name"/> (any case), or null.</summary>
    public RegisteredComponent<IPiecePickerFactory>? GetPicker(string name) => Find(_snapshot.Pickers, name);

    /// <summary>The storage backend registered under <paramref name="name"/> (any case), or null.</summary>
    public RegisteredComponent<IStorageFactory>? GetStorage(string name) => Find(_snapshot.Storages, name);

    /// <summary>The peer source registered under <paramref name="name"/> (any case), or null.</summary>
    public RegisteredComponent<IPeerSourceFactory>? GetPeerSource(string name) => Find(_snapshot.PeerSources, name);

    /// <summary>
    /// The peer sources to start for a torrent: all of them, minus those the user disabled, minus (for a private
    /// torrent, BEP 27) those not allowed for private torrents.
    /// </summary>
    /// <param name="isPrivate">The torrent is private.</param>
    /// <param name="disabled">Names of sources disabled in settings or for this torrent (any case); may be null.</param>
    public IReadOnlyList<RegisteredComponent<IPeerSourceFactory>> PeerSourcesFor(bool isPrivate, IEnumerable<string>? disabled = null)
    {
        var off = disabled is null ? null : new HashSet<string>(disabled, StringComparer.OrdinalIgnoreCase);
        var result = new List<RegisteredComponent<IPeerSourceFactory>>();
        foreach (var source in _snapshot.PeerSources)
        {
            if (off is not null && off.Contains(source.Name)) continue;
            if (isPrivate && !source.Factory.AllowedForPrivateTorrents) continue;
            result.Add(source);
        }
        return result;
    }

    /// <summary>
    /// Registers the engine's own components through the same validation as plugins. Call it before loading
    /// plugins so that a plugin cannot take a built-in name.
    /// </summary>
    /// <param name="builtIns">An <see cref="IRTorrentPlugin"/> that registers the built-in factories.</param>
    /// <param name="host">What the built-ins get as <see cref="IPluginRegistry.Host"/>; a silent host when null.</param>
    /// <returns>What was registered.</returns>
    /// <exception cref="PluginRegistrationException">A name is invalid or taken.</exception>
    public IReadOnlyList<ComponentDescriptor> RegisterBuiltIns(IRTorrentPlugin builtIns, IPluginHost? host = null)
    {
        ArgumentNullException.ThrowIfNull(builtIns);
        return Register([builtIns], ComponentOrigin.BuiltIn, host ?? new PluginHost());
    }

    /// <summary>
    /// Calls <see cref="IRTorrentPlugin.Register"/> on every entry point and commits what they registered, all or
    /// nothing. Exceptions from the plugin propagate unchanged (the catalog turns them into a report line).
    /// </summary>
    internal IReadOnlyList<ComponentDescriptor> Register(IReadOnlyList<IRTorrentPlugin> entryPoints, ComponentOrigin origin, IPluginHost host) =>
        Commit(Stage(entryPoints, origin, host, replacing: null));

    /// <summary>
    /// Calls <see cref="IRTorrentPlugin.Register"/> on every entry point and keeps what they register aside,
    /// validated but not yet visible. <paramref name="replacing"/> names a plugin whose current components the
    /// staged ones will replace (hot reload), so its own names do not count as taken.
    /// </summary>
    internal StagingRegistry Stage(IReadOnlyList<IRTorrentPlugin> entryPoints, ComponentOrigin origin, IPluginHost host, ComponentOrigin? replacing)
    {
        var staging = new StagingRegistry(host, origin, this, replacing);
        try
        {
            foreach (var entryPoint in entryPoints) entryPoint.Register(staging);
        }
        finally
        {
            staging.Seal();
        }
        return staging;
    }

    /// <summary>Removes every component of a plugin (for example when its reload failed).</summary>
    internal void Remove(ComponentOrigin origin)
    {
        IReadOnlyList<ComponentDescriptor> removed;
        lock (_gate)
        {
            var old = _snapshot;
            removed = old.DescribeOrigin(origin);
            if (removed.Count == 0) return;
            _snapshot = old.Without(origin);
        }
        Changed?.Invoke(this, new ComponentsChangedEventArgs(origin, [], removed));
    }

    /// <summary>The name a new component may not take, with who has it; null when free.</summary>
    internal string? FindConflict(ComponentKind kind, string name, ComponentOrigin? ignoreOrigin)
    {
        var existing = _snapshot.Find(kind, name);
        if (existing is null || (ignoreOrigin is not null && existing.Value.Origin == ignoreOrigin)) return null;
        return $"the {kind.ToDisplayName()} name '{name}' is already taken by {existing.Value.Origin}";
    }

    /// <summary>
    /// Makes staged components visible, all or nothing; when the staging replaces a plugin, that plugin's current
    /// components go away in the same step.
    /// </summary>
    /// <exception cref="PluginRegistrationException">A registration error was recorded or a name was taken meanwhile.</exception>
    internal IReadOnlyList<ComponentDescriptor> Commit(StagingRegistry staging)
    {
        var replace = staging.Replacing;
        if (staging.Errors.Count > 0) throw new PluginRegistrationException(string.Join("; ", staging.Errors));
        IReadOnlyList<ComponentDescriptor> removed = [];
        lock (_gate)
        {
            // Check again under the lock: another plugin may have taken a name since the staging checked it.
            var errors = new List<string>();
            foreach (var c in staging.Components)
                if (FindConflict(c.Kind, c.Name, replace) is { } conflict) errors.Add(conflict);
            if (errors.Count > 0) throw new PluginRegistrationException(string.Join("; ", errors));

            var next = _snapshot;
            if (replace is not null)
            {
                removed = next.DescribeOrigin(replace);
                next = next.Without(replace);
            }
            _snapshot = next.With(staging.Components);
        }
        var added = staging.Components.Select(c => c.Describe()).ToArray();
        if (added.Length > 0 || removed.Count > 0)
            Changed?.Invoke(this, new ComponentsChangedEventArgs(staging.Origin, added, removed));
        return added;
    }

    private static RegisteredComponent<T>? Find<T>(ImmutableArray<RegisteredComponent<T>> list, string name) where T : class, IPluginComponent
    {
        if (string.IsNullOrEmpty(name)) return null;
        foreach (var c in list)
            if (string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)) return c;
        return null;
    }

    /// <summary>One staged component of any kind.</summary>
    internal readonly record struct StagedComponent(ComponentKind Kind, IPluginComponent Factory, string Name, string Version, string Description, ComponentOrigin Origin)
    {
        public ComponentDescriptor Describe() => new(Kind, Name, Version, Description);
    }

    private sealed record Snapshot(
        ImmutableArray<RegisteredComponent<IPiecePickerFactory>> Pickers,
        ImmutableArray<RegisteredComponent<IPeerSourceFactory>> PeerSources,
        ImmutableArray<RegisteredComponent<IStorageFactory>> Storages,
        ImmutableArray<RegisteredComponent<ITorrentSourceFactory>> TorrentSources)
    {
        public static Snapshot Empty { get; } = new([], [], [], []);

        public StagedComponent? Find(ComponentKind kind, string name) => kind switch
        {
            ComponentKind.Picker => Stage(ComponentRegistry.Find(Pickers, name)),
            ComponentKind.PeerSource => Stage(ComponentRegistry.Find(PeerSources, name)),
            ComponentKind.TorrentSource => Stage(ComponentRegistry.Find(TorrentSources, name)),
            _ => Stage(ComponentRegistry.Find(Storages, name)),
        };

        public IReadOnlyList<ComponentDescriptor> DescribeOrigin(ComponentOrigin origin) =>
            Pickers.Where(c => c.Origin == origin).Select(Describe)
                .Concat(PeerSources.Where(c => c.Origin == origin).Select(Describe))
                .Concat(Storages.Where(c => c.Origin == origin).Select(Describe))
                .Concat(TorrentSources.Where(c => c.Origin == origin).Select(Describe))
                .ToArray();

        public Snapshot Without(ComponentOrigin origin) => new(
            Pickers.RemoveAll(c => c.Origin == origin),
            PeerSources.RemoveAll(c => c.Origin == origin),
            Storages.RemoveAll(c => c.Origin == origin),
            TorrentSources.RemoveAll(c => c.Origin == origin));

        public Snapshot With(IEnumerable<StagedComponent> components)
        {
            var pickers = Pickers.ToBuilder();
            var sources = PeerSources.ToBuilder();
            var storages = Storages.ToBuilder();
            var feeds = TorrentSources.ToBuilder();
            foreach (var c in components)
            {
                switch (c.Factory)
                {
                    case IPiecePickerFactory p when c.Kind == ComponentKind.Picker:
                        pickers.Add(new(p, c.Kind, c.Name, c.Version, c.Description, c.Origin));
                        break;
                    case IPeerSourceFactory s when c.Kind == ComponentKind.PeerSource:
                        sources.Add(new(s, c.Kind, c.Name, c.Version, c.Description, c.Origin));
                        break;
                    case IStorageFactory s when c.Kind == ComponentKind.Storage:
                        storages.Add(new(s, c.Kind, c.Name, c.Version, c.Description, c.Origin));
                        break;
                    case ITorrentSourceFactory f when c.Kind == ComponentKind.TorrentSource:
                        feeds.Add(new(f, c.Kind, c.Name, c.Version, c.Description, c.Origin));
                        break;
                }
            }
            return new(pickers.ToImmutable(), sources.ToImmutable(), storages.ToImmutable(), feeds.ToImmutable());
        }

        private static ComponentDescriptor Describe<T>(RegisteredComponent<T> c) where T : class, IPluginComponent =>
            new(c.Kind, c.Name, c.Version, c.Description);

        private static StagedComponent? Stage<T>(RegisteredComponent<T>? c) where T : class, IPluginComponent =>
            c is null ? null : new StagedComponent(c.Kind, c.Factory, c.Name, c.Version, c.Description, c.Origin);
    }
}

/// <summary>What changed in a <see cref="ComponentRegistry"/>.</summary>
/// <param name="Origin">The plugin (or the built-ins) whose components changed.</param>
/// <param name="Added">Components registered now (after a hot reload: the new versions).</param>
/// <param name="Removed">Components no longer registered (after a hot reload: the old versions).</param>
public sealed record ComponentsChangedEventArgs(ComponentOrigin Origin, IReadOnlyList<ComponentDescriptor> Added, IReadOnlyList<ComponentDescriptor> Removed);
