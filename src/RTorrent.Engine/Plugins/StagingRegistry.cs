using System.Text.RegularExpressions;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// The <see cref="IPluginRegistry"/> a plugin sees during <see cref="IRTorrentPlugin.Register"/>: it validates each
/// component and keeps it aside until the whole plugin registered successfully. Errors are both thrown (so a plugin
/// author sees them at once) and remembered (so a plugin that swallows the exception still fails as a whole).
/// </summary>
internal sealed partial class StagingRegistry : IPluginRegistry
{
    private readonly ComponentRegistry _registry;
    private readonly List<ComponentRegistry.StagedComponent> _components = [];
    private readonly List<string> _errors = [];
    private bool _sealed;

    public StagingRegistry(IPluginHost host, ComponentOrigin origin, ComponentRegistry registry, ComponentOrigin? ignoreOrigin = null)
    {
        Host = host;
        Origin = origin;
        _registry = registry;
        Replacing = ignoreOrigin;
    }

    public IPluginHost Host { get; }

    public ComponentOrigin Origin { get; }

    public IReadOnlyList<ComponentRegistry.StagedComponent> Components => _components;

    public IReadOnlyList<string> Errors => _errors;

    /// <summary>The plugin whose components this staging replaces (hot reload), or null.</summary>
    public ComponentOrigin? Replacing { get; }

    /// <summary>The kinds staged so far.</summary>
    public IEnumerable<ComponentKind> Kinds => _components.Select(c => c.Kind).Distinct();

    public void AddPiecePicker(IPiecePickerFactory factory) => Add(ComponentKind.Picker, factory);

    public void AddPeerSource(IPeerSourceFactory factory) => Add(ComponentKind.PeerSource, factory);

    public void AddStorage(IStorageFactory factory) => Add(ComponentKind.Storage, factory);

    public void AddTorrentSource(ITorrentSourceFactory factory) => Add(ComponentKind.TorrentSource, factory);

    public void Seal() => _sealed = true;

    /// <summary>Whether a name is acceptable on a command line and in resume data.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    private void Add(ComponentKind kind, IPluginComponent? factory)
    {
        if (_sealed)
            throw new InvalidOperationException("The plugin registry is only valid during IRTorrentPlugin.Register; register every component there.");
        if (factory is null)
        {
            Fail($"a null {kind.ToDisplayName()} factory was registered");
            return;
        }

        // The getters are plugin code: read each once, here, where a throwing getter fails the registration cleanly.
        var name = factory.Name;
        var version = string.IsNullOrWhiteSpace(factory.Version) ? "unknown" : factory.Version.Trim();
        var description = (factory.Description ?? "").Trim();

        if (!IsValidName(name))
        {
            Fail(string.IsNullOrWhiteSpace(name)
                ? $"{factory.GetType().FullName} registered a {kind.ToDisplayName()} with an empty name"
                : $"the {kind.ToDisplayName()} name '{name}' is invalid: use 1 to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit");
            return;
        }
        if (_components.Any(c => c.Kind == kind && string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            Fail($"the {kind.ToDisplayName()} name '{name}' is registered twice by the same plugin");
            return;
        }
        if (_registry.FindConflict(kind, name, Replacing) is { } conflict)
        {
            Fail(conflict);
            return;
        }
        _components.Add(new(kind, factory, name, version, description, Origin));
    }

    private void Fail(string error)
    {
        _errors.Add(error);
        throw new PluginRegistrationException(error);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
