using RTorrent.Engine.Plugins;
using Xunit.Abstractions;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>Loads real plugin DLLs (built by this project into testplugins/) through the catalog.</summary>
public sealed class PluginCatalogTests : IDisposable
{
    private readonly PluginFolder _folder = new();
    private readonly ComponentRegistry _registry = new();
    private PluginCatalog? _catalog;

    private readonly ITestOutputHelper _output;

    public PluginCatalogTests(ITestOutputHelper output)
    {
        _output = output;
        _registry.RegisterBuiltIns(new BuiltIns());
    }

    public void Dispose()
    {
        _catalog?.Dispose();
        _folder.Dispose();
    }

    private PluginLoadReport Load(params string[] extraDirectories)
    {
        _catalog = new PluginCatalog(_registry, new PluginCatalogOptions
        {
            Directories = [new PluginDirectorySpec(_folder.Path, "extra"), .. extraDirectories.Select(d => new PluginDirectorySpec(d, "extra"))],
        });
        return _catalog.LoadAll();
    }

    [Fact]
    public void The_sample_plugins_load_and_register_their_components()
    {
        _folder.Add("SequentialPicker");
        _folder.Add("LocalPeerDiscovery");
        _folder.Add("MemoryStorage");

        var report = Load();

        Assert.All(report.Plugins, p => Assert.True(p.IsLoaded, p.ToString()));
        var sequential = report.Find("sequentialpicker")!;
        Assert.Equal([ComponentKind.Picker], sequential.Kinds);
        Assert.Equal("1.0.0", sequential.Version);
        Assert.Equal(Path.Combine(_folder.Path, "SequentialPicker"), sequential.Folder);

        var picker = _registry.GetPicker("Sequential");
        Assert.NotNull(picker);
        Assert.Equal("SequentialPicker", picker.Origin.PluginName);
        Assert.EndsWith(Path.Combine("SequentialPicker", "SequentialPicker.dll"), picker.Origin.AssemblyPath);
        // The contracts are shared: the factory from the plugin's load context is our IPiecePickerFactory.
        Assert.IsAssignableFrom<IPiecePickerFactory>(picker.Factory);
        Assert.NotNull(picker.Factory.Create(Swarms.Context()));

        Assert.NotNull(_registry.GetStorage("memory"));
        var lsd = _registry.GetPeerSource("lsd");
        Assert.NotNull(lsd);
        Assert.False(lsd.Factory.AllowedForPrivateTorrents);
        Assert.DoesNotContain(_registry.PeerSourcesFor(isPrivate: true), s => s.Name == "lsd");
    }

    [Fact]
    public void Every_broken_plugin_gets_one_clear_reason_and_the_good_ones_still_load()
    {
        _folder.Add("SequentialPicker");
        _folder.Add("FaultyComponents");
        _folder.Add("NoEntryPoint");
        _folder.Add("ThrowingRegister");
        _folder.Add("DuplicateName");
        _folder.Add("IncompatiblePicker");
        _folder.Add("MismatchedPicker");
        File.Delete(Path.Combine(_folder.Add("MissingDependency"), "MissingDependencyHelper.dll"));
        _folder.AddCorrupt("Corrupt");
        Directory.CreateDirectory(Path.Combine(_folder.Path, "EmptyFolder"));
        File.Copy(Path.Combine(PluginFolder.BuiltPlugins, "MemoryStorage", "MemoryStorage.dll"), Path.Combine(_folder.Path, "MemoryStorage.dll"));

        var report = Load();
        foreach (var plugin in report.Plugins) _output.WriteLine(plugin.ToString());

        string Reason(string name)
        {
            var result = report.Find(name);
            Assert.NotNull(result);
            Assert.Equal(PluginLoadStatus.Failed, result.Status);
            Assert.Empty(result.Components);
            Assert.DoesNotContain('\n', result.Error!);
            return result.Error!;
        }

        Assert.Contains("no entry point", Reason("NoEntryPoint"));
        Assert.Contains("IRTorrentPlugin", Reason("NoEntryPoint"));
        Assert.Contains("Register threw InvalidOperationException: configuration file missing", Reason("ThrowingRegister"));
        Assert.Contains("'Rarest-First' is already taken by built-in", Reason("DuplicateName"));
        Assert.Contains("built against RTorrent.Abstractions 2.0.0.0, but this program has 1.0.0.0", Reason("IncompatiblePicker"));
        Assert.Contains("built against a different RTorrent.Abstractions", Reason("MismatchedPicker"));
        Assert.Contains("RankPieces", Reason("MismatchedPicker"));
        Assert.Contains("dependency is missing", Reason("MissingDependency"));
        Assert.Contains("MissingDependencyHelper", Reason("MissingDependency"));
        Assert.Contains("not a valid .NET assembly", Reason("Corrupt"));
        Assert.Null(report.Find("Corrupt")!.Version);
        Assert.Contains("no EmptyFolder.dll", Reason("EmptyFolder"));
        Assert.Contains("its own folder", Reason("MemoryStorage"));

        Assert.True(report.Find("SequentialPicker")!.IsLoaded);
        Assert.True(report.Find("FaultyComponents")!.IsLoaded);
        Assert.NotNull(_registry.GetPicker("sequential"));
        // Nothing of the failed plugins stayed registered, not even what they registered before failing.
        Assert.Null(_registry.GetPicker("half-registered"));
        Assert.Null(_registry.GetStorage("duplicate-storage"));
        Assert.Null(_registry.GetPicker("incompatible"));
        Assert.Null(_registry.GetPicker("needs-helper"));
        Assert.Equal(11, report.Plugins.Count);
    }

    [Fact]
    public void The_same_plugin_in_a_later_directory_is_skipped_with_a_reason()
    {
        _folder.Add("SequentialPicker");
        using var second = new PluginFolder();
        second.Add("SequentialPicker");

        var report = Load(second.Path);

        Assert.Equal(2, report.Plugins.Count);
        Assert.True(report.Plugins[0].IsLoaded);
        Assert.Contains("already loaded from " + Path.Combine(_folder.Path, "SequentialPicker"), report.Plugins[1].Error);
        Assert.Single(_registry.Pickers, p => p.Name == "sequential");
    }

    [Fact]
    public void A_catalog_loads_once()
    {
        _folder.Add("SequentialPicker");
        Load();

        Assert.Throws<InvalidOperationException>(() => _catalog!.LoadAll());
    }

    [Fact]
    public void Missing_directories_are_reported_and_not_an_error()
    {
        var missing = Path.Combine(_folder.Path, "does-not-exist");

        var report = Load(missing);

        Assert.Empty(report.Plugins);
        Assert.Contains(report.Directories, d => d.Path == missing && !d.Exists);
    }

    [Fact]
    public void Plugins_read_their_settings_through_the_host()
    {
        _folder.Add("MemoryStorage");
        _catalog = new PluginCatalog(_registry, new PluginCatalogOptions
        {
            Directories = [new PluginDirectorySpec(_folder.Path, "extra")],
            Settings = new Dictionary<string, string> { ["memory.cap-bytes"] = "1048576" },
        });

        _catalog.LoadAll();

        Assert.Contains("cap 1 MiB", _registry.GetStorage("memory")!.Description);
    }

    [Fact]
    public void The_user_directory_follows_XDG_DATA_HOME_and_falls_back_to_local_share()
    {
        Assert.Equal("/data/rtorrent/plugins", PluginCatalogOptions.UserDirectory(v => v == "XDG_DATA_HOME" ? "/data" : null));
        Assert.Equal("/home/u/.local/share/rtorrent/plugins", PluginCatalogOptions.UserDirectory(v => v == "HOME" ? "/home/u" : null));
        // A relative XDG_DATA_HOME is invalid per the specification and ignored.
        Assert.Equal("/home/u/.local/share/rtorrent/plugins", PluginCatalogOptions.UserDirectory(v => v switch { "HOME" => "/home/u", "XDG_DATA_HOME" => "rel", _ => null }));

        var dirs = PluginCatalogOptions.DefaultDirectories(["/x/plugins", "/data/rtorrent/plugins"], v => v == "XDG_DATA_HOME" ? "/data" : null);
        Assert.Equal(["program", "user", "extra"], dirs.Select(d => d.Source));
        Assert.Equal(PluginCatalogOptions.ProgramDirectory, dirs[0].Path);
    }

    [Fact]
    public void Settings_fall_back_to_RTORRENT_environment_variables()
    {
        var host = new PluginHost(settings: new Dictionary<string, string> { ["A.b"] = "from-settings" },
            environment: v => v == "RTORRENT_LSD_PORT" ? "7000" : null);

        Assert.Equal("from-settings", host.GetSetting("a.b"));
        Assert.Equal("7000", host.GetSetting("lsd.port"));
        Assert.Null(host.GetSetting("lsd.group-v4"));
        Assert.Equal("RTORRENT_SEQUENTIAL_WINDOW_BYTES", PluginHost.EnvironmentVariableName("sequential.window-bytes"));
    }
}
