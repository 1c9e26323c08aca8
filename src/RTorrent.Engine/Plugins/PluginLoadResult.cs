namespace RTorrent.Engine.Plugins;

/// <summary>Whether a plugin folder became usable.</summary>
public enum PluginLoadStatus
{
    /// <summary>The plugin loaded and its components are registered.</summary>
    Loaded,
    /// <summary>The plugin could not be used; <see cref="PluginLoadResult.Error"/> says why.</summary>
    Failed,
}

/// <summary>What became of one plugin folder (or stray file) found in a plugins directory.</summary>
/// <param name="Name">The plugin's name: its folder name (or the stray file's name).</param>
/// <param name="Folder">The plugin's folder (full path).</param>
/// <param name="AssemblyPath">The plugin DLL (full path), or null when the folder has none.</param>
/// <param name="Version">The plugin assembly's version (informational version when it has one), or null when unreadable.</param>
/// <param name="Status">Loaded or failed.</param>
/// <param name="Error">Why it failed, in one line a user understands; null when loaded.</param>
/// <param name="Components">What it registered (empty when failed).</param>
public sealed record PluginLoadResult(
    string Name,
    string Folder,
    string? AssemblyPath,
    string? Version,
    PluginLoadStatus Status,
    string? Error,
    IReadOnlyList<ComponentDescriptor> Components)
{
    /// <summary>Whether the plugin loaded.</summary>
    public bool IsLoaded => Status == PluginLoadStatus.Loaded;

    /// <summary>
    /// Whether the catalog watches the plugin's DLL and reloads it when it changes (hot reload is on and the plugin
    /// offers only pickers).
    /// </summary>
    public bool HotReload { get; init; }

    /// <summary>The kinds of component it registered, in kind order.</summary>
    public IReadOnlyList<ComponentKind> Kinds => Components.Select(c => c.Kind).Distinct().Order().ToArray();

    /// <summary>One line for a log.</summary>
    public override string ToString() => IsLoaded
        ? $"{Name} {Version} ({string.Join(", ", Components.Select(c => $"{c.Kind.ToDisplayName()} '{c.Name}'"))}) from {Folder}"
        : $"{Name} in {Folder} failed: {Error}";
}

/// <summary>What a scan of the plugin directories found.</summary>
/// <param name="Directories">The directories searched, in order, and whether each exists.</param>
/// <param name="Plugins">One entry per plugin folder or stray file, in the order they were found.</param>
public sealed record PluginLoadReport(IReadOnlyList<PluginDirectory> Directories, IReadOnlyList<PluginLoadResult> Plugins)
{
    /// <summary>An empty report (nothing searched yet).</summary>
    public static PluginLoadReport Empty { get; } = new([], []);

    /// <summary>The plugins that loaded.</summary>
    public IEnumerable<PluginLoadResult> Loaded => Plugins.Where(p => p.IsLoaded);

    /// <summary>The plugins that failed.</summary>
    public IEnumerable<PluginLoadResult> Failed => Plugins.Where(p => !p.IsLoaded);

    /// <summary>The entry for a plugin name (any case), or null.</summary>
    public PluginLoadResult? Find(string name) =>
        Plugins.FirstOrDefault(p => p.IsLoaded && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? Plugins.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A directory searched for plugins.</summary>
/// <param name="Path">Full path.</param>
/// <param name="Exists">Whether it existed when searched.</param>
/// <param name="Source">Why it was searched: <c>program</c>, <c>user</c> or <c>extra</c>.</param>
public sealed record PluginDirectory(string Path, bool Exists, string Source);
