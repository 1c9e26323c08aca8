namespace RTorrent.Engine.Plugins;

/// <summary>The kinds of component a plugin (or the engine) can register.</summary>
public enum ComponentKind
{
    /// <summary>A piece picker (<see cref="Abstractions.IPiecePickerFactory"/>).</summary>
    Picker,
    /// <summary>A peer source (<see cref="Abstractions.IPeerSourceFactory"/>).</summary>
    PeerSource,
    /// <summary>A storage backend (<see cref="Abstractions.IStorageFactory"/>).</summary>
    Storage,
    /// <summary>A torrent source: a reader of feeds (<see cref="Abstractions.ITorrentSourceFactory"/>, contracts 1.1).</summary>
    TorrentSource,
}

/// <summary>How component kinds are spelled for users (command line, logs, <c>rtorrent plugins</c>).</summary>
public static class ComponentKindNames
{
    /// <summary>The user-facing name: <c>picker</c>, <c>peer-source</c>, <c>storage</c> or <c>torrent-source</c>.</summary>
    public static string ToDisplayName(this ComponentKind kind) => kind switch
    {
        ComponentKind.Picker => "picker",
        ComponentKind.PeerSource => "peer-source",
        ComponentKind.Storage => "storage",
        ComponentKind.TorrentSource => "torrent-source",
        _ => kind.ToString(),
    };
}
