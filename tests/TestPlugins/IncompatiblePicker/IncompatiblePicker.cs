using RTorrent.Abstractions;

namespace RTorrent.TestPlugins;

/// <summary>Correct code, but compiled against RTorrent.Abstractions 2.0.0.0.</summary>
public sealed class IncompatiblePickerPlugin : IRTorrentPlugin
{
    public void Register(IPluginRegistry registry) => registry.AddPiecePicker(new Factory());

    private sealed class Factory : IPiecePickerFactory
    {
        public string Name => "incompatible";
        public string Version => "2.0";
        public string Description => "Built against another contracts version.";
        public IPiecePicker Create(PiecePickerContext context) => new Picker();
    }

    private sealed class Picker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked) => 0;
    }
}
