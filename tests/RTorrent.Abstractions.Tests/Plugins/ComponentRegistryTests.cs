using RTorrent.Engine.Plugins;

namespace RTorrent.Abstractions.Tests.Plugins;

public sealed class ComponentRegistryTests
{
    [Fact]
    public void Built_ins_are_found_by_kind_and_name_in_any_case()
    {
        var registry = new ComponentRegistry();
        var added = registry.RegisterBuiltIns(new BuiltIns());

        Assert.Equal(6, added.Count);
        var picker = registry.GetPicker("RAREST-FIRST");
        Assert.NotNull(picker);
        Assert.True(picker.Origin.IsBuiltIn);
        Assert.Equal("rarest-first", picker.Name);
        Assert.NotNull(registry.GetStorage("File"));
        Assert.Null(registry.GetStorage("rarest-first")); // names are per kind
        Assert.Equal(["tracker", "dht", "pex"], registry.PeerSources.Select(s => s.Name));
        Assert.Equal("rss", Assert.Single(registry.TorrentSources).Name);
        Assert.Null(registry.GetPeerSource("rss"));
    }

    [Fact]
    public void Private_torrents_only_get_sources_allowed_for_them_and_disabled_sources_are_left_out()
    {
        var registry = new ComponentRegistry();
        registry.RegisterBuiltIns(new BuiltIns());

        Assert.Equal(["tracker"], registry.PeerSourcesFor(isPrivate: true).Select(s => s.Name));
        Assert.Equal(["tracker", "pex"], registry.PeerSourcesFor(isPrivate: false, disabled: ["DHT"]).Select(s => s.Name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("has space")]
    [InlineData("-leading-dash")]
    [InlineData("ünïcode")]
    [InlineData("a/b")]
    public void Invalid_names_are_refused(string name)
    {
        var registry = new ComponentRegistry();
        var e = Assert.Throws<PluginRegistrationException>(() => registry.RegisterBuiltIns(new OnePicker(name)));
        Assert.Contains("name", e.Message);
        Assert.Empty(registry.Pickers);
    }

    [Fact]
    public void A_name_taken_by_a_built_in_is_refused_whatever_its_case()
    {
        var registry = new ComponentRegistry();
        registry.RegisterBuiltIns(new BuiltIns());

        var e = Assert.Throws<PluginRegistrationException>(() => registry.RegisterBuiltIns(new OnePicker("Rarest-First")));
        Assert.Contains("already taken by built-in", e.Message);
    }

    [Fact]
    public void Registration_is_all_or_nothing_even_when_the_plugin_swallows_the_error()
    {
        var registry = new ComponentRegistry();
        registry.RegisterBuiltIns(new BuiltIns());

        var e = Assert.Throws<PluginRegistrationException>(() => registry.RegisterBuiltIns(new SwallowingPlugin()));
        Assert.Contains("'file'", e.Message);
        Assert.Null(registry.GetPicker("fine-picker"));
    }

    [Fact]
    public void The_registry_cannot_be_used_after_Register_returns()
    {
        var plugin = new StashingPlugin();
        new ComponentRegistry().RegisterBuiltIns(plugin);

        Assert.Throws<InvalidOperationException>(() => plugin.Stashed!.AddPiecePicker(new OnePicker.Factory("late")));
    }

    [Fact]
    public void Changed_is_raised_with_what_was_added()
    {
        var registry = new ComponentRegistry();
        ComponentsChangedEventArgs? seen = null;
        registry.Changed += (_, e) => seen = e;

        registry.RegisterBuiltIns(new OnePicker("streaming"));

        Assert.NotNull(seen);
        Assert.Equal("streaming", Assert.Single(seen.Added).Name);
        Assert.Empty(seen.Removed);
    }

    private sealed class OnePicker(string name) : IRTorrentPlugin
    {
        public void Register(IPluginRegistry registry) => registry.AddPiecePicker(new Factory(name));

        public sealed class Factory(string name) : IPiecePickerFactory
        {
            public string Name => name;
            public string Version => "1";
            public string Description => "";
            public IPiecePicker Create(PiecePickerContext context) => new BuiltIns.FirstWantedPicker();
        }
    }

    private sealed class SwallowingPlugin : IRTorrentPlugin
    {
        public void Register(IPluginRegistry registry)
        {
            registry.AddPiecePicker(new OnePicker.Factory("fine-picker"));
            try
            {
                registry.AddStorage(new StorageNamedFile());
            }
            catch (PluginRegistrationException)
            {
                // A careless plugin carries on.
            }
        }

        private sealed class StorageNamedFile : IStorageFactory
        {
            public string Name => "file";
            public string Version => "1";
            public string Description => "";
            public ITorrentStorage Open(StorageContext context) => throw new NotSupportedException();
        }
    }

    private sealed class StashingPlugin : IRTorrentPlugin
    {
        public IPluginRegistry? Stashed { get; private set; }

        public void Register(IPluginRegistry registry) => Stashed = registry;
    }
}
