using RTorrent.Abstractions;
using RTorrent.TestPlugins.Helper;

namespace RTorrent.TestPlugins;

/// <summary>Needs MissingDependencyHelper.dll beside it; the test removes that file.</summary>
public sealed class MissingDependencyPlugin : IRTorrentPlugin
{
    private readonly Greeting _greeting = new();

    public void Register(IPluginRegistry registry) => registry.AddPiecePicker(new Factory(_greeting.Text));

    private sealed class Factory(string text) : IPiecePickerFactory
    {
        public string Name => "needs-helper";
        public string Version => "1.0";
        public string Description => text;
        public IPiecePicker Create(PiecePickerContext context) => throw new NotSupportedException();
    }
}
