using RTorrent.Abstractions;

namespace RTorrent.TestPlugins;

public sealed class MismatchedPickerPlugin : IRTorrentPlugin
{
    public void Register(IPluginRegistry registry) => registry.AddPiecePicker(new Factory());

    private sealed class Factory : IPiecePickerFactory
    {
        public string Name => "mismatched";
        public string Version => "1.0";
        public string Description => "Built against contracts with a member missing.";
        public IPiecePicker Create(PiecePickerContext context) => new Picker();
    }

    public sealed class Picker : IPiecePicker
    {
    }
}
