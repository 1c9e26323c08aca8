using RTorrent.Engine.Plugins;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>A picker plugin's DLL is replaced while loaded; the catalog swaps its factories in the registry.</summary>
public sealed class HotReloadTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly PluginFolder _folder = new();
    private readonly ComponentRegistry _registry = new();
    private readonly PluginCatalog _catalog;

    public HotReloadTests()
    {
        _registry.RegisterBuiltIns(new BuiltIns());
        _folder.Add("ReloadablePicker");
        _folder.Add("MemoryStorage");
        _catalog = new PluginCatalog(_registry, new PluginCatalogOptions
        {
            Directories = [new PluginDirectorySpec(_folder.Path, "extra")],
            EnableHotReload = true,
            ReloadDelay = TimeSpan.FromMilliseconds(100),
        });
    }

    public void Dispose()
    {
        _catalog.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_changed_picker_plugin_is_reloaded_and_its_new_factory_replaces_the_old()
    {
        var report = _catalog.LoadAll();
        var before = _registry.GetPicker("reloadable")!;
        Assert.Equal("version 1", before.Version);
        Assert.True(report.Find("ReloadablePicker")!.HotReload);
        // Plugins that offer storage or peer sources are never swapped under a running torrent.
        Assert.False(report.Find("MemoryStorage")!.HotReload);

        var reloaded = new TaskCompletionSource<PluginHotReloadedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        _catalog.PluginReloaded += (_, e) => reloaded.TrySetResult(e);
        var changes = new List<ComponentsChangedEventArgs>();
        _registry.Changed += (_, e) => { lock (changes) changes.Add(e); };

        File.Copy(Path.Combine(PluginFolder.BuiltPlugins, "ReloadablePickerV2", "ReloadablePicker.dll"),
            Path.Combine(_folder.Path, "ReloadablePicker", "ReloadablePicker.dll"), overwrite: true);
        var e = await reloaded.Task.WaitAsync(Patience);

        Assert.True(e.After.IsLoaded, e.After.ToString());
        Assert.Equal("1.0.0", e.Before.Version);
        Assert.Equal("2.0.0", e.After.Version);
        var after = _registry.GetPicker("reloadable")!;
        Assert.Equal("version 2", after.Version);
        Assert.NotSame(before.Factory, after.Factory);
        Assert.Single(_registry.Pickers, p => p.Name == "reloadable");
        Assert.Equal("2.0.0", _catalog.Report.Find("ReloadablePicker")!.Version);
        lock (changes)
        {
            var change = Assert.Single(changes);
            Assert.Equal("version 1", Assert.Single(change.Removed).Version);
            Assert.Equal("version 2", Assert.Single(change.Added).Version);
        }
        // The new picker works.
        var (swarm, peer) = Swarms.Small();
        var ranked = new int[3];
        Assert.Equal(3, after.Factory.Create(Swarms.Context()).RankPieces(swarm, peer, ranked));
    }
}
