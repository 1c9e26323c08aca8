using System.Diagnostics;
using System.Reflection;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;
using RTorrent.Engine.Session;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// Finds plugins (<c>plugins/&lt;Name&gt;/&lt;Name&gt;.dll</c> in each searched directory), loads each into its own
/// load context with McMaster.NETCore.Plugins (the contracts shared with the program, everything else private to the
/// plugin), creates its <see cref="IRTorrentPlugin"/> entry points and registers their components in a
/// <see cref="ComponentRegistry"/>. A folder that is not a usable plugin gets one line in the
/// <see cref="PluginLoadReport"/> and the log, and loading goes on with the next.
/// </summary>
/// <remarks>
/// Register the engine's built-ins in the registry before <see cref="LoadAll"/> so that plugins cannot take their
/// names. Dispose the catalog when the program exits (it stops hot-reload watchers and releases load contexts).
/// </remarks>
public sealed class PluginCatalog : IDisposable
{
    /// <summary>The types shared with plugins: the whole contracts assembly, so that <c>obj is IContract</c> holds.</summary>
    private static readonly Type[] SharedTypes = [typeof(IRTorrentPlugin)];

    private readonly ComponentRegistry _registry;
    private readonly PluginCatalogOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<LoadedPlugin> _loaded = [];
    private volatile PluginLoadReport _report = PluginLoadReport.Empty;
    private bool _disposed;
    private int _loadedOnce;

    /// <summary>Creates a catalog that registers into <paramref name="registry"/>.</summary>
    public PluginCatalog(ComponentRegistry registry, PluginCatalogOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _options = options ?? new PluginCatalogOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<PluginCatalog>();
    }

    /// <summary>The registry plugins register into.</summary>
    public ComponentRegistry Registry => _registry;

    /// <summary>The latest report: what <see cref="LoadAll"/> found, updated by hot reloads.</summary>
    public PluginLoadReport Report => _report;

    /// <summary>
    /// Raised after a hot reload (on a file-watcher thread: marshal to the UI or engine loop). The registry's
    /// <see cref="ComponentRegistry.Changed"/> has already told which picker names were replaced; torrents using
    /// them should create new pickers from the new factories.
    /// </summary>
    public event EventHandler<PluginHotReloadedEventArgs>? PluginReloaded;

    /// <summary>Searches every directory in the options and loads what it finds.</summary>
    /// <exception cref="InvalidOperationException">Called a second time: a catalog loads once (plugins cannot be unloaded from a running engine).</exception>
    public PluginLoadReport LoadAll()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _loadedOnce, 1) != 0)
            throw new InvalidOperationException("The plugin catalog has already loaded its plugins; create a new catalog and registry to load again.");
        var directories = new List<PluginDirectory>();
        var results = new List<PluginLoadResult>();
        foreach (var spec in _options.Directories)
        {
            var path = Path.GetFullPath(spec.Path);
            var exists = Directory.Exists(path);
            directories.Add(new PluginDirectory(path, exists, spec.Source));
            if (!exists)
            {
                _logger.LogDebug("No plugins folder at {Directory}", path);
                continue;
            }
            foreach (var result in ScanDirectory(path, results))
            {
                results.Add(result);
                if (result.IsLoaded) _logger.LogInformation("Loaded plugin {Plugin}", result);
                // The report returned lists it; a session keeps it in its log from there.
                else _logger.LogWarning(EngineLogEvents.AlreadyKept, "Plugin {Name} in {Folder} is not usable: {Reason}", result.Name, result.Folder, result.Error);
            }
        }
        var report = new PluginLoadReport(directories, results);
        _report = report;
        return report;
    }

    private IEnumerable<PluginLoadResult> ScanDirectory(string directory, IReadOnlyList<PluginLoadResult> earlier)
    {
        IEnumerable<string> folders, strayDlls;
        try
        {
            folders = Directory.GetDirectories(directory).Order(StringComparer.OrdinalIgnoreCase).ToArray();
            strayDlls = Directory.GetFiles(directory, "*.dll").Order(StringComparer.OrdinalIgnoreCase).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Cannot list plugins folder {Directory}: {Reason}", directory, e.Message);
            yield break;
        }

        foreach (var dll in strayDlls)
        {
            var name = Path.GetFileNameWithoutExtension(dll);
            yield return Failed(name, directory, dll, null,
                $"a plugin goes in its own folder: move {Path.GetFileName(dll)} (with its dependencies) to {Path.Combine(directory, name, name + ".dll")}");
        }

        foreach (var folder in folders)
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith('.')) continue; // hidden folders (editors, version control) are not plugins
            var dll = Path.Combine(folder, name + ".dll");
            if (!File.Exists(dll))
            {
                yield return Failed(name, folder, null, null, MissingAssemblyMessage(folder, name));
                continue;
            }
            var same = earlier.FirstOrDefault(p => p.IsLoaded && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            if (same is not null)
            {
                yield return Failed(name, folder, dll, ReadVersion(dll),
                    $"skipped: a plugin named {same.Name} was already loaded from {same.Folder}");
                continue;
            }
            yield return Load(name, folder, dll);
        }
    }

    private static string MissingAssemblyMessage(string folder, string name)
    {
        string[] dlls;
        try
        {
            dlls = Directory.GetFiles(folder, "*.dll").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read the folder: {e.Message}";
        }
        return dlls.Length == 0
            ? $"no {name}.dll in the folder (a plugin folder holds <Name>/<Name>.dll and its dependencies)"
            : $"no {name}.dll in the folder (found {string.Join(", ", dlls.Take(5))}): the plugin's assembly must be named like its folder";
    }

    private PluginLoadResult Load(string name, string folder, string dll)
    {
        var version = ReadVersion(dll);
        var origin = new ComponentOrigin(name, dll);
        var host = new PluginHost(_loggerFactory.CreateLogger("RTorrent.Plugins." + name), _options.Settings);
        PluginLoader? loader = null;
        try
        {
            loader = CreateLoader(dll, _options.EnableHotReload);
            var staging = _registry.Stage(CreateEntryPoints(loader), origin, host, replacing: null);
            var hotReload = _options.EnableHotReload && staging.Kinds.All(k => k == ComponentKind.Picker);
            if (_options.EnableHotReload && !hotReload)
            {
                // Only pickers are swapped at run time. This plugin offers more, so load it again, for good: its
                // components must not live in a context that a file change would unload.
                _logger.LogDebug("Plugin {Name} offers more than pickers; it is not hot-reloaded", name);
                loader.Dispose();
                loader = null;
                loader = CreateLoader(dll, hotReload: false);
                staging = _registry.Stage(CreateEntryPoints(loader), origin, host, replacing: null);
            }
            var components = _registry.Commit(staging);
            var result = new PluginLoadResult(name, folder, dll, version, PluginLoadStatus.Loaded, null, components) { HotReload = hotReload };
            var plugin = new LoadedPlugin(loader, origin, host, result);
            if (hotReload) loader.Reloaded += (_, e) => OnReloaded(plugin, e.Loader);
            lock (_gate) _loaded.Add(plugin);
            return result;
        }
        catch (Exception e)
        {
            loader?.Dispose();
            _logger.LogDebug(e, "Plugin {Name} failed to load", name);
            return Failed(name, folder, dll, version, PluginLoadErrors.Describe(e));
        }
    }

    private PluginLoader CreateLoader(string dll, bool hotReload) =>
        PluginLoader.CreateFromAssemblyFile(dll, isUnloadable: hotReload, sharedTypes: SharedTypes, configure: config =>
        {
            config.EnableHotReload = hotReload;
            config.ReloadDelay = _options.ReloadDelay;
            // A hot-reloaded DLL is read into memory: overwriting a memory-mapped image in place would crash us.
            config.LoadInMemory = hotReload;
        });

    /// <summary>Creates one instance of every public concrete <see cref="IRTorrentPlugin"/> in the plugin's main assembly.</summary>
    private static IReadOnlyList<IRTorrentPlugin> CreateEntryPoints(PluginLoader loader)
    {
        var assembly = loader.LoadDefaultAssembly();
        var contract = typeof(IRTorrentPlugin);
        CheckContractsReference(assembly, contract.Assembly.GetName());
        var types = assembly.GetTypes();
        var entryTypes = types.Where(t => t.IsClass && !t.IsAbstract && (t.IsPublic || t.IsNestedPublic) && contract.IsAssignableFrom(t)).ToArray();
        if (entryTypes.Length == 0)
        {
            // A class implementing an interface that only looks like ours means the contracts were not shared.
            var lookalike = types.FirstOrDefault(t => t.GetInterfaces().Any(i => i.FullName == contract.FullName && i != contract));
            throw new PluginLoadException(lookalike is not null
                ? $"{lookalike.FullName} implements its own copy of {contract.FullName}: reference RTorrent.Abstractions with Private=false and ExcludeAssets=runtime, and do not ship RTorrent.Abstractions.dll"
                : $"no entry point: {assembly.GetName().Name} has no public class implementing {contract.FullName}");
        }
        var entryPoints = new List<IRTorrentPlugin>();
        foreach (var type in entryTypes)
        {
            if (type.GetConstructor(Type.EmptyTypes) is null)
                throw new PluginLoadException($"entry point {type.FullName} has no public parameterless constructor");
            try
            {
                entryPoints.Add((IRTorrentPlugin)Activator.CreateInstance(type)!);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw new PluginLoadException(PluginLoadErrors.DescribeThrown($"the constructor of {type.FullName}", e.InnerException), e.InnerException);
            }
        }
        return entryPoints.Select(p => (IRTorrentPlugin)new ReportingEntryPoint(p)).ToArray();
    }

    /// <summary>
    /// Refuses a plugin compiled against another assembly version of the contracts. The load context would bind it
    /// to ours anyway (the contracts are shared by name), and it might even run until it touches a member we lack;
    /// failing at load with the reason is better than a MissingMethodException in the middle of a download.
    /// </summary>
    private static void CheckContractsReference(Assembly plugin, AssemblyName contracts)
    {
        var reference = plugin.GetReferencedAssemblies()
            .FirstOrDefault(r => string.Equals(r.Name, contracts.Name, StringComparison.OrdinalIgnoreCase));
        if (reference?.Version is { } version && version != contracts.Version)
            throw new PluginLoadException(
                $"built against RTorrent.Abstractions {version}, but this program has {contracts.Version} (the contracts assembly version never changes): rebuild the plugin against this program's RTorrent.Abstractions");
    }

    private void OnReloaded(LoadedPlugin plugin, PluginLoader loader)
    {
        // Runs on McMaster's file-watcher thread; the old load context has already been unloaded.
        lock (_gate)
        {
            if (_disposed) return;
            var old = plugin.Result;
            PluginLoadResult updated;
            try
            {
                var staging = _registry.Stage(CreateEntryPoints(loader), plugin.Origin, plugin.Host, replacing: plugin.Origin);
                if (staging.Kinds.Any(k => k != ComponentKind.Picker))
                    throw new PluginLoadException("the new version offers more than piece pickers, which are only loaded at start: restart the program to use it");
                var components = _registry.Commit(staging);
                updated = old with { Version = ReadVersion(old.AssemblyPath!), Components = components, Status = PluginLoadStatus.Loaded, Error = null };
                _logger.LogInformation("Reloaded plugin {Plugin}", updated);
            }
            catch (Exception e)
            {
                _registry.Remove(plugin.Origin);
                updated = old with { Status = PluginLoadStatus.Failed, Error = "reload failed: " + PluginLoadErrors.Describe(e), Components = [] };
                _logger.LogWarning("Plugin {Name} in {Folder} could not be reloaded: {Reason}", old.Name, old.Folder, updated.Error);
            }
            plugin.Result = updated;
            var report = _report;
            _report = report with { Plugins = report.Plugins.Select(p => ReferenceEquals(p, old) ? updated : p).ToArray() };
            PluginReloaded?.Invoke(this, new PluginHotReloadedEventArgs(old, updated));
        }
    }

    private static PluginLoadResult Failed(string name, string folder, string? dll, string? version, string error) =>
        new(name, folder, dll, version, PluginLoadStatus.Failed, error, []);

    /// <summary>The plugin's version without loading it: the informational version (minus any "+commit"), else the assembly version.</summary>
    internal static string? ReadVersion(string dll)
    {
        try
        {
            var product = FileVersionInfo.GetVersionInfo(dll).ProductVersion;
            if (!string.IsNullOrWhiteSpace(product))
            {
                var plus = product.IndexOf('+');
                return plus > 0 ? product[..plus] : product;
            }
            return AssemblyName.GetAssemblyName(dll).Version?.ToString();
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Stops hot-reload watchers and disposes the plugin loaders.</summary>
    public void Dispose()
    {
        LoadedPlugin[] loaded;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            loaded = _loaded.ToArray();
            _loaded.Clear();
        }
        foreach (var plugin in loaded) plugin.Loader.Dispose();
    }

    private sealed class LoadedPlugin(PluginLoader loader, ComponentOrigin origin, IPluginHost host, PluginLoadResult result)
    {
        public PluginLoader Loader { get; } = loader;
        public ComponentOrigin Origin { get; } = origin;
        public IPluginHost Host { get; } = host;
        public PluginLoadResult Result { get; set; } = result;
    }

    /// <summary>Names the entry point in the message when its Register throws, so the report says whose code failed.</summary>
    private sealed class ReportingEntryPoint(IRTorrentPlugin inner) : IRTorrentPlugin
    {
        public void Register(IPluginRegistry registry)
        {
            try
            {
                inner.Register(registry);
            }
            catch (Exception e) when (e is not PluginRegistrationException)
            {
                throw new PluginLoadException(PluginLoadErrors.DescribeThrown($"{inner.GetType().FullName}.Register", e), e);
            }
        }
    }
}

/// <summary>A hot-reloaded plugin: what it was before and what it is now.</summary>
/// <param name="Before">The report entry before the reload.</param>
/// <param name="After">The entry after it (failed when the new version could not be used: its pickers are then gone).</param>
public sealed record PluginHotReloadedEventArgs(PluginLoadResult Before, PluginLoadResult After);
