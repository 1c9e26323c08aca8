using RTorrent.Abstractions;

namespace RTorrent.TestPlugins;

/// <summary>Registers one picker, then throws: nothing of it may stay registered.</summary>
public sealed class ThrowingRegisterPlugin : IRTorrentPlugin
{
    public void Register(IPluginRegistry registry)
    {
        registry.AddPiecePicker(new Factory());
        throw new InvalidOperationException("configuration file missing");
    }

    private sealed class Factory : IPiecePickerFactory
    {
        public string Name => "half-registered";
        public string Version => "1.0";
        public string Description => "Registered before Register threw.";
        public IPiecePicker Create(PiecePickerContext context) => throw new NotSupportedException();
    }
}
