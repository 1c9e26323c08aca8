using RTorrent.Engine.Plugins;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>The FaultyComponents test plugin loaded from its DLL through the catalog, shared by the guard tests.</summary>
public sealed class LoadedFaultyComponents : IDisposable
{
    private readonly PluginFolder _folder = new();
    private readonly PluginCatalog _catalog;

    public LoadedFaultyComponents()
    {
        Registry = new ComponentRegistry();
        Registry.RegisterBuiltIns(new BuiltIns());
        _folder.Add("FaultyComponents");
        _catalog = new PluginCatalog(Registry, new PluginCatalogOptions { Directories = [new PluginDirectorySpec(_folder.Path, "extra")] });
        var report = _catalog.LoadAll();
        var result = Assert.Single(report.Plugins);
        Assert.True(result.IsLoaded, result.ToString());
    }

    public ComponentRegistry Registry { get; }

    public IPiecePickerFactory Picker(string name) => Registry.GetPicker(name)?.Factory ?? throw new InvalidOperationException(name + " not loaded");

    public IPeerSourceFactory Source(string name) => Registry.GetPeerSource(name)?.Factory ?? throw new InvalidOperationException(name + " not loaded");

    public IStorageFactory Storage(string name) => Registry.GetStorage(name)?.Factory ?? throw new InvalidOperationException(name + " not loaded");

    public void Dispose()
    {
        _catalog.Dispose();
        _folder.Dispose();
    }
}
