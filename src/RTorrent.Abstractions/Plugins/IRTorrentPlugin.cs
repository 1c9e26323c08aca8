namespace RTorrent.Abstractions;

/// <summary>
/// The entry point of a plugin assembly. The host creates one instance of every public, non-abstract class that
/// implements this interface and has a public parameterless constructor, then calls <see cref="Register"/> once.
/// </summary>
/// <remarks>
/// <para>
/// A plugin references only RTorrent.Abstractions. Everything it offers is registered here: any number of piece
/// pickers, peer sources, storage backends and torrent sources, each under a name that is unique among all components of the same
/// kind (the engine's built-ins included: <c>rarest-first</c>, <c>file</c>, <c>tracker</c>, <c>dht</c>, <c>pex</c>, <c>rss</c>).
/// </para>
/// <para>
/// Registration is all or nothing: if <see cref="Register"/> throws, or one of the names is invalid or taken, none of
/// the plugin's components is registered and the plugin is reported as failed. <see cref="Register"/> should only
/// create factories and register them; start threads, sockets or files lazily (when a factory creates its first
/// component), because the host may call <see cref="Register"/> on a fresh instance again (hot reload) and drop an
/// instance without using it.
/// </para>
/// </remarks>
public interface IRTorrentPlugin
{
    /// <summary>Registers the plugin's components with the host.</summary>
    /// <param name="registry">
    /// Where components are registered; valid only during this call. <see cref="IPluginRegistry.Host"/> may be kept
    /// for the plugin's lifetime (for logging and settings).
    /// </param>
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

    /// <summary>Offers a torrent source: a reader of feeds that users name in a feed's configuration.</summary>
    /// <remarks>
    /// Added in contracts 1.1: check <c>Host.ContractsVersion &gt;= new Version(1, 1)</c> before calling it. The default
    /// implementation (an older host, or a test fake) refuses with <see cref="NotSupportedException"/>.
    /// </remarks>
    void AddTorrentSource(ITorrentSourceFactory factory) =>
        throw new NotSupportedException("This host does not take torrent sources (they need contracts 1.1).");
}

/// <summary>What every registered component says about itself.</summary>
public interface IPluginComponent
{
    /// <summary>
    /// Unique name among components of the same kind, used on the command line (<c>--picker NAME</c>) and saved in
    /// resume data, so it must never change between versions. Case-insensitive; 1 to 64 characters among ASCII
    /// letters, digits, '-', '_' and '.' (for example <c>sequential</c>, <c>lsd</c>, <c>memory</c>).
    /// </summary>
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

    /// <summary>
    /// Reads a plugin setting, or returns null when it is not set. Keys are, by convention,
    /// <c>&lt;component-name&gt;.&lt;setting&gt;</c> in lower case (for example <c>lsd.port</c>). The host looks in its
    /// settings first, then in the environment variable <c>RTORRENT_&lt;KEY&gt;</c> (upper case, '.' and '-' become '_',
    /// so <c>lsd.port</c> is <c>RTORRENT_LSD_PORT</c>). A plugin parses the value itself and falls back to its default
    /// (with a warning through <see cref="Log"/>) when it is malformed.
    /// </summary>
    /// <remarks>Added in contracts 1.0; the default implementation (no settings) keeps older hosts and test fakes working.</remarks>
    string? GetSetting(string key) => null;
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
    /// <remarks>1.0: pickers, peer sources, storage. 1.1: torrent sources (<see cref="ITorrentSourceFactory"/>).</remarks>
    public static Version Version { get; } = new(1, 1);
}
