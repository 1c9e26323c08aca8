namespace RTorrent.Abstractions;

/// <summary>
/// The entry point of a plugin assembly. The host creates one instance of every public, non-abstract class that
/// implements this interface and has a public parameterless constructor, then calls <see cref="Register"/> once.
/// </summary>
/// <remarks>
/// A plugin references only RTorrent.Abstractions. Everything it offers is registered here: any number of piece
/// pickers, peer sources and storage backends, each under a name that is unique among all loaded plugins.
/// </remarks>
public interface IRTorrentPlugin
{
    /// <summary>Registers the plugin's components with the host.</summary>
    /// <param name="registry">Where components are registered; valid only during this call.</param>
    void Register(IPluginRegistry registry);
}

/// <summary>Receives the components a plugin offers.</summary>
public interface IPluginRegistry
{
    /// <summary>Services the host offers to plugins (logging, contract version).</summary>
    IPluginHost Host { get; }

    /// <summary>Offers a piece picker that users can choose for a torrent.</summary>
    void AddPiecePicker(IPiecePickerFactory factory);

    /// <summary>Offers a peer source; sources are active for every torrent unless disabled.</summary>
    void AddPeerSource(IPeerSourceFactory factory);

    /// <summary>Offers a storage backend that users can choose for a torrent.</summary>
    void AddStorage(IStorageFactory factory);
}

/// <summary>What every registered component says about itself.</summary>
public interface IPluginComponent
{
    /// <summary>Unique name, used on the command line (<c>--picker NAME</c>) and saved in resume data. Case-insensitive.</summary>
    string Name { get; }

    /// <summary>Version of the component, free text such as <c>1.2.0</c>.</summary>
    string Version { get; }

    /// <summary>One line for users: what it does.</summary>
    string Description { get; }
}

/// <summary>Services the host gives to plugins.</summary>
public interface IPluginHost
{
    /// <summary>The version of the contracts the host implements; grows by addition only.</summary>
    Version ContractsVersion { get; }

    /// <summary>Writes a line to the program's log (and the torrent log where a torrent is named in the message).</summary>
    void Log(PluginLogLevel level, string message);
}

/// <summary>Severity of a plugin log line.</summary>
public enum PluginLogLevel
{
    /// <summary>Detail for debugging.</summary>
    Debug,
    /// <summary>Normal operation.</summary>
    Information,
    /// <summary>Something went wrong but work goes on.</summary>
    Warning,
    /// <summary>The component cannot do its job.</summary>
    Error,
}

/// <summary>Facts about the contracts assembly itself.</summary>
public static class PluginContracts
{
    /// <summary>
    /// The contracts' feature version. The assembly version stays 1.0.0.0 forever so that plugins built against
    /// any earlier contracts keep binding; this number says which additions a host has.
    /// </summary>
    public static Version Version { get; } = new(1, 0);
}
