using RTorrent.Abstractions;

namespace MyPlugin;

/// <summary>The entry point: RTorrent creates it and calls Register once at start.</summary>
public sealed class MyPluginEntry : IRTorrentPlugin
{
    public void Register(IPluginRegistry registry)
    {
        // Only register here; open files or sockets when a factory creates its first component.
        registry.AddPiecePicker(new MyPickerFactory(registry.Host));
    }
}

/// <summary>Creates one picker per torrent.</summary>
public sealed class MyPickerFactory(IPluginHost host) : IPiecePickerFactory
{
    public string Name => "my-picker";                 // what users type: --picker my-picker (never change it)
    public string Version => "1.0.0";
    public string Description => "Downloads pieces in index order.";

    public IPiecePicker Create(PiecePickerContext context)
    {
        host.Log(PluginLogLevel.Debug, $"my-picker: new torrent with {context.PieceCount} pieces");
        return new MyPicker();
    }
}

/// <summary>
/// Ranks pieces for one peer. Called on the engine loop: be fast, do not block, return only pieces that are wanted
/// and that the peer has, each once. The engine disables a picker that breaks these rules.
/// </summary>
public sealed class MyPicker : IPiecePicker
{
    public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
    {
        var count = 0;
        for (var piece = swarm.Wanted.NextSet(0); piece >= 0 && count < ranked.Length; piece = swarm.Wanted.NextSet(piece + 1))
            if (peer.Pieces[piece]) ranked[count++] = piece;
        return count;
    }
}
