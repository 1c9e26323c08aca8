namespace RTorrent.Engine.Plugins;

/// <summary>Where the catalog looks for plugins and how it loads them.</summary>
public sealed class PluginCatalogOptions
{
    /// <summary>
    /// The directories to search, in order: a plugin name found in an earlier directory wins over the same name
    /// later. Defaults to <see cref="DefaultDirectories"/> with no extra folders.
    /// </summary>
    public IReadOnlyList<PluginDirectorySpec> Directories { get; init; } = DefaultDirectories();

    /// <summary>
    /// Watches plugins that offer only piece pickers and reloads them when their DLL changes (for plugin authors).
    /// Plugins offering storage or peer sources are always loaded for the life of the process: they hold files and
    /// sockets, and swapping them under a running torrent could lose data.
    /// </summary>
    public bool EnableHotReload { get; init; }

    /// <summary>How long a changed DLL must stay unchanged before it is reloaded (builds write files in steps).</summary>
    public TimeSpan ReloadDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Plugin settings (see <see cref="Abstractions.IPluginHost.GetSetting"/>), by key; may be null.</summary>
    public IReadOnlyDictionary<string, string>? Settings { get; init; }

    /// <summary>The <c>plugins</c> folder beside the program (where the sample plugins are built to).</summary>
    public static string ProgramDirectory => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>
    /// The user's plugins folder: <c>$XDG_DATA_HOME/rtorrent/plugins</c>, or <c>~/.local/share/rtorrent/plugins</c>
    /// when XDG_DATA_HOME is unset or not absolute (as the XDG base directory specification says).
    /// </summary>
    /// <param name="environment">Reads an environment variable; the process environment when null.</param>
    public static string UserDirectory(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var dataHome = environment("XDG_DATA_HOME");
        if (string.IsNullOrWhiteSpace(dataHome) || !Path.IsPathRooted(dataHome))
        {
            var home = environment("HOME");
            if (string.IsNullOrWhiteSpace(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            dataHome = Path.Combine(home, ".local", "share");
        }
        return Path.Combine(dataHome, "rtorrent", "plugins");
    }

    /// <summary>The program's folder, then the user's, then each extra folder (<c>--plugins DIR</c>).</summary>
    /// <param name="extra">Extra folders; relative ones are taken from the current directory.</param>
    /// <param name="environment">Reads an environment variable; the process environment when null.</param>
    public static IReadOnlyList<PluginDirectorySpec> DefaultDirectories(IEnumerable<string>? extra = null, Func<string, string?>? environment = null)
    {
        var list = new List<PluginDirectorySpec>
        {
            new(ProgramDirectory, "program"),
            new(UserDirectory(environment), "user"),
        };
        foreach (var dir in extra ?? [])
            if (!string.IsNullOrWhiteSpace(dir)) list.Add(new(Path.GetFullPath(dir), "extra"));
        // The same folder named twice (e.g. --plugins pointing at the user's folder) is searched once.
        return list.DistinctBy(d => Path.TrimEndingDirectorySeparator(d.Path)).ToArray();
    }
}

/// <summary>A directory to search for plugins.</summary>
/// <param name="Path">The directory.</param>
/// <param name="Source">Why it is searched, shown to users: <c>program</c>, <c>user</c> or <c>extra</c>.</param>
public sealed record PluginDirectorySpec(string Path, string Source);
