using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// One registered component: its factory and where it came from. Name, version and description are read once at
/// registration, so a plugin whose getters later throw or change cannot confuse lookups or the UI.
/// </summary>
/// <typeparam name="TFactory">The factory contract.</typeparam>
public sealed class RegisteredComponent<TFactory> where TFactory : class, IPluginComponent
{
    internal RegisteredComponent(TFactory factory, ComponentKind kind, string name, string version, string description, ComponentOrigin origin)
    {
        Factory = factory;
        Kind = kind;
        Name = name;
        Version = version;
        Description = description;
        Origin = origin;
    }

    /// <summary>The factory the plugin registered (unguarded: wrap what it creates in the Guarded* types).</summary>
    public TFactory Factory { get; }

    /// <summary>What kind of component it is.</summary>
    public ComponentKind Kind { get; }

    /// <summary>The registered name (as the component spelled it; lookups ignore case).</summary>
    public string Name { get; }

    /// <summary>The component's version text.</summary>
    public string Version { get; }

    /// <summary>The component's one-line description.</summary>
    public string Description { get; }

    /// <summary>Built into the engine, or from which plugin.</summary>
    public ComponentOrigin Origin { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Kind.ToDisplayName()} '{Name}' {Version} ({Origin})";
}

/// <summary>Where a component comes from: the engine itself, or a plugin assembly.</summary>
/// <param name="PluginName">The plugin's name (its folder name), or null for built-ins.</param>
/// <param name="AssemblyPath">Full path of the plugin DLL, or null for built-ins.</param>
public sealed record ComponentOrigin(string? PluginName, string? AssemblyPath)
{
    /// <summary>The origin of the engine's own components.</summary>
    public static ComponentOrigin BuiltIn { get; } = new(null, null);

    /// <summary>Whether the component is part of the engine.</summary>
    public bool IsBuiltIn => AssemblyPath is null;

    /// <inheritdoc />
    public override string ToString() => IsBuiltIn ? "built-in" : $"plugin {PluginName} at {AssemblyPath}";
}
