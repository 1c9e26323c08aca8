using RTorrent.Abstractions;

namespace RTorrent.TestPlugins;

/// <summary>Registers a storage and a picker named like the engine's built-in picker.</summary>
public sealed class DuplicateNamePlugin : IRTorrentPlugin
{
    public void Register(IPluginRegistry registry)
    {
        registry.AddStorage(new Storage());
        registry.AddPiecePicker(new Picker());
    }

    private sealed class Picker : IPiecePickerFactory
    {
        public string Name => "Rarest-First";
        public string Version => "1.0";
        public string Description => "Takes a built-in name.";
        public IPiecePicker Create(PiecePickerContext context) => throw new NotSupportedException();
    }

    private sealed class Storage : IStorageFactory
    {
        public string Name => "duplicate-storage";
        public string Version => "1.0";
        public string Description => "Fine on its own, but its plugin fails as a whole.";
        public ITorrentStorage Open(StorageContext context) => throw new NotSupportedException();
    }
}
